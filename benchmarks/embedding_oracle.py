"""Does the base model's representation already link a query to the tools that serve it?

    python benchmarks/embedding_oracle.py --data runs/exp/base/data [--split validation]
        [--n 300] [--layers 6 15 30]

For tool-needing records of one split (validation, or a test scenario's file name stem), the
query and each offered tool (`name: description`) are encoded by the frozen base model on their
own, mean-pooled over tokens at a few layers, and the tool whose vector is closest (cosine) to
the query's is picked. Printed per layer: how often that tool is gold, how often it is of the
query's domain (each tool's domain is its pair's `meta.domain`, read from train and the split),
and what picking uniformly scores on both.

Why: LoRA fine-tuning steers what the base model represents; it rarely builds a new semantic
map. If the base model's vectors do not put "whether it's smoggy" nearer an air-quality tool than
a calendar one, selection has to be learned from scratch by a low-rank update, which is what the
flat decision-probe curves (docs/results.md) would look like. Independent of our JAX code: HF
transformers (torch is a benchmark dependency) loads the cached base model.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.domain_oracle import TOOL_VARIANTS, read, tool_domains  # noqa: E402


def pooled(model, tokenizer, text: str, layers: list[int]) -> np.ndarray:
    """`[len(layers), hidden]` mean-pooled hidden states of `text` alone."""
    import torch

    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        states = model(ids, output_hidden_states=True).hidden_states
    return np.stack([states[layer][0].mean(0).numpy() for layer in layers])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("runs/exp/base/data"))
    parser.add_argument("--split", default="validation",
                        help="validation, or e.g. test_unseen_query_seen_tool")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--layers", type=int, nargs="+", default=[6, 15, 30])
    parser.add_argument("--base", default="smollm2-135m-instruct")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import ml_collections
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from gentool_jax.model.registry import resolve_model

    path = resolve_model(ml_collections.ConfigDict(dict(name=args.base, cache_dir="")))
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32).eval()

    train, split = read(args.data / "train.jsonl"), read(args.data / f"{args.split}.jsonl")
    domain = tool_domains(train + split)
    needing = [r for r in split if r["variant"] in TOOL_VARIANTS]
    chosen = random.Random(args.seed).sample(needing, min(args.n, len(needing)))

    cache: dict[str, np.ndarray] = {}

    def vector(text: str) -> np.ndarray:
        if text not in cache:
            cache[text] = pooled(model, tokenizer, text, args.layers)
        return cache[text]

    gold_hits = np.zeros(len(args.layers))
    domain_hits = np.zeros(len(args.layers))
    chance_gold = chance_domain = 0.0
    for record in chosen:
        tools = record["tools"]
        query = vector(record["query"])
        tool_vectors = np.stack([vector(f"{t['name']}: {t.get('description', '')}")
                                 for t in tools])  # [tools, layers, hidden]
        cosine = np.einsum("tlh,lh->lt", tool_vectors, query) / (
            np.linalg.norm(tool_vectors, axis=-1).T * np.linalg.norm(query, axis=-1)[:, None])
        picks = cosine.argmax(-1)
        names = [t["name"] for t in tools]
        in_domain = [domain.get(name) == record["meta"]["domain"] for name in names]
        gold = record["call"]["name"]
        gold_hits += [names[p] == gold for p in picks]
        domain_hits += [in_domain[p] for p in picks]
        chance_gold += (gold in names) / len(names)
        chance_domain += sum(in_domain) / len(names)
    n = len(chosen)
    print(f"{n} tool-needing {args.split} records of {args.data}; {args.base}, frozen, "
          f"mean-pooled, cosine")
    print(f"uniform pick: gold {chance_gold / n:.3f}, query's domain {chance_domain / n:.3f}")
    for layer, gold_rate, domain_rate in zip(args.layers, gold_hits / n, domain_hits / n):
        print(f"layer {layer:2d}: nearest tool is gold {gold_rate:.3f}, "
              f"of the query's domain {domain_rate:.3f}")


if __name__ == "__main__":
    main()
