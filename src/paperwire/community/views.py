"""The community slice's plain values and errors (no ORM object leaves its repositories)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from paperwire.store.community_models import User


class UsernameTaken(ValueError):
    pass


class EmailTaken(ValueError):
    """Another account already has this email address."""


class AlreadyListed(ValueError):
    """The paper is already on a curated list (the message says which day)."""

    def __init__(self, arxiv_id: str, day: date, source: str) -> None:
        who = "Hugging Face Daily Papers" if source == "hf" else "the community list"
        super().__init__(f"{arxiv_id} is already on {who} of {day.isoformat()}")
        self.arxiv_id, self.day, self.source = arxiv_id, day, source


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    fullname: str | None
    is_admin: bool
    created_at: datetime | None = None
    email: str | None = None  # private: shown only to its owner

    @property
    def display_name(self) -> str:
        return self.fullname or self.username


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    arxiv_id: str
    author: str
    author_id: int
    body: str
    created_at: datetime
    edited_at: datetime | None
    hidden: bool


@dataclass(frozen=True, slots=True)
class VoteState:
    voted: bool
    hf: int
    local: int

    @property
    def total(self) -> int:
        return self.hf + self.local


def user_view(u: User) -> UserView:
    return UserView(u.id, u.username, u.fullname, bool(u.is_admin), u.created_at, u.email)
