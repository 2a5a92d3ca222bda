"""An in-process cache of anonymous GET responses (listing pages, paper pages, search and the
JSON API), with ETags.

Why: under load every listing or paper page costs several queries and a Jinja render (tens of
milliseconds of one core), and most readers are signed out and ask for the same pages.

What is cached, and for whom:

- only ``GET`` requests of signed-out readers (no valid session) for the paths in
  :data:`CACHEABLE`, and only ``200`` answers that set no cookie and no ``Cache-Control`` of
  their own; signed-in readers always get a fresh render and nothing of theirs is stored;
- the key is scheme, host, path, query string and whether JSON or Markdown was asked for;
- every anonymous page carries the reader's own CSRF token (the vote, save and digest forms):
  the stored copy is cut where the token was, and each answer gets the asking reader's token
  (created in their session if they had none, exactly as a render would), so a token never
  leaks from one reader to another.

How long: an entry lives ``Settings.page_cache_ttl`` seconds (30 by default; 0 turns the cache
off) and is dropped sooner when the data changes: at once for a commit in this process (votes,
comments, imports, syncs), within ``Settings.page_cache_check`` seconds (1) for papers,
listings, votes, comments, collections and author follows written by other processes (see
:func:`watermark`).  What the
watermark does not watch (follows and members of organizations written by another process,
the trending ages, the date) shows within the TTL.

Size: at most ``Settings.page_cache_mb`` MB (256) of bodies per process, least recently used
out first (a paper page is about 9 KB, a search answer of 50 papers about 200 KB), and
:data:`MAX_ENTRIES` answers.  Until 2026-12-01 that count was 2,000, which at 2.9M papers held
a fifth of the distinct pages a Zipf mix asks in 15 seconds: most paper pages rendered again
and again while the byte budget stood nine-tenths empty.

At most :data:`MAX_RENDERS` cache misses render at once per process; the others wait without
holding a thread, so the hits stay fast while pages render.

HTTP: cached answers have an ``ETag`` (over the body and the reader's CSRF token) and answer
``If-None-Match`` with ``304``; ``Cache-Control: no-cache`` (revalidate every time), and
``private`` whenever the answer holds the reader's CSRF token or the reader has a session
(the session middleware adds ``Vary: Cookie``).  Any other
GET answer that carries the session cookie and sets no ``Cache-Control`` gets
``private, no-cache``, so a shared cache never stores a signed-in page or a session.

Misses for the same key are coalesced: while one request renders, the others wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, func, select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperwire.community.security import USER_KEY, csrf_token
from paperwire.ui.hf_shapes import wants_markdown

CACHEABLE = re.compile(
    r"/(?:|papers/.+|organizations/[^/]+|authors/[^/]+|collections/\d+|search"
    r"|api/daily_papers|api/papers/.+)\Z"
)
PLACEHOLDER = b"\x00paperwire-csrf-token\x00"  # stands for the token in the ETag digest
MAX_ENTRIES = 50_000
MAX_RENDERS = 4
_DROP = {b"content-length", b"etag", b"cache-control", b"vary"}


@dataclass(slots=True)
class Entry:
    version: int
    expires: float
    status: int
    headers: list[tuple[bytes, bytes]]
    # the body cut where the reader's CSRF token goes (one part when it has none): joining
    # the parts around a token costs about 3 us for a day page, bytes.replace about 45 us
    parts: tuple[bytes, ...]
    size: int
    digest: str

    @property
    def has_token(self) -> bool:
        return len(self.parts) > 1

    def body(self, token: str | None) -> bytes:
        return token.encode().join(self.parts) if token is not None else self.parts[0]

    def etag(self, token: str | None) -> bytes:
        if not self.has_token or token is None:
            return f'W/"{self.digest}"'.encode()
        mine = hashlib.blake2b(token.encode(), digest_size=6).hexdigest()
        return f'W/"{self.digest}.{mine}"'.encode()


def watermark(store) -> tuple:
    """Values that move whenever papers, listings, votes, comments, collections or author
    follows are written: indexed maxima for new and changed rows, counts for withdrawn votes,
    deleted or hidden comments, deleted collections and unfollows (one round trip; the
    counts read an index and grow with the community)."""
    from paperwire.store.author_models import AuthorFollow
    from paperwire.store.collection_models import Collection
    from paperwire.store.community_models import Comment, Vote
    from paperwire.store.models import Listing, Paper

    q = select(
        select(func.max(Paper.modified_at)).scalar_subquery(),
        select(func.max(Listing.id)).scalar_subquery(),
        select(func.max(Vote.id)).scalar_subquery(),
        select(func.count()).select_from(Vote).scalar_subquery(),
        select(func.max(Comment.id)).scalar_subquery(),
        select(func.count()).where(Comment.hidden.is_(False)).scalar_subquery(),
        # every change to a collection or its papers touches its updated_at
        select(func.max(Collection.updated_at)).scalar_subquery(),
        select(func.count()).select_from(Collection).scalar_subquery(),
        select(func.count()).select_from(AuthorFollow).scalar_subquery(),
    )
    with store.engine.connect() as conn:
        return tuple(conn.execute(q).one())


def index_stamp(index_dir: Path | None) -> tuple:
    """Moves whenever this host's search index takes papers in (the follower's and the
    importers' bookkeeping in ``follow.sqlite``): a search answer cached after the database
    moved but before the index caught up is dropped once it has (docs/deploy.md)."""
    if index_dir is None:
        return ()
    out: list[tuple[int, int] | None] = []
    for name in ("follow.sqlite", "follow.sqlite-wal"):
        try:
            st = os.stat(index_dir / name)
        except OSError:
            out.append(None)
        else:
            out.append((st.st_mtime_ns, st.st_size))
    return tuple(out)


class ResponseCache:
    """The entries and their validity (one per app, i.e. per worker process)."""

    def __init__(
        self,
        store,
        ttl: float,
        check: float,
        max_bytes: int = 256 << 20,
        index_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.index_dir = index_dir
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.check = check
        self.version = 0
        self.entries: OrderedDict[tuple, Entry] = OrderedDict()
        self.size = 0
        self.inflight: dict[tuple, asyncio.Event] = {}
        # Renders for the cache at once: more threads only fight over the GIL, and the
        # event loop, which answers the hits, would get it ever more rarely.
        self._renders: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._mark: tuple | None = None
        self._next_check = 0.0
        self._checking = False
        self.hits = self.misses = 0
        event.listen(store.engine, "commit", self._on_commit)
        store.import_listeners.append(self._on_import)

    def renders(self) -> asyncio.Semaphore:
        """The render slots of the running event loop (tests run several loops)."""
        loop = asyncio.get_running_loop()
        if self._renders is None or self._renders[0] is not loop:
            self._renders = (loop, asyncio.Semaphore(MAX_RENDERS))
        return self._renders[1]

    def _on_commit(self, _conn) -> None:
        self.bump()

    def _on_import(self, _ids, _docs) -> None:
        self.bump()

    def bump(self) -> None:
        """Forget everything (the data changed)."""
        self.version += 1

    async def refresh(self) -> None:
        """Look for writes of other processes, at most every ``check`` seconds."""
        now = time.monotonic()
        if now < self._next_check or self._checking:
            return
        self._checking = True
        try:
            mark = await run_in_threadpool(
                lambda: (watermark(self.store), index_stamp(self.index_dir))
            )
        finally:
            self._checking = False
        self._next_check = time.monotonic() + self.check
        if mark != self._mark:
            self._mark = mark
            self.bump()

    def get(self, key: tuple) -> Entry | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry.version != self.version or entry.expires <= time.monotonic():
            self._drop(key)
            return None
        self.entries.move_to_end(key)
        return entry

    def put(self, key: tuple, entry: Entry) -> None:
        if entry.version != self.version or entry.size > self.max_bytes // 8:
            return
        self._drop(key)
        self.entries[key] = entry
        self.size += entry.size
        while len(self.entries) > MAX_ENTRIES or self.size > self.max_bytes:
            self._drop(next(iter(self.entries)))

    def _drop(self, key: tuple) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= entry.size


@lru_cache(maxsize=256)
def _kind(accept: bytes) -> str:
    """What a request asks for, as far as a cached answer can differ: Markdown (paper pages
    answer ``Accept: text/markdown`` with it), JSON, or HTML."""
    if wants_markdown(accept.decode("latin-1")):
        return "markdown"
    return "json" if b"json" in accept else "html"


def cache_key(scope: Scope) -> tuple:
    """Scheme, host, path, query string and the kind of answer asked for (``_kind``)."""
    return (
        scope.get("scheme", "http"),
        request_header(scope, b"host"),
        scope["path"],
        scope.get("query_string", b""),
        _kind(request_header(scope, b"accept")),
    )


def request_header(scope: Scope, name: bytes) -> bytes:
    for k, v in scope["headers"]:
        if k == name:
            return v
    return b""


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(b",")]
    return b"*" in tags or etag in tags or etag.removeprefix(b"W/") in tags


class PageCacheMiddleware:
    """Pure ASGI; runs inside the session and community middleware (it needs the session and
    the signed-in user they find)."""

    def __init__(self, app: ASGIApp, cache: ResponseCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        session = scope.get("session")
        if session is None or scope.get(USER_KEY) is not None or not CACHEABLE.match(scope["path"]):
            await self.app(scope, receive, _private_if_session(scope, send))
            return
        cache = self.cache
        await cache.refresh()
        key = cache_key(scope)
        entry = cache.get(key)
        if entry is None and key in cache.inflight:  # someone is rendering it: wait for them
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cache.inflight[key].wait(), timeout=30)
            entry = cache.get(key)
        if entry is not None:
            cache.hits += 1
            await answer(scope, send, entry, session)
            return
        cache.misses += 1
        done = cache.inflight.setdefault(key, asyncio.Event())
        try:
            async with cache.renders():
                await self._render(scope, receive, send, key, session)
        finally:
            if cache.inflight.get(key) is done:
                del cache.inflight[key]
            done.set()

    async def _render(self, scope, receive, send, key, session) -> None:
        cache = self.cache
        version = cache.version
        start: Message | None = None
        chunks: list[bytes] = []
        passing = False

        async def capture(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            # the whole answer is here: store it if it is a plain, cookie-free 200
            assert start is not None
            headers = list(start.get("headers", []))
            names = {k.lower() for k, _ in headers}
            body = b"".join(chunks)
            token = session.get("csrf")
            parts = tuple(body.split(token.encode())) if token else (body,)
            if start["status"] != 200 or b"set-cookie" in names or b"cache-control" in names:
                passing = True
                await _private_if_session(scope, send)(start)
                await send({"type": "http.response.body", "body": body})
                return
            entry = Entry(
                version=version,
                expires=time.monotonic() + cache.ttl,
                status=200,
                headers=[(k, v) for k, v in headers if k.lower() not in _DROP],
                parts=parts,
                size=len(body),
                digest=hashlib.blake2b(PLACEHOLDER.join(parts), digest_size=12).hexdigest(),
            )
            cache.put(key, entry)
            passing = True
            await answer(scope, send, entry, session)

        await self.app(scope, receive, capture)


async def answer(scope: Scope, send: Send, entry: Entry, session: dict) -> None:
    """A stored answer for this reader: their CSRF token written in, an ETag, 304 when it
    matches ``If-None-Match`` (also the answer of ``web/cache_lane.py``)."""
    token = csrf_token(session) if entry.has_token else None
    etag = entry.etag(token)
    headers = list(entry.headers)
    headers.append((b"etag", etag))
    headers.append((b"vary", b"Accept"))  # the key holds what Accept asked for (_kind)
    if entry.has_token or session:  # the reader's own token: never in a shared cache
        headers.append((b"cache-control", b"private, no-cache"))
    else:
        headers.append((b"cache-control", b"no-cache"))
    if _matches(request_header(scope, b"if-none-match"), etag):
        keep = [(k, v) for k, v in headers if k.lower() != b"content-type"]
        await send({"type": "http.response.start", "status": 304, "headers": keep})
        await send({"type": "http.response.body", "body": b""})
        return
    body = entry.body(token)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _private_if_session(scope: Scope, send: Send) -> Send:
    """``Cache-Control: private, no-cache`` on answers that will carry the session cookie."""

    async def wrapped(message: Message) -> None:
        if (
            message["type"] == "http.response.start"
            and scope.get("session")
            and not scope["path"].startswith("/static/")
        ):
            headers = list(message.get("headers", []))
            if not any(k.lower() == b"cache-control" for k, _ in headers):
                headers.append((b"cache-control", b"private, no-cache"))
                message = {**message, "headers": headers}
        await send(message)

    return wrapped


def install(app) -> ResponseCache | None:
    """Add the cache to ``app`` (call before ``community.install``, so it runs inside the
    session and community middleware).  Off when ``page_cache_ttl`` is 0."""
    settings = app.state.settings
    if settings.page_cache_ttl <= 0:
        app.state.page_cache = None
        return None
    cache = ResponseCache(
        app.state.store,
        settings.page_cache_ttl,
        settings.page_cache_check,
        settings.page_cache_mb << 20,
        settings.resolved_index_dir,
    )
    app.state.page_cache = cache
    app.add_middleware(PageCacheMiddleware, cache=cache)
    return cache
