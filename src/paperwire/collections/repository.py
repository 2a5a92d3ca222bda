"""The collections slice's queries (``CollectionRepository`` over the engine).  Every change
names the owner: a collection that is not theirs is left alone and reported as missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from paperwire.core.clock import utcnow
from paperwire.core.sql import rowcount
from paperwire.store.collection_models import Collection, CollectionItem
from paperwire.store.community_models import User
from paperwire.store.models import Paper

MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_NOTE = 2000
MAX_ITEMS = 2000  # papers in one collection
MAX_COLLECTIONS = 200  # collections of one reader
MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number in a URL names nothing


class CollectionError(ValueError):
    """A request the rules refuse (too long, too many): the message says which."""


@dataclass(frozen=True, slots=True)
class CollectionView:
    id: int
    user_id: int
    owner: str
    name: str
    description: str
    public: bool
    papers: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ItemView:
    paper_id: int
    arxiv_id: str
    position: int
    note: str


# statements built once (a collection page runs them; building them cost more than that)
_VIEWS = (
    select(
        Collection.id,
        Collection.user_id,
        User.username,
        Collection.name,
        Collection.description,
        Collection.public,
        # each collection's own count (its index): a GROUP BY over every collection's items
        # made one collection's page slower as readers made more collections
        select(func.count())
        .where(CollectionItem.collection_id == Collection.id)
        .correlate(Collection)
        .scalar_subquery(),
        Collection.updated_at,
    )
    .join(User, User.id == Collection.user_id)
    .order_by(Collection.updated_at.desc(), Collection.id.desc())
)
_ONE = _VIEWS.where(Collection.id == bindparam("cid"))
_ITEMS = (
    select(CollectionItem.paper_id, Paper.arxiv_id, CollectionItem.position, CollectionItem.note)
    .join(Paper, Paper.id == CollectionItem.paper_id)
    .where(CollectionItem.collection_id == bindparam("cid"))
    .order_by(CollectionItem.position, CollectionItem.paper_id)
)


def _view(row: Any) -> CollectionView:
    cid, uid, owner, name, desc, public, n, at = row
    return CollectionView(cid, uid, owner, name, desc or "", bool(public), int(n or 0), at)


def _clean(text: str, most: int, what: str) -> str:
    text = " ".join((text or "").split()) if what == "name" else (text or "").strip()
    if len(text) > most:
        raise CollectionError(f"a collection's {what} has at most {most} characters")
    return text


class CollectionRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- collections -----------------------------------------------------------------
    def create(self, user_id: int, name: str, description: str = "", public: bool = False) -> int:
        name = _clean(name, MAX_NAME, "name")
        if not name:
            raise CollectionError("give the collection a name")
        now = utcnow()
        with Session(self.engine) as s, s.begin():
            n = s.scalar(select(func.count()).where(Collection.user_id == user_id)) or 0
            if n >= MAX_COLLECTIONS:
                raise CollectionError(f"a reader has at most {MAX_COLLECTIONS} collections")
            c = Collection(
                user_id=user_id,
                name=name,
                description=_clean(description, MAX_DESCRIPTION, "description"),
                public=public,
                created_at=now,
                updated_at=now,
            )
            s.add(c)
            s.flush()
            return c.id

    def get(self, collection_id: int) -> CollectionView | None:
        if not 0 < collection_id <= MAX_ID:
            return None
        with self.engine.connect() as c:
            found = [_view(r) for r in c.execute(_ONE, {"cid": collection_id})]
        return found[0] if found else None

    def visible(self, collection_id: int, viewer_id: int | None) -> CollectionView | None:
        """The collection if it is public or ``viewer_id`` owns it; None otherwise (a private
        collection of someone else is not told apart from a missing one)."""
        c = self.get(collection_id)
        if c is None or not (c.public or c.user_id == viewer_id):
            return None
        return c

    def of_user(self, user_id: int, public_only: bool = False) -> list[CollectionView]:
        q = _VIEWS.where(Collection.user_id == user_id)
        if public_only:
            q = q.where(Collection.public.is_(True))
        with self.engine.connect() as c:
            return [_view(r) for r in c.execute(q)]

    def update(
        self, collection_id: int, user_id: int, name: str, description: str, public: bool
    ) -> bool:
        name = _clean(name, MAX_NAME, "name")
        if not name:
            raise CollectionError("give the collection a name")
        with Session(self.engine) as s, s.begin():
            return (
                rowcount(
                    s.execute(
                        update(Collection)
                        .where(Collection.id == collection_id, Collection.user_id == user_id)
                        .values(
                            name=name,
                            description=_clean(description, MAX_DESCRIPTION, "description"),
                            public=public,
                            updated_at=utcnow(),
                        )
                    )
                )
                > 0
            )

    def delete(self, collection_id: int, user_id: int) -> bool:
        with Session(self.engine) as s, s.begin():
            if not self._owned(s, collection_id, user_id):
                return False
            s.execute(delete(CollectionItem).where(CollectionItem.collection_id == collection_id))
            s.execute(delete(Collection).where(Collection.id == collection_id))
            return True

    # -- items -----------------------------------------------------------------------
    def _owned(self, s: Session, collection_id: int, user_id: int) -> bool:
        if not 0 < collection_id <= MAX_ID:
            return False
        owner = s.scalar(select(Collection.user_id).where(Collection.id == collection_id))
        return owner is not None and owner == user_id

    def _touch(self, s: Session, collection_id: int) -> None:
        s.execute(
            update(Collection).where(Collection.id == collection_id).values(updated_at=utcnow())
        )

    def items(self, collection_id: int) -> list[ItemView]:
        with self.engine.connect() as c:
            rows = c.execute(_ITEMS, {"cid": collection_id})
            return [ItemView(pid, aid, pos, note or "") for pid, aid, pos, note in rows]

    def add(self, collection_id: int, user_id: int, paper_id: int, note: str = "") -> bool:
        """Append the paper (a paper already there stays where it is); False if the
        collection is not this reader's."""
        note = _clean(note, MAX_NOTE, "note")
        with Session(self.engine) as s, s.begin():
            if not self._owned(s, collection_id, user_id):
                return False
            self._append(s, collection_id, [paper_id], note)
            return True

    def add_many(self, collection_id: int, user_id: int, paper_ids: list[int]) -> int | None:
        """Append these papers in this order (those already there stay); how many were new,
        or None if the collection is not this reader's.  One transaction."""
        with Session(self.engine) as s, s.begin():
            if not self._owned(s, collection_id, user_id):
                return None
            return self._append(s, collection_id, paper_ids)

    def _append(self, s: Session, collection_id: int, paper_ids: list[int], note: str = "") -> int:
        """Add the papers not there yet after the last one; how many were new."""
        there = set(
            s.scalars(
                select(CollectionItem.paper_id).where(CollectionItem.collection_id == collection_id)
            )
        )
        fresh = [p for p in dict.fromkeys(paper_ids) if p not in there]
        if not fresh:
            return 0
        if len(there) + len(fresh) > MAX_ITEMS:
            raise CollectionError(f"a collection holds at most {MAX_ITEMS} papers")
        last = s.scalar(
            select(func.max(CollectionItem.position)).where(
                CollectionItem.collection_id == collection_id
            )
        )
        now = utcnow()
        s.add_all(
            CollectionItem(
                collection_id=collection_id,
                paper_id=pid,
                position=(last or 0) + i,
                note=note,
                added_at=now,
            )
            for i, pid in enumerate(fresh, start=1)
        )
        self._touch(s, collection_id)
        return len(fresh)

    def remove(self, collection_id: int, user_id: int, paper_id: int) -> bool:
        with Session(self.engine) as s, s.begin():
            if not self._owned(s, collection_id, user_id):
                return False
            gone = rowcount(
                s.execute(
                    delete(CollectionItem).where(
                        CollectionItem.collection_id == collection_id,
                        CollectionItem.paper_id == paper_id,
                    )
                )
            )
            self._touch(s, collection_id)
            return gone > 0

    def move(self, collection_id: int, user_id: int, paper_id: int, step: int) -> bool:
        """Swap the paper with its neighbour above (``step`` -1) or below (+1)."""
        with Session(self.engine) as s, s.begin():
            if not self._owned(s, collection_id, user_id):
                return False
            order = list(
                s.scalars(
                    select(CollectionItem)
                    .where(CollectionItem.collection_id == collection_id)
                    .order_by(CollectionItem.position, CollectionItem.paper_id)
                )
            )
            at = next((i for i, it in enumerate(order) if it.paper_id == paper_id), None)
            if at is None:
                return False
            other = at + (1 if step > 0 else -1)
            if 0 <= other < len(order):
                order[at], order[other] = order[other], order[at]
                for i, it in enumerate(order, start=1):  # positions 1..n, no ties
                    it.position = i
                self._touch(s, collection_id)
            return True

    def set_note(self, collection_id: int, user_id: int, paper_id: int, note: str) -> bool:
        note = _clean(note, MAX_NOTE, "note")
        with Session(self.engine) as s, s.begin():
            if not self._owned(s, collection_id, user_id):
                return False
            done = rowcount(
                s.execute(
                    update(CollectionItem)
                    .where(
                        CollectionItem.collection_id == collection_id,
                        CollectionItem.paper_id == paper_id,
                    )
                    .values(note=note)
                )
            )
            self._touch(s, collection_id)
            return done > 0
