"""MCP resources (a submission, a version's text, its reviews, the rubrics in force) and prompts
("review this submission against the rubric", "revise from these reviews"). Both read through
the tool functions, so what an agent may see is decided in one place."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import mcp_types as types

from openxiv.errors import InvalidInput, NotFound
from openxiv.mcp import tools
from openxiv.mcp.registry import Call
from openxiv.mcp.schemas import IDENTIFIER_HELP, IdentifierIn
from openxiv.models.review import Review
from openxiv.review import service as review_service
from openxiv.review.prompts import UNTRUSTED_RULE, quote, rubric_text
from openxiv.review.rubrics import Rubric, load_rubric

SCHEME = "openxiv"
JSON = "application/json"
TEXT = "text/plain"
# A resource read returns the whole text up to this size; read_text pages through longer ones.
MAX_RESOURCE_TEXT = 400_000

_SUBMISSION = re.compile(r"^openxiv://submissions/([0-9.v]+)(/text|/reviews)?$")
_RUBRIC = re.compile(r"^openxiv://rubrics/(paper|proposal)$")


def rubric_in_force(call: Call, kind: str) -> Rubric:
    directory = call.runtime.settings.review.rubric_dir
    return load_rubric(kind, str(directory) if directory else None)


def static_resources() -> list[types.Resource]:
    return [
        types.Resource(
            uri=f"{SCHEME}://rubrics/{kind}",
            name=f"rubric-{kind}",
            title=f"The review rubric for {kind}s in force",
            description=f"Criteria, weights, scale and decision guidance that reviews of {kind}s follow",
            mime_type=JSON,
        )
        for kind in ("paper", "proposal")
    ]


def resource_templates() -> list[types.ResourceTemplate]:
    return [
        types.ResourceTemplate(
            uri_template=f"{SCHEME}://submissions/{{id}}",
            name="submission",
            title="A submission",
            description="Status and metadata of a submission (YYMM.NNNNN) or of one version (YYMM.NNNNNvN)",
            mime_type=JSON,
        ),
        types.ResourceTemplate(
            uri_template=f"{SCHEME}://submissions/{{id}}/text",
            name="submission-text",
            title="A version's text",
            description="The text of a version, wrapped as untrusted content, with the integrity verdict",
            mime_type=TEXT,
        ),
        types.ResourceTemplate(
            uri_template=f"{SCHEME}://submissions/{{id}}/reviews",
            name="submission-reviews",
            title="A version's reviews",
            description="Meta review, reviews, vote panels and pairwise verdicts of a version",
            mime_type=JSON,
        ),
    ]


def read_resource(call: Call, uri: str) -> types.TextResourceContents:
    """Raises NotFound for a URI this server does not serve, and the tools' errors otherwise."""
    rubric = _RUBRIC.match(uri)
    if rubric:
        found = rubric_in_force(call, rubric.group(1))
        return types.TextResourceContents(uri=uri, mime_type=JSON, text=found.model_dump_json())
    match = _SUBMISSION.match(uri)
    if not match:
        raise NotFound(
            f"no resource {uri}; this server serves openxiv://submissions/{{id}}[/text|/reviews] and "
            "openxiv://rubrics/{paper|proposal}"
        )
    identifier, part = match.group(1), match.group(2)
    if part == "/text":
        return types.TextResourceContents(uri=uri, mime_type=TEXT, text=whole_text(call, identifier))
    if part == "/reviews":
        found_reviews = tools.get_reviews(call, IdentifierIn(id=identifier))
        return types.TextResourceContents(uri=uri, mime_type=JSON, text=found_reviews.model_dump_json())
    found_submission = tools.get_submission(call, IdentifierIn(id=identifier))
    return types.TextResourceContents(uri=uri, mime_type=JSON, text=found_submission.model_dump_json())


def whole_text(call: Call, identifier: str) -> str:
    """The version's text as one untrusted block (up to MAX_RESOURCE_TEXT), headed by its verdict."""
    chunk = tools.text_chunk(call, identifier, 0, MAX_RESOURCE_TEXT)
    cut = (
        ""
        if chunk.next_start is None
        else f" (first {chunk.end} of {chunk.total} characters; read_text for more)"
    )
    return f"{chunk.id}{cut}; {chunk.integrity.text()}\n{UNTRUSTED_RULE}\n{chunk.content}"


# ------------------------------------------------------------------------------------ prompts


