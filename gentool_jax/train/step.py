"""The jitted train step: micro-batch gradient accumulation and one AdamW update of the adapters.

The step is a pure function of (LoRA state, optimizer state, frozen state, batch, step). The frozen
base weights are an argument, not a closure constant, so they are neither baked into the compiled
program nor copied per compilation, and they keep their own sharding. The LoRA and optimizer
states are donated: their buffers are reused for the updated values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from gentool_jax.data.batches import Batch
from gentool_jax.model.lora import reseed_dropout
from gentool_jax.train.loss import masked_cross_entropy


def make_loss_fn(graphdef: nnx.GraphDef, *, dropout_seed: int, loss_chunk: int = 64) -> Callable:
    """`(lora, frozen, batch, key) -> (sum_loss, num_tokens)` for one micro-batch."""

    def loss_fn(lora, frozen, batch, key):
        # copy=True: fresh Variables owned by this trace, so reseeding below may write them.
        model = nnx.merge(graphdef, lora, frozen, copy=True)
        # Dropout keys come from (seed, step, micro-batch), never from carried RNG state, so a
        # resumed run draws exactly the masks the uninterrupted run would have drawn.
        reseed_dropout(model, jax.random.fold_in(jax.random.key(dropout_seed), key))
        hidden, _ = model.hidden(batch["tokens"], batch["positions"],
                                 segment_ids=batch["segment_ids"],
                                 turn_ids=batch["turn_ids"])
        return masked_cross_entropy(hidden, batch["targets"], batch["loss_mask"], model.logits,
                                    chunk=loss_chunk)

    return loss_fn


def _split_micro(batch: Batch, grad_accum: int) -> Batch:
    """[rows, T] -> [grad_accum, rows / grad_accum, T], taking rows strided.

    Strided (row r goes to micro-batch r % k) keeps every device's rows on that device: a
    contiguous split would move data between devices under a batch-sharded layout.
    """

    def split(x):
        rows = x.shape[0]
        return jnp.swapaxes(x.reshape(rows // grad_accum, grad_accum, *x.shape[1:]), 0, 1)

    return jax.tree.map(split, batch)


def accumulate_gradients(loss_fn: Callable, lora: Any, frozen: Any, batch: Batch, step: jax.Array,
                         grad_accum: int) -> tuple[Any, jax.Array, jax.Array]:
    """(sum of gradients, sum of losses, number of target tokens) over all micro-batches."""
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    micro = _split_micro(batch, grad_accum)

    def body(carry, xs):
        grads_acc, loss_acc, tokens_acc = carry
        index, micro_batch = xs
        (loss_sum, tokens), grads = grad_fn(lora, frozen, micro_batch, step * grad_accum + index)
        grads_acc = jax.tree.map(jnp.add, grads_acc, grads)
        return (grads_acc, loss_acc + loss_sum, tokens_acc + tokens), None

    zeros = jax.tree.map(lambda x: jnp.zeros(x.shape, jnp.float32), lora)
    init = (zeros, jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32))
    (grads, loss_sum, tokens), _ = jax.lax.scan(body, init, (jnp.arange(grad_accum), micro))
    return grads, loss_sum, tokens


def make_train_step(graphdef: nnx.GraphDef, optimizer: optax.GradientTransformation, *,
                    grad_accum: int, dropout_seed: int, loss_chunk: int = 64) -> Callable:
    """The un-jitted step; `compile_train_step` adds shardings and donation."""
    loss_fn = make_loss_fn(graphdef, dropout_seed=dropout_seed, loss_chunk=loss_chunk)

    def train_step(lora, opt_state, frozen, batch, step):
        grads, loss_sum, tokens = accumulate_gradients(loss_fn, lora, frozen, batch, step,
                                                       grad_accum)
        # Exact token-weighted mean over every micro-batch (and every device): sum / count.
        denominator = jnp.maximum(tokens, 1.0)
        grads = jax.tree.map(lambda g, p: (g / denominator).astype(p.dtype), grads, lora)
        updates, opt_state = optimizer.update(grads, opt_state, lora)
        lora = optax.apply_updates(lora, updates)
        grad_norm = optax.global_norm(grads)
        # One flag for the host: a non-finite loss, gradient or updated adapter stops the run
        # before this state can be checkpointed, so every saved checkpoint is a good one.
        finite = (jnp.isfinite(loss_sum) & jnp.isfinite(grad_norm)
                  & jnp.isfinite(optax.global_norm(lora)))
        metrics = {"loss": loss_sum / denominator, "target_tokens": tokens,
                   "grad_norm": grad_norm, "finite": finite}
        return lora, opt_state, metrics

    return train_step


def compile_train_step(train_step: Callable, *, lora_shardings: Any, opt_shardings: Any,
                       frozen_shardings: Any, batch_sharding: Any) -> Callable:
    """jit with explicit shardings; donates the LoRA and optimizer buffers (arguments 0, 1).
    Every array of the batch gets `batch_sharding` (one sharding is a prefix of any batch
    pytree: a `Batch`, or a dict of its fields)."""
    return jax.jit(
        train_step,
        in_shardings=(lora_shardings, opt_shardings, frozen_shardings, batch_sharding, None),
        out_shardings=(lora_shardings, opt_shardings, None),
        donate_argnums=(0, 1),
    )
