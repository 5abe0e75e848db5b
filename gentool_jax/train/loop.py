"""One training stage from its latest checkpoint (or the start) to its last step."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
from ml_collections import ConfigDict
from tqdm import tqdm

from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.data.input_pipeline import (
    DataConfig,
    checkpoint_restore_args,
    checkpoint_save_args,
    make_train_iterator,
    to_global_batch,
)
from gentool_jax.errors import TrainingDivergedError
from gentool_jax.model.settings import ModelSettings
from gentool_jax.records import read_records
from gentool_jax.train.checkpoint import (
    RECOVERY_KEYS,
    StageCheckpoints,
    check_compatible,
    write_done,
)
from gentool_jax.train.decision_probe import StageProbe, build_probe, choose_records
from gentool_jax.train.metrics import MetricsWriter, model_flops_utilization, read_metrics
from gentool_jax.train.setup import StageState
from gentool_jax.train.views import StageConfig, TrainConfig


def stage_metadata(config: ConfigDict, stage: str, inputs: dict, init: dict) -> dict:
    """What a checkpoint records so a resume can prove it continues the same run; `inputs`
    identifies the base model and the training records (`base_model`, `train_data`, and
    `mix_in` when data.mix_in files are mixed in: `command.data_inputs`). The
    values are the raw config's, not a view's (the seed's view is the same `int`): a resume
    compares them with what earlier runs saved."""
    stage_config = config.train[stage]
    train = config.train
    return {
        **inputs,
        "lora": {key: config.model.lora[key] for key in ("rank", "alpha", "dropout", "targets",
                                                          "param_dtype")},
        "data": {key: config.data[key] for key in ("tool_style", "max_len", "shuffle_tools",
                                                    "pack", "share_prefix", "source",
                                                    "decision_weight", "ranking_target")},
        "stage": {key: (list(stage_config[key]) if key == "variants" else stage_config[key])
                  for key in ("batch_size", "grad_accum", "lr", "warmup_steps",
                              "include_ranking", "include_call", "variants")},
        "optimizer": {key: train[key] for key in ("schedule", "weight_decay", "clip_norm", "b1",
                                                  "b2")},
        "seed": section_view(RunSettings, config).seed,
        "stage2_init": init,
        "stage_name": stage,
    }


def _recoveries(saved: dict, current: dict, step: int) -> list[dict]:
    """The saved metadata's record of `--recover` resumes, plus this one if it changes a
    RECOVERY_KEYS setting: {"step": where it resumed, "<section>.<key>": [old, new], ...}, so
    a checkpoint (and the stage's DONE.json) says which steps ran with which learning rate."""
    history = list(saved.get("recoveries", []))
    changed = {f"{section}.{key}": [saved.get(section, {}).get(key), current[section][key]]
               for section, keys in RECOVERY_KEYS.items() for key in keys
               if saved.get(section, {}).get(key) != current[section][key]}
    return [*history, {"step": step, **changed}] if changed else history


def _check_finite(loss: float, step: int, metrics: dict, stage_dir: Path,
                  last_saved: int | None) -> None:
    if math.isfinite(loss) and bool(metrics["finite"]):
        return
    stage = stage_dir.name
    change = (f"lower --config.train.{stage}.lr, raise --config.train.{stage}.warmup_steps or "
              "set --config.train.clip_norm")
    if last_saved is not None:
        advice = (f"the last good checkpoint is step {last_saved} in "
                  f"{stage_dir / 'checkpoints'}. To resume from it, {change} and rerun "
                  "`gentool-jax train` with those overrides and --recover (then "
                  "`gentool-jax pipeline` with the same overrides goes on from there)")
    else:
        advice = (f"no checkpoint was saved yet. {change[0].upper()}{change[1:]} and rerun "
                  "`gentool-jax train` with those overrides (then `gentool-jax pipeline` with "
                  "the same overrides goes on from there)")
    raise TrainingDivergedError(
        f"training diverged at step {step}: loss {loss} "
        f"(grad_norm {float(metrics['grad_norm']):.4g}, "
        f"{int(metrics['target_tokens'])} target tokens); {advice}.")


def probe_path(data: str, workdir: Path) -> Path:
    """The probe's JSONL: validation by default; a bare file name is one of the run's data
    files (so a config can name `validation_wording.jsonl` whatever its workdir), else a path."""
    if not data:
        return workdir / "data" / "validation.jsonl"
    return workdir / "data" / data if Path(data).name == data else Path(data)


def stage_probe(config: ConfigDict, stage_config: StageConfig, tokenizer: Any, workdir: Path,
                graphdef: Any) -> StageProbe | None:
    """The stage's decision probe (`config.train.probe`), or None when it is off, when there is
    no validation file, or in a multi-process run (its rows are not laid out per process)."""
    settings = config.train.probe
    if int(settings.samples) <= 0 or jax.process_count() > 1:
        return None
    path = probe_path(str(settings.data), workdir)
    if not path.is_file():
        print(f"probe: {path} not found; training without the decision probe", flush=True)
        return None
    # The run's seed, not the stage's: every stage is probed on the same samples.
    records = choose_records(list(read_records(path)), int(settings.samples),
                             section_view(RunSettings, config).seed)
    probe = build_probe(records, tokenizer, style=config.data.tool_style,
                        max_len=int(config.data.max_len),
                        include_ranking=stage_config.include_ranking,
                        include_call=stage_config.include_call)
    return StageProbe(probe, graphdef, int(settings.every))


def run_stage(config: ConfigDict, stage: str, state: StageState, *, records: Sequence[dict],
              tokenizer: Any, workdir: Path, mesh: Any, inputs: dict, seed: int,
              recover: bool = False) -> dict:
    """Train `stage` to its configured step count; returns its summary (also written as DONE).
    `records` are the training records of every variant, data.mix_in files included
    (`sources.load_training_records`)."""
    stage_config = section_view(StageConfig, config.train[stage])
    train = section_view(TrainConfig, config.train)
    data = section_view(DataConfig, config.data)
    compute_dtype = section_view(ModelSettings, config.model).dtype
    stage_dir = workdir / stage
    total_steps = stage_config.steps
    iterator = make_train_iterator(records, tokenizer, data_config=data,
                                   stage_config=stage_config, seed=seed)
    checkpoints = StageCheckpoints(stage_dir / "checkpoints", keep=train.keep_checkpoints)
    metadata = stage_metadata(config, stage, inputs, state.init)
    start = checkpoints.latest_step() or 0
    if start:
        saved = checkpoints.metadata(start)
        check_compatible(saved, metadata, where=stage_dir / "checkpoints", recover=recover)
        recoveries = _recoveries(saved, metadata, start)
        if recoveries:  # absent in a run never recovered, so its metadata is the same
            metadata["recoveries"] = recoveries
        state.lora, state.opt_state = checkpoints.restore(
            start, lora=state.lora, opt_state=state.opt_state,
            data=checkpoint_restore_args(iterator))
    if jax.process_index() == 0:  # say what a rerun redoes, and from where
        print(f"{stage}: resuming at step {start} of {total_steps} from "
              f"{stage_dir / 'checkpoints' / str(start)} (same base model, records and "
              "config)" if start else f"{stage}: training from step 0 (no checkpoint yet)",
              flush=True)
    writer = MetricsWriter(stage_dir, resume_step=start)
    probe = stage_probe(config, stage_config, tokenizer, workdir, state.graphdef)
    if probe is not None and start == 0 and stage == config.train.stages[0]:
        # Where the curve starts: the base model, before any update.
        writer.write(0, {"samples_seen": 0, **probe.measure(state.lora, state.frozen)})
    tokens_per_step = stage_config.batch_size * data.max_len
    bar = tqdm(total=total_steps, initial=start, desc=stage, dynamic_ncols=True,
               disable=jax.process_index() != 0)
    last_saved = start or None
    window_seconds, window_steps, loss = 0.0, 0, float("nan")
    try:
        for step in range(start, total_steps):
            started = time.perf_counter()
            batch = to_global_batch(next(iterator), mesh, state.batch_sharding)
            state.lora, state.opt_state, metrics = state.step_fn(
                state.lora, state.opt_state, state.frozen, batch, jnp.asarray(step, jnp.int32))
            loss = float(metrics["loss"])  # waits for the step: the timing below is real
            window_seconds += time.perf_counter() - started
            window_steps += 1
            _check_finite(loss, step + 1, metrics, stage_dir, last_saved)
            done = step + 1
            probing = probe is not None and probe.due(done, total_steps)
            if done % train.log_every == 0 or done == total_steps or probing:
                tokens_per_second = tokens_per_step * window_steps / window_seconds
                mfu = model_flops_utilization(tokens_per_second, state.base_params,
                                              compute_dtype)
                probed = probe.measure(state.lora, state.frozen) if probing else {}
                writer.write(done, {"loss": loss, "grad_norm": float(metrics["grad_norm"]),
                                    "target_tokens": int(metrics["target_tokens"]),
                                    "tokens_per_second": tokens_per_second, "mfu": mfu,
                                    "dropped_samples": int(iterator.dropped),
                                    "samples_seen": int(iterator.samples), **probed})
                bar.set_postfix(loss=f"{loss:.4f}", tok_s=f"{tokens_per_second:.0f}",
                                mfu="n/a" if mfu is None else f"{mfu:.1%}")
                window_seconds, window_steps = 0.0, 0
            bar.update(1)
            if done % train.checkpoint_every == 0 or done == total_steps:
                checkpoints.save(done, lora=state.lora, opt_state=state.opt_state,
                                 data=checkpoint_save_args(iterator), metadata=metadata)
                last_saved = done
    finally:
        bar.close()
        writer.close()
        checkpoints.close()
    if start >= total_steps:  # crashed after the final save, before the DONE marker
        logged = read_metrics(stage_dir)
        loss = logged[-1]["loss"] if logged else loss
    summary = {"stage": stage, "step": total_steps, "final_loss": loss,
               "dropped_samples": int(iterator.dropped), "samples": int(iterator.samples),
               "trainable_params": state.trainable_params, "base_params": state.base_params,
               "init": state.init, "metadata": metadata}
    if jax.process_index() == 0:
        write_done(stage_dir, summary)
    return summary

