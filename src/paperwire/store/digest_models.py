"""ORM tables of the email digests: subscriptions, the delivery log, papers already sent.

Created by migration ``0003_digest``.  Datetimes are naive UTC, like the rest of the store.
The delivery log is what makes every (subscription, period) digest go out exactly once:
``uq_digest_deliveries_sub_period`` allows one row per pair (docs/digest.md).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.models import Base


class DigestSubscription(Base):
    """One reader's digest: an address, how often, and what to follow."""

    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # Random, never shown unsigned: manage/unsubscribe tokens sign it (rotated on resubscribe).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    frequency: Mapped[str] = mapped_column(String(16))  # daily | weekly
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    organizations: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Author names to follow in the digest (0012_authors; NULL on older rows: none).
    authors: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    send_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    # Add the "For you" section when the address belongs to an account (0007_foryou_digest).
    foryou: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    status: Mapped[str] = mapped_column(String(16))  # confirmed | unsubscribed
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_digest_subscriptions_status", "status", "frequency"),)


class DigestDelivery(Base):
    """One digest for one subscription and period: claimed, then sent (or empty, or failed)."""

    __tablename__ = "digest_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE")
    )
    period_key: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # claimed | sent | empty | deferred (temporary failure: retried) | failed (permanent)
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(255))  # host:pid:run of the claimer
    message_id: Mapped[str] = mapped_column(String(255))
    claimed_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    papers: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("subscription_id", "period_key", name="uq_digest_deliveries_sub_period"),
        Index("ix_digest_deliveries_period_status", "period_key", "status"),
    )


class DigestSentPaper(Base):
    """A paper already sent to a subscription: never sent to it again."""

    __tablename__ = "digest_sent_papers"

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    arxiv_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("digest_deliveries.id", ondelete="CASCADE"), index=True
    )
