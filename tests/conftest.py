"""Test setup: 8 virtual CPU devices (set before JAX is imported) and shared fixtures."""

import os
import sys
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


import pytest  # noqa: E402


def _random_hf_checkpoint(out_dir: Path, architecture: str, seed: int = 0,
                          max_shard_size: str | None = None, **overrides) -> Path:
    """save_pretrained a tiny random transformers model whose every weight (biases and norm
    scales included) is non-trivial, so a parity test exercises all of them."""
    import torch
    import transformers

    config_class = {"llama": transformers.LlamaConfig, "mistral": transformers.MistralConfig,
                    "qwen2": transformers.Qwen2Config}[architecture]
    fields = dict(vocab_size=384, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                  tie_word_embeddings=False, rms_norm_eps=1e-5)
    fields.update(overrides)
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(config_class(**fields))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.copy_(1.0 + 0.2 * torch.randn_like(param))
            else:
                param.copy_(0.08 * torch.randn_like(param))
    kwargs = {"max_shard_size": max_shard_size} if max_shard_size else {}
    model.save_pretrained(out_dir, **kwargs)
    return out_dir


@pytest.fixture(scope="session")
def hf_checkpoint(tmp_path_factory):
    """Factory: `hf_checkpoint("llama", **config_overrides)` -> a saved random HF model dir."""
    made: dict[str, Path] = {}

    def make(architecture: str, **overrides) -> Path:
        key = f"{architecture}-{sorted(overrides.items())}"
        if key not in made:
            out = tmp_path_factory.mktemp(architecture)
            made[key] = _random_hf_checkpoint(out, architecture, **overrides)
        return made[key]

    return make


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """The default tiny-random model (config.model.tiny sizes), built once per session."""
    from gentool_jax.model.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-random"))
