"""Per-sample ranking scores of DESIGN §5: top-1, relevant-prefix match, Kendall tau, NDCG@3.

The gold ranking puts the useful tools first, then `generate_response`, then the irrelevant
tools; only the part up to `generate_response` (the "relevant prefix") carries signal, so the
graded relevance of NDCG gives the prefix descending grades and the irrelevant tail zero.
A predicted ranking may be partial (the parser drops unknown or repeated names): the tools it
leaves out count as ranked below every tool it names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gentool_jax.records import DEFAULT_TOOL


def relevant_prefix(gold: Sequence[str]) -> list[str]:
    """The gold tools ranked above `generate_response`, plus it."""
    gold = list(gold)
    if DEFAULT_TOOL not in gold:
        return gold
    return gold[: gold.index(DEFAULT_TOOL) + 1]


def top1(predicted: Sequence[str] | None, gold: Sequence[str]) -> float:
    return float(bool(predicted) and bool(gold) and predicted[0] == gold[0])


def prefix_match(predicted: Sequence[str] | None, gold: Sequence[str]) -> float:
    """1 when the prediction starts with exactly the gold relevant prefix, in order."""
    prefix = relevant_prefix(gold)
    return float(predicted is not None and list(predicted[: len(prefix)]) == prefix)


def kendall_tau(predicted: Sequence[str] | None, gold: Sequence[str]) -> float:
    """Kendall tau-a over all pairs of gold items, in [-1, 1].

    A pair is concordant when the prediction orders it as the gold does; a pair with an item the
    prediction omits is concordant only when the omitted item is the gold-lower one (omitted
    items rank last), and a pair of two omitted items is discordant (no order was given). No
    ranking at all therefore scores -1, the same as a fully reversed one.
    """
    gold = list(gold)
    n = len(gold)
    if n < 2:
        return 1.0 if predicted is not None else -1.0
    position = {name: i for i, name in enumerate(predicted or [])}
    score = 0
    for i in range(n):
        for j in range(i + 1, n):
            hi, lo = position.get(gold[i]), position.get(gold[j])
            concordant = hi is not None and (lo is None or hi < lo)
            score += 1 if concordant else -1
    return score / (n * (n - 1) / 2)


def gold_relevance(gold: Sequence[str]) -> dict[str, int]:
    """Graded relevance: the prefix gets len(prefix), ..., 1 (generate_response), others 0."""
    prefix = relevant_prefix(gold)
    return {name: len(prefix) - i for i, name in enumerate(prefix)}


def ndcg_at_k(predicted: Sequence[str] | None, gold: Sequence[str], k: int = 3) -> float:
    """NDCG@k with linear gains `relevance / log2(rank + 1)` (rank from 1)."""
    relevance = gold_relevance(gold)
    ideal = sorted(relevance.values(), reverse=True)[:k]
    ideal_dcg = sum(rel / math.log2(rank + 2) for rank, rel in enumerate(ideal))
    if ideal_dcg == 0:
        return 1.0
    dcg = sum(relevance.get(name, 0) / math.log2(rank + 2)
              for rank, name in enumerate(list(predicted or [])[:k]))
    return dcg / ideal_dcg
