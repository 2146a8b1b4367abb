"""The descriptive fields of a version that have no column of their own, kept together in the
`submission_versions.meta` JSON column.

One typed model is the only way in and out of that column: the service writes it, presenters
read it. The JSON it produces is the one the column has always held, so rows written before the
model existed read the same (a field they lack takes its default).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from openxiv.submissions.schemas import IPAttribution


def _no_attribution() -> IPAttribution:
    return IPAttribution(model_developer="", initiating_human="")


class VersionMeta(BaseModel):
    model_config = ConfigDict(frozen=True)

    keywords: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    licence: str = ""
    ai_involvement: str = ""
    ip_attribution: IPAttribution = Field(default_factory=_no_attribution)
    # "code" and "data": a URL, or None when the authors gave none.
    links: dict[str, str | None] = Field(default_factory=dict)
    corresponding_author: int = 0  # index into the version's authors

    @classmethod
    def from_column(cls, stored: dict[str, Any] | None) -> VersionMeta:
        return cls.model_validate(stored or {})

    def to_column(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
