"""Query-blocked attention computes what one-shot attention computes, values and gradients."""

import jax
import jax.numpy as jnp
import numpy as np

from gentool_jax.model.layers import attend


def _packed_causal_mask(segment_ids: np.ndarray) -> np.ndarray:
    t = segment_ids.shape[1]
    causal = np.tril(np.ones((t, t), bool))[None]
    same = segment_ids[:, :, None] == segment_ids[:, None, :]
    return causal & same & (segment_ids[:, None, :] != 0)


def test_blocked_attention_matches_one_block():
    rng = np.random.default_rng(0)
    b, t, kv_heads, groups, dim = 2, 64, 2, 3, 8
    q = jnp.asarray(rng.normal(size=(b, t, kv_heads, groups, dim)), jnp.float32)
    k = jnp.asarray(rng.normal(size=(b, t, kv_heads, dim)), jnp.float32)
    v = jnp.asarray(rng.normal(size=(b, t, kv_heads, dim)), jnp.float32)
    # Row 0: two packed samples and trailing padding; row 1: one sample.
    segment_ids = np.ones((b, t), np.int32)
    segment_ids[0, 20:50], segment_ids[0, 50:] = 2, 0
    mask = jnp.asarray(_packed_causal_mask(segment_ids))
    weights = jnp.asarray(rng.normal(size=q.shape), jnp.float32)

    def loss(q, k, v, chunk):
        return jnp.sum(attend(q, k, v, mask, query_chunk=chunk) * weights)

    whole = jax.value_and_grad(loss, argnums=(0, 1, 2))(q, k, v, t)
    blocked = jax.value_and_grad(loss, argnums=(0, 1, 2))(q, k, v, 16)
    np.testing.assert_allclose(blocked[0], whole[0], rtol=1e-5)
    for ours, reference in zip(blocked[1], whole[1]):
        np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_uneven_length_falls_back_to_one_block():
    q = jnp.ones((1, 10, 1, 1, 4))
    k = v = jnp.ones((1, 10, 1, 4))
    mask = jnp.asarray(np.tril(np.ones((10, 10), bool))[None])
    np.testing.assert_allclose(attend(q, k, v, mask, query_chunk=4),
                               attend(q, k, v, mask, query_chunk=10))
