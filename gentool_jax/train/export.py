"""`gentool-jax export` and the trained model for inference: replay the stage chain.

A stage's checkpoint holds only its adapters, so the trained model is rebuilt as it was trained,
by the stage chain of `train/stage_chain.py`, then the requested stage's adapters restored.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from flax import nnx
from ml_collections import ConfigDict

from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.errors import GentoolError
from gentool_jax.model.hf_export import (
    collect_adapters,
    combine,
    export_merged,
    export_peft_adapter,
)
from gentool_jax.model.lora import iter_linears, merge_lora
from gentool_jax.model.registry import base_model_id
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


def exported_base_name(model_config: ModelSettings | ConfigDict) -> str:
    """The adapter's `base_model_name_or_path`: the Hugging Face repository when it is known
    (the embedded default's, or a directory in the Hugging Face hub cache layout
    `.../models--ORG--NAME/snapshots/REVISION`), so the adapter loads on any machine with
    `PeftModel.from_pretrained`; else the model directory, which only this machine has. A
    config.json's `_name_or_path` is not trusted: it names the model a directory was
    fine-tuned *from*, not necessarily the weights it holds."""
    name = base_model_id(model_config)
    parts = Path(name).parts
    for index, part in enumerate(parts[:-2]):
        if part.startswith("models--") and parts[index + 1] == "snapshots" and len(
                parts) == index + 3:
            return part[len("models--"):].replace("--", "/")
    return name


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


def export_trained(config: ConfigDict, checkpoint: str = "", out: str = "") -> Path:
    """Write `<out>/adapter` (PEFT) and `<out>/merged` (HF); returns `out`.

    Both are written into `<out>.partial` and swapped in whole, so a kill mid-export leaves the
    previous export (if any) in place, never a mix of the two.
    """
    model, merged, model_dir = load_trained_model(config, checkpoint)
    model_settings = section_view(ModelSettings, config.model)
    out_dir = Path(out) if out else section_view(RunSettings, config).workdir / "export"
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    adapters = combine([*merged, collect_adapters(model)])
    export_peft_adapter(adapters, partial / "adapter",
                        base_model=exported_base_name(model_settings),
                        dropout=model_settings.lora.dropout,
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


def export_command(config: ConfigDict, options: dict[str, str]) -> int:
    """`gentool-jax export [--checkpoint=DIR] [--out=DIR]`."""
    out = export_trained(config, options.get("checkpoint", ""), options.get("out", ""))
    print(f"PEFT adapter: {out / 'adapter'}\nmerged HF model: {out / 'merged'}")
    return 0
