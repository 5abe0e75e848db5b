"""Our Flax model against transformers (torch) on the same random checkpoints, fp32."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers

from gentool_jax.model.config import ModelConfig
from gentool_jax.model.loading import load_model

# Longer than one attention tile (model/attention.py), so the tiled attention path is compared too.
SEQ = 512
TOLERANCE = 1e-4
LLAMA3_ROPE = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 64,
               "rope_theta": 500000.0}

CASES = {
    "llama-gqa-untied": ("llama", {}),
    "llama-tied": ("llama", {"tie_word_embeddings": True, "num_key_value_heads": 4}),
    "llama3-rope-scaling": ("llama", {"rope_parameters": LLAMA3_ROPE, "num_key_value_heads": 1}),
    "llama-attention-bias": ("llama", {"attention_bias": True}),
    "mistral-sliding-window": ("mistral", {"sliding_window": 64, "head_dim": 32}),
    "qwen2-qkv-bias": ("qwen2", {}),
}


def reference_logits(model_dir, tokens: np.ndarray) -> np.ndarray:
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    with torch.no_grad():
        return model.eval()(torch.tensor(tokens)).logits.numpy()


def our_logits(model, tokens: np.ndarray) -> np.ndarray:
    positions = np.broadcast_to(np.arange(tokens.shape[1]), tokens.shape)
    logits, _ = nnx_forward(model, jnp.asarray(tokens, jnp.int32), jnp.asarray(positions))
    return np.asarray(logits)


def nnx_forward(model, tokens, positions):
    from flax import nnx

    return nnx.jit(lambda m, t, p: m(t, p))(model, tokens, positions)


@pytest.mark.parametrize("case", sorted(CASES))
def test_logits_match_transformers(case, hf_checkpoint):
    architecture, overrides = CASES[case]
    model_dir = hf_checkpoint(architecture, **overrides)
    tokens = np.random.default_rng(1).integers(0, 384, (2, SEQ))
    model = load_model(model_dir)
    diff = np.abs(our_logits(model, tokens) - reference_logits(model_dir, tokens)).max()
    assert diff <= TOLERANCE, f"{case}: max |Δlogits| = {diff:.2e}"


def test_config_reads_every_switch(hf_checkpoint):
    config = ModelConfig.from_hf(hf_checkpoint("llama", **CASES["llama3-rope-scaling"][1]))
    assert config.rope_scaling is not None and config.rope_scaling.factor == 8.0
    assert config.rope_theta == 500000.0 and config.num_kv_heads == 1
    qwen = ModelConfig.from_hf(hf_checkpoint("qwen2"))
    assert qwen.attention_bias and not qwen.output_bias
    mistral = ModelConfig.from_hf(hf_checkpoint("mistral", **CASES["mistral-sliding-window"][1]))
    assert mistral.sliding_window == 64 and mistral.head_dim == 32


def test_sharded_checkpoint_loads_like_single(hf_checkpoint, tmp_path):
    single = hf_checkpoint("llama")
    hf = transformers.AutoModelForCausalLM.from_pretrained(single, dtype=torch.float32)
    hf.save_pretrained(tmp_path, max_shard_size="40KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    assert len(list(tmp_path.glob("model-*.safetensors"))) > 2
    a = jax.tree.leaves(load_model(single))
    b = jax.tree.leaves(load_model(tmp_path))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_bfloat16_params_and_compute(hf_checkpoint):
    model_dir = hf_checkpoint("llama")
    tokens = np.random.default_rng(2).integers(0, 384, (1, 64))
    model = load_model(model_dir, dtype=jnp.bfloat16, param_dtype=jnp.bfloat16)
    assert model.layers[0].attn.q_proj.kernel[...].dtype == jnp.bfloat16
    logits = our_logits(model, tokens)
    assert logits.dtype == np.float32
    reference = reference_logits(model_dir, tokens)
    assert np.abs(logits - reference).max() < 0.1 * np.abs(reference).max()
