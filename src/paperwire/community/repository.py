"""The community slice's repositories: accounts and sessions, upvotes (this module);
comments, organizations and submissions (``content_repository``).

Upvotes are rows unique on (user, paper); a paper's local count is ``COUNT(*)`` over them,
so 100 people voting at once are all counted exactly, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paperwire.community.views import (
    EmailTaken,
    UsernameTaken,
    UserView,
    VoteState,
    user_view,
)
from paperwire.core.clock import utcnow
from paperwire.core.sql import insert_ignore, rowcount
from paperwire.store.community_models import User, UserSession, Vote
from paperwire.store.importer import CommitHook
from paperwire.store.models import Paper

if TYPE_CHECKING:
    from paperwire.store import Store


def _clean_email(email: str | None) -> str | None:
    return (email or "").strip().lower() or None


_VOTE_STATE = select(
    Paper.hf_upvotes,
    select(func.count()).where(Vote.paper_id == Paper.id).correlate(Paper).scalar_subquery(),
    select(func.count())
    .where(Vote.paper_id == Paper.id, Vote.user_id == bindparam("user_id"))
    .correlate(Paper)
    .scalar_subquery(),
).where(Paper.arxiv_id == bindparam("arxiv_id"))


class AccountRepository:
    """Accounts and their sign-in sessions (the cookie holds a token; the database only
    its SHA-256)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_user(
        self,
        username: str,
        password_hash: str,
        *,
        fullname: str | None = None,
        is_admin: bool = False,
        email: str | None = None,
    ) -> UserView:
        """A new account; UsernameTaken or EmailTaken (``email`` is stored lowercased)."""
        email = _clean_email(email)
        with Session(self.engine) as s:
            taken = s.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
            if taken:
                raise UsernameTaken(username)
            if email and s.scalar(select(User.id).where(User.email == email)):
                raise EmailTaken(email)
            u = User(
                username=username,
                fullname=fullname or None,
                password_hash=password_hash,
                is_admin=is_admin,
                created_at=utcnow(),
                email=email,
            )
            s.add(u)
            try:
                s.commit()
            except IntegrityError:  # a concurrent sign-up won the race: say which name
                s.rollback()
                if email and s.scalar(select(User.id).where(User.email == email)):
                    raise EmailTaken(email) from None
                raise UsernameTaken(username) from None
            return user_view(u)

    def set_user_email(self, user_id: int, email: str | None) -> str | None:
        """Set (or, with None or "", remove) an account's address; EmailTaken if another
        account has it.  Returns the address as stored (lowercased)."""
        email = _clean_email(email)
        with Session(self.engine) as s:
            if email and s.scalar(select(User.id).where(User.email == email, User.id != user_id)):
                raise EmailTaken(email)
            s.execute(update(User).where(User.id == user_id).values(email=email))
            try:
                s.commit()
            except IntegrityError:
                raise EmailTaken(email or "") from None
            return email

    def user(self, username: str) -> UserView | None:
        with Session(self.engine) as s:
            u = s.scalar(select(User).where(User.username == username))
            return user_view(u) if u else None

    def user_credentials(self, username: str) -> tuple[UserView, str] | None:
        with Session(self.engine) as s:
            u = s.scalar(select(User).where(func.lower(User.username) == username.lower()))
            return (user_view(u), u.password_hash) if u else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with Session(self.engine) as s:
            s.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))
            s.commit()

    def set_admin(self, username: str, is_admin: bool = True) -> bool:
        with Session(self.engine) as s:
            n = rowcount(
                s.execute(update(User).where(User.username == username).values(is_admin=is_admin))
            )
            s.commit()
            return bool(n)

    def create_session(self, user_id: int, token_hash: str, expires_at: datetime) -> None:
        with Session(self.engine) as s:
            s.execute(delete(UserSession).where(UserSession.expires_at < utcnow()))
            s.add(
                UserSession(
                    token_hash=token_hash,
                    user_id=user_id,
                    created_at=utcnow(),
                    expires_at=expires_at,
                )
            )
            s.commit()

    def session_user(self, token_hash: str) -> UserView | None:
        with Session(self.engine) as s:
            u = s.scalar(
                select(User)
                .join(UserSession, UserSession.user_id == User.id)
                .where(UserSession.token_hash == token_hash, UserSession.expires_at > utcnow())
            )
            return user_view(u) if u else None

    def end_session(self, token_hash: str) -> None:
        with Session(self.engine) as s:
            s.execute(delete(UserSession).where(UserSession.token_hash == token_hash))
            s.commit()

    def end_sessions(self, user_id: int, *, keep: str | None = None) -> int:
        """Sign a user out everywhere (except the session ``keep``)."""
        with Session(self.engine) as s:
            q = delete(UserSession).where(UserSession.user_id == user_id)
            if keep:
                q = q.where(UserSession.token_hash != keep)
            n = rowcount(s.execute(q))
            s.commit()
            return n


