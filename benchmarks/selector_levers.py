"""Which of the selection head's levers help, scored the way the product scores them.

    python benchmarks/selector_levers.py --config configs/default.py \\
        --checkpoint runs/default/stage2 --dev data/dev/dev.jsonl [--cache DIR] [--seeds 2]

The head's choice is all that decides TSA once constrained decoding holds the reply to it,
so a lever can be judged without generating: encode every text once with the product's
encoder (`selector/encode.py`), fit the product's head (`selector/fit.py`) with and without
each lever, and score its picks on the simulated validation split, every record of the four
test splits, and a hand-written evaluation file (`--dev`): pooled TSA, tool-needing accuracy,
`none` records answered `generate_response`, and abstention F1. Unlike
`benchmarks/fitted_oracle.py` (which standardises over the evaluation vectors too), nothing
here sees an evaluated record before scoring it.

Levers: `depth` (the blocks read before pooling: 0 = all of them, 16 = the middle of the
default model), `lexical` (`selector.lexical`: a fitted weight on each tool's standardised
BM25), `companion` (the varied-writing companion world's training records added to the fit).
Each row is the mean over `--seeds` fits (fit seeds 0, 1, ...: inits and batch draws; the
product fits with the config's seed, 0).
Encoding dominates the time (≈ 10 minutes a depth on 2 cores); `--cache` keeps the vectors.
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gentool_jax.cli import _load_config_file  # noqa: E402
from gentool_jax.config_view import section_view  # noqa: E402
from gentool_jax.records import SCENARIOS, read_records  # noqa: E402
from gentool_jax.selector.command import seeded_sample, varied_companion  # noqa: E402
from gentool_jax.selector.encode import pooled_states  # noqa: E402
from gentool_jax.selector.fit import (  # noqa: E402
    SelectorSettings,
    candidates,
    choose,
    fit_head,
    selection_metrics,
    texts_of,
)
from gentool_jax.simulate.simulation import split_file  # noqa: E402


def record_sets(config, dev: Path, seed: int) -> dict[str, list]:
    settings = section_view(SelectorSettings, config.selector)
    data = Path(config.workdir) / "data"
    training = list(read_records(data / "train.jsonl"))
    return {
        "train": seeded_sample(training, settings.records, seed),
        "companion": varied_companion(config, settings.varied_records, seed),
        "validation": seeded_sample(list(read_records(data / "validation.jsonl")),
                                    settings.validation_records, seed),
        "test": [record for scenario in SCENARIOS
                 for record in read_records(data / split_file(scenario))],
        "dev": list(read_records(dev, any_scenario=True)),
    }


def vectors_at(depth: int, config, checkpoint: str, texts: set[str], cache: Path | None):
    """Text -> vector at `depth`, encoding only what the cache (text -> vector) lacks."""
    path = cache / f"vectors_depth{depth}.pkl" if cache else None
    vectors = pickle.loads(path.read_bytes()) if path and path.is_file() else {}
    missing = texts - set(vectors)
    if not missing:
        return vectors
    from gentool_jax.train.inference import load_for_inference

    model, tokenizer = load_for_inference(config, checkpoint)
    vectors.update(pooled_states(model, tokenizer, missing, depth=depth,
                                 batch_size=int(config.selector.encode_batch)))
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(vectors))
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/default.py")
    parser.add_argument("--checkpoint", default="runs/default/stage2")
    parser.add_argument("--dev", default="data/dev/dev.jsonl")
    parser.add_argument("--depths", type=int, nargs="+", default=[0, 16])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()

    config = _load_config_file(args.config)
    settings = section_view(SelectorSettings, config.selector)
    started = time.perf_counter()
    sets = record_sets(config, Path(args.dev), int(config.seed))
    texts = set().union(*(texts_of(records) for records in sets.values()))
    print(f"{len(texts)} texts; records: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))
    scored = ("validation", "test", "dev")
    print(f"{'depth':>5} {'lexical':>7} {'companion':>9} | " + " | ".join(
        f"{split}: TSA  tool-needing  none  F1" for split in scored))
    for depth in args.depths:
        vectors = vectors_at(depth, config, args.checkpoint, texts, args.cache)
        arrays = {name: candidates(records, vectors) for name, records in sets.items()}
        fused = candidates(sets["train"] + sets["companion"], vectors)
        for companion in (False, True):
            for lexical in (False, True):
                train = fused if companion else arrays["train"]
                lever = dataclasses.replace(settings, lexical=lexical)
                rows = {split: [] for split in scored}
                for seed in range(args.seeds):
                    head = fit_head(train, lever, seed)
                    for split in scored:
                        rows[split].append(selection_metrics(choose(head, arrays[split]),
                                                             arrays[split]))
                print(f"{depth:>5} {str(lexical):>7} {str(companion):>9} | " + " | ".join(
                    "     ".join(f"{np.mean([m[key] for m in rows[split]]):.3f}"
                               for key in ("tsa", "tool_needing", "none", "abstention_f1"))
                    for split in scored), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
