"""papers: a partial index of the papers with code (a GitHub repository)

The has_code search filter reads the ids of these papers; without the index that was a scan
of the whole papers table (seconds at 2.9M papers).

Revision ID: 0013_has_code
Revises: 0012_authors
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_has_code"
down_revision = "0012_authors"
branch_labels = None
depends_on = None

WHERE = sa.text("github_repo IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_papers_has_code",
        "papers",
        ["id"],
        unique=False,
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_papers_has_code", table_name="papers")
