"""The hand-written development set (data/dev/dev.jsonl, docs/dev_set.md): the project's reader
accepts it, it is as large and varied as issue 28 asks, every query comes in all four
variants with a DESIGN §2 ranking and a gold call whose arguments fit the tool's schema, and
the committed file is exactly what its builder makes of the hand-written sources."""

from __future__ import annotations

import importlib.util
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from gentool_jax.records import DEFAULT_TOOL, VARIANTS, argument_errors, read_records

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "data" / "dev" / "dev.jsonl"


def _builder():
    spec = importlib.util.spec_from_file_location("dev_set_build", ROOT / "data/dev/build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def records():
    return list(read_records(DEV, any_scenario=True))


def test_reader_accepts_the_set_and_it_is_large_and_varied(records):
    assert len(records) >= 120
    assert len({r["id"] for r in records}) == len(records)
    assert {r["scenario"] for r in records} == {"dev_handwritten"}
    assert len({r["meta"]["domain"] for r in records}) >= 25
    styles = {r["meta"]["style"] for r in records}
    assert {"terse", "verbose", "rest", "sdk"} <= styles and len(styles) >= 4
    sizes = Counter(len(r["tools"]) for r in records)
    assert min(sizes) <= 2 and max(sizes) >= 12 and len(sizes) >= 8, sizes


def test_every_query_has_all_four_variants(records):
    by_query = defaultdict(list)
    for record in records:
        by_query[record["meta"]["query_id"]].append(record)
    assert len(by_query) >= 30
    for query_id, group in by_query.items():
        assert sorted(r["variant"] for r in group) == sorted(VARIANTS), query_id
        assert len({r["query"] for r in group}) == 1, query_id
        assert len({len(r["tools"]) for r in group}) == 1, query_id  # replacement, fixed size


def test_ranking_and_call_follow_design_section_2(records):
    for record in records:
        meta, names = record["meta"], [t["name"] for t in record["tools"]]
        strong, weak = meta["strong_tool"], meta["weak_tool"]
        relevant = {"none": [], "weak": [weak], "strong": [strong],
                    "both": [strong, weak]}[record["variant"]]
        assert sorted(set(names) & {strong, weak}) == sorted(relevant), record["id"]
        tail = [name for name in names if name not in relevant]
        assert record["ranking"] == relevant + [DEFAULT_TOOL] + tail, record["id"]
        assert record["ranking"][0] == record["call"]["name"], record["id"]
        if record["variant"] == "none":
            assert record["call"] == {"name": DEFAULT_TOOL, "arguments": {}}
        else:
            assert record["call"]["arguments"] == meta["calls"][record["call"]["name"]]


def test_gold_arguments_fit_their_tools(records):
    schema_errors = _builder().schema_errors
    for record in records:
        tools = {t["name"]: t for t in record["tools"]}
        for name, arguments in record["meta"]["calls"].items():
            if name not in tools:
                continue
            errors = argument_errors(tools[name], arguments, values=True)
            assert not errors.messages, (record["id"], errors.messages)
            assert not schema_errors(arguments, tools[name]["parameters"], name), record["id"]


def test_the_builder_reproduces_the_committed_file_byte_for_byte():
    build = _builder()
    assert build.render(build.build_records(*build.load_sources())) == DEV.read_text("utf-8")


def test_the_builder_rejects_arguments_that_break_the_schema():
    build = _builder()
    pool, families = build.load_sources()
    family = dict(families[0])
    query = dict(family["queries"][0])
    query["strong"] = {**query["strong"], "passengers": {"adults": "two"}}
    family["queries"] = [query]
    with pytest.raises(build.SourceError, match="passengers.adults: expected integer"):
        build.build_records(pool, [family])


def test_the_leakage_report_counts_a_dev_tool_planted_in_training(tmp_path, records, capsys):
    import json

    from gentool_jax.records import write_records

    spec = importlib.util.spec_from_file_location("dev_leakage",
                                                  ROOT / "benchmarks/dev_leakage.py")
    leakage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(leakage)
    planted = next(r for r in records if r["variant"] == "strong")
    strong = next(t for t in planted["tools"] if t["name"] == planted["call"]["name"])
    renamed = {**strong, "name": strong["name"].upper()}  # same words, other spelling
    train = {**planted, "id": "t-0", "scenario": "train", "tools": [renamed],
             "ranking": [renamed["name"], DEFAULT_TOOL],
             "call": {"name": renamed["name"], "arguments": {}}}
    write_records(tmp_path / "data" / "train.jsonl", [train])
    assert leakage.main([f"--workdir={tmp_path}", f"--out={tmp_path / 'out'}"]) == 0
    report = json.loads((tmp_path / "out" / "dev_leakage.json").read_text())
    everything, gold = report["categories"]["all"], report["categories"]["gold tools"]
    assert everything["functions"] == len({(t["name"], t["description"])
                                           for r in records for t in r["tools"]})
    assert (everything["exact_name"], everything["normalized_name"]) == (0, 1)
    assert everything["description_jaccard"] == 1 and everything["max_jaccard"] == 1.0
    # the strong and both records of every query of that tool's family
    assert gold["questions_with_gold_overlap"] == sum(
        r["call"]["name"] == strong["name"] for r in records) >= 2
    assert "Development-set tools" in capsys.readouterr().out


def test_group_by_relabels_a_copy_so_evaluation_reports_each_style(tmp_path, records):
    build = _builder()
    out = tmp_path / "by_style.jsonl"
    assert build.main(["--group-by=style", f"--out={out}"]) == 0
    relabelled = list(read_records(out, any_scenario=True))
    assert [r["scenario"] for r in relabelled] == [
        f"dev_handwritten/style={r['meta']['style']}" for r in records]
    with pytest.raises(SystemExit):
        build.main(["--group-by=style", "--check"])
