"""Constrained vs free decoding, same run: the grammar mask's cost per step (p50 / p99, host
side, batch 32) and the decode time per step with and without it, on the default model's
shapes (the cached SmolLM2-135M-Instruct; `--random` for random weights of its shape).

    PYTHONPATH=. python benchmarks/bench_constrained.py [--batch 32] [--new-tokens 48]

Prompts are evaluation prompts (chat template, compact toolset of 5 tools + the query), 4
toolsets of `batch / 4` queries each, prefix-cached as `evaluate` runs them. Both modes decode
the same number of steps per batch where possible; the figure compared is seconds per decode
step, (full run - prefill and first token) / (steps - 1), in `--repeats` paired rounds
whose order alternates; the ratio reported is the median of the rounds' ratios. The machine's
matmul rate and read bandwidth are measured in the same run (`benchmarks/roofline.py`).
"""

from __future__ import annotations

import argparse
import time

import ml_collections
import numpy as np
from roofline import machine_limits

TOOLS = [
    {"name": "get_weather", "description": "Current weather for a city.", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"},
                                         "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city"]}},
    {"name": "get_weather_forecast", "description": "Hourly forecast for a city and day.",
     "parameters": {"type": "object", "properties": {
         "city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}},
    {"name": "stock_quote", "description": "Latest trade price of a stock symbol.",
     "parameters": {"type": "object", "properties": {"symbol": {"type": "string"}},
                    "required": ["symbol"]}},
    {"name": "convert_currency", "description": "Convert an amount between currencies.",
     "parameters": {"type": "object", "properties": {
         "amount": {"type": "number"}, "from": {"type": "string"}, "to": {"type": "string"}},
         "required": ["amount", "from", "to"]}},
    {"name": "search_books", "description": "Search a library catalog.", "parameters": {
        "type": "object", "properties": {"query": {"type": "string"},
                                         "filters": {"type": "object", "properties": {
                                             "year": {"type": "integer"},
                                             "tags": {"type": "array",
                                                      "items": {"type": "string"}}}}},
        "required": ["query"]}},
]
QUERIES = ["Will it rain in Lisbon tomorrow?", "Price of ACME shares?",
           "Convert 150 dollars to euros.", "Find books about sailing from 1990.",
           "Tell me a joke.", "Hourly weather in Oslo for 3 days?", "Is it cold in Rome?",
           "How is MSFT trading?"]


def records(batch: int) -> list[dict]:
    rng = np.random.default_rng(0)
    out = []
    for toolset in range(4):
        order = rng.permutation(len(TOOLS))
        for i in range(batch // 4):
            out.append({"id": f"{toolset}-{i}", "query": QUERIES[i % len(QUERIES)],
                        "tools": [TOOLS[j] for j in order]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--random", action="store_true", help="random weights, same shapes")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=4, help="paired rounds")
    args = parser.parse_args()

    import jax
    from flax import nnx

    from gentool_jax.data.render import encode_prompt
    from gentool_jax.model.config import ModelConfig
    from gentool_jax.model.llama import Llama
    from gentool_jax.model.loading import load_model
    from gentool_jax.model.registry import load_tokenizer, resolve_model
    from gentool_jax.records import toolset_key
    from gentool_jax.sample import constraint
    from gentool_jax.sample.constraint import Constrainer, RowGrammar
    from gentool_jax.sample.generate import generate_with_outcomes, stop_ids_for
    from gentool_jax.sample.prefix import shared_prefix_lengths

    machine_limits()
    path = resolve_model(ml_collections.ConfigDict(dict(name=args.model, cache_dir="")))
    tokenizer = load_tokenizer(path)
    if args.random:
        model = Llama(ModelConfig.from_hf(path), rngs=nnx.Rngs(0))
    else:
        model = load_model(path)
    chosen = records(args.batch)
    prompts = [encode_prompt(r, tokenizer, "compact") for r in chosen]
    shared = shared_prefix_lengths(prompts, [toolset_key(r) for r in chosen])
    stops = stop_ids_for(tokenizer)
    started = time.perf_counter()
    constrainer = Constrainer(tokenizer, model.config.vocab_size, stops)
    grammars = [RowGrammar.of(r["tools"]) for r in chosen]
    constrainer.check(grammars)
    print(f"model {args.model}{' (random weights)' if args.random else ''} on "
          f"{jax.devices()[0].platform}, batch {args.batch}, prompt tokens "
          f"{min(map(len, prompts))}-{max(map(len, prompts))} ({sum(n > 0 for n in shared)} "
          f"sharing a prefix), up to {args.new_tokens} new tokens, {args.repeats} rounds; "
          f"llguidance tokenizer + {constrainer.grammars.compiled} grammars built in "
          f"{time.perf_counter() - started:.2f} s", flush=True)

    step_seconds: list[float] = []
    original = constraint.BatchMatchers.step

    def timed(self, tokens):
        begun = time.perf_counter()
        result = original(self, tokens)
        step_seconds.append(time.perf_counter() - begun)
        return result

    constraint.BatchMatchers.step = timed

    def run(new_tokens: int, constrained: bool):
        extra = dict(constrainer=constrainer, grammars=grammars) if constrained else {}
        begun = time.perf_counter()
        result = generate_with_outcomes(model, prompts, max_new_tokens=new_tokens,
                                        stop_ids=stops, batch_size=args.batch, bucket=64,
                                        prefix_lengths=shared, prefix_rows=4, **extra)
        return time.perf_counter() - begun, result

    def per_step_seconds(constrained: bool) -> tuple[float, float, int, object]:
        one, _ = run(1, constrained)
        step_seconds.clear()
        full, result = run(args.new_tokens, constrained)
        steps = max(len(tokens) for tokens in result.tokens)
        return (full - one) / max(steps - 1, 1), one, steps, result

    for constrained in (False, True):
        run(1, constrained)
        run(args.new_tokens, constrained)  # compile both programs

    # Rounds alternate the order (free first, then constrained first) so the VM's drift within
    # a round, which reaches tens of percent over minutes here, cancels in the paired ratios.
    ratios: list[float] = []
    best = {"free": float("inf"), "constrained": float("inf")}
    for round_index in range(args.repeats):
        order = (False, True) if round_index % 2 == 0 else (True, False)
        seconds = {}
        for constrained in order:
            name = "constrained" if constrained else "free"
            seconds[name], one, steps, result = per_step_seconds(constrained)
            best[name] = min(best[name], seconds[name])
            line = (f"round {round_index + 1} {name:>12}: prefill+1 {one * 1e3:7.0f} ms, "
                    f"{steps} steps, decode {seconds[name] * 1e3:6.1f} ms/step")
            if constrained:
                masks = np.asarray(step_seconds) * 1e3
                ended = [o.status for o in result.outcomes]
                overridden = sum(o.interventions > 0 for o in result.outcomes)
                line += (f"; host mask p50 {np.percentile(masks, 50):.2f} ms, p99 "
                         f"{np.percentile(masks, 99):.2f} ms over {len(masks)} calls; "
                         f"{ended.count('complete')}/{len(ended)} replies complete, "
                         f"{overridden} overridden")
            print(line, flush=True)
        ratios.append(seconds["constrained"] / seconds["free"])
    print(f"constrained / free decode time per step, paired by round: "
          f"{', '.join(f'{r:.3f}' for r in ratios)}; median {np.median(ratios):.3f}x, "
          f"best-to-best {best['constrained'] / best['free']:.3f}x")


if __name__ == "__main__":
    main()
