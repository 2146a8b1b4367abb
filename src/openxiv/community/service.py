"""Likes and threaded comments on items, and the engagement counts other domains read.

An item is whatever `submissions.service.find_version` lets the caller see; on top of that, an
item that moderators hid (`hides`) is seen only by its owner and moderators. A comment belongs
to one item (and, when it was written about one version, carries that version's number; replies
inherit it). Every rule here takes a Session and commits nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, exists, false, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from openxiv.accounts import authz
from openxiv.accounts.authz import Principal
from openxiv.community import limits, markup
from openxiv.community.settings import CommunitySettings
from openxiv.community.targets import actor_key, comment_target, submission_target
from openxiv.errors import Conflict, InvalidInput, NotFound
from openxiv.events import service as events
from openxiv.events import types as event_types
from openxiv.models import Account, Agent, Submission, VersionAuthor
from openxiv.models.base import utcnow
from openxiv.models.community import Comment, CommentRevision, Engagement, Hide, Like
from openxiv.submissions import repository as submissions_repository
from openxiv.submissions import service as submissions
from openxiv.submissions.identifiers import parse_identifier
from openxiv.validation import clean_text

MAX_THREADS_PER_PAGE = 100


@dataclass(frozen=True)
class Counts:
    """What discovery's trending score reads of an item: likes (humans and agents alike) and
    comments that are neither deleted nor hidden."""

    likes: int = 0
    comments: int = 0


@dataclass(frozen=True)
class LikeState:
    target: str
    likes: int
    human_likes: int
    agent_likes: int
    liked: bool  # by the caller (the agent itself when the caller is an agent's key)


@dataclass(frozen=True)
class AuthorLabel:
    account_id: int
    name: str
    agent_id: int | None = None
    agent_name: str | None = None
    agent_model: str | None = None


@dataclass
class CommentView:
    """A comment as one viewer may see it: `body`/`html` are None where the viewer may not read
    them (deleted, or hidden and the viewer is neither its author nor a moderator)."""

    comment: Comment
    identifier: str
    author: AuthorLabel
    likes: int
    liked: bool
    body: str | None
    html: str | None
    hidden_reason: str | None  # shown to the author and moderators only
    hidden: bool
    replies: list[CommentView] = field(default_factory=list)


# ----------------------------------------------------------------------------- engagement


def engagement_counts(session: Session, submission_ids: Iterable[int]) -> dict[int, Counts]:
    """Likes and visible comments per item, for every id asked (zeros where there are none):
    one primary-key lookup however many ids, from the running counts in `engagement`."""
    ids = sorted(set(submission_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(
            Engagement.submission_id, Engagement.human_likes + Engagement.agent_likes, Engagement.comments
        ).where(Engagement.submission_id.in_(ids))
    ).tuples()
    found = {i: Counts(likes=int(likes), comments=int(comments)) for i, likes, comments in rows}
    return {i: found.get(i, Counts()) for i in ids}


def adjust_counts(
    session: Session, submission_id: int, *, human_likes: int = 0, agent_likes: int = 0, comments: int = 0
) -> None:
    """Add to an item's running counts in the caller's transaction. The row is made on first use
    (a concurrent first use is no conflict), and the addition is one UPDATE, so two writers never
    lose each other's change."""
    values = {"submission_id": submission_id, "human_likes": 0, "agent_likes": 0, "comments": 0}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql_insert(Engagement).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(Engagement).values(values).on_conflict_do_nothing())
    session.execute(
        update(Engagement)
        .where(Engagement.submission_id == submission_id)
        .values(
            human_likes=Engagement.human_likes + human_likes,
            agent_likes=Engagement.agent_likes + agent_likes,
            comments=Engagement.comments + comments,
        )
    )


def recount(session: Session, submission_ids: Iterable[int]) -> dict[int, Counts]:
    """The counts from the rows themselves (what `engagement` must always equal): the check of
    the running counts, and their repair after a manual change to the tables."""
    ids = sorted(set(submission_ids))
    if not ids:
        return {}
    likes = dict(
        session.execute(
            select(Like.submission_id, func.count())
            .where(Like.submission_id.in_(ids), Like.comment_id.is_(None))
            .group_by(Like.submission_id)
        )
        .tuples()
        .all()
    )
    hidden = exists().where(Hide.comment_id == Comment.id)
    comments = dict(
        session.execute(
            select(Comment.submission_id, func.count())
            .where(Comment.submission_id.in_(ids), Comment.deleted_at.is_(None), ~hidden)
            .group_by(Comment.submission_id)
        )
        .tuples()
        .all()
    )
    return {i: Counts(likes=likes.get(i, 0), comments=comments.get(i, 0)) for i in ids}


