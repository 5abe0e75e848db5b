"""The variety options (issue 28): varied tool writing and toolset sizes, on the smoke world.

The defaults must keep writing the paper-faithful world byte for byte (pinned by a hash), and a
varied world must stay a correct GenTool dataset: valid records, exact gold arguments under the
renamed parameters, DESIGN §2 rankings, a passing leakage check, and measurably more variety.
"""

import hashlib
import json

import pytest

from configs import smoke
from gentool_jax.config_check import check_config
from gentool_jax.errors import GentoolError
from gentool_jax.records import (
    DEFAULT_TOOL,
    argument_errors,
    dump_record,
    read_records,
    write_records,
)
from gentool_jax.simulate.diversity import diversity, opening
from gentool_jax.simulate.leakage import check_leakage
from gentool_jax.simulate.simulation import SPLITS, simulate
from gentool_jax.simulate.varied_names import name_convention
from gentool_jax.simulate.variety import parse_toolset_sizes
from gentool_jax.simulate_command import _fingerprint, check_inputs

# sha256 of the smoke world's records (every split, dump_record lines) before the variety
# options existed: the defaults must not change a byte of it.
PAPER_SMOKE_SHA256 = "e2fac0abf1695ae0fa87bd6f198e83bf70878b8c587e7d1c0a15db5f85899c2c"


def _varied(sizes: str = "1-12"):
    config = smoke.get_config()
    config.simulate.toolset_sizes = sizes
    for part in ("names", "descriptions", "parameters"):
        config.simulate.writing[part] = "varied"
    return config


@pytest.fixture(scope="module")
def varied():
    return simulate(_varied().simulate, seed=0)


@pytest.fixture(scope="module")
def paper():
    return simulate(smoke.get_config().simulate, seed=0)


def _all(splits):
    return [record for split in SPLITS for record in splits[split]]


def _digest(splits) -> str:
    text = "".join(dump_record(r) + "\n" for r in _all(splits))
    return hashlib.sha256(text.encode()).hexdigest()


def test_defaults_write_the_paper_world_unchanged(paper):
    assert _digest(paper) == PAPER_SMOKE_SHA256


def test_varied_world_is_deterministic(varied):
    assert _digest(simulate(_varied().simulate, seed=0)) == _digest(varied)
    assert _digest(simulate(_varied().simulate, seed=1)) != _digest(varied)


def test_varied_world_keeps_the_paper_world_structure(varied, paper):
    """Same pairs, capabilities, queries and splits: only the writing and sizes differ, so a
    comparison of the two worlds measures the writing."""
    for split in SPLITS:
        assert [(r["id"], r["query"], r["meta"]["intent"]) for r in varied[split]] == \
            [(r["id"], r["query"], r["meta"]["intent"]) for r in paper[split]]


def test_records_read_back_valid(varied, tmp_path):
    for split in SPLITS:
        path = tmp_path / f"{split}.jsonl"
        write_records(path, varied[split])
        assert len(list(read_records(path))) == len(varied[split])


def test_toolset_sizes_per_pair_and_split(varied):
    sizes, groups = set(), {}
    for record in _all(varied):
        meta = record["meta"]
        size = len(record["tools"])
        key = (meta["pair_id"], record["scenario"])
        base = groups.setdefault(key, {})
        base.setdefault(record["variant"], set()).add(size)
        sizes.add(size)
    for key, by_variant in groups.items():
        assert all(len(s) == 1 for s in by_variant.values()), key  # one size per (pair, split)
        (size,) = by_variant["none"]
        assert by_variant["weak"] == by_variant["strong"] == {size}, key
        assert by_variant["both"] == {max(size, 2)}, key
        assert 1 <= size <= 12
    assert len({next(iter(v["none"])) for v in groups.values()}) >= 8


def test_toolset_size_choices():
    splits = simulate(_varied("2,4").simulate, seed=0)
    assert {len(r["tools"]) for r in _all(splits) if r["variant"] == "none"} == {2, 4}


def test_gold_calls_fit_the_renamed_schemas(varied):
    for record in _all(varied):
        tools = {tool["name"]: tool for tool in record["tools"]}
        query = record["query"].lower()
        for name, args in record["meta"]["calls"].items():
            if name in tools:
                errors = argument_errors(tools[name], args, values=True)
                assert not errors.messages, (record["id"], errors.messages)
            for value in args.values():
                assert str(value).lower() in query, (record["id"], value)
        call = record["call"]
        if call["name"] != DEFAULT_TOOL:
            assert call["arguments"] == record["meta"]["calls"][call["name"]]


