"""Metric values against hand-computed examples (docs/evaluation.md defines each metric)."""

import math

import pytest

from gentool_jax.evaluate import ranking as rank
from gentool_jax.evaluate.metrics import argument_scores, compute_metrics
from gentool_jax.evaluate.normalize import values_match
from gentool_jax.evaluate.parser import ParsedOutput

GR = "generate_response"


def out(name=None, arguments=None, ranking=None, valid=True):
    call = None if name is None else {"name": name, "arguments": arguments or {}}
    return ParsedOutput(ranking, call, valid, [] if valid else ["x"])


def rec(variant, call, ranking, query_id="q1", scenario="s", **meta):
    tools = [t for t in ranking if t != GR]
    return {"id": f"{query_id}-{variant}", "query": "q", "tools": [{"name": t} for t in tools],
            "ranking": ranking, "call": {"name": call[0], "arguments": call[1]},
            "variant": variant, "scenario": scenario, "meta": {"query_id": query_id, **meta}}


@pytest.mark.parametrize("a, b, same", [
    ("Lisbon ", "lisbon", True), ("New  York", "new york", True), (3, "3.0", True),
    ("1,000", 1000, True), (2.5, 2.50000001, True), ("March 5, 2024", "2024-03-05", True),
    ("5th March 2024", "03/05/2024", True), ("true", True, True), (["A", 1], ["a", "1"], True),
    ("Lisbon", "Porto", False), (3, 4, False), ("2024-03-05", "2024-03-06", False),
    ({"x": "A"}, {"x": "a"}, True), (1, True, False),
])
def test_value_normalisation(a, b, same):
    assert values_match(a, b) == same


def test_argument_scores_hand_computed():
    gold = {"city": "Lisbon", "day": "tomorrow", "units": "metric"}
    # names: TP = city, day; FP = hour; FN = units -> F1 = 4 / (4 + 1 + 1)
    # values judged on city, day, units: city right, day wrong, units missing -> 1/3
    f1, acc, exact = argument_scores({"city": "lisbon", "day": "today", "hour": 3}, gold)
    assert f1 == pytest.approx(4 / 6) and acc == pytest.approx(1 / 3) and not exact
    assert argument_scores({"city": "LISBON", "day": "Tomorrow", "units": "Metric"}, gold) == (
        1.0, 1.0, True)
    assert argument_scores({}, {}) == (1.0, 1.0, True)


def test_acceptable_arguments_allow_alternatives_and_omission():
    gold = {"city": "Lisbon", "units": "metric"}
    acceptable = {"city": ["Lisbon", "Lisboa"], "units": ["metric", ""]}
    assert argument_scores({"city": "Lisboa"}, gold, acceptable) == (1.0, 1.0, True)
    f1, acc, exact = argument_scores({"city": "Lisboa", "units": "imperial"}, gold, acceptable)
    assert f1 == 1.0 and acc == 0.5 and not exact


def test_ranking_scores_hand_computed():
    gold = ["a", "b", GR, "x", "y"]
    assert rank.relevant_prefix(gold) == ["a", "b", GR]
    assert rank.top1(["a", GR, "b"], gold) == 1.0 and rank.top1(None, gold) == 0.0
    assert rank.prefix_match(["a", "b", GR, "y", "x"], gold) == 1.0
    assert rank.prefix_match(["b", "a", GR, "x", "y"], gold) == 0.0
    # swapping a and b: 1 discordant pair out of 10 -> (9 - 1) / 10
    assert rank.kendall_tau(["b", "a", GR, "x", "y"], gold) == pytest.approx(0.8)
    assert rank.kendall_tau(gold[::-1], gold) == -1.0 and rank.kendall_tau(None, gold) == -1.0
    # only "a" given: pairs (a, *) concordant (4), the 6 pairs among omitted items discordant
    assert rank.kendall_tau(["a"], gold) == pytest.approx((4 - 6) / 10)
    # relevance a=3, b=2, GR=1; ideal DCG@3 = 3 + 2/log2(3) + 1/2
    ideal = 3 + 2 / math.log2(3) + 0.5
    assert rank.ndcg_at_k(gold, gold) == pytest.approx(1.0)
    assert rank.ndcg_at_k(["x", "a", "b"], gold) == pytest.approx(
        (3 / math.log2(3) + 2 / 2) / ideal)
    assert rank.ndcg_at_k([GR, "x"], ["x", GR][::-1]) == pytest.approx(1.0)


