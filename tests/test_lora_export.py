"""Exported adapters load in the HF ecosystem and compute our logits.

The PEFT directory goes onto the original base with `peft.PeftModel`; the merged checkpoint loads
with `transformers` alone. Both are compared with our model's logits on the same tokens.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from ml_collections import ConfigDict

from gentool_jax.model.hf_export import (
    collect_adapters,
    combine,
    export_merged,
    export_peft_adapter,
)
from gentool_jax.model.loading import load_model
from gentool_jax.model.lora import adapters, apply_lora, iter_linears, merge_lora
from gentool_jax.model.tiny import build_tiny_model

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

TOKENS = np.array([[5, 17, 99, 3, 250, 41, 7, 300, 12, 8, 61, 2]], np.int32)


def _lora_config(targets=r".*(q_proj|v_proj|down_proj)$"):
    return ConfigDict(dict(rank=4, alpha=8.0, dropout=0.0, targets=targets,
                           param_dtype="float32"))


def _randomize_b(model, seed):
    """B starts at zero (a no-op adapter); give it values so the export has something to show."""
    for i, lora in enumerate(adapters(model).values()):
        key = jax.random.fold_in(jax.random.key(seed), i)
        lora.lora_b[...] = 0.2 * jax.random.normal(key, lora.lora_b.shape)


def _ours(model):
    positions = np.arange(TOKENS.shape[1], dtype=np.int32)[None]
    logits, _ = model(jnp.asarray(TOKENS), jnp.asarray(positions))
    return np.asarray(logits)


def _torch_logits(hf_model):
    with torch.no_grad():
        return hf_model(torch.tensor(TOKENS, dtype=torch.long)).logits.numpy()


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), vocab_size=512)


def test_peft_adapter_and_merged_checkpoint_match_our_logits(base_dir, tmp_path):
    model = load_model(base_dir)
    apply_lora(model, _lora_config(), nnx.Rngs(params=1))
    _randomize_b(model, 2)
    ours = _ours(model)
    export_peft_adapter(collect_adapters(model), tmp_path / "adapter", base_model=str(base_dir),
                        linear_paths=[path for path, _ in iter_linears(model)])
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert sorted(config["target_modules"]) == ["down_proj", "q_proj", "v_proj"]
    assert config["r"] == 4 and config["lora_alpha"] == 8.0

    base = transformers.AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    base_logits = _torch_logits(base)
    peft_model = peft.PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    np.testing.assert_allclose(_torch_logits(peft_model), ours, atol=1e-4)
    assert np.abs(base_logits - ours).max() > 1e-2  # the adapters really change the logits

    merge_lora(model)
    np.testing.assert_allclose(_ours(model), ours, atol=1e-4)
    export_merged(model, base_dir, tmp_path / "merged")
    merged = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "merged",
                                                               dtype=torch.float32)
    np.testing.assert_allclose(_torch_logits(merged), ours, atol=1e-4)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tmp_path / "merged")
    assert tokenizer.chat_template


def test_two_merged_stages_export_as_one_adapter_of_summed_rank(base_dir, tmp_path):
    model = load_model(base_dir)
    apply_lora(model, _lora_config(r"layers\.0\..*"), nnx.Rngs(params=1))
    _randomize_b(model, 3)
    first = collect_adapters(model)
    merge_lora(model)
    apply_lora(model, _lora_config(r"layers\.0\..*"), nnx.Rngs(params=4))
    _randomize_b(model, 5)
    ours = _ours(model)
    export_peft_adapter(combine([first, collect_adapters(model)]), tmp_path,
                        base_model=str(base_dir),
                        linear_paths=[path for path, _ in iter_linears(model)])
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert config["r"] == 8  # two rank-4 sets
    assert isinstance(config["target_modules"], str)  # only layer 0: an exact regex
    base = transformers.AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    peft_model = peft.PeftModel.from_pretrained(base, tmp_path).eval()
    np.testing.assert_allclose(_torch_logits(peft_model), ours, atol=1e-4)
