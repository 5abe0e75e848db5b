"""Evaluation throughput of `generate` with and without prefix caching, same prompts, same run.

    python benchmarks/bench_prefix_cache.py [--model tiny-random|smollm2-135m-instruct]
        [--groups 8] [--group-size 6] [--prefix 400] [--suffix 40] [--new-tokens 32]
        [--batch 16] [--prefix-rows 4] [--repeats 1]

Prompts mimic an evaluation set (DESIGN §8): `--groups` toolsets, each shared by `--group-size`
queries, as a ≈`--prefix`-token prefix (±10%) followed by ≈`--suffix` tokens (±25%) of the
query's own. Token ids are synthetic: speed depends on shapes, not on which ids. Both sides
decode greedily exactly `--new-tokens` tokens (no stop ids), so they do equal decode work and
differ only in prefill. Both are run once first, so compilation is not timed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def grouped_prompts(vocab: int, groups: int, size: int, prefix: int, suffix: int, seed: int = 0
                    ) -> tuple[list[list[int]], list[int]]:
    """Prompts in a shuffled order (as records come) and their shared-prefix lengths."""
    rng = np.random.default_rng(seed)
    prompts, lengths = [], []
    for _ in range(groups):
        shared = rng.integers(1, vocab, int(rng.integers(prefix * 9 // 10, prefix * 11 // 10 + 1)))
        for _ in range(size):
            own = rng.integers(1, vocab, int(rng.integers(suffix * 3 // 4, suffix * 5 // 4 + 1)))
            prompts.append([*shared.tolist(), *own.tolist()])
            lengths.append(len(shared))
    order = rng.permutation(len(prompts))
    return [prompts[i] for i in order], [lengths[i] for i in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="tiny-random")
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--group-size", type=int, default=6)
    parser.add_argument("--prefix", type=int, default=400)
    parser.add_argument("--suffix", type=int, default=40)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--prefix-rows", type=int, default=4)
    parser.add_argument("--bucket", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp

    from configs.base import get_config
    from gentool_jax.model.loading import load_model
    from gentool_jax.model.registry import resolve_model
    from gentool_jax.sample.generate import generate

    model_config = get_config().model
    model_config.name = args.model
    path = resolve_model(model_config)
    model = load_model(path, dtype=jnp.dtype(args.dtype), param_dtype=jnp.dtype(args.dtype))
    prompts, lengths = grouped_prompts(model.config.vocab_size, args.groups, args.group_size,
                                       args.prefix, args.suffix)
    print(f"model {args.model} ({args.dtype}) on {jax.devices()[0].platform}: {len(prompts)} "
          f"prompts in {args.groups} groups of {args.group_size}, prompt tokens "
          f"{min(map(len, prompts))}-{max(map(len, prompts))} (shared {min(lengths)}-"
          f"{max(lengths)}), {args.new_tokens} new tokens, batch {args.batch}, prefix rows "
          f"{args.prefix_rows}, best of {args.repeats}")
    kwargs = dict(max_new_tokens=args.new_tokens, stop_ids=[], batch_size=args.batch,
                  bucket=args.bucket, prefix_rows=args.prefix_rows)
    sides = {"plain": None, "prefix-cached": lengths}
    outputs = {name: generate(model, prompts, prefix_lengths=shared, **kwargs)
               for name, shared in sides.items()}  # warm-up: compiles every shape
    rates = {}
    for name, shared in sides.items():
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            generate(model, prompts, prefix_lengths=shared, **kwargs)
            times.append(time.perf_counter() - start)
        rates[name] = len(prompts) / min(times)
        print(f"{name:>14}: {min(times):7.2f} s, {rates[name]:7.2f} prompts/s")
    same = sum(a == b for a, b in zip(outputs["plain"], outputs["prefix-cached"]))
    print(f"ratio prefix-cached / plain prompts/s: {rates['prefix-cached'] / rates['plain']:.2f}x"
          f"; identical greedy outputs: {same}/{len(prompts)}")


if __name__ == "__main__":
    main()
