"""The trending order of a fixed set of papers matches the documented formula."""

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from paperwire.community.repository import Community
from paperwire.ranking import (
    AGE_OFFSET_HOURS,
    GRAVITY,
    STAR_WEIGHT,
    TrendingInputs,
    trending_score,
)
from paperwire.record import ORIGIN_HF, Listing, PaperRecord
from paperwire.store.trending import TrendingRepository


def formula(votes, stars, age_hours):
    return (votes + STAR_WEIGHT * math.log1p(stars)) / (age_hours + AGE_OFFSET_HOURS) ** GRAVITY


def test_score_is_the_documented_formula():
    now = datetime(2026, 8, 22)
    s = trending_score(TrendingInputs(votes=10, stars=99, listed_at=now - timedelta(hours=30)), now)
    assert s.score == pytest.approx(formula(10, 99, 30))
    assert s.reason.startswith("10 upvotes, listed 30 h ago, 99 GitHub stars")


def _paper(n, votes, stars, day):
    return PaperRecord(
        arxiv_id=f"2608.{n:05d}",
        title=f"Paper {n}",
        abstract="a",
        origin=ORIGIN_HF,
        upvotes=votes,
        github_stars=stars,
        github_repo="https://github.com/a/b" if stars else None,
        listing=Listing(day=day, source="hf"),
    )


def test_trending_order_matches_formula(store):
    day = date(2026, 8, 21)
    fixed = [
        (1, 50, 0, day),
        (2, 10, 5000, day),
        (3, 200, 0, day - timedelta(days=3)),
        (4, 30, 0, day - timedelta(days=1)),
        (5, 5, 0, day),
        (6, 999, 0, day - timedelta(days=9)),
    ]
    store.import_records([_paper(*p) for p in fixed])
    now = datetime(2026, 8, 22, 6, 0)
    got = TrendingRepository(store.engine).trending(now=now)
    expected = sorted(
        [
            (
                formula(
                    v, s, (now - datetime.combine(d, datetime.min.time())).total_seconds() / 3600
                ),
                f"2608.{n:05d}",
            )
            for n, v, s, d in fixed
            if (now.date() - d).days <= 7
        ],
        key=lambda t: (-t[0], t[1]),
    )
    assert [i.paper.arxiv_id for i in got.items] == [a for _, a in expected]
    assert "2608.00006" not in [i.paper.arxiv_id for i in got.items]  # outside the window
    assert got.items[0].trending.score == pytest.approx(expected[0][0])


def test_old_archive_is_trending_as_of_its_last_day(store):
    store.import_records([_paper(1, 5, 0, date(2024, 1, 10))])
    got = TrendingRepository(store.engine).trending(now=datetime.now(UTC).replace(tzinfo=None))
    assert got.as_of == datetime(2024, 1, 11)
    assert [i.paper.arxiv_id for i in got.items] == ["2608.00001"]


def test_local_votes_count_in_the_trending_order(store):
    """Local upvotes are added to the imported ones, in the score and on the card."""
    from paperwire.community.passwords import hash_password

    day = date(2026, 8, 21)
    store.import_records([_paper(1, 20, 0, day), _paper(2, 15, 0, day)])
    now = datetime(2026, 8, 22, 6, 0)
    assert [i.paper.arxiv_id for i in TrendingRepository(store.engine).trending(now=now).items] == [
        "2608.00001",
        "2608.00002",
    ]
    hashed = hash_password("a long password", "CHEAPEST")
    for k in range(10):
        user = Community.of(store).accounts.create_user(f"u{k}", hashed)
        Community.of(store).votes.vote(user.id, "2608.00002", True)
    got = TrendingRepository(store.engine).trending(now=now)
    assert [i.paper.arxiv_id for i in got.items] == ["2608.00002", "2608.00001"]
    age = (now - datetime(2026, 8, 21)).total_seconds() / 3600
    top = got.items[0]
    assert top.trending.votes == 25 and top.paper.upvotes == 25
    assert top.trending.score == pytest.approx(formula(25, 0, age))
    assert top.trending.reason.startswith("25 upvotes")
