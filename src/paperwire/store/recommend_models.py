"""ORM tables for personal recommendations: a reader's library and "not interested" marks.

``user_library`` holds the papers a reader keeps besides upvotes: imported from a reference
manager (``source='library'``) or saved (``source='saved'``).  ``not_interested`` holds the
papers a reader dismissed; they teach the ranking what to push down.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.models import Base


class LibraryPaper(Base):
    __tablename__ = "user_library"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class NotInterested(Base):
    __tablename__ = "not_interested"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
