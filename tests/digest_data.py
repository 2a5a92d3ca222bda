"""A small, hand-made corpus and a real SMTP server (aiosmtpd) for the digest and feed tests."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from datetime import UTC, date, datetime

from aiosmtpd.controller import Controller

from paperwire.record import Listing, Organization, PaperRecord

D20, D21, D22 = date(2026, 8, 20), date(2026, 8, 21), date(2026, 8, 22)
ACME = Organization("acme-lab", "Acme Lab")


def record(aid, title, day, upvotes, *, org=None, published=None, abstract="") -> PaperRecord:
    pub = published or day
    return PaperRecord(
        arxiv_id=aid,
        title=title,
        abstract=abstract or f"We study {title.lower()} in depth & report <results>.",
        origin="hf",
        authors=("Ada Lovelace", "Alan Turing"),
        categories=("cs.LG",),
        published_at=datetime(pub.year, pub.month, pub.day, 12),
        upvotes=upvotes,
        listing=Listing(
            day=day,
            source="hf",
            organization=org,
            submitted_at=datetime(day.year, day.month, day.day, 9),
        ),
    )


CORPUS = [
    record("2608.00001", "Skill Learning for Robots", D20, 50),
    record("2608.00002", "Video Diffusion Models", D20, 30),
    record("2608.00011", "Hierarchical Skill Learning at Scale", D21, 40),
    record("2608.00012", "A Study of Tokenizers", D21, 10),
    # listed on the 21st, first published on arXiv on the 22nd: a candidate in both periods
    record("2608.00013", "Diffusion for Video Generation", D21, 3, published=D22),
    record("2608.00014", "Robust Optimizers", D21, 1, org=ACME),
    record("2608.00021", "Skill Learning Again, <b>Bold</b>", D22, 20),
]


def load(store, records=CORPUS) -> None:
    summary = store.import_records(records)
    assert summary.rejected == 0, summary.errors


class Inbox:
    """Collects every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def parsed(self) -> list[email.message.EmailMessage]:
        with self.lock:
            raw = [m for _, m in self.messages]
        return [email.message_from_bytes(m, policy=email.policy.default) for m in raw]

    def wait(self, n: int, timeout: float = 15.0) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= n:
                return self.parsed()
            time.sleep(0.02)
        raise AssertionError(f"expected {n} messages, got {len(self.messages)}")


def smtp_server(port: int, inbox: Inbox) -> Controller:
    return Controller(inbox, hostname="127.0.0.1", port=port)


def text_part(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def html_part(msg) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()


def paper_ids(msg) -> list[str]:
    return re.findall(r"/papers/(\d{4}\.\d{5})", text_part(msg))


def link(msg, path: str) -> str:
    m = re.search(r"(https?://\S+" + re.escape(path) + r"\S*)", text_part(msg))
    assert m, f"no {path} link in {text_part(msg)!r}"
    return m.group(1)


def csrf(html: str) -> dict[str, str]:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return {"csrf_token": m.group(1)} if m else {}


def hidden_token(html: str) -> str:
    m = re.search(r'name="token" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def now_utc() -> datetime:
    return datetime.now(UTC)


def send(store, settings, **kwargs):
    """``send_digests`` with the search index of these settings, as ``paperwire serve``'s
    composition root hands it its own."""
    from paperwire.digest.send import send_digests
    from paperwire.search.indexer import open_index

    return send_digests(store, settings, index=lambda: open_index(settings), **kwargs)
