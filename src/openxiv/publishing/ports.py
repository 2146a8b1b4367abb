"""The DOI registrar port: what the publishing jobs need from DataCite or any other registrar.

A registrar makes one DOI findable with the metadata it is given, whether the DOI is new or
already known to it (a repeat after a crash, or an update after a newer version appeared), so a
registration can always be retried.
"""

from __future__ import annotations

from typing import Any, Protocol


class RegistrarError(Exception):
    """The registrar did not take the DOI. `permanent` when repeating cannot help (the registrar
    refused the metadata itself); else the job retries on its schedule."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Registrar(Protocol):
    name: str

    def register(self, doi: str, attributes: dict[str, Any]) -> None:
        """Make `doi` findable with `attributes` (DataCite kernel-4 attributes, including `url`).
        Raises RegistrarError."""
        ...


def doi_for(prefix: str, namespace: str, identifier: str, version: int | None) -> str:
    """The DOI of an item (`version` None: the concept DOI) or of one of its versions. Derived from
    the identifier alone, so every registrar and every retry names the same DOI."""
    suffix = f"{namespace}.{identifier}" if version is None else f"{namespace}.{identifier}v{version}"
    return f"{prefix}/{suffix}".lower()
