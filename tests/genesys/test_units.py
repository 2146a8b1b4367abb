"""The unit contract, the seed library and composition of designs into one model."""

from __future__ import annotations

import pytest
import torch

from openxiv.genesys.design import CATALOGUE, Design, Node, gpt_seed, retention_seed, validate
from openxiv.genesys.units import (
    LIBRARY,
    LanguageModel,
    MixerChain,
    ResidualBlock,
    TokenShift,
    Unit,
    UnitContractError,
    build_unit,
    library_matches_catalogue,
    load_custom_units,
)


def test_library_and_catalogue_agree() -> None:
    assert library_matches_catalogue() == []
    assert set(LIBRARY) == set(CATALOGUE)


def test_design_json_round_trip_keeps_the_fingerprint() -> None:
    design = retention_seed()
    again = Design.from_json(design.dumps())
    assert again.to_json() == design.to_json()
    assert again.fingerprint() == design.fingerprint()
    renamed = design.copy(name="other")
    assert renamed.fingerprint() == design.fingerprint()  # the name is not the architecture
    renamed.root.children["mixer"].args["heads"] = 2
    assert renamed.fingerprint() != design.fingerprint()


def test_validate_names_the_problem() -> None:
    bad = gpt_seed()
    bad.root.children["mixer"] = Node("GatedMLP")  # an mlp in a mixer slot
    bad.root.children["norm1"].args["eps"] = 0.5
    bad.root.children["nonsense"] = Node("RMSNorm")
    problems = " | ".join(validate(bad))
    assert "mixer: expects a mixer, got GatedMLP" in problems
    assert "eps=0.5 is not one of" in problems
    assert "declares no child 'nonsense'" in problems


@pytest.mark.parametrize("make", [gpt_seed, retention_seed])
def test_seed_designs_compose_into_a_language_model(make: object) -> None:
    design = make()  # type: ignore[operator]
    model = LanguageModel(design, dim=16, layers=2, max_len=12)
    tokens = torch.randint(0, 256, (3, 12))
    logits = model(tokens)
    assert logits.shape == (3, 12, 256)
    logits.mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_forward_asserts_batch_time_dim() -> None:
    unit = build_unit(gpt_seed().root, 16, LIBRARY)
    with pytest.raises(UnitContractError, match=r"expected B×T×16"):
        unit(torch.zeros(2, 5, 8))
    with pytest.raises(UnitContractError):
        unit(torch.zeros(2, 16))


def test_a_unit_that_changes_the_shape_breaks_the_contract() -> None:
    class Shrinks(Unit):
        def compute(self, X: torch.Tensor, Z: dict) -> tuple[torch.Tensor, dict]:  # type: ignore[type-arg]
            return X[:, :-1], Z

    with pytest.raises(UnitContractError, match="Shrinks returned"):
        Shrinks(4)(torch.zeros(1, 3, 4))


def test_empty_slots_are_identity_and_side_variables_are_threaded() -> None:
    x = torch.randn(2, 7, 8)
    chain = MixerChain(8)
    y, z = chain(x, note=1)
    assert torch.equal(y, x) and z == {"note": 1}

    class Marks(Unit):
        def compute(self, X: torch.Tensor, Z: dict) -> tuple[torch.Tensor, dict]:  # type: ignore[type-arg]
            return X * 2, {**Z, "seen": Z.get("seen", 0) + 1}

    y, z = MixerChain(8, {"first": Marks(8), "second": Marks(8)})(x)
    assert torch.allclose(y, 4 * x) and z == {"seen": 2}
    # A block whose slots are all empty: mixer and mlp are identities, so each residual doubles x.
    y, _ = ResidualBlock(8)(x)
    assert torch.allclose(y, 4 * x)


def test_token_shift_only_looks_back_one_position() -> None:
    shift = TokenShift(4)
    x = torch.randn(1, 6, 4)
    y, _ = shift(x)
    x2 = x.clone()
    x2[:, 4:] += 10.0
    y2, _ = shift(x2)
    assert torch.equal(y[:, :4], y2[:, :4])
    assert not torch.equal(y[:, 4:], y2[:, 4:])


def test_custom_unit_code_runs_but_cannot_import_freely() -> None:
    design = gpt_seed()
    design.code["Doubler"] = (
        "class Doubler(Unit):\n    ROLE = 'mixer'\n    def compute(self, X, Z):\n        return X * 2.0, Z\n"
    )
    design.root.children["mixer"] = Node("Doubler")
    assert validate(design) == []
    classes = load_custom_units(design)
    y, _ = classes["Doubler"](4)(torch.ones(1, 2, 4))
    assert torch.equal(y, torch.full((1, 2, 4), 2.0))
    design.code["Doubler"] = "import os\nclass Doubler(Unit):\n    pass\n"
    with pytest.raises(ImportError, match="may import only"):
        load_custom_units(design)
