"""Output, resumability, determinism, leakage check, user-data import and the TFDS dataset."""

import copy
import json

import pytest

from configs import smoke
from gentool_jax.errors import RecordError
from gentool_jax.importers.formats import import_file
from gentool_jax.records import DEFAULT_TOOL
from gentool_jax.simulate.leakage import LeakageError, check_leakage
from gentool_jax.simulate.simulation import SPLITS, simulate, split_file
from gentool_jax.simulate_command import simulate_command


def _run(tmp_path, name, seed=0, **simulate_fields):
    config = smoke.get_config()
    config.seed = seed
    for key, value in simulate_fields.items():
        config.simulate[key] = value
    out = tmp_path / name
    assert simulate_command(config, {"out": str(out), "from": ""}) == 0
    return out


def _files(out):
    return {f: (out / f).read_bytes() for f in [split_file(s) for s in SPLITS] + ["stats.json"]}


def test_same_seed_byte_identical_other_seed_differs(tmp_path, capsys):
    first, second = _run(tmp_path, "a"), _run(tmp_path, "b")
    assert _files(first) == _files(second)
    other = _files(_run(tmp_path, "c", seed=1))
    assert other["train.jsonl"] != _files(first)["train.jsonl"]
    capsys.readouterr()
    _run(tmp_path, "a")  # rerun on a complete output: skipped, files untouched
    assert "skipping" in capsys.readouterr().out
    assert _files(first) == _files(second)


@pytest.fixture(scope="module")
def splits():
    return simulate(smoke.get_config().simulate, seed=0)


def test_clean_splits_pass_the_leakage_check(splits):
    counts = check_leakage(splits)
    assert counts["unseen_tool_mentions"] > 0 and counts["unseen_query_records"] > 0


def test_leakage_check_catches_an_unseen_tool_in_training(splits):
    leaked = copy.deepcopy(splits)
    test_record = leaked["seen_query_unseen_tool"][3]
    unseen = next(t for t in test_record["tools"]
                  if t["name"] == test_record["meta"]["strong_tool"])
    leaked["train"][0]["tools"][0] = unseen
    with pytest.raises(LeakageError, match="unseen tool name"):
        check_leakage(leaked)


def test_leakage_check_catches_an_unseen_description(splits):
    leaked = copy.deepcopy(splits)
    test_record = leaked["unseen_query_unseen_tool"][1]
    weak = next(t for t in test_record["tools"] if t["name"] == test_record["meta"]["weak_tool"])
    leaked["train"][5]["tools"][2] = dict(leaked["train"][5]["tools"][2],
                                          description=weak["description"])
    with pytest.raises(LeakageError, match="description of unseen tool"):
        check_leakage(leaked)


def test_leakage_check_catches_an_unseen_template(splits):
    leaked = copy.deepcopy(splits)
    template = leaked["unseen_query_seen_tool"][0]["meta"]["template_id"]
    leaked["train"][7]["meta"]["template_id"] = template
    with pytest.raises(LeakageError, match="unseen query template"):
        check_leakage(leaked)


def _tool(name, description, params=("city",), required=("city",)):
    return {"name": name, "description": description,
            "parameters": {"type": "object",
                           "properties": {p: {"type": "string"} for p in params},
                           "required": list(required)}}


def _pair(i, **changes):
    pair = {"id": f"p{i}", "query": f"Will it rain in City{i} tomorrow?",
            "strong_tool": _tool(f"hourly_forecast_{i}", f"Hourly forecast number {i}.",
                                 ("city", "day")),
            "weak_tool": _tool(f"weather_helper_{i}", f"Weather helper {i}."),
            "strong_arguments": {"city": f"City{i}", "day": "tomorrow"},
            "weak_arguments": {"city": f"City{i}"}}
    pair.update(changes)
    return pair


def _write(path, lines):
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                            for line in lines))
    return path


