"""Sampling a LoRA-adapted model: adapters attached vs folded into the kernels, same run.

    python benchmarks/bench_adapter_decode.py [--model smollm2-135m-instruct] [--groups 8]
        [--group-size 4] [--prefix 420] [--suffix 40] [--new-tokens 96] [--batch 32] [--repeats 3]

Evaluation and serving load a trained model with its fp32 adapters folded in
(`train/inference.py`); this measures what that buys. The adapters are the default config's
(r=8 on all seven linears of every layer) with a random nonzero B, so both sides compute a
changed model. Prompts are prefix-cached groups as in an evaluation
(`bench_prefix_cache.grouped_prompts`); each side generates exactly 1 and then
`--new-tokens` tokens greedily, and the difference of the two best times is the decode
time. The two sides are two copies of one adapted model, timed in turn, so both see the same
load; everything is run once first, so compilation is not timed.
"""

from __future__ import annotations

import argparse
import time

from bench_prefix_cache import grouped_prompts
from roofline import machine_limits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--prefix", type=int, default=420)
    parser.add_argument("--suffix", type=int, default=40)
    parser.add_argument("--new-tokens", type=int, default=96)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import jax
    from flax import nnx

    from configs.base import get_config
    from gentool_jax.model.loading import load_model
    from gentool_jax.model.lora import apply_lora, iter_linears, merge_lora
    from gentool_jax.model.registry import resolve_model
    from gentool_jax.sample.generate import generate

    machine_limits()
    model_config = get_config().model
    model_config.name = args.model
    path = resolve_model(model_config)

    def adapted_model():
        model = load_model(path)
        apply_lora(model, model_config.lora, nnx.Rngs(params=0))
        for index, (_, linear) in enumerate(iter_linears(model)):
            if linear.lora is not None:
                shape = linear.lora.lora_b.shape
                linear.lora.lora_b[...] = 0.01 * jax.random.normal(jax.random.key(index), shape)
        model.eval()
        return model

    models = {"attached": adapted_model(), "folded": adapted_model()}
    adapted = len(merge_lora(models["folded"]))
    prompts, lengths = grouped_prompts(models["folded"].config.vocab_size, args.groups,
                                       args.group_size, args.prefix, args.suffix)
    print(f"model {args.model}, LoRA r={model_config.lora.rank} on {adapted} linears: "
          f"{len(prompts)} prompts of {min(map(len, prompts))}-{max(map(len, prompts))} tokens "
          f"in {args.groups} prefix groups, batch {args.batch}, {args.new_tokens} new tokens, "
          f"sides alternating, best of {args.repeats}")

    def timed(side: str, new_tokens: int) -> tuple[float, list[list[int]]]:
        start = time.perf_counter()
        out = generate(models[side], prompts, max_new_tokens=new_tokens, stop_ids=[],
                       batch_size=args.batch, prefix_lengths=lengths,
                       prefix_rows=max(1, args.batch // args.group_size))
        return time.perf_counter() - start, out

    times: dict[tuple[str, int], list[float]] = {}
    outputs = {}
    for side in models:
        timed(side, 1), timed(side, args.new_tokens)  # compile both programs
    for _ in range(args.repeats):
        for side in models:
            for new_tokens in (1, args.new_tokens):
                seconds, outputs[side] = timed(side, new_tokens)
                times.setdefault((side, new_tokens), []).append(seconds)
    steps = args.new_tokens - 1
    decode = {}
    for side in models:
        first, whole = min(times[side, 1]), min(times[side, args.new_tokens])
        decode[side] = whole - first
        print(f"{side:>9}: prefill + 1 token {first:6.2f} s, {steps} decode steps "
              f"{decode[side]:6.2f} s ({decode[side] / steps * 1e3:6.1f} ms a step, "
              f"{steps * len(prompts) / decode[side]:6.1f} tokens/s)")
    same = sum(a == b for a, b in zip(outputs["attached"], outputs["folded"]))
    print(f"ratio folded / attached decode speed: {decode['attached'] / decode['folded']:.2f}x;"
          f" identical greedy outputs: {same}/{len(prompts)}")


if __name__ == "__main__":
    main()
