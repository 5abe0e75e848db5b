"""Bad checkpoints fail loudly, naming the tensor or field, and the LoRA slot of Linear works."""

import json
import shutil

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from safetensors.numpy import load_file, save_file

from gentool_jax.errors import ModelFileError
from gentool_jax.model.config import ModelConfig
from gentool_jax.model.linear import Linear
from gentool_jax.model.loading import count_parameters, load_model


def _edited_copy(src, dst, edit):
    shutil.copytree(src, dst)
    tensors = load_file(dst / "model.safetensors")
    edit(tensors)
    save_file(tensors, dst / "model.safetensors")
    return dst


def test_missing_tensor_is_named(tiny_model_dir, tmp_path):
    bad = _edited_copy(tiny_model_dir, tmp_path / "m",
                       lambda t: t.pop("model.layers.1.mlp.up_proj.weight"))
    with pytest.raises(ModelFileError, match=r"missing.*layers\.1\.mlp\.up_proj\.kernel"):
        load_model(bad)


def test_unexpected_tensor_is_named(tiny_model_dir, tmp_path):
    bad = _edited_copy(tiny_model_dir, tmp_path / "m",
                       lambda t: t.update({"model.layers.0.extra.weight": np.zeros(3, np.float32)}))
    with pytest.raises(ModelFileError, match=r"unexpected tensor 'model\.layers\.0\.extra"):
        load_model(bad)


def test_shape_mismatch_is_named(tiny_model_dir, tmp_path):
    def shrink(tensors):
        name = "model.layers.0.self_attn.k_proj.weight"
        tensors[name] = tensors[name][:16]

    bad = _edited_copy(tiny_model_dir, tmp_path / "m", shrink)
    with pytest.raises(ModelFileError, match=r"k_proj\.weight' has shape \[16, 64\], expected "
                                             r"\[32, 64\]"):
        load_model(bad)


@pytest.mark.parametrize("field, value, message", [
    ("architectures", ["GPT2LMHeadModel"], "unsupported architecture"),
    ("hidden_act", "gelu", "unsupported hidden_act"),
    ("rope_scaling", {"rope_type": "yarn", "factor": 4.0}, "unsupported rope scaling type 'yarn'"),
    ("num_key_value_heads", 3, "not a multiple of num_key_value_heads=3"),
])
def test_unsupported_config_is_named(tiny_model_dir, tmp_path, field, value, message):
    shutil.copytree(tiny_model_dir, tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config[field] = value
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match=message):
        load_model(tmp_path / "m")


def test_missing_hidden_size_is_named():
    with pytest.raises(ModelFileError, match="'hidden_size' is missing"):
        ModelConfig.from_hf({"architectures": ["LlamaForCausalLM"], "vocab_size": 10})


def test_count_parameters_matches_checkpoint(tiny_model_dir):
    model = load_model(tiny_model_dir)
    expected = 512 * 64 * 2 + 2 * (64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 128 + 2 * 64) + 64
    assert count_parameters(model) == expected


class _Adapter(nnx.Module):
    """A minimal low-rank adapter of the shape model/lora.py attaches."""

    def __init__(self, din: int, dout: int, rank: int):
        self.lora_a = nnx.LoRAParam(jnp.full((din, rank), 0.1))
        self.lora_b = nnx.LoRAParam(jnp.full((rank, dout), 0.2))

    def __call__(self, x):
        return x @ self.lora_a[...] @ self.lora_b[...]


def test_lora_slot_survives_split_merge_and_jit():
    linear = Linear(4, 3, rngs=nnx.Rngs(0))
    x = jnp.ones((2, 4))
    base = linear(x)
    linear.lora = _Adapter(4, 3, rank=2)
    expected = base + 4 * 0.1 * 2 * 0.2
    graphdef, params, lora = nnx.split(linear, nnx.LoRAParam, nnx.Param)
    assert {"lora_a", "lora_b"} == {p[-1] for p, _ in nnx.to_flat_state(params)}
    merged = nnx.merge(graphdef, params, lora)
    np.testing.assert_allclose(nnx.jit(lambda m, x: m(x))(merged, x), expected, rtol=1e-6)
    grads = nnx.grad(lambda m: m(x).sum(), argnums=nnx.DiffState(0, nnx.LoRAParam))(merged)
    assert set(grads["lora"].keys()) == {"lora_a", "lora_b"}
