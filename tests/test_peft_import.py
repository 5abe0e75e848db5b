"""PEFT adapter directories written by `peft` itself load onto our model with peft's logits."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

from gentool_jax.errors import ModelFileError
from gentool_jax.model.loading import load_model
from gentool_jax.model.peft_import import load_peft_adapter
from gentool_jax.model.tiny import build_tiny_model

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

TOKENS = np.array([[5, 17, 99, 3, 250, 41, 7, 300, 12, 8, 61, 2]], np.int32)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), vocab_size=512)


def _peft_adapter(base_dir, out_dir, **lora_kwargs):
    """Save a peft LoRA with random (nonzero) B; returns peft's logits on TOKENS."""
    torch.manual_seed(0)
    base = transformers.AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    model = peft.get_peft_model(base, peft.LoraConfig(task_type="CAUSAL_LM", **lora_kwargs))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.2)
    model.save_pretrained(out_dir)
    with torch.no_grad():
        return model.eval()(torch.tensor(TOKENS, dtype=torch.long)).logits.numpy()


def _ours(model):
    positions = jnp.arange(TOKENS.shape[1], dtype=jnp.int32)[None]
    logits, _ = model(jnp.asarray(TOKENS), positions)
    return np.asarray(logits)


@pytest.mark.parametrize("options", [
    dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"]),
    dict(r=4, lora_alpha=16, target_modules=["k_proj", "gate_proj"], use_rslora=True,
         rank_pattern={"gate_proj": 2}),
], ids=["plain", "rslora-rank-pattern"])
def test_peft_adapter_gives_peft_logits(base_dir, tmp_path, options):
    reference = _peft_adapter(base_dir, tmp_path / "adapter", **options)
    model = load_model(base_dir)
    base_logits = _ours(model)
    attached = load_peft_adapter(model, tmp_path / "adapter")
    assert attached and all(path.rsplit(".", 1)[-1] in options["target_modules"]
                            for path in attached)
    ours = _ours(model)
    np.testing.assert_allclose(ours, reference, atol=1e-4)
    assert np.abs(base_logits - ours).max() > 1e-2  # the adapter really is applied


def test_adapter_for_another_shape_is_refused_by_name(base_dir, tmp_path):
    other = build_tiny_model(tmp_path / "other", vocab_size=512, hidden_size=48)
    _peft_adapter(other, tmp_path / "adapter", r=2, lora_alpha=4, target_modules=["q_proj"])
    with pytest.raises(ModelFileError, match=r"q_proj has A .*another base model"):
        load_peft_adapter(load_model(base_dir), tmp_path / "adapter")


def test_unsupported_options_and_damaged_files_are_named(base_dir, tmp_path):
    _peft_adapter(base_dir, tmp_path / "adapter", r=2, lora_alpha=4, target_modules=["q_proj"])
    config_path = tmp_path / "adapter" / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**config, "use_dora": True}))
    with pytest.raises(ModelFileError, match="use_dora=True is not supported"):
        load_peft_adapter(load_model(base_dir), tmp_path / "adapter")
    config_path.write_text(json.dumps(config))
    (tmp_path / "adapter" / "adapter_model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelFileError, match="adapter_model.safetensors: not a readable"):
        load_peft_adapter(load_model(base_dir), tmp_path / "adapter")


@pytest.mark.parametrize("param_dtype", ["float32", "bfloat16"])
def test_sampling_loads_fp32_adapters_folded_in(base_dir, tmp_path, param_dtype):
    """What evaluation and serving load: fp32 adapters folded into the kernels (a decode step
    then runs no adapter matmuls), the same logits as attached; bf16 kernels keep them
    attached, since folding a small update into bf16 would round most of it away."""
    from configs import smoke
    from gentool_jax.model.lora import adapters
    from gentool_jax.train.inference import load_for_inference

    _peft_adapter(base_dir, tmp_path / "adapter", r=4, lora_alpha=8,
                  target_modules=["q_proj", "v_proj", "gate_proj", "down_proj"])
    config = smoke.get_config()
    config.model.name = str(base_dir)
    config.model.param_dtype = config.model.dtype = param_dtype
    attached = load_model(base_dir, dtype=jnp.dtype(param_dtype),
                          param_dtype=jnp.dtype(param_dtype))
    load_peft_adapter(attached, tmp_path / "adapter")
    model, _ = load_for_inference(config, str(tmp_path / "adapter"))
    if param_dtype == "float32":
        assert not adapters(model)
        np.testing.assert_allclose(_ours(model), _ours(attached), atol=1e-5)
    else:
        assert set(adapters(model)) == set(adapters(attached))
