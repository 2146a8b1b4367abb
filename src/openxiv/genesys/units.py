"""The unit contract and the seed library, and composition of a design into one language model.

A unit is a `Unit` (a torch module). Its `forward(X, **Z)` returns `(Y, Z)`: X and Y are
batch × time × dim (checked on every call), Z is a dict of side variables that units may read
and extend as it is threaded through the tree. A unit names its children slots in `CHILDREN`
(slot -> role); a slot left empty in a design behaves as the identity, so a partial design runs
and a coder can write one unit at a time. Subclasses implement `compute`.

Everything below is causal by construction: a position only ever reads itself and earlier ones.
`checker.py` verifies that for any unit, including ones a coder wrote.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from openxiv.genesys.torchcheck import require_torch

require_torch()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import Tensor, nn  # noqa: E402

from openxiv.genesys.design import CATALOGUE, Design, DesignError, Node  # noqa: E402

Side = dict[str, Any]


class UnitContractError(AssertionError):
    """A unit broke the contract (shape or return value)."""


class Unit(nn.Module):
    ROLE: ClassVar[str] = "mixer"
    CHILDREN: ClassVar[dict[str, str]] = {}

    def __init__(self, dim: int, children: Mapping[str, Unit] | None = None, **args: Any) -> None:
        super().__init__()
        self.dim = dim
        self.args = args
        self.kids = nn.ModuleDict(dict(children or {}))

    def child(self, slot: str, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        """Run the child in `slot`; an undeclared or empty slot is the identity."""
        if slot in self.kids:
            return self.kids[slot](X, **Z)
        return X, Z

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        raise NotImplementedError

    def forward(self, X: Tensor, **Z: Any) -> tuple[Tensor, Side]:
        name = type(self).__name__
        if X.dim() != 3 or X.shape[-1] != self.dim:
            raise UnitContractError(f"{name} got input of shape {tuple(X.shape)}; expected B×T×{self.dim}")
        out = self.compute(X, dict(Z))
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict)):
            raise UnitContractError(f"{name}.compute must return (Y, Z) with Z a dict")
        Y, Z2 = out
        if not isinstance(Y, Tensor) or Y.shape != X.shape:
            shape = tuple(Y.shape) if isinstance(Y, Tensor) else type(Y).__name__
            raise UnitContractError(f"{name} returned {shape}; expected {tuple(X.shape)} (B×T×D)")
        return Y, Z2


# ----------------------------------------------------------------------------- blocks


class ResidualBlock(Unit):
    ROLE = "block"
    CHILDREN: ClassVar[dict[str, str]] = {"norm1": "norm", "mixer": "mixer", "norm2": "norm", "mlp": "mlp"}

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        normed, Z = self.child("norm1", X, Z)
        mixed, Z = self.child("mixer", normed, Z)
        hidden = X + mixed
        normed, Z = self.child("norm2", hidden, Z)
        fed, Z = self.child("mlp", normed, Z)
        return hidden + fed, Z


class ParallelBlock(Unit):
    ROLE = "block"
    CHILDREN: ClassVar[dict[str, str]] = {"norm": "norm", "mixer": "mixer", "mlp": "mlp"}

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        normed, Z = self.child("norm", X, Z)
        mixed, Z = self.child("mixer", normed, Z)
        fed, Z = self.child("mlp", normed, Z)
        return X + mixed + fed, Z


# ----------------------------------------------------------------------------- norms


class RMSNorm(Unit):
    ROLE = "norm"

    def __init__(self, dim: int, children: Mapping[str, Unit] | None = None, eps: float = 1e-5) -> None:
        super().__init__(dim, children, eps=eps)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        scale = torch.rsqrt(X.pow(2).mean(-1, keepdim=True) + self.eps)
        return X * scale * self.weight, Z


class LayerNorm(Unit):
    ROLE = "norm"

    def __init__(self, dim: int, children: Mapping[str, Unit] | None = None, eps: float = 1e-5) -> None:
        super().__init__(dim, children, eps=eps)
        self.norm = nn.LayerNorm(dim, eps=eps)

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        return self.norm(X), Z


# ----------------------------------------------------------------------------- mixers


def _split_heads(X: Tensor, heads: int) -> Tensor:
    batch, time, dim = X.shape
    return X.view(batch, time, heads, dim // heads).transpose(1, 2)


def _merge_heads(X: Tensor) -> Tensor:
    batch, heads, time, width = X.shape
    return X.transpose(1, 2).reshape(batch, time, heads * width)


def _lower_triangle(time: int, device: torch.device) -> Tensor:
    return torch.ones(time, time, dtype=torch.bool, device=device).tril()


class _HeadedMixer(Unit):
    def __init__(
        self, dim: int, children: Mapping[str, Unit] | None = None, heads: int = 4, **args: Any
    ) -> None:
        if dim % heads:
            raise DesignError(f"{type(self).__name__}: width {dim} is not divisible by {heads} heads")
        super().__init__(dim, children, heads=heads, **args)
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)

    def projections(self, X: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        q, k, v = self.qkv(X).chunk(3, dim=-1)
        return _split_heads(q, self.heads), _split_heads(k, self.heads), _split_heads(v, self.heads)


class CausalSelfAttention(_HeadedMixer):
    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        q, k, v = self.projections(X)
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(_merge_heads(attended)), Z


class Retention(_HeadedMixer):
    """Each head attends without softmax, weighting a past position by gamma**distance; the heads
    use different gammas (short to long memory), and a per-head RMS norm keeps scales even."""

    def __init__(
        self, dim: int, children: Mapping[str, Unit] | None = None, heads: int = 4, gated: bool = True
    ) -> None:
        super().__init__(dim, children, heads=heads, gated=gated)
        self.gated = gated
        self.gate = nn.Linear(dim, dim, bias=False) if gated else None
        exponents = torch.linspace(5.0, 9.0, heads) if heads > 1 else torch.tensor([6.0])
        self.log_gamma: Tensor
        self.register_buffer("log_gamma", torch.log1p(-torch.exp2(-exponents)), persistent=False)

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        q, k, v = self.projections(X)
        time = X.shape[1]
        steps = torch.arange(time, device=X.device, dtype=X.dtype)
        distance = steps[:, None] - steps[None, :]
        causal = _lower_triangle(time, X.device)
        decay = torch.exp(self.log_gamma.to(X.dtype)[:, None, None] * distance.clamp(min=0))
        decay = decay.masked_fill(~causal, 0.0)
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        retained = (scores * decay) @ v
        retained = retained * torch.rsqrt(retained.pow(2).mean(-1, keepdim=True) + 1e-6)
        Y = _merge_heads(retained)
        if self.gate is not None:
            Y = Y * F.silu(self.gate(X))
        return self.out(Y), Z


class LinearAttention(_HeadedMixer):
    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        q, k, v = self.projections(X)
        q, k = F.elu(q) + 1.0, F.elu(k) + 1.0
        causal = _lower_triangle(X.shape[1], X.device)
        weights = (q @ k.transpose(-1, -2)).masked_fill(~causal, 0.0)
        normalised = weights / (weights.sum(-1, keepdim=True) + 1e-6)
        return self.out(_merge_heads(normalised @ v)), Z


class CausalConv(Unit):
    def __init__(
        self, dim: int, children: Mapping[str, Unit] | None = None, kernel: int = 4, gated: bool = False
    ) -> None:
        super().__init__(dim, children, kernel=kernel, gated=gated)
        self.kernel = kernel
        self.conv = nn.Conv1d(dim, dim, kernel, groups=dim)
        self.gate = nn.Linear(dim, dim, bias=False) if gated else None
        self.out = nn.Linear(dim, dim, bias=False)

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        # Padding only on the left keeps every output at or behind its own position.
        padded = F.pad(X.transpose(1, 2), (self.kernel - 1, 0))
        Y = self.conv(padded).transpose(1, 2)
        if self.gate is not None:
            Y = Y * torch.sigmoid(self.gate(X))
        return self.out(Y), Z


class EMAMixer(Unit):
    """y_t = (1 - a) * sum_{s<=t} a**(t-s) x_s per channel, with a learned decay a in (0, 1)."""

    def __init__(self, dim: int, children: Mapping[str, Unit] | None = None, gated: bool = True) -> None:
        super().__init__(dim, children, gated=gated)
        self.decay_logit = nn.Parameter(torch.linspace(-1.0, 3.0, dim))
        self.gate = nn.Linear(dim, dim, bias=False) if gated else None
        self.out = nn.Linear(dim, dim, bias=False)

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        time = X.shape[1]
        steps = torch.arange(time, device=X.device, dtype=X.dtype)
        distance = (steps[:, None] - steps[None, :]).clamp(min=0)
        log_a = F.logsigmoid(self.decay_logit).to(X.dtype)
        kernel = torch.exp(log_a[:, None, None] * distance) * (1 - log_a.exp())[:, None, None]
        kernel = kernel.masked_fill(~_lower_triangle(time, X.device), 0.0)  # dim × T × T
        Y = torch.einsum("dts,bsd->btd", kernel, X)
        if self.gate is not None:
            Y = Y * F.silu(self.gate(X))
        return self.out(Y), Z


class TokenShift(Unit):
    CHILDREN: ClassVar[dict[str, str]] = {"inner": "mixer"}

    def __init__(self, dim: int, children: Mapping[str, Unit] | None = None) -> None:
        super().__init__(dim, children)
        self.mix_logit = nn.Parameter(torch.zeros(dim))

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        previous = F.pad(X, (0, 0, 1, 0))[:, :-1]
        mix = torch.sigmoid(self.mix_logit)
        return self.child("inner", X * mix + previous * (1 - mix), Z)


class MixerChain(Unit):
    CHILDREN: ClassVar[dict[str, str]] = {"first": "mixer", "second": "mixer"}

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        Y, Z = self.child("first", X, Z)
        return self.child("second", Y, Z)


# ----------------------------------------------------------------------------- feed-forward


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"silu": F.silu, "gelu": F.gelu, "relu": F.relu}


class GatedMLP(Unit):
    ROLE = "mlp"

    def __init__(
        self,
        dim: int,
        children: Mapping[str, Unit] | None = None,
        expansion: int = 2,
        activation: str = "silu",
        gated: bool = True,
    ) -> None:
        super().__init__(dim, children, expansion=expansion, activation=activation, gated=gated)
        hidden = expansion * dim
        self.activation = ACTIVATIONS[activation]
        self.up = nn.Linear(dim, hidden, bias=False)
        self.gate = nn.Linear(dim, hidden, bias=False) if gated else None
        self.down = nn.Linear(hidden, dim, bias=False)

    def compute(self, X: Tensor, Z: Side) -> tuple[Tensor, Side]:
        hidden: Tensor = self.activation(self.up(X))
        if self.gate is not None:
            hidden = hidden * self.gate(X)
        return self.down(hidden), Z


LIBRARY: dict[str, type[Unit]] = {
    cls.__name__: cls
    for cls in (
        ResidualBlock,
        ParallelBlock,
        RMSNorm,
        LayerNorm,
        CausalSelfAttention,
        Retention,
        LinearAttention,
        CausalConv,
        EMAMixer,
        TokenShift,
        MixerChain,
        GatedMLP,
    )
}


# ----------------------------------------------------------------------------- custom code

# What a coder's unit source may use; `checker.check_source` enforces the same list on the AST.
ALLOWED_IMPORTS = frozenset({"torch", "torch.nn", "torch.nn.functional", "math"})
_SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in (
        "abs", "all", "any", "bool", "dict", "enumerate", "float", "hasattr", "int", "isinstance",
        "len", "list", "max", "min", "range", "reversed", "round", "set", "sorted", "str", "sum", "super",
        "tuple", "type", "zip", "ValueError", "AssertionError", "__build_class__", "__name__",
    )
}  # fmt: skip


def _guarded_import(name: str, *args: Any, **kwargs: Any) -> Any:
    if name not in ALLOWED_IMPORTS:
        raise ImportError(f"unit code may import only {sorted(ALLOWED_IMPORTS)}, not {name!r}")
    return __import__(name, *args, **kwargs)


def load_custom_units(design: Design) -> dict[str, type[Unit]]:
    """Execute each custom unit's source in a namespace with torch, math and `Unit`, and return
    the classes. Run `checker.check_source` first: it refuses what the namespace cannot stop."""
    classes: dict[str, type[Unit]] = {}
    for name, source in design.code.items():
        namespace: dict[str, Any] = {
            "__builtins__": {**_SAFE_BUILTINS, "__import__": _guarded_import},
            "__name__": f"genesys_unit_{name}",
            "torch": torch,
            "nn": nn,
            "F": F,
            "math": math,
            "Unit": Unit,
        }
        exec(compile(source, f"<unit {name}>", "exec"), namespace)
        cls = namespace.get(name)
        if not (isinstance(cls, type) and issubclass(cls, Unit)):
            raise DesignError(f"the code of {name} must define `class {name}(Unit)`")
        classes[name] = cls
    return classes


# ----------------------------------------------------------------------------- composition


def build_unit(node: Node, dim: int, classes: Mapping[str, type[Unit]]) -> Unit:
    cls = classes.get(node.unit)
    if cls is None:
        raise DesignError(f"unknown unit {node.unit!r}")
    children = {
        slot: build_unit(child, dim, classes) for slot, child in node.children.items() if slot in cls.CHILDREN
    }
    return cls(dim, children, **node.args)


class LanguageModel(nn.Module):
    """Token and position embeddings, `layers` copies of the design's block, a final norm and a
    head tied to the embedding. Everything outside the block is the same for every design."""

    def __init__(
        self, design: Design, *, dim: int, layers: int, vocab: int = 256, max_len: int = 256
    ) -> None:
        super().__init__()
        classes = {**LIBRARY, **load_custom_units(design)}
        self.dim = dim
        self.embed = nn.Embedding(vocab, dim)
        self.position = nn.Embedding(max_len, dim)
        self.blocks = nn.ModuleList(build_unit(design.root, dim, classes) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.position.weight, std=0.02)

    def hidden(self, X: Tensor) -> Tensor:
        Z: Side = {}
        for block in self.blocks:
            X, Z = block(X, **Z)
        return X

    def forward(self, tokens: Tensor) -> Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        X = self.hidden(self.embed(tokens) + self.position(positions))
        return self.norm(X) @ self.embed.weight.T


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def library_matches_catalogue() -> list[str]:
    """Differences between the torch library and the torch-free catalogue (should be none)."""
    problems = []
    for name, spec in CATALOGUE.items():
        cls = LIBRARY.get(name)
        if cls is None:
            problems.append(f"{name} is in the catalogue but not in the library")
        elif (spec.role, spec.children) != (cls.ROLE, cls.CHILDREN):
            problems.append(f"{name}: role/children differ between catalogue and library")
    problems += [
        f"{name} is in the library but not in the catalogue" for name in LIBRARY if name not in CATALOGUE
    ]
    return problems
