"""Does a trained adapter's tool choice depend on the query? Ask each toolset twice.

    python benchmarks/query_sensitivity.py --adapter DIR [--data validation.jsonl] [--n 24]
        [--variant strong] [--base smollm2-135m-instruct]

For `--n` validation records of one variant, the first ranked name is scored by its full
teacher-forced log-likelihood after `Ranking: ["` (every offered name and `generate_response`),
once with the record's own query and once with a query of another domain on the same toolset.
A model that reads the query changes its pick; one that answers from the toolset alone keeps
it. Independent of our JAX code: HF transformers + PEFT load the base model and the exported
adapter (torch is a benchmark dependency). `--adapter base` scores the untrained model.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def first_name_scores(model, tokenizer, record: dict, query: str, style: str):
    import torch

    from gentool_jax.data.render import encode_prompt

    context = encode_prompt(dict(record, query=query), tokenizer, style)
    context += tokenizer('Ranking: ["', add_special_tokens=False)["input_ids"]
    names = [tool["name"] for tool in record["tools"]] + ["generate_response"]
    scores = []
    with torch.no_grad():
        for name in names:
            ids = context + tokenizer(name + '"', add_special_tokens=False)["input_ids"]
            logp = model(torch.tensor([ids])).logits.log_softmax(-1)[0]
            scores.append(sum(logp[i - 1, ids[i]].item() for i in range(len(context), len(ids))))
    return names, np.array(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adapter", required=True, help="PEFT adapter directory, or 'base'")
    parser.add_argument("--data", default="runs/default/data/validation.jsonl")
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--variant", default="strong")
    parser.add_argument("--style", default="compact")
    parser.add_argument("--base", default="smollm2-135m-instruct")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import ml_collections
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from gentool_jax.model.registry import resolve_model

    path = resolve_model(ml_collections.ConfigDict(dict(name=args.base, cache_dir="")))
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    if args.adapter != "base":
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, args.adapter)
    model.eval()
    records = [json.loads(line) for line in Path(args.data).read_text().splitlines()]
    rng = random.Random(args.seed)
    chosen = rng.sample([r for r in records if r["variant"] == args.variant], args.n)
    own = swapped = same = 0
    for record in chosen:
        other = rng.choice([r for r in records if r["meta"]["domain"] != record["meta"]["domain"]])
        names, with_own = first_name_scores(model, tokenizer, record, record["query"], args.style)
        _, with_other = first_name_scores(model, tokenizer, record, other["query"], args.style)
        pick, pick_other = names[int(with_own.argmax())], names[int(with_other.argmax())]
        gold = record["call"]["name"]
        own, swapped, same = own + (pick == gold), swapped + (pick_other == gold), \
            same + (pick == pick_other)
        print(f"gold {gold:36s} own query -> {pick:36s} other domain's query -> {pick_other}")
    n = len(chosen)
    print(f"{args.adapter}: n={n} {args.variant} records; gold first with its own query {own}/{n}, "
          f"with another domain's query {swapped}/{n}; same pick either way {same}/{n}")


if __name__ == "__main__":
    main()
