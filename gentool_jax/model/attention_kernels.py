"""Fused attention kernels of the accelerators, behind `model.attention`, and the choice of one.

`xla` is the plain-JAX kernel of `model/attention.py`, which runs anywhere and handles every
mask this project builds. On a GPU, `cudnn` is cuDNN's fused flash attention through
`jax.nn.dot_product_attention`: the mask (segments, shared-prefix turns, sliding window) goes
in as a dense boolean, and the causal flag lets cuDNN skip the tiles above the diagonal. On a
TPU, `pallas` is JAX's Pallas flash-attention kernel, which takes segment ids and a causal flag
but not an arbitrary mask: shared-prefix rows and sliding windows are refused at setup rather
than attended wrongly. A `pallas_call` is not partitioned by the compiler the way cuDNN's
attention is (JAX gives that one partitioning rules), so until the kernel is wrapped in a
`shard_map` over the batch axes it runs on single-device meshes only; `auto` falls back to
`xla` on more. cuDNN's kernel is not trusted blind either: JAX's own tests skip it on CUDA 13
("cuDNN creates no execution plans", jax-ml/jax#32430), so before choosing it a GPU run
compiles and runs it once on a tiny input (`cudnn_probe_failure`), and `auto` takes `xla`,
saying why in one line, when that fails. Both fused kernels run the full-sequence path
(training, evaluation logits); the sampler's cached prefill and decode steps keep the XLA
kernels, whose mask carries a cache offset that neither fused kernel takes.
"""

from __future__ import annotations

import functools
import math
import sys

import jax
import jax.numpy as jnp

from gentool_jax.errors import GentoolError
from gentool_jax.model.attention import MaskSpec

IMPLEMENTATIONS = ("auto", "xla", "cudnn", "pallas")
PALLAS_BLOCK = 128  # the Pallas kernel's default tile: sequences must be a multiple of it
PROBE_LENGTH = 128  # tokens in the cuDNN probe's one row


def resolve_attention(requested: str, *, backend: str, dtype: str, share_prefix: bool,
                      sliding_window: int | None, num_devices: int, head_dim: int = 128) -> str:
    """The implementation a run uses; `auto` picks the backend's fused kernel where it applies.

    `head_dim` is the model's, for the cuDNN probe (kernels are chosen per head size).
    Raises GentoolError naming `model.attention` when an explicit choice cannot run here.
    """
    if requested not in IMPLEMENTATIONS:
        raise GentoolError(f"model.attention must be one of {IMPLEMENTATIONS}, got {requested!r}")
    half = dtype in ("bfloat16", "float16")
    pallas_ok = not share_prefix and sliding_window is None and num_devices == 1
    if requested == "auto":
        if backend == "gpu" and half:
            failure = cudnn_probe_failure(head_dim, dtype)
            if failure is None:
                return "cudnn"
            print(f"model.attention=auto: cuDNN flash attention failed its probe on this GPU "
                  f"({failure}); using xla", file=sys.stderr, flush=True)
            return "xla"
        if backend == "tpu" and pallas_ok:
            return "pallas"
        return "xla"
    if requested == "cudnn":
        if backend != "gpu":
            raise GentoolError(f"model.attention='cudnn' needs a GPU; this run's backend is "
                             f"{backend!r} (use 'xla' or 'auto')")
        if not half:
            raise GentoolError(f"model.attention='cudnn' needs model.dtype bfloat16 or float16, "
                             f"got {dtype!r} (cuDNN flash attention has no fp32 kernel)")
        failure = cudnn_probe_failure(head_dim, dtype)
        if failure is not None:
            raise GentoolError(f"model.attention='cudnn': cuDNN flash attention failed its probe "
                               f"on this GPU ({failure}); use 'xla' or 'auto'")
    if requested == "pallas":
        if backend != "tpu":
            raise GentoolError(f"model.attention='pallas' needs a TPU; this run's backend is "
                             f"{backend!r} (use 'xla' or 'auto')")
        if not pallas_ok:
            raise GentoolError(
                "model.attention='pallas' takes segment ids on one device: it cannot express "
                "data.share_prefix turns or a sliding window, nor run on a multi-device mesh "
                f"({num_devices} devices here); use 'xla'")
    return requested


