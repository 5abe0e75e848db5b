"""Shared-prefix rows are exact: per-sample losses and LoRA gradients equal those of the samples
trained one by one (tiny model and a SmolLM2-shaped slice), and the batcher keeps the pipeline
contract (every sample once an epoch, exact resume, drop-not-truncate)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from test_data_common import (  # noqa: F401
    make_record,
    make_records,
    records_file,
    tiny_model_dir,
    tiny_tokenizer,
)

from configs import base
from gentool_jax.data import input_pipeline
from gentool_jax.data.batches import SharedSegment, make_batch
from gentool_jax.data.render import encode_example
from gentool_jax.data.shared_prefix import (
    common_prefix_length,
    group_by_toolset,
    split_shared_prefix,
)
from gentool_jax.model.config import ModelConfig
from gentool_jax.model.llama import Llama
from gentool_jax.model.loading import load_model
from gentool_jax.model.lora import adapters, apply_lora, split_lora
from gentool_jax.train.step import make_loss_fn


def _group_examples(tokenizer, indices, include_call=True):
    return [encode_example(make_record(i), tokenizer, style="compact", include_ranking=True,
                           include_call=include_call) for i in indices]


def test_common_prefix_length_by_hand():
    assert common_prefix_length([[1, 2, 3, 4], [1, 2, 5], [1, 2, 3]]) == 2
    assert common_prefix_length([[1, 2, 3]]) == 3
    assert common_prefix_length([[7, 1], [1, 7]]) == 0
    assert common_prefix_length([]) == 0


def test_groups_follow_the_toolset(tiny_tokenizer):  # noqa: F811
    records = make_records(12)
    groups = group_by_toolset(records)
    # make_record's toolset depends on i % 4 only (variant and distractor count).
    assert groups == [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]
    examples = _group_examples(tiny_tokenizer, groups[0])
    segment = split_shared_prefix(examples)
    assert len(segment.prefix) > 0.6 * len(examples[0])  # the toolset dominates a sample
    for example, turn in zip(examples, segment.turns):
        np.testing.assert_array_equal(np.concatenate([segment.prefix, turn.tokens]),
                                      example.tokens)
        assert not turn.loss_mask[0]  # each turn starts with a prompt token
        assert turn.loss_mask.sum() == example.loss_mask.sum()


def _lora_model(model: Llama, seed: int) -> Llama:
    lora = base.get_config().model.lora
    lora.rank = 4
    apply_lora(model, lora, nnx.Rngs(params=seed))
    key = jax.random.key(seed)
    for i, adapter in enumerate(adapters(model).values()):
        adapter.lora_b[...] = 0.05 * jax.random.normal(jax.random.fold_in(key, i),
                                                       adapter.lora_b.shape)
    return model


def _sample_losses(graphdef, lora, frozen, batch, turn_ids=None):
    """Per-token NLL of the batch, summed per (row, segment, turn), in layout order; the
    model sees `batch["turn_ids"]`, the sums group by `turn_ids` (default: the same)."""
    turn_ids = batch["turn_ids"] if turn_ids is None else turn_ids
    model = nnx.merge(graphdef, lora, frozen)
    logits, _ = model(jnp.asarray(batch["tokens"]), jnp.asarray(batch["positions"]),
                      segment_ids=jnp.asarray(batch["segment_ids"]),
                      turn_ids=jnp.asarray(batch["turn_ids"]))
    logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    nll = -np.asarray(jnp.take_along_axis(logp, jnp.asarray(batch["targets"])[..., None],
                                          axis=-1)[..., 0])
    losses = {}
    for r, t in zip(*np.nonzero(batch["loss_mask"])):
        key = (r, batch["segment_ids"][r, t], turn_ids[r, t])
        losses[key] = losses.get(key, 0.0) + nll[r, t]
    return [losses[key] for key in sorted(losses)]


def _check_exact(model: Llama, examples, max_len: int):
    graphdef, lora, frozen = split_lora(model)
    half = len(examples) // 2
    segments = [split_shared_prefix(examples[:half]), split_shared_prefix(examples[half:])]
    shared = make_batch([[segments[0]], [segments[1]]], max_len)
    single = make_batch([[example] for example in examples], max_len)
    assert shared["turn_ids"].max() == half
    np.testing.assert_allclose(_sample_losses(graphdef, lora, frozen, shared),
                               _sample_losses(graphdef, lora, frozen, single), rtol=1e-5)

    loss_fn = make_loss_fn(graphdef, dropout_seed=0, loss_chunk=32)
    grad = jax.jit(jax.grad(lambda lora, batch: loss_fn(lora, frozen, batch, 0)[0]))
    want = grad(lora, {k: jnp.asarray(v) for k, v in single.items()})
    got = grad(lora, {k: jnp.asarray(v) for k, v in shared.items()})
    scale = max(float(jnp.max(jnp.abs(leaf))) for leaf in jax.tree.leaves(want))
    assert scale > 0
    for w, g in zip(jax.tree.leaves(want), jax.tree.leaves(got)):
        np.testing.assert_allclose(np.asarray(g) / scale, np.asarray(w) / scale, atol=1e-5)
    # Without turn ids the later turns would attend to the earlier ones: the check has teeth.
    leaky = dict(shared, turn_ids=np.zeros_like(shared["turn_ids"]))
    assert not np.allclose(_sample_losses(graphdef, lora, frozen, leaky, shared["turn_ids"]),
                           _sample_losses(graphdef, lora, frozen, single), rtol=1e-4)


def test_shared_prefix_rows_equal_samples_one_by_one(tiny_model_dir, tiny_tokenizer):  # noqa: F811
    examples = _group_examples(tiny_tokenizer, [1, 5, 9, 13])
    max_len = 2 * max(len(example) for example in examples) + 16
    _check_exact(_lora_model(load_model(tiny_model_dir), seed=0), examples, max_len)


def test_shared_prefix_exact_on_a_smollm2_shaped_slice(tiny_tokenizer):  # noqa: F811
    """SmolLM2-135M's layer shapes (576 wide, 9 heads over 3 KV heads of 64), two layers."""
    config = ModelConfig(vocab_size=len(tiny_tokenizer), hidden_size=576,
                         intermediate_size=1536, num_layers=2, num_heads=9, num_kv_heads=3,
                         head_dim=64, rope_theta=100000.0, tie_word_embeddings=True)
    examples = _group_examples(tiny_tokenizer, [2, 6, 10, 14], include_call=False)
    max_len = 2 * max(len(example) for example in examples) + 16
    _check_exact(_lora_model(Llama(config, rngs=nnx.Rngs(3)), seed=1), examples, max_len)


