"""What the digest repository hands out: subscriptions and claimed digests, as plain
frozen dataclasses (no session attached)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from paperwire.store.digest_models import DigestSubscription

FREQUENCIES = ("daily", "weekly")
DONE = ("sent", "empty")


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: int
    email: str
    token: str
    frequency: str
    topics: list[str]
    organizations: list[str]
    send_empty: bool
    status: str
    foryou: bool = True  # the "For you" section, when the address belongs to an account
    authors: list[str] = field(default_factory=list)  # author names followed in the digest

    @property
    def active(self) -> bool:
        return self.status == "confirmed"


@dataclass(frozen=True, slots=True)
class ClaimedDigest:
    """A digest this sender owns now: compose it, send it, finish it."""

    delivery_id: int
    message_id: str
    subscription: SubscriptionView
    since: date | None  # end of the last period this subscription got (sent or empty)
    sent: frozenset[str]  # arXiv ids already sent to this subscription
    user_id: int | None = None  # the account with this address, if there is one


def subscription_view(s: DigestSubscription) -> SubscriptionView:
    return SubscriptionView(
        s.id,
        s.email,
        s.token,
        s.frequency,
        list(s.topics or []),
        list(s.organizations or []),
        bool(s.send_empty),
        s.status,
        bool(s.foryou) if s.foryou is not None else True,
        list(s.authors or []),
    )
