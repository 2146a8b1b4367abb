"""Command-line errors are one line and exit code 2."""

from __future__ import annotations

from typer.testing import CliRunner

from openxiv.genesys.cli import genesys_app


def test_run_refuses_without_a_key_or_with_an_unknown_ladder() -> None:
    runner = CliRunner()
    no_key = runner.invoke(genesys_app, ["run", "--generations", "1"], env={"OPENXIV_API_KEY": ""})
    assert no_key.exit_code == 2 and "an API key is needed" in no_key.output
    bad = runner.invoke(genesys_app, ["run", "--ladder", "huge", "--api-key", "oxk_x"])
    assert bad.exit_code == 2 and "unknown ladder 'huge'" in bad.output


def test_worker_refuses_an_immediate_queue() -> None:
    result = CliRunner().invoke(genesys_app, ["worker", "--queue", "immediate"])
    assert result.exit_code == 2 and "needs sqlite:///PATH or redis://" in result.output
