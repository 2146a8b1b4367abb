"""Public identifiers `YYMM.NNNNN` (month of first submission + per-month sequence) and `vN`."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from openxiv.errors import InvalidInput
from openxiv.models import IdentifierSequence

IDENTIFIER = re.compile(r"^(\d{4})\.(\d{5,6})(?:v(\d+))?$")


def allocate_identifier(session: Session, when: datetime) -> str:
    """Take the next number of the month in one atomic upsert, safe under concurrency on both
    databases (PostgreSQL row lock on conflict; SQLite's single writer)."""
    month = when.strftime("%y%m")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(IdentifierSequence)
        .values(month=month, last_number=1)
        .on_conflict_do_update(
            index_elements=[IdentifierSequence.month],
            set_={"last_number": IdentifierSequence.last_number + 1},
        )
        .returning(IdentifierSequence.last_number)
    )
    number = session.execute(statement).scalar_one()
    return f"{month}.{number:05d}"


def parse_identifier(value: str) -> tuple[str, int | None]:
    """'2611.00001' -> ('2611.00001', None); '2611.00001v3' -> ('2611.00001', 3)."""
    match = IDENTIFIER.match(value.strip())
    if not match:
        raise InvalidInput(
            f"{value!r} is not an identifier of the form YYMM.NNNNN or YYMM.NNNNNvN", field="id"
        )
    version = int(match.group(3)) if match.group(3) else None
    if version == 0:
        raise InvalidInput("versions are numbered from v1", field="id")
    return f"{match.group(1)}.{match.group(2)}", version
