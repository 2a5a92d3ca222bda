"""Composing one digest: which papers, why, and the email (HTML with inline CSS + plain text).

Order: the period's trending papers (top ``PAPERWIRE_DIGEST_TRENDING``), then the new papers
of each topic, then of each followed organization, then "For you" (the reader's personal
ranking, when the address belongs to an account with upvotes, saved or library papers and the
subscription has it on).  A paper appears once, in its first section, and never if it was
sent to this reader before.  Every link is absolute
(``PAPERWIRE_PUBLIC_URL``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from paperwire.authors.names import key as author_key
from paperwire.authors.repository import AuthorRepository
from paperwire.digest.schedule import Period
from paperwire.digest.tokens import manage_token
from paperwire.digest.topics import IndexSource, TopicMatcher
from paperwire.digest.views import ClaimedDigest, SubscriptionView
from paperwire.settings import Settings
from paperwire.store.trending import TrendingRepository

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
MAX_CATCH_UP = {"daily": 7, "weekly": 28}  # days a missed-digest window may reach back
FORYOU_PAPERS = 5
log = logging.getLogger("paperwire.digest")


@dataclass(frozen=True, slots=True)
class Item:
    arxiv_id: str
    title: str
    authors: list[str]
    abstract: str
    upvotes: int
    reason: str  # one line: why this paper is in this reader's digest


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    items: list[Item]


@dataclass
class Digest:
    subscription: SubscriptionView
    period: Period
    start: date
    end: date
    message_id: str
    sections: list[Section] = field(default_factory=list)

    @property
    def papers(self) -> list[str]:
        return [i.arxiv_id for s in self.sections for i in s.items]

    @property
    def empty(self) -> bool:
        return not self.papers


def site_host(settings: Settings) -> str:
    return urlsplit(settings.public_url).hostname or "localhost"


def message_id(settings: Settings, subscription_id: int, period_key: str) -> str:
    """Deterministic per (subscription, period): a resend after a crash has the same id."""
    mac = hmac.new(
        settings.resolved_secret_key().encode(),
        f"digest:{subscription_id}:{period_key}".encode(),
        hashlib.sha256,
    ).hexdigest()[:24]
    return f"<digest.{period_key.replace(':', '.')}.{mac}@{site_host(settings)}>"


def sender(settings: Settings) -> str:
    return settings.smtp_from or formataddr((settings.site_name, f"digest@{site_host(settings)}"))


def short(text: str, n: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


def authors_line(authors: list[str], n: int = 3) -> str:
    return ", ".join(authors) if len(authors) <= n + 1 else ", ".join(authors[:n]) + " et al."


class Composer:
    """Composes digests for one run; trending lists and topic matches are cached per window."""

    def __init__(
        self,
        store,
        settings: Settings,
        *,
        index: IndexSource,
        matcher: TopicMatcher | None = None,
    ) -> None:
        """``index``: gives the search index (topics by meaning, "For you"), asked for only
        when a digest needs it."""
        self.store = store
        self.settings = settings
        self.open_index = index
        self.matcher = matcher or TopicMatcher(store, settings, index)
        self.base = settings.public_url.rstrip("/")
        self._trending: dict[tuple[date, date], list[Item]] = {}
        self._index = None
        self._index_checked = False
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # -- which papers -----------------------------------------------------------------
    def window(self, claim: ClaimedDigest, period: Period) -> tuple[date, date]:
        """Since the last digest this reader got (at most ``MAX_CATCH_UP`` days back)."""
        start = period.start
        if claim.since is not None:
            floor = period.end - timedelta(days=MAX_CATCH_UP[period.frequency] - 1)
            start = max(claim.since + timedelta(days=1), floor)
        return start, period.end

    def trending(self, start: date, end: date) -> list[Item]:
        key = (start, end)
        if key not in self._trending:
            days = (end - start).days + 1
            if days <= 0:
                self._trending[key] = []
                return []
            as_of = datetime.combine(end + timedelta(days=1), time())
            ranked = TrendingRepository(self.store.engine).trending(
                now=as_of, window_days=days, limit=1000
            )
            self._trending[key] = [
                Item(
                    t.paper.arxiv_id,
                    t.paper.title,
                    t.paper.authors,
                    t.paper.abstract,
                    t.paper.upvotes,
                    f"trending: {t.trending.reason}",
                )
                for t in ranked.items
                if t.paper.listing and start <= t.paper.listing.day <= end
            ]
        return self._trending[key]

    def compose(self, claim: ClaimedDigest, period: Period) -> Digest:
        sub = claim.subscription
        start, end = self.window(claim, period)
        digest = Digest(sub, period, start, end, claim.message_id)
        if start > end:
            return digest
        taken = set(claim.sent)
        n = self.settings.digest_trending
        top = [i for i in self.trending(start, end) if i.arxiv_id not in taken][:n]
        taken.update(i.arxiv_id for i in top)
        if top:
            digest.sections.append(Section("Trending", top))
        per = self.settings.digest_topic_papers
        for topic in sub.topics:
            items: list[Item] = []
            for m in self.matcher.match(topic, start, end):
                if len(items) >= per:
                    break
                if m.doc.arxiv_id in taken:
                    continue
                taken.add(m.doc.arxiv_id)
                why = "matches" if m.how == "words" else "is close in meaning to"
                items.append(self._item(m.doc, f"{why} your topic '{topic}'"))
            if items:
                digest.sections.append(Section(f"Topic: {topic}", items))
        for org in sub.organizations:
            items = []
            for doc in self.matcher.by_organization(org, start, end):
                if len(items) >= per:
                    break
                if doc.arxiv_id not in taken:
                    taken.add(doc.arxiv_id)
                    items.append(self._item(doc, f"from {org}, which you follow"))
            if items:
                digest.sections.append(Section(f"Organization: {org}", items))
        for name in self.authors_of(claim):
            items = []
            for doc in self.matcher.by_author(name, start, end):
                if len(items) >= per:
                    break
                if doc.arxiv_id not in taken:
                    taken.add(doc.arxiv_id)
                    items.append(self._item(doc, f"by {name}, whom you follow"))
            if items:
                digest.sections.append(Section(f"Author: {name}", items))
        if claim.user_id is not None and claim.subscription.foryou:
            items = self.foryou(claim.user_id, end, taken)
            if items:
                digest.sections.append(Section("For you", items))
        return digest

    def authors_of(self, claim: ClaimedDigest) -> list[str]:
        """The subscription's author names, then those its account follows on the site."""
        names = list(claim.subscription.authors)
        if claim.user_id is not None:
            names += AuthorRepository(self.store.engine).followed(claim.user_id)
        seen: set[str] = set()
        out = []
        for n in names:
            if author_key(n) and author_key(n) not in seen:
                seen.add(author_key(n))
                out.append(n)
        return out

    def _vectors(self):
        """The search index, if it has paper vectors; None otherwise (checked once per run)."""
        if not self._index_checked:
            self._index_checked = True
            try:
                from paperwire.recommend.engine import vectors_available

                index = self.open_index()
                self._index = index if vectors_available(index) else None
            except Exception as exc:  # derived data: the digest goes out without "For you"
                log.warning("search index unavailable, no 'For you' sections this run: %s", exc)
                self._index = None
        return self._index

    def foryou(self, user_id: int, end: date, taken: set[str]) -> list[Item]:
        """Up to ``FORYOU_PAPERS`` papers of the reader's personal ranking (new up to ``end``),
        none of ``taken``; [] when the index has no vectors or anything goes wrong."""
        index = self._vectors()
        if index is None:
            return []
        try:
            from paperwire.recommend.engine import recommend

            result = recommend(
                self.store, index, user_id, limit=FORYOU_PAPERS, end=end, exclude=taken
            )
        except Exception:
            log.warning("'For you' failed for account %s; section skipped", user_id, exc_info=True)
            return []
        items = []
        for r in result.items:
            if r.paper.arxiv_id in taken:
                continue
            taken.add(r.paper.arxiv_id)
            reason = f"for you: {r.reason}"
            if r.nearest:
                reason += f" (like '{r.nearest[0].title}')"
            p = r.paper
            items.append(Item(p.arxiv_id, p.title, p.authors, p.abstract, p.upvotes, reason))
        return items

    @staticmethod
    def _item(doc, reason: str) -> Item:
        return Item(doc.arxiv_id, doc.title, doc.authors, doc.abstract, doc.upvotes, reason)

    # -- the email --------------------------------------------------------------------
    def links(self, sub: SubscriptionView) -> dict[str, str]:
        token = manage_token(self.settings, sub.token)
        q = urlencode({"token": token})
        return {
            "home": self.base + "/",
            "manage": f"{self.base}/digest/manage?{q}",
            "unsubscribe": f"{self.base}/digest/unsubscribe?{q}",
        }

    def paper_url(self, arxiv_id: str) -> str:
        return f"{self.base}/papers/{quote(arxiv_id, safe='/')}"

    def subject(self, digest: Digest) -> str:
        n = len(digest.papers)
        what = f"{n} paper{'s' if n != 1 else ''}" if n else "no new papers"
        p = digest.period
        return f"{self.settings.site_name} {p.frequency} digest, {p.label}: {what}"

    def text(self, digest: Digest, links: dict[str, str]) -> str:
        lines = [self.subject(digest), ""]
        if digest.empty:
            lines += ["Nothing new matched your digest this time.", ""]
        for section in digest.sections:
            lines += [section.title, "=" * len(section.title), ""]
            for item in section.items:
                lines += [
                    f"* {item.title}",
                    f"  {authors_line(item.authors)}",
                    f"  Why: {item.reason}",
                    f"  {self.paper_url(item.arxiv_id)}",
                    "",
                ]
        lines += [
            "--",
            f"Change topics or frequency: {links['manage']}",
            f"Unsubscribe: {links['unsubscribe']}",
        ]
        return "\n".join(lines) + "\n"

    def html(self, digest: Digest, links: dict[str, str]) -> str:
        return self.env.get_template("email_digest.html").render(
            digest=digest,
            subject=self.subject(digest),
            site_name=self.settings.site_name,
            links=links,
            paper_url=self.paper_url,
            short=short,
            authors_line=authors_line,
        )

    def message(self, digest: Digest, now: datetime | None = None) -> Message:
        """The MIME message (multipart/alternative: plain text, then HTML).

        Built with the classic ``email.mime`` classes: at 10,000 digests a run the modern
        ``EmailMessage`` header machinery took most of the time (docs/benchmarks.md)."""
        sub = digest.subscription
        links = self.links(sub)
        msg = MIMEMultipart("alternative")
        _set_header(msg, "Subject", self.subject(digest))
        msg["From"] = sender(self.settings)
        msg["To"] = sub.email
        msg["Date"] = format_datetime(now or datetime.now(UTC))
        msg["Message-ID"] = digest.message_id
        _set_header(
            msg, "List-Id", f"{self.settings.site_name} digest <digest.{site_host(self.settings)}>"
        )
        msg["List-Unsubscribe"] = f"<{links['unsubscribe']}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["Auto-Submitted"] = "auto-generated"
        msg["Precedence"] = "bulk"
        msg.attach(MIMEText(self.text(digest, links), "plain", "utf-8"))
        msg.attach(MIMEText(self.html(digest, links), "html", "utf-8"))
        return msg


def _set_header(msg: Message, name: str, value: str) -> None:
    """A non-ASCII value goes in as an RFC 2047 ``Header``, which compat32 messages take
    (typeshed types header values as ``str`` only)."""
    # (compat32 takes a Header; typeshed says str)
    msg[name] = value if value.isascii() else Header(value, "utf-8")  # type: ignore[assignment]
