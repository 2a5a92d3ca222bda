"""The live Hugging Face Daily Papers API: ``GET {base}/api/daily_papers``.

``date=YYYY-MM-DD`` (also ``week=YYYY-Www`` and ``month=YYYY-MM``), paged with ``p`` and
``limit``.  Items are parsed by :mod:`paperwire.sources.hf_daily`, the same parser that
imports recorded files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from paperwire.record import PaperRecord
from paperwire.sources import hf_daily
from paperwire.sources.errors import RecordError
from paperwire.sources.http import Fetcher, MalformedResponse, SourceClient

MAX_PAGES = 100


class HfClient(SourceClient):
    def __init__(self, base_url: str, fetcher: Fetcher, *, page_size: int = 100) -> None:
        self.base_url = base_url.rstrip("/")
        self.fetcher = fetcher
        self.page_size = page_size

    @classmethod
    def from_settings(cls, settings) -> HfClient:
        fetcher = Fetcher.from_settings(
            settings, name="Hugging Face", setting_hint="PAPERWIRE_HF_URL"
        )
        return cls(settings.hf_url, fetcher)

    def items(self, **query: str) -> Iterator[Any]:
        """Raw items of ``/api/daily_papers`` for ``query``, following the pages."""
        url = f"{self.base_url}/api/daily_papers"
        seen: set[str] = set()
        for page in range(MAX_PAGES):
            params = {**query, "p": str(page), "limit": str(self.page_size)}
            response = self.fetcher.get(url, params=params)
            try:
                data = json.loads(response.content)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise MalformedResponse(
                    f"Hugging Face sent malformed or truncated JSON for {response.url} ({exc}); "
                    "nothing from this page was imported. Run the sync again."
                ) from None
            if not isinstance(data, list):
                raise MalformedResponse(
                    f"Hugging Face sent {type(data).__name__} instead of a list for {response.url}"
                )
            fresh = 0
            for item in data:
                key = _item_key(item)
                if key in seen:
                    continue
                seen.add(key)
                fresh += 1
                yield item
            # A short page ends the list; a page of nothing new means the server ignores `p`.
            if len(data) < self.page_size or fresh == 0:
                return

    def day(self, day: date) -> list[PaperRecord | RecordError]:
        """The papers listed on ``day`` (an empty list for a day without papers)."""
        return list(
            hf_daily.parse_items(
                self.items(date=day.isoformat()), day, f"daily_papers?date={day}: "
            )
        )

    def week(self, week: str) -> list[PaperRecord | RecordError]:
        """The papers of an ISO week, e.g. ``2026-W33``."""
        return list(hf_daily.parse_items(self.items(week=week), None, f"week={week}: "))

    def month(self, month: str) -> list[PaperRecord | RecordError]:
        """The papers of a month, e.g. ``2026-08``."""
        return list(hf_daily.parse_items(self.items(month=month), None, f"month={month}: "))


def _item_key(item: Any) -> str:
    if isinstance(item, dict):
        paper = item.get("paper")
        if isinstance(paper, dict) and paper.get("id"):
            day = paper.get("submittedOnDailyAt") or item.get("publishedAt") or ""
            return f"{paper['id']}|{day}"
    return json.dumps(item, sort_keys=True, default=str)
