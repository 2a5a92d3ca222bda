"""Helpers shared by the web, API and HF-client tests: importing shared data, reading pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

from paperwire.record import Listing, Organization, PaperRecord
from paperwire.sources.files import expand_paths, read_file

AUGUST_2026 = "2026-08-*.json"
CARD = re.compile(r'<article class="card">')
COUNT = re.compile(r'<span class="count">(\d+)</span>')
TITLE_LINK = re.compile(r'<h2 class="title"><a href="/papers/([^"]+)">')


def import_files(store, files: list[Path]) -> None:
    def items():
        for path in expand_paths(files):
            yield from read_file(path)

    summary = store.importer().run(items())
    assert summary.rejected == 0, summary.errors[:5]


def august_files(hf_dir: Path) -> list[Path]:
    files = sorted(hf_dir.glob(AUGUST_2026))
    assert files, f"no {AUGUST_2026} in {hf_dir}"
    return files


def hf_ids(hf_dir: Path, day: str) -> list[str]:
    return [item["paper"]["id"] for item in json.loads((hf_dir / f"{day}.json").read_text())]


def cards(html: str) -> int:
    return len(CARD.findall(html))


def upvote_counts(html: str) -> list[int]:
    return [int(n) for n in COUNT.findall(html)]


def card_ids(html: str) -> list[str]:
    return TITLE_LINK.findall(html)


HOSTILE_TITLE = "<script>alert(1)</script> Attention Is All You <b>Need</b>"
HOSTILE_ABSTRACT = 'We bound <img src=x onerror=alert(1)> in $L^p$ spaces & show "x < y".'


def hostile_record(day: date) -> PaperRecord:
    return PaperRecord(
        arxiv_id="2608.99999",
        title=HOSTILE_TITLE,
        abstract=HOSTILE_ABSTRACT,
        origin="hf",
        authors=("Mallory <script>", "Eve"),
        published_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
        github_repo="javascript:alert(1)",
        project_page='https://example.org/"><script>alert(2)</script>',
        keywords=("<svg onload=alert(3)>",),
        upvotes=7,
        listing=Listing(
            day=day,
            source="hf",
            submitted_by="mallory",
            submitter_fullname="<i>Mallory</i>",
            organization=Organization(
                name="evil-org", fullname="<b>Evil</b> Org", avatar="javascript:alert(4)"
            ),
        ),
    )


def old_style_record() -> PaperRecord:
    return PaperRecord(
        arxiv_id="hep-th/9901001v2",
        title="Strings on old-style identifiers",
        abstract="An abstract about $\\mathcal{N}=4$ theories.",
        origin="arxiv",
        authors=("A. Physicist", "B. Theorist"),
        categories=("hep-th", "gr-qc"),
        version=2,
        published_at=datetime(1999, 1, 4, 12, 0, tzinfo=UTC),
        comments="12 pages, 3 figures",
        journal_ref="Nucl.Phys. B550 (1999) 1",
        doi="10.1016/S0550-3213(99)00001-1",
    )
