"""Train-step memory and time: tiled attention vs dense one-block attention, same shape.

Compiles our LoRA train step for a SmolLM2-135M-shaped model (random weights, r=8 on q/v, fp32)
twice, once with the default tiled attention (`model/attention.py`) and once with the dense
form over the whole sequence as one block (the baseline), and prints XLA's temp-buffer size for
each and their ratio. With `--steps N` it also runs N steps of each and prints the median step
time and the process's peak RSS so far (the baseline needs ≈19 GB of RAM at 4×1024).

    python benchmarks/bench_memory.py [--rows 4] [--length 1024] [--remat none] [--steps 0]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from bench_train import lora_training_state, make_batch


def build_step(remat: str, rows: int, length: int):
    """(compiled step, its arguments) for the benchmark shape."""
    import jax
    import jax.numpy as jnp

    from gentool_jax.train.step import make_train_step

    graphdef, lora, frozen, optimizer, opt_state = lora_training_state(remat)
    step = jax.jit(make_train_step(graphdef, optimizer, grad_accum=1, dropout_seed=0),
                   donate_argnums=(0, 1))
    batch = {key: jnp.asarray(value) for key, value in make_batch(rows, length).items()}
    compiled = step.lower(lora, opt_state, frozen, batch, 0).compile()
    return compiled, [lora, opt_state, frozen, batch]


def measure(remat: str, rows: int, length: int, steps: int) -> dict[str, float]:
    compiled, args = build_step(remat, rows, length)
    result = {"temp_gb": compiled.memory_analysis().temp_size_in_bytes / 1e9}
    seconds = []
    for index in range(steps + 1 if steps else 0):  # the first run warms up
        started = time.perf_counter()
        args[0], args[1], metrics = compiled(*args, index)
        float(metrics["loss"])
        seconds.append(time.perf_counter() - started)
    if seconds:
        result["step_s"] = float(np.median(seconds[1:]))
        result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    return result


def main() -> None:
    from gentool_jax.model import attention

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--remat", default="none")
    parser.add_argument("--steps", type=int, default=0)
    args = parser.parse_args()
    blocked = measure(args.remat, args.rows, args.length, args.steps)
    attention.TILE_SIZES = ()  # the dense form ...
    attention.ATTENTION_QUERY_CHUNK = args.length  # ... over the whole sequence at once
    whole = measure(args.remat, args.rows, args.length, args.steps)
    for name, result in (("tiled", blocked), ("one block", whole)):
        print(f"{name:13s} " + "  ".join(f"{key} {value:.2f}" for key, value in result.items()))
    print(f"temp ratio    {blocked['temp_gb'] / whole['temp_gb']:.2f}x")
    if args.steps:
        print(f"step ratio    {blocked['step_s'] / whole['step_s']:.2f}x  (peak RSS is cumulative: "
              "the second figure includes the first run)")


if __name__ == "__main__":
    main()
