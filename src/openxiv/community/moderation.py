"""Moderation beyond screening: reports, one queue, hide and restore, appeals, and the log.

Anyone with `submit` reports an item or a comment (a category and their words). Moderators work
from one queue that holds open reports (grouped per target), the versions screening held
(`submissions.moderation`, decided there as before) and open appeals, longest-waiting first. A
moderator hides or restores a target with a reason, which its author sees; the author may appeal
a hide once at a time, and a moderator grants (the target is restored) or denies the appeal.
Every act, the reports and appeals included, is a row of `moderation_actions` with its actor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openxiv.accounts import authz
from openxiv.accounts.authz import Principal
from openxiv.community import limits, service
from openxiv.community.settings import CommunitySettings
from openxiv.community.targets import comment_target, submission_target
from openxiv.errors import Conflict, InvalidInput, NotFound
from openxiv.events import service as events
from openxiv.events import types as event_types
from openxiv.models import Submission
from openxiv.models.base import utcnow
from openxiv.models.community import Appeal, Comment, Hide, ModerationAction, Report
from openxiv.submissions import moderation as screening
from openxiv.submissions import repository as submissions_repository
from openxiv.validation import clean_text

REPORT_CATEGORIES = (
    "spam",
    "harassment",
    "misinformation",
    "plagiarism",
    "prompt_injection",
    "off_topic",
    "illegal",
    "other",
)
ModerationAct = Literal["hide", "restore", "dismiss"]
QueueKind = Literal["reports", "held", "appeal"]
MAX_REASON = 5000


@dataclass(frozen=True)
class Target:
    """An item or one of its comments, resolved for the caller."""

    key: str
    submission: Submission
    comment: Comment | None

    @property
    def author_account_id(self) -> int:
        return self.comment.author_account_id if self.comment is not None else self.submission.owner_id


@dataclass
class QueueEntry:
    kind: QueueKind
    since: datetime
    submission: Submission
    target: str | None = None
    comment: Comment | None = None
    reports: list[Report] = field(default_factory=list)
    held: screening.HeldVersion | None = None
    appeal: Appeal | None = None
    appealed_action: ModerationAction | None = None
    hidden: bool = False


@dataclass(frozen=True)
class Notice:
    """Something of the caller's that moderators hid: what, why, and where the appeal stands."""

    hide: Hide
    action: ModerationAction
    submission: Submission
    comment: Comment | None
    appeal: Appeal | None


def resolve_target(
    session: Session,
    viewer: Principal | None,
    *,
    identifier: str | None = None,
    comment_id: int | None = None,
) -> Target:
    if (identifier is None) == (comment_id is None):
        raise InvalidInput("name exactly one target: an item (submission) or a comment (comment_id)")
    if comment_id is not None:
        view = service.get_comment(session, viewer, comment_id)
        submission = session.get(Submission, view.comment.submission_id)
        assert submission is not None  # a comment's item is never deleted
        return Target(comment_target(comment_id), submission, view.comment)
    assert identifier is not None
    found = service.find_item(session, identifier, viewer)
    return Target(submission_target(found.submission.id), found.submission, None)


