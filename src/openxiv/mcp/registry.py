"""How a tool is declared, and what a tool function receives.

A tool is one typed function `def name(call: Call, args: SomethingIn) -> SomethingOut` (the
docstring's first line is its title, the whole docstring its description) plus one line in
`tools.TOOLS` naming its toolsets and behaviour hints. The input model is the tool's
`inputSchema`, the output model its `outputSchema`; the output's `text()` is the short text copy
that goes with the structured result.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, get_type_hints

import mcp_types as types
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from openxiv.accounts.authz import Principal
from openxiv.db import transaction
from openxiv.errors import Unauthenticated
from openxiv.runtime import Runtime

READER = "reader"
AUTHOR = "author"
REVIEWER = "reviewer"
COMMUNITY = "community"
TOOLSETS = (READER, AUTHOR, REVIEWER, COMMUNITY)
DEFAULT_TOOLSETS = frozenset(TOOLSETS)


class ToolInput(BaseModel):
    """Arguments of a tool: unknown names are refused, so a typo is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


class ToolOutput(BaseModel):
    """A tool's structured result; `text()` is the short copy for clients that show text only."""

    def text(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Call:
    """One tool call: the process's runtime and who is calling (None: no credential, reads only)."""

    runtime: Runtime
    principal: Principal | None

    def acting(self) -> Principal:
        """The caller of a write: a credential is required, as on every REST write."""
        if self.principal is None:
            raise Unauthenticated(
                "this tool writes and needs an API key (stdio: set OPENXIV_API_KEY; HTTP: "
                "Authorization: Bearer oxk_...)"
            )
        return self.principal

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self.runtime.read_sessions() as session:
            yield session

    @contextmanager
    def writing(self, *, dry_run: bool = False) -> Iterator[Session]:
        """A write transaction. With `dry_run` the same service code runs in full (validation,
        authorization, the rows it would add) and is then rolled back: nothing is stored and no
        job is queued, since jobs are queued only after a commit."""
        if not dry_run:
            with transaction(self.runtime.write_sessions) as session:
                yield session
            return
        with self.runtime.write_sessions() as session:
            try:
                yield session
                session.flush()
            finally:
                session.rollback()


ToolFunction = Callable[[Call, Any], ToolOutput]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    toolsets: frozenset[str]
    function: ToolFunction
    input_model: type[ToolInput]
    output_model: type[ToolOutput]
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool = False

    @property
    def writes(self) -> bool:
        return not self.read_only

    def as_mcp(self) -> types.Tool:
        return types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=compact_schema(self.input_model.model_json_schema()),
            output_schema=compact_schema(self.output_model.model_json_schema(mode="serialization")),
            annotations=types.ToolAnnotations(
                title=self.title,
                read_only_hint=self.read_only,
                destructive_hint=self.destructive,
                idempotent_hint=self.idempotent,
                open_world_hint=self.open_world,
            ),
        )


def compact_schema(schema: Any) -> Any:
    """The schema without pydantic's generated `title` on every property and model: the names
    already say it, and the tool list is read into the agent's context on every turn."""
    if isinstance(schema, list):
        return [compact_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    compact: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("default", "examples", "const", "enum"):
            compact[key] = value  # data, not schema
        elif key in ("properties", "$defs") and isinstance(value, dict):
            compact[key] = {name: compact_schema(sub) for name, sub in value.items()}
        else:
            compact[key] = compact_schema(value)
    return compact


def tool(
    function: Callable[[Call, Any], Any],
    *,
    toolsets: tuple[str, ...],
    read_only: bool,
    destructive: bool,
    idempotent: bool,
) -> ToolSpec:
    """Declare a tool from its function. Every hint is explicit: MCP's defaults (destructive,
    not idempotent) would misdescribe most tools."""
    hints = get_type_hints(function)
    input_model, output_model = hints["args"], hints["return"]
    if not (issubclass(input_model, ToolInput) and issubclass(output_model, ToolOutput)):
        raise TypeError(f"{function.__name__}: arguments must be a ToolInput and the result a ToolOutput")
    unknown = set(toolsets) - set(TOOLSETS)
    if unknown:
        raise ValueError(f"{function.__name__}: unknown toolsets {sorted(unknown)}")
    if read_only and destructive:
        raise ValueError(f"{function.__name__}: a read-only tool cannot be destructive")
    description = inspect.getdoc(function) or ""
    return ToolSpec(
        name=function.__name__,
        title=description.split("\n", 1)[0].rstrip("."),
        description=description,
        toolsets=frozenset(toolsets),
        function=function,
        input_model=input_model,
        output_model=output_model,
        read_only=read_only,
        destructive=destructive,
        idempotent=idempotent,
    )


def parse_toolsets(value: str | None) -> frozenset[str]:
    """`reader,author` -> the toolsets; None or empty: all of them."""
    if not value:
        return DEFAULT_TOOLSETS
    chosen = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = chosen - set(TOOLSETS)
    if unknown:
        raise ValueError(f"unknown toolsets {sorted(unknown)}; choose from {', '.join(TOOLSETS)}")
    return chosen
