"""The smoke pipeline end to end through the CLI: report files, resume, config protection, and
SIGKILL at moments in every step, after which a rerun ends exactly as an uninterrupted run."""

import contextlib
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time

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


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _kill_after(workdir, marker: str, delay: float, deadline_s: float = 600) -> str:
    """Start the pipeline and SIGKILL it `delay` s after a line of its output (progress bars
    included: text mode reads their carriage returns as line ends) contains `marker`.

    The pipeline runs in its own process group, killed whole, and its output is read by a
    thread, so neither a hung pipeline nor a child it left behind can hang the test."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gentool_jax.cli", "pipeline", f"--config={SMOKE}",
         f"--config.workdir={workdir}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        cwd=REPO_ROOT, start_new_session=True,
        env={**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    seen, end = [], time.monotonic() + deadline_s
    try:
        while True:
            try:
                line = lines.get(timeout=max(end - time.monotonic(), 0.01))
            except queue.Empty:
                pytest.fail(f"no {marker!r} within {deadline_s:.0f} s:\n{''.join(seen)[-2000:]}")
            if line is None:
                process.wait(timeout=60)
                pytest.fail(f"the pipeline ended before printing {marker!r}:\n"
                            f"{''.join(seen)[-2000:]}")
            seen.append(line)
            if marker in line:
                break
        time.sleep(delay)
        finished = process.poll() is not None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert not finished, f"finished before the kill ({marker}+{delay}s)"
    return "".join(seen)


def _final_state(workdir):
    metrics = json.loads((workdir / "eval" / "metrics.json").read_text())["systems"]
    adapter = (workdir / "export" / "adapter" / "adapter_model.safetensors").read_bytes()
    losses = [json.loads(line)["loss"] for stage in ("stage1", "stage2")
              for line in (workdir / stage / "metrics.jsonl").read_text().splitlines()]
    return metrics, adapter, losses


# (output that announces the moment, seconds after it): simulation; stage 1 at step 2 of 4,
# while the smoke config's step-2 checkpoint is being saved; stage 2 mid-way; evaluation;
# export.
KILL_POINTS = [("] simulate", 0.3), ("stage1:  50%", 0.0), ("stage2:  75%", 0.0),
               ("] evaluate", 0.3), ("] export", 0.0)]


def _check_kill_and_rerun(smoke_run, tmp_path, marker, delay):
    reference, _ = smoke_run
    workdir = tmp_path / "killed"
    _kill_after(workdir, marker, delay)
    rerun = pipeline(workdir)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    ours, expected = _final_state(workdir), _final_state(reference)
    assert ours[2] == expected[2], "training losses differ from the uninterrupted run"
    assert ours[1] == expected[1], "exported adapter differs from the uninterrupted run"
    assert ours[0] == expected[0], "metrics differ from the uninterrupted run"


@pytest.mark.parametrize(("marker", "delay"), [KILL_POINTS[1], KILL_POINTS[3]])
def test_sigkill_mid_pipeline_then_rerun_equals_an_uninterrupted_run(smoke_run, tmp_path,
                                                                      marker, delay):
    _check_kill_and_rerun(smoke_run, tmp_path, marker, delay)


@pytest.mark.slow
@pytest.mark.parametrize(("marker", "delay"), KILL_POINTS + [
    (marker, random.Random(seed).uniform(0.0, 3.0))
    for seed, marker in enumerate(("] simulate", "] train", "stage2:  25%", "] evaluate"))])
def test_sigkill_at_every_step_then_rerun_equals_an_uninterrupted_run(smoke_run, tmp_path,
                                                                      marker, delay):
    _check_kill_and_rerun(smoke_run, tmp_path, marker, delay)


@pytest.mark.parametrize("bad", ["source", "model"])
def test_a_failed_start_does_not_lock_the_workdir(tmp_path, monkeypatch, capsys, bad):
    """A pipeline stopped by a bad path writes no config.json (which would refuse the corrected
    rerun as "changed: simulate.source"), fails in one line, and a bad source fails before
    the model is fetched."""
    from gentool_jax.cli import main
    from gentool_jax.model import registry

    workdir = tmp_path / "run"
    if bad == "source":
        override = f"--config.simulate.source={tmp_path / 'missing.jsonl'}"
        monkeypatch.setattr(registry, "resolve_model", lambda *a, **k: pytest.fail("fetched"))
    else:
        override = f"--config.model.name={tmp_path / 'no-model'}"
    assert main(["pipeline", f"--config={SMOKE}", f"--config.workdir={workdir}",
                 override]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("gentool-jax pipeline: error: ") and "\n" not in error, error
    assert ("missing.jsonl" if bad == "source" else "no-model") in error
    assert not (workdir / "config.json").exists()
