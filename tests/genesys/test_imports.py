"""torch is an optional extra: the server, the API, the reviews and the CLI start without it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "openxiv"
# The only modules that may import torch at their top level; they check for it first.
TORCH_MODULES = {"units.py", "tasks.py", "verify.py", "checker.py"}


def test_the_platform_never_loads_torch() -> None:
    code = (
        "import sys\n"
        "import openxiv.app, openxiv.cli, openxiv.worker, openxiv.runtime\n"
        "import openxiv.genesys.loop, openxiv.genesys.report, openxiv.genesys.cli, openxiv.genesys.store\n"
        "from openxiv.app import create_app\n"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('torch'))[:5]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_only_genesys_model_modules_import_torch() -> None:
    offenders = []
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if not any(n == "torch" or n.startswith("torch.") for n in names):
                continue
            relative = path.relative_to(SOURCE)
            in_genesys = relative.parts[0] == "genesys"
            if not in_genesys or (id(node) in top_level and path.name not in TORCH_MODULES):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []
