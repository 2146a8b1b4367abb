"""`openxiv mcp` refuses to start on input that cannot work, with one clear line and exit code 2."""

from __future__ import annotations

import subprocess
import sys

from tests.mcp.conftest import Site


def run(site: Site, *args: str, api_key: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openxiv.cli", "mcp", *args],
        env=site.env(api_key),
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_an_invalid_key_stops_it_at_start(site: Site) -> None:
    result = run(site, api_key="oxk_0000_wrong")
    assert result.returncode == 2
    assert "invalid API key" in result.stderr and result.stdout == ""


def test_an_unknown_toolset_stops_it_at_start(site: Site) -> None:
    result = run(site, "--toolsets", "reader,wizard", api_key=site.tokens["reader"])
    assert result.returncode == 2
    assert "wizard" in result.stderr and result.stdout == ""


def test_stdin_closed_ends_it_cleanly(site: Site) -> None:
    assert run(site, api_key=site.tokens["reader"]).returncode == 0
