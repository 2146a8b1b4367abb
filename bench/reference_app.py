"""REFERENCE APP for the read-path benchmark (issue 16) -- not part of OpenXiv, never deployed.

It reproduces the *shape* of the request path of the published aiXiv backend, as issue 16
describes it, over OpenXiv's own tables, so that `bench/read_path.py` can measure both on the same
data in one run. Written from that description only (the original code carries no licence):

- FastAPI, with `async def` endpoints that call a *synchronous* SQLAlchemy session directly, so
  every query blocks the event loop (this is why that shape stalls under concurrency);
- the session comes from a synchronous `Depends` generator (FastAPI runs it in its thread pool);
- queries in the legacy ORM style: `session.query(Model).filter(Model.id == x).first()`, offset
  paging (`skip`/`limit`), relationships loaded lazily while the response is built;
- a pydantic v2 `response_model` validated from the ORM objects (`from_attributes=True`);
- uvicorn with its default access log.

Endpoints (paths mirror OpenXiv's so that the same load scripts drive both):

    GET /api/v1/submissions/{identifier}          one item with its versions and their authors
    GET /api/v1/submissions?skip=0&limit=20       newest first, offset paging
    GET /api/v1/home                              the homepage's data: latest 20 listed items
                                                  with their like, comment and review counts

    python bench/reference_app.py --database-url sqlite:////tmp/x.db --port 8001 [--workers 2]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict
from sqlalchemy import create_engine, func
from sqlalchemy.orm import Session, sessionmaker

from openxiv.models import Submission
from openxiv.models.community import Engagement
from openxiv.models.discovery import DiscoveryEntry
from openxiv.models.review import Review

DATABASE_URL_VARIABLE = "READ_PATH_REFERENCE_DATABASE_URL"
HELD = "held"
# What OpenXiv's homepage lists (past screening, not held, rejected or withdrawn).
LISTED = ("under_review", "revision_requested", "provisionally_accepted", "accepted")


class AuthorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    kind: str
    name: str
    orcid: str | None
    affiliation: str | None


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    title: str
    abstract: str
    meta: dict[str, Any]
    proposal: dict[str, Any] | None
    source_format: str | None
    response_letter: str | None
    created_at: datetime
    authors: list[AuthorRead]


class SubmissionSummaryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    identifier: str
    kind: str
    status: str
    title: str
    latest_version: int
    created_at: datetime
    updated_at: datetime


class SubmissionRead(SubmissionSummaryRead):
    owner_id: int
    versions: list[VersionRead]


class HomeItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    identifier: str
    kind: str
    status: str
    title: str
    authors: list[dict[str, Any]]
    categories: list[str]
    listed_at: datetime | None
    likes: int = 0
    comments: int = 0
    reviews: int = 0


def create_app(database_url: str | None = None) -> FastAPI:
    url = database_url or os.environ[DATABASE_URL_VARIABLE]
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=connect_args)
    session_local = sessionmaker(autocommit=False, autoflush=False, bind=engine)
    app = FastAPI(title="read-path reference (aiXiv backend shape)")

    def get_db() -> Iterator[Session]:
        db = session_local()
        try:
            yield db
        finally:
            db.close()

    @app.get("/api/v1/submissions/{identifier}", response_model=SubmissionRead)
    async def get_submission(identifier: str, db: Session = Depends(get_db)) -> Any:
        submission = db.query(Submission).filter(Submission.identifier == identifier).first()
        if submission is None or submission.status == HELD:
            raise HTTPException(status_code=404, detail="Submission not found")
        return submission

    @app.get("/api/v1/submissions", response_model=list[SubmissionSummaryRead])
    async def list_submissions(skip: int = 0, limit: int = 20, db: Session = Depends(get_db)) -> Any:
        return (
            db.query(Submission)
            .filter(Submission.status != HELD)
            .order_by(Submission.created_at.desc())
            .offset(skip)
            .limit(limit)
            .all()
        )

    @app.get("/api/v1/home", response_model=list[HomeItem])
    async def home(db: Session = Depends(get_db)) -> Any:
        entries = (
            db.query(DiscoveryEntry)
            .filter(DiscoveryEntry.status.in_(LISTED), DiscoveryEntry.listed_at.isnot(None))
            .order_by(DiscoveryEntry.listed_at.desc())
            .limit(20)
            .all()
        )
        ids = [e.submission_id for e in entries]
        engagement = {
            e.submission_id: e for e in db.query(Engagement).filter(Engagement.submission_id.in_(ids))
        }
        reviews = dict(
            db.query(Review.submission_id, func.count(Review.id))
            .filter(Review.submission_id.in_(ids), Review.status == "completed")
            .group_by(Review.submission_id)
            .all()
        )
        items = []
        for entry in entries:
            item = HomeItem.model_validate(entry)
            counts = engagement.get(entry.submission_id)
            if counts is not None:
                item.likes = counts.human_likes + counts.agent_likes
                item.comments = counts.comments
            item.reviews = reviews.get(entry.submission_id, 0)
            items.append(item)
        return items

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    os.environ[DATABASE_URL_VARIABLE] = args.database_url
    # An import string, so that `--workers 2` can start each worker process the same way.
    uvicorn.run(
        "reference_app:create_app",
        factory=True,
        app_dir=str(Path(__file__).resolve().parent),
        host=args.host,
        port=args.port,
        workers=args.workers,
    )


if __name__ == "__main__":
    main()
