"""Typed views (`config_view.section_view`) of `config.model` and its `lora` section.

A command views `config.model` once where it enters and passes the view on, so the registry,
the loader and `apply_lora` read a `str` dtype or an `int` rank without casting. Each function
that takes a section also accepts the ml-collections section itself (`section_view` returns a
view unchanged and views a section), so tests and callers may pass either. The checkpoint
metadata (`train.loop.stage_metadata`) still records the raw `model.lora` values.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class TinySettings:
    """`config.model.tiny`: the sizes of the locally built "tiny-random" model."""

    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    vocab_size: int


@dataclasses.dataclass(frozen=True)
class LoraSettings:
    """`config.model.lora`: the adapters `model.lora.apply_lora` attaches."""

    rank: int
    alpha: float
    dropout: float
    targets: str  # regex over linear paths such as "layers.3.attn.q_proj"
    param_dtype: str


@dataclasses.dataclass(frozen=True)
class ModelSettings:
    """`config.model`: which base model, where it is cached, its dtypes, remat, attention."""

    name: str
    cache_dir: str  # "": $GENTOOL_JAX_CACHE or ~/.cache/gentool_jax (`model_cache.cache_root`)
    param_dtype: str
    dtype: str
    remat: str
    attention: str
    tiny: TinySettings
    lora: LoraSettings
