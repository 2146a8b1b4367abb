"""What a subscriber receives for an event (the same document on the stream and in webhooks),
which events a subscriber asked for, and whether it may see them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from openxiv.accounts.authz import Principal
from openxiv.errors import InvalidInput
from openxiv.events import types
from openxiv.models import Event, Submission
from openxiv.submissions.service import can_view

MAX_TYPE_FILTERS = 20


def event_document(event: Event, identifier: str | None) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "submission": identifier,
        "version": event.version_number,
        "payload": event.payload,
        "created_at": event.created_at.isoformat(),
    }


def encode(document: dict[str, Any]) -> str:
    """Compact JSON on one line (an SSE `data:` line; the exact bytes a webhook signs)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class TypeFilter:
    """Event types by exact name or by prefix (`review.*`); empty means every type."""

    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, values: Iterable[str], field: str = "type") -> TypeFilter:
        names: set[str] = set()
        prefixes: list[str] = []
        given = [value.strip() for value in values if value.strip()]
        if len(given) > MAX_TYPE_FILTERS:
            raise InvalidInput(f"at most {MAX_TYPE_FILTERS} event types", field=field)
        for value in given:
            if value.endswith(".*"):
                prefix = value[:-1]
                if not any(known.startswith(prefix) for known in types.ALL):
                    raise InvalidInput(f"no event type starts with {prefix!r}", field=field)
                prefixes.append(prefix)
            elif value in types.ALL:
                names.add(value)
            else:
                raise InvalidInput(
                    f"unknown event type {value!r} (known: {', '.join(types.ALL)}; or a prefix such as "
                    "'review.*')",
                    field=field,
                )
        return cls(frozenset(names), tuple(prefixes))

    @classmethod
    def parse_stored(cls, values: Iterable[str]) -> TypeFilter:
        """A filter saved earlier, taken as it is (a type renamed since matches nothing)."""
        given = list(values)
        return cls(
            frozenset(value for value in given if not value.endswith(".*")),
            tuple(value[:-1] for value in given if value.endswith(".*")),
        )

    def as_list(self) -> list[str]:
        return sorted(self.names) + [f"{prefix}*" for prefix in self.prefixes]

    def matches(self, event_type: str) -> bool:
        if not self.names and not self.prefixes:
            return True
        return event_type in self.names or event_type.startswith(self.prefixes)


def visible(submission: Submission | None, viewer: Principal | None) -> bool:
    """The submissions rule, as of now: an event about an item the caller may not see (held by
    screening, not theirs) is not sent; once the item is public, its history is."""
    return submission is None or can_view(submission, viewer)
