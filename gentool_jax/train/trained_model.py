"""The trained model a stage checkpoint names, rebuilt by replaying the stage chain.

A stage's checkpoint holds only its adapters, so the trained model is rebuilt as it was trained,
by the stage chain of `train/stage_chain.py`, then the requested stage's adapters restored.
Finding and loading a checkpoint serves inference (`inference.py`: evaluation, BFCL, serving)
as much as export, so it lives apart from both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flax import nnx
from ml_collections import ConfigDict

from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.errors import GentoolError
from gentool_jax.model.settings import ModelSettings
from gentool_jax.parallel.partition import place_model
from gentool_jax.train.checkpoint import model_fingerprint
from gentool_jax.train.stage_chain import restore_adapters, start_of_stage


def locate_checkpoint(config: ConfigDict, checkpoint: str) -> tuple[Path, str, int | None]:
    """(workdir, stage, step or None = latest) from --checkpoint (stage dir, its checkpoints
    dir or one step dir), defaulting to the last configured stage that has checkpoints."""
    stages = list(config.train.stages)
    if not checkpoint:
        workdir = section_view(RunSettings, config).workdir
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


def load_trained_model(config: ConfigDict, checkpoint: str = "",
                       mesh: Any = None) -> tuple[nnx.Module, list[dict], Path]:
    """(model with its last adapters attached, adapter sets merged on the way, base model dir).

    The adapter sets list every stage's adapters that were merged into the base weights before
    the attached ones were trained (empty with `stage2_init="continue"`).
    """
    from gentool_jax.model.registry import resolve_model
    from gentool_jax.train.setup import load_base

    workdir, target, step = locate_checkpoint(config, checkpoint)
    model_settings = section_view(ModelSettings, config.model)
    model_dir = resolve_model(model_settings)
    fingerprint = model_fingerprint(model_dir)
    model = load_base(model_dir, model_settings, mesh)
    merged = start_of_stage(model, config, workdir, target, rngs=nnx.Rngs(params=0, dropout=0),
                            fingerprint=fingerprint)
    restore_adapters(model, workdir / target / "checkpoints", step, fingerprint)
    place_model(model, mesh)
    model.eval()
    return model, merged, model_dir
