"""The LLM coder: writes one custom unit for a slot of a design, through an `openxiv.llm` alias.

It is asked for the source of a `Unit` subclass; the checker then decides. A failed check goes
back to the model as its report, up to a few attempts, after which the loop falls back to the
deterministic mutator. The model never runs anything itself: its source is checked on the AST
(allowed imports and names) and executed with a reduced set of builtins (`units.load_custom_units`).
"""

from __future__ import annotations

import keyword
import re
from typing import Literal

from pydantic import BaseModel, Field

from openxiv.genesys.design import CATALOGUE, Design, Node
from openxiv.llm.client import LLMClient
from openxiv.llm.port import system, user

CONTRACT = """You write one unit of an autoregressive language-model block in PyTorch.
A unit subclasses `Unit` (already defined; `torch`, `nn`, `F` = torch.nn.functional and `math`
are available) and implements `compute(self, X, Z)`, where X is batch x time x dim and Z is a
dict of side variables; it returns (Y, Z) with Y of the same shape as X. The constructor is
`__init__(self, dim, children=None, **args)` and must call `super().__init__(dim, children)`.
The unit must be causal: the output at position t may depend only on inputs at positions <= t.
Set the class attribute ROLE = "mixer". Keep it small: parameters about 3*dim*dim."""


class UnitCode(BaseModel):
    unit_name: str = Field(description="a CamelCase class name that is not already in the library")
    role: Literal["mixer"] = "mixer"
    code: str = Field(description="Python source defining the class")
    rationale: str = Field(description="why this unit could model language better, in two sentences")


def _clean_name(name: str) -> str:
    cleaned = re.sub(r"\W", "", name.strip()) or "CustomUnit"
    if not cleaned[0].isalpha() or keyword.iskeyword(cleaned):
        cleaned = f"Unit{cleaned}"
    if cleaned in CATALOGUE:
        cleaned = f"{cleaned}Custom"
    return cleaned[:60]


class LLMCoder:
    def __init__(self, llm: LLMClient, alias: str) -> None:
        self.llm = llm
        self.alias = alias

    def write(self, base: Design, idea: str, feedback: str = "") -> tuple[Design, str]:
        """`base` with its first mixer replaced by a unit the model writes for `idea`."""
        prompt = [
            f"The current block:\n{base.outline()}",
            f"Idea to implement as a new mixer unit: {idea}",
        ]
        if feedback:
            prompt.append(f"Your previous attempt failed the checker:\n{feedback}\nFix it.")
        answer, _ = self.llm.generate(UnitCode, [system(CONTRACT), user("\n\n".join(prompt))], self.alias)
        name = _clean_name(answer.unit_name)
        source = re.sub(rf"class\s+{re.escape(answer.unit_name.strip())}\b", f"class {name}", answer.code)
        design = base.copy()
        design.code[name] = source
        target = next(
            (path for path, node in design.root.walk() if path and CATALOGUE.get(node.unit, None) is not None
             and CATALOGUE[node.unit].role == "mixer"),
            None,
        )  # fmt: skip
        if target is None:
            design.root.children["mixer"] = Node(name)
        else:
            design.replace(target, Node(name))
        return (
            design,
            f"a new mixer unit {name} written by the model: {' '.join(answer.rationale.split())[:400]}",
        )
