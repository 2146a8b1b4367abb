"""`openxiv doctor`: what a user needs to trust an installation, checked one thing at a time.

Every check returns a `Check` (ok or not, one line). Nothing here can crash the doctor itself:
the embedded model is loaded and asked for a token in a child process, so a native crash in
llama.cpp (a build for the wrong CPU) becomes one line of the report. Hosted models are only
called with `--online`; otherwise the doctor checks that their keys are set.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openxiv.config import Settings

PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF"
# The x86-64 features the portable build of llama.cpp needs, and ones worth knowing about.
NEEDED_X86 = ("avx", "avx2", "fma", "f16c", "bmi2")
NOTABLE_X86 = ("avx512f", "amx_tile")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings, *, online: bool = False) -> list[Check]:
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("python", _python),
        ("configuration", lambda: _configuration(settings)),
        ("database", lambda: _database(settings)),
        ("migrations", lambda: _migrations(settings)),
        ("queue", lambda: _queue(settings)),
        ("blob store", lambda: _blobs(settings)),
        ("cpu", _cpu),
    ]
    if _uses_embedded(settings):
        checks.append(("embedded model", lambda: _embedded_model(settings)))
    results = [_guarded(name, check) for name, check in checks]
    return results + _hosted_aliases(settings, online)


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as error:  # a check that breaks is a problem to report, not a crash
        return Check(name, False, _short_error(error))


def _python() -> Check:
    version = platform.python_version()
    ok = sys.version_info >= (3, 11)
    return Check(
        "python", ok, f"Python {version} at {sys.executable}" + ("" if ok else "; OpenXiv needs >= 3.11")
    )


def _configuration(settings: Settings) -> Check:
    """What `serve` and `worker` would refuse to start with (production mode only)."""
    from openxiv.config import ConfigError, check_production_safety, resolve_secret_key

    try:
        check_production_safety(settings)
        if settings.mode == "production":  # elsewhere resolving may create a key file: not here
            resolve_secret_key(settings)
    except ConfigError as error:
        return Check("configuration", False, str(error))
    return Check("configuration", True, f"mode {settings.mode}")


def _short_error(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:240]


def _database(settings: Settings) -> Check:
    from sqlalchemy import text

    from openxiv.db import make_engine

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return Check(
            "database", False, f"{_redacted(settings.database_url)} not reachable ({_short_error(error)})"
        )
    finally:
        engine.dispose()
    return Check("database", True, f"{_redacted(settings.database_url)} reachable")


def _migrations(settings: Settings) -> Check:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from openxiv.db import make_engine
    from openxiv.migrations import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config(settings.database_url)).get_heads())
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:
        return Check("migrations", False, f"cannot read the schema version ({_short_error(error)})")
    finally:
        engine.dispose()
    if current == heads:
        return Check("migrations", True, f"schema at {', '.join(sorted(heads))}")
    shown = ", ".join(sorted(current)) or "no schema"
    return Check(
        "migrations",
        False,
        f"schema at {shown}, code expects {', '.join(sorted(heads))}: run `openxiv db upgrade`",
    )


def _queue(settings: Settings) -> Check:
    from openxiv.worker import make_huey

    url = settings.queue.url
    if url == "immediate":
        return Check("queue", True, "immediate (jobs run inline; no worker needed)")
    try:
        pending = make_huey(settings.queue).pending_count()
    except Exception as error:
        return Check("queue", False, f"{_redacted(url)} not reachable ({_short_error(error)})")
    return Check("queue", True, f"{_redacted(url)} reachable, {pending} job(s) waiting")


def _blobs(settings: Settings) -> Check:
    from openxiv.storage import make_blob_store

    probe = b"openxiv doctor: the blob store is writable\n"
    digest = hashlib.sha256(probe).hexdigest()
    store = make_blob_store(settings.storage)
    where = settings.storage.s3_bucket if settings.storage.backend == "s3" else str(settings.storage.root)
    try:
        store.put(digest, probe)  # content-addressed: writing it again is harmless
        ok = store.get(digest) == probe
    except Exception as error:
        return Check(
            "blob store", False, f"{settings.storage.backend} {where} not writable ({_short_error(error)})"
        )
    return Check(
        "blob store",
        ok,
        f"{settings.storage.backend} {where} " + ("writable" if ok else "returned other bytes"),
    )


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text("utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def _cpu() -> Check:
    machine = platform.machine()
    flags = cpu_flags()
    if machine not in ("x86_64", "AMD64"):
        return Check("cpu", True, f"{machine}, {os.cpu_count()} cores")
    missing = [flag for flag in NEEDED_X86 if flag not in flags]
    present = [flag for flag in (*NEEDED_X86, *NOTABLE_X86) if flag in flags]
    detail = f"{machine}, {os.cpu_count()} cores, features: {' '.join(present) or 'unknown'}"
    if flags and missing:
        return Check(
            "cpu",
            False,
            f"{detail}; lacks {' '.join(missing)}: rebuild llama-cpp-python with those switched off",
        )
    return Check("cpu", True, detail)


def _uses_embedded(settings: Settings) -> bool:
    return any(alias.provider == "embedded" for alias in settings.llm.models.values())


# Runs in a child process: prints llama.cpp's build info, then the embedded model's first token.
_PROBE = """
import asyncio, json, sys
import llama_cpp
info = llama_cpp.llama_print_system_info()
print(json.dumps({"system_info": info.decode() if isinstance(info, bytes) else str(info)}), flush=True)
from openxiv.config import load_settings
from openxiv.llm.providers import build_adapter
from openxiv.llm.port import ModelCall, user
settings = load_settings()
adapter = build_adapter("embedded", settings.llm.alias("embedded"), settings.llm)
schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
call = ModelCall("embedded", "embedded", "probe", (user("Say ok."),), "Probe", schema, 0.0, 8)
try:
    answer = asyncio.run(adapter.complete(call))
