"""Browser pages of submissions: an item's page (versions, diff, reviews, trajectory, integrity,
likes and comments), the submission wizard and the revision form, the author's dashboard and the
moderation queue. The same services as the REST API.

The dashboard lives here rather than with accounts: it shows an account together with its
submissions and pending authorships, and submissions depend on accounts, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from openxiv.accounts import authz
from openxiv.accounts import service as accounts
from openxiv.accounts.authz import Principal
from openxiv.accounts.deps import OptionalPrincipal
from openxiv.client.models import VersionReviews
from openxiv.community import markup
from openxiv.community import moderation as community_moderation
from openxiv.community import service as community
from openxiv.config import Settings, UploadSettings
from openxiv.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from openxiv.events import webhooks
from openxiv.http.caching import declare_public
from openxiv.http.deps import Database, DatabaseDep, ReadSession
from openxiv.http.forms import FormPostDep, see_other
from openxiv.http.rendering import check_csrf, field_errors, render, render_error
from openxiv.integrity.service import get_report
from openxiv.models import Agent
from openxiv.publishing.presenters import page_citation
from openxiv.publishing.service import Site
from openxiv.review import service as review_service
from openxiv.review.cards import NO_REVIEW, review_summaries
from openxiv.review.chart import trajectory_chart
from openxiv.review.external import service as external_reviews
from openxiv.review.related import related_literature
from openxiv.scientist.points import extract_points
from openxiv.storage.port import BlobStore
from openxiv.submissions import moderation, presenters, repository, service
from openxiv.submissions.deps import BlobsDep, QueueDep, UploadSettingsDep
from openxiv.submissions.ports import PipelineQueue
from openxiv.submissions.schemas import (
    MAX_SOURCE_CHARS,
    HeldVersionOut,
    InlineSource,
    SubmissionCreate,
    VersionCreate,
)
from openxiv.submissions.textdiff import line_diff

router = APIRouter(include_in_schema=False)

LICENCES = ("CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "CC-BY-NC-4.0")
AUTHOR_ROWS = 5
# A form field may carry the longest source the API accepts, at up to 4 bytes a character in
# UTF-8 (Starlette's default stops a field at 1 MiB, far below the API's limit).
FORM_FIELD_BYTES = 4 * MAX_SOURCE_CHARS
# Discussion threads (each with all its replies) per page of an item; further pages follow a link.
THREADS_PER_PAGE = 30
PROPOSAL_FIELDS = (
    ("problem_statement", "Problem statement"),
    ("motivation", "Motivation"),
    ("proposed_method", "Proposed method"),
    ("experiment_plan", "Experiment plan"),
    ("expected_results_and_risks", "Expected results and risks"),
    ("timeline_and_resources", "Timeline and resources (optional)"),
)


def _agent_models(session: Session, ids: set[int]) -> dict[int, str]:
    return {i: agent.model_identity for i in ids if (agent := session.get(Agent, i)) is not None}


@router.get("/abs/{identifier}", response_class=HTMLResponse)
def abstract_page(
    request: Request,
    identifier: str,
    principal: OptionalPrincipal,
    session: ReadSession,
    comments: str | None = None,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    try:
        # The item as community sees it (hidden by moderators: NotFound), read once for the page.
        found = community.find_item(session, identifier, principal)
        submission = found.submission
        item = presenters.submission_out(session, submission, found.version, principal)
        versions = presenters.versions_out(session, submission, repository.versions(session, submission.id))
        log = [presenters.transition_out(t) for t in repository.transitions(session, submission.id)]
        runs = [presenters.stage_run_out(r) for r in repository.stage_runs(session, submission.id)]
        reviews = review_service.version_reviews(session, found.version.id)
        external = external_reviews.list_reviews(session, found)
        external_votes = external_reviews.list_votes(session, found, settings.review)
        trajectory = review_service.quality_trajectory(session, submission.id)
        citation = page_citation(session, found, Site.from_settings(settings))
        likes = community.item_like_state(session, principal, submission)
        threads, more_threads = community.item_threads(
            session, principal, submission, cursor=comments, limit=THREADS_PER_PAGE
        )
    except DomainError as error:
        return render_error(request, error)
    external_ids = {r.id for r in external}
    page = render(
        request,
        "abs.html",
        headers={"Link": citation.link_header},
        item=item,
        versions=versions,
        transitions=log,
        reviews=reviews,
        internal_reviews=[r for r in reviews.reviews if r.id not in external_ids],
        external_reviews=external,
        external_votes=external_votes,
        stage_runs=runs,
        viewing_latest=found.is_latest,
        citation=citation,
        trajectory=trajectory,
        chart=trajectory_chart(trajectory),
        related=related_literature(reviews.reviews),
        integrity=get_report(session, found.version.id),
        agent_models=_agent_models(session, {a.agent_id for a in item.version.authors if a.agent_id}),
        likes=likes,
        threads=threads,
        more_threads=more_threads,
        comments_cursor=comments,
        is_owner=principal is not None and principal.account_id == submission.owner_id,
    )
    if principal is None and service.is_settled_in_public(submission):
        declare_public(request, page.headers, group=str(submission.id))
    return page


@router.get("/abs/{identifier}/diff", response_class=HTMLResponse)
def diff_page(
    request: Request,
    identifier: str,
    principal: OptionalPrincipal,
    session: ReadSession,
    a: int | None = None,
    b: int | None = None,
) -> HTMLResponse:
    """Line diff of the extracted text of two versions (default: the last two)."""
    try:
        submission = service.get_submission(session, identifier.split("v")[0], principal)
        newer = b or submission.latest_version
        older = a or max(newer - 1, 1)
        first = service.find_version(session, f"{submission.identifier}v{older}", principal)
        second = service.find_version(session, f"{submission.identifier}v{newer}", principal)
    except DomainError as error:
        return render_error(request, error)
    return render(
        request,
        "diff.html",
        submission=submission,
        first=first.version,
        second=second.version,
        diff=line_diff(first.version.extracted_text or "", second.version.extracted_text or ""),
        numbers=list(range(1, submission.latest_version + 1)),
    )


@router.get("/abs", include_in_schema=False)
def abs_without_id() -> Response:
    raise NotFound("give an identifier, e.g. /abs/2611.00001")


# ----------------------------------------------------------------------------- the wizard


def _form_value(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _authors_from(form: Any, principal: Principal) -> list[dict[str, Any]]:
    """Rows of the authors fieldset: who (me / another person / one of my agents) and a name."""
    authors: list[dict[str, Any]] = []
    for row in range(AUTHOR_ROWS):
        who = _form_value(form, f"author_{row}_who")
        name = _form_value(form, f"author_{row}_name")
        orcid = _form_value(form, f"author_{row}_orcid") or None
        affiliation = _form_value(form, f"author_{row}_affiliation") or None
        if who == "me":
            authors.append(
                {
                    "kind": "human",
                    "account_id": principal.account_id,
                    "orcid": orcid,
                    "affiliation": affiliation,
                }
            )
        elif who.startswith("agent:") and who[6:].isdigit():
            authors.append({"kind": "agent", "agent_id": int(who[6:]), "affiliation": affiliation})
        elif name:
            authors.append({"kind": "human", "name": name, "orcid": orcid, "affiliation": affiliation})
    return authors


def _payload(form: Any, principal: Principal) -> dict[str, Any]:
    """The form as the API's request body, so the same schema checks it."""

    def words(name: str) -> list[str]:
        return [w.strip() for w in _form_value(form, name).split(",") if w.strip()]

    payload: dict[str, Any] = {
        "title": _form_value(form, "title"),
        "abstract": _form_value(form, "abstract"),
        "authors": _authors_from(form, principal),
        "keywords": words("keywords"),
        "categories": words("categories"),
        "licence": _form_value(form, "licence") or "CC-BY-4.0",
        "ai_involvement": _form_value(form, "ai_involvement"),
        "ip_attribution": {
            "model_developer": _form_value(form, "model_developer"),
            "initiating_human": _form_value(form, "initiating_human"),
        },
    }
    links = {k: _form_value(form, f"link_{k}") for k in ("code", "data")}
    if any(links.values()):
        payload["links"] = {k: v for k, v in links.items() if v}
    if _form_value(form, "kind") == "proposal" and any(_form_value(form, f) for f, _ in PROPOSAL_FIELDS):
        payload["proposal"] = {f: _form_value(form, f) for f, _ in PROPOSAL_FIELDS}
    source = form.get("source_text")
    if isinstance(source, str) and source.strip():
        payload["source"] = {"format": "markdown", "text": source}
    if _form_value(form, "pdf_sha256"):
        payload["pdf_sha256"] = _form_value(form, "pdf_sha256")
    return payload


