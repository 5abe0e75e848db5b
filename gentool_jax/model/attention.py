"""Masked GQA attention: a flash-style tiled kernel in plain JAX, and the dense fallback.

The mask is never materialized for the whole sequence. `MaskSpec` holds what defines it (slot
order, segment ids, shared-prefix turn ids, the sliding window) and each tile of queries × keys
builds its own piece. The tiled kernel visits, for each query tile, only key tiles at or below
its causal diagonal, skips tiles in which no pair is allowed (another packed sample, another
turn behind a shared prefix), and keeps an online softmax, so neither the `[T, S]` scores nor
their probabilities are stored: the backward pass (a custom VJP) recomputes them tile by tile
from the saved log-sum-exp. On a 2-core CPU the dense form spent most of a training step in
attention's elementwise work and in scores above the diagonal; short sequences use the dense
form, which is cheaper there, and a decode step (one query) its own broadcast form over the
cache's layout.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp

# Large but finite, so a fully masked row (a padding query) gives finite garbage, never NaN.
MASKED = -1e30
TILE_SIZES = (256, 128)
ATTENTION_QUERY_CHUNK = 256  # query block of the dense form: bounds its [chunk, S] scores


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MaskSpec:
    """Who attends to whom: query slot `offset + t` sees key slot `s <= offset + t` of the same
    nonzero segment, inside the window, and in turn 0 (a shared prefix) or the query's turn."""

    q_segments: jax.Array  # [B, T] int32, 0 = padding
    k_segments: jax.Array  # [B, S] int32, 0 = empty slot or padding
    q_turns: jax.Array  # [B, T] int32, 0 = shared prefix (or no turns at all)
    k_turns: jax.Array  # [B, S] int32
    offset: jax.Array  # int32 scalar: the slot of the first query
    window: int | None = dataclasses.field(default=None, metadata=dict(static=True))

    def tile(self, q_start, q_size: int, k_start, k_size: int) -> jax.Array:
        """The `[B, q_size, k_size]` mask of queries [q_start, +q_size) × keys [k_start, +)."""
        q_slot = self.offset + q_start + jnp.arange(q_size)
        k_slot = k_start + jnp.arange(k_size)
        q_seg = jax.lax.dynamic_slice_in_dim(self.q_segments, q_start, q_size, axis=1)
        k_seg = jax.lax.dynamic_slice_in_dim(self.k_segments, k_start, k_size, axis=1)
        q_turn = jax.lax.dynamic_slice_in_dim(self.q_turns, q_start, q_size, axis=1)
        k_turn = jax.lax.dynamic_slice_in_dim(self.k_turns, k_start, k_size, axis=1)
        mask = (k_slot[None, :] <= q_slot[:, None])[None]
        mask = mask & (q_seg[:, :, None] == k_seg[:, None, :]) & (k_seg[:, None, :] != 0)
        mask = mask & ((k_turn[:, None, :] == 0) | (k_turn[:, None, :] == q_turn[:, :, None]))
        if self.window is not None:
            mask = mask & (q_slot[:, None] - k_slot[None, :] < self.window)[None]
        return mask

    def dense(self) -> jax.Array:
        return self.tile(0, self.q_segments.shape[1], 0, self.k_segments.shape[1])


def _tile_size(length: int) -> int | None:
    return next((size for size in TILE_SIZES if length % size == 0 and length >= size), None)


def attend(q: jax.Array, k: jax.Array, v: jax.Array, spec: MaskSpec) -> jax.Array:
    """q `[B, T, K, G, D]` (G query heads per kv head), k/v `[B, S, K, D]` -> `[B, T, K, G, D]`."""
    tile_q, tile_k = _tile_size(q.shape[1]), _tile_size(k.shape[1])
    if tile_q is None or tile_k is None:
        return attend_dense(q, k, v, spec.dense(), query_chunk=ATTENTION_QUERY_CHUNK)
    return _flash(q, k, v, spec, tile_q, tile_k)


def attend_cached(q: jax.Array, k_t: jax.Array, v: jax.Array, spec: MaskSpec) -> jax.Array:
    """q `[B, T, K, G, D]` over a layer's cache, k_t `[B, K, D, S]`, v `[B, K, S, D]`.

    One query (a decode step) takes `_attend_step`; a prefill goes through `attend` with the
    cache transposed back (once a prefill, not a step).
    """
    if q.shape[1] == 1:
        return _attend_step(q, k_t, v, spec.dense())
    return attend(q, jnp.transpose(k_t, (0, 3, 1, 2)), jnp.swapaxes(v, 1, 2), spec)


