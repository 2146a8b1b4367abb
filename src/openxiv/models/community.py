from __future__ import annotations

# ORM tables of the community domain live here; they are imported by models/__init__ for Alembic.