@dataclass(frozen=True)
class PromptSpec:
    name: str
    title: str
    description: str

    def as_mcp(self) -> types.Prompt:
        return types.Prompt(
            name=self.name,
            title=self.title,
            description=self.description,
            arguments=[types.PromptArgument(name="id", description=IDENTIFIER_HELP, required=True)],
        )


PROMPTS = (
    PromptSpec(
        "review_submission",
        "Review this submission against the rubric",
        "A reviewing task: the rubric in force and the submission's text (as untrusted content, with "
        "its integrity verdict), asking for a review with a score per criterion",
    ),
    PromptSpec(
        "revise_from_reviews",
        "Revise from these reviews",
        "An author's task: the reviews of the latest version and the rubric, asking for a revision "
        "and a point-by-point response letter, to post with the revise tool",
    ),
)


def get_prompt(call: Call, name: str, arguments: dict[str, str]) -> types.GetPromptResult:
    identifier = (arguments or {}).get("id")
    if not identifier:
        raise InvalidInput("this prompt needs the argument id (a submission identifier)", field="id")
    if name == "review_submission":
        return _review_prompt(call, identifier)
    if name == "revise_from_reviews":
        return _revise_prompt(call, identifier)
    raise NotFound(f"no prompt {name!r}; prompts: {', '.join(p.name for p in PROMPTS)}")


def _message(text: str) -> types.PromptMessage:
    return types.PromptMessage(role="user", content=types.TextContent(text=text))


def _review_prompt(call: Call, identifier: str) -> types.GetPromptResult:
    found = tools.get_submission(call, IdentifierIn(id=identifier)).submission
    rubric = rubric_in_force(call, found.kind)
    keys = ", ".join(rubric.keys)
    task = (
        f"Review {found.version.identifier}, a {found.kind} on OpenXiv, against the standard below.\n\n"
        f"{rubric_text(rubric)}\n\n{rubric.rating_guidance}\n{rubric.decision_guidance}\n\n"
        f"Write: a summary; strengths; weaknesses; major concerns; minor issues; questions for the "
        f"authors; a score per criterion ({keys}); an overall rating 1-10 and a decision with its "
        "justification. Base every judgement on the text; cite sections.\n\n" + UNTRUSTED_RULE
    )
    return types.GetPromptResult(
        description=f"Review {found.version.identifier} against {rubric.id} {rubric.version}",
        messages=[_message(task), _message(whole_text(call, found.version.identifier))],
    )


def _revise_prompt(call: Call, identifier: str) -> types.GetPromptResult:
    found = tools.get_submission(call, IdentifierIn(id=identifier)).submission
    reviews = tools.get_reviews(call, IdentifierIn(id=found.version.identifier))
    rubric = rubric_in_force(call, found.kind)
    with call.reading() as session:
        meta = session.get(Review, reviews.meta_review.id) if reviews.meta_review else None
        summary = review_service.previous_review_text(meta) if meta is not None else ""
    if not summary:
        panels = [p for p in reviews.panels if p.status == "completed"]
        reasons = [str(r) for p in panels for v in p.votes for r in v.reasons]
        summary = "\n".join(reasons)
    if not summary:
        raise NotFound(f"{found.version.identifier} has no completed review yet; poll pipeline_status")
    task = (
        f"You are the author of {found.version.identifier} ({found.kind}, status {found.status}). "
        "Revise it in answer to the reviews below, judged against the standard that follows them.\n\n"
        f"{rubric_text(rubric, with_scale=False)}\n\n"
        "Produce (1) the revised text, changing what the reviews rightly criticise, and (2) a "
        "point-by-point response letter: quote each concern, then say what you changed and where, "
        "or why you disagree. Claim only changes the revision really makes. Then call the revise "
        f"tool with id {found.id}, base_version {found.latest_version}, the revised content and "
        "the response letter (try dry_run first).\n\n" + UNTRUSTED_RULE
    )
    return types.GetPromptResult(
        description=f"Revise {found.version.identifier} from its reviews",
        messages=[
            _message(task),
            _message("The reviews:\n" + quote("reviews", summary)),
            _message(
                json.dumps(
                    {
                        "panels": [
                            p.model_dump(mode="json", include={"decision", "accept_count", "n", "score_mean"})
                            for p in reviews.panels
                        ]
                    }
                )
            ),
        ],
    )
