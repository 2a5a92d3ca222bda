"""authors: followed author names, and author names in digest subscriptions

Revision ID: 0012_authors
Revises: 0011_published_arxiv_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_authors"
down_revision = "0011_published_arxiv_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "author_follows",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("author_key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "author_key"),
    )
    op.create_index("ix_author_follows_key", "author_follows", ["author_key"], unique=False)
    with op.batch_alter_table("digest_subscriptions") as batch_op:
        batch_op.add_column(sa.Column("authors", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digest_subscriptions") as batch_op:
        batch_op.drop_column("authors")
    op.drop_index("ix_author_follows_key", table_name="author_follows")
    op.drop_table("author_follows")
