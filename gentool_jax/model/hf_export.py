"""Write trained adapters in the formats the rest of the ecosystem loads.

- A PEFT LoRA adapter directory (`adapter_config.json` + `adapter_model.safetensors`) that
  `peft.PeftModel.from_pretrained` puts on the original HF base model.
- A merged HF checkpoint (config.json + safetensors + the base's tokenizer files) that
  `transformers` loads with no PEFT at all.

Our kernels are `[in, out]`; HF linears store `[out, in]`, so every matrix is transposed on the
way out. Several adapter sets on the same linear (stage 1 merged, then stage 2) are exported as
one adapter of the summed rank, which computes exactly their sum.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jax
import numpy as np
from flax import nnx
from safetensors.numpy import save_file

from gentool_jax.errors import ModelFileError
from gentool_jax.model.hf_names import to_hf

# Files of a model directory that are weights (replaced by ours) or our own bookkeeping.
_NOT_COPIED = re.compile(r".*\.safetensors$|.*\.safetensors\.index\.json$|^\.gentool_.*")
SHARD_BYTES = 4 << 30

# One linear's adapter as host arrays: (lora_a [in, r], lora_b [r, out], scale).
Adapter = tuple[np.ndarray, np.ndarray, float]


def hf_module_name(path: str) -> str:
    """'layers.3.attn.q_proj' -> 'model.layers.3.self_attn.q_proj' (HF module path)."""
    name, _ = hf_tensor_name(f"{path}.kernel")
    return name[: -len(".weight")]


def hf_tensor_name(path: str) -> tuple[str, bool]:
    mapped = to_hf(path)
    if mapped is None:
        raise ModelFileError(f"no HF tensor name for parameter {path}")
    return mapped


def _host(x: jax.Array) -> np.ndarray:
    """A whole array on this host, also when it is sharded over several processes."""
    if jax.process_count() > 1 and not x.is_fully_addressable:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


def collect_adapters(model: nnx.Module) -> dict[str, Adapter]:
    """The attached adapters of `model` as host arrays, by linear path."""
    from gentool_jax.model.lora import adapters

    return {path: (_host(lora.lora_a[...]), _host(lora.lora_b[...]), float(lora.scale))
            for path, lora in adapters(model).items()}


def combine(adapter_sets: list[dict[str, Adapter]]) -> dict[str, Adapter]:
    """Stack adapter sets into one per linear: A = [A1 A2], B = [s1 B1; s2 B2], scale 1.

    Rank-concatenation computes x A1 B1 s1 + x A2 B2 s2 exactly, which is what applying the
    sets one after another (merge, then train fresh adapters) does.
    """
    combined: dict[str, list[Adapter]] = {}
    for adapter_set in adapter_sets:
        for path, adapter in adapter_set.items():
            combined.setdefault(path, []).append(adapter)
    out = {}
    for path, parts in combined.items():
        if len(parts) == 1:
            out[path] = parts[0]
            continue
        a = np.concatenate([part[0] for part in parts], axis=1)
        b = np.concatenate([part[1] * part[2] for part in parts], axis=0)
        out[path] = (a, b, 1.0)
    return out


def _target_modules(modules: list[str], linear_paths: list[str] | None) -> list[str] | str:
    """Leaf names (["q_proj", "v_proj"]) when they pick exactly the adapted modules, else a
    regex over full module names (PEFT full-matches a string `target_modules`)."""
    leaves = sorted({module.rsplit(".", 1)[-1] for module in modules})
    if linear_paths is not None:
        by_leaf = {hf_module_name(path) for path in linear_paths
                   if path.rsplit(".", 1)[-1] in leaves}
        if by_leaf == set(modules):
            return leaves
    return "^(" + "|".join(re.escape(module) for module in modules) + ")$"


def export_peft_adapter(adapters: dict[str, Adapter], out_dir: str | Path, *,
                        base_model: str, dropout: float = 0.0,
                        linear_paths: list[str] | None = None) -> Path:
    """Write a PEFT LoRA adapter directory for `adapters` (one rank and scale for all).

    `linear_paths` (every adaptable linear of the model) lets `target_modules` be the plain
    module names when the adapters cover all modules of those names.
    """
    if not adapters:
        raise ModelFileError("no LoRA adapters to export")
    ranks = {a.shape[1] for a, _, _ in adapters.values()}
    scales = {scale for _, _, scale in adapters.values()}
    if len(ranks) != 1 or len(scales) != 1:
        raise ModelFileError(f"PEFT needs one rank and scale for every module, got ranks "
                             f"{sorted(ranks)} and scales {sorted(scales)}")
    rank, scale = ranks.pop(), scales.pop()
    tensors, modules = {}, []
    for path, (a, b, _) in sorted(adapters.items()):
        module = hf_module_name(path)
        modules.append(module)
        prefix = f"base_model.model.{module}"
        tensors[f"{prefix}.lora_A.weight"] = np.ascontiguousarray(a.T.astype(np.float32))
        tensors[f"{prefix}.lora_B.weight"] = np.ascontiguousarray(b.T.astype(np.float32))
    config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": base_model,
        "r": int(rank), "lora_alpha": float(scale * rank), "lora_dropout": float(dropout),
        "target_modules": _target_modules(modules, linear_paths), "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True, "use_rslora": False, "use_dora": False,
        "modules_to_save": None, "init_lora_weights": True,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "adapter_model.safetensors"), metadata={"format": "pt"})
    (out / "adapter_config.json").write_text(json.dumps(config, indent=1) + "\n")
    return out


def export_merged(model: nnx.Module, base_dir: str | Path, out_dir: str | Path) -> Path:
    """Write `model`'s weights (adapters must be merged first) as an HF checkpoint directory."""
    from gentool_jax.model.lora import adapters

    if adapters(model):
        raise ModelFileError("merge the adapters (model.lora.merge_lora) before exporting")
    base_dir, out = Path(base_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for path, value in nnx.to_flat_state(nnx.state(model, nnx.Param)):
        name, transposed = hf_tensor_name(".".join(str(part) for part in path))
        array = _host(value[...])
        tensors[name] = np.ascontiguousarray(array.T if transposed else array)
    _write_shards(tensors, out)
    for item in base_dir.iterdir():
        if item.is_file() and not _NOT_COPIED.fullmatch(item.name):
            shutil.copy2(item, out / item.name)
    return out


def _write_shards(tensors: dict[str, np.ndarray], out: Path) -> None:
    """One `model.safetensors`, or HF-style shards plus an index above SHARD_BYTES."""
    total = sum(array.nbytes for array in tensors.values())
    if total <= SHARD_BYTES:
        save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
        return
    shards, current, size = [], {}, 0
    for name, array in tensors.items():
        if current and size + array.nbytes > SHARD_BYTES:
            shards.append(current)
            current, size = {}, 0
        current[name] = array
        size += array.nbytes
    shards.append(current)
    weight_map = {}
    for i, shard in enumerate(shards, start=1):
        filename = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, str(out / filename), metadata={"format": "pt"})
        weight_map.update({name: filename for name in shard})
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=1) + "\n")
