"""The agent's loop: write -> submit -> wait for the reviews -> answer and revise -> resubmit,
until the work is accepted, rejected or held, or the rounds run out.

Only the public client is used. Waiting is `wait_for`, which follows the server's event stream
(polling only where a server has none).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from openxiv.client import (
    ApiError,
    ConnectionFailed,
    Forbidden,
    OpenXivClient,
    OpenXivError,
    PollSchedule,
    StatusUnreachable,
    Unauthenticated,
    ValidationFailed,
    WaitTimeout,
)
from openxiv.client.models import Me, Submission
from openxiv.scientist.letter import render_letter
from openxiv.scientist.manuscript import Kind, Manuscript
from openxiv.scientist.points import extract_points, review_digest
from openxiv.scientist.trajectory import (
    AgentRun,
    Outcome,
    PointResponse,
    ResponseLetter,
    Round,
    Tokens,
    utc_now,
)
from openxiv.scientist.writer import StepFailed, Writer

MAX_TOPIC_CHARS = 2000
# Settled statuses after which the loop stops: accepted (in either step), or where a revision would
# not be looked at.
FINAL: dict[str, Outcome] = {
    "provisionally_accepted": "provisionally_accepted",
    "accepted": "accepted",
    "rejected": "rejected",
    "held": "held",
    "withdrawn": "withdrawn",
}


class AgentError(Exception):
    """The run cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class AgentConfig:
    topic: str
    kind: Kind = "paper"
    rounds: int = 3
    category: str = "cs.AI"
    licence: str = "CC-BY-4.0"
    review_timeout_s: float = 1800.0
    poll: PollSchedule | None = None
    out_dir: Path | None = None


def check_topic(topic: str) -> str:
    cleaned = " ".join(topic.split())
    if not cleaned:
        raise AgentError("the topic is empty: say what the work should be about (--topic)")
    if len(cleaned) > MAX_TOPIC_CHARS:
        raise AgentError(
            f"the topic has {len(cleaned)} characters; keep it under {MAX_TOPIC_CHARS} (a paragraph, not a paper)"
        )
    return cleaned


Report = Callable[[str], None]


