"""Low-rank adapters (LoRA) on the model's linear layers.

Adapters are their own NNX variable type (`nnx.LoRAParam`, a subclass of `nnx.Param`), so one
`nnx.split` separates what trains from what stays frozen: the optimizer, gradients and checkpoints
only ever see `LoRAParam` leaves, and the base weights are passed around untouched, bit for bit.

A target linear is any module with a `kernel` parameter and a `lora` slot (`model.linear.Linear`)
whose dotted path (e.g. ``layers.3.attn.q_proj``) matches the configured regex. `lora_b` starts at
zero, so a freshly adapted model computes exactly what the base model computes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from ml_collections import ConfigDict

from gentool_jax.config_view import section_view
from gentool_jax.errors import GentoolError
from gentool_jax.model.settings import LoraSettings

LoRAParam = nnx.LoRAParam


class LoRADropoutKey(nnx.Variable):
    """An adapter's dropout key: set once per step (`reseed_dropout`), only read by the forward.

    Never advancing it inside the forward keeps the adapter free of hidden state changes, so it
    runs unchanged under remat, scan and cond, and a rematerialized forward redraws the same mask.
    """


class LoRA(nnx.Module):
    """`x -> dropout(x) @ A @ B * alpha / rank`, added to the output of the wrapped linear."""

    def __init__(self, in_features: int, out_features: int, *, rank: int, alpha: float,
                 dropout: float, param_dtype: Any, rngs: nnx.Rngs):
        # Kaiming-uniform with a=sqrt(5), as PEFT does, so A starts at the same scale as there.
        bound = 1.0 / math.sqrt(in_features)
        self.lora_a = LoRAParam(jax.random.uniform(
            rngs.params(), (in_features, rank), param_dtype, -bound, bound))
        self.lora_b = LoRAParam(jnp.zeros((rank, out_features), param_dtype))
        self.rank = rank
        self.alpha = alpha
        self.scale = alpha / rank
        self.dropout = dropout
        self.deterministic = False  # `model.eval()` turns dropout off
        # Without dropout the module holds no key at all (nothing to carry through the step).
        self.dropout_key = LoRADropoutKey(rngs.dropout()) if dropout > 0 else None

    def __call__(self, x: jax.Array) -> jax.Array:
        if self.dropout_key is not None and not self.deterministic:
            keep = jax.random.bernoulli(self.dropout_key[...], 1.0 - self.dropout, x.shape)
            x = jnp.where(keep, x / (1.0 - self.dropout), jnp.zeros_like(x))
        a = self.lora_a[...].astype(x.dtype)
        b = self.lora_b[...].astype(x.dtype)
        return (x @ a) @ b * jnp.asarray(self.scale, x.dtype)

    def delta(self) -> jax.Array:
        """The dense `[in, out]` update this adapter adds to the kernel."""
        return (self.lora_a[...] @ self.lora_b[...]) * self.scale


def _is_linear(module: Any) -> bool:
    return hasattr(module, "lora") and isinstance(getattr(module, "kernel", None), nnx.Param)


def iter_linears(model: nnx.Module) -> Iterator[tuple[str, nnx.Module]]:
    """Every adaptable linear as (dotted path, module), in model order."""
    for path, module in nnx.iter_modules(model):
        if _is_linear(module):
            yield ".".join(str(part) for part in path), module


def apply_lora(model: nnx.Module, lora_config: LoraSettings | ConfigDict,
               rngs: nnx.Rngs) -> list[str]:
    """Attach fresh adapters to every linear whose path matches `lora_config.targets`.

    `lora_config` is a `LoraSettings` or the `config.model.lora` section it views. Returns the
    adapted paths. A pattern matching nothing is an error: training without any trainable
    parameter would silently do nothing.
    """
    settings = section_view(LoraSettings, lora_config)
    try:
        pattern = re.compile(settings.targets)
    except re.error as error:
        raise GentoolError(f"config.model.lora.targets is not a valid regex: {error}") from None
    if settings.rank < 1:
        raise GentoolError(f"config.model.lora.rank must be >= 1, got {settings.rank}")
    if not 0.0 <= settings.dropout < 1.0:
        raise GentoolError(f"config.model.lora.dropout must be in [0, 1), got "
                           f"{settings.dropout}")
    param_dtype = jnp.dtype(settings.param_dtype)
    adapted = []
    for path, linear in list(iter_linears(model)):
        if not pattern.fullmatch(path):
            continue
        if linear.lora is not None:
            raise GentoolError(f"{path} already has a LoRA adapter; merge it first")
        fan_in, fan_out = linear.kernel.shape
        # `nnx.data` marks the slot as holding state even where the linear declared it static.
        linear.lora = nnx.data(LoRA(fan_in, fan_out, rank=settings.rank,
                                    alpha=settings.alpha, dropout=settings.dropout,
                                    param_dtype=param_dtype, rngs=rngs))
        adapted.append(path)
    if not adapted:
        names = [path for path, _ in iter_linears(model)][:8]
        raise GentoolError(f"config.model.lora.targets={settings.targets!r} matches no "
                           f"linear layer (paths look like {names})")
    return adapted


def adapters(model: nnx.Module) -> dict[str, LoRA]:
    """The attached adapters by linear path."""
    return {path: linear.lora for path, linear in iter_linears(model) if linear.lora is not None}


def merge_lora(model: nnx.Module) -> dict[str, LoRA]:
    """Fold every adapter into its kernel and detach it; returns the detached adapters.

    The merged model runs at base-model cost (inference, or stage 2 starting fresh adapters).
    Pass the result to `unmerge_lora` to get the adapted model back (up to float rounding).
    """
    detached = {}
    for path, linear in iter_linears(model):
        if linear.lora is None:
            continue
        kernel = linear.kernel[...]
        # The delta is laid out like the kernel: a base sharded over a mesh may carry adapters
        # that were created (or restored) on one device.
        delta = jax.device_put(linear.lora.delta().astype(jnp.float32), kernel.sharding)
        linear.kernel[...] = (kernel + delta).astype(kernel.dtype)
        detached[path] = linear.lora
        linear.lora = nnx.data(None)
    return detached


def unmerge_lora(model: nnx.Module, detached: dict[str, LoRA]) -> None:
    """Undo `merge_lora`: subtract each adapter's update and reattach it."""
    linears = dict(iter_linears(model))
    for path, lora in detached.items():
        if path not in linears:
            raise GentoolError(f"cannot unmerge: the model has no linear at {path}")
        linear = linears[path]
        kernel = linear.kernel[...]
        linear.kernel[...] = (kernel - lora.delta().astype(jnp.float32)).astype(kernel.dtype)
        linear.lora = nnx.data(lora)


def reseed_dropout(model: nnx.Module, key: jax.Array) -> None:
    """Give every adapter its own dropout key derived from `key` (one call per micro-batch)."""
    for index, lora in enumerate(adapters(model).values()):
        if lora.dropout_key is not None:
            lora.dropout_key[...] = jax.random.fold_in(key, index)


def split_lora(model: nnx.Module) -> tuple[nnx.GraphDef, nnx.State, nnx.State]:
    """(graphdef, LoRA state, everything else); `nnx.merge(graphdef, lora, frozen)` rebuilds."""
    graphdef, lora, frozen = nnx.split(model, LoRAParam, ...)
    return graphdef, lora, frozen


def count_params(state: nnx.State) -> int:
    """Number of scalars in a state (trainable count for logs, base count for MFU)."""
    return sum(int(leaf.size) for leaf in jax.tree.leaves(state))