def _attend_step(q, k_t, v, mask):
    """One query per row as broadcast products and reductions rather than batched matmuls: with
    a single query, XLA:CPU runs those as `B × K` tiny dots. The barriers keep the scores and
    probabilities materialized once; fused, they were recomputed for every consumer."""
    q_one = q[:, 0].astype(jnp.float32)  # [B, K, G, D]
    scores = (q_one[..., None] * k_t[:, :, None].astype(jnp.float32)).sum(axis=-2)
    scores = jnp.where(mask[:, :, None, :], scores / math.sqrt(q.shape[-1]), MASKED)
    scores = jax.lax.optimization_barrier(scores)  # [B, K, G, S]
    weights = jnp.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = jax.lax.optimization_barrier(weights)
    out = (weights[..., None] * v[:, :, None].astype(jnp.float32)).sum(axis=-2)
    out = out / weights.sum(axis=-1)[..., None]
    return out[:, None].astype(q.dtype)


def _attend_block(q, k, v, mask):
    """Softmax attention of queries `[B, c, K, G, D]` over all keys, mask `[B, c, S]`."""
    scores = jnp.einsum("btkgd,bskd->bkgts", q, k,
                        preferred_element_type=jnp.float32) / math.sqrt(q.shape[-1])
    scores = jnp.where(mask[:, None, None, :, :], scores, MASKED)
    probs = jax.nn.softmax(scores, axis=-1).astype(q.dtype)
    return jnp.einsum("bkgts,bskd->btkgd", probs, v)


def attend_dense(q, k, v, mask, *, query_chunk: int):
    """Attention with an explicit `[B, T, S]` mask, a block of queries at a time, each block
    rematerialized (XLA:CPU otherwise keeps every layer's score matrices for the backward)."""
    b, t = q.shape[:2]
    if t <= query_chunk or t % query_chunk:
        return _attend_block(q, k, v, mask)
    count = t // query_chunk

    def blocks(x):
        return jnp.moveaxis(x.reshape(b, count, query_chunk, *x.shape[2:]), 1, 0)

    out = jax.lax.map(jax.checkpoint(lambda qm: _attend_block(qm[0], k, v, qm[1])),
                      (blocks(q), blocks(mask)))
    return jnp.moveaxis(out, 0, 1).reshape(q.shape)


