"""paper_vectors: embeddings stored with the papers, so that a second node, or a rebuilt
index, loads them instead of computing them again (contextual ones take hours)

Revision ID: 0010_paper_vectors
Revises: 0009_store_identity
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_paper_vectors"
down_revision = "0009_store_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_vectors",
        sa.Column(
            "paper_id",
            sa.Integer(),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("model", sa.String(64), primary_key=True),
        sa.Column("text_hash", sa.String(32), nullable=False),
        sa.Column("vec", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    # every node's index follows the vectors one node computed, in this order
    op.create_index("ix_paper_vectors_follow", "paper_vectors", ["model", "created_at", "paper_id"])


def downgrade() -> None:
    op.drop_index("ix_paper_vectors_follow", table_name="paper_vectors")
    op.drop_table("paper_vectors")
