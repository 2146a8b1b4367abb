"""The response letter: one numbered answer per reviewer point, quoting the point, saying whether
it was addressed (how and where) or respectfully declined (why)."""

from __future__ import annotations

from openxiv.scientist.writer import Answer


def render_letter(previous_version: int, answers: list[Answer]) -> str:
    addressed = sum(a.decision == "addressed" for a in answers)
    lines = [
        f"# Response to the reviews of v{previous_version}",
        "",
        f"We thank the reviewers. Below, each of their {len(answers)} points is quoted and answered: "
        f"{addressed} addressed in this version, {len(answers) - addressed} respectfully declined with our reasons.",
        "",
    ]
    for answer in answers:
        point = answer.point
        lines += [f"## {point.id} ({'; '.join(point.sources)})", "", f"> {point.text}", ""]
        if answer.decision == "addressed":
            lines += [f"**Addressed.** {answer.explanation}", "", f'Where: section "{answer.section}".', ""]
        else:
            lines += [
                f"**Respectfully declined.** {answer.explanation}",
                "",
                f'Concerns: section "{answer.section}".',
                "",
            ]
    return "\n".join(lines).rstrip()
