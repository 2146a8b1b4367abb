"""Bulk seeding of realistic submissions straight into the tables (SQLAlchemy core, explicit ids).

Only the seeding bypasses the service layer; every measured request goes through the HTTP server.
Each submission gets 1-3 versions, 1-4 ordered authors per version (humans, some with platform
accounts and ORCID iDs, mixed with agents), source/PDF blob rows for papers, and a transition log
that follows the lifecycle table (every step is checked with `can_transition`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, func, select, text

import openxiv.models  # noqa: F401  (registers every table on Base.metadata)
from openxiv.accounts import service as accounts
from openxiv.config import POLICY_VERSION
from openxiv.db import make_session_factory, transaction
from openxiv.models.base import Base
from openxiv.submissions.author_words import name_words
from openxiv.submissions.lifecycle import Status, can_transition

BATCH = 5_000
MONTHS = 24
ACCOUNTS = 200
AGENTS = 60


def _split(words: str) -> list[str]:
    return words.split()


GIVEN = _split(
    "Ada Amara Bao Chidi Dana Elif Emeka Farah Goran Hana Ines Jonas Kaito Lea Lior Mateus Mei Nadia "
    "Nikhil Olga Omar Priya Quentin Rosa Sami Tariq Ulla Vera Wen Xavier Yara Zoltan Aino Bruno "
    "Carmen Dmitri Esi"
)
FAMILY = _split(
    "Abebe Almeida Andersen Banerjee Becker Castillo Chen Costa Dubois Eze Fischer Garcia Haddad "
    "Hansen Ito Ivanova Jensen Kapoor Kim Kowalski Larsen Lindqvist Mensah Moreau Nakamura Novak "
    "Okafor Olsen Park Petrov Quispe Rahman Rossi Santos Sato Schmidt Silva Singh Sokolova Tanaka "
    "Torres Usman Varga Wagner Wang Weber Xu Yamamoto Yilmaz Zhang Ziegler Adeyemi Bianchi Horvat "
    "Kovacs Lopez Murphy Nguyen"
)
# One surname for the "common author" filter and one full name for the "rare author" filter.
COMMON_SURNAME = "Okafor"
RARE_AUTHOR = "Ingrid Vasquez-Lindgren"
RARE_EVERY = 5_000  # the rare author is on one submission in this many

ABSTRACT_WORDS = _split(
    "we study the effect of warm-up schedules batch size curriculum sampling on the stability of "
    "small transformer and state-space language models across seeds datasets and tokenisers reporting "
    "loss variance calibration and downstream accuracy with ablations of optimiser hyperparameters"
)

# Weighted final states: most items are in review or decided, a few are early or held.
FINAL_STATES: tuple[tuple[Status, int], ...] = (
    (Status.SUBMITTED, 3),
    (Status.SCREENING, 2),
    (Status.HELD, 2),
    (Status.UNDER_REVIEW, 25),
    (Status.REVISION_REQUESTED, 10),
    (Status.PROVISIONALLY_ACCEPTED, 25),
    (Status.ACCEPTED, 15),
    (Status.REJECTED, 13),
    (Status.WITHDRAWN, 5),
)


@dataclass
class Seeded:
    """What the measurements need to know about the seeded data."""

    records: int
    identifiers: list[str]  # index i -> identifier of submission id i + 1
    token: str  # API key (read+submit) of the benchmark account
    account_id: int
    rare_matches: int
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)


def orcid_with_checksum(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(15)]
    total = 0
    for d in digits:
        total = (total + d) * 2
    check = (12 - total % 11) % 11
    raw = "".join(map(str, digits)) + ("X" if check == 10 else str(check))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


_PHRASES: dict[int, list[str]] = {}


def _words(rng: random.Random, count: int) -> str:
    """Pseudo-text of `count` words, drawn from a pool built once per length (building is the slow part)."""
    pool = _PHRASES.get(count)
    if pool is None:
        maker = random.Random(count)
        pool = [" ".join(maker.choice(ABSTRACT_WORDS) for _ in range(count)) for _ in range(400)]
        _PHRASES[count] = pool
    return rng.choice(pool)


def _path(final: Status, versions: int) -> list[tuple[Status, int, str]]:
    """The visited states (state, version, actor kind) from v1 to the final state."""
    steps: list[tuple[Status, int, str]] = [(Status.SUBMITTED, 1, "human")]
    for number in range(2, versions + 1):
        steps += [
            (Status.SCREENING, number - 1, "screening"),
            (Status.UNDER_REVIEW, number - 1, "screening"),
            (Status.REVISION_REQUESTED, number - 1, "vote"),
            (Status.SUBMITTED, number, "human"),
        ]
    if final is Status.SUBMITTED:
        return steps
    steps.append((Status.SCREENING, versions, "screening"))
    if final is Status.SCREENING:
        return steps
    if final is Status.HELD:
        return [*steps, (final, versions, "screening")]
    steps.append((Status.UNDER_REVIEW, versions, "screening"))
    tail = {
        Status.UNDER_REVIEW: [],
        Status.REVISION_REQUESTED: [(Status.REVISION_REQUESTED, versions, "vote")],
        Status.PROVISIONALLY_ACCEPTED: [(Status.PROVISIONALLY_ACCEPTED, versions, "vote")],
        Status.ACCEPTED: [
            (Status.PROVISIONALLY_ACCEPTED, versions, "vote"),
            (Status.ACCEPTED, versions, "vote"),
        ],
        Status.REJECTED: [(Status.REJECTED, versions, "vote")],
        Status.WITHDRAWN: [(Status.WITHDRAWN, versions, "human")],
    }[final]
    return steps + tail


# Column order of the tuples the generator produces (and of the INSERT / COPY statements).
COLUMNS: dict[str, tuple[str, ...]] = {
    "blobs": (
        "sha256",
        "size",
        "media_type",
        "filename",
        "text",
        "pages",
        "uploaded_by_account_id",
        "created_at",
    ),
    "submissions": (
        "id",
        "identifier",
        "kind",
        "status",
        "title",
        "owner_id",
        "latest_version",
        "created_at",
        "updated_at",
    ),
    "submission_versions": (
        "id",
        "submission_id",
        "number",
        "title",
        "abstract",
        "meta",
        "proposal",
        "source_format",
        "source_sha256",
        "pdf_sha256",
        "extracted_text",
        "response_letter",
        "created_by_account_id",
        "created_by_agent_id",
        "created_at",
    ),
    "version_authors": (
        "id",
        "version_id",
        "position",
        "kind",
        "name",
        "account_id",
        "agent_id",
        "orcid",
        "affiliation",
    ),
    "author_words": ("submission_id", "word"),
    "transitions": (
        "id",
        "submission_id",
        "version_number",
        "from_status",
        "to_status",
        "actor_account_id",
        "actor_agent_id",
        "actor_system",
        "reason",
        "created_at",
    ),
}
INSERT_ORDER = tuple(COLUMNS)
JSON_COLUMNS = {"meta", "proposal", "roles"}
TIME_COLUMNS = {"created_at", "updated_at", "policy_accepted_at", "disabled_at"}

Row = tuple[Any, ...]
# An author before it is attached to a version: position, kind, name, account_id, agent_id, orcid, affiliation.
Author = tuple[int, str, str, int | None, int | None, str | None, str | None]


class _Generator:
    """Produces the rows of submission i in one go, so ids and foreign keys line up."""

    def __init__(
        self,
        records: int,
        now: datetime,
        rng: random.Random,
        owners: list[int],
        agents: list[tuple[int, str]],
        people: dict[int, tuple[str, str | None]],
    ) -> None:
        self.records = records
        self.rng = rng
        self.owners = owners
        self.agents = agents
        self.people = people
        first_of_this_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        # Seed whole months before the current one, so that creates in the current month get fresh numbers.
        self.months: list[datetime] = []
        cursor = first_of_this_month
        for _ in range(MONTHS):
            cursor = (cursor - timedelta(days=1)).replace(day=1)
            self.months.insert(0, cursor)
        self.per_month = -(-records // MONTHS)
        self.version_id = 0
        self.author_id = 0
        self.transition_id = 0
        self.month_counts: dict[str, int] = {}
        self.rare_matches = 0
        self.states = [s for s, _ in FINAL_STATES]
        self.weights = [w for _, w in FINAL_STATES]
        self.paths: dict[tuple[Status, int], list[tuple[Status, int, str]]] = {}

    def _path(self, final: Status, versions: int) -> list[tuple[Status, int, str]]:
        key = (final, versions)
        if key not in self.paths:
            path = _path(final, versions)
            for (before, _, _), (after, _, _) in itertools.pairwise(path):
                if not can_transition(before, after):
                    raise AssertionError(f"seed path breaks the lifecycle: {before} -> {after}")
            self.paths[key] = path
        return self.paths[key]

    def submission(self, index: int, out: dict[str, list[Row]]) -> str:
        rng = self.rng
        sid = index + 1
        month_index = min(index // self.per_month, MONTHS - 1)
        month = self.months[month_index]
        next_month = (month + timedelta(days=32)).replace(day=1)
        span = (next_month - month).total_seconds() * 0.8
        created = month + timedelta(seconds=span * (index - month_index * self.per_month) / self.per_month)
        yymm = month.strftime("%y%m")
        number_in_month = self.month_counts.get(yymm, 0) + 1
        self.month_counts[yymm] = number_in_month
        identifier = f"{yymm}.{number_in_month:05d}"
        kind = "paper" if rng.random() < 0.65 else "proposal"
        final = rng.choices(self.states, self.weights)[0]
        versions = 1 if rng.random() < 0.8 else (2 if rng.random() < 0.75 else 3)
        if final in (Status.SUBMITTED, Status.SCREENING):
            versions = 1
        owner = rng.choice(self.owners)
        authors = self._authors(rng, owner, rare=index % RARE_EVERY == RARE_EVERY // 2)
        title = "On " + _words(rng, 6)
        meta = {
            "keywords": _words(rng, 3).split(),
            "categories": ["cs.LG"],
            "licence": "CC-BY-4.0",
            "ai_involvement": "An agent ran the experiments and drafted the text.",
            "ip_attribution": {"model_developer": "Example Lab", "initiating_human": authors[0][2]},
            "links": {"code": None, "data": None},
            "corresponding_author": 0,
        }
        for number in range(1, versions + 1):
            self.version_id += 1
            vid = self.version_id
            at = created + timedelta(days=3 * (number - 1))
            source_sha = pdf_sha = source_format = proposal = None
            if kind == "paper":
                body = f"# {title}\n\n## Abstract\n" + _words(rng, 200)
                source_format = "markdown"
                source_sha = hashlib.sha256(b"bench-source-%d" % vid).hexdigest()
                out["blobs"].append(
                    (source_sha, len(body), "text/markdown", "paper.md", body, None, owner, at)
                )
                if rng.random() < 0.3:
                    pdf_sha = hashlib.sha256(b"bench-pdf-%d" % vid).hexdigest()
                    out["blobs"].append(
                        (pdf_sha, 40 * len(body), "application/pdf", "paper.pdf", body, 12, owner, at)
                    )
            else:
                proposal = {
                    "problem_statement": _words(rng, 60),
                    "motivation": _words(rng, 40),
                    "proposed_method": _words(rng, 80),
                    "experiment_plan": _words(rng, 60),
                    "expected_results_and_risks": _words(rng, 40),
                    "timeline_and_resources": "Four weeks on 2 GPUs.",
                }
                body = title + "\n\n" + "\n\n".join(proposal.values())
            letter = None if number == 1 else "We answered each review point; see section 5."
            out["submission_versions"].append(
                (
                    vid,
                    sid,
                    number,
                    title,
                    _words(rng, 100),
                    meta,
                    proposal,
                    source_format,
                    source_sha,
                    pdf_sha,
                    body,
                    letter,
                    owner,
                    None,
                    at,
                )
            )
            for author in authors:
                self.author_id += 1
                out["version_authors"].append((self.author_id, vid, *author))
        out["author_words"].extend((sid, word) for word in sorted(name_words(a[2] for a in authors)))
        at = created
        previous: str | None = None
        for state, number, actor in self._path(final, versions):
            self.transition_id += 1
            at = max(at + timedelta(hours=2), created + timedelta(days=3 * (number - 1)))
            human = actor == "human"
            out["transitions"].append(
                (
                    self.transition_id,
                    sid,
                    number,
                    previous,
                    state.value,
                    owner if human else None,
                    None,
                    None if human else f"pipeline:{actor}",
                    "submitted" if human else f"{actor} finished",
                    at,
                )
            )
            previous = state.value
        out["submissions"].append((sid, identifier, kind, final.value, title, owner, versions, created, at))
        return identifier

    def _authors(self, rng: random.Random, owner: int, *, rare: bool) -> list[Author]:
        count = rng.choices((1, 2, 3, 4), (20, 35, 30, 15))[0]
        name, orcid = self.people[owner]
        out: list[Author] = [(0, "human", name, owner, None, orcid, "Example University")]
        for position in range(1, count):
            if rng.random() < 0.35:
                agent_id, agent_name = rng.choice(self.agents)
                out.append((position, "agent", agent_name, None, agent_id, None, None))
            else:
                orcid = orcid_with_checksum(rng) if rng.random() < 0.4 else None
                out.append(
                    (position, "human", f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}", None, None, orcid, None)
                )
        if rare:
            self.rare_matches += 1
            out.append((len(out), "human", RARE_AUTHOR, None, None, None, "Example Institute"))
        return out


def _people(
    engine: Engine, rng: random.Random
) -> tuple[list[int], list[tuple[int, str]], dict[int, tuple[str, str | None]], str, int]:
    """The benchmark account with a real key (through the service), plus other accounts and agents."""
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        me = accounts.register_account(
            session,
            email="bench@example.org",
            password="benchmark password",
            display_name="Bench Marker",
            accept_policy=True,
            policy_version=POLICY_VERSION,
            orcid="0000-0002-1825-0097",
        )
        token = accounts.issue_key(session, me, scopes=["read", "submit"], name="bench").token
        password_hash = me.password_hash  # argon2 is slow on purpose: one hash serves every seeded account
        my_id = me.id
    tables = Base.metadata.tables
    now = datetime.now(UTC)
    people: list[dict[str, Any]] = []
    for n in range(ACCOUNTS):
        name = f"{GIVEN[n % len(GIVEN)]} {FAMILY[(n * 7) % len(FAMILY)]}"
        people.append(
            {
                "id": my_id + 1 + n,
                "email": f"person{n}@example.org",
                "display_name": name,
                "orcid": orcid_with_checksum(rng) if n % 2 else None,
                "affiliation": "Example University",
                "password_hash": password_hash,
                "roles": ["author"],
                "policy_version": POLICY_VERSION,
                "policy_accepted_at": now,
                "created_at": now,
                "disabled_at": None,
            }
        )
    agent_rows = [
        {
            "id": 1 + n,
            "owner_id": people[n % ACCOUNTS]["id"],
            "name": f"Scout-{n}",
            "model_identity": "genesys-lite/0.1",
            "organisation": "Example Lab",
            "description": "",
            "created_at": now,
            "disabled_at": None,
        }
        for n in range(AGENTS)
    ]
    with engine.begin() as connection:
        connection.execute(tables["accounts"].insert(), people)
        connection.execute(tables["agents"].insert(), agent_rows)
    owners = [p["id"] for p in people]
    accounts_by_id = {p["id"]: (p["display_name"], p["orcid"]) for p in people}
    return owners, [(a["id"], a["name"]) for a in agent_rows], accounts_by_id, token, my_id


def _writer(engine: Engine, connection: Any) -> Any:
    """Bulk writer on the driver connection: executemany on SQLite, COPY on PostgreSQL.

    SQLAlchemy's per-row type processing costs more than the database's own work at this volume,
    so values are converted here, in the column types' stored form."""
    postgres = engine.dialect.name == "postgresql"

    def convert(columns: tuple[str, ...]) -> Any:
        json_at = [i for i, c in enumerate(columns) if c in JSON_COLUMNS]
        time_at = [] if postgres else [i for i, c in enumerate(columns) if c in TIME_COLUMNS]

        def row(values: Row) -> Row:
            if not json_at and not time_at:
                return values
            out = list(values)
            for i in json_at:
                out[i] = None if out[i] is None else json.dumps(out[i])
            for i in time_at:
                out[i] = None if out[i] is None else out[i].strftime("%Y-%m-%d %H:%M:%S.%f")
            return tuple(out)

        return row

    def write(table: str, columns: tuple[str, ...], rows: list[Row]) -> None:
        to_stored = convert(columns)
        cursor = connection.cursor()
        try:
            if postgres:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for values in rows:
                        copy.write_row(to_stored(values))
            else:
                marks = ", ".join("?" * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [to_stored(v) for v in rows],
                )
        finally:
            cursor.close()

    return write


