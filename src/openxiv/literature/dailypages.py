"""Reading a "Daily Papers" listing page saved as text: a header, then title and abstract lines.

Used by the benchmark and tests (the pages live in the shared seeds folder, not in the package).
"""

from __future__ import annotations

import re

_DATE = re.compile(r"^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2}$")
MIN_ABSTRACT_CHARS = 200


def parse_daily_papers(text: str) -> list[tuple[str, str]]:
    """(title, abstract) pairs: a short line followed by a long one is a paper."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    start = next((i + 1 for i, line in enumerate(lines) if _DATE.match(line)), 0)
    papers: list[tuple[str, str]] = []
    index = start
    while index + 1 < len(lines):
        title, following = lines[index], lines[index + 1]
        if len(title) < MIN_ABSTRACT_CHARS <= len(following):
            papers.append((title, following))
            index += 2
        else:
            index += 1
    return papers