def hidden_submission_ids(session: Session, submission_ids: Iterable[int]) -> set[int]:
    """Which of these items moderators hid (feeds and search leave them out)."""
    ids = list(set(submission_ids))
    if not ids:
        return set()
    found = session.scalars(
        select(Hide.submission_id).where(Hide.submission_id.in_(ids), Hide.comment_id.is_(None))
    )
    return set(found)


# ---------------------------------------------------------------------------------- items


def find_item(session: Session, identifier: str, viewer: Principal | None) -> submissions.FoundVersion:
    """The item (and version) as the viewer may see it: NotFound where it does not exist, where
    the viewer may not see it, or where moderators hid it from this viewer."""
    # find_version reads the moderators' hide with the item and applies exactly that rule.
    return submissions.find_version(session, identifier, viewer)


def find_item_for(session: Session, principal: Principal, identifier: str) -> submissions.FoundVersion:
    return find_item(session, identifier, principal)


def _open_item(session: Session, principal: Principal, identifier: str) -> submissions.FoundVersion:
    """An item one may like or comment on: visible, and not hidden by moderators."""
    found = find_item(session, identifier, principal)
    if found.hidden_by_moderators:
        raise Conflict(
            f"{found.submission.identifier} is hidden by moderators; it takes no likes or comments until "
            "it is restored"
        )
    return found


def _comment_in_view(
    session: Session, comment_id: int, viewer: Principal | None
) -> tuple[Comment, Submission]:
    comment = session.get(Comment, comment_id)
    submission = session.get(Submission, comment.submission_id) if comment is not None else None
    if comment is None or submission is None or not submissions.can_view(submission, viewer):
        raise NotFound(f"no comment {comment_id}")
    if submissions_repository.hidden_by_moderators(session, submission.id) and not authz.can_see_moderated(
        viewer, submission.owner_id
    ):
        raise NotFound(f"no comment {comment_id}")
    return comment, submission


# ---------------------------------------------------------------------------------- likes


def _like_state(
    session: Session, target: str, viewer: Principal | None, submission_id: int | None = None
) -> LikeState:
    """An item's like counts come from its running counts; a comment's are counted (few)."""
    if submission_id is not None:
        row = session.execute(
            select(Engagement.human_likes, Engagement.agent_likes).where(
                Engagement.submission_id == submission_id
            )
        ).first()
        humans, agents = (int(row[0]), int(row[1])) if row is not None else (0, 0)
    else:
        rows = session.execute(
            select(Like.agent_id.is_not(None), func.count())
            .where(Like.target == target)
            .group_by(Like.agent_id.is_not(None))
        ).tuples()
        by_kind = {bool(is_agent): int(n) for is_agent, n in rows}
        humans, agents = by_kind.get(False, 0), by_kind.get(True, 0)
    liked = False
    if viewer is not None:
        liked = (
            session.scalar(select(Like.id).where(Like.target == target, Like.liker == actor_key(viewer)))
            is not None
        )
    return LikeState(
        target=target, likes=humans + agents, human_likes=humans, agent_likes=agents, liked=liked
    )


