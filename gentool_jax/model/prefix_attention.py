"""Cached attention of rows that continue shared prefixes, without copying a prefix per row.

In a prefix-cached evaluation batch several rows (the queries of one toolset) continue the same
prompt prefix, ≈80% of every row's keys. Copying that prefix into each row's cache made every
decode step read it once per row; here the distinct prefixes stay in one `[R, Lp]` block and
each row's own cache holds only its own tokens. A row's attention is computed in two parts and
merged exactly through their log-sum-exps: over its prefix, where the queries of all rows of a
prefix are stacked into one matrix product against that prefix's keys (read once for the group,
not once per row), and over its own slots as before. Softmax over the union of the two key
sets is what a single cache holding both would give, up to float rounding.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from gentool_jax.model.kv_cache import KVCache

MASKED = -1e30  # as `model.attention`: finite, so a fully masked row is finite garbage


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class PrefixLayer:
    """One layer's view of the shared prefixes and which batch rows continue which.

    The rows of prefix r sit in query slots `r * C + c` (C = slots a prefix, from the shapes);
    slots no row uses point at any row and their results are never read.
    """

    k: jax.Array  # [R, K, D, Lp] keys, slots last (the cache layout of `model.kv_cache`)
    v: jax.Array  # [R, K, Lp, D]
    valid: jax.Array  # [R, Lp] bool: real prefix tokens (pads are never attended)
    row_of_slot: jax.Array  # [R * C] int32: the batch row whose queries fill each slot
    slot_of_row: jax.Array  # [B] int32: the slot holding each row's queries


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SharedPrefixes:
    """A batch's distinct prefixes (their own `[R, Lp]` cache) and the row-to-slot maps."""

    cache: KVCache
    row_of_slot: jax.Array  # [R * C] int32
    slot_of_row: jax.Array  # [B] int32

    def layer(self, index: int) -> PrefixLayer:
        return PrefixLayer(k=self.cache.k[index], v=self.cache.v[index],
                           valid=self.cache.segment_ids != 0, row_of_slot=self.row_of_slot,
                           slot_of_row=self.slot_of_row)


def _softmax_parts(scores: jax.Array, mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Unnormalized weights and the log-sum-exp over the last axis of masked scores."""
    scores = jnp.where(mask, scores, MASKED)
    peak = scores.max(axis=-1, keepdims=True)
    weights = jnp.exp(scores - peak)
    total = weights.sum(axis=-1)
    return weights, peak[..., 0] + jnp.log(total)


def attend_prefix(q: jax.Array, prefix: PrefixLayer) -> tuple[jax.Array, jax.Array]:
    """q `[B, T, K, G, D]` over each row's prefix: output `[B, T, K, G, D]` (fp32, normalized
    over the prefix alone) and its log-sum-exp `[B, T, K, G]`."""
    b, t, kv, groups, d = q.shape
    prefixes = prefix.k.shape[0]
    slots = prefix.row_of_slot.shape[0] // prefixes
    stacked = q.astype(jnp.float32)[prefix.row_of_slot].reshape(
        prefixes, slots, t, kv, groups, d)
    stacked = jnp.transpose(stacked, (0, 3, 1, 2, 4, 5)).reshape(prefixes, kv, -1, d)
    scores = jnp.einsum("rkqd,rkds->rkqs", stacked, prefix.k.astype(jnp.float32)) / math.sqrt(d)
    weights, lse = _softmax_parts(scores, prefix.valid[:, None, None, :])
    out = jnp.einsum("rkqs,rksd->rkqd", weights, prefix.v.astype(jnp.float32))
    out = out / weights.sum(axis=-1)[..., None]

    def to_rows(x):  # [R, K, C*T*G, ...] -> [B, T, K, G, ...]
        x = x.reshape(prefixes, kv, slots, t, groups, *x.shape[3:])
        x = jnp.moveaxis(x, 1, 3).reshape(prefixes * slots, t, kv, groups, *x.shape[5:])
        return x[prefix.slot_of_row]

    return to_rows(out), to_rows(lse)


def attend_own(q: jax.Array, k_t: jax.Array, v: jax.Array, mask: jax.Array
               ) -> tuple[jax.Array, jax.Array]:
    """q `[B, T, K, G, D]` over the row's own cache (k_t `[B, K, D, S]`, v `[B, K, S, D]`,
    mask `[B, T, S]`): normalized fp32 output and log-sum-exp, as `attend_prefix`.

    A decode step (T = 1) uses broadcast products, as `model.attention` does for one query:
    XLA:CPU runs a one-query batched matmul as `B × K` tiny dots.
    """
    q32, k32, v32 = q.astype(jnp.float32), k_t.astype(jnp.float32), v.astype(jnp.float32)
    scale = 1.0 / math.sqrt(q.shape[-1])
    if q.shape[1] == 1:
        scores = (q32[:, :, :, :, :, None] * k32[:, None, :, None]).sum(axis=-2) * scale
        weights, lse = _softmax_parts(scores, mask[:, :, None, None, :])
        weights = jax.lax.optimization_barrier(weights)
        out = (weights[..., None] * v32[:, None, :, None]).sum(axis=-2)
    else:
        scores = jnp.einsum("btkgd,bkds->btkgs", q32, k32) * scale
        weights, lse = _softmax_parts(scores, mask[:, :, None, None, :])
        out = jnp.einsum("btkgs,bksd->btkgd", weights, v32)
    return out / weights.sum(axis=-1)[..., None], lse


def attend_with_prefix(q: jax.Array, k_t: jax.Array, v: jax.Array, mask: jax.Array,
                       prefix: PrefixLayer) -> jax.Array:
    """Attention over prefix + own slots, merged by log-sum-exp; `[B, T, K, G, D]` in q's dtype."""
    out_p, lse_p = attend_prefix(q, prefix)
    out_o, lse_o = attend_own(q, k_t, v, mask)
    lse = jnp.logaddexp(lse_p, lse_o)
    out = (out_p * jnp.exp(lse_p - lse)[..., None] + out_o * jnp.exp(lse_o - lse)[..., None])
    return out.astype(q.dtype)