def _store_pdf(database: Database, blobs: Any, uploads: Any, principal: Principal, upload: Any) -> str | None:
    """An attached PDF is verified and stored at once (as POST /uploads does), so a preview or a
    refused submission need not send it again: the form keeps its sha256."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = upload.file.read(uploads.max_bytes + 1)
    if not data:
        return None
    if len(data) > uploads.max_bytes:
        raise InvalidInput(
            f"{upload.filename} is larger than the limit of {uploads.max_bytes} bytes", field="pdf"
        )
    if not upload.filename.lower().endswith(".pdf"):
        raise InvalidInput("attach a PDF, or write the text as Markdown", field="pdf")
    verified = service.verify_upload(principal, uploads, data=data, filename=upload.filename)
    with database.writing() as session:
        return service.store_verified(session, blobs, verified, principal).sha256


def _wizard_context(session: Session, principal: Principal, form: dict[str, str]) -> dict[str, Any]:
    return {
        "form": form,
        "agents": accounts.list_agents(session, principal.account_id),
        "licences": LICENCES,
        "author_rows": AUTHOR_ROWS,
        "proposal_fields": PROPOSAL_FIELDS,
    }


def _plain(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}


@router.get("/submit", response_model=None)
def submit_form(request: Request, principal: OptionalPrincipal, session: ReadSession) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        authz.authorize_submit(principal)
    except DomainError as error:
        return render_error(request, error)
    account = accounts.get_account(session, principal.account_id)
    start = {
        "kind": "paper",
        "author_0_who": "me",
        "initiating_human": account.display_name,
        "licence": "CC-BY-4.0",
    }
    return render(request, "submit.html", **_wizard_context(session, principal, start))


def _submit_or_preview(
    request: Request,
    principal: Principal,
    database: Database,
    form: Any,
    build: Callable[[dict[str, Any]], Any],
    template: str,
    extra: dict[str, Any],
    commit: Callable[[Session, Any], Response],
) -> Response:
    """Check the form with the API's schema; show it again with the preview or the problems, or
    commit it. Runs in a worker thread (the caller awaits the form only): a PDF is parsed and the
    database written here."""
    values = _plain(form)
    errors: dict[str, str] = {}
    status_code = 200
    try:
        sha = _store_pdf(
            database, request.app.state.blobs, request.app.state.settings.uploads, principal, form.get("pdf")
        )
        if sha:
            values["pdf_sha256"] = sha
        body = build(_payload(values, principal) | _extra_fields(values))
        if _form_value(form, "action") != "preview":
            with database.writing() as session:
                return commit(session, body)
    except ValidationError as problem:
        errors, status_code = field_errors(problem), 422
    except DomainError as failure:
        errors, status_code = {str(failure.extra.get("field") or "form"): failure.detail}, failure.status
    source = values.get("source_text", "")
    with database.reading() as session:
        context = _wizard_context(session, principal, values)
    return render(
        request,
        template,
        status_code=status_code,
        errors=errors,
        preview=markup.render(source) if source.strip() and not errors else None,
        previewing=not errors,
        **context,
        **extra,
    )


def _extra_fields(values: dict[str, str]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if "kind" in values:
        extra["kind"] = values["kind"]
    if "response_letter" in values:
        extra["response_letter"] = values["response_letter"]
    if values.get("base_version", "").isdigit():
        extra["base_version"] = int(values["base_version"])
    return extra


@router.post("/submit", response_model=None)
async def submit(
    request: Request,
    principal: OptionalPrincipal,
    database: DatabaseDep,
    queue: QueueDep,
    uploads: UploadSettingsDep,
    blobs: BlobsDep,
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    form = await request.form(max_part_size=FORM_FIELD_BYTES)
    try:
        check_csrf(request, _form_value(form, "csrf"))
        authz.authorize_submit(principal)
    except DomainError as error:
        return render_error(request, error)

    def commit(session: Session, body: SubmissionCreate) -> Response:
        submission = service.create_submission(session, blobs, uploads, queue, principal, body)
        return RedirectResponse(f"/abs/{submission.identifier}", status_code=303)

    return await run_in_threadpool(
        _submit_or_preview,
        request,
        principal,
        database,
        form,
        SubmissionCreate.model_validate,
        "submit.html",
        {},
        commit,
    )


@router.post("/submit/preview", response_class=HTMLResponse)
async def live_preview(request: Request, principal: OptionalPrincipal) -> HTMLResponse:
    """The wizard's live preview (fetched by /static/preview.js as the author types): the
    Markdown rendered as the preview step renders it, as an HTML fragment. The same sign-in,
    CSRF token and size limit as the form; without JavaScript the Preview button does this."""
    form = await request.form(max_part_size=FORM_FIELD_BYTES)
    try:
        if principal is None:
            raise Unauthenticated("sign in to preview a submission")
        check_csrf(request, _form_value(form, "csrf"))
        source = InlineSource.model_validate({"format": "markdown", "text": form.get("source_text") or ""})
    except ValidationError as problem:
        return _fragment_error(next(iter(field_errors(problem).values())), 422)
    except DomainError as error:
        return _fragment_error(error.detail, error.status)
    html = await run_in_threadpool(markup.render, source.text) if source.text.strip() else ""
    return HTMLResponse(html)


def _fragment_error(message: str, status_code: int) -> HTMLResponse:
    return HTMLResponse(f'<p class="error">{escape(message)}</p>', status_code=status_code)


def _revision_start(session: Session, principal: Principal, identifier: str) -> tuple[Any, dict[str, str]]:
    found = service.find_version(session, identifier.split("v")[0], principal)
    authz.authorize_revise(principal, found.submission)
    item = presenters.submission_out(session, found.submission, found.version, principal)
    v = item.version
    form: dict[str, str] = {
        "title": v.title,
        "abstract": v.abstract,
        "keywords": ", ".join(v.keywords),
        "categories": ", ".join(v.categories),
        "licence": v.licence,
        "ai_involvement": v.ai_involvement,
        "model_developer": v.ip_attribution.model_developer,
        "initiating_human": v.ip_attribution.initiating_human,
        "base_version": str(v.version),
        "kind": item.kind,
    }
    for name in ("code", "data"):
        if v.links.get(name):
            form[f"link_{name}"] = str(v.links[name])
    if v.proposal:
        form.update({f: getattr(v.proposal, f) for f, _ in PROPOSAL_FIELDS})
    for row, author in enumerate(v.authors[:AUTHOR_ROWS]):
        if author.agent_id:
            form[f"author_{row}_who"] = f"agent:{author.agent_id}"
        elif author.account_id == principal.account_id:
            form[f"author_{row}_who"] = "me"
        else:
            form[f"author_{row}_who"] = "other"
            form[f"author_{row}_name"] = author.name
        form[f"author_{row}_orcid"] = author.orcid or ""
        form[f"author_{row}_affiliation"] = author.affiliation or ""
    if v.source_format == "markdown":
        form["source_text"] = found.version.extracted_text or ""
    reviews = review_service.version_reviews(session, found.version.id)
    points = extract_points(VersionReviews.model_validate(reviews.model_dump(mode="json")))
    letter = [f"Response to the reviews of v{v.version}", ""]
    for point in points:
        letter += [f"{point.id} ({'; '.join(point.sources)}): {point.text}", "Response: ", ""]
    if not points:
        letter += ["(The reviewers raised no specific points.)", ""]
    form["response_letter"] = "\n".join(letter)
    return found, form


@router.get("/abs/{identifier}/revise", response_model=None)
def revise_form(
    request: Request, identifier: str, principal: OptionalPrincipal, session: ReadSession
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        found, form = _revision_start(session, principal, identifier)
    except DomainError as error:
        return render_error(request, error)
    return render(
        request, "revise.html", submission=found.submission, **_wizard_context(session, principal, form)
    )


@router.post("/abs/{identifier}/revise", response_model=None)
async def revise(
    request: Request,
    identifier: str,
    principal: OptionalPrincipal,
    database: DatabaseDep,
    queue: QueueDep,
    uploads: UploadSettingsDep,
    blobs: BlobsDep,
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    form = await request.form(max_part_size=FORM_FIELD_BYTES)
    return await run_in_threadpool(
        _revise, request, identifier, principal, database, queue, uploads, blobs, form
    )


def _revise(
    request: Request,
    identifier: str,
    principal: Principal,
    database: Database,
    queue: PipelineQueue,
    uploads: UploadSettings,
    blobs: BlobStore,
    form: Any,
) -> Response:
    try:
        check_csrf(request, _form_value(form, "csrf"))
        with database.reading() as session:
            submission = service.get_submission(session, identifier.split("v")[0], principal)
            authz.authorize_revise(principal, submission)
    except DomainError as error:
        return render_error(request, error)

    def build(payload: dict[str, Any]) -> VersionCreate:
        payload.pop("kind", None)
        return VersionCreate.model_validate(payload)

    def commit(session: Session, body: VersionCreate) -> Response:
        revised = service.create_version(
            session, blobs, uploads, queue, principal, submission.identifier, body
        )
        return RedirectResponse(f"/abs/{revised.identifier}v{revised.latest_version}", status_code=303)

    return _submit_or_preview(
        request, principal, database, form, build, "revise.html", {"submission": submission}, commit
    )


# ----------------------------------------------------------------------------- dashboard


NEXT_STEP = {
    "submitted": "Waiting for screening.",
    "screening": "Being screened for hidden instructions.",
    "held": "Held for a moderator: read the screening note on the item page; submit a fixed version or wait.",
    "under_review": "The AI reviewers and the panel are at work.",
    "revision_requested": "Read the reviews and submit a revision with a response letter.",
    "provisionally_accepted": "Published. External reviews can upgrade it to accepted.",
    "accepted": "Accepted.",
    "rejected": "Rejected: the reviews stay public.",
    "withdrawn": "Withdrawn.",
}


@router.get("/account", response_model=None)
def account_page(request: Request, principal: OptionalPrincipal, session: ReadSession) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    account = accounts.get_account(session, principal.account_id)
    mine, _ = service.list_submissions(
        session, repository.SubmissionFilter(owner_id=account.id), cursor=None, limit=50, viewer=principal
    )
    pending = service.pending_authorships(session, principal) if "read" in principal.scopes else []
    try:
        hooks = webhooks.list_webhooks(session, principal)
    except DomainError:
        hooks = []
    summaries = review_summaries(session, [s.id for s in mine])
    usage = review_service.usage_by_submission(session, [s.id for s in mine])
    return render(
        request,
        "account.html",
        account=account,
        agents=accounts.list_agents(session, account.id),
        keys=accounts.list_keys(session, account.id, viewer=principal),
        submissions=[presenters.summary_out(s) for s in mine],
        review_of={s.identifier: summaries.get(s.id, NO_REVIEW) for s in mine},
        usage_of={s.identifier: usage.get(s.id, review_service.UsageTotals()) for s in mine},
        usage_total=review_service.UsageTotals.total(usage.values()),
        next_step=NEXT_STEP,
        pending=[presenters.summary_out(s) for s in pending],
        webhooks=hooks,
        notices=community_moderation.notices(session, principal) if "read" in principal.scopes else [],
    )


@router.post("/account/authorship/{identifier}", response_model=None)
def authorship_decide(
    identifier: str, principal: OptionalPrincipal, form: FormPostDep, decision: Annotated[str, Form()]
) -> Response:
    """Confirm or decline being listed as an author (the same rule as the API)."""
    if principal is None:
        return see_other("/login")

    def decide(session: Session) -> str:
        service.decide_authorship(session, principal, identifier, decision)
        return "/account"

    return form.write(decide)


# ----------------------------------------------------------------------------- moderation


def _held(database: Database, principal: Principal) -> list[HeldVersionOut]:
    with database.reading() as session:
        return [presenters.held_out(h) for h in moderation.held_versions(session, principal, limit=200)]


def _queue(database: Database, principal: Principal) -> list[Any]:
    with database.reading() as session:
        entries = community_moderation.queue(
            session, principal, limit=200, kinds=frozenset({"reports", "appeal"})
        )
        return [
            {
                "entry": e,
                "identifier": e.submission.identifier,
                "comment": community.get_comment(session, principal, e.comment.id)
                if e.comment is not None
                else None,
            }
            for e in entries
        ]


def _review_models(settings: Settings) -> list[tuple[str, str, str, str]]:
    """(role, alias, provider, model) of each review role: what the staff check before trusting
    a decision (the stand-in providers are named as such)."""
    review, models = settings.review, settings.llm.models
    roles = [
        ("single review", review.single_model),
        ("area chair", review.area_chair_model),
        *((f"reviewer {i + 1}", alias) for i, alias in enumerate(review.reviewer_models)),
        ("pairwise", review.pairwise_model),
        *((f"panel seat {i + 1}", alias) for i, alias in enumerate(review.panel)),
    ]
    return [
        (
            role,
            alias,
            models[alias].provider if alias in models else "missing",
            models[alias].model if alias in models else "",
        )
        for role, alias in roles
    ]


def _moderation(
    request: Request, database: Database, principal: Principal, status_code: int = 200, **extra: Any
) -> Response:
    held = _held(database, principal)
    with database.reading() as session:
        reports = {
            f"{h.submission.id}v{h.version}": get_report(
                session, service.find_version(session, f"{h.submission.id}v{h.version}", principal).version.id
            )
            for h in held
        }
    return render(
        request,
        "moderation.html",
        models=_review_models(request.app.state.settings),
        status_code=status_code,
        held=held,
        reports=reports,
        queue=_queue(database, principal),
        **extra,
    )


@router.get("/moderation", response_model=None)
def moderation_page(
    request: Request, principal: OptionalPrincipal, database: DatabaseDep, error: str | None = None
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        return _moderation(request, database, principal, error=error)
    except DomainError as failure:
        return render_error(request, failure)


@router.post("/moderation/{identifier}", response_model=None)
def moderation_decide(
    identifier: str,
    principal: OptionalPrincipal,
    form: FormPostDep,
    queue: QueueDep,
    decision: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    if principal is None:
        return see_other("/login")

    def decide(session: Session) -> str:
        moderation.decide(session, principal, queue, identifier, decision, reason)
        return "/moderation"

    def refused(failure: DomainError) -> Response:
        # The queue again, the refusal next to the item and the reason as it was typed.
        try:
            return _moderation(
                form.request,
                form.database,
                principal,
                status_code=failure.status,
                error=f"{identifier}: {failure.detail}",
                typed={identifier: reason},
            )
        except DomainError as error:
            return render_error(form.request, error)

    return form.write(decide, refused)
