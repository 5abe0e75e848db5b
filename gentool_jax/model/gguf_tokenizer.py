"""Rebuild a GGUF "gpt2"-type vocabulary as an HF tokenizer directory, without torch.

transformers' own GGUF tokenizer conversion imports torch, so we build the byte-level BPE
directly with `tokenizers` from `tokenizer.ggml.tokens` / `merges`, with the same
pre-tokenization as the original SmolLM2 tokenizer (each digit split off, then GPT-2 byte level).
"""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

from gentool_jax.errors import ModelFileError

_CONTROL = 3  # GGUF token type of special (control) tokens


def _field(reader, name: str):
    field = reader.fields.get(name)
    if field is None:
        raise ModelFileError(f"GGUF field {name!r} is missing")
    return field.contents()


def build_tokenizer(reader) -> tuple[Tokenizer, list[str]]:
    """The BPE tokenizer and the list of special tokens."""
    kind = _field(reader, "tokenizer.ggml.model")
    if kind != "gpt2":
        raise ModelFileError(f"unsupported GGUF tokenizer {kind!r} (only byte-level BPE)")
    tokens = list(_field(reader, "tokenizer.ggml.tokens"))
    types = list(_field(reader, "tokenizer.ggml.token_type"))
    merges = [tuple(merge.split(" ", 1)) for merge in _field(reader, "tokenizer.ggml.merges")]
    vocab = {token: i for i, token in enumerate(tokens)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    special = [token for token, kind in zip(tokens, types) if kind == _CONTROL]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special])
    return tokenizer, special


def write_tokenizer(reader, out_dir: Path) -> None:
    """tokenizer.json, tokenizer_config.json (with the GGUF's chat template), special tokens."""
    tokenizer, special = build_tokenizer(reader)
    tokenizer.save(str(out_dir / "tokenizer.json"))
    tokens = _field(reader, "tokenizer.ggml.tokens")

    def token(field: str) -> str:
        return tokens[int(_field(reader, field))]

    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        # SmolLM2-Instruct ends a turn with <|im_end|>, which GGUF records as eos.
        "bos_token": token("tokenizer.ggml.bos_token_id"),
        "eos_token": token("tokenizer.ggml.eos_token_id"),
        "pad_token": token("tokenizer.ggml.padding_token_id"),
        "unk_token": token("tokenizer.ggml.unknown_token_id"),
        "additional_special_tokens": special,
        "add_bos_token": bool(_field(reader, "tokenizer.ggml.add_bos_token")),
        "model_max_length": int(_field(reader, "llama.context_length")),
        "clean_up_tokenization_spaces": False,
        "chat_template": _field(reader, "tokenizer.chat_template"),
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out_dir / "special_tokens_map.json").write_text(json.dumps(
        {key: config[key] for key in ("bos_token", "eos_token", "pad_token", "unk_token")},
        indent=2) + "\n")
