"""The evolution tree on SQLite (its own file) and on PostgreSQL (the platform's engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openxiv.genesys.design import gpt_seed, retention_seed
from openxiv.genesys.store import CHECKED, NEW, Store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'nested' / 'tree.db'}"  # the folder is created on open
    else:
        request.applymarker(pytest.mark.postgres)
        url = str(request.getfixturevalue("postgres_database")).replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    opened = Store(url)
    request.addfinalizer(opened.close)
    return opened


def test_designs_results_and_state_survive_reopening(store: Store) -> None:
    gpt = store.add_design(gpt_seed(), generation=0, mode="seed", parents=[], operation="", coder="library")
    assert gpt is not None and gpt.status == NEW
    assert (
        store.add_design(
            gpt_seed().copy(name="same"), generation=1, mode="mutation", parents=[], operation="", coder="m"
        )
        is None
    )
    child = store.add_design(
        retention_seed(), generation=1, mode="mutation", parents=[gpt.id], operation="swap", coder="mutator"
    )
    assert child is not None
    store.update(child.id, status=CHECKED, dims={"smoke-a": 16}, check={"steps": [], "passed": True})
    result = {"rung": "smoke-a", "seed": 0, "task": "mod_add", "score": 0.5, "baseline": 0.1, "seconds": 1.0}
    store.add_result(child.id, result)
    store.add_result(child.id, {**result, "score": 0.9})  # a repeated job keeps the first answer
    store.set_state("generation_done", 1)

    again = Store(store.url)
    try:
        row = again.get(child.id)
        assert row.parents == [gpt.id] and row.dims == {"smoke-a": 16} and row.status == CHECKED
        assert row.to_design().fingerprint() == retention_seed().fingerprint()
        [evaluation] = again.results(child.id)
        assert evaluation.score == 0.5 and evaluation.detail == {"seconds": 1.0}
        assert again.done(child.id) == {("smoke-a", 0, "mod_add")}
        assert again.get_state("generation_done") == 1 and again.get_state("missing", "x") == "x"
        assert again.last_generation() == 1 and again.by_name("gpt") is not None
    finally:
        again.close()
