"""Held-out wording for validation (simulate/wording.py): the validation queries re-asked in the
unseen-query scenarios' wording, on the same toolsets, without changing any other split.

The decision probe reads this file to measure reading a new wording; these tests pin that it
really is held-out wording, grounded in its own text, and that turning it on costs nothing."""

import json
import re

import pytest

from configs import smoke
from gentool_jax.errors import GentoolError
from gentool_jax.records import dump_record, validate_record
from gentool_jax.simulate.queries import frame_ids
from gentool_jax.simulate.simulation import SPLITS, simulate, split_file
from gentool_jax.simulate.wording import FILE, SPLIT
from gentool_jax.simulate.world import HELD_OUT_ASK
from gentool_jax.simulate_command import _fingerprint, check_inputs, simulate_command


@pytest.fixture(scope="module")
def worlds():
    config = smoke.get_config()
    plain = simulate(config.simulate, config.seed)
    config.simulate.wording_validation = True
    return plain, simulate(config.simulate, config.seed)


def test_off_by_default_adds_nothing(worlds):
    plain, _ = worlds
    assert set(plain) == set(SPLITS)
    assert not smoke.get_config().simulate.wording_validation


def test_other_splits_are_unchanged(worlds):
    plain, worded = worlds
    for split in SPLITS:
        assert [dump_record(r) for r in worded[split]] == [dump_record(r) for r in plain[split]]


def test_one_derived_record_per_validation_record_same_toolset_and_gold(worlds):
    _, worded = worlds
    validation, derived = worded["validation"], worded[SPLIT]
    assert validation and len(derived) == len(validation)
    for source, record in zip(validation, derived):
        validate_record(record)
        assert record["id"] == source["id"] + "-wording"
        assert record["meta"]["wording_of"] == source["id"]
        assert record["query"] != source["query"]
        for field in ("tools", "variant", "scenario"):
            assert record[field] == source[field]
        assert record["call"]["name"] == source["call"]["name"]
        for key in ("pair_id", "capabilities", "strong_tool", "weak_tool", "better_tool"):
            assert record["meta"][key] == source["meta"][key]
    ids = [r["id"] for r in derived]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {r["id"] for split in SPLITS for r in worded[split]}


def test_every_query_is_held_out_wording(worlds):
    _, worded = worlds
    held_frames = set(frame_ids(held_out=True))
    for record in worded[SPLIT]:
        asks = record["meta"]["intent"].rsplit("#", 1)[1].split(".")
        assert asks and all(a == str(HELD_OUT_ASK) for a in asks), record["meta"]["intent"]
        assert record["meta"]["template_id"] in held_frames
    train = worded["train"]
    assert not {r["query"] for r in worded[SPLIT]} & {r["query"] for r in train}
    assert not {r["meta"]["intent"] for r in worded[SPLIT]} & {r["meta"]["intent"] for r in train}
    assert not {r["meta"]["template_id"] for r in train} & held_frames


def test_arguments_come_from_the_new_text(worlds):
    """Gold arguments are the new query's slot values: each string value appears in its text."""
    _, worded = worlds
    checked = 0
    for record in worded[SPLIT]:
        for arguments in record["meta"]["calls"].values():
            for value in arguments.values():
                if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d\d-\d\d", value):
                    checked += value.lower() in record["query"].lower()
        if record["call"]["arguments"]:
            assert record["call"]["arguments"] == record["meta"]["calls"][record["call"]["name"]]
    assert checked > 0


def test_deterministic(worlds):
    _, worded = worlds
    config = smoke.get_config()
    config.simulate.wording_validation = True
    again = simulate(config.simulate, config.seed)
    assert [dump_record(r) for r in again[SPLIT]] == [dump_record(r) for r in worded[SPLIT]]


def test_command_writes_the_file_and_keeps_the_rest(tmp_path):
    config = smoke.get_config()
    off, on = tmp_path / "off", tmp_path / "on"
    assert simulate_command(config, {"out": str(off)}) == 0
    plain_fingerprint = _fingerprint(config, "")
    assert json.loads((off / "manifest.json").read_text())["fingerprint"] == plain_fingerprint
    assert not (off / FILE).exists()
    config.simulate.wording_validation = True
    assert simulate_command(config, {"out": str(on)}) == 0
    manifest = json.loads((on / "manifest.json").read_text())
    assert FILE in manifest["files"] and manifest["fingerprint"] != plain_fingerprint
    for name in [split_file(s) for s in SPLITS] + ["stats.json"]:
        assert (on / name).read_bytes() == (off / name).read_bytes(), name
    assert (on / FILE).read_text().count("\n") == (off / "validation.jsonl").read_text().count("\n")


def test_fingerprint_leaves_the_default_out():
    config = smoke.get_config()
    plain = _fingerprint(config, "")
    del config.simulate["wording_validation"]  # a config from before the option existed
    assert _fingerprint(config, "") == plain


def test_refused_for_imports(tmp_path):
    config = smoke.get_config()
    config.simulate.wording_validation = True
    source = tmp_path / "records.jsonl"
    source.write_text("")
    with pytest.raises(GentoolError, match="wording_validation"):
        check_inputs(config, {"from": str(source)})
