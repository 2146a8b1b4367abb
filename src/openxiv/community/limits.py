"""Caps against spam, counted in the database so that every server process sees the same count.

A cap is "at most N things in the last hour": the count is taken inside the writer's transaction
after taking the account's row lock (PostgreSQL) or the single write lock (SQLite, whose write
transactions begin IMMEDIATE), so two processes cannot both see N-1 and both write. A refusal
says when the oldest counted thing leaves the window: that is the Retry-After.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from openxiv.community.settings import CommunitySettings
from openxiv.errors import RateLimited
from openxiv.models import Account
from openxiv.models.base import utcnow
from openxiv.models.community import Comment, Like, Report

WINDOW = timedelta(hours=1)


def lock_account(session: Session, account_id: int) -> Account:
    """Serialise one account's writes that count against a cap (a no-op lock on SQLite, where the
    write transaction already excludes every other writer)."""
    account = session.scalars(select(Account).where(Account.id == account_id).with_for_update()).one()
    return account


def _enforce(
    session: Session,
    created_at: InstrumentedAttribute[datetime],
    conditions: list[ColumnElement[bool]],
    cap: int,
    what: str,
    now: datetime,
) -> None:
    since = now - WINDOW
    where = [*conditions, created_at >= since]
    count = session.scalar(select(func.count()).select_from(created_at.class_).where(*where)) or 0
    if count < cap:
        return
    # The cap-th newest entry is the one that has to age out before another fits.
    blocking = session.scalar(
        select(created_at).where(*where).order_by(created_at.desc()).offset(cap - 1).limit(1)
    )
    frees_at = (blocking or now) + WINDOW
    retry_after = max(1, math.ceil((frees_at - now).total_seconds()))
    raise RateLimited(
        f"{what}: at most {cap} per hour; try again in {retry_after} s", retry_after=retry_after, cap=cap
    )


def check_comment(
    session: Session,
    account_id: int,
    submission_id: int,
    limits: CommunitySettings,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    account = lock_account(session, account_id)
    new = (now - account.created_at).total_seconds() < limits.new_account_age_s
    by_account = [Comment.author_account_id == account_id]
    if new:
        _enforce(
            session,
            Comment.created_at,
            by_account,
            limits.new_account_comments_per_hour,
            "comments from a new account",
            now,
        )
    _enforce(session, Comment.created_at, by_account, limits.comments_per_hour, "comments per account", now)
    _enforce(
        session,
        Comment.created_at,
        [*by_account, Comment.submission_id == submission_id],
        limits.comments_per_item_per_hour,
        "comments per account on one item",
        now,
    )


def check_report(session: Session, account_id: int, limits: CommunitySettings) -> None:
    lock_account(session, account_id)
    conditions = [Report.reporter_account_id == account_id]
    _enforce(session, Report.created_at, conditions, limits.reports_per_hour, "reports per account", utcnow())


def check_like(session: Session, account_id: int, limits: CommunitySettings) -> None:
    lock_account(session, account_id)
    conditions: list[Any] = [Like.account_id == account_id]
    _enforce(session, Like.created_at, conditions, limits.likes_per_hour, "likes per account", utcnow())
