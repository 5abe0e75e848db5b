"""The decoding paths (prefill + one token at a time, left padding) and packing agree with the
plain full forward, which itself is checked against transformers in test_model_parity."""

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from gentool_jax.model.kv_cache import init_cache
from gentool_jax.model.llama import Llama
from gentool_jax.model.loading import load_model

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def model(hf_checkpoint):
    return load_model(hf_checkpoint("llama"))


@pytest.fixture(scope="module")
def windowed(hf_checkpoint):
    return load_model(hf_checkpoint("mistral", sliding_window=8, head_dim=32))


@nnx.jit
def forward(model, tokens, positions, segment_ids):
    return model(tokens, positions, segment_ids=segment_ids)[0]


@nnx.jit
def step(model, tokens, positions, segment_ids, cache):
    return model(tokens, positions, segment_ids=segment_ids, cache=cache)


def _positions(length: int, batch: int = 1):
    return jnp.broadcast_to(jnp.arange(length, dtype=jnp.int32), (batch, length))


def test_prefill_then_token_by_token_equals_full_forward(windowed):
    """Mistral's sliding window (8) is shorter than the prompt, so the cache path must apply it."""
    model = windowed
    tokens = jnp.asarray(np.random.default_rng(0).integers(0, 384, (2, 40)), jnp.int32)
    full = forward(model, tokens, _positions(40, 2), jnp.ones((2, 40), jnp.int32))
    cache = init_cache(model.config, batch=2, max_len=48)
    prefill = 24
    logits, cache = step(model, tokens[:, :prefill], _positions(prefill, 2),
                         jnp.ones((2, prefill), jnp.int32), cache)
    pieces = [logits]
    for t in range(prefill, 40):
        logits, cache = step(model, tokens[:, t:t + 1], jnp.full((2, 1), t, jnp.int32),
                             jnp.ones((2, 1), jnp.int32), cache)
        pieces.append(logits)
    assert int(cache.index) == 40
    decoded = jnp.concatenate(pieces, axis=1)
    assert float(jnp.abs(decoded - full).max()) <= TOLERANCE


def _right_padded(rows, width=None):
    """Each row on its own line of a batch (one compile for all), padding after it."""
    width = width or max(len(row) for row in rows)
    tokens = np.zeros((len(rows), width), np.int32)
    segments = np.zeros((len(rows), width), np.int32)
    for i, row in enumerate(rows):
        tokens[i, :len(row)] = row
        segments[i, :len(row)] = 1
    return jnp.asarray(tokens), _positions(width, len(rows)), jnp.asarray(segments)


def test_left_padded_batch_matches_unpadded_rows(model):
    rng = np.random.default_rng(1)
    lengths, width, new = (12, 7), 12, 5
    rows = [rng.integers(0, 384, (n + new,)) for n in lengths]
    tokens = np.zeros((2, width), np.int32)
    segments = np.zeros((2, width), np.int32)
    positions = np.zeros((2, width), np.int32)
    for i, (row, n) in enumerate(zip(rows, lengths)):
        tokens[i, width - n:] = row[:n]
        segments[i, width - n:] = 1
        positions[i, width - n:] = np.arange(n)
    cache = init_cache(model.config, batch=2, max_len=width + new)
    logits, cache = step(model, jnp.asarray(tokens), jnp.asarray(positions),
                         jnp.asarray(segments), cache)
    last = [logits[:, -1]]
    for k in range(new - 1):
        next_tokens = jnp.asarray([[row[n + k]] for row, n in zip(rows, lengths)], jnp.int32)
        next_positions = jnp.asarray([[n + k] for n in lengths], jnp.int32)
        logits, cache = step(model, next_tokens, next_positions, jnp.ones((2, 1), jnp.int32),
                             cache)
        last.append(logits[:, -1])
    alone = forward(model, *_right_padded([row[:n + new - 1] for row, n in zip(rows, lengths)]))
    for i, n in enumerate(lengths):
        for k, logits_k in enumerate(last):
            diff = float(jnp.abs(logits_k[i] - alone[i, n - 1 + k]).max())
            assert diff <= TOLERANCE, (i, k, diff)


def test_packed_segments_equal_separate_forwards(model):
    rng = np.random.default_rng(2)
    sizes = (9, 14, 6)
    rows = [rng.integers(0, 384, (n,)) for n in sizes]
    width = sum(sizes) + 3  # trailing padding (segment 0)
    tokens = np.zeros((1, width), np.int32)
    segments = np.zeros((1, width), np.int32)
    positions = np.zeros((1, width), np.int32)
    start = 0
    for seg, row in enumerate(rows, start=1):
        tokens[0, start:start + len(row)] = row
        segments[0, start:start + len(row)] = seg
        positions[0, start:start + len(row)] = np.arange(len(row))
        start += len(row)
    packed = forward(model, jnp.asarray(tokens), jnp.asarray(positions), jnp.asarray(segments))
    assert bool(jnp.isfinite(packed).all())  # padding rows attend to nothing, yet stay finite
    alone = forward(model, *_right_padded(rows, width))
    start = 0
    for i, row in enumerate(rows):
        diff = float(jnp.abs(packed[0, start:start + len(row)] - alone[i, :len(row)]).max())
        assert diff <= TOLERANCE
        start += len(row)


def test_remat_policies_give_same_gradients(model):
    tokens = jnp.asarray(np.random.default_rng(3).integers(0, 384, (2, 16)), jnp.int32)
    config = dataclasses.replace(model.config, num_layers=1)

    def loss(model):
        return model(tokens, _positions(16, 2))[0].mean()

    grads = {}
    for policy in ("none", "full", "dots_saveable"):
        remat_model = Llama(config, remat=policy, rngs=nnx.Rngs(0))
        grads[policy] = nnx.jit(nnx.grad(loss))(remat_model)
    reference = grads["none"]["layers"][0]["attn"]["q_proj"]["kernel"][...]
    for policy in ("full", "dots_saveable"):
        other = grads[policy]["layers"][0]["attn"]["q_proj"]["kernel"][...]
        assert float(jnp.abs(other - reference).max()) <= 1e-6
