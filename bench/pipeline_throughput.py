"""Whole-pipeline throughput: N submissions through screening (real integrity scan), meta review
and the 5-seat vote, on W worker threads, against a local OpenAI-compatible server that answers
every call after a fixed delay. Reports throughput and the ratio to the ideal.

    .venv/bin/python bench/pipeline_throughput.py [--submissions 20] [--threads 8] [--delay 0.3]
        [--database-url postgresql://postgres@127.0.0.1:5432/openxiv_bench]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from openxiv.accounts import service as accounts
from openxiv.config import Settings
from openxiv.db import transaction
from openxiv.migrations import upgrade
from openxiv.runtime import Runtime
from openxiv.submissions import service as submissions
from openxiv.submissions.pipeline import run_pipeline
from openxiv.submissions.schemas import SubmissionCreate
from openxiv.tooling.fake_llm_server import FakeLLMServer
from openxiv.tooling.review_bench import SAMPLE_PAPER, pipeline_throughput


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--delay", type=float, default=0.3, help="seconds the fake model takes per call")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="openxiv-pipeline-bench-"))
    with FakeLLMServer(delay_s=args.delay) as server:
        fake = {
            "provider": "openai-compatible",
            "model": "fake-model",
            "base_url": f"{server.url}/v1",
            "max_concurrency": 64,
        }
        settings = Settings(
            database_url=args.database_url or f"sqlite:///{workdir / 'bench.db'}",
            storage={"root": workdir / "blobs"},
            queue={"url": "immediate"},
            uploads={"versions_per_hour": 0},  # one account creates every item
            llm={"models": {"fake": fake}},
            review={
                "single_model": "fake",
                "area_chair_model": "fake",
                "reviewer_models": ["fake"],
                "pairwise_model": "fake",
                "panel": ["fake"] * 5,
                "reviewers": 3,
            },
            db_pool_size=args.threads + 4,
        )
        upgrade(settings.database_url)
        runtime = Runtime(settings)
        runtime.__dict__["queue"] = None  # the benchmark drives the pipeline itself
        with transaction(runtime.write_sessions) as session:
            owner = accounts.register_account(
                session,
                email=f"bench-{workdir.name}@example.org",
                password="benchmark password",
                display_name="Bench",
                accept_policy=True,
                policy_version=settings.policy_version,
            )
            principal = accounts.session_principal(session, owner.id)

        def process(index: int) -> Any:
            with transaction(runtime.write_sessions) as session:
                item = submissions.create_submission(
                    session,
                    runtime.blobs,
                    settings.uploads,
                    None,
                    principal,
                    SubmissionCreate(
                        kind="paper",
                        title=f"Sparse mixture routing, run {index}",
                        authors=[{"name": "Bench"}],
                        ai_involvement="benchmark",
                        ip_attribution={"model_developer": "none", "initiating_human": "Bench"},
                        source={"format": "markdown", "text": f"{SAMPLE_PAPER}\n\nRun {index}."},
                    ),
                )
                submission_id = item.id
            log = run_pipeline(
                runtime.write_sessions,
                runtime.read_sessions,
                settings,
                runtime.blobs,
                runtime.stages,
                submission_id,
                1,
            )
            assert [state for _, state in log] == ["completed"] * 3, log
            return log

        report = pipeline_throughput(process, submissions=args.submissions, threads=args.threads)
        report.update(
            delay_s=args.delay,
            backend=runtime.engine.dialect.name,
            model_calls=len(server.requests),
            max_in_flight=server.max_in_flight,
        )
        runtime.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
