"""How much the hand-written development set's tools overlap with the simulated training tools.

    python benchmarks/dev_leakage.py --workdir=runs/default [--out=DIR] [--threshold=0.5]
    python benchmarks/dev_leakage.py --train=A.jsonl --train=B.jsonl [--dev=data/dev/dev.jsonl]

Training tools are every distinct (name, description) of `<workdir>/data/train*.jsonl` (or the
`--train` files). The measures are the BFCL leakage report's (`evaluate/bfcl/leakage.py`): per
distinct dev-set tool, an exact name match, a normalized-name match (words of snake_case,
camelCase, dotted and kebab-case names, lower-cased; exact matches included) and the best token
Jaccard of its description against any training description (>= `--threshold` counts as a
near duplicate). They are reported for the whole set ("all"), for the gold tools only (the
strong and weak tools a call can name), and per documentation style. Nothing here trains or
evaluates a model; the figures belong in docs/dev_set.md with the date and the command.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gentool_jax.atomic import write_json, write_text  # noqa: E402
from gentool_jax.evaluate.bfcl.leakage import (  # noqa: E402
    THRESHOLD,
    leakage_report,
    render_leakage,
    training_tools,
)
from gentool_jax.records import Record, read_records  # noqa: E402

DEV = ROOT / "data" / "dev" / "dev.jsonl"


def training_files(workdir: str, train: list[str]) -> list[Path]:
    files = [Path(p) for p in train]
    if workdir:
        files += sorted((Path(workdir) / "data").glob("train*.jsonl"))
    if not files:
        raise SystemExit("no training data: pass --workdir=DIR (with DIR/data/train*.jsonl) "
                         "or --train=FILE")
    return files


def merged_training_tools(files: list[Path]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for path in files:
        for tool in training_tools(path):
            seen.setdefault((tool["name"], tool["description"]), tool)
    return list(seen.values())


def categories(records: list[Record]) -> dict[str, list[Record]]:
    """The whole set (every tool, distractors included), its gold tools only (each record
    narrowed to the strong and weak tool of its query; `none` records drop out) and those
    gold tools per documentation style (a family's style is that of its strong and weak
    tools; its distractors come in every style)."""
    gold = []
    for record in records:
        pair = {record["meta"]["strong_tool"], record["meta"]["weak_tool"]}
        tools = [tool for tool in record["tools"] if tool["name"] in pair]
        if tools:
            gold.append({**record, "tools": tools})
    by_style: dict[str, list[Record]] = defaultdict(list)
    for record in gold:
        by_style[f"gold, style={record['meta']['style']}"].append(record)
    return {"all": records, "gold tools": gold, **dict(sorted(by_style.items()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", default="", help="run directory with data/train*.jsonl")
    parser.add_argument("--train", action="append", default=[], help="a training JSONL")
    parser.add_argument("--dev", default=str(DEV))
    parser.add_argument("--out", default="", help="also write dev_leakage.md/.json here")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args(argv)
    files = training_files(args.workdir, args.train)
    records = list(read_records(args.dev, any_scenario=True))
    report = leakage_report(categories(records), merged_training_tools(files), args.threshold)
    report["train_data"] = [str(path) for path in files]
    report["dev_data"] = args.dev
    text = render_leakage(report, ", ".join(str(path) for path in files),
                          title="Development-set tools vs the simulated training tools")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "dev_leakage.json", report)
        write_text(out / "dev_leakage.md", text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
