"""Derived probes from BFCL questions, the weakening they use, and the leakage report."""

import json

import pytest

from gentool_jax import cli
from gentool_jax.evaluate.bfcl import source as bfcl
from gentool_jax.evaluate.bfcl.leakage import leakage_report, normalize_name, write_leakage
from gentool_jax.evaluate.bfcl.probes import (
    WEAK_TO_STRONG,
    ZERO_TO_ONE,
    derive,
    derive_probes,
    score_scenario,
)
from gentool_jax.evaluate.parser import parse_output
from gentool_jax.importers.weaken import AXES, applicable, choose_axis, name_words, weaken
from gentool_jax.records import DEFAULT_TOOL, read_records, write_records
from tests.test_bfcl import write_fixture

TOOL = {"name": "calculate_triangle_area",
        "description": "Calculate the area of a triangle from its base and height. Fast.",
        "parameters": {"type": "object", "required": ["base"], "properties": {
            "base": {"type": "integer", "description": "The base."},
            "height": {"type": "number", "description": "The height."},
            "unit": {"type": "string", "enum": ["cm", "m"], "description": "The unit."}}},
        "returns": {"type": "object", "properties": {"area": {"type": "number"},
                                                      "unit": {"type": "string"}}}}


@pytest.fixture
def fixture_dir(tmp_path):
    return write_fixture(tmp_path / "bfcl")


def load(directory, category):
    return bfcl.load_category(bfcl.BfclSource(directory, "test"), category)


# --- weakening --------------------------------------------------------------------------------

def test_each_axis_really_weakens_its_part_and_only_it():
    args = {"base": 10, "height": 5.5, "unit": "cm"}
    name = weaken(TOOL, "name")
    assert name.tool["name"] == "area_helper"
    assert set(name_words("area_helper")) - {"helper"} < set(name_words(TOOL["name"]))
    assert {k: v for k, v in name.tool.items() if k != "name"} == \
        {k: v for k, v in TOOL.items() if k != "name"}
    assert name.arguments(args) == args

    desc = weaken(TOOL, "description")
    assert desc.tool["description"] == "Calculate the area of."
    assert len(desc.tool["description"].split()) < len(TOOL["description"].split())
    assert desc.tool["name"] == "calculate_triangle_area_lite"
    assert desc.tool["parameters"] == TOOL["parameters"]

    params = weaken(TOOL, "parameters")
    assert params.tool["parameters"] == {"type": "object", "required": ["base"],
                                         "properties": {"base": {"type": "string"}}}
    assert set(params.tool["parameters"]["properties"]) < set(TOOL["parameters"]["properties"])
    assert params.arguments(args) == {"base": "10"}  # kept ones, as strings
    assert params.tool["description"] == TOOL["description"]

    returns = weaken(TOOL, "returns")
    assert returns.tool["returns"] == {"type": "object",
                                       "properties": {"summary": {"type": "string"}}}
    assert returns.tool["parameters"] == TOOL["parameters"]
    assert TOOL["returns"]["properties"]["area"] == {"type": "number"}  # original untouched


def test_weakening_is_deterministic_and_names_apart():
    for axis in AXES:
        assert weaken(TOOL, axis) == weaken(json.loads(json.dumps(TOOL)), axis)
    taken = ["area_helper", "area_helper_2"]
    assert weaken(TOOL, "name", taken).tool["name"] == "area_helper_3"
    assert weaken({**TOOL, "name": "weather.now"}, "name").tool["name"] == "weather_helper"
    assert weaken({**TOOL, "name": "search"}, "name").tool["name"] == "general_helper"
    assert weaken({**TOOL, "name": "getWeather"}, "returns").tool["name"] == "getWeatherLite"
    assert choose_axis("q1", TOOL) == choose_axis("q1", TOOL)
    assert {choose_axis(f"q{i}", TOOL) for i in range(40)} == set(AXES)


def test_an_axis_that_cannot_weaken_is_skipped():
    plain = {"name": "ping", "description": "Ping.", "returns": {
                 "type": "object", "properties": {"summary": {"type": "string"}}},
             "parameters": {"type": "object", "required": ["host"],
                            "properties": {"host": {"type": "string"}}}}
    assert [a for a in AXES if applicable(plain, a)] == ["name"]
    assert all(choose_axis(f"k{i}", plain) == "name" for i in range(10))
    with pytest.raises(ValueError, match="cannot weaken"):
        weaken(plain, "description")


# --- probes -----------------------------------------------------------------------------------

