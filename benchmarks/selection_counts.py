"""Pooled selection counts of an evaluation's replies: what the summary figures are made of.

    python benchmarks/selection_counts.py runs/default/eval/generations.jsonl \\
        runs/default/data/test_*.jsonl

Per system in the generations file: pooled TSA, how many tool-needing records got the gold
tool and how many got `generate_response`, how many `none` records got `generate_response`,
and abstention precision / recall / F1, all over every record given (the report gives them
per scenario). The record files supply the gold calls and variants.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

ABSTAIN = "generate_response"


def counts(generations: Path, record_files: list[Path]) -> dict[str, collections.Counter]:
    records = {}
    for path in record_files:
        for line in path.open(encoding="utf-8"):
            if line.strip():
                record = json.loads(line)
                records[record["id"]] = record
    tally: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in generations.open(encoding="utf-8"):
        row = json.loads(line)
        record = records[row["id"]]
        call = ((row.get("parsed") or {}).get("call") or {}).get("name")
        gold = record["call"]["name"]
        c = tally[row["system"]]
        c["n"] += 1
        c["correct"] += call == gold
        if record["variant"] == "none":
            c["none"] += 1
            c["none_abstained"] += call == ABSTAIN
        else:
            c["needing"] += 1
            c["needing_gold"] += call == gold
            c["needing_abstained"] += call == ABSTAIN
        c["said_abstain"] += call == ABSTAIN
        c["both_abstain"] += call == ABSTAIN and gold == ABSTAIN
        c["gold_abstain"] += gold == ABSTAIN
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("generations", type=Path)
    parser.add_argument("records", type=Path, nargs="+")
    args = parser.parse_args()
    for system, c in sorted(counts(args.generations, args.records).items()):
        precision = c["both_abstain"] / max(c["said_abstain"], 1)
        recall = c["both_abstain"] / max(c["gold_abstain"], 1)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"{system}: n={c['n']} pooled TSA {c['correct'] / c['n']:.3f}; tool-needing "
              f"gold {c['needing_gold']}/{c['needing']} = "
              f"{c['needing_gold'] / max(c['needing'], 1):.3f}, generate_response on "
              f"{c['needing_abstained']}; none answered generate_response "
              f"{c['none_abstained']}/{c['none']}; abstention P {precision:.3f} "
              f"R {recall:.3f} F1 {f1:.3f}")


if __name__ == "__main__":
    main()
