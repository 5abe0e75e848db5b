"""The decoding cache: keys and values of every layer plus which slots hold real tokens.

Slots are absolute indices into the cache, not token positions: a left-padded prompt occupies
slots [0, T) with its pads marked 0 in `segment_ids`, and each decode step writes at `index`.
Positions (for RoPE) are passed separately by the caller, so padding never shifts them.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from gentool_jax.model.config import ModelConfig


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class KVCache:
    k: jax.Array  # [layers, batch, slots, kv_heads, head_dim]
    v: jax.Array  # [layers, batch, slots, kv_heads, head_dim]
    segment_ids: jax.Array  # [batch, slots] int32; 0 = empty slot or padding
    index: jax.Array  # int32 scalar: the next slot to write

    @property
    def max_len(self) -> int:
        return self.k.shape[2]


def init_cache(config: ModelConfig, batch: int, max_len: int,
               dtype: jnp.dtype = jnp.float32) -> KVCache:
    """An empty cache with room for `max_len` tokens per row."""
    shape = (config.num_layers, batch, max_len, config.num_kv_heads, config.head_dim)
    return KVCache(
        k=jnp.zeros(shape, dtype),
        v=jnp.zeros(shape, dtype),
        segment_ids=jnp.zeros((batch, max_len), jnp.int32),
        index=jnp.zeros((), jnp.int32),
    )
