"""Signed tokens for digest links (itsdangerous, keyed by the app secret).

Two purposes, two salts, so a token for one can never be used for the other:

- ``confirm``: carries the requested subscription (address, frequency, topics, organizations)
  and expires (``PAPERWIRE_DIGEST_CONFIRM_HOURS``).  Nothing is stored before the click.
- ``manage``: carries only the subscription's random token (never its id or address), so links
  cannot be enumerated; it does not expire (unsubscribe links in old digests must keep working)
  and dies when the subscription's random token is rotated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from paperwire.settings import Settings

CONFIRM_SALT = "paperwire.digest.confirm.v1"
MANAGE_SALT = "paperwire.digest.manage.v1"


class BadToken(Exception):
    """The link is forged, mangled, for another purpose, or expired (``expired`` says)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True, slots=True)
class Request:
    """What a subscribe form asked for, as the confirmation link carries it."""

    email: str
    frequency: str
    topics: list[str]
    organizations: list[str]
    send_empty: bool = False
    authors: list[str] = field(default_factory=list)


def _confirm(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.resolved_secret_key(), salt=CONFIRM_SALT)


def _manage(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.resolved_secret_key(), salt=MANAGE_SALT)


def confirm_token(settings: Settings, req: Request) -> str:
    return _confirm(settings).dumps(
        {
            "e": req.email,
            "f": req.frequency,
            "t": req.topics,
            "o": req.organizations,
            "z": req.send_empty,
            "a": req.authors,
        }
    )


def read_confirm_token(settings: Settings, token: str) -> Request:
    max_age = settings.digest_confirm_hours * 3600
    try:
        data = _confirm(settings).loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadToken("this confirmation link has expired", expired=True) from None
    except BadSignature:
        raise BadToken("this confirmation link is not valid") from None
    try:
        return Request(
            str(data["e"]),
            str(data["f"]),
            [str(t) for t in data["t"]],
            [str(o) for o in data["o"]],
            bool(data.get("z", False)),
            [str(a) for a in data.get("a", [])],
        )
    except (KeyError, TypeError):
        raise BadToken("this confirmation link is not valid") from None


def manage_token(settings: Settings, subscription_token: str) -> str:
    return _manage(settings).dumps(subscription_token)


def read_manage_token(settings: Settings, token: str) -> str:
    """The subscription's random token inside a signed manage/unsubscribe token."""
    try:
        value = _manage(settings).loads(token)
    except BadSignature:
        raise BadToken("this link is not valid") from None
    if not isinstance(value, str):
        raise BadToken("this link is not valid")
    return value