def test_pair_import_builds_the_four_variants(tmp_path):
    pairs = [_pair(i) for i in range(6)]
    pairs[2].update(better="weak", weak_usefulness="full")
    splits = import_file(_write(tmp_path / "pairs.jsonl", pairs), toolset_size=5, seed=0)
    train = splits["train"]
    assert len(train) == 24
    by_id = {r["id"]: r for r in train}
    assert by_id["p0-none"]["call"] == {"name": DEFAULT_TOOL, "arguments": {}}
    assert by_id["p0-weak"]["call"] == {"name": "weather_helper_0",
                                        "arguments": {"city": "City0"}}
    assert by_id["p0-both"]["ranking"][:3] == ["hourly_forecast_0", "weather_helper_0",
                                                DEFAULT_TOOL]
    assert by_id["p2-both"]["ranking"][:3] == ["weather_helper_2", "hourly_forecast_2",
                                                DEFAULT_TOOL]
    assert all(len(r["tools"]) == 5 for r in train)


def _wrapped(tool):
    return {"type": "function", "function": tool}


def test_tools_in_the_openai_wrapper_are_read_as_the_flat_schema(tmp_path):
    """Pair files and record files may wrap tools as the OpenAI API does; what comes out is
    the DESIGN §2 (flat) form, identical to reading the flat file."""
    from gentool_jax.records import read_records, write_records

    flat = [_pair(i) for i in range(6)]
    wrapped = [_pair(i, strong_tool=_wrapped(p["strong_tool"]),
                     weak_tool=_wrapped(p["weak_tool"])) for i, p in enumerate(flat)]
    expected = import_file(_write(tmp_path / "flat.jsonl", flat), toolset_size=5, seed=0)
    got = import_file(_write(tmp_path / "wrapped.jsonl", wrapped), toolset_size=5, seed=0)
    assert got == expected
    records = expected["train"][:4]
    write_records(tmp_path / "records.jsonl", records)
    _write(tmp_path / "records_wrapped.jsonl",
           [{**r, "tools": [_wrapped(t) for t in r["tools"]]} for r in records])
    assert list(read_records(tmp_path / "records_wrapped.jsonl")) == records


@pytest.mark.parametrize("bad, reason", [
    ("{not json", "invalid JSON"),
    (_pair(9, distractors={"name": "x"}), "'distractors' must be a list"),
    (_pair(9, strong_arguments={"town": "x"}), "undefined parameter"),
    ({k: v for k, v in _pair(9).items() if k != "weak_tool"}, "missing field 'weak_tool'"),
    (_pair(9, better="weak"), "weak_usefulness"),
])
def test_importer_errors_name_file_and_line(tmp_path, bad, reason):
    path = _write(tmp_path / "bad.jsonl", [_pair(0), _pair(1), bad, _pair(3)])
    with pytest.raises(RecordError) as error:
        import_file(path, toolset_size=5, seed=0)
    assert error.value.line == 3 and error.value.path == str(path)
    assert str(error.value).startswith(f"{path}:3:") and reason in str(error.value)


def test_record_import_round_trips_and_rejects_bad_lines(tmp_path, splits):
    lines = [r for name in SPLITS for r in splits[name][:4]]
    imported = import_file(_write(tmp_path / "records.jsonl", lines), toolset_size=5, seed=0)
    assert imported["train"] == splits["train"][:4]
    broken = copy.deepcopy(lines[:3])
    broken[1]["ranking"] = broken[1]["ranking"][:-1]
    with pytest.raises(RecordError, match=r"records_bad.jsonl:2: field 'ranking'"):
        import_file(_write(tmp_path / "records_bad.jsonl", broken), toolset_size=5, seed=0)


def test_tfds_round_trip(tmp_path):
    import tensorflow_datasets as tfds

    from gentool_jax.simulate.tfds_builder import NAME, data_source

    out = _run(tmp_path, "tfds", num_pairs=12, queries_per_pair=2, test_queries_per_scenario=2,
               write_tfds=True)
    sources = data_source(out)
    for split in SPLITS:
        lines = (out / split_file(split)).read_text().splitlines()
        assert len(sources[split]) == len(lines)
        assert [json.loads(sources[split][i]["record"]) for i in range(len(lines))] == [
            json.loads(line) for line in lines]
    by_name = tfds.data_source(NAME, data_dir=str(out / "tfds"))
    assert by_name["train"][0]["id"].decode() == json.loads(
        (out / "train.jsonl").read_text().splitlines()[0])["id"]
