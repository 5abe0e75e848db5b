"""Load an HF Llama-family checkpoint into our NNX model, straight onto its shardings.

The model is first built abstractly (shapes only), then every parameter is filled from the
memory-mapped safetensors. With a mesh, each device reads only its own slice of each tensor
(`jax.make_array_from_callback`), so a big model is never copied whole into host memory.
HF already uses the rotate-half RoPE layout, so q/k need only a transpose, no permutation.
"""

from __future__ import annotations

import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import Mesh, NamedSharding
from safetensors import safe_open

from gentool_jax.errors import ModelFileError
from gentool_jax.model.config import ModelConfig
from gentool_jax.model.hf_files import tensor_files
from gentool_jax.model.hf_names import to_ours
from gentool_jax.model.llama import Llama

# Present in some checkpoints but not parameters of the model.
_IGNORED = (r".*rotary_emb\.inv_freq",)


def _path_str(path: tuple) -> str:
    return ".".join(str(part) for part in path)


def _plan(model_dir: Path, expected: dict[str, tuple[int, ...]], tied: bool):
    """Pair each of our parameters with (file, HF name, transpose); reject anything unmatched."""
    plan: dict[str, tuple[Path, str, bool]] = {}
    for hf_name, file in tensor_files(model_dir).items():
        if any(re.fullmatch(pattern, hf_name) for pattern in _IGNORED):
            continue
        if tied and hf_name == "lm_head.weight":
            continue  # tied models sometimes store a copy of the embedding; HF ignores it too
        mapped = to_ours(hf_name)
        if mapped is None or mapped[0] not in expected:
            raise ModelFileError(f"{model_dir}: unexpected tensor {hf_name!r} in {file.name}")
        plan[mapped[0]] = (file, hf_name, mapped[1])
    missing = sorted(set(expected) - set(plan))
    if missing:
        raise ModelFileError(f"{model_dir}: missing tensor(s) for {', '.join(missing[:5])}"
                             + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    return plan


def _hf_index(index: tuple, transpose: bool) -> tuple:
    return tuple(reversed(index)) if transpose else index


def load_model(
    path: str | Path,
    *,
    dtype: jnp.dtype = jnp.float32,
    param_dtype: jnp.dtype = jnp.float32,
    mesh: Mesh | None = None,
    remat: str = "none",
    attention: str = "xla",
) -> Llama:
    """Build a `Llama` from an HF directory, parameters cast to `param_dtype`; `attention` is a
    resolved `model.attention` (`model/attention_kernels.py`)."""
    from gentool_jax.parallel.partition import partition_spec

    model_dir = Path(path)
    config = ModelConfig.from_hf(model_dir)
    abstract = nnx.eval_shape(
        lambda: Llama(config, dtype=dtype, param_dtype=param_dtype, remat=remat,
                      attention=attention))
    graphdef, state = nnx.split(abstract)
    flat = list(nnx.to_flat_state(state))
    expected = {_path_str(p): tuple(v.shape) for p, v in flat}
    plan = _plan(model_dir, expected, config.tie_word_embeddings)

    handles = {}
    try:
        for file in {file for file, _, _ in plan.values()}:
            handles[file] = safe_open(str(file), framework="numpy")
        leaves = []
        for path_parts, variable in flat:
            name = _path_str(path_parts)
            file, hf_name, transpose = plan[name]
            tensor = handles[file].get_slice(hf_name)
            stored = tuple(tensor.get_shape())
            shape = expected[name]
            if (stored[::-1] if transpose else stored) != shape:
                raise ModelFileError(
                    f"{model_dir}: tensor {hf_name!r} has shape {list(stored)}, expected "
                    f"{list(shape[::-1] if transpose else shape)} for {name}")
            leaves.append((path_parts, variable.replace(
                _read(tensor, shape, transpose, param_dtype, name, mesh, partition_spec))))
    finally:
        handles.clear()
    return nnx.merge(graphdef, nnx.from_flat_state(leaves))


def _read(tensor, shape, transpose, param_dtype, name, mesh, partition_spec) -> jax.Array:
    def block(index: tuple) -> np.ndarray:
        index = index or (slice(None),) * len(shape)
        data = tensor[_hf_index(index, transpose)] if shape else tensor[:]
        data = np.asarray(data)
        return (data.T if transpose else data).astype(param_dtype)

    if mesh is None:
        return jnp.asarray(block(()))
    sharding = NamedSharding(mesh, partition_spec(name, shape, mesh))
    return jax.make_array_from_callback(shape, sharding, block)


def count_parameters(model: nnx.Module, kind=nnx.Param) -> int:
    """Number of scalars in the model's variables of `kind` (LoRAParam counts as Param)."""
    return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(nnx.state(model, kind)))
