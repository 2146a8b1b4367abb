"""The suite's own runner settings: a test that crashes its xdist worker (a native segfault, as
the embedded model once did) fails the run at once, and a test that hangs fails on the timeout;
neither leaves the run waiting forever. Runs pytest with this project's configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pytest(tmp_path: Path, body: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(body)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", *args, str(tmp_path / "test_sample.py")],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )  # fmt: skip


def test_a_worker_crash_fails_the_run_instead_of_hanging_it(tmp_path: Path) -> None:
    body = (
        "import ctypes\n\n"
        "def test_segfault():\n    ctypes.string_at(0)\n\n"
        "def test_fine():\n    assert True\n"
    )
    done = _pytest(tmp_path, body, "-n", "2")
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "worker 'gw0' crashed while running 'test_sample.py::test_segfault'" in output or (
        "worker 'gw1' crashed while running 'test_sample.py::test_segfault'" in output
    )
    assert "worker restarting disabled" in output  # no silent replacement worker


@pytest.mark.timeout(120)
def test_a_hanging_test_fails_on_the_per_test_timeout(tmp_path: Path) -> None:
    body = "import threading\n\ndef test_hangs():\n    threading.Event().wait()\n"
    done = _pytest(tmp_path, body, "--timeout", "2")
    assert done.returncode == 1
    assert "Timeout" in done.stdout and "1 failed" in done.stdout
