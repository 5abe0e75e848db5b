"""How each parameter is laid out over the ("data", "fsdp", "tensor") mesh.

Rules are regexes over dotted parameter paths ("layers.3.attn.q_proj.kernel"), first match wins.
Column-parallel projections (q/k/v/gate/up, lm_head) split their output over "tensor" and their
input over "fsdp"; row-parallel ones (o/down) the other way round, so an attention or MLP block
needs one reduction. A LoRA adapter follows its kernel: lora_a `[in, r]` shards like the
kernel's input dim, lora_b `[r, out]` like its output dim. A dim the mesh axis does not divide
is replicated instead, so small models run on any mesh.
"""

from __future__ import annotations

import re

import jax
from flax import nnx
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

_COLUMN = r"(attn\.(q_proj|k_proj|v_proj)|mlp\.(gate_proj|up_proj)|lm_head)"
_ROW = r"(attn\.o_proj|mlp\.down_proj)"

RULES: tuple[tuple[str, P], ...] = (
    (r"embed\.embedding$", P("tensor", "fsdp")),
    (_COLUMN + r"\.kernel$", P("fsdp", "tensor")),
    (_COLUMN + r"\.bias$", P("tensor")),
    (_COLUMN + r"\.lora\.lora_a$", P("fsdp", None)),
    (_COLUMN + r"\.lora\.lora_b$", P(None, "tensor")),
    (_ROW + r"\.kernel$", P("tensor", "fsdp")),
    (_ROW + r"\.bias$", P("fsdp")),
    (_ROW + r"\.lora\.lora_a$", P("tensor", None)),
    (_ROW + r"\.lora\.lora_b$", P(None, "fsdp")),
    (r"(norm|input_norm|post_attn_norm)\.scale$", P()),
)


def path_string(path: tuple) -> str:
    return ".".join(str(getattr(part, "key", part)) for part in path)


def partition_spec(path: str, shape: tuple[int, ...] | None = None,
                   mesh: Mesh | None = None) -> P:
    """The spec for a parameter path; with shape and mesh, axes that do not divide are dropped."""
    spec = next((spec for pattern, spec in RULES if re.search(pattern, path)), P())
    if shape is None or mesh is None:
        return spec
    if len(spec) > len(shape):
        raise ValueError(f"partition rule {spec} has more dims than {path} {shape}")
    fitted = []
    for dim, axis in zip(shape, tuple(spec) + (None,) * (len(shape) - len(spec))):
        fitted.append(axis if axis is None or dim % mesh.shape[axis] == 0 else None)
    return P(*fitted)


def state_shardings(state: nnx.State, mesh: Mesh) -> nnx.State:
    """A State of NamedShardings with the structure of `state` (for jit out_shardings etc.)."""
    flat = [
        (path, NamedSharding(mesh, partition_spec(path_string(path), tuple(leaf.shape), mesh)))
        for path, leaf in nnx.to_flat_state(state)
    ]
    return nnx.from_flat_state(flat)


def shard_state(state: nnx.State, mesh: Mesh) -> nnx.State:
    """Move every array of `state` onto its sharding."""
    return jax.device_put(state, state_shardings(state, mesh))


def place_model(model: nnx.Module, mesh: Mesh | None) -> None:
    """Lay a model out on `mesh` in place: adapters attached or restored on one device join
    the already-sharded base weights. No-op without a mesh."""
    if mesh is not None:
        nnx.update(model, shard_state(nnx.state(model), mesh))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Batches split their rows over every data-parallel axis; sequence stays whole."""
    return NamedSharding(mesh, P(("data", "fsdp"), None))
