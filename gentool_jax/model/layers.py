"""The pieces of a Llama decoder layer: RMSNorm, rotate-half RoPE, GQA attention, SwiGLU."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from gentool_jax.model.attention import MaskSpec, attend, attend_cached
from gentool_jax.model.attention_kernels import attend_fused
from gentool_jax.model.config import ModelConfig, RopeScaling
from gentool_jax.model.linear import Linear
from gentool_jax.model.prefix_attention import PrefixLayer, attend_with_prefix


class RMSNorm(nnx.Module):
    """Normalizes in fp32 whatever the compute dtype: the variance of bf16 values is too coarse."""

    def __init__(self, dim: int, *, eps: float, dtype: jnp.dtype, param_dtype: jnp.dtype):
        self.eps = eps
        self.dtype = dtype
        self.scale = nnx.Param(jnp.ones((dim,), param_dtype))

    def __call__(self, x: jax.Array) -> jax.Array:
        x32 = x.astype(jnp.float32)
        x32 = x32 * jax.lax.rsqrt(jnp.mean(x32 * x32, axis=-1, keepdims=True) + self.eps)
        return (x32 * self.scale[...].astype(jnp.float32)).astype(self.dtype)


def inverse_frequencies(head_dim: int, theta: float, scaling: RopeScaling | None) -> np.ndarray:
    """Per-pair rotation speeds; llama3 scaling slows the low frequencies for long contexts."""
    inv = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    if scaling is not None:
        wavelength = 2 * math.pi / inv
        context = scaling.original_max_position_embeddings
        long_limit = context / scaling.low_freq_factor  # longer waves are slowed fully
        short_limit = context / scaling.high_freq_factor  # shorter waves are kept
        blend = (context / wavelength - scaling.low_freq_factor) / (
            scaling.high_freq_factor - scaling.low_freq_factor)
        blended = (1 - blend) * inv / scaling.factor + blend * inv
        inv = np.where(wavelength > long_limit, inv / scaling.factor,
                       np.where(wavelength < short_limit, inv, blended))
    return inv.astype(np.float32)


def rope_tables(positions: jax.Array, inv_freq) -> tuple[jax.Array, jax.Array]:
    """cos/sin `[B, T, head_dim]` in the rotate-half layout (both halves share a frequency)."""
    angles = positions.astype(jnp.float32)[..., None] * np.asarray(inv_freq, np.float32)
    angles = jnp.concatenate([angles, angles], axis=-1)
    return jnp.cos(angles), jnp.sin(angles)


def apply_rope(x: jax.Array, cos: jax.Array, sin: jax.Array) -> jax.Array:
    """x `[B, T, heads, head_dim]`; rotates pairs (i, i + head_dim/2) as HF Llama does."""
    half = x.shape[-1] // 2
    rotated = jnp.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    cos, sin = cos[:, :, None, :], sin[:, :, None, :]
    return (x.astype(jnp.float32) * cos + rotated.astype(jnp.float32) * sin).astype(x.dtype)


class Attention(nnx.Module):
    def __init__(self, config: ModelConfig, *, dtype, param_dtype, rngs: nnx.Rngs,
                 implementation: str = "xla"):
        d, hd = config.hidden_size, config.head_dim
        self.num_heads, self.num_kv_heads, self.head_dim = (
            config.num_heads, config.num_kv_heads, hd)
        self.dtype = dtype
        # `model/attention_kernels.py`: "xla", or a fused kernel for the full-sequence path.
        self.implementation = implementation
        kw = dict(dtype=dtype, param_dtype=param_dtype, rngs=rngs)
        self.q_proj = Linear(d, config.num_heads * hd, use_bias=config.attention_bias, **kw)
        self.k_proj = Linear(d, config.num_kv_heads * hd, use_bias=config.attention_bias, **kw)
        self.v_proj = Linear(d, config.num_kv_heads * hd, use_bias=config.attention_bias, **kw)
        self.o_proj = Linear(config.num_heads * hd, d, use_bias=config.output_bias, **kw)

    def __call__(self, x, cos, sin, mask: MaskSpec, cached_kv=None,
                 prefix: PrefixLayer | None = None):
        """x `[B, T, D]`; `cached_kv` = (k, v, index) of this layer's cache; `prefix`: shared
        prefixes the rows continue ahead of their own cache (`model/prefix_attention.py`).

        Returns the output and this layer's keys/values (its updated cache slab if cached).
        """
        b, t, _ = x.shape
        q = self.q_proj(x).reshape(b, t, self.num_heads, self.head_dim)
        k = self.k_proj(x).reshape(b, t, self.num_kv_heads, self.head_dim)
        v = self.v_proj(x).reshape(b, t, self.num_kv_heads, self.head_dim)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        # Grouped-query attention without repeating K/V: each kv head serves a group of queries.
        groups = self.num_heads // self.num_kv_heads
        q = q.reshape(b, t, self.num_kv_heads, groups, self.head_dim)
        if cached_kv is None and self.implementation != "xla":
            out = attend_fused(self.implementation, q, k, v, mask)
        elif cached_kv is None:
            out = attend(q, k, v, mask)
        else:  # the cache's layout (`model/kv_cache.py`): k [B, K, D, S], v [B, K, S, D]
            k_cache, v_cache, index = cached_kv
            k = jax.lax.dynamic_update_slice(
                k_cache, jnp.transpose(k, (0, 2, 3, 1)).astype(k_cache.dtype), (0, 0, 0, index))
            v = jax.lax.dynamic_update_slice(
                v_cache, jnp.swapaxes(v, 1, 2).astype(v_cache.dtype), (0, 0, index, 0))
            k_seen, v_seen = k.astype(self.dtype), v.astype(self.dtype)
            out = (attend_cached(q, k_seen, v_seen, mask) if prefix is None
                   else attend_with_prefix(q, k_seen, v_seen, mask.dense(), prefix))
        return self.o_proj(out.reshape(b, t, self.num_heads * self.head_dim)), (k, v)


class MLP(nnx.Module):
    def __init__(self, config: ModelConfig, *, dtype, param_dtype, rngs: nnx.Rngs):
        kw = dict(dtype=dtype, param_dtype=param_dtype, rngs=rngs)
        d, inter = config.hidden_size, config.intermediate_size
        self.gate_proj = Linear(d, inter, **kw)
        self.up_proj = Linear(d, inter, **kw)
        self.down_proj = Linear(inter, d, **kw)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.down_proj(jax.nn.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nnx.Module):
    def __init__(self, config: ModelConfig, *, dtype, param_dtype, rngs: nnx.Rngs,
                 attention: str = "xla"):
        norm = dict(eps=config.rms_norm_eps, dtype=dtype, param_dtype=param_dtype)
        self.input_norm = RMSNorm(config.hidden_size, **norm)
        self.attn = Attention(config, dtype=dtype, param_dtype=param_dtype, rngs=rngs,
                              implementation=attention)
        self.post_attn_norm = RMSNorm(config.hidden_size, **norm)
        self.mlp = MLP(config, dtype=dtype, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x, cos, sin, mask, cached_kv=None, prefix: PrefixLayer | None = None):
        attn_out, kv = self.attn(self.input_norm(x), cos, sin, mask, cached_kv, prefix)
        x = x + attn_out
        return x + self.mlp(self.post_attn_norm(x)), kv
