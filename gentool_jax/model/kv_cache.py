"""The decoding cache: keys and values of every layer plus which slots hold real tokens.

Slots are absolute indices into the cache, not token positions: a left-padded prompt occupies
slots [0, T) with its pads marked 0 in `segment_ids`, and each decode step writes at `index`.
Positions (for RoPE) are passed separately by the caller, so padding never shifts them.
Each layer has its own buffer (a tuple, not one stacked array): writing a decode step into one
layer then updates that buffer in place instead of copying every layer's cache.

Both buffers are head-major, and keys are stored transposed (slots last): a decode step's
query-key products then reduce over a leading axis and its probability-value products over
the slots, both vectorized along the buffers' contiguous last axis. In the `[B, S, K, D]`
layout XLA:CPU transposed every layer's cache at every step (docs/evaluation.md).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from gentool_jax.model.config import ModelConfig


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class KVCache:
    k: tuple[jax.Array, ...]  # per layer [batch, kv_heads, head_dim, slots]
    v: tuple[jax.Array, ...]  # per layer [batch, kv_heads, slots, head_dim]
    segment_ids: jax.Array  # [batch, slots] int32; 0 = empty slot or padding
    index: jax.Array  # int32 scalar: the next slot to write

    @property
    def max_len(self) -> int:
        return self.v[0].shape[2]


def init_cache(config: ModelConfig, batch: int, max_len: int,
               dtype: jnp.dtype = jnp.float32) -> KVCache:
    """An empty cache with room for `max_len` tokens per row."""
    keys = (batch, config.num_kv_heads, config.head_dim, max_len)
    values = (batch, config.num_kv_heads, max_len, config.head_dim)
    return KVCache(
        k=tuple(jnp.zeros(keys, dtype) for _ in range(config.num_layers)),
        v=tuple(jnp.zeros(values, dtype) for _ in range(config.num_layers)),
        segment_ids=jnp.zeros((batch, max_len), jnp.int32),
        index=jnp.zeros((), jnp.int32),
    )
