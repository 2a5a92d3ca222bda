"""Sending: one reused SMTP connection, retries with backoff, the claim/send/finish protocol.

For each due period: claim a batch of digests in the delivery log, compose each, hand it to
the SMTP server, and record it as sent (with its papers) in one transaction.  A sender killed
mid-run leaves rows ``claimed``; the next run takes over those of dead owners and sends them
with the same Message-ID (docs/digest.md explains the one remaining window).
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from email.utils import parseaddr

from paperwire.digest.compose import Composer, message_id, sender
from paperwire.digest.repository import DigestRepository
from paperwire.digest.schedule import due_period, naive_utc, parse_time
from paperwire.digest.topics import IndexSource
from paperwire.digest.views import FREQUENCIES
from paperwire.settings import Settings

log = logging.getLogger("paperwire.digest")
BATCH = 200
CLAIM_LEASE = timedelta(minutes=30)  # a claim older than this is taken over, owner alive or not
SECURITY = ("none", "starttls", "ssl")


class TemporaryFailure(Exception):
    """The server is unreachable or said 4xx: try again later."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx): do not retry it."""


class Mailer:
    """An SMTP client that keeps its connection open between messages and retries."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        if settings.smtp_security not in SECURITY:
            raise ValueError(
                f"PAPERWIRE_SMTP_SECURITY must be one of {', '.join(SECURITY)}, "
                f"not {settings.smtp_security!r}"
            )
        self.settings = settings
        self.sleep = sleep
        self.smtp: smtplib.SMTP | None = None
        self.from_addr = parseaddr(sender(settings))[1]

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host,
                s.smtp_port,
                timeout=s.smtp_timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            if s.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
        if s.smtp_username:
            smtp.login(s.smtp_username, s.smtp_password or "")
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None

    def send(self, msg: Message, retries: int | None = None) -> int:
        """Send one message; returns the attempts it took."""
        retries = self.settings.digest_retries if retries is None else retries
        wait = self.settings.digest_backoff
        for attempt in range(1, retries + 2):
            try:
                if self.smtp is None:
                    self.smtp = self._connect()
                self.smtp.sendmail(self.from_addr, [str(msg["To"])], msg.as_string())
                return attempt
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [c for c, _ in exc.recipients.values()]
                if all(500 <= c < 600 for c in codes):
                    raise PermanentFailure(f"recipient refused: {exc.recipients}") from None
                error: Exception = exc
            except smtplib.SMTPResponseException as exc:
                if 500 <= exc.smtp_code < 600 and exc.smtp_code != 535:
                    raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from None
                error = exc
            except (smtplib.SMTPException, OSError) as exc:
                error = exc
            self.close()
            if attempt <= retries:
                log.warning("SMTP attempt %d failed (%s); retrying in %.1f s", attempt, error, wait)
                self.sleep(wait)
                wait *= 2
        raise TemporaryFailure(
            f"the SMTP server {self.settings.smtp_host}:{self.settings.smtp_port} failed "
            f"{retries + 1} times ({error}); the digests stay due and go out on the next run"
        )


@dataclass
class SendReport:
    sent: int = 0
    empty: int = 0
    failed: int = 0
    deferred: int = 0
    periods: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    previews: list[tuple[str, int]] = field(default_factory=list)  # dry run: (email, papers)

    def summary(self) -> str:
        return (
            f"{self.sent} sent, {self.empty} empty (not sent), {self.failed} failed, "
            f"{self.deferred} deferred ({', '.join(self.periods) or 'no period'})"
        )


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def owner_dead(owner: str | None) -> bool:
    """True when ``owner`` is a sender process on this host that no longer runs."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another host: only the lease expiry frees its claims
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def send_digests(
    store,
    settings: Settings,
    *,
    index: IndexSource,
    now: datetime | None = None,
    dry_run: bool = False,
    only: str | None = None,
    on_progress: Callable[[SendReport], None] | None = None,
) -> SendReport:
    """Send every digest due at ``now``; ``only``: just this address; ``dry_run``: compose,
    claim and send nothing; ``index`` gives the search index when a digest needs it."""
    now = naive_utc(now)
    at = parse_time(settings.digest_time)
    composer = Composer(store, settings, index=index)
    digests = DigestRepository(store.engine)
    report = SendReport()
    owner = owner_id()
    mailer = None if dry_run else Mailer(settings)
    gap = 1.0 / settings.digest_rate if settings.digest_rate > 0 else 0.0
    try:
        for frequency in FREQUENCIES:
            period = due_period(frequency, now, at)
            report.periods.append(period.key)
            if mailer is None:  # a dry run
                for claim in digests.due(frequency, period.key, only=only):
                    digest = composer.compose(claim, period)
                    report.previews.append((claim.subscription.email, len(digest.papers)))
                continue
            dead = [o for o in digests.claim_owners(period.key) if owner_dead(o)]

            def ids_for(sid: int, key: str = period.key) -> str:
                return message_id(settings, sid, key)

            while True:
                batch = digests.claim(
                    frequency=frequency,
                    period_key=period.key,
                    start=period.start,
                    end=period.end,
                    owner=owner,
                    limit=BATCH,
                    message_id=ids_for,
                    stale_before=naive_utc(None) - CLAIM_LEASE,
                    reclaim_owners=dead,
                    only=only,
                )
                if not batch:
                    break
                for i, claim in enumerate(batch):
                    digest = composer.compose(claim, period)
                    if digest.empty and not claim.subscription.send_empty:
                        digests.finish(claim.delivery_id, owner, "empty", attempts=0)
                        report.empty += 1
                        continue
                    try:
                        attempts = mailer.send(composer.message(digest))
                    except PermanentFailure as exc:
                        digests.finish(claim.delivery_id, owner, "failed", error=str(exc))
                        report.failed += 1
                        report.errors.append(f"{claim.subscription.email}: {exc}")
                        continue
                    except TemporaryFailure as exc:
                        for rest in batch[i:]:  # the server is down: the rest stays due
                            digests.finish(rest.delivery_id, owner, "deferred", error=str(exc))
                        report.deferred += len(batch) - i
                        report.errors.append(str(exc))
                        return report
                    digests.finish(
                        claim.delivery_id, owner, "sent", papers=digest.papers, attempts=attempts
                    )
                    report.sent += 1
                    if gap:
                        time.sleep(gap)
                if on_progress:
                    on_progress(report)
    finally:
        if mailer is not None:
            mailer.close()
    return report


def send_one(settings: Settings, msg: Message) -> None:
    """Send a single message (a confirmation), with a short retry."""
    mailer = Mailer(settings)
    try:
        mailer.send(msg, retries=min(settings.digest_retries, 2))
    finally:
        mailer.close()
