"""The tiny model builder, model resolution and the build-once cache."""

import filecmp

import pytest
import transformers
from ml_collections import ConfigDict

from configs import smoke
from gentool_jax.errors import ModelFileError
from gentool_jax.model import model_cache
from gentool_jax.model.registry import fetch_model_command, load_tokenizer, resolve_model
from gentool_jax.model.tiny import build_tiny_model


def test_tiny_model_is_deterministic(tiny_model_dir, tmp_path):
    again = build_tiny_model(tmp_path / "again")
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        assert filecmp.cmp(tiny_model_dir / name, again / name, shallow=False), name
    other_seed = build_tiny_model(tmp_path / "seed1", seed=1)
    assert not filecmp.cmp(tiny_model_dir / "model.safetensors",
                           other_seed / "model.safetensors", shallow=False)


def test_tiny_tokenizer_and_chat_template(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    assert len(tokenizer) == 512 and tokenizer.eos_token == "<|im_end|>"
    messages = [{"role": "system", "content": "Pick a tool."},
                {"role": "user", "content": "Weather in Lisbon?"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == ("<|im_start|>system\nPick a tool.<|im_end|>\n<|im_start|>user\n"
                    "Weather in Lisbon?<|im_end|>\n<|im_start|>assistant\n")
    ids = tokenizer(text)["input_ids"]
    assert ids.count(tokenizer.eos_token_id) == 2
    assert tokenizer.decode(ids) == text
    # A trained BPE, not bytes: English and JSON compress well below one token a character.
    assert len(ids) < 0.6 * len(text)


def test_tiny_model_loads_in_transformers(tiny_model_dir):
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert model.config.vocab_size == 512 and model.config.num_hidden_layers == 2


def test_resolve_tiny_builds_once_and_rebuilds_a_corrupt_cache(tmp_path, capsys):
    config = smoke.get_config()
    config.model.cache_dir = str(tmp_path)
    path = resolve_model(config.model)
    assert model_cache.is_complete(path, deep=True)
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    assert resolve_model(config.model) == path
    assert (path / "model.safetensors").stat().st_mtime_ns == stamp  # reused, not rebuilt
    with open(path / "model.safetensors", "r+b") as handle:  # truncated by a crash
        handle.truncate(1000)
    assert not model_cache.is_complete(path)
    assert resolve_model(config.model) == path and model_cache.is_complete(path, deep=True)
    assert fetch_model_command(config, {}) == 0
    out = capsys.readouterr().out
    assert str(path) in out and "139.6K parameters" in out


def test_resolve_local_directory_and_errors(tiny_model_dir, tmp_path):
    assert resolve_model(ConfigDict({"name": str(tiny_model_dir), "cache_dir": ""})) == \
        tiny_model_dir
    with pytest.raises(ModelFileError, match="neither"):
        resolve_model(ConfigDict({"name": str(tmp_path / "nope"), "cache_dir": ""}))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelFileError, match="model.safetensors"):
        resolve_model(ConfigDict({"name": str(tmp_path), "cache_dir": ""}))
