"""`model.attention`: the choice of kernel per backend, and the fused kernels' wrappers against
the XLA kernel. cuDNN cannot run on a CPU, so its wrapper is run through
`jax.nn.dot_product_attention`'s reference path (everything but the kernel: layouts, grouped
heads, the mask); the Pallas TPU kernel runs in Pallas' TPU interpret mode."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gentool_jax.errors import GentoolError
from gentool_jax.model import attention_kernels
from gentool_jax.model.attention import MaskSpec, attend
from gentool_jax.model.attention_kernels import resolve_attention


def _resolve(requested, backend="cpu", dtype="float32", share_prefix=False, window=None,
             devices=1):
    return resolve_attention(requested, backend=backend, dtype=dtype, share_prefix=share_prefix,
                             sliding_window=window, num_devices=devices, head_dim=64)


PROBE_FAILURE = "RuntimeError: cuDNN creates no execution plans"


@pytest.fixture
def probe(monkeypatch):
    """The cuDNN probe replaced: `probe.failure` is its verdict, `probe.calls` its arguments."""

    class Probe:
        failure = None
        calls = []

    monkeypatch.setattr(attention_kernels, "cudnn_probe_failure",
                        lambda head_dim, dtype: Probe.calls.append((head_dim, dtype))
                        or Probe.failure)
    return Probe


@pytest.mark.usefixtures("probe")  # a GPU whose cuDNN passes its probe
@pytest.mark.parametrize(("kwargs", "expected"), [
    (dict(), "xla"),
    (dict(backend="gpu", dtype="bfloat16"), "cudnn"),
    (dict(backend="gpu", dtype="float32"), "xla"),  # cuDNN flash attention has no fp32 kernel
    (dict(backend="tpu", dtype="bfloat16"), "pallas"),
    (dict(backend="tpu", dtype="bfloat16", share_prefix=True), "xla"),
    (dict(backend="tpu", dtype="bfloat16", window=4096), "xla"),
    (dict(backend="tpu", dtype="bfloat16", devices=8), "xla"),
])
def test_auto_picks_the_backends_kernel_where_it_applies(kwargs, expected):
    assert _resolve("auto", **kwargs) == expected


@pytest.mark.parametrize(("requested", "kwargs", "message"), [
    ("flash", dict(), "must be one of"),
    ("cudnn", dict(), "needs a GPU"),
    ("cudnn", dict(backend="gpu"), "bfloat16 or float16"),
    ("pallas", dict(), "needs a TPU"),
    ("pallas", dict(backend="tpu", share_prefix=True), "share_prefix"),
    ("pallas", dict(backend="tpu", devices=4), "4 devices"),
])
def test_an_explicit_kernel_that_cannot_run_here_is_refused_by_name(requested, kwargs, message):
    with pytest.raises(GentoolError, match="model.attention") as error:
        _resolve(requested, **kwargs)
    assert message in str(error.value)
    assert _resolve("xla", **kwargs if requested != "flash" else {}) == "xla"


def test_auto_falls_back_to_xla_in_one_line_when_the_cudnn_probe_fails(probe, capsys):
    probe.failure = PROBE_FAILURE
    assert _resolve("auto", backend="gpu", dtype="bfloat16") == "xla"
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"model.attention=auto: cuDNN flash attention failed its probe on this GPU "
                     f"({PROBE_FAILURE}); using xla"]
    with pytest.raises(GentoolError, match="model.attention='cudnn'") as error:
        _resolve("cudnn", backend="gpu", dtype="bfloat16")
    assert PROBE_FAILURE in str(error.value)
    assert probe.calls == [(64, "bfloat16")] * 2


@pytest.mark.parametrize("backend", ["cpu", "tpu"])
def test_no_probe_runs_off_a_gpu_nor_for_fp32(probe, backend):
    probe.failure = PROBE_FAILURE
    _resolve("auto", backend=backend, dtype="bfloat16")
    _resolve("auto", backend="gpu", dtype="float32")
    assert probe.calls == []


@pytest.fixture
def fresh_probe_cache():
    attention_kernels.cudnn_probe_failure.cache_clear()
    yield
    attention_kernels.cudnn_probe_failure.cache_clear()


@pytest.mark.usefixtures("fresh_probe_cache")
def test_the_probe_reports_the_kernels_exception_once_per_head_size(monkeypatch):
    """The fused call is made once per (head_dim, dtype), with the model's head size, however
    often a run resolves its attention; its exception comes back as one line."""
    calls = []

    def failing_kernel(q, *args):
        calls.append(q.shape)
        raise RuntimeError("cuDNN creates no execution plans\nsecond line")

    monkeypatch.setattr(attention_kernels, "_dot_product", failing_kernel)
    for _ in range(2):
        failure = attention_kernels.cudnn_probe_failure(64, "bfloat16")
        assert failure == "RuntimeError: cuDNN creates no execution plans"
    assert calls == [(1, attention_kernels.PROBE_LENGTH, 1, 2, 64)]
    attention_kernels.cudnn_probe_failure(32, "bfloat16")
    assert len(calls) == 2


def _inputs(b, t, kv_heads, groups, dim, seed=0):
    rng = np.random.default_rng(seed)
    q = jnp.asarray(rng.normal(size=(b, t, kv_heads, groups, dim)), jnp.float32)
    k = jnp.asarray(rng.normal(size=(b, t, kv_heads, dim)), jnp.float32)
    v = jnp.asarray(rng.normal(size=(b, t, kv_heads, dim)), jnp.float32)
    return q, k, v, jnp.asarray(rng.normal(size=q.shape), jnp.float32)


def _spec(segments, turns=None):
    segments = jnp.asarray(segments)
    turns = jnp.zeros_like(segments) if turns is None else jnp.asarray(turns)
    return MaskSpec(segments, segments, turns, turns, jnp.zeros((), jnp.int32))


def _values_and_grads(fn, q, k, v, spec, weights):
    loss = lambda q, k, v: jnp.sum(fn(q, k, v, spec) * weights)
    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))(q, k, v)


def _assert_same(ours, reference, atol):
    np.testing.assert_allclose(ours[0], reference[0], rtol=1e-5)
    for a, b in zip(ours[1], reference[1]):
        np.testing.assert_allclose(a, b, atol=atol)


def test_the_cudnn_wrapper_computes_the_xla_kernels_attention():
    """Packed samples, shared-prefix turns and padding, grouped-query heads."""
    q, k, v, weights = _inputs(b=2, t=64, kv_heads=2, groups=3, dim=8)
    segments, turns = np.ones((2, 64), np.int32), np.zeros((2, 64), np.int32)
    segments[0, 20:50], segments[0, 50:] = 2, 0
    turns[0, 30:40], turns[0, 40:50] = 1, 2
    spec = _spec(segments, turns)
    weights = weights * (segments > 0)[:, :, None, None, None]
    wrapped = lambda q, k, v, spec: attention_kernels._dot_product(q, k, v, spec, "xla")
    _assert_same(_values_and_grads(wrapped, q, k, v, spec, weights),
                 _values_and_grads(attend, q, k, v, spec, weights), atol=1e-5)


def test_the_pallas_kernel_refuses_lengths_off_its_tile():
    q, k, v, _ = _inputs(b=1, t=200, kv_heads=1, groups=1, dim=64)
    with pytest.raises(ValueError, match="multiples of 128"):
        attention_kernels._pallas_flash(q, k, v, _spec(np.ones((1, 200), np.int32)))


def check_pallas_numerics():
    """The Pallas kernel in interpret mode against the XLA kernel: packed samples, padding."""
    from jax.experimental.pallas import tpu as pltpu

    q, k, v, weights = _inputs(b=1, t=256, kv_heads=1, groups=2, dim=64)
    segments = np.ones((1, 256), np.int32)
    segments[0, 90:200], segments[0, 200:] = 2, 0
    spec = _spec(segments)
    weights = weights * (segments > 0)[:, :, None, None, None]
    with pltpu.force_tpu_interpret_mode():
        fused = _values_and_grads(attention_kernels._pallas_flash, q, k, v, spec, weights)
    _assert_same(fused, _values_and_grads(attend, q, k, v, spec, weights), atol=1e-4)


def check_model_attention_reaches_every_layer():
    """A Llama built with attention="pallas" runs the kernel in each layer (interpret mode)
    and gives the XLA model's logits."""
    from flax import nnx
    from jax.experimental.pallas import tpu as pltpu

    from gentool_jax.model.config import ModelConfig
    from gentool_jax.model.llama import Llama

    config = ModelConfig(vocab_size=97, hidden_size=64, intermediate_size=96, num_layers=2,
                         num_heads=4, num_kv_heads=2, head_dim=16)
    tokens = jnp.asarray(np.random.default_rng(0).integers(0, 97, (1, 128)), jnp.int32)
    positions = jnp.arange(128, dtype=jnp.int32)[None]
    calls = []
    kernel = attention_kernels._pallas_flash
    attention_kernels._pallas_flash = lambda *args: calls.append(1) or kernel(*args)
    logits = {}
    for name in ("xla", "pallas"):
        model = Llama(config, attention=name, rngs=nnx.Rngs(0))
        with pltpu.force_tpu_interpret_mode():
            logits[name] = model(tokens, positions)[0]
    assert len(calls) == config.num_layers
    np.testing.assert_allclose(logits["pallas"], logits["xla"], atol=1e-4)