@functools.cache
def cudnn_probe_failure(head_dim: int, dtype: str) -> str | None:
    """None when cuDNN flash attention compiles and runs here, else why not, in one line.

    A forward and backward of the real call's form (dense mask, causal flag, grouped query
    heads, the model's head size and dtype) on one tiny row, once per process and shape: a GPU
    whose cuDNN has no plan for it fails here, at setup, not in the first training step.
    """
    q = jnp.ones((1, PROBE_LENGTH, 1, 2, head_dim), dtype)
    k = jnp.ones((1, PROBE_LENGTH, 1, head_dim), dtype)
    segments = jnp.ones((1, PROBE_LENGTH), jnp.int32)
    turns = jnp.zeros_like(segments)
    spec = MaskSpec(segments, segments, turns, turns, jnp.zeros((), jnp.int32))
    loss = lambda q, k, v: _dot_product(q, k, v, spec, "cudnn").astype(jnp.float32).sum()
    try:
        jax.block_until_ready(jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(q, k, k))
    except Exception as error:  # any failure means: do not train on this kernel
        lines = str(error).strip().splitlines()
        return f"{type(error).__name__}: {lines[0] if lines else 'no message'}"
    return None


def attend_fused(implementation: str, q: jax.Array, k: jax.Array, v: jax.Array,
                 spec: MaskSpec) -> jax.Array:
    """q `[B, T, K, G, D]`, k/v `[B, S, K, D]` -> `[B, T, K, G, D]`, as `attention.attend`."""
    if implementation == "cudnn":
        return _dot_product(q, k, v, spec, "cudnn")
    if implementation == "pallas":
        return _pallas_flash(q, k, v, spec)
    raise ValueError(f"no fused attention kernel named {implementation!r}")


def _dot_product(q, k, v, spec: MaskSpec, implementation: str):
    """`jax.nn.dot_product_attention` over our layouts; `implementation="xla"` is its reference
    path, which the CPU tests run to check everything but the kernel itself."""
    b, t, kv, groups, d = q.shape
    mask = spec.dense()[:, None]  # [B, 1, T, S]
    out = jax.nn.dot_product_attention(
        q.reshape(b, t, kv * groups, d), k, v, mask=mask, is_causal=True,
        scale=1.0 / math.sqrt(d), implementation=implementation)
    return out.reshape(q.shape)


def _pallas_flash(q, k, v, spec: MaskSpec):
    """Pallas TPU flash attention with segment ids; K/V heads repeated to the query heads (the
    kernel has no grouped-query form)."""
    from jax.experimental.pallas.ops.tpu import flash_attention as pallas

    b, t, kv, groups, d = q.shape
    if t % PALLAS_BLOCK or k.shape[1] % PALLAS_BLOCK:
        raise ValueError(f"model.attention='pallas' needs sequence lengths that are multiples "
                         f"of {PALLAS_BLOCK}; got {t} queries, {k.shape[1]} keys "
                         "(set data.max_len accordingly)")
    q_heads = jnp.transpose(q.reshape(b, t, kv * groups, d), (0, 2, 1, 3))
    k_heads = jnp.repeat(jnp.swapaxes(k, 1, 2), groups, axis=1)
    v_heads = jnp.repeat(jnp.swapaxes(v, 1, 2), groups, axis=1)
    out = pallas.flash_attention(
        q_heads, k_heads, v_heads, segment_ids=pallas.SegmentIds(spec.q_segments,
                                                                 spec.k_segments),
        causal=True, sm_scale=1.0 / math.sqrt(d))
    return jnp.transpose(out, (0, 2, 1, 3)).reshape(q.shape)
