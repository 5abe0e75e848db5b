"""`gentool-jax export` and the trained model for inference: replay the stage chain.

A stage's checkpoint holds only its adapters, so the trained model is rebuilt as it was trained:
base weights, then each stage's adapters in order (kept and further trained with
`stage2_init="continue"`, or merged into the base before fresh ones with "merge").
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from flax import nnx

from gentool_jax.errors import CheckpointError, GentoolError
from gentool_jax.model.export import collect_adapters, combine, export_merged, export_peft_adapter
from gentool_jax.model.lora import apply_lora, iter_linears, merge_lora, split_lora
from gentool_jax.model.registry import base_model_id
from gentool_jax.parallel.partition import place_model
from gentool_jax.train.checkpoint import StageCheckpoints, model_fingerprint, read_done


def locate_checkpoint(config: Any, checkpoint: str) -> tuple[Path, str, int | None]:
    """(workdir, stage, step or None = latest) from --checkpoint (stage dir, its checkpoints
    dir or one step dir), defaulting to the last configured stage that has checkpoints."""
    stages = list(config.train.stages)
    if not checkpoint:
        workdir = Path(config.workdir)
        for stage in reversed(stages):
            directory = workdir / stage / "checkpoints"
            if directory.is_dir() and any(p.name.isdigit() for p in directory.iterdir()):
                return workdir, stage, None
        raise GentoolError(f"no checkpoints under {workdir}/{{{','.join(stages)}}}; train first "
                           "or pass --checkpoint")
    path = Path(checkpoint)
    step = None
    if path.name.isdigit():
        path, step = path.parent, int(path.name)
    if path.name != "checkpoints":
        path = path / "checkpoints"
    stage = path.parent.name
    if not path.is_dir() or stage not in stages:
        raise GentoolError(f"--checkpoint={checkpoint}: expected <workdir>/<stage>[/checkpoints"
                           f"[/<step>]] with a stage of config.train.stages {stages}")
    return path.parent.parent, stage, step


def _restore(model: nnx.Module, directory: Path, step: int | None, fingerprint: str) -> int:
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


def load_trained_model(config: Any, checkpoint: str = "", mesh: Any = None):
    """(model with its last adapters attached, adapter sets merged on the way, base model dir).

    The adapter sets list every stage's adapters that were merged into the base weights before
    the attached ones were trained (empty with `stage2_init="continue"`).
    """
    from gentool_jax.model.registry import resolve_model
    from gentool_jax.train.setup import load_base

    workdir, target, step = locate_checkpoint(config, checkpoint)
    stages = list(config.train.stages)
    model_dir = resolve_model(config.model)
    fingerprint = model_fingerprint(model_dir)
    model = load_base(model_dir, config.model, mesh)
    merged: list[dict] = []
    for index, stage in enumerate(stages[: stages.index(target) + 1]):
        if index > 0 and str(config.train.stage2_init) == "merge":
            merged.append(collect_adapters(model))
            merge_lora(model)
        if index == 0 or str(config.train.stage2_init) == "merge":
            apply_lora(model, config.model.lora, nnx.Rngs(params=0, dropout=0))
        if stage == target:
            _restore(model, workdir / stage / "checkpoints", step, fingerprint)
            break
        done = read_done(workdir / stage)
        if done is None:
            raise CheckpointError(f"{target} builds on {stage}, but {workdir / stage} is not "
                                  "finished")
        _restore(model, workdir / stage / "checkpoints", int(done["step"]), fingerprint)
    place_model(model, mesh)
    model.eval()
    return model, merged, model_dir


def export_trained(config: Any, checkpoint: str = "", out: str = "") -> Path:
    """Write `<out>/adapter` (PEFT) and `<out>/merged` (HF); returns `out`.

    Both are written into `<out>.partial` and swapped in whole, so a kill mid-export leaves the
    previous export (if any) in place, never a mix of the two.
    """
    model, merged, model_dir = load_trained_model(config, checkpoint)
    out_dir = Path(out) if out else Path(config.workdir) / "export"
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    adapters = combine([*merged, collect_adapters(model)])
    export_peft_adapter(adapters, partial / "adapter", base_model=base_model_id(config.model),
                        dropout=float(config.model.lora.dropout),
                        linear_paths=[path for path, _ in iter_linears(model)])
    merge_lora(model)
    export_merged(model, model_dir, partial / "merged")
    previous = out_dir.with_name(out_dir.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(previous)
    partial.rename(out_dir)
    shutil.rmtree(previous, ignore_errors=True)
    return out_dir


def export_command(config: Any, options: dict[str, str]) -> int:
    out = export_trained(config, options.get("checkpoint", ""), options.get("out", ""))
    print(f"PEFT adapter: {out / 'adapter'}\nmerged HF model: {out / 'merged'}")
    return 0
