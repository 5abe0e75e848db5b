"""Checkpointing: exact resume after SIGKILL, cut-off saves, refused resumes, divergence stop."""

import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file
from test_data_common import make_records

from configs import smoke
from gentool_jax.errors import CheckpointError, GentoolError, TrainingDivergedError
from gentool_jax.records import write_records
from gentool_jax.train.checkpoint import StageCheckpoints
from gentool_jax.train.command import run_training
from gentool_jax.train.metrics import read_metrics

STEPS = 8


def resume_config(workdir, cache_dir, steps=STEPS):
    """stage 1 only, a checkpoint every 2 steps, a loss logged every step; 8 CPU devices."""
    config = smoke.get_config()
    config.workdir = str(workdir)
    config.model.cache_dir = str(cache_dir)
    config.data.max_len = 640  # the tiny tokenizer needs ~600 tokens for these records
    config.mesh.data, config.mesh.fsdp, config.mesh.tensor = 4, 1, 2
    config.train.stages = ("stage1",)
    config.train.stage1.steps = steps
    config.train.stage1.warmup_steps = 2
    config.train.checkpoint_every = 2
    config.train.keep_checkpoints = 2
    config.train.log_every = 1
    return config


_DRIVER = """
import sys
sys.path.insert(0, {tests!r})
from test_train_resume import resume_config
from gentool_jax.train.command import run_training
run_training(resume_config({workdir!r}, {cache!r}), {data!r})
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    data = root / "train.jsonl"
    write_records(data, make_records(24))
    reference = root / "reference"
    run_training(resume_config(reference, root / "cache"), data)
    return root, data, reference


def _losses(workdir):
    return [(row["step"], row["loss"]) for row in read_metrics(Path(workdir) / "stage1")]


def test_sigkill_at_a_random_step_resumes_with_identical_losses(setup):
    root, data, reference = setup
    workdir = root / "killed"
    script = root / "driver.py"
    script.write_text(_DRIVER.format(tests=str(Path(__file__).parent), workdir=str(workdir),
                                     cache=str(root / "cache"), data=str(data)))
    kill_after = random.randint(3, STEPS - 2)
    log = root / "driver.log"  # a file, not a pipe: an unread pipe that fills stalls the driver
    with log.open("w") as log_file:
        process = subprocess.Popen([sys.executable, str(script)], env=dict(os.environ),
                                   stdin=subprocess.DEVNULL, stdout=log_file,
                                   stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    checkpoints = workdir / "stage1" / "checkpoints"
    while time.time() < deadline and process.poll() is None:
        steps = [step for step, _ in _losses(workdir)] if (workdir / "stage1").exists() else []
        # Orbax renames a step directory to its bare number only once the save is complete;
        # killing before any is complete would test a fresh start, not a resume.
        saved = checkpoints.is_dir() and any(p.name.isdigit() for p in checkpoints.iterdir())
        if steps and steps[-1] >= kill_after and saved:
            break
        time.sleep(0.05)
    running = process.poll() is None
    process.kill()
    process.wait(timeout=60)
    assert running, f"finished before the kill: {log.read_text()[-2000:]}"
    assert not (workdir / "stage1" / "DONE.json").exists()

    # Resuming onto another base model is refused while the stage is in progress.
    other = _perturbed_model(root)
    config = resume_config(workdir, root / "cache")
    config.model.name = str(other)
    with pytest.raises(CheckpointError, match="base model"):
        run_training(config, data)

    summary = run_training(resume_config(workdir, root / "cache"), data)["stage1"]
    assert summary["step"] == STEPS
    assert _losses(workdir) == _losses(reference), f"killed after step {kill_after}"


def _perturbed_model(root):
    """A copy of the tiny model with one weight changed: same shapes, another model."""
    source = next(p for p in (root / "cache" / "models").iterdir() if not p.name.startswith("."))
    target = root / "other-model"
    if not target.exists():
        shutil.copytree(source, target)
        (target / ".gentool_complete.json").unlink(missing_ok=True)
        tensors = load_file(target / "model.safetensors")
        name = sorted(tensors)[0]
        tensors[name] = tensors[name] + 1e-3
        save_file(tensors, target / "model.safetensors", metadata={"format": "pt"})
    return target


def test_finished_stage_is_skipped_but_not_onto_another_model_or_lora(setup):
    root, data, reference = setup
    summary = run_training(resume_config(reference, root / "cache"), data)["stage1"]
    assert summary["skipped"]
    config = resume_config(reference, root / "cache")
    config.model.name = str(_perturbed_model(root))
    with pytest.raises(CheckpointError, match="base model"):
        run_training(config, data)
    config = resume_config(reference, root / "cache")
    config.model.lora.rank = 8
    with pytest.raises(CheckpointError, match="'lora'"):
        run_training(config, data)


def test_checkpoint_cut_off_mid_save_falls_back_to_the_previous_one(setup, capsys):
    root, data, reference = setup
    workdir = root / "cut"
    shutil.copytree(reference, workdir)
    checkpoints = workdir / "stage1" / "checkpoints"
    # What a crash during the step-8 save leaves behind: Orbax's unrenamed temporary dir,
    # missing files, and no DONE marker.
    partial = checkpoints / f"{STEPS}.orbax-checkpoint-tmp-1700000000000000"
    (checkpoints / str(STEPS)).rename(partial)
    shutil.rmtree(partial / "opt_state")
    (workdir / "stage1" / "DONE.json").unlink()
    manager = StageCheckpoints(checkpoints, keep=2, async_save=False)
    assert manager.latest_step() == STEPS - 2
    manager.close()
    run_training(resume_config(workdir, root / "cache"), data)
    assert f"stage1: resuming at step {STEPS - 2} of {STEPS}" in capsys.readouterr().out
    assert _losses(workdir) == _losses(reference)
    assert json.loads((workdir / "stage1" / "DONE.json").read_text())["step"] == STEPS


def _poison_loss(monkeypatch, at_step: int, value: float) -> None:
    """Make the train step report `value` as its loss at `at_step` (0-based), as a divergence."""
    from gentool_jax.train import setup as setup_module

    real = setup_module.make_train_step

    def poisoned(*args, **kwargs):
        step_fn = real(*args, **kwargs)

        def train_step(lora, opt_state, frozen, batch, step):
            lora, opt_state, metrics = step_fn(lora, opt_state, frozen, batch, step)
            metrics["loss"] = jnp.where(step == at_step, value, 1.0) * metrics["loss"]
            return lora, opt_state, metrics

        return train_step

    monkeypatch.setattr(setup_module, "make_train_step", poisoned)


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(setup, monkeypatch):
    root, data, _ = setup
    _poison_loss(monkeypatch, 4, jnp.nan)
    workdir = root / "nan"
    with pytest.raises(TrainingDivergedError,
                       match=r"step 5.*last good checkpoint is step 4.*lr.*--recover"):
        run_training(resume_config(workdir, root / "cache"), data)
    manager = StageCheckpoints(workdir / "stage1" / "checkpoints", keep=2, async_save=False)
    assert manager.latest_step() == 4
    manager.close()
    assert not (workdir / "stage1" / "DONE.json").exists()

    # The advice works: a lower learning rate is refused without --recover, resumed with it.
    monkeypatch.undo()
    config = resume_config(workdir, root / "cache")
    config.train.stage1.lr = config.train.stage1.lr / 10
    with pytest.raises(CheckpointError, match="add --recover"):
        run_training(config, data)
    summary = run_training(config, data, recover=True)["stage1"]
    assert summary["step"] == STEPS
    manager = StageCheckpoints(workdir / "stage1" / "checkpoints", keep=2, async_save=False)
    assert manager.metadata(STEPS)["stage"]["lr"] == config.train.stage1.lr
    # ... and the recovery itself is recorded: where it resumed, which setting changed how.
    old_lr = resume_config(workdir, root / "cache").train.stage1.lr
    assert manager.metadata(STEPS)["recoveries"] == [
        {"step": 4, "stage.lr": [old_lr, config.train.stage1.lr]}]
    manager.close()
    assert summary["metadata"]["recoveries"][0]["step"] == 4  # DONE.json says so too
    config.model.lora.rank = 8  # --recover allows only lr, warmup and clip norm to change
    shutil.rmtree(workdir / "stage1" / "checkpoints" / str(STEPS))
    (workdir / "stage1" / "DONE.json").unlink()
    with pytest.raises(CheckpointError, match="'lora'"):
        run_training(config, data, recover=True)


def test_a_divergence_before_the_first_checkpoint_gives_advice_that_works(setup, monkeypatch):
    """No checkpoint to resume: the advice is `train` with the changed setting, after which
    the pipeline accepts the workdir under the same overrides (its config.json follows)."""
    from gentool_jax.run_config import check_same_config

    root, data, _ = setup
    _poison_loss(monkeypatch, 0, jnp.inf)
    workdir = root / "inf-at-start"
    with pytest.raises(TrainingDivergedError, match=r"step 1.*no checkpoint was saved yet.*"
                                                    r"lr.*rerun `gentool-jax train`.*pipeline"):
        run_training(resume_config(workdir, root / "cache", steps=2), data)
    monkeypatch.undo()
    config = resume_config(workdir, root / "cache", steps=2)
    config.train.stage1.lr /= 10
    with pytest.raises(GentoolError, match="train.stage1.lr"):  # what a bare rerun would hit
        check_same_config(config, workdir)
    assert run_training(config, data)["stage1"]["step"] == 2
    check_same_config(config, workdir)


def test_other_training_records_are_neither_resumed_nor_skipped(setup):
    root, data, reference = setup
    other = root / "other.jsonl"
    lines = data.read_text().splitlines()
    record = json.loads(lines[0])
    record["query"] = record["query"] + " please"
    other.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    with pytest.raises(CheckpointError, match="other records"):
        run_training(resume_config(reference, root / "cache"), other)
    workdir = root / "other-data"
    shutil.copytree(reference, workdir)
    shutil.rmtree(workdir / "stage1" / "checkpoints" / str(STEPS))
    (workdir / "stage1" / "DONE.json").unlink()
    with pytest.raises(CheckpointError, match="other records"):
        run_training(resume_config(workdir, root / "cache"), other)


def test_a_failed_start_leaves_the_workdir_as_it_was(setup, tmp_path):
    root, _, _ = setup
    workdir = tmp_path / "run"
    workdir.mkdir()
    (workdir / "config.json").write_text('{"kept": true}\n')
    with pytest.raises(GentoolError, match="does not exist"):
        run_training(resume_config(workdir, root / "cache"), tmp_path / "missing.jsonl")
    assert (workdir / "config.json").read_text() == '{"kept": true}\n'
    assert sorted(p.name for p in workdir.iterdir()) == ["config.json"]


def test_export_of_a_trained_workdir_names_its_base_and_computes_its_logits(setup, tmp_path):
    from gentool_jax.model.loading import load_model
    from gentool_jax.train.export import export_trained
    from gentool_jax.train.trained_model import load_trained_model

    root, _, reference = setup
    config = resume_config(reference, root / "cache")
    out = export_trained(config, "", str(tmp_path / "export"))
    adapter_config = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == "tiny-random"
    assert not (tmp_path / "export.partial").exists()
    trained, _, _ = load_trained_model(config)
    merged = load_model(out / "merged")
    tokens = jnp.asarray([[3, 17, 99, 5, 250, 41, 7, 300]], jnp.int32)
    positions = jnp.arange(tokens.shape[1])[None]
    np.testing.assert_allclose(np.asarray(merged(tokens, positions)[0]),
                               np.asarray(trained(tokens, positions)[0]), atol=1e-4)
    # A second export replaces the first whole.
    (out / "adapter" / "stale.txt").write_text("from the first export")
    export_trained(config, "", str(out))
    assert not (out / "adapter" / "stale.txt").exists()


def test_a_three_stage_merge_chain_trains_every_stage_on_all_earlier_ones(setup, tmp_path):
    """Training, export and evaluation rebuild one chain: stage 3 of a merge chain trains on
    the base with stages 1 *and* 2 merged in, the model export rebuilds."""
    from flax import nnx

    from gentool_jax.model.lora import split_lora
    from gentool_jax.model.registry import resolve_model
    from gentool_jax.parallel.mesh import make_mesh
    from gentool_jax.train.setup import build_stage
    from gentool_jax.train.trained_model import load_trained_model

    root, data, _ = setup
    workdir = tmp_path / "chain"
    config = resume_config(workdir, root / "cache", steps=2)
    config.train.stages = ("stage1", "stage2", "stage3")
    config.train.stage2 = config.train.stage1.copy_and_resolve_references()
    config.train.stage3 = config.train.stage1.copy_and_resolve_references()
    config.train.stage2_init = "merge"
    run_training(config, data, stages=["stage1", "stage2"])
    state = build_stage(config, "stage3", resolve_model(config.model), workdir,
                        make_mesh(config.mesh), seed=0)
    assert state.init == {"mode": "merge", "from": "stage2", "step": 2}
    run_training(config, data, stages=["stage3"])
    model, merged, _ = load_trained_model(config)
    assert len(merged) == 2
    _, _, exported_frozen = split_lora(model)
    trained_frozen = dict(nnx.to_flat_state(state.frozen))
    for path, value in nnx.to_flat_state(exported_frozen):
        np.testing.assert_allclose(np.asarray(trained_frozen[path][...]), np.asarray(value[...]),
                                   atol=1e-6, err_msg=".".join(map(str, path)))


def test_evaluation_refuses_test_splits_simulated_after_the_checkpoint(setup, tmp_path,
                                                                       monkeypatch):
    """Issue 16: after a re-simulation into the workdir, its new test splits may overlap what
    a checkpoint trained on; scoring them is refused (before any sampling), naming the file."""
    from gentool_jax.evaluate import command

    root, data, _ = setup
    workdir = tmp_path / "run"
    (workdir / "data").mkdir(parents=True)
    shutil.copy(data, workdir / "data" / "train.jsonl")
    config = resume_config(workdir, root / "cache", steps=2)
    run_training(config)  # on <workdir>/data/train.jsonl, the simulation's own training file
    monkeypatch.setattr(command, "_run_systems", lambda *a: pytest.fail("sampled first"))
    options = {"checkpoint": str(workdir / "stage1"), "data": "", "out": str(tmp_path / "eval")}
    # Same data: the check passes and evaluation goes on to the (here absent) test splits.
    with pytest.raises(GentoolError, match="run `gentool-jax simulate` first"):
        command.evaluate_command(config, options)
    lines = data.read_text().splitlines()
    record = json.loads(lines[0])
    record["query"] += " (re-simulated)"
    (workdir / "data" / "train.jsonl").write_text(
        "\n".join([json.dumps(record), *lines[1:]]) + "\n")
    for checkpoint in ("stage1", "stage1/checkpoints/2"):  # a stage, or one of its steps
        with pytest.raises(GentoolError, match=r"train\.jsonl.*re-simulated.*overlap"):
            command.evaluate_command(config, {**options, "checkpoint": str(workdir / checkpoint)})
    # A file given on purpose is scored whatever the checkpoint trained on.
    with pytest.raises(GentoolError, match="holds no records"):
        command.evaluate_command(config, {**options, "data": str(_empty(tmp_path))})


def _empty(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    return path
