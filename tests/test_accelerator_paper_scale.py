"""The paper-scale GPU run must work the first time on a one-shot slot, so its dry run (same
phases, same code paths, tiny model) and the model's transport in pieces are tested here."""

import json
import os
import subprocess
import sys
import tarfile

import pytest

from benchmarks import model_pieces
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "accelerator_paper_scale.py"
SCENARIOS = ("seen_query_seen_tool", "unseen_query_seen_tool", "seen_query_unseen_tool",
             "unseen_query_unseen_tool")


@pytest.fixture()
def pieces(tmp_path):
    source = tmp_path / "model.whl"
    source.write_bytes(os.urandom(5 * 2**19))  # 2.5 MiB: two whole pieces and a half one
    model_pieces.split(source, tmp_path / "pieces", piece_mib=1)
    return source, tmp_path / "pieces"


def test_split_then_join_gives_back_the_file(pieces, tmp_path):
    source, directory = pieces
    manifest = json.loads((directory / "model.whl.manifest.json").read_text())
    assert [p["name"] for p in manifest["pieces"]] == [f"model.whl.part0{i}" for i in range(3)]
    assert [p["size"] for p in manifest["pieces"]] == [2**20, 2**20, 2**19]
    dest = tmp_path / "cache" / "downloads" / "model.whl"
    assert model_pieces.main(["join", str(directory), "--dest", str(dest)]) == 0
    assert dest.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model.whl"]  # no temporary left


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_bad_piece_is_named_and_nothing_is_written(pieces, tmp_path, capsys, damage):
    _, directory = pieces
    piece = directory / "model.whl.part01"
    if damage == "corrupt":
        data = bytearray(piece.read_bytes())
        data[100] ^= 0xFF
        piece.write_bytes(bytes(data))
    else:
        piece.unlink()
    dest = tmp_path / "out" / "model.whl"
    assert model_pieces.main(["join", str(directory), "--dest", str(dest)]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert f"{damage} piece {piece}" in error
    assert not dest.exists()


def test_dry_run_completes_every_phase_with_its_figures(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}  # one CPU device
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--out", str(out), "--work", str(work),
         "--deadline", "420"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=600)
    phases = json.loads((out / "results.json").read_text())["phases"]
    statuses = {name: record["status"] for name, record in phases.items()}
    assert statuses == dict.fromkeys(["model", "simulate", "train_stage1", "train_stage2",
                                      "export", "evaluate", "evaluate_dev"], "ok"), result.stderr
    assert result.returncode == 0
    assert len(list(out.iterdir())) <= 8  # what a GPU call brings back
    for stage in ("train_stage1", "train_stage2"):
        figures = phases[stage]["result"]
        assert figures["steps_done"] == figures["steps"] > 0
        assert figures["samples_seen"] > 0 and figures["samples_per_s"] > 0
        assert figures["final_loss"] == figures["loss_last"]
        assert figures["probe_curve"] and "tool_needing" in figures["probe_curve"][-1]
        assert "bm25/tool_needing" in figures["probe_references"]
    evaluation = phases["evaluate"]["result"]
    for system in ("trained", "bm25"):
        assert set(evaluation[system]) == set(SCENARIOS)
        row = evaluation[system]["seen_query_seen_tool"]
        assert row["n"] > 0 and row["tsa"] is not None and row["tsa_tool_needing"] is not None
        assert row["abstain_all_tsa"] == pytest.approx(0.25)
        assert row["format"] is not None
    assert evaluation["info"]["trained"]["decoding"] == "constrained"
    assert phases["evaluate_dev"]["result"]["trained"]
    with tarfile.open(out / "adapter.tar.gz") as archive:
        assert "adapter/adapter_config.json" in archive.getnames()
    for name in ("stage1_metrics.jsonl", "stage2_metrics.jsonl", "eval_report.md",
                 "eval_dev_report.md", "summary.txt"):
        assert (out / name).is_file()


@pytest.mark.parametrize(("item", "message"), [
    ("bogus=3", "unknown phase 'bogus'"), ("train_stage2=soon", "'soon' is not a number")])
def test_a_bad_phase_timeout_is_named(item, message, capsys):
    from benchmarks import accelerator_paper_scale

    with pytest.raises(SystemExit) as stop:
        accelerator_paper_scale.main(["--timeout", item, "--out", "/nonexistent/never"])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_phase_timeouts_override_only_the_phases_named():
    import argparse

    from benchmarks import accelerator_paper_scale

    timeouts = accelerator_paper_scale.parse_timeouts(
        argparse.ArgumentParser(), ["train_stage2=290", "evaluate=150.5"])
    assert timeouts == {"train_stage2": 290.0, "evaluate": 150.5}
