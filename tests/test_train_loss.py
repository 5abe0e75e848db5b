"""The chunked masked cross-entropy against a plain full-logits reference, and the LR schedule."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from gentool_jax.errors import GentoolError
from gentool_jax.train.loss import masked_cross_entropy
from gentool_jax.train.optimizer import learning_rate_schedule


def _reference(hidden, targets, mask, weight):
    logits = hidden @ weight
    logp = jax.nn.log_softmax(logits, axis=-1)
    nll = -jnp.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    return jnp.sum(nll * mask), jnp.sum(mask)


@pytest.mark.parametrize("chunk", [4, 5, 32])
def test_chunked_loss_and_gradient_match_full_logits(chunk):
    keys = jax.random.split(jax.random.key(0), 4)
    hidden = jax.random.normal(keys[0], (3, 20, 8))
    weight = jax.random.normal(keys[1], (8, 50))
    targets = jax.random.randint(keys[2], (3, 20), 0, 50)
    mask = (jax.random.uniform(keys[3], (3, 20)) > 0.6).astype(jnp.float32)
    mask = mask.at[:, :10].set(0.0)  # whole chunks without targets take the skip branch

    def ours(h, w):
        return masked_cross_entropy(h, targets, mask, lambda x: x @ w, chunk=chunk)

    (loss, count), (gh, gw) = jax.value_and_grad(ours, argnums=(0, 1), has_aux=True)(
        hidden, weight)
    (ref_loss, ref_count), (rh, rw) = jax.value_and_grad(
        lambda h, w: _reference(h, targets, mask, w), argnums=(0, 1), has_aux=True)(hidden, weight)
    assert float(count) == float(ref_count) == float(mask.sum())
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
    np.testing.assert_allclose(gh, rh, atol=1e-5)
    np.testing.assert_allclose(gw, rw, atol=1e-5)


def test_hand_computed_uniform_logits():
    # Zero logits over a vocabulary of 10: every target token costs exactly log(10).
    hidden = jnp.zeros((1, 6, 4))
    mask = jnp.array([[0, 1, 1, 0, 1, 0]], jnp.float32)
    loss, count = masked_cross_entropy(hidden, jnp.zeros((1, 6), jnp.int32), mask,
                                       lambda x: x @ jnp.ones((4, 10)), chunk=2)
    assert float(count) == 3.0
    np.testing.assert_allclose(loss, 3 * np.log(10), rtol=1e-6)


def _configs(schedule="cosine", steps=10, warmup=3, lr=1.0):
    train = ConfigDict(dict(schedule=schedule))
    stage = ConfigDict(dict(steps=steps, warmup_steps=warmup, lr=lr))
    return train, stage


def test_schedule_warms_up_then_decays_to_zero():
    fn = learning_rate_schedule(*_configs())
    values = [float(fn(step)) for step in range(11)]
    np.testing.assert_allclose(values[:3], [1 / 3, 2 / 3, 1.0], rtol=1e-6)
    assert all(a > b for a, b in zip(values[3:10], values[4:11]))
    np.testing.assert_allclose(values[10], 0.0, atol=1e-7)
    constant = learning_rate_schedule(*_configs("constant"))
    assert [float(constant(s)) for s in (3, 9)] == [1.0, 1.0]


def test_bad_schedule_config_is_named():
    with pytest.raises(GentoolError, match="config.train.schedule"):
        learning_rate_schedule(*_configs("linear"))
    with pytest.raises(GentoolError, match="warmup_steps"):
        learning_rate_schedule(*_configs(warmup=11))
