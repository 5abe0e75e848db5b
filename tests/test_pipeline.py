"""The smoke pipeline end to end through the CLI: report files, resume, config protection."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

SMOKE = str(REPO_ROOT / "configs" / "smoke.py")


def pipeline(workdir, *overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gentool_jax.cli", "pipeline", f"--config={SMOKE}",
         f"--config.workdir={workdir}", *overrides],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=900,
        # Two CPU devices: the data-parallel path runs without multiplying the CPU work.
        env={**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
    )


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke")
    first = pipeline(workdir)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    return workdir, first


def test_pipeline_writes_every_result(smoke_run):
    workdir, first = smoke_run
    summary = first.stdout[first.stdout.index("tool-selection accuracy"):]
    assert all(system in summary for system in ("bm25", "base_model", "trained"))
    resolved = json.loads((workdir / "config.json").read_text())
    assert resolved["model"]["name"] == "tiny-random"
    for name in ("metrics.json", "report.md", "generations.jsonl"):
        assert (workdir / "eval" / name).is_file()
    assert sorted(p.name for p in (workdir / "eval").glob("*.png")) == sorted(
        f"{scenario}.png" for scenario in resolved["evaluate"]["splits"])
    metrics = json.loads((workdir / "eval" / "metrics.json").read_text())
    assert set(metrics["systems"]) == {"bm25", "base_model", "trained"}
    for stage in ("stage1", "stage2"):
        assert (workdir / stage / "DONE.json").is_file()


def test_rerun_resumes_instead_of_starting_over(smoke_run):
    workdir, _ = smoke_run
    stamp = (workdir / "stage1" / "DONE.json").stat().st_mtime_ns
    again = pipeline(workdir)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "skipping" in again.stdout.lower()
    assert (workdir / "stage1" / "DONE.json").stat().st_mtime_ns == stamp


def test_changed_config_on_same_workdir_is_refused(smoke_run):
    workdir, _ = smoke_run
    before = (workdir / "config.json").read_text()
    changed = pipeline(workdir, "--config.train.stage1.lr=0.5")
    assert changed.returncode != 0
    assert "train.stage1.lr" in changed.stderr
    assert (workdir / "config.json").read_text() == before