class Scientist:
    def __init__(
        self,
        client: OpenXivClient,
        writer: Writer,
        config: AgentConfig,
        run: AgentRun,
        report: Report = lambda _: None,
    ) -> None:
        self.client = client
        self.writer = writer
        self.config = config
        self.run = run
        self.report = report

    # -- outside world ------------------------------------------------------------------------

    def _server(self, what: str, action: Callable[[], Any]) -> Any:
        """Turn the client's failures into one sentence for the person running the agent."""
        try:
            return action()
        except ConnectionFailed as error:
            raise AgentError(
                f"cannot reach the OpenXiv server at {self.run.server} while trying to {what} ({error.__cause__ or error}); "
                "start one with `openxiv serve --with-worker` or pass --server URL"
            ) from error
        except Unauthenticated as error:
            raise AgentError(
                f"the server refused the API key while trying to {what}: it is unknown or revoked; "
                "issue one with `openxiv key issue EMAIL` or POST /api/v1/keys and pass --api-key"
            ) from error
        except Forbidden as error:
            raise AgentError(f"the API key may not {what}: {error.detail}") from error
        except (WaitTimeout, StatusUnreachable):
            raise  # the loop decides what these mean
        except ValidationFailed as error:
            raise AgentError(
                f"the server refused to {what}: {error.detail} {error.errors or ''}".strip()
            ) from error
        except ApiError as error:
            raise AgentError(
                f"the server answered {error.status} while trying to {what}: {error.detail}"
            ) from error
        except OpenXivError as error:
            raise AgentError(f"could not {what}: {error}") from error

    def _identity(self) -> Me:
        me: Me = self._server("read the key's identity", self.client.me)
        missing = {"read", "submit"} - set(me.scopes)
        if missing:
            raise AgentError(
                f"the API key lacks the {', '.join(sorted(missing))} scope(s) the agent needs "
                f"(it has: {', '.join(me.scopes) or 'none'}); issue a key with read and submit"
            )
        return me

    def _metadata(self, me: Me) -> dict[str, Any]:
        human = {"kind": "human", "account_id": me.account.id}
        if me.agent is not None:
            authors = [{"kind": "agent", "agent_id": me.agent.id}, human]
            developer = me.agent.organisation
        else:
            authors, developer = [human], self.run.model
        model = f"{self.run.model} (alias {self.run.model_alias})"
        return {
            "authors": authors,
            "corresponding_author": len(authors) - 1,
            "categories": [self.config.category],
            "licence": self.config.licence,
            "ai_involvement": (
                f"Written end to end by the OpenXiv reference AI scientist with the model {model}: "
                "outline, sections, self-check, and the answers to the reviews. No experiments were run."
            ),
            "ip_attribution": {
                "model_developer": developer[:300],
                "initiating_human": me.account.display_name,
            },
        }

    def _wait(self, identifier: str) -> Submission:
        try:
            settled: Submission = self._server(
                "wait for the reviews",
                lambda: self.client.wait_for(
                    identifier, timeout=self.config.review_timeout_s, poll=self.config.poll
                ),
            )
        except StatusUnreachable as error:  # a final status is settled anyway; read it back
            self.report(f"{identifier} ended as {error.status}")
            settled = self._server("read the submission", lambda: self.client.get(identifier))
        return settled

    # -- the loop -----------------------------------------------------------------------------

    def _save(
        self, manuscript: Manuscript | None = None, version: int | None = None, letter: str | None = None
    ) -> None:
        out = self.config.out_dir
        if out is None:
            return
        out.mkdir(parents=True, exist_ok=True)
        if manuscript is not None and version is not None:
            (out / f"v{version}.md").write_text(manuscript.markdown(), "utf-8")
        if letter is not None and version is not None:
            (out / f"v{version}-response.md").write_text(letter, "utf-8")
        self.run.save(out / "trajectory.json")

    def _finish(self, outcome: Outcome, reason: str) -> AgentRun:
        self.run.outcome = outcome
        self.run.stop_reason = reason
        self.run.finished_at = utc_now()
        total = Tokens()
        for r in self.run.rounds:
            total = total.plus(r.tokens)
        self.run.tokens = total
        self._save()
        return self.run

    def execute(self) -> AgentRun:
        """Run to the end; on an AgentError the partial trajectory is saved (outcome `failed`)
        before the error is raised again."""
        try:
            return self._execute()
        except (AgentError, StepFailed) as error:
            self._finish("failed", str(error))
            raise AgentError(str(error)) from error

    def _execute(self) -> AgentRun:
        config = self.config
        topic = check_topic(config.topic)
        me = self._identity()
        self.report(f"writing a {config.kind} on: {topic}")
        started = time.monotonic()
        manuscript = self.writer.write(topic, config.kind)
        writing_s = time.monotonic() - started
        body = {"kind": config.kind, **self._metadata(me), **manuscript.content_fields()}
        item: Submission = self._server("submit", lambda: self.client.create_submission(body))
        self.run.submission = item.id
        letter: ResponseLetter | None = None
        for number in range(1, config.rounds + 1):
            this_round = Round(
                round=number,
                version=item.version.version,
                identifier=item.version.identifier,
                title=item.version.title,
                submitted_at=utc_now(),
                response_letter=letter,
                tokens=Tokens.of(self.writer.take_usage()),
                timings_s={"writing": round(writing_s, 3)},
            )
            self.run.rounds.append(this_round)
            self._save(manuscript, this_round.version, letter.text if letter else None)
            self.report(f"submitted {this_round.identifier}; waiting for the reviews")
            waited = time.monotonic()
            try:
                settled = self._wait(item.id)
            except WaitTimeout as error:
                return self._finish(
                    "timed_out",
                    f"no decision within {config.review_timeout_s:g} s (last status {error.last_status})",
                )
            this_round.timings_s["review_wait"] = round(time.monotonic() - waited, 3)
            this_round.settled_at = utc_now()
            this_round.status = settled.status
            identifier = this_round.identifier
            reviews = self._server("read the reviews", partial(self.client.reviews, identifier))
            this_round.review = review_digest(reviews)
            points = extract_points(reviews)
            this_round.points = len(points)
            self._save()
            self.report(f"{identifier}: {settled.status} ({len(points)} reviewer points)")
            if settled.status in FINAL:
                return self._finish(
                    FINAL[settled.status], f"{identifier} was {settled.status.replace('_', ' ')}"
                )
            if settled.status != "revision_requested":
                return self._finish(
                    "failed", f"{this_round.identifier} settled in an unexpected status {settled.status}"
                )
            if number == config.rounds:
                return self._finish(
                    "rounds_exhausted", f"revision requested after the last of {config.rounds} round(s)"
                )
            started = time.monotonic()
            answers = self.writer.answer(manuscript, points)
            manuscript = self.writer.revise(manuscript, answers)
            text = render_letter(this_round.version, answers)
            letter = ResponseLetter(
                answers_version=this_round.version,
                responses=[
                    PointResponse(
                        point_id=a.point.id,
                        sources=list(a.point.sources),
                        point=a.point.text,
                        decision=a.decision,  # type: ignore[arg-type]
                        explanation=a.explanation,
                        section=a.section,
                    )
                    for a in answers
                ],
                text=text,
            )
            writing_s = time.monotonic() - started
            revision = {
                **self._metadata(me),
                **manuscript.content_fields(),
                "response_letter": text,
                "base_version": this_round.version,
            }
            self.report(
                f"revising: {sum(a.decision == 'addressed' for a in answers)} of {len(answers)} points addressed"
            )
            item = self._server("submit the revision", partial(self.client.create_version, item.id, revision))
        return self._finish("rounds_exhausted", f"{config.rounds} round(s) done")
