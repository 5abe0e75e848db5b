"""`gentool-jax export`: the trained model (`trained_model.load_trained_model`) written as a PEFT
adapter and a merged Hugging Face checkpoint.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ml_collections import ConfigDict

from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.model.hf_export import (
    collect_adapters,
    combine,
    export_merged,
    export_peft_adapter,
)
from gentool_jax.model.lora import iter_linears, merge_lora
from gentool_jax.model.registry import base_model_id
from gentool_jax.model.settings import ModelSettings
from gentool_jax.train.trained_model import load_trained_model


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
