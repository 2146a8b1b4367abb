"""The program mutator, crossover, fitness, parent selection and rank correlation."""

from __future__ import annotations

import random

import pytest
from scipy.stats import spearmanr

from openxiv.genesys.design import Node, gpt_seed, retention_seed, validate
from openxiv.genesys.designer import choose_mode, crossover, mutate, name_for, scratch
from openxiv.genesys.fitness import Result, fitness, rung_scores, select_parents, spearman


def test_mutations_stay_well_formed_and_differ_from_the_parent() -> None:
    rng = random.Random(3)
    parent = retention_seed()
    seen = set()
    for _ in range(60):
        child, what = mutate(parent, rng, donors=[gpt_seed()])
        assert validate(child) == [], what
        assert child.fingerprint() != parent.fingerprint()
        seen.add(what.split()[0])
    # Every kind of edit shows up: arguments, swaps, wrapping, grafting.
    assert {"set", "replaced", "grafted"} <= seen
    assert seen & {"put", "chained"}


def test_mutation_is_deterministic_for_a_seed() -> None:
    first = mutate(gpt_seed(), random.Random(11), donors=[retention_seed()])
    second = mutate(gpt_seed(), random.Random(11), donors=[retention_seed()])
    assert first[0].to_json() == second[0].to_json() and first[1] == second[1]


def test_unwrap_removes_a_wrapper() -> None:
    wrapped = gpt_seed()
    wrapped.root.children["mixer"] = Node("TokenShift", children={"inner": Node("Retention")})
    rng = random.Random(0)
    outcomes = {mutate(wrapped, rng)[1].split()[0] for _ in range(80)}
    assert "removed" in outcomes


def test_crossover_mixes_slots_of_both_parents() -> None:
    a, b = gpt_seed(), retention_seed()
    child, what = crossover(a, b, random.Random(5))
    assert validate(child) == []
    slots = child.root.children
    from_a = [s for s in slots if slots[s].to_json() == a.root.children[s].to_json()]
    from_b = [s for s in slots if slots[s].to_json() == b.root.children[s].to_json()]
    assert from_a and from_b, what


def test_scratch_designs_are_valid_blocks() -> None:
    rng = random.Random(1)
    for _ in range(30):
        design, _ = scratch(rng)
        assert validate(design) == []
        assert design.root.unit in ("ResidualBlock", "ParallelBlock")
    assert name_for(gpt_seed(), 4).startswith("g4-cau-")


def test_mode_mix_and_warm_up() -> None:
    rng = random.Random(2)
    assert choose_mode(rng, {"mutation": 1.0}, warming_up=True, verified=5) == "scratch"
    assert choose_mode(rng, {"mutation": 1.0}, warming_up=False, verified=0) == "scratch"
    modes = [
        choose_mode(rng, {"mutation": 0.5, "crossover": 0.5, "scratch": 0.0}, warming_up=False, verified=3)
        for _ in range(200)
    ]
    assert set(modes) == {"mutation", "crossover"}
    only_one = [
        choose_mode(rng, {"mutation": 0.5, "crossover": 0.5}, warming_up=False, verified=1) for _ in range(50)
    ]
    assert "crossover" not in only_one  # crossover needs two verified parents


def test_fitness_averages_tasks_seeds_and_rungs() -> None:
    results = [
        Result("a", 0, "x", 0.5, 0.1), Result("a", 0, "y", 0.3, 0.1),  # seed 0: 0.3
        Result("a", 1, "x", 0.7, 0.1), Result("a", 1, "y", 0.5, 0.1),  # seed 1: 0.5
        Result("b", 0, "x", 0.9, 0.1), Result("b", 0, "y", 0.9, 0.1),  # rung b: 0.8
        Result("c", 0, "x", 0.9, 0.1),  # rung c lacks task y: not counted
    ]  # fmt: skip
    scores = {s.rung: s for s in rung_scores(results, ["x", "y"])}
    assert set(scores) == {"a", "b"}
    assert scores["a"].mean == pytest.approx(0.4) and scores["a"].seeds == 2
    assert scores["a"].std == pytest.approx(0.1414, abs=1e-3)
    found = fitness(results, ["x", "y"])
    assert found is not None and found.value == pytest.approx(0.6)
    assert fitness([], ["x"]) is None


def test_parent_selection_exploits_by_rank_and_explores() -> None:
    ranked = [(1, 0.9), (2, 0.5), (3, 0.1), (4, 0.0)]
    rng = random.Random(0)
    exploit = [select_parents(ranked, 1, rng, explore=0.0)[0] for _ in range(2000)]
    explore = [select_parents(ranked, 1, rng, explore=1.0)[0] for _ in range(2000)]
    assert exploit.count(1) > exploit.count(2) > exploit.count(4)
    assert min(explore.count(i) for i in (1, 2, 3, 4)) > 350  # near uniform
    pair = select_parents(ranked, 2, rng, explore=0.2)
    assert len(set(pair)) == 2


def test_spearman_matches_scipy_including_ties() -> None:
    x = [1.0, 2.0, 2.0, 5.0, 3.0, 0.0]
    y = [0.1, 0.4, 0.3, 0.9, 0.2, 0.0]
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert spearman([1, 1, 1], [1, 2, 3]) is None
    assert spearman([1, 2], [1, 2]) is None
