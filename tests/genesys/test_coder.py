"""The LLM coder: its unit goes through the checker; code that fails is fed back, and after the
attempts run out the program mutator takes over."""

from __future__ import annotations

import json
import random
from pathlib import Path

from openxiv.client import OpenXivClient
from openxiv.genesys.checker import check_design
from openxiv.genesys.coder import LLMCoder
from openxiv.genesys.design import gpt_seed, retention_seed
from openxiv.genesys.ladder import ladder
from openxiv.genesys.loop import Evolution, GenesysConfig
from openxiv.genesys.publish import unit_code
from openxiv.genesys.store import CHECK_FAILED, CHECKED, VERIFIED, Store
from openxiv.llm.client import LLMClient
from openxiv.llm.port import Completion, ModelCall
from openxiv.llm.settings import LLMSettings

RUNG = ladder("smoke")[0]

CUMULATIVE_MEAN = """
class RunningMean(Unit):
    ROLE = "mixer"
    def __init__(self, dim, children=None):
        super().__init__(dim, children)
        self.proj = nn.Linear(dim, dim)
    def compute(self, X, Z):
        steps = torch.arange(1, X.shape[1] + 1, dtype=X.dtype).view(1, -1, 1)
        return self.proj(X.cumsum(dim=1) / steps), Z
"""


class ScriptedModel:
    """An adapter that answers every call with the next prepared answer, and keeps the prompts."""

    def __init__(self, answers: list[dict[str, str]]) -> None:
        self.answers = answers
        self.prompts: list[str] = []

    async def complete(self, call: ModelCall) -> Completion:
        self.prompts.append(call.messages[-1].content)
        answer = self.answers[min(len(self.prompts) - 1, len(self.answers) - 1)]
        return Completion(json.dumps(answer), 10, 10, "scripted", "stop")

    def count_tokens(self, text: str) -> int:
        return len(text) // 4


def settings() -> LLMSettings:
    return LLMSettings.model_validate({"models": {"coder": {"provider": "test", "model": "det-1"}}})


def test_a_unit_written_by_the_model_is_checked_and_used() -> None:
    model = ScriptedModel(
        [{"unit_name": "RunningMean", "code": CUMULATIVE_MEAN, "rationale": "a causal running mean"}]
    )
    coder = LLMCoder(LLMClient(settings(), adapters={"coder": model}), "coder")
    design, what = coder.write(retention_seed(), "average the past")
    assert design.root.children["mixer"].unit == "RunningMean" and "RunningMean" in design.code
    assert "written by the model" in what and "average the past" in model.prompts[0]
    report = check_design(design, RUNG, efficiency_factor=1e6)
    assert report.passed, report.to_markdown()
    assert "class RunningMean(Unit)" in unit_code(design)


def test_failed_code_goes_back_to_the_model_then_the_mutator_takes_over(tmp_path: Path) -> None:
    leaky = CUMULATIVE_MEAN.replace("X.cumsum(dim=1) / steps", "X.mean(dim=1, keepdim=True).expand_as(X)")
    model = ScriptedModel(
        [
            {"unit_name": "Leaky", "code": leaky.replace("RunningMean", "Leaky"), "rationale": "r"},
            {"unit_name": "LeakyAgain", "code": leaky.replace("RunningMean", "LeakyAgain"), "rationale": "r"},
        ]
    )
    store = Store(f"sqlite:///{tmp_path / 'coder.db'}")
    seed = store.add_design(gpt_seed(), generation=0, mode="seed", parents=[], operation="", coder="library")
    assert seed is not None
    store.update(seed.id, status=VERIFIED, fitness=0.1, fitness_std=0.0)
    config = GenesysConfig(ladder="smoke", coder_attempts=2, check_attempts=4, efficiency_factor=1e6)
    config.mix = {"mutation": 1.0}
    with OpenXivClient("http://127.0.0.1:9") as unused:  # designing never talks to the platform
        evolution = Evolution(
            config,
            store,
            unused,
            author="x",
            coder=LLMCoder(LLMClient(settings(), adapters={"coder": model}), "coder"),
        )
        row = evolution._design_one(1, 0, random.Random(0), warming_up=False)
    rows = store.designs()
    failed = [r for r in rows if r.status == CHECK_FAILED]
    assert [r.coder for r in failed] == ["coder", "coder"]
    assert all("reads the future" in json.dumps(r.check) for r in failed)
    assert "failed the checker" in model.prompts[1] and "reads the future" in model.prompts[1]
    assert row is not None and row.status == CHECKED and row.coder == "mutator"
    store.close()


def test_the_test_provider_s_placeholder_code_fails_the_format_step() -> None:
    coder = LLMCoder(LLMClient(settings()), "coder")
    design, _ = coder.write(gpt_seed(), "anything")
    report = check_design(design, RUNG)
    assert not report.passed and report.steps[0].name == "format" and not report.steps[0].ok
