"""`data.mix_in`: imported JSONL records added to every stage's training records.

Hand-made records (test_data_common) stand in for the simulation's train.jsonl and for an
import's; the last test trains one tiny step to check the printed summary, the checkpoint
metadata and a refused resume with another mix.
"""

from __future__ import annotations

import json

import pytest
from test_data_common import make_record, make_records
from test_train_resume import resume_config

from gentool_jax.data.shared_prefix import group_by_toolset
from gentool_jax.data.sources import load_records, load_training_records, select_variants
from gentool_jax.errors import CheckpointError, GentoolError, RecordError
from gentool_jax.records import write_records
from gentool_jax.train.checkpoint import check_compatible
from gentool_jax.train.command import data_inputs


def imported_record(i: int) -> dict:
    """Record `i` with its own toolset (every tool renamed), as an import's would have."""
    record = make_record(i)
    rename = {tool["name"]: f"imported_{tool['name']}" for tool in record["tools"]}
    record["id"] = f"imported-{i:04d}"
    record["tools"] = [{**tool, "name": rename[tool["name"]]} for tool in record["tools"]]
    record["ranking"] = [rename.get(name, name) for name in record["ranking"]]
    record["call"] = {**record["call"], "name": rename.get(record["call"]["name"],
                                                           record["call"]["name"])}
    return record


@pytest.fixture
def files(tmp_path):
    """(train.jsonl with 8 records, a.jsonl with 3 imported ones, b.jsonl with 2)."""
    main, a, b = tmp_path / "train.jsonl", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_records(main, make_records(8))
    write_records(a, [imported_record(i) for i in range(3)])
    write_records(b, [imported_record(i) for i in range(3, 5)])
    return main, a, b


def _ids(records) -> list[str]:
    return [record["id"] for record in records]


def test_mixed_records_follow_the_training_files_each_repeated_in_order(files):
    main, a, b = files
    training = load_training_records(main, mix_in=(str(a), b), repeat=2)
    expected = (_ids(make_records(8)) + ["imported-0000", "imported-0001", "imported-0002"] * 2
                + ["imported-0003", "imported-0004"] * 2)
    assert _ids(training.records) == expected
    assert training.main == 8 and training.mixed == ((a, 3), (b, 2))
    assert training.summary() == (f"train: 8 records from {main} + 6 mixed in from {a} (3 ×2)"
                                  f" + 4 mixed in from {b} (2 ×2) = 18 records")


def test_no_mix_in_gives_exactly_the_training_files_records(files):
    main, _, _ = files
    training = load_training_records(main)
    assert training.records == load_records(main) == make_records(8)
    assert training.mixed == () and training.main == 8


@pytest.mark.parametrize("index", [0, 1])
def test_a_missing_file_is_named_by_its_field(files, tmp_path, index):
    main, a, _ = files
    mix_in = [a, a]
    mix_in[index] = tmp_path / "runs" / "x" / "train.jsonl"
    with pytest.raises(GentoolError, match=rf"^data\.mix_in\[{index}\]: .*runs/x/train\.jsonl "
                                           "does not exist$"):
        load_training_records(main, mix_in=mix_in)


def test_a_malformed_line_names_its_file_and_line(files):
    main, a, _ = files
    lines = a.read_text().splitlines()
    broken = json.loads(lines[1])
    del broken["ranking"]
    a.write_text("\n".join([lines[0], json.dumps(broken), lines[2]]) + "\n")
    with pytest.raises(RecordError, match=rf"^{a}:2: .*ranking"):
        load_training_records(main, mix_in=(a,))


def test_tfds_source_is_refused_with_a_mix(files):
    main, a, _ = files
    with pytest.raises(GentoolError, match="JSONL files only.*data.source=jsonl"):
        load_training_records(main.parent / "tfds", source="tfds", mix_in=(a,))


@pytest.mark.parametrize("repeat", [0, -1, 1.5, True, "2"])
def test_a_repeat_that_is_not_a_positive_int_is_refused(files, repeat):
    main, a, _ = files
    with pytest.raises(GentoolError, match=r"data\.mix_in_repeat must be an int >= 1"):
        load_training_records(main, mix_in=(a,), repeat=repeat)


def test_a_single_string_is_refused_rather_than_read_as_characters(files):
    main, a, _ = files
    with pytest.raises(GentoolError, match="must be a tuple of JSONL paths"):
        load_training_records(main, mix_in=str(a))


def test_the_command_line_spellings_of_a_tuple(files):
    from gentool_jax.cli import parse

    _, a, b = files
    for spelling, expected in ((f"('{a}',)", (str(a),)), (str(a), (str(a),)),
                               (f"('{a}', '{b}')", (str(a), str(b)))):
        config, _ = parse("train", ["--config=configs/smoke.py",
                                    f"--config.data.mix_in={spelling}"])
        assert tuple(config.data.mix_in) == expected


