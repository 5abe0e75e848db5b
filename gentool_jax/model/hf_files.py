"""Which safetensors files an HF directory holds and which tensor lives in which file."""

from __future__ import annotations

import json
from pathlib import Path

from safetensors import safe_open

from gentool_jax.errors import ModelFileError

SINGLE = "model.safetensors"
INDEX = "model.safetensors.index.json"


def tensor_files(model_dir: str | Path) -> dict[str, Path]:
    """Map every tensor name to its file: `model.safetensors`, or the shards an index lists."""
    model_dir = Path(model_dir)
    index = model_dir / INDEX
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text())["weight_map"]
        except (ValueError, KeyError) as error:
            raise ModelFileError(f"{index}: not a safetensors index ({error})") from None
        files = {name: model_dir / shard for name, shard in weight_map.items()}
        for shard in sorted(set(files.values())):
            if not shard.is_file():
                raise ModelFileError(f"{index}: shard {shard.name} is missing")
        return files
    single = model_dir / SINGLE
    if not single.is_file():
        raise ModelFileError(f"{model_dir}: neither {SINGLE} nor {INDEX} found")
    with safe_open(str(single), framework="numpy") as handle:
        return {name: single for name in handle.keys()}  # noqa: SIM118 (not a dict)


def tensor_shapes(model_dir: str | Path) -> dict[str, tuple[int, ...]]:
    """Shapes from the safetensors headers only; no tensor data is read."""
    shapes = {}
    by_file: dict[Path, list[str]] = {}
    for name, path in tensor_files(model_dir).items():
        by_file.setdefault(path, []).append(name)
    for path, names in by_file.items():
        with safe_open(str(path), framework="numpy") as handle:
            for name in names:
                shapes[name] = tuple(handle.get_slice(name).get_shape())
    return shapes


def count_checkpoint_parameters(model_dir: str | Path) -> int:
    """Parameters stored in a checkpoint (tied embeddings counted once, as HF counts them)."""
    total = 0
    for shape in tensor_shapes(model_dir).values():
        size = 1
        for dim in shape:
            size *= dim
        total += size
    return total


def read_config(model_dir: str | Path) -> dict:
    path = Path(model_dir) / "config.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelFileError(f"{path}: not found (is {model_dir} an HF model directory?)") from None
    except ValueError as error:
        raise ModelFileError(f"{path}: invalid JSON ({error})") from None
