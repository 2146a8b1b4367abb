"""What every core benchmark script does around its runs: a scratch folder, one run per backend,
and the report printed and written."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

R = TypeVar("R")


def run_backends(
    backends: Sequence[str],
    run_backend: Callable[[str, Any, Path], R],
    args: Any,
    *,
    prefix: str,
    say: Callable[[str], None],
) -> tuple[list[R], float]:
    """Each backend's run in one temporary folder (kept with `args.keep`); the results and the
    seconds they took."""
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        results = [run_backend(backend, args, root) for backend in backends]
    finally:
        if args.keep:
            say(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return results, time.perf_counter() - started


def publish(text: str, out: Path | None) -> None:
    print(text)
    if out:
        out.write_text(text, encoding="utf-8")
