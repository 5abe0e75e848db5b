"""Token alignment (`selector/alignment.py`) by hand, and the encoder's token states it reads:
the pooled vector is their mean, one row per token, none kept when not asked for."""

import numpy as np
import pytest

from gentool_jax.selector.alignment import record_alignments, token_alignment, unit_tokens
from gentool_jax.selector.encode import TextStates, encode_texts, tool_text
from gentool_jax.selector.fit import candidates


def test_token_alignment_matches_a_hand_computation():
    # Query tokens e0, e1; tool tokens e0, (e1 + e2)/sqrt2, e2.
    query = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    tool = np.array([[1.0, 0.0, 0.0], [0.0, 2 ** -0.5, 2 ** -0.5], [0.0, 0.0, 1.0]])
    # Query side: best of e0 is 1, of e1 is 1/sqrt2 -> mean (1 + 0.7071) / 2.
    # Tool side: e0 -> 1, (e1 + e2)/sqrt2 -> 0.7071, e2 -> 0 -> mean 1.7071 / 3.
    expected = 0.5 * ((1 + 2 ** -0.5) / 2 + (1 + 2 ** -0.5) / 3)
    assert token_alignment(query, tool) == pytest.approx(expected)
    assert token_alignment(tool, query) == pytest.approx(expected)  # symmetric
    assert token_alignment(query, query) == pytest.approx(1.0)


def test_tokens_are_standardised_with_the_head_s_mean_and_scale():
    tokens = np.array([[3.0, 4.0], [1.0, 1.0]], np.float16)
    units = unit_tokens(tokens, mean=np.array([1.0, 1.0]), scale=2.0)
    np.testing.assert_allclose(units[0], [0.5547, 0.8321], atol=1e-4)  # (2, 3) / |(2, 3)|
    assert units[1].tolist() == [0.0, 0.0]  # a token at the mean aligns with nothing


def test_candidates_standardise_alignment_over_the_toolset_and_keep_the_best_raw():
    hidden = 4
    rng = np.random.default_rng(0)
    weather = {"name": "weather", "description": "Rain."}
    stocks = {"name": "stocks", "description": "Prices."}
    query_tokens = rng.normal(size=(3, hidden)).astype(np.float16)
    tokens = {"q": query_tokens, tool_text(weather): query_tokens[:2],
              tool_text(stocks): rng.normal(size=(2, hidden)).astype(np.float16)}
    pooled = {text: value.astype(np.float32).mean(0) for text, value in tokens.items()}
    record = {"query": "q", "tools": [weather, stocks],
              "call": {"name": "weather", "arguments": {}}}
    standardised = (np.zeros(hidden, np.float32), 1.0)
    arrays = candidates([record], TextStates(pooled, tokens), standardised)
    raw = record_alignments([record], tokens, *standardised)[0]
    assert raw[0] > raw[1]  # the weather text holds two of the query's three tokens
    assert arrays.alignment[0].tolist() == [1.0, -1.0]  # two tools: +-1 after standardising


def test_encode_texts_keeps_one_row_per_token_whose_mean_is_the_pooled_vector(tiny_model_dir):
    from gentool_jax.model.loading import load_model
    from gentool_jax.model.registry import load_tokenizer

    model, tokenizer = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    texts = ["weather in Oslo", "a longer text about the prices of stocks and bonds"]
    states = encode_texts(model, tokenizer, texts, depth=1, batch_size=2)
    for text in texts:
        length = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        assert states.tokens[text].shape == (length, states.pooled[text].shape[0])
        assert states.tokens[text].dtype == np.float16
        np.testing.assert_allclose(states.tokens[text].astype(np.float32).mean(0),
                                   states.pooled[text], atol=2e-2, rtol=1e-2)
    pooled_only = encode_texts(model, tokenizer, texts, depth=1, batch_size=2,
                               keep_tokens=False)
    assert pooled_only.tokens == {}
    for text in texts:
        np.testing.assert_array_equal(pooled_only.pooled[text], states.pooled[text])