def _run_check_in_a_fresh_process(check: str, timeout: float) -> None:
    """Pallas' TPU interpreter drives the kernel through host callbacks, and on the 2-core CI
    machine it has failed intermittently: once it took the pytest worker down (`node down`,
    no traceback), once a fresh process running the whole-model check hung past 600 s, while
    alone every check always passed. A fresh process keeps other tests' JAX state out, and a
    crash or a hang is this test's failure with the child's output, not a lost worker."""
    tests = Path(__file__).parent
    code = (f"import sys; sys.path.insert(0, {str(tests)!r}); "
            f"import {Path(__file__).stem} as checks; checks.{check}()")
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    try:
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=timeout, cwd=tests.parent)
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"{check} hung past {timeout:.0f} s:\n{_tail(hung.stdout)}\n"
                    f"{_tail(hung.stderr)}")
    assert done.returncode == 0, (f"{check} exited {done.returncode}:\n{_tail(done.stdout)}\n"
                                  f"{_tail(done.stderr)}")


def _tail(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        output = output.decode(errors="replace")
    return (output or "")[-3000:]


def test_the_pallas_kernel_in_interpret_mode_computes_the_xla_kernels_attention():
    _run_check_in_a_fresh_process("check_pallas_numerics", timeout=300)


@pytest.mark.slow
def test_model_attention_reaches_every_layer():
    """Behind `slow`: this whole-model run, dispatched op by op, is the check that hung (see
    `_run_check_in_a_fresh_process`); the kernel's numerics above stay in the default suite."""
    _run_check_in_a_fresh_process("check_model_attention_reaches_every_layer", timeout=600)
