"""Model FLOPs utilization of a LoRA train step at Llama 3 sizes, on whatever backend is present.

    python benchmarks/bench_mfu.py [--shapes 1b 3b 8b] [--length 2048] [--rows 1] [--steps 3]
    python benchmarks/bench_mfu.py --quick        # CPU: 2 layers of each shape, 256 tokens

Random weights of the Llama 3.2 1B / 3B and Llama 3.1 8B shapes (no download), bf16 weights
and compute, LoRA r=8 on every linear, the loss on every token, one device, the attention
kernel `model.attention=auto` would pick there (`--attention` to choose). The FLOPs are the
frozen-base LoRA formula of `benchmarks/roofline.py` (attention included, no weight gradients
for the frozen base); the peak is the bf16 matmul rate measured in the same run, and, on
devices `gentool_jax.train.metrics` knows, the datasheet peak too. Peak memory is the device
allocator's high-water mark where the backend reports one (GPU, TPU), else the process's.
"""

from __future__ import annotations

import argparse
import functools
import resource
import time

import numpy as np
from bench_train import jax_step, lora_training_state, make_batch
from roofline import lora_step_flops, machine_limits

LLAMA3 = dict(vocab_size=128256, num_heads=32, num_kv_heads=8, head_dim=128,
              rope_theta=500000.0, rms_norm_eps=1e-5)
SHAPES = {
    "1b": dict(LLAMA3, hidden_size=2048, intermediate_size=8192, num_layers=16, head_dim=64,
               tie_word_embeddings=True),
    "3b": dict(LLAMA3, hidden_size=3072, intermediate_size=8192, num_layers=28, num_heads=24,
               tie_word_embeddings=True),
    "8b": dict(LLAMA3, hidden_size=4096, intermediate_size=14336, num_layers=32,
               tie_word_embeddings=False),
}
ALL_LINEARS = r".*(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$"
LINEAR_NAMES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def peak_memory_bytes() -> float:
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    if "peak_bytes_in_use" in stats:
        return float(stats["peak_bytes_in_use"])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def run_shape(name: str, shape: dict, args, limits: dict[str, float]) -> None:
    import jax

    from gentool_jax.model.attention_kernels import resolve_attention
    from gentool_jax.train.metrics import peak_flops_per_device

    attention = resolve_attention(args.attention, backend=jax.default_backend(),
                                  dtype="bfloat16", share_prefix=False, sliding_window=None,
                                  num_devices=1, head_dim=shape["head_dim"])
    batch = make_batch(args.rows, args.length, args.length - 1, shape["vocab_size"])
    state_fn = functools.partial(lora_training_state, shape, targets=ALL_LINEARS,
                                 dtype="bfloat16", remat=args.remat, attention=attention)
    step = jax_step(batch, state_fn=state_fn)
    started = time.perf_counter()
    step()
    compile_seconds = time.perf_counter() - started
    seconds = []
    for _ in range(args.steps):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    step_seconds = float(np.median(seconds))
    flops = lora_step_flops(shape, rows=args.rows, length=args.length,
                            target_tokens=args.length - 1, lora_targets=LINEAR_NAMES, rank=8)
    achieved = flops["total"] / step_seconds
    datasheet = peak_flops_per_device("bfloat16")
    line = (f"{name} ({attention} attention): {args.rows}x{args.length} tokens, step "
            f"{step_seconds:.3f} s (first "
            f"{compile_seconds:.0f} s), {args.rows * args.length / step_seconds:.0f} tokens/s, "
            f"{achieved / 1e12:.2f} TFLOP/s, MFU {100 * achieved / limits['bf16_flops']:.0f}% "
            "of measured bf16 peak")
    if datasheet:
        line += f", {100 * achieved / datasheet:.0f}% of datasheet"
    print(line + f", peak memory {peak_memory_bytes() / 2**30:.1f} GiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--length", type=int, default=2048)
    parser.add_argument("--rows", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--remat", default="none", choices=("none", "full", "dots_saveable"))
    parser.add_argument("--attention", default="auto", choices=("auto", "xla", "cudnn", "pallas"))
    parser.add_argument("--quick", action="store_true",
                        help="2 layers of each shape and 256 tokens: a CPU smoke run")
    args = parser.parse_args()
    if args.quick:
        args.length, args.steps = 256, 1
    limits = machine_limits()
    for name in args.shapes:
        shape = dict(SHAPES[name], num_layers=2) if args.quick else SHAPES[name]
        run_shape(name + (" (2 layers)" if args.quick else ""), shape, args, limits)


if __name__ == "__main__":
    main()
