"""The machine's own limits, measured in the same run as the benchmark that reports against them.

A ratio against HF says who is faster; it does not say how far either is from what the machine
can do. Every throughput benchmark therefore also measures, on the backend it runs on, the
dense matmul rate (fp32, and bf16 with fp32 accumulation) and the streaming read bandwidth,
and states its model's work with the formulas below, so MFU and bandwidth use sit beside the
ratio. Measuring rather than quoting a datasheet keeps CPU figures honest: a 2-core VM's
peak depends on its cores, clocks and what else runs.

FLOP formulas (multiply-add = 2 FLOPs), for a Llama with frozen base weights and LoRA:
  * base linears (q, k, v, o, gate, up, down in every layer): forward 2·P and the input
    gradient 2·P per token, P = their parameter count; no weight gradients (frozen);
  * LM head: 4·V·d per *target* token (the loss projects only the positions it scores);
  * attention, causal: forward 2·T²·H·D per row and layer (QKᵀ and PV over the lower
    triangle), backward twice that; `attended_pairs` replaces T²/2 where a mask skips more;
  * LoRA adapters: 6·r·(in + out) per adapted linear and token (forward, input and weight
    gradients).
Decode bytes per step: every weight once, plus the keys and values each row attends to.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CPU_MATMUL_SHAPE = (4096, 576, 1536)  # a SmolLM2 MLP projection of a 4 x 1024 batch
ACCELERATOR_MATMUL_SHAPE = (8192, 8192, 8192)


def _best_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # compile
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def matmul_flops_per_second(dtype: str, *, repeats: int = 5) -> float:
    """Best-of-`repeats` FLOP/s of one jitted matmul of the backend's benchmark shape."""
    import jax
    import jax.numpy as jnp

    on_cpu = jax.default_backend() == "cpu"
    m, k, n = CPU_MATMUL_SHAPE if on_cpu else ACCELERATOR_MATMUL_SHAPE
    a = jax.random.normal(jax.random.key(0), (m, k), jnp.float32).astype(dtype)
    b = jax.random.normal(jax.random.key(1), (k, n), jnp.float32).astype(dtype)
    product = jax.jit(lambda x, y: jnp.dot(x, y, preferred_element_type=jnp.float32))
    seconds = _best_seconds(lambda: product(a, b).block_until_ready(), repeats)
    return 2.0 * m * k * n / seconds


def read_bytes_per_second(*, megabytes: int = 512, repeats: int = 5) -> float:
    """Streaming read bandwidth: a jitted sum over an fp32 array far larger than any cache."""
    import jax
    import jax.numpy as jnp

    x = jnp.ones((megabytes * 2**20 // 4,), jnp.float32)
    total = jax.jit(jnp.sum)
    seconds = _best_seconds(lambda: total(x).block_until_ready(), repeats)
    return x.nbytes / seconds


def machine_limits(repeats: int = 5) -> dict[str, float]:
    limits = {
        "fp32_flops": matmul_flops_per_second("float32", repeats=repeats),
        "bf16_flops": matmul_flops_per_second("bfloat16", repeats=repeats),
        "read_bytes": read_bytes_per_second(repeats=repeats),
    }
    print(f"machine: matmul fp32 {limits['fp32_flops'] / 1e9:.0f} GFLOP/s, bf16 (fp32 "
          f"accumulation) {limits['bf16_flops'] / 1e9:.0f} GFLOP/s, read "
          f"{limits['read_bytes'] / 1e9:.1f} GB/s (measured in this run)", flush=True)
    return limits


def _linear_shapes(shape: dict) -> dict[str, tuple[int, int]]:
    d, inter, hd = shape["hidden_size"], shape["intermediate_size"], shape["head_dim"]
    q, kv = shape["num_heads"] * hd, shape["num_kv_heads"] * hd
    return {"q_proj": (d, q), "k_proj": (d, kv), "v_proj": (d, kv), "o_proj": (q, d),
            "gate_proj": (d, inter), "up_proj": (d, inter), "down_proj": (inter, d)}


def lora_step_flops(shape: dict, *, rows: int, length: int, target_tokens: int,
                    lora_targets: tuple[str, ...], rank: int,
                    attended_pairs: float | None = None) -> dict[str, float]:
    """FLOPs of one frozen-base LoRA train step, by part (formulas in the module docstring).

    `target_tokens` is per row; `attended_pairs` the query-key pairs one row's mask allows
    (default: causal, T(T+1)/2).
    """
    linears = _linear_shapes(shape)
    layers, tokens = shape["num_layers"], rows * length
    base = sum(i * o for i, o in linears.values()) * layers
    adapters = sum(rank * (i + o) for name, (i, o) in linears.items() if name in lora_targets)
    pairs = attended_pairs if attended_pairs is not None else length * (length + 1) / 2
    heads_dim = shape["num_heads"] * shape["head_dim"]
    parts = {
        "base linears": 4.0 * base * tokens,
        "lm head": 4.0 * shape["vocab_size"] * shape["hidden_size"] * target_tokens * rows,
        "attention": 3 * 4.0 * pairs * heads_dim * layers * rows,
        "lora": 6.0 * adapters * layers * tokens,
    }
    parts["total"] = sum(parts.values())
    return parts


def decode_step_bytes(shape: dict, *, batch: int, cache_len: int, weight_bytes: int,
                      cache_bytes: int = 4) -> float:
    """Bytes one decode step must read: every weight once, and each row's keys and values."""
    linears = _linear_shapes(shape)
    weights = sum(i * o for i, o in linears.values()) * shape["num_layers"]
    weights += shape["vocab_size"] * shape["hidden_size"]  # the (tied) LM head
    kv = 2 * shape["num_layers"] * shape["num_kv_heads"] * shape["head_dim"] * cache_len
    return float(weights * weight_bytes + batch * kv * cache_bytes)


def report_mfu(name: str, flops_per_step: float, seconds_per_step: float,
               limits: dict[str, float], dtype: str) -> str:
    peak = limits["bf16_flops" if dtype == "bfloat16" else "fp32_flops"]
    achieved = flops_per_step / seconds_per_step
    return (f"{name}: {achieved / 1e9:.1f} GFLOP/s = {100 * achieved / peak:.0f}% of the "
            f"measured {dtype} matmul peak")
