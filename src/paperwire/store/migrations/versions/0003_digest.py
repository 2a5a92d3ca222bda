"""email digests: subscriptions, delivery log, papers sent

Revision ID: 0003_digest
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_digest"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("organizations", sa.JSON(), nullable=False),
        sa.Column("send_empty", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("token"),
    )
    op.create_index(
        "ix_digest_subscriptions_status", "digest_subscriptions", ["status", "frequency"]
    )
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("papers", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["digest_subscriptions.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "subscription_id", "period_key", name="uq_digest_deliveries_sub_period"
        ),
    )
    op.create_index(
        "ix_digest_deliveries_period_status", "digest_deliveries", ["period_key", "status"]
    )
    op.create_table(
        "digest_sent_papers",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["digest_subscriptions.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["delivery_id"], ["digest_deliveries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscription_id", "arxiv_id"),
    )
    op.create_index("ix_digest_sent_papers_delivery_id", "digest_sent_papers", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("digest_sent_papers")
    op.drop_table("digest_deliveries")
    op.drop_table("digest_subscriptions")
