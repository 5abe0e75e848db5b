"""Masked next-token cross-entropy that never builds a [batch, length, vocab] logits array.

The hidden states are cut into chunks along the sequence; each chunk is projected to the
vocabulary, reduced to per-token losses and dropped before the next one. The chunk body is
rematerialized, so the backward pass also keeps only one chunk of logits alive. Chunks without
a single target token (most of a tool-use prompt is masked) skip the vocabulary projection.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp


def _chunk_size(length: int, preferred: int) -> int:
    """The largest divisor of `length` not above `preferred`, so chunks tile the sequence."""
    for size in range(min(preferred, length), 0, -1):
        if length % size == 0:
            return size
    return length


def masked_cross_entropy(
    hidden: jax.Array,
    targets: jax.Array,
    loss_mask: jax.Array,
    logits_fn: Callable[[jax.Array], jax.Array],
    *,
    chunk: int = 128,
) -> tuple[jax.Array, jax.Array]:
    """(sum of token losses, number of target tokens), both fp32 scalars.

    Returning sums rather than a mean lets gradient accumulation and data-parallel reduction
    produce the exact token-weighted mean: total loss / total tokens over everything.
    `logits_fn` maps `[batch, c, dim]` hidden states to fp32 `[batch, c, vocab]` logits.
    """
    batch, length, dim = hidden.shape
    size = _chunk_size(length, chunk)
    count = length // size
    mask = loss_mask.astype(jnp.float32)

    def to_chunks(x):
        return jnp.moveaxis(x.reshape(batch, count, size, *x.shape[2:]), 1, 0)

    @jax.checkpoint
    def chunk_loss(args):
        h, t, m = args

        def project(_):
            logits = logits_fn(h).astype(jnp.float32)
            log_z = jax.nn.logsumexp(logits, axis=-1)
            target_logit = jnp.take_along_axis(logits, t[..., None], axis=-1)[..., 0]
            return jnp.sum((log_z - target_logit) * m)

        return jax.lax.cond(jnp.any(m > 0), project, lambda _: jnp.zeros((), jnp.float32), None)

    losses = jax.lax.map(chunk_loss, (to_chunks(hidden), to_chunks(targets), to_chunks(mask)))
    return jnp.sum(losses), jnp.sum(mask)