finally:
    from openxiv.llm.modelprocess import stop_all
    stop_all()
print(json.dumps({"tokens": answer.output_tokens, "text": answer.text[:80]}), flush=True)
"""


def _embedded_model(settings: Settings, timeout_s: float = 300) -> Check:
    """Load the embedded model and generate, in a child (which itself runs the model server)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=os.environ.copy(),
        )
    except subprocess.TimeoutExpired:
        return Check("embedded model", False, f"no token within {timeout_s:g} s")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    info = next((line["system_info"] for line in lines if "system_info" in line), "")
    build = " ".join(part for part in info.split("|") if "= 1" in part).replace(" = 1", "").split()
    build_text = f"llama.cpp build: {' '.join(build) or info.strip() or 'unknown'}"
    answer = next((line for line in lines if "tokens" in line), None)
    if done.returncode == 0 and answer is not None:
        return Check("embedded model", True, f"generated {answer['tokens']} token(s); {build_text}")
    last = (done.stderr.strip().splitlines() or [""])[-1][:300]
    if done.returncode < 0:
        from openxiv.llm.modelprocess import describe_exit

        why = f"the probe process {describe_exit(done.returncode)}"
    else:
        why = last or f"the probe exited with status {done.returncode}"
    hint = (
        f'; rebuild llama-cpp-python portably: CMAKE_ARGS="{PORTABLE_CMAKE_ARGS}" FORCE_CMAKE=1 '
        "pip install --no-cache-dir --force-reinstall 'llama-cpp-python[server]'"
        if "SIG" in why
        else ""
    )
    return Check("embedded model", False, f"{why}{hint}; {build_text}")


def _hosted_aliases(settings: Settings, online: bool) -> list[Check]:
    results = []
    for name, alias in sorted(settings.llm.models.items()):
        if alias.provider in ("embedded", "test"):
            continue
        env = alias.key_env()
        keyless = alias.provider == "openai-compatible" and not alias.api_key_env
        if env and not os.environ.get(env) and not keyless:
            results.append(
                Check(f"model {name}", False, f"{alias.provider} {alias.model}: ${env} is not set")
            )
            continue
        if not online:
            results.append(
                Check(
                    f"model {name}",
                    True,
                    f"{alias.provider} {alias.model}: key set (not called; --online calls it)",
                )
            )
            continue
        results.append(_guarded(f"model {name}", lambda name=name: _call_alias(settings, name)))  # type: ignore[misc]
    return results


def _call_alias(settings: Settings, name: str) -> Check:
    from pydantic import BaseModel

    from openxiv.llm.client import LLMClient
    from openxiv.llm.port import LLMError, user

    class Probe(BaseModel):
        ok: bool

    alias = settings.llm.alias(name)
    try:
        _, usage = LLMClient(settings.llm).generate(
            Probe, [user('Answer {"ok": true}.')], name, max_output_tokens=16
        )
    except LLMError as error:
        return Check(f"model {name}", False, f"{alias.provider} {alias.model}: {error}"[:300])
    return Check(
        f"model {name}", True, f"{alias.provider} {usage.model}: answered in {usage.latency_ms:.0f} ms"
    )


def _redacted(url: str) -> str:
    """A URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]