def _configs(batch_size=2, max_len=1024, shuffle_tools=True):
    config = base.get_config()
    config.data.max_len = max_len
    config.data.pack = True
    config.data.share_prefix = True
    config.data.shuffle_tools = shuffle_tools
    config.train.stage2.batch_size = batch_size
    return config.data, config.train.stage2


def _turn_texts(batch, tokenizer):
    texts = []
    for r in range(len(batch["tokens"])):
        for segment in range(1, int(batch["segment_ids"][r].max()) + 1):
            in_segment = batch["segment_ids"][r] == segment
            for turn in range(1, int(batch["turn_ids"][r][in_segment].max()) + 1):
                where = in_segment & (batch["turn_ids"][r] == turn)
                texts.append(tokenizer.decode(batch["tokens"][r][where]))
    return texts


def test_every_sample_once_per_epoch_and_exact_resume(records_file, tiny_tokenizer):  # noqa: F811
    data, stage = _configs()
    make = lambda: input_pipeline.make_train_iterator(  # noqa: E731
        records_file, tiny_tokenizer, data_config=data, stage_config=stage, seed=4)
    it = make()
    seen = []
    while it.samples < 24:
        seen += _turn_texts(next(it), tiny_tokenizer)
    assert it.samples == 24 and it.dropped == 0
    cases = sorted(int(text.split("(case ")[1].split(")")[0]) for text in seen)
    assert cases == list(range(24))  # the 24 records of the file, each exactly once

    data, stage = _configs(batch_size=1)
    it = make()
    next(it)
    state = it.get_state()
    assert state["placed"] > 0  # the resume point is in the middle of a group
    expected = [next(it) for _ in range(3)]
    resumed = make()
    resumed.set_state(state)
    for want in expected:
        got = next(resumed)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])


def test_turns_that_cannot_fit_are_dropped_and_counted(records_file, tiny_tokenizer):  # noqa: F811
    examples = _group_examples(tiny_tokenizer, [0, 4])
    prefix = len(split_shared_prefix(examples).prefix)
    data, stage = _configs(max_len=prefix + 8)
    it = input_pipeline.make_train_iterator(records_file, tiny_tokenizer, data_config=data,
                                      stage_config=stage, seed=0)
    with pytest.raises(Exception, match="whole epoch"):
        next(it)


def test_share_prefix_needs_packing(records_file, tiny_tokenizer):  # noqa: F811
    data, stage = _configs()
    data.pack = False
    with pytest.raises(Exception, match="share_prefix"):
        input_pipeline.make_train_iterator(records_file, tiny_tokenizer, data_config=data,
                                     stage_config=stage, seed=0)


def test_segments_lay_out_positions_from_the_prefix_end():
    from gentool_jax.data.render import EncodedExample

    turn = lambda n: EncodedExample(np.arange(10, 10 + n, dtype=np.int32),  # noqa: E731
                                    np.array([False] + [True] * (n - 1)))
    segment = SharedSegment(np.array([1, 2, 3], np.int32), (turn(2), turn(3)))
    batch = make_batch([[segment]], 10)
    np.testing.assert_array_equal(batch["positions"][0], [0, 1, 2, 3, 4, 3, 4, 5, 0, 0])
    np.testing.assert_array_equal(batch["turn_ids"][0], [0, 0, 0, 1, 1, 2, 2, 2, 0, 0])
    np.testing.assert_array_equal(batch["segment_ids"][0], [1] * 8 + [0, 0])
    np.testing.assert_array_equal(batch["loss_mask"][0], [0, 0, 0, 1, 0, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(batch["targets"][0], [2, 3, 0, 11, 0, 11, 12, 0, 0, 0])
