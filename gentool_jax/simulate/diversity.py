"""How varied a dataset's tools are: the numbers behind "the simulated world is too regular".

A model learns whatever regularity the data has; when thousands of descriptions open with the
same three words, or every toolset has six entries, that regularity is learnable and does not
transfer to real toolsets (issue 28). These statistics measure it from records alone, so they
compare the paper-faithful world, the varied one, imported data and hand-written sets alike:

    python -m gentool_jax.simulate.diversity runs/default/data [split]   # default split: train
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from gentool_jax.records import Record, read_records
from gentool_jax.simulate.simulation import split_file
from gentool_jax.simulate.varied_names import name_convention

_PUNCTUATION = ".,;:!?()[]{}\"'`-"


def opening(description: str, words: int = 3) -> str:
    """The first `words` words of a description, lower-cased, punctuation stripped."""
    tokens = [t for t in (w.strip(_PUNCTUATION).lower() for w in description.split()) if t]
    return " ".join(tokens[:words])


def diversity(records: Iterable[Record]) -> dict:
    """Statistics over the distinct tools (by name) and the toolsets of `records`."""
    tools: dict[str, dict] = {}
    sizes: Counter = Counter()
    for record in records:
        sizes[len(record["tools"])] += 1
        for tool in record["tools"]:
            tools.setdefault(tool["name"], tool)
    descriptions = [str(tool.get("description", "")) for tool in tools.values()]
    openings = Counter(opening(text) for text in descriptions)
    top10 = sum(count for _, count in openings.most_common(10))
    params = Counter(name for tool in tools.values()
                     for name in (tool.get("parameters") or {}).get("properties", {}))
    n = max(len(tools), 1)
    return {
        "tools": len(tools),
        "distinct_openings": len(openings),
        "top10_opening_share": round(top10 / n, 4),
        "top_openings": dict(openings.most_common(5)),
        "required_input_share": round(
            sum("Required input:" in text for text in descriptions) / n, 4),
        "name_conventions": dict(sorted(Counter(name_convention(name)
                                                for name in tools).items())),
        "distinct_parameter_names": len(params),
        "toolset_sizes": {str(size): count for size, count in sorted(sizes.items())},
    }


def main(argv: list[str] | None = None) -> int:
    """Print the statistics of one split of a data directory as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    split = args[1] if len(args) > 1 else "train"
    stats = diversity(read_records(Path(args[0]) / split_file(split)))
    print(json.dumps(stats, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
