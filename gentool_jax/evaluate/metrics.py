"""DESIGN §5 metrics for every scenario × toolset variant (docs/evaluation.md defines each).

Scoring is two passes: `score_sample` turns one (gold record, parsed output) into per-sample
numbers, then `compute_metrics` averages them per group and adds the two metrics that look
across samples: abstention precision/recall/F1 and zero-to-one consistency (which pairs the
`none` variant of a query with its variants that carry a tool). A metric with no sample to
stand on is None (JSON null), never a misleading 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from gentool_jax.evaluate import ranking as rank
from gentool_jax.evaluate.normalize import values_match
from gentool_jax.evaluate.parser import ParsedOutput
from gentool_jax.records import DEFAULT_TOOL, VARIANTS, Record

ALL = "all"
# The variants whose gold is a tool, pooled: the figure that abstaining on everything (which
# scores the share of `none` samples on "all") cannot reach.
TOOL_NEEDING = "tool_needing"
TOOL_VARIANTS = ("weak", "strong", "both")
# Order of the columns in metrics.json and the report.
METRICS = (
    "n", "format_validity", "tsa", "abstention_precision", "abstention_recall", "abstention_f1",
    "argument_name_f1", "argument_value_accuracy", "call_exact_match", "ranking_top1",
    "ranking_prefix_match", "ranking_kendall_tau", "ranking_ndcg3", "w2s_preference",
    "w2s_pairwise", "z2o_consistency", "free_format_validity", "free_tsa",
)
_MEANS = {  # per-sample key -> metric averaged over the samples that define it
    "valid": "format_validity", "tsa": "tsa", "name_f1": "argument_name_f1",
    "value_acc": "argument_value_accuracy", "exact": "call_exact_match", "top1": "ranking_top1",
    "prefix": "ranking_prefix_match", "tau": "ranking_kendall_tau", "ndcg3": "ranking_ndcg3",
    "w2s": "w2s_preference", "w2s_pair": "w2s_pairwise",
    # Greedy constrained runs only (docs/constrained_decoding.md): a reply the grammar never
    # overrode is exactly the free decoding's, so these are free decoding's figures from the
    # same pass: the share of such replies, and TSA over them.
    "free_valid": "free_format_validity", "free_tsa": "free_tsa",
}


def argument_scores(predicted: dict[str, Any], gold: dict[str, Any],
                    acceptable: dict[str, list[Any]] | None = None) -> tuple[float, float, bool]:
    """(name F1, value accuracy, all-arguments-match) of a call to the right tool.

    `acceptable` (meta.acceptable_arguments) widens a gold value to a list of allowed ones;
    `""` in that list makes the argument optional: omitting it is no error, giving it is
    judged against the other allowed values.
    """
    allowed = {name: [value] for name, value in gold.items()}
    allowed.update({name: list(values) for name, values in (acceptable or {}).items()})
    optional = {name for name, values in allowed.items() if "" in values}
    predicted_names = set(predicted)
    true_pos = len(predicted_names & set(allowed))
    false_pos = len(predicted_names - set(allowed))
    false_neg = len(set(allowed) - optional - predicted_names)
    denominator = 2 * true_pos + false_pos + false_neg
    name_f1 = 1.0 if denominator == 0 else 2 * true_pos / denominator
    judged = (set(allowed) - optional) | (predicted_names & set(allowed))
    matched = sum(
        name in predicted
        and any(values_match(predicted[name], value) for value in allowed[name] if value != "")
        for name in judged
    )
    value_acc = 1.0 if not judged else matched / len(judged)
    exact = false_pos == 0 and false_neg == 0 and matched == len(judged)
    return name_f1, value_acc, exact


def score_sample(record: Record, parsed: ParsedOutput, *, has_ranking: bool = True,
                 unforced: bool | None = None) -> dict[str, Any]:
    """Per-sample numbers; keys absent from the result do not apply to this sample.
    `unforced`: whether a greedy constrained reply had no intervention (None: not such a
    reply)."""
    gold = record["call"]
    call = parsed.call or {}
    name = call.get("name")
    arguments = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
    meta = record.get("meta") or {}
    scores: dict[str, Any] = {
        "valid": float(parsed.valid),
        "tsa": float(name == gold["name"]),
        "pred_abstain": name == DEFAULT_TOOL,
        "gold_abstain": gold["name"] == DEFAULT_TOOL,
        "pred_name": name,
    }
    if unforced is not None:
        scores["free_valid"] = float(unforced and parsed.valid)
        if unforced:
            scores["free_tsa"] = scores["tsa"]
    if name == gold["name"]:
        name_f1, value_acc, exact = argument_scores(
            arguments, gold["arguments"], meta.get("acceptable_arguments"))
    else:
        name_f1, value_acc, exact = 0.0, 0.0, False
    scores["exact"] = float(exact)
    if gold["name"] != DEFAULT_TOOL:
        scores["name_f1"], scores["value_acc"] = name_f1, value_acc
    if has_ranking:
        predicted, gold_ranking = parsed.ranking, record["ranking"]
        scores["top1"] = rank.top1(predicted, gold_ranking)
        scores["prefix"] = rank.prefix_match(predicted, gold_ranking)
        scores["tau"] = rank.kendall_tau(predicted, gold_ranking)
        scores["ndcg3"] = rank.ndcg_at_k(predicted, gold_ranking, 3)
    if record["variant"] == "both":
        better = meta.get("better_tool") or gold["name"]
        pair = {meta.get("strong_tool"), meta.get("weak_tool")} - {None}
        scores["w2s"] = float(name == better)
        if name is not None and name in pair | {better}:
            scores["w2s_pair"] = float(name == better)
    return scores


def compute_metrics(records: Sequence[Record], outputs: Sequence[ParsedOutput], *,
                    has_ranking: bool = True, unforced: Sequence[bool | None] | None = None
                    ) -> dict[str, dict[str, dict[str, Any]]]:
    """{scenario: {variant | "all": {metric: value}}} for one system's outputs; `unforced`
    (per output, greedy constrained runs only) gives the free-decoding figures too."""
    if len(records) != len(outputs):
        raise ValueError(f"{len(records)} records but {len(outputs)} outputs")
    unforced = list(unforced) if unforced is not None else [None] * len(records)
    scored = [score_sample(r, o, has_ranking=has_ranking, unforced=u)
              for r, o, u in zip(records, outputs, unforced)]
    by_scenario: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        by_scenario[record["scenario"]].append(i)
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for scenario, indices in by_scenario.items():
        pairs = _zero_to_one_pairs([records[i] for i in indices], [scored[i] for i in indices])
        groups: dict[str, list[int]] = {ALL: list(range(len(indices)))}
        for local, i in enumerate(indices):
            groups.setdefault(records[i]["variant"], []).append(local)
        needing = [j for v in TOOL_VARIANTS for j in groups.get(v, [])]
        if needing:
            groups[TOOL_NEEDING] = sorted(needing)
        variants = [v for v in (*VARIANTS, TOOL_NEEDING) if v in groups] + [ALL]
        result[scenario] = {
            variant: _aggregate([scored[indices[j]] for j in groups[variant]],
                                [ok for v, ok in pairs
                                 if variant in (ALL, v) or (variant == TOOL_NEEDING
                                                            and v in TOOL_VARIANTS)])
            for variant in variants
        }
    return result


def _aggregate(samples: list[dict[str, Any]], z2o: list[bool]) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(METRICS)
    values["n"] = len(samples)
    for key, metric in _MEANS.items():
        values[metric] = _mean(s[key] for s in samples if key in s)
    predicted = sum(s["pred_abstain"] for s in samples)
    actual = sum(s["gold_abstain"] for s in samples)
    hits = sum(s["pred_abstain"] and s["gold_abstain"] for s in samples)
    precision = hits / predicted if predicted else None
    recall = hits / actual if actual else None
    values["abstention_precision"], values["abstention_recall"] = precision, recall
    if predicted + actual:
        values["abstention_f1"] = 2 * hits / (predicted + actual)
    values["z2o_consistency"] = _mean(float(ok) for ok in z2o)
    return values


def _zero_to_one_pairs(records: list[Record], scored: list[dict[str, Any]]
                       ) -> list[tuple[str, bool]]:
    """(tool variant, consistent) for every pair of a query's `none` sample and a sample of the
    same query whose gold call is a tool: consistent when the first abstains and the second
    calls its gold tool."""
    by_query: dict[Any, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        query_id = (record.get("meta") or {}).get("query_id")
        if query_id is not None:
            by_query[query_id].append(i)
    pairs = []
    for members in by_query.values():
        nones = [i for i in members if records[i]["variant"] == "none"]
        tools = [i for i in members if records[i]["call"]["name"] != DEFAULT_TOOL]
        for i in nones:
            for j in tools:
                ok = scored[i]["pred_abstain"] and scored[j]["tsa"] == 1.0
                pairs.append((records[j]["variant"], bool(ok)))
    return pairs


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None
