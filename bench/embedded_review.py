"""One paper through the default review on the embedded model, timed call by call: the meta
review (area chair's plan, 3 reviewers, synthesis), then the 5-seat vote. Run it on two trees or
with two settings to compare prompt layouts or the prompt cache, e.g.

    .venv/bin/python bench/embedded_review.py [--paper FILE]
    OPENXIV_LLM__EMBEDDED__PROMPT_CACHE_MIB=0 .venv/bin/python bench/embedded_review.py
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from openxiv.config import Settings
from openxiv.llm.client import LLMClient
from openxiv.llm.recording import MemoryRecorder
from openxiv.review.engine import Document, ReviewEngine
from openxiv.review.prompts import PROMPT_VERSION

DEFAULT_PAPER = Path(__file__).resolve().parents[2] / "shared/data/iclr2022-bench/papers/0d1mLPC2q2.txt"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--paper", type=Path, default=DEFAULT_PAPER)
    args = parser.parse_args()
    settings = Settings()
    review = settings.review.model_copy(update={"reviewers": 3})
    recorder = MemoryRecorder()
    engine = ReviewEngine(LLMClient(settings.llm, recorder=recorder), review)
    document = Document(kind="paper", text=args.paper.read_text(encoding="utf-8"))
    started = time.perf_counter()
    meta = engine.meta(document)
    panel = engine.vote(document)
    wall = time.perf_counter() - started
    calls = [
        {
            "purpose": record.purpose,
            "input_tokens": record.input_tokens,
            "output_tokens": record.output_tokens,
            "seconds": round(record.latency_ms / 1000, 1),
        }
        for record in recorder.records
    ]
    print(
        json.dumps(
            {
                "prompt_version": PROMPT_VERSION,
                "prompt_cache_mib": getattr(settings.llm.embedded, "prompt_cache_mib", None),
                "paper": args.paper.name,
                "wall_s": round(wall, 1),
                "calls": len(calls),
                "input_tokens": sum(c["input_tokens"] for c in calls),
                "output_tokens": sum(c["output_tokens"] for c in calls),
                "rating": meta.synthesis.get("rating"),
                "panel": f"{panel.accept_count}/{panel.n} accept",
                "per_call": calls,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
