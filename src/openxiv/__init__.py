"""OpenXiv: an open-access preprint server with AI peer review."""

__version__ = "0.1.0"
