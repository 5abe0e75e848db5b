"""The model a checkpoint names, ready for sampling: one loader for evaluation, export and serving.

`--checkpoint` may be a training stage directory (`<workdir>/<stage>`, its `checkpoints/` or one
`checkpoints/<step>`; "" = the latest of the last stage), a merged HF export, or a PEFT adapter
directory (put on the configured base model); None means the base model itself. The stage
chain is rebuilt by `train/stage_chain.py`, the same code training uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax.numpy as jnp
from ml_collections import ConfigDict

from gentool_jax.config_view import section_view
from gentool_jax.errors import GentoolError
from gentool_jax.model.loading import load_model
from gentool_jax.model.peft_import import is_peft_adapter, load_peft_adapter
from gentool_jax.model.registry import load_tokenizer, resolve_model
from gentool_jax.model.settings import ModelSettings
from gentool_jax.parallel.partition import place_model
from gentool_jax.train.export import load_trained_model, locate_checkpoint


def check_checkpoint(config: ConfigDict, checkpoint: str | None) -> None:
    """Refuse a bad --checkpoint before any work (sampling another system can take minutes)."""
    if checkpoint is None:
        return
    path = Path(checkpoint)
    if checkpoint and not path.exists():
        raise GentoolError(f"--checkpoint={checkpoint}: no such file or directory")
    if checkpoint and (is_peft_adapter(path) or (path / "config.json").is_file()):
        return
    locate_checkpoint(config, checkpoint)


def load_for_inference(config: ConfigDict, checkpoint: str | None,
                       mesh: Any = None) -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) of the base model (`checkpoint=None`) or a checkpoint."""
    model_settings = section_view(ModelSettings, config.model)
    dtypes = dict(dtype=jnp.dtype(model_settings.dtype),
                  param_dtype=jnp.dtype(model_settings.param_dtype))
    path = Path(checkpoint) if checkpoint else None
    if checkpoint is None:
        base_dir = resolve_model(model_settings)
        return load_model(base_dir, mesh=mesh, **dtypes), load_tokenizer(base_dir)
    if path is not None and is_peft_adapter(path):
        base_dir = resolve_model(model_settings)
        model = load_model(base_dir, mesh=mesh, **dtypes)
        load_peft_adapter(model, path)
        place_model(model, mesh)
        model.eval()
        return model, load_tokenizer(base_dir)
    if path is not None and (path / "config.json").is_file():
        model = load_model(path, mesh=mesh, **dtypes)
        tokenizer_dir = path if (path / "tokenizer_config.json").is_file() else resolve_model(
            model_settings)
        return model, load_tokenizer(tokenizer_dir)
    model, _, model_dir = load_trained_model(config, checkpoint, mesh=mesh)
    return model, load_tokenizer(model_dir)
