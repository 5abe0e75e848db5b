"""The simulated world on the smoke config: gold labels, grounding, scale knobs, BM25."""

import math

import numpy as np
import pytest

from configs import smoke
from gentool_jax.baselines.lexical import select, tune_threshold
from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, SCENARIOS, validate_record
from gentool_jax.simulate.similarity import BM25Index, tokenize
from gentool_jax.simulate.simulation import simulate
from gentool_jax.simulate.stats import compute_stats


@pytest.fixture(scope="module")
def splits():
    return simulate(smoke.get_config().simulate, seed=0)


def _all(splits):
    return [record for records in splits.values() for record in records]


def test_every_split_and_variant_present(splits):
    assert set(splits) == {"train", "validation", *SCENARIOS}
    for name, records in splits.items():
        assert records, name
        assert {r["variant"] for r in records} == {"none", "weak", "strong", "both"}
        assert all(r["scenario"] == name for r in records)


def test_records_valid_and_meta_complete(splits):
    keys = {"domain", "pair_id", "query_id", "strong_tool", "weak_tool", "better_tool",
            "intent", "template_id"}
    for record in _all(splits):
        validate_record(record)
        assert keys <= set(record["meta"])
        assert len(record["tools"]) == 5


def test_gold_ranking_follows_the_rule(splits):
    """Recompute DESIGN §2 from the pair meta: better tool, other relevant, generate_response,
    then the irrelevant tools in presentation order; the call is the top-ranked tool."""
    for record in _all(splits):
        meta = record["meta"]
        names = [tool["name"] for tool in record["tools"]]
        strong, weak, better = meta["strong_tool"], meta["weak_tool"], meta["better_tool"]
        present = [n for n in (better, weak if better == strong else strong) if n in names]
        expected = present + [DEFAULT_TOOL] + [n for n in names if n not in present]
        assert record["ranking"] == expected, record["id"]
        assert {"none": [], "weak": [weak], "strong": [strong],
                "both": [strong, weak]}[record["variant"]] == sorted(
            present, key=[strong, weak].index)
        assert record["call"]["name"] == record["ranking"][0]
        if record["call"]["name"] != DEFAULT_TOOL:
            assert record["call"]["arguments"] == meta["calls"][record["call"]["name"]]
        else:
            assert record["call"]["arguments"] == {}
        if better == weak:  # only a more focused subset tool can beat the strong one
            assert meta["both_full"] and meta["weak_flavour"] == "subset"


def test_query_id_shared_by_the_four_variants(splits):
    by_query = {}
    for record in _all(splits):
        by_query.setdefault(record["meta"]["query_id"], []).append(record)
    for records in by_query.values():
        assert sorted(r["variant"] for r in records) == ["both", "none", "strong", "weak"]
        assert len({r["query"] for r in records}) == 1


def test_arguments_are_grounded_in_the_query(splits):
    for record in _all(splits):
        query = record["query"].lower()
        for tool in (record["meta"]["strong_tool"], record["meta"]["weak_tool"]):
            for value in record["meta"]["calls"][tool].values():
                assert isinstance(value, (str, int, float))
                assert str(value).lower() in query, (record["id"], value)


def test_required_parameters_filled_and_defined(splits):
    for record in _all(splits):
        for tool in record["tools"]:
            args = record["meta"]["calls"].get(tool["name"])
            if args is None:
                continue
            assert set(tool["parameters"]["required"]) <= set(args)
            assert set(args) <= set(tool["parameters"]["properties"])


def test_both_full_pairs_share(splits):
    stats = compute_stats(splits)
    assert stats["both_full_pair_fraction"] >= 0.10
    assert stats["domains"] >= 40 or stats["tool_pairs"] < 100


def test_tokenize_splits_identifiers():
    assert tokenize("getHourlyForecast") == ["get", "hourly", "forecast"]
    assert tokenize("weather_now, SkyCastPro") == ["weather", "now", "sky", "cast", "pro"]
    assert tokenize("the HTTPServer") == ["http", "server"]


def test_bm25_matches_hand_computation():
    docs = ["rain rain sun", "sun", "snow wind"]
    index = BM25Index(docs)
    k1, b, avg = 1.2, 0.75, 2.0

    def term(tf, n, length):
        idf = math.log(1 + (3 - n + 0.5) / (n + 0.5))
        return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))

    expected = [term(2, 1, 3) + term(1, 2, 3), term(1, 2, 1), 0.0]
    np.testing.assert_allclose(index.scores("rain sun"), expected, rtol=1e-12)


def test_lexical_baseline_select_and_threshold():
    tools = [{"name": "get_weather_forecast", "description": "Daily weather forecast.",
              "parameters": {"type": "object", "properties": {}}},
             {"name": "stockQuote", "description": "Latest share price.",
              "parameters": {"type": "object", "properties": {}}}]
    record = {"query": "weather forecast for Lisbon", "tools": tools,
              "call": {"name": "get_weather_forecast", "arguments": {}}}
    assert select(record, 0.0) == "get_weather_forecast"
    assert select(record, 1e9) == DEFAULT_TOOL
    off_topic = dict(record, query="tell me a joke",
                     call={"name": DEFAULT_TOOL, "arguments": {}})
    threshold = tune_threshold([record, off_topic])
    assert select(record, threshold) == "get_weather_forecast"
    assert select(off_topic, threshold) == DEFAULT_TOOL


@pytest.mark.slow
def test_default_config_reaches_paper_scale():
    from configs import default

    stats = compute_stats(simulate(default.get_config().simulate, seed=0))
    assert stats["tool_pairs"] >= 834 and stats["distinct_queries"] >= 8000
    assert stats["training_samples"] >= 33000 and stats["domains"] >= 40
    assert stats["distinct_tools"] >= 1600


def _vague_same_domain_distractors(records) -> int:
    """Records offering another pair's vague (generic or coarse) weak tool of their domain."""
    domain, vague = {}, set()
    for record in records:
        meta = record["meta"]
        domain[meta["strong_tool"]] = domain[meta["weak_tool"]] = meta["domain"]
        if meta.get("weak_flavour") in ("generic", "coarse"):
            vague.add(meta["weak_tool"])
    return sum(any(t["name"] in vague and t["name"] != r["meta"]["weak_tool"]
                   and domain[t["name"]] == r["meta"]["domain"] for t in r["tools"])
               for r in records)


def test_visible_distractor_rule_keeps_vague_same_domain_tools_out():
    config = smoke.get_config()
    config.simulate.num_pairs = 200
    config.simulate.distractors = "capability"
    paper = simulate(config.simulate, config.seed)
    config.simulate.distractors = "visible"
    visible = simulate(config.simulate, config.seed)
    everything = [r for split in paper.values() for r in split]
    assert _vague_same_domain_distractors(everything) > 0  # the paper's rule offers them
    assert _vague_same_domain_distractors([r for s in visible.values() for r in s]) == 0
    # Same queries and gold tools of the pair; only distractors (and so rankings) change.
    assert [r["id"] for r in visible["train"]] == [r["id"] for r in paper["train"]]
    assert [r["query"] for r in visible["train"]] == [r["query"] for r in paper["train"]]
    for split in visible.values():
        for record in split:
            validate_record(record)
            assert record["call"]["name"] == record["ranking"][0]
    # Cross queries keep to the rule too: no toolset is asked a query of a domain whose vague
    # weak tool another pair offers in it.
    for mix in ("owners", "alternate"):
        config.simulate.cross_queries, config.simulate.cross_mix = 4, mix
        crossed = simulate(config.simulate, config.seed)["train"]
        assert sum("cross_toolset_of" in r["meta"] for r in crossed) > 0
        assert _vague_same_domain_distractors(crossed) == 0


def test_an_unknown_distractor_rule_is_refused():
    config = smoke.get_config()
    config.simulate.distractors = "similar"
    with pytest.raises(GentoolError, match="simulate.distractors"):
        simulate(config.simulate, config.seed)
