"""The stage chain: what a stage's adapters start from, rebuilt the same way for every caller.

A stage's checkpoint holds only its own adapters, so training a later stage, exporting and
evaluating all rebuild the model from the base weights and the earlier stages' checkpoints.
The rule, for any number of stages (`train.stage2_init` names it for the first hand-over, and
it applies to every one after):

- the first stage starts from fresh adapters;
- `continue`: a later stage starts from the previous stage's final adapters (which already
  carry everything before it) and trains them further;
- `merge`: a later stage starts from the base with every earlier stage's final adapters merged
  in, in order, and trains fresh adapters on top.
"""

from __future__ import annotations

from pathlib import Path

from flax import nnx
from ml_collections import ConfigDict

from gentool_jax.config_view import section_view
from gentool_jax.errors import CheckpointError, GentoolError
from gentool_jax.model.hf_export import collect_adapters
from gentool_jax.model.lora import apply_lora, merge_lora, split_lora
from gentool_jax.model.settings import LoraSettings
from gentool_jax.train.checkpoint import StageCheckpoints, read_done
from gentool_jax.train.views import TrainConfig

STAGE_INIT = ("continue", "merge")


def previous_stage(config: ConfigDict, stage: str, workdir: Path) -> tuple[str, int] | None:
    """(stage name, final step) this stage builds on, or None for the first stage."""
    stages = section_view(TrainConfig, config.train).stages
    index = stages.index(stage)
    if index == 0:
        return None
    return stages[index - 1], finished_step(workdir, stages[index - 1], stage)


def finished_step(workdir: Path, stage: str, needed_by: str) -> int:
    done = read_done(Path(workdir) / stage)
    if done is None:
        raise GentoolError(f"{needed_by} builds on {stage}'s adapters, but {Path(workdir) / stage} "
                           f"is not finished; run --stage={stage} (or --stage=all) first")
    return int(done["step"])


def restore_adapters(model: nnx.Module, directory: Path, step: int | None,
                     fingerprint: str) -> int:
    """Load the adapters of `step` (None: the latest) into `model`'s attached adapters, after
    checking the checkpoint was trained on this base model; returns the step."""
    checkpoints = StageCheckpoints(directory, keep=1, async_save=False)
    try:
        step = checkpoints.latest_step() if step is None else step
        if step is None or step not in checkpoints.manager.all_steps():
            raise CheckpointError(f"{directory}: no complete checkpoint"
                                  + ("" if step is None else f" at step {step}"))
        saved = checkpoints.metadata(step).get("base_model", {})
        if saved.get("fingerprint") != fingerprint:
            raise CheckpointError(f"{directory} was trained on base model {saved.get('name')!r}, "
                                  "not the configured config.model.name")
        _, lora, _ = split_lora(model)
        nnx.update(model, checkpoints.restore_lora(step, lora=lora))
    finally:
        checkpoints.close()
    return step


def start_of_stage(model: nnx.Module, config: ConfigDict, workdir: Path, stage: str, *,
                   rngs: nnx.Rngs, fingerprint: str) -> list[dict]:
    """Make the base `model` what `stage` starts training from (the rule in the module
    docstring); fresh adapters come from `rngs`. Returns the adapter sets merged into the base,
    in order (empty unless `merge`)."""
    train = section_view(TrainConfig, config.train)
    mode, stages = train.stage2_init, train.stages
    lora = section_view(LoraSettings, config.model.lora)
    if mode not in STAGE_INIT:
        raise GentoolError(f"config.train.stage2_init must be one of {STAGE_INIT}, got {mode!r}")
    earlier = stages[: stages.index(stage)]
    workdir = Path(workdir)
    merged: list[dict] = []
    if earlier and mode == "continue":
        apply_lora(model, lora, rngs)
        step = finished_step(workdir, earlier[-1], stage)
        restore_adapters(model, workdir / earlier[-1] / "checkpoints", step, fingerprint)
        return merged
    for name in earlier:
        apply_lora(model, lora, nnx.Rngs(params=0, dropout=0))
        step = finished_step(workdir, name, stage)
        restore_adapters(model, workdir / name / "checkpoints", step, fingerprint)
        merged.append(collect_adapters(model))
        merge_lora(model)
    apply_lora(model, lora, rngs)
    return merged
