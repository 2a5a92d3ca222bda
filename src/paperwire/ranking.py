"""The trending score: a documented, explainable formula (see docs/ranking.md).

    score = (votes + STAR_WEIGHT * ln(1 + stars)) / (age_hours + AGE_OFFSET_HOURS) ** GRAVITY

- ``votes``: community upvotes (imported HF upvotes plus local votes);
- ``stars``: GitHub stars of the paper's repository (0 when it has none);
- ``age_hours``: hours from the paper's first curated listing to the reference time.

Pure functions only: the store gathers the inputs, presenters show the explanation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

GRAVITY = 1.5
AGE_OFFSET_HOURS = 12.0
STAR_WEIGHT = 2.0
WINDOW_DAYS = 7


@dataclass(frozen=True, slots=True)
class TrendingInputs:
    votes: int
    stars: int
    listed_at: datetime


@dataclass(frozen=True, slots=True)
class TrendingScore:
    score: float
    votes: int
    stars: int
    age_hours: float

    @property
    def reason(self) -> str:
        """One line a reader can check against the formula."""
        age = (
            f"{self.age_hours:.0f} h" if self.age_hours < 48 else f"{self.age_hours / 24:.1f} days"
        )
        parts = [f"{self.votes} upvote{'s' if self.votes != 1 else ''}", f"listed {age} ago"]
        if self.stars:
            parts.append(f"{self.stars:,} GitHub stars")
        return ", ".join(parts) + f" (score {self.score:.3f})"


def trending_score(inputs: TrendingInputs, now: datetime) -> TrendingScore:
    age_hours = max((now - inputs.listed_at).total_seconds() / 3600.0, 0.0)
    stars = max(inputs.stars, 0)
    numerator = inputs.votes + STAR_WEIGHT * math.log1p(stars)
    score = numerator / (age_hours + AGE_OFFSET_HOURS) ** GRAVITY
    return TrendingScore(score=score, votes=inputs.votes, stars=stars, age_hours=age_hours)
