"""Mesh construction, partition rules and sharded loading on 8 virtual CPU devices."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.sharding import PartitionSpec as P
from ml_collections import ConfigDict

from gentool_jax.errors import GentoolError
from gentool_jax.model.loading import load_model
from gentool_jax.parallel import distributed
from gentool_jax.parallel.mesh import make_mesh
from gentool_jax.parallel.partition import (
    batch_sharding,
    partition_spec,
    shard_state,
    state_shardings,
)


def _mesh(data=-1, fsdp=1, tensor=1):
    return make_mesh(ConfigDict({"data": data, "fsdp": fsdp, "tensor": tensor}))


def test_mesh_fills_the_free_axis_and_rejects_bad_products():
    assert jax.device_count() == 8
    assert dict(_mesh(fsdp=2, tensor=2).shape) == {"data": 2, "fsdp": 2, "tensor": 2}
    with pytest.raises(GentoolError, match="needs 6 devices, but 8"):
        _mesh(data=1, fsdp=2, tensor=3)
    with pytest.raises(GentoolError, match="do not divide"):
        _mesh(fsdp=3)
    with pytest.raises(GentoolError, match="at most one may be -1"):
        _mesh(data=-1, fsdp=-1)


@pytest.mark.parametrize("path, spec", [
    ("embed.embedding", P("tensor", "fsdp")),
    ("layers.3.attn.q_proj.kernel", P("fsdp", "tensor")),
    ("layers.3.attn.k_proj.bias", P("tensor")),
    ("layers.3.attn.o_proj.kernel", P("tensor", "fsdp")),
    ("layers.0.mlp.gate_proj.kernel", P("fsdp", "tensor")),
    ("layers.0.mlp.down_proj.kernel", P("tensor", "fsdp")),
    ("layers.3.attn.q_proj.lora.lora_a", P("fsdp", None)),
    ("layers.3.attn.q_proj.lora.lora_b", P(None, "tensor")),
    ("layers.3.mlp.down_proj.lora.lora_a", P("tensor", None)),
    ("layers.3.mlp.down_proj.lora.lora_b", P(None, "fsdp")),
    ("layers.1.input_norm.scale", P()),
    ("final_norm.scale", P()),
    ("lm_head.kernel", P("fsdp", "tensor")),
])
def test_partition_rules(path, spec):
    assert partition_spec(path) == spec


def test_undivisible_dims_are_replicated():
    mesh = _mesh(data=1, fsdp=2, tensor=4)
    assert partition_spec("layers.0.attn.k_proj.kernel", (64, 6), mesh) == P("fsdp", None)
    assert batch_sharding(mesh).spec == P(("data", "fsdp"), None)


def test_sharded_loading_gives_the_same_logits(tiny_model_dir):
    mesh = _mesh(data=1, fsdp=2, tensor=4)
    tokens = jnp.asarray(np.random.default_rng(0).integers(0, 512, (4, 32)), jnp.int32)
    positions = jnp.broadcast_to(jnp.arange(32), (4, 32))
    forward = nnx.jit(lambda m, t, p: m(t, p)[0])
    reference = forward(load_model(tiny_model_dir), tokens, positions)
    sharded = load_model(tiny_model_dir, mesh=mesh)
    q_kernel = sharded.layers[0].attn.q_proj.kernel[...]
    assert q_kernel.sharding.spec == P("fsdp", "tensor")
    assert q_kernel.addressable_shards[0].data.shape == (32, 16)
    logits = forward(sharded, jax.device_put(tokens, batch_sharding(mesh)), positions)
    assert float(jnp.abs(logits - reference).max()) <= 1e-5


def test_shard_state_places_every_leaf(tiny_model_dir):
    mesh = _mesh(data=2, fsdp=2, tensor=2)
    state = nnx.state(load_model(tiny_model_dir), nnx.Param)
    shardings = state_shardings(state, mesh)
    placed = shard_state(state, mesh)
    for (path, leaf), (_, sharding) in zip(nnx.to_flat_state(placed),
                                           nnx.to_flat_state(shardings)):
        assert leaf[...].sharding.is_equivalent_to(sharding, leaf[...].ndim), path


def test_distributed_initialize_modes(monkeypatch):
    calls = []
    monkeypatch.setattr(jax.distributed, "initialize", lambda **kw: calls.append(kw))
    for name in ("JAX_COORDINATOR_ADDRESS", "SLURM_NTASKS", "TPU_WORKER_HOSTNAMES"):
        monkeypatch.delenv(name, raising=False)
    config = ConfigDict({"mode": "auto", "coordinator_address": "", "num_processes": 1,
                         "process_id": 0})
    assert distributed.initialize(config) is False and calls == []
    monkeypatch.setenv("SLURM_NTASKS", "4")
    assert distributed.initialize(config) is True and calls == [{}]
    config.mode = "off"
    assert distributed.initialize(config) is False
    config.mode = "explicit"
    with pytest.raises(GentoolError, match="coordinator_address"):
        distributed.initialize(config)
    config.coordinator_address, config.num_processes, config.process_id = "10.0.0.1:1234", 2, 1
    assert distributed.initialize(config) is True
    assert calls[-1] == {"coordinator_address": "10.0.0.1:1234", "num_processes": 2,
                         "process_id": 1}
