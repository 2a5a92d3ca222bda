"""collections: readers' named, ordered lists of papers with notes

Revision ID: 0014_collections
Revises: 0013_has_code
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_collections"
down_revision = "0013_has_code"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_collections_user_id", "collections", ["user_id"], unique=False)
    op.create_table(
        "collection_items",
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["collection_id"], ["collections.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("collection_id", "paper_id"),
    )
    op.create_index("ix_collection_items_paper_id", "collection_items", ["paper_id"], unique=False)
    op.create_index(
        "ix_collection_items_order", "collection_items", ["collection_id", "position"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_collection_items_order", table_name="collection_items")
    op.drop_index("ix_collection_items_paper_id", table_name="collection_items")
    op.drop_table("collection_items")
    op.drop_index("ix_collections_user_id", table_name="collections")
    op.drop_table("collections")
