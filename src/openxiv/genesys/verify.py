"""Verification: train a design on one task at one rung with one seed, and score it.

One call is one queue job (`jobs.py`), so the jobs of a generation spread over every worker.
The score is the held-out accuracy at the masked positions; fitness subtracts the task's random
baseline (`fitness.py`).
"""

from __future__ import annotations

import math
import time
from typing import Any

from openxiv.genesys.torchcheck import require_torch

require_torch()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from openxiv.genesys.design import Design  # noqa: E402
from openxiv.genesys.ladder import Rung  # noqa: E402
from openxiv.genesys.tasks import VOCAB, make_task  # noqa: E402
from openxiv.genesys.units import LanguageModel, parameter_count  # noqa: E402


def _learning_rate(step: int, rung: Rung) -> float:
    warmup = max(1, rung.steps // 10)
    if step < warmup:
        return rung.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, rung.steps - warmup)
    return rung.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def masked_loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits[mask], targets[mask])


def train_and_score(
    design: Design, *, dim: int, rung: Rung, task: str, seed: int, corpus: str = ""
) -> dict[str, Any]:
    started = time.perf_counter()
    torch.manual_seed(seed)
    job = make_task(task, seq_len=rung.seq_len, corpus=corpus)
    model = LanguageModel(design, dim=dim, layers=rung.layers, vocab=VOCAB, max_len=rung.seq_len)
    optimiser = torch.optim.AdamW(model.parameters(), lr=rung.lr, weight_decay=0.01)
    rng = torch.Generator().manual_seed(seed)
    loss_value = float("nan")
    model.train()
    for step in range(rung.steps):
        for group in optimiser.param_groups:
            group["lr"] = _learning_rate(step, rung)
        tokens, targets, mask = job.batch(rung.batch, rung.seq_len, rng)
        loss = masked_loss(model(tokens), targets, mask)
        if not torch.isfinite(loss):
            break
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        loss_value = float(loss.detach())
    model.eval()
    held = job.eval_set(rung.seq_len)
    with torch.no_grad():
        logits = model(held.tokens)
        predicted = logits.argmax(-1)
        correct = (predicted == held.targets)[held.mask]
        score = float(correct.float().mean())
        eval_loss = float(masked_loss(logits, held.targets, held.mask))
    if not math.isfinite(eval_loss):
        score = 0.0
    return {
        "task": task,
        "seed": seed,
        "rung": rung.name,
        "score": score,
        "baseline": job.baseline,
        "train_loss": loss_value if math.isfinite(loss_value) else None,
        "eval_loss": eval_loss if math.isfinite(eval_loss) else None,
        "params": parameter_count(model),
        "dim": dim,
        "seconds": round(time.perf_counter() - started, 3),
    }
