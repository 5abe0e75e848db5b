"""The architecture hyper-parameters of a Llama-family model, read from an HF config.json.

One frozen dataclass covers Llama 2/3/3.x, Mistral, Qwen2 and SmolLM2: they differ only in a
few switches (q/k/v bias, rope scaling, sliding window, tied embeddings). Anything we do not
implement is rejected by name instead of loading into a silently different model.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gentool_jax.errors import ModelFileError

SUPPORTED_ARCHITECTURES = {
    "LlamaForCausalLM": "llama",
    "MistralForCausalLM": "mistral",
    "Qwen2ForCausalLM": "qwen2",
}


@dataclasses.dataclass(frozen=True)
class RopeScaling:
    """Llama 3.1's frequency-dependent RoPE rescaling (rope_type "llama3")."""

    factor: float
    low_freq_factor: float
    high_freq_factor: float
    original_max_position_embeddings: int


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    rope_theta: float = 10000.0
    rope_scaling: RopeScaling | None = None
    rms_norm_eps: float = 1e-5
    tie_word_embeddings: bool = False
    attention_bias: bool = False  # bias on q/k/v (Qwen2, or Llama with attention_bias)
    output_bias: bool = False  # bias on o_proj (Llama with attention_bias)
    max_position_embeddings: int = 2048
    sliding_window: int | None = None  # keys further back than this are not attended (Mistral)
    architecture: str = "LlamaForCausalLM"

    def __post_init__(self):
        if self.num_heads % self.num_kv_heads:
            raise ModelFileError(
                f"num_attention_heads={self.num_heads} is not a multiple of "
                f"num_key_value_heads={self.num_kv_heads}")

    @classmethod
    def from_hf(cls, source: dict | str | Path) -> ModelConfig:
        """Build from an HF config dict or a directory holding config.json."""
        if isinstance(source, dict):
            return _from_dict(source, "config.json")
        from gentool_jax.model.hf_files import read_config

        return _from_dict(read_config(source), str(Path(source) / "config.json"))

    def to_hf(self) -> dict:
        """The config.json fields HF needs to rebuild this model (used by exporters)."""
        rope = {"rope_type": "default", "rope_theta": self.rope_theta}
        if self.rope_scaling is not None:
            rope = {"rope_type": "llama3", "rope_theta": self.rope_theta,
                    **dataclasses.asdict(self.rope_scaling)}
        config = {
            "architectures": [self.architecture],
            "model_type": SUPPORTED_ARCHITECTURES[self.architecture],
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_layers,
            "num_attention_heads": self.num_heads,
            "num_key_value_heads": self.num_kv_heads,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "rms_norm_eps": self.rms_norm_eps,
            "tie_word_embeddings": self.tie_word_embeddings,
            "max_position_embeddings": self.max_position_embeddings,
            "rope_theta": self.rope_theta,
            "rope_scaling": rope if self.rope_scaling is not None else None,
        }
        if self.architecture == "LlamaForCausalLM":
            config["attention_bias"] = self.attention_bias
        if self.architecture == "MistralForCausalLM":
            config["sliding_window"] = self.sliding_window
        return config


def _rope(hf: dict, where: str) -> tuple[float, RopeScaling | None]:
    """RoPE settings from transformers 5's `rope_parameters` or older rope_theta/rope_scaling."""
    params = dict(hf.get("rope_parameters") or {})
    legacy = hf.get("rope_scaling") or {}
    if not params and legacy:
        params = dict(legacy)
    theta = float(params.get("rope_theta", hf.get("rope_theta", 10000.0)))
    kind = params.get("rope_type", params.get("type", "default"))
    if kind == "default":
        return theta, None
    if kind != "llama3":
        raise ModelFileError(f"{where}: unsupported rope scaling type {kind!r} (rope_parameters)")
    try:
        scaling = RopeScaling(
            factor=float(params["factor"]),
            low_freq_factor=float(params["low_freq_factor"]),
            high_freq_factor=float(params["high_freq_factor"]),
            original_max_position_embeddings=int(params["original_max_position_embeddings"]),
        )
    except KeyError as missing:
        raise ModelFileError(f"{where}: llama3 rope scaling lacks field {missing}") from None
    return theta, scaling


def _from_dict(hf: dict, where: str) -> ModelConfig:
    architectures = hf.get("architectures") or []
    if len(architectures) != 1 or architectures[0] not in SUPPORTED_ARCHITECTURES:
        raise ModelFileError(
            f"{where}: unsupported architecture {architectures!r} "
            f"(supported: {', '.join(SUPPORTED_ARCHITECTURES)})")
    architecture = architectures[0]
    if hf.get("hidden_act", "silu") != "silu":
        raise ModelFileError(f"{where}: unsupported hidden_act {hf['hidden_act']!r}")
    if hf.get("mlp_bias"):
        raise ModelFileError(f"{where}: unsupported field mlp_bias=true")
    if hf.get("pretraining_tp", 1) != 1:
        raise ModelFileError(f"{where}: unsupported field pretraining_tp={hf['pretraining_tp']}")
    if architecture == "Qwen2ForCausalLM" and hf.get("use_sliding_window"):
        raise ModelFileError(f"{where}: unsupported field use_sliding_window=true")
    try:
        hidden, heads = int(hf["hidden_size"]), int(hf["num_attention_heads"])
        theta, scaling = _rope(hf, where)
        bias = architecture == "Qwen2ForCausalLM" or bool(hf.get("attention_bias", False))
        window = hf.get("sliding_window") if architecture == "MistralForCausalLM" else None
        return ModelConfig(
            vocab_size=int(hf["vocab_size"]),
            hidden_size=hidden,
            intermediate_size=int(hf["intermediate_size"]),
            num_layers=int(hf["num_hidden_layers"]),
            num_heads=heads,
            num_kv_heads=int(hf.get("num_key_value_heads") or heads),
            head_dim=int(hf.get("head_dim") or hidden // heads),
            rope_theta=theta,
            rope_scaling=scaling,
            rms_norm_eps=float(hf.get("rms_norm_eps", 1e-6)),
            tie_word_embeddings=bool(hf.get("tie_word_embeddings", False)),
            attention_bias=bias,
            output_bias=architecture == "LlamaForCausalLM" and bias,
            max_position_embeddings=int(hf.get("max_position_embeddings", 2048)),
            sliding_window=int(window) if window else None,
            architecture=architecture,
        )
    except KeyError as missing:
        raise ModelFileError(f"{where}: required field {missing} is missing") from None
