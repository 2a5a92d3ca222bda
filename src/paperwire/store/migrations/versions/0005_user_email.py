"""users.email: an optional address on accounts (unique when present, stored lowercased)

Revision ID: 0005_user_email
Revises: 0004_community
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_user_email"
down_revision = "0004_community"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode, so SQLite gets the column and the index too (ADD COLUMN needs no copy).
    # A unique index lets any number of accounts have no address (NULLs are distinct).
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.create_index("ix_users_email", ["email"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_email")
        batch.drop_column("email")
