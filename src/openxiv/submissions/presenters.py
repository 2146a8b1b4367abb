"""Model rows -> response schemas, shared by REST, MCP and pages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from openxiv.accounts import authz
from openxiv.accounts.authz import Principal
from openxiv.models import Blob, StageRun, Submission, Transition
from openxiv.submissions import repository
from openxiv.submissions.moderation import HeldVersion
from openxiv.submissions.records import BlobView, SubmissionView, VersionView
from openxiv.submissions.schemas import (
    Actor,
    AuthorOut,
    FileOut,
    HeldVersionOut,
    ProposalBody,
    ScreeningFindingOut,
    ScreeningOut,
    StageRunOut,
    SubmissionOut,
    SubmissionSummary,
    TransitionOut,
    UploadOut,
    VersionOut,
)
from openxiv.submissions.stages import screening_action, screening_integrity
from openxiv.submissions.version_meta import VersionMeta


def file_out(blob: BlobView | None, url: str) -> FileOut | None:
    if blob is None:
        return None
    return FileOut(
        sha256=blob.sha256, size=blob.size, media_type=blob.media_type, filename=blob.filename, url=url
    )


def upload_out(blob: Blob) -> UploadOut:
    return UploadOut(sha256=blob.sha256, size=blob.size, media_type=blob.media_type, filename=blob.filename)


def screening_out(run: StageRun | None) -> ScreeningOut | None:
    """The author's view of a finished screening run; None while it has not finished."""
    action = screening_action(run)
    if run is None or action is None:
        return None
    return ScreeningOut(
        action=action,
        summary=str((run.detail or {}).get("reason", "")),
        findings=[ScreeningFindingOut(**f) for f in screening_integrity(run).get("findings", [])],
    )


def versions_out(
    session: Session,
    submission: SubmissionView,
    versions: Sequence[VersionView],
    viewer: Principal | None = None,
) -> list[VersionOut]:
    """Any number of versions of one submission with no query but, for those who may see them,
    the screening runs (the versions come with their authors and files loaded).

    `viewer` decides whether screening's findings are shown: to the same people who may see a
    held version (its owner and moderators), since they describe what the scan suspects."""
    screenings = (
        repository.stage_runs_named(session, submission.id, "screening")
        if authz.can_view_hidden(viewer, submission.owner_id)
        else None
    )
    return [
        _version_out(
            submission,
            version,
            screening_out(screenings.get(version.number)) if screenings is not None else None,
        )
        for version in versions
    ]


def version_out(
    session: Session, submission: SubmissionView, version: VersionView, viewer: Principal | None = None
) -> VersionOut:
    return versions_out(session, submission, [version], viewer)[0]


def _version_out(
    submission: SubmissionView,
    version: VersionView,
    screening: ScreeningOut | None,
) -> VersionOut:
    meta = VersionMeta.from_column(version.meta)
    vid = f"{submission.identifier}v{version.number}"
    base = f"/api/v1/submissions/{vid}"
    return VersionOut(
        version=version.number,
        identifier=vid,
        title=version.title,
        abstract=version.abstract,
        authors=[
            AuthorOut(
                position=a.position,
                kind=a.kind,
                name=a.name,
                account_id=a.account_id,
                agent_id=a.agent_id,
                orcid=a.orcid,
                affiliation=a.affiliation,
                link_status=a.link_status,  # type: ignore[arg-type]
            )
            for a in version.authors
        ],
        corresponding_author=meta.corresponding_author,
        keywords=list(meta.keywords),
        categories=list(meta.categories),
        licence=meta.licence,
        ai_involvement=meta.ai_involvement,
        ip_attribution=meta.ip_attribution,
        links=dict(meta.links),
        proposal=ProposalBody(**version.proposal) if version.proposal else None,
        source_format=version.source_format,
        source=file_out(version.source_blob, f"{base}/source"),
        pdf=file_out(version.pdf_blob, f"{base}/pdf"),
        response_letter=version.response_letter,
        text_characters=version.text_characters,
        submitted_by=Actor(account_id=version.created_by_account_id, agent_id=version.created_by_agent_id),
        created_at=version.created_at,
        screening=screening,
    )


def submission_out(
    session: Session, submission: SubmissionView, version: VersionView, viewer: Principal | None = None
) -> SubmissionOut:
    return SubmissionOut(
        id=submission.identifier,
        kind=submission.kind,
        status=submission.status,
        title=submission.title,
        latest_version=submission.latest_version,
        owner_id=submission.owner_id,
        created_at=submission.created_at,
        updated_at=submission.updated_at,
        version=version_out(session, submission, version, viewer),
    )


def summary_out(submission: Submission) -> SubmissionSummary:
    return SubmissionSummary(
        id=submission.identifier,
        kind=submission.kind,
        status=submission.status,
        title=submission.title,
        latest_version=submission.latest_version,
        created_at=submission.created_at,
        updated_at=submission.updated_at,
    )


def held_out(item: HeldVersion) -> HeldVersionOut:
    return HeldVersionOut(
        submission=summary_out(item.submission),
        version=item.version_number,
        held_since=item.held_since,
        reason=item.reason,
        screening=item.screening,
    )


def transition_out(entry: Transition) -> TransitionOut:
    return TransitionOut(
        version=entry.version_number,
        from_status=entry.from_status,
        to_status=entry.to_status,
        actor=Actor(
            account_id=entry.actor_account_id, agent_id=entry.actor_agent_id, system=entry.actor_system
        ),
        reason=entry.reason,
        at=entry.created_at,
    )


def stage_run_out(run: StageRun) -> StageRunOut:
    return StageRunOut(
        version=run.version_number,
        stage=run.stage,
        state=run.state,
        attempts=run.attempts,
        detail=run.detail,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )
