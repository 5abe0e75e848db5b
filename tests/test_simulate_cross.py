"""Cross queries (simulate/cross_queries.py): other pairs' queries on a training toolset, each
answered by the same capability rule as every record, so one toolset has several answers."""

from collections import defaultdict

import pytest

from configs import smoke
from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL
from gentool_jax.simulate.pairs import build_pairs
from gentool_jax.simulate.simulation import simulate
from gentool_jax.simulate.toolsets import rank_tools


@pytest.fixture(scope="module")
def worlds():
    config = smoke.get_config()
    plain = simulate(config.simulate, config.seed)
    config.simulate.cross_queries = 3
    return config, plain, simulate(config.simulate, config.seed)


def test_only_training_gains_records_and_keeps_all_of_its_own(worlds):
    _, plain, crossed = worlds
    for split in plain:
        if split != "train":
            assert crossed[split] == plain[split]
    extra = [r for r in crossed["train"] if "cross_toolset_of" in r["meta"]]
    assert extra and len(crossed["train"]) == len(plain["train"]) + len(extra)
    assert sorted(r["id"] for r in crossed["train"] if "cross_toolset_of" not in r["meta"]) \
        == sorted(r["id"] for r in plain["train"])
    assert len({r["id"] for r in crossed["train"]}) == len(crossed["train"])


def test_each_cross_record_sits_on_its_host_toolset_with_the_rule_s_gold(worlds):
    config, plain, crossed = worlds
    pairs = build_pairs(config.simulate, config.seed)
    tools = {t.name: t for p in pairs for t in (p.strong, p.weak)}
    hosts = {(r["meta"]["pair_id"], r["variant"]): r["tools"] for r in plain["train"]}
    per_host = defaultdict(int)
    for record in crossed["train"]:
        host = record["meta"].get("cross_toolset_of")
        if host is None:
            continue
        host_variant = record["id"].rsplit("-", 1)[1]
        assert record["tools"] == hosts[(host, host_variant)]
        assert record["meta"]["pair_id"] != host
        offered = [tools[t["name"]] for t in record["tools"]]
        assert record["ranking"] == rank_tools(offered, tuple(record["meta"]["capabilities"]))
        assert record["call"]["name"] == record["ranking"][0]
        if record["call"]["name"] == DEFAULT_TOOL:
            assert record["call"]["arguments"] == {}
        per_host[(host, host_variant)] += 1
    assert max(per_host.values()) <= 3


def test_a_toolset_now_has_answers_that_depend_on_the_query(worlds):
    _, plain, crossed = worlds
    answers_plain, answers_crossed = defaultdict(set), defaultdict(set)
    for records, answers in ((plain["train"], answers_plain), (crossed["train"], answers_crossed)):
        for record in records:
            answers[tuple(t["name"] for t in record["tools"])].add(record["call"]["name"])
    def share_with_several(answers):
        return sum(len(a) > 1 for a in answers.values()) / len(answers)

    # Without them almost every toolset has one answer whatever the query (the shortcut; the
    # exceptions are pairs whose weak tool also fully answers some queries).
    assert share_with_several(answers_plain) < 0.1
    assert share_with_several(answers_crossed) >= 0.9


@pytest.fixture(scope="module")
def owner_world():
    config = smoke.get_config()
    config.simulate.cross_queries = 6
    config.simulate.cross_mix = "owners"
    return simulate(config.simulate, config.seed)


def test_owner_mix_asks_only_the_offered_tools_owners(owner_world):
    cross = [r for r in owner_world["train"] if "cross_toolset_of" in r["meta"]]
    assert cross
    per_host = defaultdict(list)
    for record in cross:
        offered = {t["name"] for t in record["tools"]}
        # The asking pair owns an offered tool, which serves its query, so a tool answers.
        assert {record["meta"]["strong_tool"], record["meta"]["weak_tool"]} & offered
        assert record["call"]["name"] != DEFAULT_TOOL
        per_host[record["id"].split("-x-")[1]].append(record)
    for records in per_host.values():
        assert len(records) <= 6
        assert len({r["meta"]["query_id"] for r in records}) == len(records)  # no repeats
        owners = [r["meta"]["pair_id"] for r in records]
        counts = [owners.count(o) for o in set(owners)]
        assert max(counts) - min(counts) <= 1  # round-robin over the owners


def test_an_unknown_mix_is_refused():
    config = smoke.get_config()
    config.simulate.cross_queries = 2
    config.simulate.cross_mix = "everyone"
    with pytest.raises(GentoolError, match="simulate.cross_mix"):
        simulate(config.simulate, config.seed)
