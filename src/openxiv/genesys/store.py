"""The evolution tree: designs, their verification results and the run's state (no torch).

Own tables on their own metadata, created on open: a genesys database is a separate file by
default (`var/genesys/genesys.db`), or any SQLAlchemy URL (the platform's PostgreSQL server, say),
and it is not part of the platform's migrations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from openxiv.genesys.design import Design
from openxiv.genesys.fitness import Result

DEFAULT_URL = "sqlite:///var/genesys/genesys.db"

# Where a design is in its life; `loop.py` moves it forward and resumes from here after a stop.
NEW = "new"  # proposed and coded, not yet checked
CHECK_FAILED = "check_failed"
CHECKED = "checked"  # passed the checker; its proposal goes to the platform next
REVIEWED = "reviewed"  # the platform decided on the proposal
VERIFYING = "verifying"
VERIFIED = "verified"
SKIPPED = "skipped"  # rejected at review and not sampled for verification


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class DesignRow(Base):
    __tablename__ = "genesys_designs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True)
    generation: Mapped[int] = mapped_column(Integer, index=True)
    mode: Mapped[str] = mapped_column(String(20))  # seed, mutation, crossover, scratch
    parents: Mapped[list[int]] = mapped_column(JSON, default=list)
    operation: Mapped[str] = mapped_column(Text, default="")
    coder: Mapped[str] = mapped_column(String(100), default="mutator")
    design: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=NEW, index=True)
    check: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    dims: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # rung -> tuned width
    proposal_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    proposal_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    proposal_rating: Mapped[float | None] = mapped_column(Float, nullable=True)
    proposal_versions: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[bool | None] = mapped_column(nullable=True)
    paper_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    paper_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    paper_rungs: Mapped[list[str]] = mapped_column(JSON, default=list)  # rungs the paper reports
    fitness: Mapped[float | None] = mapped_column(Float, nullable=True)
    fitness_std: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)

    def to_design(self) -> Design:
        return Design.from_json(self.design)


class EvaluationRow(Base):
    __tablename__ = "genesys_evaluations"
    __table_args__ = (UniqueConstraint("design_id", "rung", "seed", "task"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("genesys_designs.id"), index=True)
    rung: Mapped[str] = mapped_column(String(40))
    seed: Mapped[int] = mapped_column(Integer)
    task: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    baseline: Mapped[float] = mapped_column(Float)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    def result(self) -> Result:
        return Result(self.rung, self.seed, self.task, self.score, self.baseline)


class StateRow(Base):
    __tablename__ = "genesys_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Store:
    def __init__(self, url: str = DEFAULT_URL) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = create_engine(url)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # -- designs ------------------------------------------------------------------------------

    def add_design(
        self, design: Design, *, generation: int, mode: str, parents: list[int], operation: str, coder: str
    ) -> DesignRow | None:
        """The new row, or None when the same architecture is already in the tree."""
        with self.session() as s:
            if s.scalar(select(DesignRow.id).where(DesignRow.fingerprint == design.fingerprint())):
                return None
            row = DesignRow(
                name=design.name,
                fingerprint=design.fingerprint(),
                generation=generation,
                mode=mode,
                parents=parents,
                operation=operation,
                coder=coder,
                design=design.to_json(),
                status=NEW,
                dims={},
                paper_rungs=[],
            )
            s.add(row)
            s.flush()
            return row

    def update(self, design_id: int, **values: Any) -> DesignRow:
        with self.session() as s:
            row = s.get_one(DesignRow, design_id)
            for key, value in values.items():
                setattr(row, key, value)
            s.flush()
            return row

    def get(self, design_id: int) -> DesignRow:
        with self.session() as s:
            return s.get_one(DesignRow, design_id)

    def designs(self, *statuses: str) -> list[DesignRow]:
        with self.session() as s:
            query = select(DesignRow).order_by(DesignRow.id)
            if statuses:
                query = query.where(DesignRow.status.in_(statuses))
            return list(s.scalars(query))

    def by_name(self, name: str) -> DesignRow | None:
        with self.session() as s:
            return s.scalar(select(DesignRow).where(DesignRow.name == name).order_by(DesignRow.id))

    def last_generation(self) -> int:
        return max((row.generation for row in self.designs()), default=-1)

    # -- evaluations --------------------------------------------------------------------------

    def add_result(self, design_id: int, result: dict[str, Any]) -> None:
        with self.session() as s:
            exists = s.scalar(
                select(EvaluationRow.id).where(
                    EvaluationRow.design_id == design_id,
                    EvaluationRow.rung == result["rung"],
                    EvaluationRow.seed == result["seed"],
                    EvaluationRow.task == result["task"],
                )
            )
            if exists:
                return
            s.add(
                EvaluationRow(
                    design_id=design_id,
                    rung=result["rung"],
                    seed=result["seed"],
                    task=result["task"],
                    score=result["score"],
                    baseline=result["baseline"],
                    detail={
                        k: v
                        for k, v in result.items()
                        if k not in ("rung", "seed", "task", "score", "baseline")
                    },
                )
            )

    def results(self, design_id: int | None = None) -> list[EvaluationRow]:
        with self.session() as s:
            query = select(EvaluationRow).order_by(EvaluationRow.id)
            if design_id is not None:
                query = query.where(EvaluationRow.design_id == design_id)
            return list(s.scalars(query))

    def done(self, design_id: int) -> set[tuple[str, int, str]]:
        return {(r.rung, r.seed, r.task) for r in self.results(design_id)}

    # -- run state ----------------------------------------------------------------------------

    def get_state(self, key: str, default: Any = None) -> Any:
        with self.session() as s:
            row = s.get(StateRow, key)
            return json.loads(row.value) if row else default

    def set_state(self, key: str, value: Any) -> None:
        with self.session() as s:
            row = s.get(StateRow, key)
            if row is None:
                s.add(StateRow(key=key, value=json.dumps(value)))
            else:
                row.value = json.dumps(value)
