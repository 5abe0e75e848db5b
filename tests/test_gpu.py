"""Accelerator checks, run as `pytest -m gpu`: what the CPU suite cannot see on a GPU.

cuDNN's fused attention against the XLA kernel (forward and backward, bf16), a bf16 LoRA step
against an fp32 one at full matmul precision, the sampler's greedy decoding against full
recomputes, the sharded step on a one-device mesh against the plain one, and the cuDNN probe
behind `model.attention=auto`. Each also runs on a CPU (the kernel-specific ones skip there),
so the check's dry run exercises everything but the GPU itself.
"""

import os
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from test_model_attention_kernels import PROBE_FAILURE
from test_sample_generate import greedy_without_cache, prompts, random_model
from test_train_step import build, random_batch, run_step, stage_config

from gentool_jax.errors import GentoolError
from gentool_jax.model import attention_kernels
from gentool_jax.model.attention import MaskSpec, attend
from gentool_jax.model.loading import load_model
from gentool_jax.model.lora import apply_lora, split_lora
from gentool_jax.model.tiny import build_tiny_model
from gentool_jax.sample.generate import generate
from gentool_jax.train.optimizer import make_optimizer
from gentool_jax.train.step import make_loss_fn, make_train_step

pytestmark = pytest.mark.gpu

ON_GPU = jax.default_backend() == "gpu"
HEAD_DIM = 64  # a head size cuDNN's flash kernels take (multiple of 8, at most 128)
BF16 = dict(rtol=2e-2, atol=2e-2)  # bf16 keeps 8 mantissa bits: ~0.4% per rounding


def test_the_backend_is_the_one_the_check_expects():
    """tests/conftest.py defaults JAX_PLATFORMS to cpu, so on a GPU machine these checks would
    quietly run on its CPU, every kernel check skipped. Fail instead when GENTOOL_EXPECT_BACKEND
    names another backend, or, unset, when an NVIDIA device is visible."""
    visible_gpu = (Path("/dev/nvidia0").exists()
                   and os.environ.get("CUDA_VISIBLE_DEVICES") != "")
    expected = os.environ.get("GENTOOL_EXPECT_BACKEND") or ("gpu" if visible_gpu else None)
    if expected is None:
        pytest.skip("no GPU visible and GENTOOL_EXPECT_BACKEND not set")
    assert jax.default_backend() == expected, (
        f"running on {jax.devices()}, expected {expected}: set JAX_PLATFORMS=cuda")


def _cudnn_or_skip() -> None:
    if not ON_GPU:
        pytest.skip("cuDNN attention needs a GPU")
    failure = attention_kernels.cudnn_probe_failure(HEAD_DIM, "bfloat16")
    if failure is not None:
        pytest.skip(f"cuDNN failed its probe here ({failure}); auto trains with xla")


