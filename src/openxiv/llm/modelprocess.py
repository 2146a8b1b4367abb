"""A local model server in a supervised child process.

llama.cpp is native code: a segfault in it (AMX on some Xeons) or an out-of-memory kill would take
the whole worker down with it. So the embedded model runs in a child process -- llama-cpp-python's
OpenAI-compatible server on a loopback port -- one per OpenXiv process, shared by all its threads.
A call that finds the child dead fails with an error naming the signal; the next call starts a
new child, after a backoff that doubles with each crash in a row (0.5 s up to 30 s) and resets
after a call succeeds. The child dies with its parent (PR_SET_PDEATHSIG), even on `kill -9`.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO

import httpx

from openxiv.llm.port import LLMConfigError, TransientLLMError

logger = logging.getLogger("openxiv.llm")
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Linux sends PR_SET_PDEATHSIG when the *thread* that forked the child ends, not the process: the
# children are forked from this one long-lived thread, never from a caller's short-lived one.
_LAUNCHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-process-launcher")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"died with {name}{hint}"
    return f"exited with status {code}"


class ModelProcess:
    """One supervised server process; `{port}` in the command is replaced by a free port."""

    def __init__(
        self, command: Sequence[str], *, name: str = "embedded model", start_timeout_s: float = 180
    ) -> None:
        self.command = tuple(command)
        self.name = name
        self.start_timeout_s = start_timeout_s
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        self._url = ""
        self._crashes_in_a_row = 0
        self._not_before = 0.0
        self.starts = 0

    def base_url(self) -> str:
        """The running server's OpenAI base URL; starts (or restarts) the process when needed."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return self._url
            if self._process is not None:
                self._note_exit()
            wait = self._not_before - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._start()
            return self._url

    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def crash_reason(self) -> str | None:
        """Why the process is gone (None while it runs); call after a call failed mid-way."""
        process = self._process
        if process is None:
            return None
        try:
            # The dropped connection may reach us before the kernel has reaped the process.
            code = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None
        return f"the {self.name} process {describe_exit(code)}"

    def call_succeeded(self) -> None:
        self._crashes_in_a_row = 0

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if self._output is not None:
                self._output.close()
                self._output = None

    def _note_exit(self) -> None:
        assert self._process is not None
        code = self._process.wait()
        self._crashes_in_a_row += 1
        delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self._crashes_in_a_row - 1))
        self._not_before = time.monotonic() + delay
        logger.warning(
            "%s process %s; restarting it in %.1f s (crash %d in a row)%s",
            self.name, describe_exit(code), delay, self._crashes_in_a_row, self._tail(),
        )  # fmt: skip
        self._process = None

    def _tail(self, lines: int = 5) -> str:
        if self._output is None:
            return ""
        self._output.seek(0)
        text = self._output.read().decode("utf-8", "replace").strip().splitlines()[-lines:]
        return (": " + " | ".join(text)) if text else ""

    def _start(self) -> None:
        port = free_port()
        command = [part.replace("{port}", str(port)) for part in self.command]
        if self._output is not None:
            self._output.close()
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        try:
            process = _LAUNCHER.submit(
                subprocess.Popen,
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._output,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            ).result()
        except OSError as error:
            raise LLMConfigError(f"cannot start the {self.name} process ({command[0]}): {error}") from error
        self._process = process
        self.starts += 1
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._note_exit()
                raise TransientLLMError(
                    f"the {self.name} process did not start: {describe_exit(process.returncode)}{self._tail()}"
                )
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    self._url = url
                    logger.info("%s process %d serving on 127.0.0.1:%d", self.name, process.pid, port)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise LLMConfigError(f"the {self.name} process did not answer within {self.start_timeout_s:g} s")


_PROCESSES: dict[tuple[str, ...], ModelProcess] = {}
_PROCESSES_LOCK = threading.Lock()


def model_process(command: Sequence[str]) -> ModelProcess:
    """The one process of this OpenXiv process for `command` (one model in memory for all threads)."""
    key = tuple(command)
    with _PROCESSES_LOCK:
        if key not in _PROCESSES:
            if not _PROCESSES:
                atexit.register(stop_all)
            _PROCESSES[key] = ModelProcess(key)
        return _PROCESSES[key]


def stop_all() -> None:
    with _PROCESSES_LOCK:
        processes = list(_PROCESSES.values())
        _PROCESSES.clear()
    for process in processes:
        process.stop()
