"""Decode speed of our sampler against transformers `generate`, same prompts, same run.

    python benchmarks/bench_sample.py [--model smollm2-135m-instruct] [--batch 4]
                                      [--new-tokens 64] [--repeats 3] [--system-tokens 0]

Both sides decode greedily exactly `--new-tokens` tokens (no early stop) from the same
left-padded batch of chat prompts. Decode speed excludes the prompt: each side is also timed
generating a single token (prefill + 1), and decode tokens/s = batch × (new − 1) / (t_new −
t_1). `--system-tokens 420` adds a system message of compact tool lines of about that many
tokens, so the cache is as long as an evaluation prompt's (DESIGN §8: ≈80% of a sample is the
toolset) and attention over it weighs as it does there. Both sides are warmed up first (our
compilation is not timed). torch is a benchmark-only dependency. The same run measures the
machine's read bandwidth and prints the share each side uses: decode of a small model is
bound by reading every weight (and the cache) once a step (`benchmarks/roofline.py`).
"""

from __future__ import annotations

import argparse
import time

import ml_collections
from roofline import decode_step_bytes, machine_limits

QUESTIONS = (
    "Will I need an umbrella in Lisbon tomorrow afternoon?",
    "Convert 150 US dollars to euros and tell me the rate you used, please.",
    "Find a flight from Boston to Chicago on Friday morning with a return on Sunday evening, "
    "economy class, for two adults, and list the three cheapest options with their times.",
    "What's the capital of Peru?",
    "Summarize the latest news about renewable energy in three bullet points.",
    "Book a table for four at an Italian restaurant near the city centre at 7 pm tonight.",
    "How many days are there between March 3 and July 19 of this year?",
    "Translate 'good morning, how are you?' into French, Spanish and German.",
)


TOOL_LINE = "weather_now(city: string, units?: string) -> object — current conditions in a city"


def chat_prompts(tokenizer, batch: int, system_tokens: int = 0) -> list[list[int]]:
    per_line = len(tokenizer(TOOL_LINE + "\n")["input_ids"])
    system = "Tools:\n" + "\n".join([TOOL_LINE] * (system_tokens // per_line))
    prompts = []
    for i in range(batch):
        messages = [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]
        if system_tokens:
            messages.insert(0, {"role": "system", "content": system})
        rendered = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                 tokenize=True)
        ids = rendered["input_ids"] if hasattr(rendered, "keys") else rendered
        prompts.append([int(t) for t in ids])
    return prompts


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_ours(path, prompts, new_tokens: int, repeats: int, dtype: str) -> tuple[float, float]:
    import jax.numpy as jnp

    from gentool_jax.model.loading import load_model
    from gentool_jax.sample.generate import generate

    model = load_model(path, dtype=jnp.dtype(dtype), param_dtype=jnp.dtype(dtype))
    run = lambda n: generate(model, prompts, max_new_tokens=n, stop_ids=[],
                             batch_size=len(prompts))
    run(1), run(new_tokens)  # compile both shapes
    return best_of(repeats, lambda: run(1)), best_of(repeats, lambda: run(new_tokens))


def bench_transformers(path, prompts, new_tokens: int, repeats: int, dtype: str
                       ) -> tuple[float, float]:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=getattr(torch, dtype))
    model.eval()
    length = max(len(p) for p in prompts)
    ids = torch.tensor([[0] * (length - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (length - len(p)) + [1] * len(p) for p in prompts])

    def run(n: int):
        with torch.no_grad():
            model.generate(ids, attention_mask=mask, do_sample=False, max_new_tokens=n,
                           min_new_tokens=n, pad_token_id=0)

    run(1), run(new_tokens)  # warm-up (torch allocates and picks kernels on first calls)
    return best_of(repeats, lambda: run(1)), best_of(repeats, lambda: run(new_tokens))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--system-tokens", type=int, default=0)
    args = parser.parse_args()

    import jax

    from gentool_jax.model.config import ModelConfig
    from gentool_jax.model.registry import load_tokenizer, resolve_model

    limits = machine_limits()
    path = resolve_model(ml_collections.ConfigDict(dict(name=args.model, cache_dir="")))
    shape = vars(ModelConfig.from_hf(path))
    prompts = chat_prompts(load_tokenizer(path), args.batch, args.system_tokens)
    lengths = [len(p) for p in prompts]
    print(f"model {args.model} ({args.dtype}) on {jax.devices()[0].platform}, batch "
          f"{args.batch}, prompt tokens {min(lengths)}-{max(lengths)}, {args.new_tokens} new "
          f"tokens, best of {args.repeats}")
    decoded = args.batch * (args.new_tokens - 1)
    rates = {}
    for name, bench in (("gentool-jax", bench_ours), ("transformers", bench_transformers)):
        one, full = bench(path, prompts, args.new_tokens, args.repeats, args.dtype)
        rates[name] = decoded / (full - one)
        print(f"{name:>13}: prefill+1 {one * 1e3:8.1f} ms, {args.new_tokens} tokens "
              f"{full:6.2f} s, decode {rates[name]:8.1f} tokens/s")
    ratio = rates["gentool-jax"] / rates["transformers"]
    print(f"ratio gentool-jax / transformers decode tokens/s: {ratio:.2f}x")
    width = 2 if args.dtype == "bfloat16" else 4
    step_bytes = decode_step_bytes(shape, batch=args.batch, weight_bytes=width, cache_bytes=width,
                                   cache_len=max(lengths) + args.new_tokens // 2)
    for name, rate in rates.items():
        used = step_bytes * rate / args.batch
        print(f"{name:>13}: reads {used / 1e9:.1f} GB/s = {100 * used / limits['read_bytes']:.0f}% "
              f"of the measured read bandwidth ({step_bytes / 1e6:.0f} MB a step)")


if __name__ == "__main__":
    main()
