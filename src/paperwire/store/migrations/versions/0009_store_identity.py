"""store_meta: a random identity per database, recorded by the search index it feeds, so an
index directory is never read against another database (docs/search.md)

Revision ID: 0009_store_identity
Revises: 0008_scheduled_runs
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0009_store_identity"
down_revision = "0008_scheduled_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "store_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.bulk_insert(table, [{"key": "identity", "value": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("store_meta")
