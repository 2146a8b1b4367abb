"""Literature retrieval benchmark; the same as `openxiv bench literature` (see docs/benchmarks.md).

.venv/bin/python bench/literature.py --sizes 100000,1000000 --seeds ../shared/seeds
"""

from __future__ import annotations

import typer

from openxiv.literature.benchmark import bench_command

if __name__ == "__main__":
    typer.run(bench_command)
