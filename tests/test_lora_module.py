"""LoRA adapters: target selection, the split, merge / unmerge, and seeded dropout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from ml_collections import ConfigDict
from test_train_step import random_batch

from gentool_jax.errors import GentoolError
from gentool_jax.model.loading import load_model
from gentool_jax.model.lora import (
    LoRAParam,
    adapters,
    apply_lora,
    merge_lora,
    split_lora,
    unmerge_lora,
)
from gentool_jax.model.tiny import build_tiny_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), vocab_size=512)


def _config(targets, rank=2, dropout=0.0):
    return ConfigDict(dict(rank=rank, alpha=4.0, dropout=dropout, targets=targets,
                           param_dtype="float32"))


def _logits(model, batch):
    return np.asarray(model(jnp.asarray(batch["tokens"]), jnp.asarray(batch["positions"]),
                            segment_ids=jnp.asarray(batch["segment_ids"]))[0])


def test_targets_regex_selects_modules_and_split_separates_them(model_dir):
    model = load_model(model_dir)
    paths = apply_lora(model, _config(r"layers\.1\.attn\.(q|v)_proj"), nnx.Rngs(params=0))
    assert paths == ["layers.1.attn.q_proj", "layers.1.attn.v_proj"]
    _, lora, frozen = split_lora(model)
    lora_leaves = nnx.to_flat_state(lora)
    assert len(lora_leaves) == 4
    assert all(isinstance(v, LoRAParam) for _, v in lora_leaves)
    assert not any(isinstance(v, LoRAParam) for _, v in nnx.to_flat_state(frozen))
    q = adapters(model)["layers.1.attn.q_proj"]
    assert q.lora_a.shape == (64, 2) and q.lora_b.shape == (2, 64)
    assert float(jnp.abs(q.lora_b[...]).max()) == 0.0 and float(jnp.abs(q.lora_a[...]).max()) > 0


def test_bad_targets_are_named(model_dir):
    model = load_model(model_dir)
    with pytest.raises(GentoolError, match="matches no linear"):
        apply_lora(model, _config(r"nothing_here"), nnx.Rngs(params=0))
    with pytest.raises(GentoolError, match="not a valid regex"):
        apply_lora(model, _config(r"(unclosed"), nnx.Rngs(params=0))
    with pytest.raises(GentoolError, match="rank"):
        apply_lora(model, _config(r".*q_proj", rank=0), nnx.Rngs(params=0))


def test_merge_then_unmerge_round_trip(model_dir):
    model = load_model(model_dir)
    batch = random_batch(2)
    apply_lora(model, _config(r".*(q_proj|down_proj)$"), nnx.Rngs(params=0))
    for i, lora in enumerate(adapters(model).values()):
        lora.lora_b[...] = jnp.full(lora.lora_b.shape, 0.01 * (i + 1))
    kernel_before = np.asarray(model.layers[0].attn.q_proj.kernel[...])
    adapted = _logits(model, batch)
    detached = merge_lora(model)
    assert not adapters(model) and len(detached) == 4
    np.testing.assert_allclose(_logits(model, batch), adapted, atol=1e-5)
    unmerge_lora(model, detached)
    np.testing.assert_allclose(_logits(model, batch), adapted, atol=1e-5)
    np.testing.assert_allclose(model.layers[0].attn.q_proj.kernel[...], kernel_before, atol=1e-6)


def test_dropout_masks_are_a_function_of_the_step_key(model_dir):
    from gentool_jax.train.step import make_loss_fn

    model = load_model(model_dir)
    apply_lora(model, _config(r".*", dropout=0.5), nnx.Rngs(params=0, dropout=0))
    for lora in adapters(model).values():  # nonzero B, or dropping inputs of A changes nothing
        lora.lora_b[...] = jnp.full(lora.lora_b.shape, 0.05)
    graphdef, lora, frozen = split_lora(model)
    batch = {key: jnp.asarray(value) for key, value in random_batch(4).items()}
    loss_fn = jax.jit(make_loss_fn(graphdef, dropout_seed=7))
    first, again, other = (float(loss_fn(lora, frozen, batch, key)[0]) for key in (3, 3, 4))
    assert first == again  # a resumed run redraws exactly the same masks
    assert first != other