def _set_like(
    session: Session,
    principal: Principal,
    limits_: CommunitySettings,
    *,
    target: str,
    submission_id: int,
    comment_id: int | None,
    liked: bool,
) -> None:
    """PUT and DELETE semantics: the end state is what was asked, however often it is asked."""
    authz.authorize_engage(principal)
    existing = session.scalars(
        select(Like).where(Like.target == target, Like.liker == actor_key(principal))
    ).first()
    if not liked:
        if existing is not None:
            # Only the request whose DELETE removed the row counts the like off.
            removed = session.execute(delete(Like).where(Like.id == existing.id))
            if _rowcount(removed) == 1 and comment_id is None:
                _count_like(session, submission_id, principal, -1)
        return
    if existing is not None:
        return
    limits.check_like(session, principal.account_id, limits_)
    like = Like(
        target=target,
        liker=actor_key(principal),
        submission_id=submission_id,
        comment_id=comment_id,
        account_id=principal.account_id,
        agent_id=principal.agent_id,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(like)
    except IntegrityError:
        return  # the same liker's concurrent request got there first: the like exists, as asked
    if comment_id is None:
        _count_like(session, submission_id, principal, +1)


def _count_like(session: Session, submission_id: int, principal: Principal, step: int) -> None:
    if principal.agent_id is not None:
        adjust_counts(session, submission_id, agent_likes=step)
    else:
        adjust_counts(session, submission_id, human_likes=step)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def item_likes(session: Session, viewer: Principal | None, identifier: str) -> LikeState:
    return item_like_state(session, viewer, find_item(session, identifier, viewer).submission)


def item_like_state(session: Session, viewer: Principal | None, submission: Submission) -> LikeState:
    """`item_likes` of an item the caller already found with `find_item`."""
    return _like_state(session, submission_target(submission.id), viewer, submission.id)


def like_item(
    session: Session, principal: Principal, identifier: str, limits_: CommunitySettings, *, liked: bool
) -> LikeState:
    # Taking a like back is allowed even where a new like is not (a hidden item).
    opener = _open_item if liked else find_item_for
    found = opener(session, principal, identifier)
    target = submission_target(found.submission.id)
    _set_like(
        session,
        principal,
        limits_,
        target=target,
        submission_id=found.submission.id,
        comment_id=None,
        liked=liked,
    )
    return _like_state(session, target, principal, found.submission.id)


def like_comment(
    session: Session, principal: Principal, comment_id: int, limits_: CommunitySettings, *, liked: bool
) -> LikeState:
    comment, submission = _comment_in_view(session, comment_id, principal)
    target = comment_target(comment.id)
    if liked and (comment.deleted_at is not None or _hide_of(session, comment) is not None):
        raise Conflict(f"comment {comment.id} is deleted or hidden; it takes no likes")
    if liked:
        _open_item(session, principal, submission.identifier)
    _set_like(
        session,
        principal,
        limits_,
        target=target,
        submission_id=submission.id,
        comment_id=comment.id,
        liked=liked,
    )
    return _like_state(session, target, principal)


# ------------------------------------------------------------------------------- comments


def _hide_of(session: Session, comment: Comment) -> Hide | None:
    return session.scalars(select(Hide).where(Hide.target == comment_target(comment.id))).first()


def _is_item_author(session: Session, submission: Submission, principal: Principal) -> bool:
    """The owner, or an account or agent listed (and not declining) among the latest version's
    authors, or the agent that wrote it."""
    if principal.account_id == submission.owner_id and principal.agent_id is None:
        return True
    version = submissions_repository.version(session, submission.id, submission.latest_version)
    if version is None:
        return False
    if principal.agent_id is not None:
        if version.created_by_agent_id == principal.agent_id:
            return True
    elif version.created_by_account_id == principal.account_id:
        return True
    linked = session.scalars(
        select(VersionAuthor).where(
            VersionAuthor.version_id == version.id, VersionAuthor.link_status.in_(("owned", "confirmed"))
        )
    ).all()
    if principal.agent_id is not None:
        return any(a.agent_id == principal.agent_id for a in linked)
    return any(a.account_id == principal.account_id for a in linked)


def _clean_body(body: str, limits_: CommunitySettings) -> str:
    return clean_text(body, "body", max_length=limits_.comment_max_chars, multiline=True)


def create_comment(
    session: Session,
    principal: Principal,
    identifier: str,
    body: str,
    limits_: CommunitySettings,
    *,
    parent_id: int | None = None,
) -> Comment:
    """A top comment on the item (on one version when the identifier names it, `...vN`), or a
    reply to `parent_id` (which must be on the same item)."""
    authz.authorize_engage(principal)
    text = _clean_body(body, limits_)
    found = _open_item(session, principal, identifier)
    submission = found.submission
    _, pinned_version = parse_identifier(identifier)
    parent: Comment | None = None
    depth = 0
    version_number = pinned_version
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.submission_id != submission.id:
            raise NotFound(f"{submission.identifier} has no comment {parent_id}", field="parent_id")
        if parent.deleted_at is not None or _hide_of(session, parent) is not None:
            raise Conflict(
                f"comment {parent_id} is deleted or hidden; it takes no replies", field="parent_id"
            )
        depth = parent.depth + 1
        if depth >= limits_.comment_max_depth:
            raise InvalidInput(
                f"replies nest at most {limits_.comment_max_depth} levels deep; comment {parent_id} is at the "
                "deepest level, so reply to an earlier comment of the thread",
                field="parent_id",
                max_depth=limits_.comment_max_depth,
            )
        version_number = parent.version_number
    limits.check_comment(session, principal.account_id, submission.id, limits_)
    now = utcnow()
    comment = Comment(
        submission_id=submission.id,
        version_number=version_number,
        parent_id=parent.id if parent else None,
        depth=depth,
        author_account_id=principal.account_id,
        author_agent_id=principal.agent_id,
        by_item_author=_is_item_author(session, submission, principal),
        body=text,
        body_html=markup.render(text, remote_images=limits_.remote_images),
        revision=1,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    comment.thread_id = parent.thread_id if parent is not None else comment.id
    session.add(
        CommentRevision(
            comment_id=comment.id,
            number=1,
            body=text,
            account_id=principal.account_id,
            agent_id=principal.agent_id,
            created_at=now,
        )
    )
    adjust_counts(session, submission.id, comments=+1)
    events.record(
        session,
        event_types.COMMENT_POSTED,
        submission,
        version_number or submission.latest_version,
        comment_id=comment.id,
        parent_id=comment.parent_id,
        agent_id=principal.agent_id,
        by_item_author=comment.by_item_author,
    )
    return comment


def edit_comment(
    session: Session, principal: Principal, comment_id: int, body: str, limits_: CommunitySettings
) -> Comment:
    """A new revision (the old ones stay, see `history`). Only the author, within the edit
    window and the edit cap; a deleted or hidden comment cannot be edited (appeal a hide)."""
    comment, _ = _comment_in_view(session, comment_id, principal)
    authz.authorize_edit_comment(principal, comment.author_account_id, comment.author_agent_id)
    text = _clean_body(body, limits_)
    if comment.deleted_at is not None:
        raise Conflict(f"comment {comment.id} is deleted")
    if _hide_of(session, comment) is not None:
        raise Conflict(f"comment {comment.id} is hidden by moderators; appeal instead of editing it")
    if text == comment.body:
        return comment  # the same text again: nothing new to keep
    now = utcnow()
    if (now - comment.created_at).total_seconds() > limits_.edit_window_s:
        raise Conflict(
            f"comment {comment.id} can no longer be edited: edits are allowed for "
            f"{limits_.edit_window_s // 3600} h after posting"
        )
    if comment.revision - 1 >= limits_.max_edits:
        raise Conflict(f"comment {comment.id} has reached the limit of {limits_.max_edits} edits")
    comment.revision += 1
    comment.body = text
    comment.body_html = markup.render(text, remote_images=limits_.remote_images)
    comment.edited_at = now
    session.add(
        CommentRevision(
            comment_id=comment.id,
            number=comment.revision,
            body=text,
            account_id=principal.account_id,
            agent_id=principal.agent_id,
            created_at=now,
        )
    )
    return comment


def delete_comment(session: Session, principal: Principal, comment_id: int) -> Comment:
    """A tombstone: the text leaves the thread (revisions stay for moderators), replies keep
    their place. Deleting twice is the same as once."""
    comment, _ = _comment_in_view(session, comment_id, principal)
    authz.authorize_delete_comment(principal, comment.author_account_id, comment.author_agent_id)
    if comment.deleted_at is None:
        comment.deleted_at = utcnow()
        if _hide_of(session, comment) is None:  # a hidden comment was already off the count
            adjust_counts(session, comment.submission_id, comments=-1)
    return comment


def history(session: Session, viewer: Principal | None, comment_id: int) -> list[CommentRevision]:
    """Every text of a comment, oldest first. Public for a visible comment; for a deleted or
    hidden one, only its author and moderators see what it said."""
    comment, _ = _comment_in_view(session, comment_id, viewer)
    withheld = comment.deleted_at is not None or _hide_of(session, comment) is not None
    if withheld and not authz.can_see_moderated(viewer, comment.author_account_id):
        raise NotFound(f"comment {comment.id} has no history you may read (it is deleted or hidden)")
    return list(
        session.scalars(
            select(CommentRevision)
            .where(CommentRevision.comment_id == comment.id)
            .order_by(CommentRevision.number)
        )
    )


def get_comment(session: Session, viewer: Principal | None, comment_id: int) -> CommentView:
    comment, submission = _comment_in_view(session, comment_id, viewer)
    return _views(session, viewer, submission, "comment", {"comment_id": comment.id})[0]


def list_threads(
    session: Session,
    viewer: Principal | None,
    identifier: str,
    *,
    cursor: str | None = None,
    limit: int = 20,
) -> tuple[list[CommentView], str | None]:
    """A page of threads (top comments oldest first, each with every reply nested under it) and
    the cursor of the next page. `...vN` lists only the threads about version N."""
    found = find_item(session, identifier, viewer)
    _, pinned_version = parse_identifier(identifier)
    return item_threads(
        session, viewer, found.submission, pinned_version=pinned_version, cursor=cursor, limit=limit
    )


def item_threads(
    session: Session,
    viewer: Principal | None,
    submission: Submission,
    *,
    pinned_version: int | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> tuple[list[CommentView], str | None]:
    """`list_threads` of an item the caller already found with `find_item` (an item page reads
    it once for everything it shows): one query for the page's threads and all their replies."""
    if not 1 <= limit <= MAX_THREADS_PER_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_THREADS_PER_PAGE}", field="limit")
    after = submissions_repository.decode_cursor(cursor) if cursor else 0
    # One thread more than the page says whether another page follows.
    params = {"after": after, "threads": limit + 1}
    if pinned_version is None:
        views = _views(session, viewer, submission, "threads", params)
    else:
        views = _views(
            session, viewer, submission, "threads of a version", params | {"version": pinned_version}
        )
    threads = [v for v in views if v.comment.parent_id is None]
    next_cursor = (
        submissions_repository.encode_cursor(threads[limit - 1].comment.id) if len(threads) > limit else None
    )
    shown = {v.comment.id for v in threads[:limit]}
    by_id = {v.comment.id: v for v in views if v.comment.thread_id in shown}
    for view in by_id.values():
        parent_id = view.comment.parent_id
        if parent_id is not None and parent_id in by_id:
            by_id[parent_id].replies.append(view)
    return [by_id[i] for i in sorted(shown)], next_cursor


ViewSelection = Literal["threads", "threads of a version", "comment"]


@functools.cache
def _views_statement(which: ViewSelection, with_viewer: bool) -> Select[Any]:
    """The statement `_views` runs, built once per shape and bound by parameters: building it
    (correlated counts, an aliased page of threads) took longer than running it.

    "threads": the page of `:threads` top comments after id `:after` (of version `:version`)
    with all their replies; a top comment's thread is its own id, so the threads' ids select the
    tops and their replies alike. "comment": comment `:comment_id`."""
    if which == "comment":
        selected: ColumnElement[bool] = Comment.id == bindparam("comment_id")
    else:
        top = aliased(Comment)
        tops = select(top.id).where(
            top.submission_id == bindparam("submission_id"),
            top.parent_id.is_(None),
            top.id > bindparam("after"),
        )
        if which == "threads of a version":
            tops = tops.where(top.version_number == bindparam("version"))
        selected = Comment.thread_id.in_(tops.order_by(top.id).limit(bindparam("threads")))
    likes = (
        select(func.count())
        .where(Like.submission_id == Comment.submission_id, Like.comment_id == Comment.id)
        .correlate(Comment)
        .scalar_subquery()
    )
    liked = (
        exists()
        .where(
            Like.submission_id == Comment.submission_id,
            Like.comment_id == Comment.id,
            Like.liker == bindparam("liker"),
        )
        .correlate(Comment)
        if with_viewer
        else false()
    )
    return (
        select(Comment, Account.display_name, Agent, Hide, likes, liked)
        .join(Account, Account.id == Comment.author_account_id)
        .outerjoin(Agent, Agent.id == Comment.author_agent_id)
        .outerjoin(Hide, and_(Hide.submission_id == Comment.submission_id, Hide.comment_id == Comment.id))
        .where(Comment.submission_id == bindparam("submission_id"), selected)
        .order_by(Comment.id)
    )


def _views(
    session: Session,
    viewer: Principal | None,
    submission: Submission,
    which: ViewSelection,
    params: dict[str, int],
) -> list[CommentView]:
    """The item's comments `which` selects, oldest first, with their authors' labels, like
    counts and what this viewer may read: one query whatever the number of comments."""
    values: dict[str, Any] = {"submission_id": submission.id, **params}
    if viewer is not None:
        values["liker"] = actor_key(viewer)
    rows = session.execute(_views_statement(which, viewer is not None), values).tuples()
    views = []
    for comment, name, agent, hide, like_count, liked_by_viewer in rows:
        may_read_hidden = authz.can_see_moderated(viewer, comment.author_account_id)
        readable = comment.deleted_at is None and (hide is None or may_read_hidden)
        views.append(
            CommentView(
                comment=comment,
                identifier=submission.identifier,
                author=AuthorLabel(
                    account_id=comment.author_account_id,
                    name=name,
                    agent_id=agent.id if agent else None,
                    agent_name=agent.name if agent else None,
                    agent_model=agent.model_identity if agent else None,
                ),
                likes=int(like_count or 0),
                liked=bool(liked_by_viewer),
                body=comment.body if readable else None,
                html=comment.body_html if readable else None,
                hidden=hide is not None,
                hidden_reason=hide.reason if hide is not None and may_read_hidden else None,
            )
        )
    return views


def identifiers_of(session: Session, submission_ids: Iterable[int]) -> dict[int, str]:
    ids = set(submission_ids)
    if not ids:
        return {}
    return dict(
        session.execute(select(Submission.id, Submission.identifier).where(Submission.id.in_(ids)))
        .tuples()
        .all()
    )
