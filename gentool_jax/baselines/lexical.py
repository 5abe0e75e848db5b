"""The lexical baseline: pick the tool whose name + description best matches the query (BM25).

It sets the floor a trained model must clear and tells whether the world is too easy: if word
overlap alone found the right tool on unseen tools, the simulator would be testing lexical
matching rather than tool understanding. It abstains (generate_response) when even the best
tool matches weakly; the threshold is tuned on validation.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gentool_jax.records import DEFAULT_TOOL, Record
from gentool_jax.simulate.similarity import BM25Index


def tool_scores(record: Record) -> np.ndarray:
    """BM25 of each tool of the toolset (IDF over the toolset itself) against the query."""
    index = BM25Index([f"{tool['name']} {tool['description']}" for tool in record["tools"]])
    return index.scores(record["query"])


def select(record: Record, threshold: float) -> str:
    """The chosen tool name: the best-scoring tool, or generate_response below `threshold`."""
    scores = tool_scores(record)
    if not len(scores) or scores.max() < threshold:
        return DEFAULT_TOOL
    return record["tools"][int(np.argmax(scores))]["name"]


def accuracy(records: Iterable[Record], threshold: float) -> float:
    """Tool-selection accuracy (DESIGN §5 TSA) of the baseline."""
    records = list(records)
    hits = sum(select(r, threshold) == r["call"]["name"] for r in records)
    return hits / len(records) if records else 0.0


def tune_threshold(validation_records: Iterable[Record]) -> float:
    """The abstention threshold with the best validation accuracy (ties: the lowest)."""
    best, best_threshold = -1, 0.0
    cases = []
    for record in validation_records:
        scores = tool_scores(record)
        top = record["tools"][int(np.argmax(scores))]["name"] if len(scores) else DEFAULT_TOOL
        cases.append((float(scores.max()) if len(scores) else 0.0, top,
                      record["call"]["name"]))
    candidates = sorted({0.0, *(score + 1e-9 for score, _, _ in cases)})
    for threshold in candidates:
        hits = sum((top if score >= threshold else DEFAULT_TOOL) == gold
                   for score, top, gold in cases)
        if hits > best:
            best, best_threshold = hits, threshold
    return best_threshold


def report(data_dir: str) -> dict[str, float]:
    """Tool-selection accuracy per test scenario of a simulated output directory."""
    from pathlib import Path

    from gentool_jax.records import SCENARIOS, read_records
    from gentool_jax.simulate.simulation import split_file

    data = Path(data_dir)
    threshold = tune_threshold(read_records(data / split_file("validation")))
    out = {"threshold": threshold}
    for scenario in SCENARIOS:
        out[scenario] = accuracy(read_records(data / split_file(scenario)), threshold)
    return out


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(report(sys.argv[1] if len(sys.argv) > 1 else "runs/default/data"),
                     indent=2))