class VoteRepository:
    """Upvotes: rows unique on (user, paper), counted with ``COUNT(*)``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def vote(self, user_id: int, arxiv_id: str, want: bool | None = None) -> VoteState | None:
        """Upvote (``want`` True), withdraw (False) or toggle (None); None if no such paper.

        The write comes first in its transaction (SQLite then takes the write lock at once
        and waits its turn); the count is read in the same transaction.
        """
        with Session(self.engine) as s:
            row = s.execute(
                select(Paper.id, Paper.hf_upvotes).where(Paper.arxiv_id == arxiv_id)
            ).first()
            if row is None:
                return None
            pid, hf = row
            if want is False:
                s.execute(delete(Vote).where(Vote.user_id == user_id, Vote.paper_id == pid))
                voted = False
            else:
                added = insert_ignore(
                    s, Vote, {"user_id": user_id, "paper_id": pid, "created_at": utcnow()}
                )
                voted = True
                if not added and want is None:
                    s.execute(delete(Vote).where(Vote.user_id == user_id, Vote.paper_id == pid))
                    voted = False
            local = s.scalar(select(func.count()).where(Vote.paper_id == pid)) or 0
            s.commit()
        return VoteState(voted, hf or 0, local)

    def vote_state(self, arxiv_id: str, user_id: int | None = None) -> VoteState | None:
        """HF's and this site's upvotes of a paper, and whether ``user_id`` gave one (one
        statement: every paper page asks)."""
        with self.engine.connect() as c:
            row = c.execute(_VOTE_STATE, {"arxiv_id": arxiv_id, "user_id": user_id or 0}).first()
        if row is None:
            return None
        hf, local, voted = row
        return VoteState(bool(voted), hf or 0, int(local or 0))

    def upvoted_by(self, username: str, limit: int = 100) -> list[int]:
        """The ids of the papers ``username`` upvoted, newest vote first."""
        with Session(self.engine) as s:
            return list(
                s.scalars(
                    select(Vote.paper_id)
                    .join(User, User.id == Vote.user_id)
                    .where(User.username == username)
                    .order_by(Vote.created_at.desc(), Vote.id.desc())
                    .limit(limit)
                )
            )


class Community:
    """The slice's repositories over one engine, as routes, CLI commands and tests use them.

    ``listeners`` are called with the ids of papers a submission changed (the store's
    ``import_listeners``: the search index attaches there)."""

    def __init__(self, engine: Engine, listeners: list[CommitHook] | None = None) -> None:
        from paperwire.community.content_repository import (
            CommentRepository,
            OrganizationRepository,
            SubmissionRepository,
        )

        self.accounts = AccountRepository(engine)
        self.votes = VoteRepository(engine)
        self.comments = CommentRepository(engine)
        self.orgs = OrganizationRepository(engine)
        self.submissions = SubmissionRepository(engine, self.orgs, listeners)

    @classmethod
    def of(cls, store: Store) -> Community:
        return cls(store.engine, store.import_listeners)
