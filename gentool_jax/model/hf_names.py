"""The one table between Hugging Face tensor names and our parameter paths, read both ways.

Loading maps HF names to our paths, export maps ours back; one table keeps the two directions
from drifting. `{layer}` is a layer index and `{attn}` / `{mlp}` a projection name; HF stores
a Linear's weight `[out, in]`, we store `[in, out]`, hence the transpose flag.
"""

from __future__ import annotations

import re

# (HF tensor name, our parameter path, HF stores it transposed)
TABLE: tuple[tuple[str, str, bool], ...] = (
    ("model.embed_tokens.weight", "embed.embedding", False),
    ("model.layers.{layer}.self_attn.{attn}.weight", "layers.{layer}.attn.{attn}.kernel", True),
    ("model.layers.{layer}.self_attn.{attn}.bias", "layers.{layer}.attn.{attn}.bias", False),
    ("model.layers.{layer}.mlp.{mlp}.weight", "layers.{layer}.mlp.{mlp}.kernel", True),
    ("model.layers.{layer}.input_layernorm.weight", "layers.{layer}.input_norm.scale", False),
    ("model.layers.{layer}.post_attention_layernorm.weight",
     "layers.{layer}.post_attn_norm.scale", False),
    ("model.norm.weight", "final_norm.scale", False),
    ("lm_head.weight", "lm_head.kernel", True),
)
_FIELDS = {"layer": r"\d+", "attn": r"[qkvo]_proj", "mlp": r"(?:gate|up|down)_proj"}


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)  # literal, field, literal, field, ...
    return re.compile("".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_FIELDS[part]})"
        for i, part in enumerate(parts)))


_TO_OURS = [(_pattern(hf), ours, transposed) for hf, ours, transposed in TABLE]
_TO_HF = [(_pattern(ours), hf, transposed) for hf, ours, transposed in TABLE]


def _convert(name: str, rules) -> tuple[str, bool] | None:
    for pattern, template, transposed in rules:
        match = pattern.fullmatch(name)
        if match:
            return template.format(**match.groupdict()), transposed
    return None


def to_ours(hf_name: str) -> tuple[str, bool] | None:
    """Our parameter path and the transpose flag of an HF tensor name (None: not a parameter)."""
    return _convert(hf_name, _TO_OURS)


def to_hf(path: str) -> tuple[str, bool] | None:
    """The HF tensor name and transpose flag of one of our parameter paths (None: no such)."""
    return _convert(path, _TO_HF)
