"""digest_subscriptions.foryou: the optional "For you" digest section; merges every head

The tree had four heads (0002_sync, 0003_digest, 0005_user_email, 0006_recommend: all but
the last two branch off 0001).  This revision needs 0003's table, so it merges all four into
one head: ``alembic heads`` shows just 0007_foryou_digest.

Revision ID: 0007_foryou_digest
Revises: 0002_sync, 0003_digest, 0005_user_email, 0006_recommend
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_foryou_digest"
down_revision = ("0002_sync", "0003_digest", "0005_user_email", "0006_recommend")
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On by default: existing subscriptions get the section once their address has an account.
    with op.batch_alter_table("digest_subscriptions") as batch:
        batch.add_column(
            sa.Column("foryou", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_subscriptions") as batch:
        batch.drop_column("foryou")
