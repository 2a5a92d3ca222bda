"""recommend: a reader's library (imported or saved papers) and "not interested" marks

Revision ID: 0006_recommend
Revises: 0004_community
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_recommend"
down_revision = "0004_community"
branch_labels = None
depends_on = None


def _table(name: str, *extra: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        *extra,
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "paper_id"),
    )
    op.create_index(f"ix_{name}_paper_id", name, ["paper_id"])


def upgrade() -> None:
    _table("user_library", sa.Column("source", sa.String(length=16), nullable=False))
    _table("not_interested")


def downgrade() -> None:
    op.drop_index("ix_not_interested_paper_id", "not_interested")
    op.drop_table("not_interested")
    op.drop_index("ix_user_library_paper_id", "user_library")
    op.drop_table("user_library")
