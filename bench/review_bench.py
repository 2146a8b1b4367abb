"""Review engine benchmark; same as `openxiv bench review`.

.venv/bin/python bench/review_bench.py            # fake provider only (seconds)
.venv/bin/python bench/review_bench.py --embedded # plus the embedded model (minutes)
"""

from __future__ import annotations

import json
import sys

from openxiv.tooling.review_bench import run_review_bench

if __name__ == "__main__":
    report = run_review_bench(delay_s=0.3, reviewers=5, seats=5, repeats=3, embedded="--embedded" in sys.argv)
    print(json.dumps(report, indent=2))
