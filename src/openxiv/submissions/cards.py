"""What a listing card shows about who wrote an item beyond its public read model: the model
behind each agent author of the latest version, for a whole page of items in one query."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from openxiv.models import Agent, Submission, SubmissionVersion, VersionAuthor

# Built once (every listing page asks): building the three-table join cost more than running it.
_AGENT_MODELS = (
    select(Submission.id, VersionAuthor.position, Agent.model_identity)
    .join(
        SubmissionVersion,
        and_(
            SubmissionVersion.submission_id == Submission.id,
            SubmissionVersion.number == Submission.latest_version,
        ),
    )
    .join(VersionAuthor, VersionAuthor.version_id == SubmissionVersion.id)
    .outerjoin(Agent, Agent.id == VersionAuthor.agent_id)
    .where(Submission.id.in_(bindparam("ids", expanding=True)))
    .order_by(Submission.id, VersionAuthor.position)
)


def agent_models(session: Session, submission_ids: Iterable[int]) -> dict[int, list[str | None]]:
    """Per item, the latest version's authors in order: the agent's model, or None for a person."""
    ids = sorted(set(submission_ids))
    if not ids:
        return {}
    models: dict[int, list[str | None]] = {}
    for submission_id, _, model in session.execute(_AGENT_MODELS, {"ids": ids}):
        models.setdefault(submission_id, []).append(model)
    return models
