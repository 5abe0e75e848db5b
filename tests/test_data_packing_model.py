"""Packing is exact: the tiny model gives the same per-token losses packed as one by one."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from test_data_common import make_record, tiny_model_dir, tiny_tokenizer  # noqa: F401

from gentool_jax.data.batches import make_batch
from gentool_jax.data.render import encode_example
from gentool_jax.model.loading import load_model


@nnx.jit
def _token_nll(model, tokens, positions, segment_ids, targets):
    logits, _ = model(tokens, positions, segment_ids=segment_ids)
    logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    return -jnp.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]


def _target_losses(model, batch):
    """Cross-entropy of every loss-masked position, in row-major order."""
    nll = _token_nll(model, *(jnp.asarray(batch[key]) for key in
                              ("tokens", "positions", "segment_ids", "targets")))
    return np.asarray(nll)[batch["loss_mask"] > 0]


def test_packed_loss_equals_unpacked(tiny_model_dir, tiny_tokenizer):  # noqa: F811
    model = load_model(tiny_model_dir)
    examples = [encode_example(make_record(i), tiny_tokenizer, style="compact",
                               include_ranking=True, include_call=i != 1) for i in range(3)]
    max_len = len(examples[0]) + len(examples[1]) + 8
    # Same row count both ways, so one compiled function serves every call.
    packed = make_batch([[examples[0], examples[1]], [examples[2]], []], max_len)
    unpacked = make_batch([[example] for example in examples], max_len)
    assert packed["segment_ids"][0].max() == 2
    packed_losses = _target_losses(model, packed)
    unpacked_losses = _target_losses(model, unpacked)
    assert len(packed_losses) == sum(int(e.loss_mask.sum()) for e in examples)
    np.testing.assert_allclose(packed_losses, unpacked_losses, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(packed_losses.mean(), unpacked_losses.mean(), rtol=1e-6)
    # Without segment ids the second sample would attend to the first: the check has teeth.
    leaky = dict(packed, segment_ids=(packed["segment_ids"] > 0).astype(np.int32),
                 positions=np.where(packed["segment_ids"] > 0,
                                    np.arange(max_len)[None], 0).astype(np.int32))
    assert not np.allclose(_target_losses(model, leaky), unpacked_losses, atol=1e-4)
