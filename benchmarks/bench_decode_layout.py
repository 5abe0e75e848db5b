"""A decode step's linears on XLA:CPU: token-major `x @ W` (ours) vs feature-major `W^T @ x^T`.

    python benchmarks/bench_decode_layout.py [--batches 16 32 64] [--repeats 10]

A decode step multiplies a few rows by every weight matrix. XLA:CPU runs `[B, in] @ [in, out]`
with small B far below its matmul peak; the same product with the weights on the left,
`[out, in] @ [in, B]`, and the activations kept feature-major from layer to layer, runs much
nearer it. This times the 30 layers' seven projections of SmolLM2-135M (q, k, v, o, gate, up,
down; a residual and SwiGLU between them, attention left out) both ways in one run, to say
what a feature-major decode path would buy before anyone writes one.
"""

from __future__ import annotations

import argparse
import time

from roofline import machine_limits

SHAPES = [(576, 576), (576, 192), (576, 192), (576, 576), (576, 1536), (576, 1536), (1536, 576)]
LAYERS = 30


def token_major(x, weights):
    """Ours: activations `[B, D]`, kernels `[in, out]`."""
    import jax
    import jax.numpy as jnp

    for q, k, v, o, gate, up, down in weights:
        keys, values = x @ k, x @ v
        mixed = x @ q + jnp.concatenate([keys, values, keys], axis=-1)
        x = x + mixed @ o
        x = x + (jax.nn.silu(x @ gate) * (x @ up)) @ down
    return x


def feature_major(x, weights_t):
    """The same arithmetic on activations `[D, B]` with kernels `[out, in]` (HF's layout)."""
    import jax
    import jax.numpy as jnp

    xt = x.T
    for q, k, v, o, gate, up, down in weights_t:
        keys, values = k @ xt, v @ xt
        mixed = q @ xt + jnp.concatenate([keys, values, keys], axis=0)
        xt = xt + o @ mixed
        xt = xt + down @ (jax.nn.silu(gate @ xt) * (up @ xt))
    return xt.T


def best_of(fn, *args, repeats: int) -> float:
    import jax

    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    import jax
    import numpy as np

    limits = machine_limits()
    keys = iter(jax.random.split(jax.random.key(0), LAYERS * len(SHAPES) + len(args.batches)))
    weights = [[jax.random.normal(next(keys), shape) * 0.02 for shape in SHAPES]
               for _ in range(LAYERS)]
    weights_t = [[np.asarray(w).T.copy() for w in layer] for layer in weights]
    weights_t = jax.device_put(weights_t)
    params = LAYERS * sum(i * o for i, o in SHAPES)
    ours, theirs = jax.jit(token_major), jax.jit(feature_major)
    for batch in args.batches:
        x = jax.random.normal(next(keys), (batch, SHAPES[0][0])) * 0.1
        np.testing.assert_allclose(np.asarray(ours(x, weights)),
                                   np.asarray(theirs(x, weights_t)), rtol=1e-4, atol=1e-4)
        t_ours = best_of(ours, x, weights, repeats=args.repeats)
        t_theirs = best_of(theirs, x, weights_t, repeats=args.repeats)
        flops = 2 * params * batch
        print(f"batch {batch:3d}: token-major {t_ours * 1e3:7.1f} ms "
              f"({flops / t_ours / 1e9:5.1f} GFLOP/s, {flops / t_ours / limits['fp32_flops']:4.0%}"
              f" of fp32 peak), feature-major {t_theirs * 1e3:7.1f} ms "
              f"({flops / t_theirs / 1e9:5.1f} GFLOP/s); ratio {t_ours / t_theirs:.2f}x")


if __name__ == "__main__":
    main()
