"""The community slice's content repositories: comments, organization members and
followers, submissions to the community list."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.orm import Session

from paperwire.community.views import AlreadyListed, CommentView, UserView
from paperwire.core.clock import utcnow
from paperwire.core.listings import curated
from paperwire.core.sql import insert_ignore, rowcount
from paperwire.store.community_models import Comment, Follow, Membership, User
from paperwire.store.importer import CommitHook
from paperwire.store.models import Listing, Organization, Paper
from paperwire.store.views import OrganizationView

_COMMENTS = (
    select(
        Comment.id, User.username, Comment.user_id, Comment.body, Comment.created_at,
        Comment.edited_at, Comment.hidden,
    )
    .join(User, User.id == Comment.user_id)
    .join(Paper, Paper.id == Comment.paper_id)
    .where(Paper.arxiv_id == bindparam("arxiv_id"))
    .order_by(Comment.created_at, Comment.id)
)  # fmt: skip
_VISIBLE_COMMENTS = _COMMENTS.where(Comment.hidden.is_(False))


class CommentRepository:
    """Comments on papers; hidden ones stay for administrators."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_comment(self, user_id: int, arxiv_id: str, body: str) -> int | None:
        with Session(self.engine) as s:
            pid = s.scalar(select(Paper.id).where(Paper.arxiv_id == arxiv_id))
            if pid is None:
                return None
            c = Comment(paper_id=pid, user_id=user_id, body=body, created_at=utcnow(), hidden=False)
            s.add(c)
            s.commit()
            return c.id

    def comments(self, arxiv_id: str, *, include_hidden: bool = False) -> list[CommentView]:
        # built once, columns on a connection: every paper page asks (an ORM session and a
        # statement built per call cost 0.3 ms a page)
        with self.engine.connect() as c:
            q = _COMMENTS if include_hidden else _VISIBLE_COMMENTS
            rows = c.execute(q, {"arxiv_id": arxiv_id}).all()
        return [
            CommentView(cid, arxiv_id, name, uid, body, at, edited, bool(hidden))
            for cid, name, uid, body, at, edited, hidden in rows
        ]

    def comment(self, comment_id: int) -> CommentView | None:
        with Session(self.engine) as s:
            row = s.execute(
                select(Comment, User.username, Paper.arxiv_id)
                .join(User, User.id == Comment.user_id)
                .join(Paper, Paper.id == Comment.paper_id)
                .where(Comment.id == comment_id)
            ).first()
        return self._comment_view(*row) if row else None

    @staticmethod
    def _comment_view(c: Comment, author: str, arxiv_id: str) -> CommentView:
        return CommentView(
            c.id, arxiv_id, author, c.user_id, c.body, c.created_at, c.edited_at, bool(c.hidden)
        )

    def edit_comment(self, comment_id: int, user_id: int, body: str) -> bool:
        with Session(self.engine) as s:
            n = rowcount(
                s.execute(
                    update(Comment)
                    .where(Comment.id == comment_id, Comment.user_id == user_id)
                    .values(body=body, edited_at=utcnow())
                )
            )
            s.commit()
        return bool(n)

    def delete_comment(self, comment_id: int, user_id: int) -> bool:
        with Session(self.engine) as s:
            n = rowcount(
                s.execute(
                    delete(Comment).where(Comment.id == comment_id, Comment.user_id == user_id)
                )
            )
            s.commit()
        return bool(n)

    def set_comment_hidden(self, comment_id: int, admin_id: int, hidden: bool = True) -> bool:
        with Session(self.engine) as s:
            n = rowcount(
                s.execute(
                    update(Comment)
                    .where(Comment.id == comment_id)
                    .values(hidden=hidden, hidden_by=admin_id if hidden else None)
                )
            )
            s.commit()
        return bool(n)


