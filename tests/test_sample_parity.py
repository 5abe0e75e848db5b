"""Greedy decoding equals transformers `generate(do_sample=False)` token for token: on a tiny
random Llama (a left-padded batch against HF running the prompts one by one) and on the
embedded default model, SmolLM2-135M-Instruct."""

import ml_collections
import numpy as np
import pytest

from gentool_jax.model.loading import load_model
from gentool_jax.model.registry import load_tokenizer, resolve_model
from gentool_jax.model.tiny import build_tiny_model
from gentool_jax.sample.generate import generate, stop_ids_for

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def hf_greedy(hf_model, prompt: list[int], max_new_tokens: int, stop_ids: list[int]):
    with torch.no_grad():
        out = hf_model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt),
                                dtype=torch.long), do_sample=False,
                                max_new_tokens=max_new_tokens, eos_token_id=stop_ids or None,
                                pad_token_id=0)
    return out[0, len(prompt):].tolist()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), seed=3)


def test_tiny_model_batch_matches_transformers_one_by_one(tiny_dir):
    hf = transformers.AutoModelForCausalLM.from_pretrained(str(tiny_dir), dtype=torch.float32)
    hf.eval()
    rng = np.random.default_rng(0)
    prompts = [rng.integers(3, 512, size=n).tolist() for n in (4, 23, 11, 40)]
    ours = generate(load_model(tiny_dir), prompts, max_new_tokens=20, stop_ids=[],
                    batch_size=4, bucket=64)
    for prompt, out in zip(prompts, ours):
        assert out == hf_greedy(hf, prompt, 20, [])


def test_default_model_matches_transformers():
    config = ml_collections.ConfigDict(dict(name="smollm2-135m-instruct", cache_dir=""))
    path = resolve_model(config)
    tokenizer = load_tokenizer(path)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Name three colours of the rainbow."}],
        add_generation_prompt=True, tokenize=True)
    prompt = list(prompt["input_ids"] if hasattr(prompt, "keys") else prompt)
    stops = stop_ids_for(tokenizer)
    ours = generate(load_model(path), [prompt], max_new_tokens=20, stop_ids=stops,
                    batch_size=1, bucket=64)[0]
    hf = transformers.AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    hf.eval()
    assert len(ours) >= 10
    assert ours == hf_greedy(hf, prompt, 20, stops)