def test_gold_ranking_follows_the_rule(varied):
    for record in _all(varied):
        meta = record["meta"]
        names = [tool["name"] for tool in record["tools"]]
        strong, weak, better = meta["strong_tool"], meta["weak_tool"], meta["better_tool"]
        present = [n for n in (better, weak if better == strong else strong) if n in names]
        assert record["ranking"] == present + [DEFAULT_TOOL] + [
            n for n in names if n not in present], record["id"]
        assert record["call"]["name"] == record["ranking"][0]


def test_leakage_check_passes_and_still_fires(varied):
    assert check_leakage(varied)["unseen_tool_mentions"] > 0
    planted = {split: list(records) for split, records in varied.items()}
    leak = json.loads(json.dumps(planted["train"][0]))
    leak["tools"].append(planted["seen_query_unseen_tool"][-1]["tools"][0])
    unseen = planted["seen_query_unseen_tool"][-1]
    tool = next(t for t in unseen["tools"] if t["name"] == unseen["meta"]["strong_tool"])
    leak["tools"][-1] = tool
    planted["train"] = [leak, *planted["train"][1:]]
    with pytest.raises(GentoolError, match="unseen tool name"):
        check_leakage(planted)


def test_varied_world_is_measurably_more_varied(varied, paper):
    before, after = diversity(_all(paper)), diversity(_all(varied))
    assert len(before["name_conventions"]) <= 3
    assert len(after["name_conventions"]) >= 6
    assert after["distinct_openings"] / after["tools"] >= 0.7
    assert after["top10_opening_share"] < 0.25 < before["top10_opening_share"]
    assert after["required_input_share"] == 0.0
    assert after["distinct_parameter_names"] > 1.5 * before["distinct_parameter_names"]
    assert set(before["toolset_sizes"]) == {"5"} and len(after["toolset_sizes"]) >= 10


def test_name_conventions_and_openings():
    assert [name_convention(n) for n in (
        "get_forecast", "getForecast", "GetForecast", "get-forecast", "getforecast",
        "forecasts_get_v2", "weather.get_forecast")] == [
        "snake", "camel", "pascal", "kebab", "flat", "rest", "dotted"]
    assert opening("GET /v2/forecasts - Fetches, the outlook.") == "get /v2/forecasts fetches"


def test_parse_toolset_sizes():
    assert parse_toolset_sizes("") == ()
    assert parse_toolset_sizes("1-3") == (1, 2, 3)
    assert parse_toolset_sizes(" 2, 2,5 ") == (2, 2, 5)
    for bad in ("0-3", "3-1", "a", "1-99", "-2"):
        with pytest.raises(GentoolError, match="config.simulate.toolset_sizes"):
            parse_toolset_sizes(bad)


def test_config_check_names_the_field():
    config = smoke.get_config()
    config.simulate.writing.names = "fancy"
    with pytest.raises(GentoolError, match=r"config\.simulate\.writing\.names"):
        check_config(config)
    config = smoke.get_config()
    config.simulate.toolset_sizes = "1-x"
    with pytest.raises(GentoolError, match=r"config\.simulate\.toolset_sizes"):
        check_config(config)
    check_config(_varied())


def test_fingerprint_unchanged_by_default_options():
    """Data written before the options existed stays valid: the default config hashes as the
    version-1 generator with no variety keys; any variety option changes the hash."""
    config = smoke.get_config()
    simulate_json = json.loads(config.simulate.to_json())
    for key in ("teacher", "toolset_sizes", "writing", "extra_asks", "worded_asks", "decoys",
                "wording_validation"):
        simulate_json.pop(key)
    old = {"generator": 1, "seed": config.seed, "simulate": simulate_json, "source": ""}
    expected = hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()
    assert _fingerprint(config, "") == expected
    assert _fingerprint(_varied(), "") != expected
    names_only = smoke.get_config()
    names_only.simulate.writing.names = "varied"
    assert _fingerprint(names_only, "") not in (expected, _fingerprint(_varied(), ""))


def test_imports_refuse_variety_options(tmp_path):
    source = tmp_path / "pairs.jsonl"
    source.write_text("{}\n")
    with pytest.raises(GentoolError, match="offline world only"):
        check_inputs(_varied(), {"from": str(source)})
