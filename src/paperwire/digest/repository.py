"""The digest slice's repository: subscriptions and the delivery log, over an ``Engine``.

Built by the composition root (``AppContext.digests``) or from a store's engine
(``DigestRepository(store.engine)``); the first slice moved off the ``Store`` mixins.

Exactly once: a digest is *claimed* by inserting its (subscription, period) row, which the
unique constraint allows once; the sender then sends and *finishes* the row.  Rows left
``claimed`` by a dead sender are taken over by the next run (docs/digest.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import cast

from sqlalchemy import CursorResult, Engine, func, or_, select, update
from sqlalchemy.orm import Session

from paperwire.core.clock import utcnow
from paperwire.core.sql import dialect_insert
from paperwire.digest.views import DONE, ClaimedDigest, SubscriptionView, subscription_view
from paperwire.store.community_models import User
from paperwire.store.digest_models import DigestDelivery, DigestSentPaper, DigestSubscription
from paperwire.store.models import Listing, Paper


def _insert(session: Session, table):
    """INSERT ... ON CONFLICT for the session's dialect."""
    return dialect_insert(session.get_bind().dialect.name, table)


class DigestRepository:
    """Digest subscriptions, claims and deliveries.  Each method opens its own session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- subscriptions ----------------------------------------------------------------
    def subscribe(
        self,
        email: str,
        frequency: str,
        topics: list[str],
        organizations: list[str],
        send_empty: bool = False,
        authors: list[str] | None = None,
    ) -> SubscriptionView:
        """Confirm a subscription (create it, or replace its choices); returns it."""
        email = email.strip().lower()
        now = utcnow()
        with Session(self.engine) as s, s.begin():
            sub = s.scalar(select(DigestSubscription).where(DigestSubscription.email == email))
            if sub is None:
                sub = DigestSubscription(email=email, token=secrets.token_urlsafe(24))
                sub.created_at = now
                s.add(sub)
            elif sub.status != "confirmed":
                sub.token = secrets.token_urlsafe(24)  # old links stay dead
            sub.frequency, sub.topics, sub.organizations = frequency, topics, organizations
            sub.authors = list(authors or [])
            sub.send_empty, sub.status = send_empty, "confirmed"
            sub.updated_at, sub.unsubscribed_at = now, None
            s.flush()
            return subscription_view(sub)

    def import_subscriptions(self, rows: Iterable[dict]) -> int:
        """Bulk-insert confirmed subscriptions (benchmarks, migrations from elsewhere)."""
        now = utcnow()
        items = [
            {
                "email": r["email"].strip().lower(),
                "token": secrets.token_urlsafe(24),
                "frequency": r.get("frequency", "daily"),
                "topics": list(r.get("topics", [])),
                "organizations": list(r.get("organizations", [])),
                "authors": list(r.get("authors", [])),
                "send_empty": bool(r.get("send_empty", False)),
                "status": "confirmed",
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ]
        with Session(self.engine) as s, s.begin():
            for i in range(0, len(items), 1000):
                s.execute(
                    _insert(s, DigestSubscription).on_conflict_do_nothing(),
                    items[i : i + 1000],
                )
        return len(items)

    def subscription(self, token: str) -> SubscriptionView | None:
        with Session(self.engine) as s:
            sub = s.scalar(select(DigestSubscription).where(DigestSubscription.token == token))
            return subscription_view(sub) if sub else None

    def subscription_by_email(self, email: str) -> SubscriptionView | None:
        with Session(self.engine) as s:
            sub = s.scalar(
                select(DigestSubscription).where(DigestSubscription.email == email.strip().lower())
            )
            return subscription_view(sub) if sub else None

    def update(
        self,
        token: str,
        frequency: str,
        topics: list[str],
        organizations: list[str],
        send_empty: bool,
        foryou: bool = True,
        authors: list[str] | None = None,
    ) -> bool:
        with Session(self.engine) as s, s.begin():
            res = s.execute(
                update(DigestSubscription)
                .where(DigestSubscription.token == token, DigestSubscription.status == "confirmed")
                .values(
                    frequency=frequency,
                    topics=topics,
                    organizations=organizations,
                    send_empty=send_empty,
                    foryou=foryou,
                    authors=list(authors or []),
                    updated_at=utcnow(),
                )
            )
            return cast(CursorResult, res).rowcount > 0

    def unsubscribe(self, token: str) -> bool:
        """Stop the digest; True when the token names a subscription (idempotent)."""
        now = utcnow()
        with Session(self.engine) as s, s.begin():
            sub = s.scalar(select(DigestSubscription).where(DigestSubscription.token == token))
            if sub is None:
                return False
            if sub.status != "unsubscribed":
                sub.status, sub.unsubscribed_at, sub.updated_at = "unsubscribed", now, now
            return True

    # -- the delivery log -------------------------------------------------------------
    def claim_owners(self, period_key: str) -> list[str]:
        """Owners of rows still ``claimed`` for a period (the sender checks they live)."""
        with Session(self.engine) as s:
            return list(
                s.scalars(
                    select(DigestDelivery.owner)
                    .where(
                        DigestDelivery.period_key == period_key,
                        DigestDelivery.status == "claimed",
                    )
                    .distinct()
                )
            )

    def claim(
        self,
        *,
        frequency: str,
        period_key: str,
        start: date,
        end: date,
        owner: str,
        limit: int,
        message_id: Callable[[int], str],
        stale_before: datetime,
        reclaim_owners: Iterable[str] = (),
        only: str | None = None,
    ) -> list[ClaimedDigest]:
        """Claim up to ``limit`` digests of a period: new ones, deferred ones (not deferred by
        this owner), and ones left claimed by dead or stale owners."""
        now = utcnow()
        reclaim = [o for o in reclaim_owners if o != owner]
        with Session(self.engine) as s, s.begin():
            D = DigestDelivery
            taken = or_(
                (D.status == "deferred") & (D.owner != owner),
                (D.status == "claimed") & (D.claimed_at < stale_before),
                (D.status == "claimed") & D.owner.in_(reclaim),
            )
            old = list(
                s.scalars(
                    select(D.id)
                    .join(DigestSubscription, DigestSubscription.id == D.subscription_id)
                    .where(D.period_key == period_key, DigestSubscription.status == "confirmed")
                    .where(taken, *self._only(only))
                    .order_by(D.id)
                    .limit(limit)
                )
            )
            if old:
                s.execute(
                    update(D)
                    .where(D.id.in_(old), taken)
                    .values(status="claimed", owner=owner, claimed_at=now)
                )
            room = limit - len(old)
            if room > 0:
                has_row = (
                    select(D.id)
                    .where(D.subscription_id == DigestSubscription.id, D.period_key == period_key)
                    .exists()
                )
                new = list(
                    s.scalars(
                        select(DigestSubscription.id)
                        .where(
                            DigestSubscription.status == "confirmed",
                            DigestSubscription.frequency == frequency,
                            ~has_row,
                            *self._only(only),
                        )
                        .order_by(DigestSubscription.id)
                        .limit(room)
                    )
                )
                if new:
                    rows = [
                        dict(
                            subscription_id=i,
                            period_key=period_key,
                            period_start=start,
                            period_end=end,
                            status="claimed",
                            owner=owner,
                            message_id=message_id(i),
                            claimed_at=now,
                            attempts=0,
                            papers=0,
                        )
                        for i in new
                    ]
                    s.execute(_insert(s, D).on_conflict_do_nothing(), rows)
        return self._claimed(period_key, owner)

    @staticmethod
    def _only(email: str | None) -> list:
        return [DigestSubscription.email == email.strip().lower()] if email else []

    def due(self, frequency: str, period_key: str, only: str | None = None) -> list[ClaimedDigest]:
        """Digests of a period not yet sent, without claiming them (for a dry run)."""
        D = DigestDelivery
        done = (
            select(D.id)
            .where(
                D.subscription_id == DigestSubscription.id,
                D.period_key == period_key,
                D.status.in_(DONE + ("failed",)),
            )
            .exists()
        )
        with Session(self.engine) as s:
            subs = s.scalars(
                select(DigestSubscription)
                .where(
                    DigestSubscription.status == "confirmed",
                    DigestSubscription.frequency == frequency,
                    ~done,
                    *self._only(only),
                )
                .order_by(DigestSubscription.id)
            ).all()
            return self._views(s, [(0, "", sub) for sub in subs])

    def _claimed(self, period_key: str, owner: str) -> list[ClaimedDigest]:
        D = DigestDelivery
        with Session(self.engine) as s:
            rows = s.execute(
                select(D.id, D.message_id, DigestSubscription)
                .join(DigestSubscription, DigestSubscription.id == D.subscription_id)
                .where(D.period_key == period_key, D.owner == owner, D.status == "claimed")
                .order_by(D.id)
            ).all()
            return self._views(s, rows)

    def _views(self, s: Session, rows) -> list[ClaimedDigest]:
        D = DigestDelivery
        ids = [sub.id for _, _, sub in rows]
        since: dict[int, date] = {}
        sent: dict[int, set[str]] = {i: set() for i in ids}
        # The accounts owning these addresses ("For you", followed authors), one indexed IN
        # query per chunk (both columns are stored lowercased; users.email is uniquely indexed).
        wanted = sorted({sub.email for _, _, sub in rows})
        accounts: dict[str, int] = {}
        for i in range(0, len(wanted), 1000):
            found = select(User.email, User.id).where(User.email.in_(wanted[i : i + 1000]))
            accounts.update((email, uid) for email, uid in s.execute(found) if email)
        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            since.update(
                s.execute(
                    select(D.subscription_id, func.max(D.period_end))
                    .where(D.subscription_id.in_(chunk), D.status.in_(DONE))
                    .group_by(D.subscription_id)
                ).all()
            )
            for sid, aid in s.execute(
                select(DigestSentPaper.subscription_id, DigestSentPaper.arxiv_id).where(
                    DigestSentPaper.subscription_id.in_(chunk)
                )
            ):
                sent[sid].add(aid)
        return [
            ClaimedDigest(
                did,
                mid,
                subscription_view(sub),
                since.get(sub.id),
                frozenset(sent[sub.id]),
                accounts.get(sub.email),
            )
            for did, mid, sub in rows
        ]

    def finish(
        self,
        delivery_id: int,
        owner: str,
        status: str,
        *,
        papers: Sequence[str] = (),
        attempts: int = 1,
        error: str | None = None,
    ) -> bool:
        """Record how a claimed digest ended; papers of a sent one are never sent again.
        False when the claim was lost (another sender took it over)."""
        D = DigestDelivery
        with Session(self.engine) as s, s.begin():
            res = s.execute(
                update(D)
                .where(D.id == delivery_id, D.owner == owner, D.status == "claimed")
                .values(
                    status=status,
                    finished_at=utcnow(),
                    attempts=D.attempts + attempts,
                    papers=len(papers),
                    error=error,
                )
                .returning(D.subscription_id)
            )
            sub_id = res.scalar()
            if sub_id is None:
                return False
            if status == "sent" and papers:
                rows = [
                    dict(subscription_id=sub_id, arxiv_id=a, delivery_id=delivery_id)
                    for a in papers
                ]
                s.execute(_insert(s, DigestSentPaper).on_conflict_do_nothing(), rows)
        return True

    def deliveries(self, period_key: str | None = None) -> list[tuple[str, str, str]]:
        """(email, period key, status) of the delivery log, oldest first."""
        D = DigestDelivery
        q = select(DigestSubscription.email, D.period_key, D.status).join(
            DigestSubscription, DigestSubscription.id == D.subscription_id
        )
        if period_key:
            q = q.where(D.period_key == period_key)
        with Session(self.engine) as s:
            return [(email, key, status) for email, key, status in s.execute(q.order_by(D.id))]

    def sent_papers(self, email: str) -> list[str]:
        with Session(self.engine) as s:
            return list(
                s.scalars(
                    select(DigestSentPaper.arxiv_id)
                    .join(
                        DigestSubscription,
                        DigestSubscription.id == DigestSentPaper.subscription_id,
                    )
                    .where(DigestSubscription.email == email.strip().lower())
                    .order_by(DigestSentPaper.arxiv_id)
                )
            )

    # -- what a digest can hold -------------------------------------------------------
    def candidate_ids(self, start: date, end: date) -> list[int]:
        """Store ids of the papers first listed (curated) or first published on arXiv in
        [start, end]; the papers slice reads them (``Store.search_docs``)."""
        with Session(self.engine) as s:
            first = (
                select(Listing.paper_id)
                .where(Listing.source.in_(("hf", "community")))
                .group_by(Listing.paper_id)
                .having(func.min(Listing.day).between(start, end))
            )
            ids = set(s.scalars(first))
            ids.update(s.scalars(select(Paper.id).where(Paper.published_on.between(start, end))))
        return sorted(ids)
