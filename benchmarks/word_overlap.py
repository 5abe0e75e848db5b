"""How much word overlap says about the gold tool, per file of records.

    python benchmarks/word_overlap.py data/dev/dev.jsonl runs/default/data/validation.jsonl
    python benchmarks/word_overlap.py --simulate EXTRA,WORDED [--config configs/default.py]

For each file (or the training split of the default world simulated in memory with the varied
writing of the selector's companion and `--simulate` asks), over the records that need a tool:
how often BM25 over name + description ranks the gold tool first, and the mean best BM25 of the
toolset, beside the same mean over `none` records. A head fitted where overlap is rare learns to
ignore it; this shows whether a data recipe looks like the real toolsets it is meant for.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gentool_jax.baselines.lexical import tool_scores  # noqa: E402
from gentool_jax.cli import _load_config_file  # noqa: E402
from gentool_jax.records import DEFAULT_TOOL, read_records  # noqa: E402


def overlap_row(records: list) -> dict[str, float]:
    top1, best_needing, best_none = [], [], []
    for record in records:
        scores = tool_scores(record)
        if not len(scores):
            continue
        gold = record["call"]["name"]
        if gold == DEFAULT_TOOL:
            best_none.append(scores.max())
            continue
        names = [tool["name"] for tool in record["tools"]]
        top1.append(names[int(scores.argmax())] == gold)
        best_needing.append(scores.max())
    return {"n": len(top1) + len(best_none), "top1": float(np.mean(top1)),
            "best_needing": float(np.mean(best_needing)),
            "best_none": float(np.mean(best_none)) if best_none else float("nan")}


def simulated(config_path: str, recipe: str) -> list:
    from gentool_jax.config_view import section_view
    from gentool_jax.selector.command import companion_world
    from gentool_jax.selector.fit import SelectorSettings
    from gentool_jax.simulate.simulation import simulate

    extra, worded = (int(part) for part in recipe.split(","))
    config = _load_config_file(config_path)
    settings = dataclasses.replace(section_view(SelectorSettings, config.selector),
                                   varied_extra_asks=extra, varied_worded_asks=worded)
    world = companion_world(config.simulate, settings)
    return simulate(world, 0)["train"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--simulate", nargs="*", default=[], metavar="EXTRA,WORDED")
    parser.add_argument("--config", default="configs/default.py")
    args = parser.parse_args()
    sources = [(str(path), lambda path=path: list(read_records(path, any_scenario=True)))
               for path in args.files]
    sources += [(f"simulated train, asks {recipe}",
                 lambda recipe=recipe: simulated(args.config, recipe))
                for recipe in args.simulate]
    print(f"{'records':<44} {'n':>6} {'BM25 top-1':>10} {'best, tool':>10} {'best, none':>10}")
    for name, load in sources:
        row = overlap_row(load())
        print(f"{name[-44:]:<44} {row['n']:>6} {row['top1']:>10.3f} {row['best_needing']:>10.2f} "
              f"{row['best_none']:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
