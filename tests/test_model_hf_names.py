"""The HF name table reads both ways: every parameter of a model maps to an HF tensor name and
back, and the names are the ones `transformers` gives a Llama."""

import pytest
from flax import nnx

from gentool_jax.model.config import ModelConfig
from gentool_jax.model.hf_names import to_hf, to_ours
from gentool_jax.model.llama import Llama


@pytest.mark.parametrize("tied", [True, False])
def test_every_parameter_round_trips_through_its_hf_name(tied):
    config = ModelConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_layers=2,
                         num_heads=2, num_kv_heads=1, head_dim=8, attention_bias=True,
                         tie_word_embeddings=tied)
    model = nnx.eval_shape(lambda: Llama(config, rngs=nnx.Rngs(0)))
    paths = [".".join(str(p) for p in path) for path, _ in nnx.to_flat_state(nnx.state(model))]
    names = {}
    for path in paths:
        name, transposed = to_hf(path)
        assert to_ours(name) == (path, transposed)
        names[name] = transposed
    assert names["model.layers.1.self_attn.k_proj.weight"] is True
    assert names["model.layers.0.self_attn.q_proj.bias"] is False
    assert names["model.layers.1.mlp.down_proj.weight"] is True
    assert names["model.layers.0.post_attention_layernorm.weight"] is False
    assert ("lm_head.weight" in names) is not tied
    assert to_ours("model.layers.0.self_attn.rotary_emb.inv_freq") is None
    assert to_hf("layers.0.attn.qkv_proj.kernel") is None
