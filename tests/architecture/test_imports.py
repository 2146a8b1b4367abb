"""The import rules of docs/architecture.md, checked over the source's syntax trees.

Every import counts, including those inside functions and under `TYPE_CHECKING`: a lazy import
hides a dependency from the reader but not from this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src"
DOMAINS = (
    "accounts",
    "submissions",
    "review",
    "integrity",
    "literature",
    "events",
    "evaluation",
    "community",
    "publishing",
)
# Not domains: `mcp` is a delivery layer like the web app (it may hold the runtime), and
# `tooling` holds generators, training and benchmark code that drive the runtime from outside.
# Where web frameworks may be imported: the app, the HTTP kit, routers, pages, request
# dependencies, and the MCP server's HTTP transport.
FRAMEWORK_MODULES = ("fastapi", "starlette")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(path: Path, name: str) -> set[str]:
    """Every module named by an import in the file: for `from package import name`, both the
    package and `package.name` (a submodule or not); `import_graph` keeps the package only when
    the names are not all submodules."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    files = {module_name(path, root): path for path in root.rglob("*.py")}
    files = {name: path for name, path in files.items() if not name.startswith("openxiv.migrations")}
    graph = {}
    for name, path in files.items():
        targets = {target for target in imported_names(path, name) if target in files and target != name}
        # `from package import submodule` depends on the submodule, not on the package's own code.
        packages = {target.rpartition(".")[0] for target in targets} & targets
        graph[name] = targets - {
            package for package in packages if not _imports_names_of(path, package, files)
        }
    return graph


def _imports_names_of(path: Path, package: str, modules: dict[str, Path]) -> bool:
    """Whether the file imports from `package` a name that is not one of its submodules."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        from_package = isinstance(node, ast.ImportFrom) and not node.level and node.module == package
        if from_package and any(f"{package}.{alias.name}" not in modules for alias in node.names):
            return True
    return False


def all_imports(root: Path) -> dict[str, set[str]]:
    return {
        module_name(path, root): imported_names(path, module_name(path, root)) for path in root.rglob("*.py")
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in DOMAINS else None


def test_no_import_cycles() -> None:
    assert cycles(import_graph(SOURCE)) == []


def test_the_http_kit_imports_no_domain() -> None:
    graph = import_graph(SOURCE)
    kit = {name: targets for name, targets in graph.items() if name.startswith("openxiv.http")}
    assert kit, "the HTTP kit (openxiv.http) is missing"
    offending = {
        f"{name} -> {target}"
        for name, targets in kit.items()
        for target in targets
        if domain_of(target) or target in ("openxiv.runtime", "openxiv.app", "openxiv.worker")
    }
    assert offending == set()


def test_only_the_app_imports_pages() -> None:
    graph = import_graph(SOURCE)
    offending = {
        f"{name} -> {target}"
        for name, targets in graph.items()
        for target in targets
        if target.endswith(".pages") and name != "openxiv.app"
    }
    assert offending == set()


def test_domains_import_no_composition_root() -> None:
    """Domains receive what they need; they never reach for the runtime, the app or the worker."""
    graph = import_graph(SOURCE)
    offending = {
        f"{name} -> {target}"
        for name, targets in graph.items()
        if domain_of(name) and not name.endswith(".cli")
        for target in targets
        if target in ("openxiv.runtime", "openxiv.app", "openxiv.worker")
    }
    assert offending == set()


def is_web_layer(module: str) -> bool:
    last = module.rpartition(".")[2]
    return (
        module in ("openxiv.app", "openxiv.cli")
        or module.startswith(("openxiv.http", "openxiv.mcp"))
        or last in ("api", "pages", "deps")
    )


def test_services_import_no_web_framework() -> None:
    offending = {
        f"{name} -> {target}"
        for name, targets in all_imports(SOURCE).items()
        if not is_web_layer(name)
        for target in targets
        if target.split(".")[0] in FRAMEWORK_MODULES
    }
    assert offending == set()


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ({"a.py": "import b", "b.py": "def f():\n    from a import x"}, [["a", "b"]]),
        (
            {"a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import b", "b.py": "import a"},
            [["a", "b"]],
        ),
        ({"a.py": "import b", "b.py": "import c", "c.py": ""}, []),
    ],
)
def test_the_cycle_check_sees_lazy_and_type_only_imports(
    tmp_path: Path, sources: dict[str, str], expected: list[list[str]]
) -> None:
    for file, text in sources.items():
        (tmp_path / file).write_text(text)
    assert cycles(import_graph(tmp_path)) == expected
