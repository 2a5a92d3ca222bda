"""scheduled_runs: each scheduled job (sync, digests) runs once per slot across all nodes;
ix_papers_modified: the search index followers read papers changed since a watermark

Revision ID: 0008_scheduled_runs
Revises: 0007_foryou_digest
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_scheduled_runs"
down_revision = "0007_foryou_digest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job", sa.String(32), nullable=False),
        sa.Column("slot", sa.String(64), nullable=False),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("takeovers", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("job", "slot", name="uq_scheduled_runs_job_slot"),
    )
    op.create_index("ix_papers_modified", "papers", ["modified_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_papers_modified", table_name="papers")
    op.drop_table("scheduled_runs")
