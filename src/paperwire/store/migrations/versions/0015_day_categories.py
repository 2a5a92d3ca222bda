"""day_categories: arXiv papers per (publication day, category), kept by the importer

Revision ID: 0015_day_categories
Revises: 0014_collections

The day page's category tabs counted the day's papers per category with a join on every
render (1.5 ms of CPU at 2.9M papers).  The table is filled here from the papers already
stored; from then on the importer adds and subtracts as it writes papers.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_day_categories"
down_revision = "0014_collections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "day_categories",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("papers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "category"),
    )
    op.execute(
        "INSERT INTO day_categories (day, category, papers) "
        "SELECT p.published_on, c.category, count(*) FROM paper_categories c "
        "JOIN papers p ON p.id = c.paper_id "
        "WHERE p.in_arxiv = true AND p.published_on IS NOT NULL "
        "GROUP BY p.published_on, c.category"
    )


def downgrade() -> None:
    op.drop_table("day_categories")
