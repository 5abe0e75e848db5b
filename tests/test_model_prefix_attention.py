"""Attention over a shared prefix block plus a row's own cache equals one softmax over both."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gentool_jax.model.prefix_attention import PrefixLayer, attend_with_prefix

B, K, G, D = 5, 2, 3, 8
R, LP, S = 3, 12, 9


def _reference(q, k_t, v, mask, prefix: PrefixLayer, which):
    """Per row: its prefix's keys and its own slots in one key list, one softmax."""
    outs = []
    for b in range(q.shape[0]):
        keys = jnp.concatenate([prefix.k[which[b]], k_t[b]], axis=-1)  # [K, D, Lp + S]
        values = jnp.concatenate([prefix.v[which[b]], v[b]], axis=-2)  # [K, Lp + S, D]
        allowed = jnp.concatenate(
            [jnp.broadcast_to(prefix.valid[which[b]], (q.shape[1], LP)), mask[b]], axis=-1)
        scores = jnp.einsum("tkgd,kds->tkgs", q[b], keys) / math.sqrt(D)
        scores = jnp.where(allowed[:, None, None, :], scores, -jnp.inf)
        outs.append(jnp.einsum("tkgs,ksd->tkgd", jax.nn.softmax(scores, axis=-1), values))
    return jnp.stack(outs)


@pytest.mark.parametrize("queries", [1, 4])
def test_prefix_and_own_slots_merge_to_one_softmax(queries):
    rng = np.random.default_rng(queries)
    normal = lambda *shape: jnp.asarray(rng.standard_normal(shape), jnp.float32)  # noqa: E731
    which = [2, 0, 2, 2, 1]  # prefix of each row; rows of one prefix need not be adjacent
    slots = 4  # slots a prefix: prefix 2 has three rows, one slot of each prefix stays unused
    row_of_slot = np.zeros(R * slots, np.int32)
    slot_of_row = np.zeros(B, np.int32)
    taken = [0] * R
    for row, p in enumerate(which):
        slot_of_row[row] = p * slots + taken[p]
        row_of_slot[p * slots + taken[p]] = row
        taken[p] += 1
    valid = rng.random((R, LP)) < 0.7
    valid[:, -1] = True  # every prefix has a real token
    prefix = PrefixLayer(k=normal(R, K, D, LP), v=normal(R, K, LP, D), valid=jnp.asarray(valid),
                         row_of_slot=jnp.asarray(row_of_slot),
                         slot_of_row=jnp.asarray(slot_of_row))
    q, k_t, v = normal(B, queries, K, G, D), normal(B, K, D, S), normal(B, K, S, D)
    mask = rng.random((B, queries, S)) < 0.6
    mask[..., 0] = True
    mask = jnp.asarray(mask)
    got = attend_with_prefix(q, k_t, v, mask, prefix)
    want = _reference(q, k_t, v, mask, prefix, which)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)
    # Reading another row's prefix changes the result: the slot maps are really used.
    swapped = PrefixLayer(prefix.k, prefix.v, prefix.valid, prefix.row_of_slot,
                          jnp.asarray(np.roll(slot_of_row, 1)))
    assert not np.allclose(np.asarray(attend_with_prefix(q, k_t, v, mask, swapped)),
                           np.asarray(want), atol=1e-3)