class OrganizationRepository:
    """Organizations' members and followers (the organizations themselves are papers'
    submitters: ``paperwire.store.models.Organization``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_organization(self, name: str, fullname: str | None = None) -> None:
        with Session(self.engine) as s:
            insert_ignore(s, Organization, {"name": name, "fullname": fullname})
            s.commit()

    @staticmethod
    def org_id(s: Session, name: str) -> int | None:
        return s.scalar(select(Organization.id).where(Organization.name == name))

    def add_member(self, org: str, username: str) -> bool:
        """Add a user to an organization (created if new); False if the user is unknown."""
        self.ensure_organization(org)
        with Session(self.engine) as s:
            uid = s.scalar(select(User.id).where(User.username == username))
            if uid is None:
                return False
            values = {"organization_id": self.org_id(s, org), "user_id": uid}
            insert_ignore(s, Membership, {**values, "created_at": utcnow()})
            s.commit()
        return True

    def memberships(self, user_id: int) -> list[OrganizationView]:
        with Session(self.engine) as s:
            rows = s.scalars(
                select(Organization)
                .join(Membership, Membership.organization_id == Organization.id)
                .where(Membership.user_id == user_id)
                .order_by(Organization.name)
            ).all()
            return [OrganizationView(o.name, o.fullname, o.avatar) for o in rows]

    def org_members(self, org: str) -> list[str]:
        with Session(self.engine) as s:
            return list(
                s.scalars(
                    select(User.username)
                    .join(Membership, Membership.user_id == User.id)
                    .join(Organization, Organization.id == Membership.organization_id)
                    .where(Organization.name == org)
                    .order_by(User.username)
                )
            )

    def follow(self, org: str, user_id: int, on: bool = True) -> bool:
        """Follow or unfollow; False if there is no such organization."""
        with Session(self.engine) as s:
            oid = self.org_id(s, org)
            if oid is None:
                return False
            if on:
                values = {"organization_id": oid, "user_id": user_id, "created_at": utcnow()}
                insert_ignore(s, Follow, values)
            else:
                s.execute(
                    delete(Follow).where(Follow.organization_id == oid, Follow.user_id == user_id)
                )
            s.commit()
        return True

    def followers(self, org: str) -> list[str]:
        with Session(self.engine) as s:
            return list(
                s.scalars(
                    select(User.username)
                    .join(Follow, Follow.user_id == User.id)
                    .join(Organization, Organization.id == Follow.organization_id)
                    .where(Organization.name == org)
                    .order_by(Follow.created_at, User.username)
                )
            )

    def following(self, user_id: int) -> list[str]:
        with Session(self.engine) as s:
            return list(
                s.scalars(
                    select(Organization.name)
                    .join(Follow, Follow.organization_id == Organization.id)
                    .where(Follow.user_id == user_id)
                    .order_by(Organization.name)
                )
            )


class SubmissionRepository:
    """Papers submitted to a day's community list."""

    def __init__(
        self,
        engine: Engine,
        orgs: OrganizationRepository,
        listeners: list[CommitHook] | None = None,
    ) -> None:
        self.engine = engine
        self.orgs = orgs
        self.listeners = listeners if listeners is not None else []

    def curated_listing(self, arxiv_id: str) -> tuple[date, str] | None:
        """The first curated listing (day, source) of a paper, if it is on any list."""
        with Session(self.engine) as s:
            row = s.execute(
                select(Listing.day, Listing.source)
                .join(Paper, Paper.id == Listing.paper_id)
                .where(Paper.arxiv_id == arxiv_id, curated(Listing.source))
                .order_by(Listing.day, Listing.id)
                .limit(1)
            ).first()
        return (row[0], row[1]) if row else None

    def add_community_listing(
        self,
        arxiv_id: str,
        user: UserView,
        *,
        day: date,
        organization: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """List a stored paper on ``day``'s community list, submitted by ``user``.

        Raises :class:`AlreadyListed` if it is on a curated list already (two people
        submitting at once: the unique (paper, day, source) key lets exactly one win).
        """
        with Session(self.engine) as s:
            pid = s.scalar(select(Paper.id).where(Paper.arxiv_id == arxiv_id))
            if pid is None:
                raise LookupError(f"paper {arxiv_id} is not stored")
            oid = self.orgs.org_id(s, organization) if organization else None
            values = {
                "paper_id": pid,
                "day": day,
                "source": "community",
                "submitted_by": user.username,
                "submitter_fullname": user.fullname,
                "organization_id": oid,
                "submitted_at": now or utcnow(),
            }
            first = s.execute(
                select(Listing.day, Listing.source)
                .where(Listing.paper_id == pid, curated(Listing.source))
                .order_by(Listing.day, Listing.id)
                .limit(1)
            ).first()
            if first is not None or not insert_ignore(s, Listing, values):
                s.rollback()
                found = first or (day, "community")
                raise AlreadyListed(arxiv_id, found[0], found[1])
            # the listing changes the paper's search fields: index followers pick it up
            s.execute(update(Paper).where(Paper.id == pid).values(modified_at=utcnow()))
            s.commit()
        for hook in self.listeners:
            hook([pid], {})
