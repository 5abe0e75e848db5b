"""Which of the selection head's levers help, scored the way the product scores them.

    python benchmarks/selector_levers.py --config configs/default.py \\
        --checkpoint runs/default/stage2 --dev data/dev/dev.jsonl [--cache DIR] [--seeds 2] \\
        [--depths 0 16] [--companions 4,0 0,4] [--fit steps=3000] [--companion-only] \\
        [--companion-tests]

The head's choice is all that decides TSA once constrained decoding holds the reply to it,
so a lever can be judged without generating: encode every text once with the product's
encoder (`selector/encode.py`), fit the product's head (`selector/fit.py`) with and without
each lever, and score its picks on the simulated validation split, the companion world's
validation records (`varied_validation`), every record of the four test splits, and a
hand-written evaluation file (`--dev`): pooled TSA, tool-needing accuracy,
`none` records answered `generate_response`, abstention F1 and the fit's loss (cross-entropy
of the gold column, a lower-noise read where rows tie on TSA). Unlike
`benchmarks/fitted_oracle.py` (which standardises over the evaluation vectors too), nothing
here sees an evaluated record before scoring it.

Levers: `depth` (the blocks read before pooling: 0 = all of them, 16 = the middle of the
default model), `lexical` (`selector.lexical`: fitted weights on each tool's standardised
BM25, on that times the toolset's best BM25, and on the best BM25 for abstaining),
`alignment` (`selector.alignment`, with `lexical` on: fitted weights on each tool's token
alignment with the query, standardised over its toolset, and on the best for abstaining),
`companion` (the varied-writing companion world's training records added to the fit, in
each recipe of `--companions EXTRA,WORDED[,DECOYS[,RULE]] ...`: the companion's
`selector.varied_extra_asks`, `selector.varied_worded_asks`, `selector.varied_decoys` and
`selector.varied_distractors`; default the config's). `varied_validation` is the row's
own companion's validation sample.
`--companion-tests` also scores samples of the companion's four test splits
(`varied_<scenario>`: new tools, new domains and held-out asks in the companion's writing).
`--fit steps=3000` changes a fit setting for every row; `--companion-only` fits the companion
rows on the companion's records without the run's own.
Each row is the mean over `--seeds` heads, each an ensemble of `selector.fits` fits as the
product's is (head k fits seeds k·fits, k·fits + 1, ...: inits and batch draws; the product
fits from the config's seed, 0); `--fit fits=1` scores single fits.
Encoding dominates the time (≈ 10 minutes a depth on 2 cores); `--cache` keeps the pooled
and token states (about 1 GB a depth for the default sets).
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

from ml_collections import ConfigDict  # noqa: E402

from gentool_jax.cli import _load_config_file  # noqa: E402
from gentool_jax.config_view import section_view  # noqa: E402
from gentool_jax.records import SCENARIOS, read_records  # noqa: E402
from gentool_jax.selector.command import (  # noqa: E402
    companion_world,
    seeded_sample,
    varied_companion,
)
from gentool_jax.selector.encode import TextStates, encode_texts  # noqa: E402
from gentool_jax.selector.fit import (  # noqa: E402
    SelectorSettings,
    candidates,
    choose,
    fit_ensemble,
    held_out_loss,
    selection_metrics,
    texts_of,
    training_standardisation,
)
from gentool_jax.simulate.simulation import simulate, split_file  # noqa: E402

# (selector.lexical, selector.alignment) of the rows fitted for each depth and companion.
LEVER_ROWS = ((False, False), (True, False), (True, True))


def record_sets(config, dev: Path, seed: int) -> dict[str, list]:
    settings = section_view(SelectorSettings, config.selector)
    data = Path(config.workdir) / "data"
    training = list(read_records(data / "train.jsonl"))
    return {
        "train": seeded_sample(training, settings.records, seed),
        "validation": seeded_sample(list(read_records(data / "validation.jsonl")),
                                    settings.validation_records, seed),
        "test": [record for scenario in SCENARIOS
                 for record in read_records(data / split_file(scenario))],
        "dev": list(read_records(dev, any_scenario=True)),
    }


def companion_sets(config, recipe: str, seed: int, tests: bool) -> dict[str, list]:
    """The companion world's samples for `recipe`, "EXTRA,WORDED[,DECOYS[,RULE]]" (its
    `selector.varied_extra_asks`, `selector.varied_worded_asks` and, where given,
    `selector.varied_decoys`, `selector.varied_distractors`): `train`,
    `varied_validation` and, with `tests`, `varied_<scenario>` for each test split (as many
    records as validation)."""
    parts = recipe.split(",")
    config = ConfigDict(config.to_dict())
    selector = config.selector
    selector.varied_extra_asks, selector.varied_worded_asks = int(parts[0]), int(parts[1])
    if len(parts) > 2:
        selector.varied_decoys = int(parts[2])
    if len(parts) > 3:
        selector.varied_distractors = parts[3]
    companion = varied_companion(config, seed)
    sets = {"train": companion["train"], "varied_validation": companion["validation"]}
    if tests:
        world = companion_world(config.simulate, section_view(SelectorSettings, selector))
        splits = simulate(world, seed)
        size = int(config.selector.validation_records)
        sets |= {f"varied_{scenario}": seeded_sample(splits[scenario], size, seed)
                 for scenario in SCENARIOS}
    return sets


def states_at(depth: int, config, checkpoint: str, texts: set[str], cache: Path | None
              ) -> TextStates:
    """Each text's pooled and token states at `depth`, encoding only what the cache lacks."""
    path = cache / f"states_depth{depth}.pkl" if cache else None
    states = pickle.loads(path.read_bytes()) if path and path.is_file() else TextStates({}, {})
    missing = texts - set(states.tokens)
    if not missing:
        return states
    from gentool_jax.train.inference import load_for_inference

    model, tokenizer = load_for_inference(config, checkpoint)
    fresh = encode_texts(model, tokenizer, missing, depth=depth,
                         batch_size=int(config.selector.encode_batch))
    states.pooled.update(fresh.pooled)
    states.tokens.update(fresh.tokens)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(states))
    return states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/default.py")
    parser.add_argument("--checkpoint", default="runs/default/stage2")
    parser.add_argument("--dev", default="data/dev/dev.jsonl")
    parser.add_argument("--depths", type=int, nargs="+", default=[0, 16])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--companions", nargs="+", default=None,
                        metavar="EXTRA,WORDED[,DECOYS[,RULE]]",
                        help="companion recipes to compare (default: the config's)")
    parser.add_argument("--fit", nargs="+", default=[], metavar="FIELD=NUMBER",
                        help="config.selector fields changed for every row (steps=3000, "
                             "varied_records=8000)")
    parser.add_argument("--companion-tests", action="store_true",
                        help="also score samples of the companion's four test splits")
    parser.add_argument("--companion-only", action="store_true",
                        help="companion rows fit on the companion's records alone")
    args = parser.parse_args()

    config = _load_config_file(args.config)
    for change in args.fit:
        field, value = change.split("=")
        config.selector[field] = type(config.selector[field])(float(value))
    settings = section_view(SelectorSettings, config.selector)
    started = time.perf_counter()
    seed = int(config.seed)
    sets = record_sets(config, Path(args.dev), seed)
    recipes = args.companions or [f"{settings.varied_extra_asks},{settings.varied_worded_asks},"
                                  f"{settings.varied_decoys},{settings.varied_distractors}"]
    companions = {recipe: companion_sets(config, recipe, seed, args.companion_tests)
                  for recipe in recipes}
    texts = set().union(*(texts_of(records) for records in sets.values()), *(
        texts_of(records) for split in companions.values() for records in split.values()))
    print(f"{len(texts)} texts; records: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))
    companion_tests = [f"varied_{scenario}" for scenario in SCENARIOS] \
        if args.companion_tests else []
    scored = ("validation", "varied_validation", *companion_tests, "test", "dev")
    metrics = ("tsa", "tool_needing", "none", "abstention_f1", "loss")
    print(f"{'split':>36} " + " ".join(f"{key:>13}" for key in metrics))
    for depth in args.depths:
        states = states_at(depth, config, args.checkpoint, texts, args.cache)
        # Rows without a companion are scored on the first recipe's companion records.
        for recipe in [None, *recipes]:
            split = companions[recipe or recipes[0]]
            own = [] if args.companion_only else sets["train"]
            train_records = own + split["train"] if recipe else sets["train"]
            standardised = training_standardisation(train_records, states)
            arrays = {name: candidates(records, states, standardised)
                      for name, records in sets.items() if name != "train"}
            for name in ("varied_validation", *companion_tests):
                arrays[name] = candidates(split[name], states, standardised)
            train = candidates(train_records, states, standardised)
            for lexical, alignment in LEVER_ROWS:
                lever = dataclasses.replace(settings, lexical=lexical, alignment=alignment)
                rows = {name: [] for name in scored}
                for fit_seed in range(args.seeds):
                    head = fit_ensemble(train, lever, fit_seed * lever.fits, standardised)
                    for name in scored:
                        rows[name].append({**selection_metrics(choose(head, arrays[name]),
                                                               arrays[name]),
                                           "loss": held_out_loss(head, arrays[name])})
                print(f"depth {depth}, lexical {lexical}, alignment {alignment}, "
                      f"companion {recipe or 'none'}:")
                for name in scored:
                    print(f"{name:>36} " + " ".join(
                        f"{np.mean([m[key] for m in rows[name]]):>13.3f}" for key in metrics))
                print(flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
