"""How far knowing the query's domain alone goes on simulated data: a reference line for the
decision probe, and a check of what the labels reward.

    python benchmarks/domain_oracle.py runs/exp/base/data

Reads train.jsonl and validation.jsonl of a simulated data directory (each tool's domain is its
pair's `meta.domain`). Prints, on training records, how often an offered tool is gold when it
is of the query's domain and when it is not, and how many records offer another pair's vague
(generic or coarse) weak tool of the query's domain as a distractor, which the text cannot tell
from the pair's own weak tool. Then the expected accuracy on validation of a domain oracle: it
picks uniformly among the offered tools of the query's domain, and `generate_response` when
there is none.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

TOOL_VARIANTS = ("weak", "strong", "both")


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def tool_domains(records: list[dict]) -> dict[str, str]:
    """Each pair tool's domain (its pair's `meta.domain`), from the records that name it."""
    domain = {}
    for record in records:
        meta = record["meta"]
        domain[meta["strong_tool"]] = domain[meta["weak_tool"]] = meta["domain"]
    return domain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    args = parser.parse_args()
    train, validation = read(args.data / "train.jsonl"), read(args.data / "validation.jsonl")
    domain = tool_domains(train + validation)
    vague = {record["meta"]["weak_tool"] for record in train + validation
             if record["meta"].get("weak_flavour") in ("generic", "coarse")}

    counts: Counter = Counter()
    for record in train:
        meta, gold = record["meta"], record["call"]["name"]
        own = {meta["strong_tool"], meta["weak_tool"]}
        for tool in record["tools"]:
            side = "same" if domain.get(tool["name"]) == meta["domain"] else "other"
            counts[side] += 1
            counts[f"{side}_gold"] += tool["name"] == gold
        counts["records"] += 1
        counts["vague_distractor"] += any(
            tool["name"] in vague and tool["name"] not in own
            and domain.get(tool["name"]) == meta["domain"] for tool in record["tools"])
    print(f"training records: {counts['records']}; an offered tool is gold "
          f"{counts['same_gold'] / counts['same']:.3f} of the time when it is of the query's "
          f"domain, {counts['other_gold'] / max(counts['other'], 1):.3f} when it is not; "
          f"{counts['vague_distractor'] / counts['records']:.3f} of records offer another "
          f"pair's vague weak tool of the query's domain")

    expected: Counter = Counter()
    seen: Counter = Counter()
    for record in validation:
        meta, gold = record["meta"], record["call"]["name"]
        same = [t["name"] for t in record["tools"] if domain.get(t["name"]) == meta["domain"]]
        seen[record["variant"]] += 1
        expected[record["variant"]] += (gold in same) / len(same) if same else \
            gold == "generate_response"
    line = ", ".join(f"{v} {expected[v] / seen[v]:.3f}" for v in sorted(seen))
    needing = sum(expected[v] for v in TOOL_VARIANTS) / sum(seen[v] for v in TOOL_VARIANTS)
    print(f"domain oracle on {sum(seen.values())} validation records: {line}; "
          f"tool-needing {needing:.3f}")


if __name__ == "__main__":
    main()