def _mask_case(name: str, b: int, t: int) -> MaskSpec:
    """Causal only; two packed samples and padding; a shared prefix with two turns after it."""
    segments, turns = np.ones((b, t), np.int32), np.zeros((b, t), np.int32)
    if name == "packed":
        segments[:, t // 3:] = 2
        segments[0, 3 * t // 4:] = 0
    if name == "shared_prefix":
        turns[:, t // 4:t // 2], turns[:, t // 2:] = 1, 2
        segments[1, 7 * t // 8:] = 0
    segments, turns = jnp.asarray(segments), jnp.asarray(turns)
    return MaskSpec(segments, segments, turns, turns, jnp.zeros((), jnp.int32))


def _attention_grads(fn, q, k, v, spec, weights):
    loss = lambda q, k, v: jnp.sum(fn(q, k, v, spec).astype(jnp.float32) * weights)
    out = jax.jit(fn)(q, k, v, spec)
    return out, jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(q, k, v)


def _relative_error(a, b) -> float:
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12))


@pytest.mark.parametrize(("mask", "kv_heads", "groups"), [
    ("causal", 4, 1), ("packed", 4, 1), ("shared_prefix", 4, 1), ("gqa", 2, 4)])
def test_cudnn_attention_matches_the_xla_kernel_in_bf16(mask, kv_heads, groups):
    """Forward within BF16 on every real query; gradients of q, k, v within 2% of the XLA
    kernel's in relative norm (padding queries carry no loss, as in training)."""
    _cudnn_or_skip()
    b, t = 2, 256
    rng = np.random.default_rng(0)
    q, k, v = (jnp.asarray(rng.normal(size=shape), jnp.bfloat16) for shape in (
        (b, t, kv_heads, groups, HEAD_DIM), (b, t, kv_heads, HEAD_DIM), (b, t, kv_heads, HEAD_DIM)))
    spec = _mask_case(mask, b, t)
    real = np.asarray(spec.q_segments > 0)
    weights = jnp.asarray(rng.normal(size=q.shape) * real[:, :, None, None, None], jnp.float32)
    fused = lambda q, k, v, spec: attention_kernels.attend_fused("cudnn", q, k, v, spec)
    out, grads = _attention_grads(fused, q, k, v, spec, weights)
    ref_out, ref_grads = _attention_grads(attend, q, k, v, spec, weights)
    np.testing.assert_allclose(np.asarray(out, np.float32)[real],
                               np.asarray(ref_out, np.float32)[real], **BF16)
    for name, grad, ref in zip("qkv", grads, ref_grads):
        assert np.isfinite(np.asarray(grad, np.float32)).all(), name
        assert _relative_error(grad, ref) < 2e-2, name


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny random Llama with grouped-query heads of HEAD_DIM (cuDNN takes that size)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-gpu"), hidden_size=4 * HEAD_DIM,
                            intermediate_size=256, num_heads=4, num_kv_heads=2)


def _lora_model(model_dir, dtype: str, attention: str):
    """(graphdef, adapters, frozen base) of the tiny model in `dtype`, with the same adapters
    in every dtype: B made nonzero, so that A has a gradient; no dropout."""
    settings = stage_config().model.lora
    settings.dropout = 0.0
    model = load_model(model_dir, dtype=jnp.dtype(dtype), param_dtype=jnp.dtype(dtype),
                       attention=attention)
    apply_lora(model, settings, nnx.Rngs(params=0))
    graphdef, lora, frozen = split_lora(model)
    lora = jax.tree.map(lambda x: x + 0.05 * jnp.cos(jnp.arange(x.size).reshape(x.shape)), lora)
    return graphdef, lora, frozen


def _mean_loss_and_grads(graphdef, lora, frozen, batch):
    loss_fn = make_loss_fn(graphdef, dropout_seed=0)
    (total, tokens), grads = jax.jit(jax.value_and_grad(loss_fn, has_aux=True))(
        lora, frozen, batch, 0)
    return float(total / tokens), jax.tree.map(lambda g: np.ravel(g / tokens), grads)


def test_a_bf16_lora_step_matches_fp32_at_full_precision(model_dir):
    """The bf16 model, with the attention `auto` picks here, against fp32 at 'highest' matmul
    precision on the same adapters, bf16-rounded base weights and batch: loss within 2%
    relative, each LoRA gradient at cosine > 0.99, and the frozen base bit-identical after a
    real optimizer step."""
    attention = attention_kernels.resolve_attention(
        "auto", backend=jax.default_backend(), dtype="bfloat16", share_prefix=False,
        sliding_window=None, num_devices=1, head_dim=HEAD_DIM)
    graphdef16, lora, frozen16 = _lora_model(model_dir, "bfloat16", attention)
    graphdef32, _, _ = _lora_model(model_dir, "float32", "xla")
    batch = {key: jnp.asarray(value) for key, value in random_batch(4, seed=7).items()}
    loss16, grads16 = _mean_loss_and_grads(graphdef16, lora, frozen16, batch)
    with jax.default_matmul_precision("highest"):
        loss32, grads32 = _mean_loss_and_grads(
            graphdef32, lora, jax.tree.map(lambda x: x.astype(jnp.float32), frozen16), batch)
    np.testing.assert_allclose(loss16, loss32, rtol=2e-2, err_msg=attention)
    for (path, g16), (_, g32) in zip(nnx.to_flat_state(grads16), nnx.to_flat_state(grads32)):
        g16, g32 = np.asarray(g16, np.float32), np.asarray(g32, np.float32)
        cosine = g16 @ g32 / (np.linalg.norm(g16) * np.linalg.norm(g32))
        assert cosine > 0.99, (attention, path, cosine)

    before = [np.asarray(x) for x in jax.tree.leaves(frozen16)]
    optimizer = optax.adamw(1e-2)
    step = jax.jit(make_train_step(graphdef16, optimizer, grad_accum=1, dropout_seed=0),
                   donate_argnums=(0, 1))
    _, _, metrics = step(lora, optimizer.init(lora), frozen16, batch, jnp.zeros((), jnp.int32))
    assert bool(metrics["finite"])
    np.testing.assert_allclose(float(metrics["loss"]), loss16, rtol=1e-3)
    for old, new in zip(before, jax.tree.leaves(frozen16)):
        np.testing.assert_array_equal(old, np.asarray(new))


def test_greedy_sampling_equals_full_recompute_argmax():
    """`test_sample_generate`'s reference on this backend: at 'highest' matmul precision, so
    that a GPU's TF32 matmuls cannot flip a near-tie between the cached and recomputed paths."""
    model, some = random_model(), prompts()[:3]
    with jax.default_matmul_precision("highest"):
        batched = generate(model, some, max_new_tokens=8, stop_ids=[], batch_size=4, bucket=16)
        for prompt, out in zip(some, batched, strict=True):
            assert out == greedy_without_cache(model, prompt, 8)


def test_the_sharded_step_on_one_device_equals_the_plain_step(model_dir, tmp_path):
    """`build_stage`'s step (mesh shardings, donation) against the same step jitted without any
    sharding, from the same adapters, optimizer state, base and batch."""
    config, state = build(model_dir, tmp_path)
    plain_inputs = jax.tree.map(np.asarray, (state.lora, state.opt_state, state.frozen))
    batch = random_batch(8, seed=11)
    sharded = run_step(state, batch)
    optimizer = make_optimizer(config.train, config.train.stage1)
    plain_step = jax.jit(make_train_step(state.graphdef, optimizer, grad_accum=1,
                                         dropout_seed=0))
    _, _, plain = plain_step(*plain_inputs, batch, jnp.zeros((), jnp.int32))
    np.testing.assert_allclose(float(sharded["loss"]), float(plain["loss"]), rtol=1e-5)
    np.testing.assert_allclose(float(sharded["grad_norm"]), float(plain["grad_norm"]),
                               rtol=1e-4)


def test_auto_takes_cudnn_exactly_when_its_probe_passes(monkeypatch, capsys):
    """A failing probe (forced) gives xla in one stderr line, and an explicit cudnn the same
    reason as an error; on a GPU, the real probe's verdict is what `auto` then picks."""
    resolve = lambda requested: attention_kernels.resolve_attention(
        requested, backend="gpu", dtype="bfloat16", share_prefix=False, sliding_window=None,
        num_devices=1, head_dim=HEAD_DIM)
    with monkeypatch.context() as patch:
        patch.setattr(attention_kernels, "cudnn_probe_failure", lambda *_: PROBE_FAILURE)
        assert resolve("auto") == "xla"
        assert capsys.readouterr().err.count(PROBE_FAILURE) == 1
        with pytest.raises(GentoolError, match=PROBE_FAILURE):
            resolve("cudnn")
    if not ON_GPU:
        return
    failure = attention_kernels.cudnn_probe_failure(HEAD_DIM, "bfloat16")
    warnings.warn(f"cuDNN probe on {jax.devices()[0].device_kind}: "
                  f"{'passed' if failure is None else failure}", stacklevel=1)
    assert resolve("auto") == ("cudnn" if failure is None else "xla")
