"""The accelerator check's dry run: every phase of benchmarks/accelerator_check.py on the CPU at
tiny shapes, so the script a rare GPU slot depends on cannot rot between GPU runs."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_dry_run_runs_every_phase(tmp_path):
    out = tmp_path / "check"
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "accelerator_check.py"), "--dry-run",
         "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    statuses = {name: phase["status"] for name, phase in results["phases"].items()}
    assert statuses == {name: "ok" for name in (
        "environment", "ceilings", "gpu_tests", "train_smollm2_135m", "train_llama32_1b",
        "hf_peft", "decode", "decode_hf", "smoke_pipeline")}, (
        statuses, (out / "phases.log").read_text()[-3000:])
    phases = results["phases"]
    assert phases["gpu_tests"]["result"]["counts"].get("passed", 0) > 0
    assert phases["train_smollm2_135m"]["result"]["runs"][0]["tokens_per_s"] > 0
    assert {run["batch"] for run in phases["decode"]["result"]["runs"]} == {1, 4}
    assert set(results["ratios"]) >= {"train_smollm2_135m_best", "decode_batch4"}
    assert sorted(p.name for p in out.iterdir()) == ["phases.log", "results.json",
                                                      "summary.txt"]
    assert "train_llama32_1b" in (out / "summary.txt").read_text()


def test_a_hung_phase_is_recorded_and_the_next_one_runs(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from phase_runner import PhaseRunner

    runner = PhaseRunner(tmp_path, deadline_s=60, title="t")
    hang = runner.run("hang", [sys.executable, "-c", "import time; time.sleep(60)"], 2)
    crash = runner.run("crash", [sys.executable, "-c", "raise SystemExit('boom')"], 20)
    fine = runner.run("fine", [sys.executable, "-c", (
        "import os, json; open(os.environ['GENTOOL_PHASE_RESULT'], 'w')"
        ".write(json.dumps({'summary': 'done', 'x': 1}))")], 20)
    assert (hang["status"], crash["status"], fine["status"]) == ("timeout", "failed", "ok")
    assert "boom" in crash["output_tail"]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["phases"]["fine"]["result"] == {"summary": "done", "x": 1}
    assert "done" in runner.finish()