def seed(engine: Engine, records: int, *, rng_seed: int = 20261126) -> Seeded:
    """Insert `records` submissions (with versions, authors, blobs, transitions) into an empty schema."""
    started = time.perf_counter()
    rng = random.Random(rng_seed)
    owners, agents, people, token, my_id = _people(engine, rng)
    gen = _Generator(records, datetime.now(UTC), rng, owners, agents, people)
    counts = dict.fromkeys(INSERT_ORDER, 0)
    identifiers: list[str] = []
    raw = engine.raw_connection()
    try:
        write = _writer(engine, raw.driver_connection)
        for first in range(0, records, BATCH):
            batch: dict[str, list[Row]] = {name: [] for name in INSERT_ORDER}
            for index in range(first, min(first + BATCH, records)):
                identifiers.append(gen.submission(index, batch))
            _begin(engine, raw)
            for name in INSERT_ORDER:
                write(name, COLUMNS[name], batch[name])
                counts[name] += len(batch[name])
            _commit(engine, raw)
    finally:
        raw.close()
    tables: dict[str, Table] = dict(Base.metadata.tables)
    with engine.begin() as connection:
        connection.execute(
            tables["identifier_sequences"].insert(),
            [{"month": month, "last_number": n} for month, n in gen.month_counts.items()],
        )
        if engine.dialect.name == "postgresql":
            # Explicit ids bypass the sequences; move them past the seeded rows.
            for name in (
                "accounts",
                "agents",
                "submissions",
                "submission_versions",
                "version_authors",
                "transitions",
            ):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                    )
                )
    if engine.dialect.name == "postgresql":
        # Autovacuum would analyse these tables within a minute or two of a bulk load; do it now so
        # the first measurements do not depend on when it happens to run.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(tables["submissions"]))
    if stored != records:
        raise RuntimeError(f"seeding stored {stored} submissions, expected {records}")
    return Seeded(
        records=records,
        identifiers=identifiers,
        token=token,
        account_id=my_id,
        rare_matches=gen.rare_matches,
        seconds=time.perf_counter() - started,
        rows=counts,
    )


def _begin(engine: Engine, raw: Any) -> None:
    if engine.dialect.name != "postgresql":
        # The engine's connect hook puts pysqlite in autocommit mode; one transaction per batch.
        raw.driver_connection.execute("BEGIN IMMEDIATE")


def _commit(engine: Engine, raw: Any) -> None:
    if engine.dialect.name == "postgresql":
        raw.driver_connection.commit()
    else:
        raw.driver_connection.execute("COMMIT")
