"""`gentool-jax train`: both LoRA stages in order, each resumed from its latest checkpoint."""

from __future__ import annotations

from pathlib import Path

import jax
from ml_collections import ConfigDict

from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.data.sources import TrainingRecords, check_mix_in, load_training_records
from gentool_jax.errors import GentoolError
from gentool_jax.model.settings import ModelSettings
from gentool_jax.run_config import record_config
from gentool_jax.train.checkpoint import (
    check_compatible,
    data_fingerprint,
    model_fingerprint,
    read_done,
)
from gentool_jax.train.views import StageConfig, TrainConfig


def configured_stages(config: ConfigDict, stages: list[str] | None = None) -> list[str]:
    """`stages` (default: all of config.train.stages), each checked to have its section."""
    configured = list(config.train.stages)
    for name in configured:
        if name not in config.train:
            raise GentoolError(f"config.train.stages lists {name!r}, but config.train has no "
                               f"such section")
    if stages is None:
        return configured
    unknown = [name for name in stages if name not in configured]
    if unknown:
        raise GentoolError(f"unknown stage(s) {unknown}; config.train.stages is {configured}")
    return stages


def default_data_path(config: ConfigDict) -> Path:
    base = section_view(RunSettings, config).workdir / "data"
    return base / "tfds" if config.data.source == "tfds" else base / "train.jsonl"


def data_inputs(training: TrainingRecords) -> dict:
    """The run's `inputs` entries that identify its training records: `train_data`, plus
    `mix_in` only when files are mixed in, so a run without them records exactly what runs
    recorded before mix_in existed (and resumes their checkpoints)."""
    inputs = {"train_data": {"path": str(training.path),
                             "fingerprint": data_fingerprint(training.path)}}
    if training.mixed:
        inputs["mix_in"] = {"files": [{"path": str(path), "fingerprint": data_fingerprint(path)}
                                      for path, _ in training.mixed],
                            "repeat": training.repeat}
    return inputs


def run_training(config: ConfigDict, data_path: str | Path | None = None,
                 stages: list[str] | None = None, recover: bool = False) -> dict:
    """Train the given stages (default: all configured) and return {stage: summary}.

    A stage already marked done is skipped, so calling this again after a crash (or after the
    pipeline restarts) only does the missing work. `recover` lets a resume change the learning
    rate, warmup and clip norm (after a divergence; `checkpoint.RECOVERY_KEYS`).
    """
    from gentool_jax.model.registry import load_tokenizer, resolve_model
    from gentool_jax.parallel import distributed
    from gentool_jax.parallel.mesh import make_mesh
    from gentool_jax.train.loop import run_stage, stage_metadata
    from gentool_jax.train.setup import build_stage, stage_init

    # Before anything touches a device: joining the other processes must come first.
    if not jax.distributed.is_initialized():
        distributed.initialize(config.distributed)
    names = configured_stages(config, stages)
    train = section_view(TrainConfig, config.train)
    run = section_view(RunSettings, config)
    model = section_view(ModelSettings, config.model)
    workdir = run.workdir
    # Inputs are checked before anything is written, so a failed start leaves the workdir as
    # it was (its config.json included).
    records_path = Path(data_path) if data_path else default_data_path(config)
    # The mix settings first: with data.source=tfds the refusal says what to change, where a
    # missing TFDS directory would send the user to simulate one that could not be mixed.
    check_mix_in(config.data.mix_in, config.data.mix_in_repeat, config.data.source)
    if not records_path.exists():
        raise GentoolError(f"training data {records_path} does not exist; run `gentool-jax "
                           "simulate` first or pass --data=PATH")
    # Read (and so validated) once, before the model loads: a malformed line fails in seconds,
    # and every stage takes its variants from these records (data.mix_in files included).
    training = load_training_records(records_path, source=config.data.source,
                                     mix_in=config.data.mix_in,
                                     repeat=config.data.mix_in_repeat)
    if training.mixed and jax.process_index() == 0:
        print(training.summary(), flush=True)
    mesh = make_mesh(config.mesh)
    model_dir = resolve_model(model)
    tokenizer = load_tokenizer(model_dir)
    inputs = {
        "base_model": {"name": model.name,
                       "fingerprint": model_fingerprint(model_dir)},
        **data_inputs(training),
    }
    if jax.process_index() == 0:
        record_config(config, workdir)
    summaries = {}
    for stage in names:
        done = read_done(workdir / stage)
        if done is not None and done.get("step") == section_view(StageConfig,
                                                                 config.train[stage]).steps:
            # A finished stage is skipped only if it is the stage this config would train.
            current = stage_metadata(config, stage, inputs, stage_init(config, stage, workdir))
            check_compatible(done.get("metadata", {}), current, where=workdir / stage)
            summaries[stage] = {**done, "skipped": True}
            continue
        seed = run.seed + 1000 * (train.stages.index(stage) + 1)
        state = build_stage(config, stage, model_dir, workdir, mesh, seed=seed)
        summaries[stage] = run_stage(config, stage, state, records=training.records,
                                     tokenizer=tokenizer, workdir=workdir, mesh=mesh,
                                     inputs=inputs, seed=seed, recover=recover)
        del state
    if jax.process_index() == 0:
        for stage, summary in summaries.items():
            note = " (already done)" if summary.get("skipped") else ""
            print(f"{stage}{note}: {summary['step']} steps, final loss "
                  f"{summary['final_loss']:.4f}; {summary['dropped_samples']} of "
                  f"{summary['dropped_samples'] + summary['samples']} samples dropped as longer "
                  f"than data.max_len={config.data.max_len}")
    return summaries


def train_command(config: ConfigDict, options: dict[str, str]) -> int:
    """`gentool-jax train [--stage=all|NAME] [--data=PATH] [--recover]`."""
    stage = options.get("stage") or "all"  # "all" or a name in config.train.stages
    run_training(config, data_path=options.get("data") or None,
                 stages=None if stage == "all" else [stage], recover=bool(options.get("recover")))
    return 0
