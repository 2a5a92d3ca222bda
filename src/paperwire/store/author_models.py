"""ORM table of followed authors (migration ``0012_authors``).

An author is a name, not a row: a follow keeps the name's comparison key
(``authors/names.py`` ``key``) and the spelling the reader followed, for display.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.models import Base


class AuthorFollow(Base):
    __tablename__ = "author_follows"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    author_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_author_follows_key", "author_key"),)