def _key_tiles(spec: MaskSpec, q_start, tile_q: int, tile_k: int, count: int):
    """Key tiles a query tile needs: those starting at or before its last query's slot."""
    last = spec.offset + q_start + tile_q - 1
    return jnp.minimum(count, last // tile_k + 1)


def _kv_tiles(k, v, start, size: int):
    return (jax.lax.dynamic_slice_in_dim(k, start, size, axis=2),
            jax.lax.dynamic_slice_in_dim(v, start, size, axis=2))


def _scores(q_tile, k_tile, mask, scale):
    s = jnp.einsum("bkgtd,bksd->bkgts", q_tile, k_tile, preferred_element_type=jnp.float32)
    return jnp.where(mask[:, None, None], s * scale, MASKED)


def _forward(q, k, v, spec: MaskSpec, tile_q: int, tile_k: int):
    """Tiled forward in the head-major layout q `[B, K, G, T, D]`, k/v `[B, K, S, D]`:
    returns the output (q's dtype) and the per-query log-sum-exp `[B, K, G, T]` (fp32)."""
    b, kv, groups, t, d = q.shape
    s_len = k.shape[2]
    scale = 1.0 / math.sqrt(d)
    k_count = s_len // tile_k

    def query_tile(i):
        q_start = i * tile_q
        q_tile = jax.lax.dynamic_slice_in_dim(q, q_start, tile_q, axis=3)

        def key_tile(j, carry):
            k_start = j * tile_k
            mask = spec.tile(q_start, tile_q, k_start, tile_k)

            def update(carry):
                m, total, acc = carry
                k_tile, v_tile = _kv_tiles(k, v, k_start, tile_k)
                s = _scores(q_tile, k_tile, mask, scale)
                m_new = jnp.maximum(m, s.max(axis=-1))
                p = jnp.exp(s - m_new[..., None])
                alpha = jnp.exp(m - m_new)
                acc = acc * alpha[..., None] + jnp.einsum(
                    "bkgts,bksd->bkgtd", p.astype(v.dtype), v_tile,
                    preferred_element_type=jnp.float32)
                return m_new, total * alpha + p.sum(axis=-1), acc

            return jax.lax.cond(mask.any(), update, lambda c: c, carry)

        stats = jnp.full((b, kv, groups, tile_q), MASKED, jnp.float32)
        init = (stats, jnp.zeros_like(stats), jnp.zeros((b, kv, groups, tile_q, d), jnp.float32))
        count = _key_tiles(spec, q_start, tile_q, tile_k, k_count)
        m, total, acc = jax.lax.fori_loop(0, count, key_tile, init)
        total = jnp.maximum(total, 1e-30)
        return (acc / total[..., None]).astype(q.dtype), m + jnp.log(total)

    out, lse = jax.lax.map(query_tile, jnp.arange(t // tile_q))
    # [n, B, K, G, tile, ...] -> [B, K, G, T, ...]
    out = jnp.moveaxis(out, 0, 3).reshape(q.shape)
    lse = jnp.moveaxis(lse, 0, 3).reshape(b, kv, groups, t)
    return out, lse


def _backward(q, k, v, spec: MaskSpec, out, lse, d_out, tile_q: int, tile_k: int):
    """Gradients of q, k, v (head-major layouts) recomputing each visited tile's scores."""
    b, kv, groups, t, d = q.shape
    scale = 1.0 / math.sqrt(d)
    k_count = k.shape[2] // tile_k
    delta = jnp.sum(d_out.astype(jnp.float32) * out.astype(jnp.float32), axis=-1)

    def query_tile(carry, i):
        q_start = i * tile_q
        q_tile = jax.lax.dynamic_slice_in_dim(q, q_start, tile_q, axis=3)
        do_tile = jax.lax.dynamic_slice_in_dim(d_out, q_start, tile_q, axis=3)
        lse_tile = jax.lax.dynamic_slice_in_dim(lse, q_start, tile_q, axis=3)
        delta_tile = jax.lax.dynamic_slice_in_dim(delta, q_start, tile_q, axis=3)

        def key_tile(j, inner):
            k_start = j * tile_k
            mask = spec.tile(q_start, tile_q, k_start, tile_k)

            def update(inner):
                dq, dk, dv = inner
                k_tile, v_tile = _kv_tiles(k, v, k_start, tile_k)
                s = _scores(q_tile, k_tile, mask, scale)
                p = jnp.where(mask[:, None, None], jnp.exp(s - lse_tile[..., None]), 0.0)
                dv_tile = jnp.einsum("bkgts,bkgtd->bksd", p.astype(do_tile.dtype), do_tile,
                                     preferred_element_type=jnp.float32)
                dp = jnp.einsum("bkgtd,bksd->bkgts", do_tile, v_tile,
                                preferred_element_type=jnp.float32)
                ds = (p * (dp - delta_tile[..., None]) * scale).astype(q.dtype)
                dq = dq + jnp.einsum("bkgts,bksd->bkgtd", ds, k_tile,
                                     preferred_element_type=jnp.float32)
                dk_tile = jnp.einsum("bkgts,bkgtd->bksd", ds, q_tile,
                                     preferred_element_type=jnp.float32)
                dk_old, dv_old = _kv_tiles(dk, dv, k_start, tile_k)
                dk = jax.lax.dynamic_update_slice_in_dim(dk, dk_old + dk_tile, k_start, axis=2)
                dv = jax.lax.dynamic_update_slice_in_dim(dv, dv_old + dv_tile, k_start, axis=2)
                return dq, dk, dv

            return jax.lax.cond(mask.any(), update, lambda c: c, inner)

        dk, dv = carry
        dq = jnp.zeros((b, kv, groups, tile_q, d), jnp.float32)
        count = _key_tiles(spec, q_start, tile_q, tile_k, k_count)
        dq, dk, dv = jax.lax.fori_loop(0, count, key_tile, (dq, dk, dv))
        return (dk, dv), dq

    zeros = jnp.zeros(k.shape, jnp.float32)
    (dk, dv), dq = jax.lax.scan(query_tile, (zeros, zeros), jnp.arange(t // tile_q))
    dq = jnp.moveaxis(dq, 0, 3).reshape(q.shape)
    return dq.astype(q.dtype), dk.astype(k.dtype), dv.astype(v.dtype)


def _to_head_major(q, k, v):
    return jnp.transpose(q, (0, 2, 3, 1, 4)), jnp.swapaxes(k, 1, 2), jnp.swapaxes(v, 1, 2)


@functools.partial(jax.custom_vjp, nondiff_argnums=(4, 5))
def _flash_head_major(q, k, v, spec: MaskSpec, tile_q: int, tile_k: int):
    return _forward(q, k, v, spec, tile_q, tile_k)[0]


def _flash_fwd(q, k, v, spec, tile_q, tile_k):
    out, lse = _forward(q, k, v, spec, tile_q, tile_k)
    return out, (q, k, v, spec, out, lse)


def _flash_bwd(tile_q, tile_k, residuals, d_out):
    q, k, v, spec, out, lse = residuals
    dq, dk, dv = _backward(q, k, v, spec, out, lse, d_out, tile_q, tile_k)
    return dq, dk, dv, None  # the mask spec is integers: no cotangent


_flash_head_major.defvjp(_flash_fwd, _flash_bwd)


def _flash(q, k, v, spec: MaskSpec, tile_q: int, tile_k: int):
    out = _flash_head_major(*_to_head_major(q, k, v), spec, tile_q, tile_k)
    return jnp.transpose(out, (0, 3, 1, 2, 4))