def test_probes_remove_the_gold_and_add_a_weaker_copy(fixture_dir, tmp_path):
    source = load(fixture_dir, "multiple")[0]  # weather.now among [triangle, weather]
    none, strong, both = derive(source, seed=0)
    assert none["id"] == "derived-multiple_0-none" and none["variant"] == "none"
    assert [t["name"] for t in none["tools"]] == ["calculate_triangle_area"]
    assert none["call"] == {"name": DEFAULT_TOOL, "arguments": {}}
    assert none["ranking"] == [DEFAULT_TOOL, "calculate_triangle_area"]
    assert strong["tools"] == source["tools"] and strong["call"] == source["call"]
    assert strong["ranking"] == source["ranking"] and strong["variant"] == "strong"
    assert none["scenario"] == strong["scenario"] == ZERO_TO_ONE
    assert none["meta"]["query_id"] == strong["meta"]["query_id"]
    assert both["scenario"] == WEAK_TO_STRONG and both["variant"] == "both"
    assert both["call"] == source["call"]  # gold stays the original tool
    meta = both["meta"]
    assert meta["strong_tool"] == meta["better_tool"] == "weather.now"
    weak = next(t for t in both["tools"] if t["name"] == meta["weak_tool"])
    gold = next(t for t in source["tools"] if t["name"] == "weather.now")
    assert weak == weaken(gold, meta["weak_axis"], ["calculate_triangle_area",
                                                    "weather.now"]).tool
    assert len(both["tools"]) == 3 and both["ranking"][:3] == ["weather.now", weak["name"],
                                                               DEFAULT_TOOL]
    for probe in (none, strong, both):  # labelled derived, never BFCL
        assert probe["meta"]["source"] == "derived" and "bfcl" not in probe["scenario"]
        assert probe["meta"]["derived_from"] == "multiple/multiple_0"
    assert derive(source, seed=0) == [none, strong, both]
    path = tmp_path / "probes.jsonl"
    write_records(path, [none, strong, both])
    assert len(list(read_records(path, any_scenario=True))) == 3


def test_only_multiple_and_live_multiple_are_probed(fixture_dir):
    records = [r for c in bfcl.CATEGORIES for r in load(fixture_dir, c)]
    probes = derive_probes(records)
    assert [p["meta"]["derived_from"] for p in probes[::3]] == [
        "multiple/multiple_0", "live_multiple/live_multiple_0-0-0"]
    assert [p["variant"] for p in probes] == ["none", "strong", "both"] * 2


def _outputs(records, names):
    texts = [f'Call: {json.dumps({"name": n, "arguments": {}})}' for n in names]
    return [parse_output(t, [x["name"] for x in r["tools"]]) for t, r in zip(texts, records)]


def test_probe_scores(fixture_dir):
    probes = derive_probes(load(fixture_dir, "multiple") + load(fixture_dir, "live_multiple"))
    z2o = [p for p in probes if p["scenario"] == ZERO_TO_ONE]
    w2s = [p for p in probes if p["scenario"] == WEAK_TO_STRONG]
    right = score_scenario(z2o, _outputs(z2o, [r["call"]["name"] for r in z2o]))["scores"]
    assert right["metrics"]["z2o_consistency"] == 1.0 and right["metrics"]["tsa"] == 1.0
    assert right["variants"]["none"]["abstention_recall"] == 1.0
    # the first question always abstains: its pair is inconsistent
    names = [DEFAULT_TOOL, DEFAULT_TOOL, *(r["call"]["name"] for r in z2o[2:])]
    half = score_scenario(z2o, _outputs(z2o, names))["scores"]
    assert half["metrics"]["z2o_consistency"] == 0.5
    weak_pick = [w2s[0]["meta"]["weak_tool"], w2s[1]["call"]["name"]]
    scored = score_scenario(w2s, _outputs(w2s, weak_pick))
    assert scored["scores"]["metrics"]["w2s_preference"] == 0.5
    axes = scored["scores"]["w2s_by_axis"]
    assert sum(a["n"] for a in axes.values()) == 2
    first = axes[w2s[0]["meta"]["weak_axis"]]
    assert first["weak_chosen"] > 0 and first["w2s_preference"] < 1
    assert [v["tool_correct"] for v in scored["verdicts"]] == [False, True]


# --- leakage ----------------------------------------------------------------------------------