def _log(
    session: Session,
    actor: Principal,
    action: str,
    target: Target,
    reason: str,
    *,
    report: Report | None = None,
    **detail: object,
) -> ModerationAction:
    entry = ModerationAction(
        action=action,
        target=target.key,
        submission_id=target.submission.id,
        comment_id=target.comment.id if target.comment is not None else None,
        report_id=report.id if report is not None else None,
        actor_account_id=actor.account_id,
        actor_agent_id=actor.agent_id,
        reason=reason,
        detail=dict(detail),
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def _announce(session: Session, event_type: str, target: Target, **payload: object) -> None:
    """An event for the stream and webhooks, without the reason: events reach everyone who may
    see the item, the reason only its author and moderators."""
    version = target.comment.version_number if target.comment is not None else None
    events.record(
        session,
        event_type,
        target.submission,
        version or target.submission.latest_version,
        target=target.key,
        comment_id=target.comment.id if target.comment is not None else None,
        **payload,
    )


def _reason(reason: str, field_name: str = "reason") -> str:
    return clean_text(reason, field_name, max_length=MAX_REASON, multiline=True)


# -------------------------------------------------------------------------------- reports


def report(
    session: Session,
    principal: Principal,
    target: Target,
    category: str,
    detail: str,
    limits_: CommunitySettings,
) -> tuple[Report, bool]:
    """File a report; a second report of the same target by the same account while the first is
    open returns the first (False: nothing new was filed)."""
    authz.authorize_engage(principal)
    if category not in REPORT_CATEGORIES:
        raise InvalidInput(
            f"category must be one of {', '.join(REPORT_CATEGORIES)}, not {category!r}", field="category"
        )
    text = clean_text(detail, "detail", max_length=MAX_REASON, multiline=True, required=category == "other")
    existing = session.scalars(
        select(Report).where(
            Report.target == target.key,
            Report.reporter_account_id == principal.account_id,
            Report.status == "open",
        )
    ).first()
    if existing is not None:
        return existing, False
    limits.check_report(session, principal.account_id, limits_)
    filed = Report(
        target=target.key,
        submission_id=target.submission.id,
        comment_id=target.comment.id if target.comment is not None else None,
        reporter_account_id=principal.account_id,
        reporter_agent_id=principal.agent_id,
        category=category,
        detail=text,
        status="open",
        created_at=utcnow(),
    )
    session.add(filed)
    session.flush()
    _log(session, principal, "report", target, text, report=filed, category=category)
    return filed, True


# ---------------------------------------------------------------------------------- queue


def queue(
    session: Session, principal: Principal, *, limit: int = 50, kinds: frozenset[QueueKind] | None = None
) -> list[QueueEntry]:
    """Everything waiting for a moderator, longest-waiting first: open reports grouped per target,
    versions held by screening, and open appeals."""
    authz.authorize_moderate(principal)
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200", field="limit")
    wanted = kinds or frozenset({"reports", "held", "appeal"})
    entries: list[QueueEntry] = []
    if "reports" in wanted:
        entries.extend(_report_entries(session, limit))
    if "held" in wanted:
        entries.extend(
            QueueEntry(kind="held", since=h.held_since, submission=h.submission, held=h)
            for h in screening.held_versions(session, principal, limit=limit)
        )
    if "appeal" in wanted:
        entries.extend(_appeal_entries(session, limit))
    entries.sort(key=lambda e: e.since)
    return entries[:limit]


def _report_entries(session: Session, limit: int) -> list[QueueEntry]:
    oldest = func.min(Report.created_at)
    targets = session.execute(
        select(Report.target, oldest)
        .where(Report.status == "open")
        .group_by(Report.target)
        .order_by(oldest)
        .limit(limit)
    ).all()
    if not targets:
        return []
    keys = [t for t, _ in targets]
    reports = session.scalars(
        select(Report).where(Report.target.in_(keys), Report.status == "open").order_by(Report.id)
    ).all()
    hidden = set(session.scalars(select(Hide.target).where(Hide.target.in_(keys))))
    by_target: dict[str, list[Report]] = {}
    for r in reports:
        by_target.setdefault(r.target, []).append(r)
    entries = []
    for key, since in targets:
        first = by_target[key][0]
        submission = session.get(Submission, first.submission_id)
        assert submission is not None
        comment = session.get(Comment, first.comment_id) if first.comment_id is not None else None
        entries.append(
            QueueEntry(
                kind="reports",
                since=since,
                submission=submission,
                target=key,
                comment=comment,
                reports=by_target[key],
                hidden=key in hidden,
            )
        )
    return entries


def _appeal_entries(session: Session, limit: int) -> list[QueueEntry]:
    appeals = session.scalars(
        select(Appeal).where(Appeal.status == "open").order_by(Appeal.id).limit(limit)
    ).all()
    entries = []
    for appeal in appeals:
        action = session.get(ModerationAction, appeal.action_id)
        submission = session.get(Submission, appeal.submission_id)
        assert action is not None and submission is not None
        comment = session.get(Comment, action.comment_id) if action.comment_id is not None else None
        entries.append(
            QueueEntry(
                kind="appeal",
                since=appeal.created_at,
                submission=submission,
                target=appeal.target,
                comment=comment,
                appeal=appeal,
                appealed_action=action,
                hidden=True,
            )
        )
    return entries


# ---------------------------------------------------------------------------------- acts


def act(
    session: Session, principal: Principal, target: Target, action: ModerationAct, reason: str
) -> ModerationAction:
    """Hide or restore a target, or dismiss its open reports; always with a reason, always logged."""
    authz.authorize_moderate(principal)
    text = _reason(reason)
    hide = session.scalars(select(Hide).where(Hide.target == target.key)).first()
    if action == "hide":
        if hide is not None:
            raise Conflict(f"{target.key} is already hidden (action {hide.action_id})")
        entry = _log(session, principal, "hide", target, text)
        session.add(
            Hide(
                target=target.key,
                submission_id=target.submission.id,
                comment_id=target.comment.id if target.comment is not None else None,
                action_id=entry.id,
                reason=text,
                created_at=entry.created_at,
            )
        )
        _close_reports(session, principal, target, "actioned", text)
        _count_comment(session, target, -1)
        _announce(session, event_types.MODERATION_HIDDEN, target, action_id=entry.id)
        return entry
    if action == "restore":
        if hide is None:
            raise Conflict(f"{target.key} is not hidden")
        return _restore(session, principal, target, hide, text)
    if action == "dismiss":
        if not _close_reports(session, principal, target, "dismissed", text):
            raise Conflict(f"{target.key} has no open reports to dismiss")
        return _log(session, principal, "dismiss", target, text)
    raise InvalidInput(f"action must be hide, restore or dismiss, not {action!r}", field="action")


def _restore(
    session: Session,
    principal: Principal,
    target: Target,
    hide: Hide,
    reason: str,
    appeal: Appeal | None = None,
) -> ModerationAction:
    entry = _log(
        session,
        principal,
        "restore",
        target,
        reason,
        hide_action_id=hide.action_id,
        appeal_id=appeal.id if appeal else None,
    )
    session.delete(hide)
    _count_comment(session, target, +1)
    _announce(
        session,
        event_types.MODERATION_RESTORED,
        target,
        action_id=entry.id,
        hide_action_id=hide.action_id,
        appeal_id=appeal.id if appeal else None,
    )
    if appeal is None:  # restored directly: an open appeal against the hide has got what it asked
        pending = session.scalars(
            select(Appeal).where(Appeal.action_id == hide.action_id, Appeal.status == "open")
        ).first()
        if pending is not None:
            _settle(pending, principal, "granted", reason)
    session.flush()
    return entry


def _count_comment(session: Session, target: Target, step: int) -> None:
    """A hidden comment leaves the item's comment count, a restored one comes back (a deleted one
    is off the count either way)."""
    if target.comment is not None and target.comment.deleted_at is None:
        service.adjust_counts(session, target.submission.id, comments=step)


def _close_reports(
    session: Session, principal: Principal, target: Target, status: str, resolution: str
) -> int:
    pending = session.scalars(
        select(Report).where(Report.target == target.key, Report.status == "open")
    ).all()
    now = utcnow()
    for r in pending:
        r.status = status
        r.resolved_at = now
        r.resolved_by_account_id = principal.account_id
        r.resolution = resolution
    return len(pending)


# -------------------------------------------------------------------------------- appeals


def _target_of(session: Session, action: ModerationAction) -> Target:
    submission = session.get(Submission, action.submission_id)
    comment = session.get(Comment, action.comment_id) if action.comment_id is not None else None
    assert submission is not None
    return Target(action.target, submission, comment)


def appeal(session: Session, principal: Principal, action_id: int, statement: str) -> Appeal:
    """The author appeals a hide that is still in force; one open appeal per hide."""
    action = session.get(ModerationAction, action_id)
    if action is None:
        raise NotFound(f"no moderation action {action_id}")
    target = _target_of(session, action)
    authz.authorize_appeal(principal, target.author_account_id)
    text = _reason(statement, "statement")
    active = session.scalars(select(Hide).where(Hide.action_id == action.id)).first()
    if action.action != "hide" or active is None:
        raise Conflict(f"moderation action {action_id} is not a hide in force; only those can be appealed")
    if session.scalars(
        select(Appeal.id).where(Appeal.action_id == action.id, Appeal.status == "open")
    ).first():
        raise Conflict(f"moderation action {action_id} already has an open appeal")
    filed = Appeal(
        action_id=action.id,
        target=action.target,
        submission_id=action.submission_id,
        appellant_account_id=principal.account_id,
        appellant_agent_id=principal.agent_id,
        statement=text,
        status="open",
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(filed)
    except IntegrityError:
        raise Conflict(f"moderation action {action_id} already has an open appeal") from None
    _log(session, principal, "appeal", target, text, appeal_id=filed.id, hide_action_id=action.id)
    return filed


def decide_appeal(
    session: Session, principal: Principal, appeal_id: int, decision: Literal["grant", "deny"], reason: str
) -> Appeal:
    authz.authorize_moderate(principal)
    text = _reason(reason)
    found = session.get(Appeal, appeal_id, with_for_update=True)
    if found is None:
        raise NotFound(f"no appeal {appeal_id}")
    if found.status != "open":
        raise Conflict(f"appeal {appeal_id} is already {found.status}")
    action = session.get(ModerationAction, found.action_id)
    assert action is not None
    target = _target_of(session, action)
    if decision == "grant":
        hide = session.scalars(select(Hide).where(Hide.action_id == action.id)).first()
        _settle(found, principal, "granted", text)
        if hide is not None:
            _restore(session, principal, target, hide, text, appeal=found)
        _log(session, principal, "appeal_granted", target, text, appeal_id=found.id)
    elif decision == "deny":
        _settle(found, principal, "denied", text)
        _log(session, principal, "appeal_denied", target, text, appeal_id=found.id)
    else:
        raise InvalidInput(f"decision must be grant or deny, not {decision!r}", field="decision")
    _announce(
        session,
        event_types.APPEAL_DECIDED,
        target,
        appeal_id=found.id,
        decision=found.status,
        hide_action_id=action.id,
    )
    return found


def _settle(found: Appeal, principal: Principal, status: str, resolution: str) -> None:
    found.status = status
    found.resolved_at = utcnow()
    found.resolved_by_account_id = principal.account_id
    found.resolution = resolution


# ------------------------------------------------------------------------- what one sees


def notices(session: Session, principal: Principal) -> list[Notice]:
    """The caller's content that moderators hid, with the reason and the appeal, newest first:
    comments the account (or its agents) wrote, and items it owns."""
    authz.authorize_read_account(principal)
    hides = session.scalars(
        select(Hide)
        .outerjoin(Comment, Comment.id == Hide.comment_id)
        .join(Submission, Submission.id == Hide.submission_id)
        .where(
            or_(
                Comment.author_account_id == principal.account_id,
                (Hide.comment_id.is_(None)) & (Submission.owner_id == principal.account_id),
            )
        )
        .order_by(Hide.id.desc())
    ).all()
    found = []
    for hide in hides:
        action = session.get(ModerationAction, hide.action_id)
        submission = session.get(Submission, hide.submission_id)
        assert action is not None and submission is not None
        latest_appeal = session.scalars(
            select(Appeal).where(Appeal.action_id == action.id).order_by(Appeal.id.desc())
        ).first()
        comment = session.get(Comment, hide.comment_id) if hide.comment_id is not None else None
        found.append(
            Notice(hide=hide, action=action, submission=submission, comment=comment, appeal=latest_appeal)
        )
    return found


def actions(
    session: Session,
    principal: Principal,
    *,
    target: Target | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ModerationAction], str | None]:
    """The log, newest first (moderators)."""
    authz.authorize_moderate(principal)
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200", field="limit")
    query = select(ModerationAction).order_by(ModerationAction.id.desc()).limit(limit + 1)
    if target is not None:
        query = query.where(ModerationAction.target == target.key)
    if cursor:
        query = query.where(ModerationAction.id < submissions_repository.decode_cursor(cursor))
    rows = list(session.scalars(query))
    next_cursor = submissions_repository.encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor
