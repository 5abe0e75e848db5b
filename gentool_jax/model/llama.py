"""The Llama-family decoder (Llama 2/3.x, Mistral, Qwen2, SmolLM2) as an NNX module."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from gentool_jax.model.attention import MaskSpec
from gentool_jax.model.config import ModelConfig
from gentool_jax.model.kv_cache import KVCache
from gentool_jax.model.layers import Block, RMSNorm, inverse_frequencies, rope_tables
from gentool_jax.model.linear import Linear
from gentool_jax.model.prefix_attention import SharedPrefixes

REMAT_POLICIES = {
    "none": None,
    "full": jax.checkpoint_policies.nothing_saveable,
    "dots_saveable": jax.checkpoint_policies.dots_saveable,
}


def _run_block(block: Block, x, cos, sin, mask):
    return block(x, cos, sin, mask)[0]


class Llama(nnx.Module):
    def __init__(
        self,
        config: ModelConfig,
        *,
        dtype: jnp.dtype = jnp.float32,
        param_dtype: jnp.dtype = jnp.float32,
        remat: str = "none",
        attention: str = "xla",
        rngs: nnx.Rngs | None = None,
    ):
        if remat not in REMAT_POLICIES:
            raise ValueError(f"remat must be one of {sorted(REMAT_POLICIES)}, got {remat!r}")
        rngs = rngs if rngs is not None else nnx.Rngs(0)
        self.config = config
        self.dtype = dtype
        self.remat = remat
        self.embed = nnx.Embed(config.vocab_size, config.hidden_size, dtype=dtype,
                               param_dtype=param_dtype,
                               embedding_init=jax.nn.initializers.normal(0.02), rngs=rngs)
        self.layers = nnx.List([
            Block(config, dtype=dtype, param_dtype=param_dtype, rngs=rngs, attention=attention)
            for _ in range(config.num_layers)
        ])
        self.final_norm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps, dtype=dtype,
                                  param_dtype=param_dtype)
        self.lm_head = None if config.tie_word_embeddings else Linear(
            config.hidden_size, config.vocab_size, dtype=dtype, param_dtype=param_dtype,
            rngs=rngs)
        # A tuple of floats: static, so nnx never treats the RoPE table as state.
        self.inv_freq = tuple(float(f) for f in inverse_frequencies(
            config.head_dim, config.rope_theta, config.rope_scaling))

    def _mask(self, segment_ids: jax.Array, turn_ids: jax.Array | None,
              cache: KVCache | None) -> tuple[MaskSpec, jax.Array]:
        """The attention mask's definition (`model/attention.py`) and the cache's segment ids
        with this call's tokens written."""
        turns = jnp.zeros_like(segment_ids) if turn_ids is None else turn_ids
        window = self.config.sliding_window
        if cache is None:
            return MaskSpec(segment_ids, segment_ids, turns, turns, jnp.zeros((), jnp.int32),
                            window), segment_ids
        k_seg = jax.lax.dynamic_update_slice(cache.segment_ids, segment_ids, (0, cache.index))
        spec = MaskSpec(segment_ids, k_seg, turns, jnp.zeros_like(k_seg),
                        jnp.asarray(cache.index, jnp.int32), window)
        return spec, k_seg

    def hidden(self, tokens: jax.Array, positions: jax.Array, *,
               segment_ids: jax.Array | None = None, turn_ids: jax.Array | None = None,
               cache: KVCache | None = None, prefixes: SharedPrefixes | None = None,
               depth: int | None = None) -> tuple[jax.Array, KVCache | None]:
        """Final-normed hidden states `[B, T, D]` and the cache with the T new tokens written.

        segment_ids: 0 = padding; tokens with equal nonzero ids attend to each other causally.
        turn_ids (shared-prefix rows, no cache): 0 = the segment's shared prefix, k > 0 = its
        k-th turn, which sees the prefix and itself but no other turn.
        depth (no cache): run only the first `depth` blocks, then the final norm (the
        selector's vectors: a middle layer carries more of a text's meaning than the last).
        With a cache, tokens go to slots [index, index + T) and see every valid earlier slot;
        with `prefixes` too, each row also sees its shared prefix, held apart from its cache.
        """
        if segment_ids is None:
            segment_ids = jnp.ones(tokens.shape, jnp.int32)
        segment_ids = segment_ids.astype(jnp.int32)
        if turn_ids is not None:
            if cache is not None:
                raise ValueError("turn_ids are for training rows; the cache path takes none")
            turn_ids = turn_ids.astype(jnp.int32)
        if prefixes is not None and cache is None:
            raise ValueError("shared prefixes are read beside a cache; pass one")
        if depth is not None and cache is not None:
            raise ValueError("depth is for cache-free reads; the cache path runs every block")
        mask, cache_segments = self._mask(segment_ids, turn_ids, cache)
        cos, sin = rope_tables(positions, self.inv_freq)
        x = self.embed(tokens).astype(self.dtype)
        if cache is None:
            policy = REMAT_POLICIES[self.remat]
            run = _run_block if self.remat == "none" else nnx.remat(_run_block, policy=policy)
            for block in self.layers[:depth]:
                x = run(block, x, cos, sin, mask)
            return self.final_norm(x), None
        keys, values = [], []
        for i, block in enumerate(self.layers):
            prefix = None if prefixes is None else prefixes.layer(i)
            x, (k, v) = block(x, cos, sin, mask, (cache.k[i], cache.v[i], cache.index), prefix)
            keys.append(k)
            values.append(v)
        cache = KVCache(k=tuple(keys), v=tuple(values), segment_ids=cache_segments,
                        index=cache.index + tokens.shape[1])
        return self.final_norm(x), cache

    def logits(self, hidden: jax.Array) -> jax.Array:
        """fp32 vocabulary logits; separate so a loss can project only the positions it needs."""
        if self.lm_head is None:
            table = self.embed.embedding[...].astype(self.dtype)
            return jnp.einsum("...d,vd->...v", hidden.astype(self.dtype), table,
                              preferred_element_type=jnp.float32)
        kernel = self.lm_head.kernel[...].astype(self.dtype)
        logits = jnp.einsum("...d,dv->...v", hidden.astype(self.dtype), kernel,
                            preferred_element_type=jnp.float32)
        if self.lm_head.lora is not None:
            logits = logits + self.lm_head.lora(hidden).astype(jnp.float32)
        return logits

    def __call__(self, tokens: jax.Array, positions: jax.Array, *,
                 segment_ids: jax.Array | None = None, turn_ids: jax.Array | None = None,
                 cache: KVCache | None = None) -> tuple[jax.Array, KVCache | None]:
        hidden, cache = self.hidden(tokens, positions, segment_ids=segment_ids,
                                    turn_ids=turn_ids, cache=cache)
        return self.logits(hidden), cache
