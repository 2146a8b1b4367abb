"""Interleaved A/B of the web UI's reads: the implementations at an older commit against the
current ones, called alternately on the same database under the same load.

    BENCH_KEEP=1 .venv/bin/python bench/ui_render.py --backend postgres --items 100000
    .venv/bin/python bench/ui_ab.py postgresql+psycopg://postgres@127.0.0.1:5432/openxiv_bench_ui 2612.00001

(the heavy item is the last one `ui_render.py` creates; for SQLite pass the kept
`sqlite:////tmp/bench-ui-*/bench.db`). Prints, per read, the statements and the median ms of each.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import event, select

from openxiv.community import service as community
from openxiv.db import make_engine, make_session_factory
from openxiv.discovery import repository as discovery
from openxiv.discovery.entries import SEARCHABLE
from openxiv.models.discovery import DiscoveryEntry
from openxiv.review import cards
from openxiv.review import service as reviews

BASELINE = "8b7dd43"  # the item page before the batched reads (docs/benchmarks.md, "Web UI")
ROOT = Path(__file__).resolve().parent.parent


def old_module(commit: str, path: str, folder: Path) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    name = "old_" + path.replace("/", "_").removesuffix(".py")
    file = folder / f"{name}.py"
    file.write_bytes(source)
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("identifier", help="the heavy item, e.g. 2612.00001")
    parser.add_argument("--commit", default=BASELINE)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ui-ab-"))
    old_reviews = old_module(args.commit, "src/openxiv/review/service.py", folder)
    old_community = old_module(args.commit, "src/openxiv/community/service.py", folder)
    old_cards = old_module(args.commit, "src/openxiv/review/cards.py", folder)
    old_discovery = old_module(args.commit, "src/openxiv/discovery/repository.py", folder)

    engine = make_engine(args.url)
    reads = make_session_factory(engine, write=False)
    with reads() as session:
        found = community.find_item(session, args.identifier, None)
        item, version = found.submission.id, found.version.id
        page = list(
            session.scalars(
                select(DiscoveryEntry.submission_id).order_by(DiscoveryEntry.submission_id.desc()).limit(20)
            )
        )
    identifier = args.identifier
    pairs: dict[str, tuple[Callable[[Any], object], Callable[[Any], object]]] = {
        "quality trajectory": (
            lambda s: old_reviews.quality_trajectory(s, item),
            lambda s: reviews.quality_trajectory(s, item),
        ),
        "30 threads with replies (item found first)": (
            lambda s: old_community.list_threads(s, None, identifier, limit=30),
            lambda s: community.item_threads(
                s, None, community.find_item(s, identifier, None).submission, limit=30
            ),
        ),
        "a version's reviews, panels, pairwise": (
            lambda s: old_reviews.version_reviews(s, version),
            lambda s: reviews.version_reviews(s, version),
        ),
        "review summaries of 20 cards": (
            lambda s: old_cards.review_summaries(s, page),
            lambda s: cards.review_summaries(s, page),
        ),
        "category list": (
            lambda s: old_discovery.categories(s, SEARCHABLE),
            lambda s: discovery.categories(s, SEARCHABLE),
        ),
    }
    statements: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda _c, _cur, statement, *_: statements.append(statement)
    )
    print(f"| read | statements {args.commit} → now | ms {args.commit} → now |")
    print("| --- | --- | ---: |")
    for name, (old, new) in pairs.items():
        counts = []
        for read in (old, new):
            with reads() as session:
                statements.clear()
                read(session)
                counts.append(len(statements))
        times: dict[str, list[float]] = {"old": [], "new": []}
        for round_ in range(args.rounds):
            order = [("old", old), ("new", new)] if round_ % 2 else [("new", new), ("old", old)]
            for label, read in order:
                with reads() as session:
                    start = time.perf_counter()
                    read(session)
                    times[label].append((time.perf_counter() - start) * 1000)
        before, after = (statistics.median(times[k][3:]) for k in ("old", "new"))
        print(f"| {name} | {counts[0]} → {counts[1]} | {before:.1f} → {after:.1f} |")


if __name__ == "__main__":
    main()