def _train_file(path):
    """A training split with known overlaps with the fixture's functions."""
    tools = [
        {"name": "calculate_triangle_area", "description": "Totally different words here.",
         "parameters": {"type": "object", "properties": {}}},  # exact name
        {"name": "WeatherNow", "description": "Shows sunshine.",
         "parameters": {"type": "object", "properties": {}}},  # normalized = weather.now
        {"name": "plan_trip", "description": "Plan a route between two places, fast.",
         "parameters": {"type": "object", "properties": {}}},  # J 5/6 with maps.route
        {"name": "stock_quote", "description": "Price of a stock ticker.",
         "parameters": {"type": "object", "properties": {}}},
    ]
    record = {"id": "t-0", "query": "q", "tools": tools,
              "ranking": [DEFAULT_TOOL, *(t["name"] for t in tools)],
              "call": {"name": DEFAULT_TOOL, "arguments": {}}, "variant": "none",
              "scenario": "train", "meta": {}}
    write_records(path, [record, {**record, "id": "t-1"}])
    return path


def test_leakage_counts_known_overlaps(fixture_dir, tmp_path):
    assert normalize_name("getWeather") == normalize_name("get_weather") == "get_weather"
    assert normalize_name("weather.now") == normalize_name("WeatherNow")
    categories = {c: load(fixture_dir, c) for c in bfcl.CATEGORIES}
    report = write_leakage(tmp_path / "out", categories, _train_file(tmp_path / "train.jsonl"))
    assert report["training_tools"] == 4
    counts = {c: {k: v[k] for k in ("functions", "exact_name", "normalized_name",
                                     "description_jaccard", "any",
                                     "questions_with_gold_overlap")}
              for c, v in report["categories"].items()}
    assert counts["simple_python"] == {"functions": 2, "exact_name": 1, "normalized_name": 1,
                                       "description_jaccard": 1, "any": 2,
                                       "questions_with_gold_overlap": 2}
    assert counts["multiple"] == {"functions": 2, "exact_name": 1, "normalized_name": 2,
                                  "description_jaccard": 0, "any": 2,
                                  "questions_with_gold_overlap": 1}
    assert counts["live_irrelevance"]["questions_with_gold_overlap"] == 0
    examples = report["categories"]["multiple"]["examples"]
    assert examples["exact_name"] == ["calculate_triangle_area"]
    assert examples["normalized_name"] == ["weather.now ~ WeatherNow"]
    route = report["categories"]["simple_python"]["examples"]["description"][0]
    assert route["name"] == "maps.route" and route["jaccard"] == 0.8333
    assert (tmp_path / "out" / "leakage.md").read_text().count("| simple_python | 2 | 2 | 1 |")
    assert json.loads((tmp_path / "out" / "leakage.json").read_text())["threshold"] == 0.5
    strict = leakage_report(categories, [], 0.5)
    assert strict["categories"]["multiple"]["any"] == 0


# --- the command ------------------------------------------------------------------------------

def test_bfcl_command_with_probes_and_leakage(fixture_dir, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["bfcl", "--config=configs/smoke.py", f"--config.workdir={tmp_path / 'work'}",
            "--config.sample.max_new_tokens=8", f"--data={fixture_dir}", f"--out={out}"]
    assert cli.main([*args, "--categories=simple_python", "--probes"]) == 1
    assert "--probes derives from multiple / live_multiple" in capsys.readouterr().err
    train = _train_file(tmp_path / "train.jsonl")
    assert cli.main([*args, "--categories=multiple,live_multiple", "--probes",
                     f"--train-data={train}"]) == 0
    records = list(read_records(out / "records.jsonl", any_scenario=True))
    assert [r["scenario"] for r in records] == ["multiple", "live_multiple",
                                                *[ZERO_TO_ONE, ZERO_TO_ONE, WEAK_TO_STRONG] * 2]
    payload = json.loads((out / "metrics.json").read_text())
    assert list(payload["systems"]["base_model"]) == ["multiple", "live_multiple"]
    probes = payload["probes"]["base_model"]
    assert list(probes) == [ZERO_TO_ONE, WEAK_TO_STRONG]
    assert probes[ZERO_TO_ONE]["n"] == 4 and probes[WEAK_TO_STRONG]["n"] == 2
    assert set(probes[ZERO_TO_ONE]["variants"]) == {"none", "strong", "tool_needing"}
    assert payload["info"]["leakage"]["multiple"]["exact_name"] == 1
    report = (out / "report.md").read_text()
    assert "# Derived probes (built from BFCL questions; not BFCL scores)" in report
    assert "| derived_weak_to_strong | both | 2 |" in report
    assert (out / "leakage.md").is_file()
    generations = [json.loads(line) for line in (out / "generations.jsonl").open()]
    assert len(generations) == len(records)
