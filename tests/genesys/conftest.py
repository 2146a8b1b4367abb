"""Genesys tests need torch (the optional `genesys` extra); without it they are skipped."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
