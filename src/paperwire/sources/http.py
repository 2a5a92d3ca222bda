"""The one HTTP client every live source uses.

It names paperwire in its User-Agent, applies a timeout, keeps a politeness delay between
requests (arXiv asks for one request per 3 seconds), retries 429 and 5xx answers and network
errors with exponential backoff while honouring ``Retry-After``, and turns everything else into
a :class:`SourceError` that says what happened and what to do next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx

from paperwire import __version__

USER_AGENT = f"paperwire/{__version__} (+https://github.com/paperwire)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SourceError(RuntimeError):
    """A live source failed: the message says what happened and what to do next."""


class HttpStatusError(SourceError):
    """The server answered with an error status that retrying will not fix (or retries ran out)."""

    def __init__(self, message: str, status_code: int, url: str, body: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.url = url
        self.body = body


class MalformedResponse(SourceError):
    """The server's answer could not be parsed (truncated or not the expected format)."""


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Fetcher:
    """A polite, retrying HTTP GET.  One instance per source; safe to share between threads."""

    def __init__(
        self,
        *,
        name: str = "server",
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 2.0,
        max_wait: float = 300.0,
        min_interval: float = 0.0,
        setting_hint: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.min_interval = min_interval
        self.setting_hint = setting_hint
        self.sleep = sleep
        self._last = 0.0
        self._lock = threading.Lock()
        self.client = httpx.Client(
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            transport=transport,
        )

    @classmethod
    def from_settings(
        cls, settings: Any, *, name: str, min_interval: float = 0.0, setting_hint: str = ""
    ) -> Fetcher:
        return cls(
            name=name,
            timeout=settings.http_timeout,
            retries=settings.http_retries,
            backoff=settings.http_backoff,
            max_wait=settings.http_max_wait,
            min_interval=min_interval,
            setting_hint=setting_hint or None,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _polite_wait(self) -> None:
        if self.min_interval <= 0:
            return
        with self._lock:
            wait = self._last + self.min_interval - time.monotonic()
            if wait > 0:
                self.sleep(wait)
            self._last = time.monotonic()

    def _hint(self) -> str:
        return f" (check {self.setting_hint})" if self.setting_hint else ""

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """GET ``url``; return the 2xx response or raise :class:`SourceError`."""
        attempt = 0
        while True:
            self._polite_wait()
            wait: float | None = None
            try:
                response = self.client.get(url, params=params)
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise SourceError(
                        f"cannot reach {self.name} at {url}: {exc.__class__.__name__}: {exc}. "
                        f"Check the network or the URL{self._hint()}, then run the sync again."
                    ) from None
            else:
                if response.is_success:
                    return response
                status = response.status_code
                if status not in RETRY_STATUSES or attempt >= self.retries:
                    raise self._status_error(response, attempt)
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if wait is not None and wait > self.max_wait:
                    raise HttpStatusError(
                        f"{self.name} asked us to wait {wait:.0f} s (Retry-After) before "
                        f"retrying {response.url}; that is longer than the {self.max_wait:.0f} s "
                        "we wait. Try again later.",
                        status,
                        str(response.url),
                        response.text,
                    )
            if wait is None:
                wait = min(self.backoff * (2**attempt), self.max_wait)
            attempt += 1
            self.sleep(wait)

    def _status_error(self, response: httpx.Response, attempt: int) -> HttpStatusError:
        status = response.status_code
        url = str(response.url)
        reason = response.reason_phrase or ""
        if status in RETRY_STATUSES:
            message = (
                f"{self.name} answered {status} {reason} for {url} "
                f"after {attempt + 1} attempts. It is busy or down; try again later."
            )
        elif status == 404:
            message = f"{self.name} answered 404 Not Found for {url}{self._hint()}."
        else:
            message = (
                f"{self.name} rejected the request with {status} {reason} for {url}{self._hint()}."
            )
        return HttpStatusError(message, status, url, response.text)


class SourceClient:
    """A client of one source that owns a :class:`Fetcher`; usable as a context manager."""

    fetcher: Fetcher

    def close(self) -> None:
        self.fetcher.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
