"""Attach a PEFT LoRA adapter directory to our model: ours (`gentool-jax export`) or anyone's.

Evaluating or continuing from a `peft` adapter should not need torch, so the safetensors file is
read with numpy and mapped back onto our linear paths. Each module's rank comes from its tensor
shapes, so `rank_pattern` adapters load too; options that change the arithmetic in ways our
`LoRA` module does not model (DoRA, per-module alphas, trained biases, saved full modules) are
refused by name rather than silently dropped.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx

from gentool_jax.errors import ModelFileError
from gentool_jax.model.hf_export import hf_module_name
from gentool_jax.model.lora import LoRA, iter_linears

CONFIG_FILE = "adapter_config.json"
WEIGHTS_FILE = "adapter_model.safetensors"
# base_model.model.<module>.lora_{A,B}[.<adapter name>].weight
_TENSOR = re.compile(r"base_model\.model\.(?P<module>.+)\.lora_(?P<part>[AB])(\.[^.]+)?\.weight")


def is_peft_adapter(path: str | Path) -> bool:
    return (Path(path) / CONFIG_FILE).is_file()


def _read_config(directory: Path) -> dict[str, Any]:
    path = directory / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{path}: not readable as JSON ({error})") from None
    refused = {
        "peft_type": config.get("peft_type", "LORA") != "LORA",
        "use_dora": bool(config.get("use_dora")),
        "alpha_pattern": bool(config.get("alpha_pattern")),
        "fan_in_fan_out": bool(config.get("fan_in_fan_out")),
        "bias": config.get("bias", "none") != "none",
        "modules_to_save": bool(config.get("modules_to_save")),
    }
    for key, unsupported in refused.items():
        if unsupported:
            raise ModelFileError(f"{path}: {key}={config.get(key)!r} is not supported (plain "
                                 "LoRA adapters only)")
    if "lora_alpha" not in config:
        raise ModelFileError(f"{path}: missing field 'lora_alpha'")
    return config


def _read_pairs(directory: Path) -> dict[str, dict[str, np.ndarray]]:
    """HF module name -> {"A": [r, in], "B": [out, r]}."""
    from safetensors.numpy import load_file

    path = directory / WEIGHTS_FILE
    if not path.is_file():
        other = " (adapter_model.bin needs torch; re-save with safe_serialization=True)" if (
            directory / "adapter_model.bin").is_file() else ""
        raise ModelFileError(f"{path} not found{other}")
    try:
        tensors = load_file(str(path))
    except Exception as error:  # safetensors raises several types for a damaged file
        raise ModelFileError(f"{path}: not a readable safetensors file ({error})") from None
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for name, value in tensors.items():
        match = _TENSOR.fullmatch(name)
        if match is None:
            raise ModelFileError(f"{path}: tensor {name!r} is not a LoRA A/B weight")
        pairs.setdefault(match["module"], {})[match["part"]] = value
    for module, pair in pairs.items():
        if set(pair) != {"A", "B"}:
            raise ModelFileError(f"{path}: {module} has lora_{''.join(pair)} but not both A and B")
    if not pairs:
        raise ModelFileError(f"{path}: holds no LoRA tensors")
    return pairs


def load_peft_adapter(model: nnx.Module, directory: str | Path, *,
                      param_dtype: Any = jnp.float32) -> list[str]:
    """Attach the directory's adapters to `model` (which must have none); returns their paths."""
    directory = Path(directory)
    config = _read_config(directory)
    pairs = _read_pairs(directory)
    linears = {hf_module_name(path): (path, linear) for path, linear in iter_linears(model)}
    attached = []
    for module, pair in sorted(pairs.items()):
        if module not in linears:
            raise ModelFileError(f"{directory / WEIGHTS_FILE}: module {module} does not exist in "
                                 f"the base model (is the adapter for another architecture?)")
        path, linear = linears[module]
        a, b = pair["A"].T, pair["B"].T  # ours are [in, r] and [r, out]
        fan_in, fan_out = linear.kernel.shape
        rank = a.shape[1]
        if a.shape != (fan_in, rank) or b.shape != (rank, fan_out):
            raise ModelFileError(
                f"{directory / WEIGHTS_FILE}: {module} has A {pair['A'].shape} and B "
                f"{pair['B'].shape}, but the base linear is {fan_out}x{fan_in} (another base "
                f"model?)")
        if linear.lora is not None:
            raise ModelFileError(f"{path} already has an adapter; merge it before loading "
                                 f"{directory}")
        # rsLoRA scales by alpha/sqrt(r); our module scales by alpha/r, so pass alpha*sqrt(r).
        alpha = float(config["lora_alpha"]) * (math.sqrt(rank) if config.get("use_rslora")
                                               else 1.0)
        lora = LoRA(fan_in, fan_out, rank=rank, alpha=alpha, dropout=0.0,
                    param_dtype=param_dtype, rngs=nnx.Rngs(0))
        lora.lora_a[...] = jnp.asarray(a, param_dtype)
        lora.lora_b[...] = jnp.asarray(b, param_dtype)
        linear.lora = nnx.data(lora)
        attached.append(path)
    return attached