def test_every_stage_takes_its_variants_and_mixed_records_keep_their_own_toolsets(files):
    main, a, _ = files
    records = load_training_records(main, mix_in=(a,)).records
    stage = select_variants(records, ("strong", "both"))
    assert _ids(stage) == [record["id"] for record in records
                           if record["variant"] in ("strong", "both")]
    assert any(record["id"].startswith("imported") for record in stage)
    for group in group_by_toolset(records):
        assert len({records[i]["id"].startswith("imported") for i in group}) == 1


def test_metadata_names_the_mix_only_when_there_is_one(files, tmp_path):
    main, a, b = files
    plain = data_inputs(load_training_records(main))
    assert list(plain) == ["train_data"] and plain["train_data"]["path"] == str(main)
    mixed = data_inputs(load_training_records(main, mix_in=(a, b), repeat=2))
    assert mixed["train_data"] == plain["train_data"]
    assert [entry["path"] for entry in mixed["mix_in"]["files"]] == [str(a), str(b)]
    assert mixed["mix_in"]["repeat"] == 2
    write_records(a, [imported_record(i) for i in range(4)])  # the import was redone
    changed = data_inputs(load_training_records(main, mix_in=(a, b), repeat=2))
    old, new = mixed["mix_in"]["files"], changed["mix_in"]["files"]
    assert old[0]["fingerprint"] != new[0]["fingerprint"] and old[1] == new[1]


def test_a_resume_needs_the_same_mix_but_not_the_same_paths(files, tmp_path):
    main, a, b = files
    base = {"base_model": {"name": "m", "fingerprint": "f"}}

    def metadata(mix_in=(), repeat=1):
        return {**base, **data_inputs(load_training_records(main, mix_in=mix_in,
                                                            repeat=repeat))}

    check_compatible(metadata(), metadata(), where=tmp_path)
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / a.name).write_bytes(a.read_bytes())
    check_compatible(metadata((a,)), metadata((moved / a.name,)), where=tmp_path)
    refused = [(metadata(), metadata((a,))), (metadata((a,)), metadata()),
               (metadata((a,)), metadata((a,), repeat=2)), (metadata((a,)), metadata((b,)))]
    for saved, now in refused:
        with pytest.raises(CheckpointError, match="other mixed-in records"):
            check_compatible(saved, now, where=tmp_path)


def test_pipeline_refuses_a_missing_mix_file_before_fetching_the_model(tmp_path, monkeypatch,
                                                                       capsys):
    from gentool_jax.cli import main
    from gentool_jax.model import registry

    monkeypatch.setattr(registry, "resolve_model", lambda *a, **k: pytest.fail("fetched"))
    workdir = tmp_path / "run"
    assert main(["pipeline", "--config=configs/smoke.py", f"--config.workdir={workdir}",
                 f"--config.data.mix_in=('{tmp_path / 'missing.jsonl'}',)"]) == 1
    error = capsys.readouterr().err.strip()
    assert "data.mix_in[0]: " in error and "missing.jsonl does not exist" in error, error
    assert not workdir.exists()


def _one_step_config(workdir, cache_dir, mix_in, repeat=1):
    """test_train_resume's stage-1 config, one step, checkpointed, with `mix_in`."""
    config = resume_config(workdir, cache_dir, steps=1)
    config.train.stage1.warmup_steps = 0
    config.train.checkpoint_every = 1
    config.train.probe.samples = 0
    config.data.mix_in = tuple(str(path) for path in mix_in)
    config.data.mix_in_repeat = repeat
    return config


def test_train_prints_the_mix_records_it_and_refuses_another(files, tmp_path, capsys):
    from gentool_jax.train.command import run_training

    main, a, _ = files
    workdir, cache = tmp_path / "run", tmp_path / "cache"
    missing = _one_step_config(workdir, cache, [a, tmp_path / "missing.jsonl"])
    with pytest.raises(GentoolError, match=r"data\.mix_in\[1\]"):
        run_training(missing, main)
    assert not workdir.exists()  # refused before anything was written
    summary = run_training(_one_step_config(workdir, cache, [a], repeat=2), main)["stage1"]
    assert f"train: 8 records from {main} + 6 mixed in from {a} (3 ×2) = 14 records" in (
        capsys.readouterr().out)
    assert summary["metadata"]["mix_in"]["repeat"] == 2
    assert [entry["path"] for entry in summary["metadata"]["mix_in"]["files"]] == [str(a)]
    with pytest.raises(CheckpointError, match="other mixed-in records"):
        run_training(_one_step_config(workdir, cache, [a], repeat=1), main)


def test_train_refuses_tfds_with_a_mix_before_looking_for_the_tfds_data(files, tmp_path):
    """The refusal says what to change, rather than asking for a TFDS directory to simulate."""
    from gentool_jax.train.command import run_training

    _, a, _ = files
    config = _one_step_config(tmp_path / "run", tmp_path / "cache", [a])
    config.data.source = "tfds"
    with pytest.raises(GentoolError, match="JSONL files only"):
        run_training(config)
    assert not (tmp_path / "run").exists()
