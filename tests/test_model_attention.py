"""The tiled (flash-style) attention computes what dense masked attention computes, values and
gradients, for packed samples, shared-prefix turns, padding, a sliding window and a cache
offset; the dense form's query blocks match one block."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gentool_jax.model import attention
from gentool_jax.model.attention import MaskSpec, attend, attend_dense


def _inputs(b=2, t=512, s=None, kv_heads=2, groups=3, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    s = t if s is None else s
    q = jnp.asarray(rng.normal(size=(b, t, kv_heads, groups, dim)), jnp.float32)
    k = jnp.asarray(rng.normal(size=(b, s, kv_heads, dim)), jnp.float32)
    v = jnp.asarray(rng.normal(size=(b, s, kv_heads, dim)), jnp.float32)
    return q, k, v, jnp.asarray(rng.normal(size=q.shape), jnp.float32)


def _packed_spec(t=512, window=None):
    """Row 0: two packed samples, the second a shared prefix with three turns, then padding;
    row 1: one sample over the whole row."""
    segments = np.ones((2, t), np.int32)
    turns = np.zeros((2, t), np.int32)
    segments[0, 100:420], segments[0, 420:] = 2, 0
    turns[0, 260:300], turns[0, 300:380], turns[0, 380:420] = 1, 2, 3
    segments, turns = jnp.asarray(segments), jnp.asarray(turns)
    return MaskSpec(segments, segments, turns, turns, jnp.zeros((), jnp.int32), window)


def _dense_reference(q, k, v, spec):
    return attend_dense(q, k, v, spec.dense(), query_chunk=q.shape[1])


@pytest.mark.parametrize("window", [None, 96])
def test_tiled_attention_matches_dense_values_and_gradients(window):
    q, k, v, weights = _inputs()
    spec = _packed_spec(window=window)
    assert attention._tile_size(q.shape[1]) == 256  # the tiled path is the one under test
    # A loss never reads padding queries (their output is finite garbage in both forms).
    real = np.asarray(spec.q_segments > 0)
    weights = weights * real[:, :, None, None, None]

    def loss(fn):
        return lambda q, k, v: jnp.sum(fn(q, k, v, spec) * weights)

    tiled = jax.jit(jax.value_and_grad(loss(attend), argnums=(0, 1, 2)))(q, k, v)
    dense = jax.jit(jax.value_and_grad(loss(_dense_reference), argnums=(0, 1, 2)))(q, k, v)
    np.testing.assert_allclose(tiled[0], dense[0], rtol=1e-5)
    for ours, reference in zip(tiled[1], dense[1]):
        np.testing.assert_allclose(ours, reference, atol=2e-5)
    np.testing.assert_allclose(np.asarray(attend(q, k, v, spec))[real],
                               np.asarray(_dense_reference(q, k, v, spec))[real], atol=1e-5)


def test_tiled_attention_with_a_cache_offset():
    """Prefill of 256 queries written at slot 128 of a 512-slot cache, slots past them empty."""
    q, k, v, _ = _inputs(t=256, s=512)
    q_seg = jnp.ones((2, 256), jnp.int32)
    k_seg = jnp.zeros((2, 512), jnp.int32).at[:, 40:384].set(1)
    spec = MaskSpec(q_seg, k_seg, jnp.zeros_like(q_seg), jnp.zeros_like(k_seg),
                    jnp.asarray(128, jnp.int32))
    np.testing.assert_allclose(attend(q, k, v, spec), _dense_reference(q, k, v, spec),
                               atol=1e-5)


def test_short_or_uneven_lengths_use_the_dense_form():
    q, k, v, _ = _inputs(t=10)
    segments = jnp.ones((2, 10), jnp.int32)
    spec = MaskSpec(segments, segments, 0 * segments, 0 * segments, jnp.zeros((), jnp.int32))
    assert attention._tile_size(10) is None
    np.testing.assert_allclose(attend(q, k, v, spec), _dense_reference(q, k, v, spec))


def test_dense_query_blocks_match_one_block():
    q, k, v, weights = _inputs(t=64)
    spec = _packed_spec(t=64)
    mask = spec.dense()

    def loss(q, k, v, chunk):
        return jnp.sum(attend_dense(q, k, v, mask, query_chunk=chunk) * weights)

    whole = jax.value_and_grad(loss, argnums=(0, 1, 2))(q, k, v, 64)
    blocked = jax.value_and_grad(loss, argnums=(0, 1, 2))(q, k, v, 16)
    np.testing.assert_allclose(blocked[0], whole[0], rtol=1e-5)
    for ours, reference in zip(blocked[1], whole[1]):
        np.testing.assert_allclose(ours, reference, atol=1e-5)
