"""Stand-in for the model server process: `python -m tests.llm.fake_model_process PORT LOG CRASH_ON`.

It answers like an OpenAI-compatible server, appends `<call number> <pid>` to LOG for every chat
call (numbered across restarts), and on the calls listed in CRASH_ON (comma-separated) kills
itself with SIGSEGV in the middle of the request, as a native crash in llama.cpp would.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from pathlib import Path

from openxiv.tooling.fake_llm_server import FakeLLMServer, FakeReply, FakeRequest, schema_responder


def main() -> None:
    port, log, crash_on = int(sys.argv[1]), Path(sys.argv[2]), {int(n) for n in sys.argv[3].split(",") if n}
    lock = threading.Lock()

    def responder(request: FakeRequest) -> FakeReply:
        with lock:
            number = len(log.read_text().splitlines()) + 1 if log.exists() else 1
            with log.open("a") as out:
                out.write(f"{number} {os.getpid()}\n")
        if number in crash_on:
            ctypes.string_at(0)  # a read of address 0: the kernel ends the process with SIGSEGV
        return schema_responder(request)

    with FakeLLMServer(responder, port=port):
        threading.Event().wait()


if __name__ == "__main__":
    main()
