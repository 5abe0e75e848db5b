"""The train step: LoRA leaves only, exact accumulation, one compilation, sharding-invariant."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from configs import base as base_config
from gentool_jax.model.loading import load_model
from gentool_jax.model.lora import apply_lora, split_lora
from gentool_jax.model.tiny import build_tiny_model
from gentool_jax.parallel.mesh import make_mesh
from gentool_jax.train.setup import build_stage

MAX_LEN = 32


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), vocab_size=512)


def random_batch(rows: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Rows of random tokens: a masked prompt, then target tokens, then padding."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(3, 512, (rows, MAX_LEN)).astype(np.int32)
    lengths = rng.integers(MAX_LEN // 2, MAX_LEN + 1, rows)
    prompt = rng.integers(4, MAX_LEN // 2, rows)
    index = np.arange(MAX_LEN)[None]
    segment_ids = (index < lengths[:, None]).astype(np.int32)
    loss_mask = ((index >= prompt[:, None]) & (index < lengths[:, None] - 1)).astype(np.float32)
    return {"tokens": tokens * segment_ids, "targets": np.roll(tokens, -1, axis=1) * segment_ids,
            "loss_mask": loss_mask, "positions": np.broadcast_to(index, tokens.shape).astype(
                np.int32) * segment_ids, "segment_ids": segment_ids,
            "turn_ids": np.zeros_like(segment_ids)}


def stage_config(batch_size=8, grad_accum=1, mesh=(1, 1, 1), lr=1e-2):
    config = base_config.get_config()
    config.model.lora.rank = 4
    config.train.stages = ("stage1",)
    stage = config.train.stage1
    stage.batch_size, stage.grad_accum, stage.lr, stage.warmup_steps = (batch_size, grad_accum,
                                                                        lr, 0)
    config.mesh.data, config.mesh.fsdp, config.mesh.tensor = mesh
    return config


def build(model_dir, tmp_path, devices=1, **kwargs):
    """A stage-1 state on the first `devices` devices (one is fastest on a 2-core CPU)."""
    config = stage_config(**kwargs)
    mesh = make_mesh(config.mesh, jax.devices()[:devices])
    return config, build_stage(config, "stage1", model_dir, tmp_path, mesh, seed=0)


def run_step(state, batch, step=0):
    batch = {key: jax.device_put(value, state.batch_sharding) for key, value in batch.items()}
    state.lora, state.opt_state, metrics = state.step_fn(
        state.lora, state.opt_state, state.frozen, batch, jnp.asarray(step, jnp.int32))
    return metrics


def test_step_zero_logits_equal_the_base_model(model_dir):
    model = load_model(model_dir)
    batch = random_batch(2)
    before, _ = model(batch["tokens"], batch["positions"], segment_ids=batch["segment_ids"])
    paths = apply_lora(model, stage_config().model.lora, nnx.Rngs(params=0))
    assert len(paths) == 2 * 7  # q k v o gate up down in both layers
    after, _ = model(batch["tokens"], batch["positions"], segment_ids=batch["segment_ids"])
    np.testing.assert_array_equal(np.asarray(before), np.asarray(after))


def test_a_step_changes_only_lora_leaves_and_compiles_once(model_dir, tmp_path):
    _, state = build(model_dir, tmp_path)
    frozen_before = jax.tree.map(np.asarray, state.frozen)
    lora_before = jax.tree.map(np.asarray, state.lora)
    for step in range(3):
        metrics = run_step(state, random_batch(8, seed=step), step)
        assert np.isfinite(float(metrics["loss"])) and bool(metrics["finite"])
    frozen_after = jax.tree.map(np.asarray, state.frozen)
    for before, after in zip(jax.tree.leaves(frozen_before), jax.tree.leaves(frozen_after)):
        np.testing.assert_array_equal(before, after)  # bit for bit
    changed = [not np.array_equal(b, a) for b, a in
               zip(jax.tree.leaves(lora_before), jax.tree.leaves(jax.tree.map(np.asarray,
                                                                               state.lora)))]
    assert all(changed)
    assert state.step_fn._cache_size() == 1


def test_gradient_accumulation_equals_one_big_batch(model_dir, tmp_path):
    batch = random_batch(8, seed=3)
    results = []
    for grad_accum in (1, 4):
        _, state = build(model_dir, tmp_path, grad_accum=grad_accum)
        metrics = run_step(state, batch)
        results.append((float(metrics["loss"]), float(metrics["target_tokens"]),
                        jax.tree.map(np.asarray, state.lora)))
    (loss1, tokens1, lora1), (loss4, tokens4, lora4) = results
    assert tokens1 == tokens4 == float(batch["loss_mask"].sum())
    np.testing.assert_allclose(loss4, loss1, rtol=1e-6)
    for a, b in zip(jax.tree.leaves(lora1), jax.tree.leaves(lora4)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def sharded_loss_and_grads(model_dir, devices, mesh_shape, batch):
    """Token-mean loss and LoRA gradients (as numpy, by path) on a mesh over `devices`.

    Adapters get nonzero B first: with B = 0 the gradient of every A is exactly zero and would
    compare equal whatever the sharding did. Also run by the multi-process workers below.
    """
    from jax.experimental import multihost_utils

    from gentool_jax.parallel.partition import batch_sharding, shard_state
    from gentool_jax.train.step import make_loss_fn

    config = stage_config(mesh=mesh_shape)
    mesh = make_mesh(config.mesh, devices)
    model = load_model(model_dir, mesh=mesh)
    apply_lora(model, config.model.lora, nnx.Rngs(params=0))
    graphdef, lora, frozen = split_lora(model)
    lora = jax.tree.map(lambda x: x + 0.05 * jnp.cos(jnp.arange(x.size).reshape(x.shape)), lora)
    lora, frozen = shard_state(lora, mesh), shard_state(frozen, mesh)
    sharding = batch_sharding(mesh)
    global_batch = {key: jax.make_array_from_callback(value.shape, sharding,
                                                      lambda index, v=value: v[index])
                    for key, value in batch.items()}
    loss_fn = make_loss_fn(graphdef, dropout_seed=0)

    @jax.jit
    def mean_loss_and_grads(lora, frozen, batch):
        (total, tokens), grads = jax.value_and_grad(loss_fn, has_aux=True)(lora, frozen, batch, 0)
        return total / tokens, jax.tree.map(lambda g: g / tokens, grads)

    loss, grads = mean_loss_and_grads(lora, frozen, global_batch)
    if jax.process_count() > 1:
        loss, grads = multihost_utils.process_allgather((loss, grads), tiled=True)
    flat = {".".join(map(str, path)): np.asarray(value)
            for path, value in nnx.to_flat_state(grads)}
    return float(loss), flat


def test_same_loss_and_gradients_on_one_and_eight_devices(model_dir):
    batch = random_batch(8, seed=5)
    loss1, grads1 = sharded_loss_and_grads(model_dir, jax.devices()[:1], (1, 1, 1), batch)
    for mesh_shape in ((1, 2, 4),):  # (2, 2, 2) runs across two processes below
        loss8, grads8 = sharded_loss_and_grads(model_dir, jax.devices(), mesh_shape, batch)
        np.testing.assert_allclose(loss8, loss1, rtol=1e-6)
        assert set(grads8) == set(grads1)
        for name in grads1:
            np.testing.assert_allclose(grads8[name], grads1[name], atol=1e-5, err_msg=name)


_WORKER = """
import json, sys
sys.path.insert(0, {tests!r})
from ml_collections import ConfigDict
from gentool_jax.parallel import distributed
distributed.initialize(ConfigDict(dict(mode="explicit", coordinator_address={address!r},
                                       num_processes=2, process_id=int(sys.argv[1]))))
import jax
import numpy as np
from test_train_step import random_batch, sharded_loss_and_grads
assert jax.process_count() == 2 and jax.device_count() == 8, jax.devices()
loss, grads = sharded_loss_and_grads({model_dir!r}, jax.devices(), (2, 2, 2), random_batch(8, 5))
if jax.process_index() == 0:
    np.savez({out!r}, loss=loss, **grads)
"""


def test_two_processes_with_jax_distributed_match_one_device(model_dir, tmp_path):
    from pathlib import Path

    from jax_workers import free_port, run_workers

    out = tmp_path / "grads.npz"
    script = tmp_path / "worker.py"
    script.write_text(_WORKER.format(tests=str(Path(__file__).parent), model_dir=str(model_dir),
                                     address=f"localhost:{free_port()}", out=str(out)))
    run_workers(script)
    saved = np.load(out)
    loss1, grads1 = sharded_loss_and_grads(model_dir, jax.devices()[:1], (1, 1, 1),
                                           random_batch(8, 5))
    np.testing.assert_allclose(float(saved["loss"]), loss1, rtol=1e-6)
    for name, grad in grads1.items():
        np.testing.assert_allclose(saved[name], grad, atol=1e-5, err_msg=name)