def test_compute_metrics_hand_computed():
    strong_rank = ["s", GR, "d"]
    both_rank = ["s", "w", GR, "d"]
    meta = dict(strong_tool="s", weak_tool="w", better_tool="s")
    records = [
        rec("none", (GR, {}), [GR, "d", "e"], **meta),
        rec("strong", ("s", {"city": "Lisbon"}), strong_rank, **meta),
        rec("both", ("s", {"city": "Lisbon"}), both_rank, **meta),
        rec("none", (GR, {}), [GR, "d", "e"], query_id="q2", **meta),
        rec("both", ("s", {"city": "Porto"}), both_rank, query_id="q2", **meta),
    ]
    outputs = [
        out(GR, ranking=[GR, "d", "e"]),                       # right abstention
        out("s", {"city": "lisbon "}, ranking=strong_rank),    # exact (normalised)
        out("w", {"city": "Lisbon"}, ranking=["w", "s", GR, "d"]),  # weak chosen
        out("d", {}, ranking=None, valid=False),               # should abstain, calls d
        out("s", {"town": "Porto"}, ranking=both_rank),        # right tool, wrong arg name
    ]
    m = compute_metrics(records, outputs)["s"]
    everything = m["all"]
    assert everything["n"] == 5
    assert everything["format_validity"] == pytest.approx(4 / 5)
    assert everything["tsa"] == pytest.approx(3 / 5)
    # predicted GR once (right); gold GR twice -> P = 1, R = 1/2, F1 = 2/3
    assert everything["abstention_precision"] == 1.0
    assert everything["abstention_recall"] == 0.5
    assert everything["abstention_f1"] == pytest.approx(2 / 3)
    # tool samples: strong (F1 1, acc 1), both/q1 (wrong tool: 0, 0), both/q2 (F1 0, acc 0)
    assert everything["argument_name_f1"] == pytest.approx(1 / 3)
    assert everything["argument_value_accuracy"] == pytest.approx(1 / 3)
    # exact: none/q1 (GR, {}), strong -> 2 / 5
    assert everything["call_exact_match"] == pytest.approx(2 / 5)
    assert everything["ranking_top1"] == pytest.approx(3 / 5)
    assert everything["ranking_prefix_match"] == pytest.approx(3 / 5)
    # both q1: w before s -> tau over 4 items (6 pairs) with 1 discordant -> 4/6
    assert everything["ranking_kendall_tau"] == pytest.approx((1 + 1 + 4 / 6 - 1 + 1) / 5)
    # w2s over both samples: q1 chose w (0), q2 chose s (1)
    assert everything["w2s_preference"] == 0.5 and everything["w2s_pairwise"] == 0.5
    # z2o pairs: q1 (none ok) x strong ok -> 1, x both wrong -> 0; q2 none wrong -> 0
    assert everything["z2o_consistency"] == pytest.approx(1 / 3)
    assert m["strong"]["z2o_consistency"] == 1.0
    assert m["both"]["z2o_consistency"] == 0.0
    assert m["none"]["z2o_consistency"] is None
    assert m["none"]["argument_name_f1"] is None
    assert m["strong"]["abstention_recall"] is None
    assert m["strong"]["abstention_f1"] is None
    assert list(m) == ["none", "strong", "both", "tool_needing", "all"]
    # tool_needing pools strong and both: strong right, both/q1 weak chosen, both/q2 right
    needing = m["tool_needing"]
    assert needing["n"] == 3 and needing["tsa"] == pytest.approx(2 / 3)
    assert needing["z2o_consistency"] == pytest.approx(1 / 3)
    assert needing["abstention_recall"] is None


def test_systems_without_ranking_get_no_ranking_metrics():
    records = [rec("none", (GR, {}), [GR, "d"])]
    m = compute_metrics(records, [out(GR)], has_ranking=False)["s"]["all"]
    assert m["ranking_top1"] is None and m["tsa"] == 1.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        compute_metrics([rec("none", (GR, {}), [GR])], [])
