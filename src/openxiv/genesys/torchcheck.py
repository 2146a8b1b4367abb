"""The one place that decides whether torch is there; model-building modules call it first."""

from __future__ import annotations

import importlib.util


class GenesysUnavailable(RuntimeError):
    """torch is not installed: the genesys extra is missing."""


INSTALL_HINT = "Genesys needs PyTorch: pip install 'openxiv[genesys]' (or pip install torch)"


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def require_torch() -> None:
    if not torch_available():
        raise GenesysUnavailable(INSTALL_HINT)
