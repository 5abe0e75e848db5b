"""The model a checkpoint names, ready for sampling: one loader for evaluation, export and serving.

`--checkpoint` may be a training stage directory (`<workdir>/<stage>`, its `checkpoints/` or one
`checkpoints/<step>`; "" = the latest of the last stage), a merged HF export, or a PEFT adapter
directory (put on the configured base model); None means the base model itself. The stage
chain is rebuilt by `train/stage_chain.py`, the same code training uses.

Sampling folds the adapters into the kernels (`model.lora.merge_lora`) when the base weights
are fp32: the model computes the same function up to fp32 rounding, and a decode step no longer
runs two skinny matmuls for each of the (up to 210) adapted linears. On the 2-core CPU that made
a SmolLM2-135M decode step at batch 32 with adapters on all seven linears 1.12x faster
(`benchmarks/bench_adapter_decode.py`, docs/evaluation.md). Adapters on bf16 kernels stay
attached: an update below half a bf16 step of the kernel entry it is added to would be
rounded away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax.numpy as jnp
from ml_collections import ConfigDict

from gentool_jax.config_view import section_view
from gentool_jax.errors import GentoolError
from gentool_jax.model.loading import load_model
from gentool_jax.model.lora import merge_lora
from gentool_jax.model.peft_import import is_peft_adapter, load_peft_adapter
from gentool_jax.model.registry import load_tokenizer, resolve_model
from gentool_jax.model.settings import ModelSettings
from gentool_jax.parallel.partition import place_model
from gentool_jax.train.trained_model import load_trained_model, locate_checkpoint


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
        return _fold_adapters(model, model_settings), load_tokenizer(base_dir)
    if path is not None and (path / "config.json").is_file():
        model = load_model(path, mesh=mesh, **dtypes)
        tokenizer_dir = path if (path / "tokenizer_config.json").is_file() else resolve_model(
            model_settings)
        return model, load_tokenizer(tokenizer_dir)
    model, _, model_dir = load_trained_model(config, checkpoint, mesh=mesh)
    return _fold_adapters(model, model_settings), load_tokenizer(model_dir)


def _fold_adapters(model: Any, model_settings: ModelSettings) -> Any:
    if jnp.dtype(model_settings.param_dtype) == jnp.float32:
        merge_lora(model)
    return model
