"""A tiny random Llama with a real tokenizer and chat template, built without torch.

Tests and the smoke config need a model that loads through exactly the same code paths as a
real checkpoint (HF config.json + safetensors + tokenizer.json + chat template) but trains in
seconds on a CPU. Weights are random; the tokenizer is a byte-level BPE trained on a small
built-in English + JSON corpus, so tool-use prompts tokenize into a realistic number of tokens.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

# ChatML, as SmolLM2-Instruct uses it (without its default system prompt).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CORPUS = [
    "You are a helpful assistant that can call tools. Choose the best tool for the user's query.",
    "Rank the tools from most to least useful, then call the best one with its arguments.",
    "If no tool fits the query, call generate_response and answer directly.",
    "Will I need an umbrella in Lisbon tomorrow afternoon? Check the hourly forecast.",
    "What is the current stock price of the company, and how did it change this week?",
    "Translate the following sentence into French, Spanish and German for the meeting notes.",
    "Find a flight from Boston to Chicago on Friday morning with a return on Sunday evening.",
    "Book a table for four people at an Italian restaurant near the city center at 7 pm.",
    "Convert 150 US dollars to euros using today's exchange rate and round to two decimals.",
    "Summarize the latest news about renewable energy and list the three main points.",
    "The weather is sunny with a light breeze, and the temperature will reach 24 degrees.",
    "Search the library catalog for books by the author and return the title and year.",
    "Ranking: [\"hourly_forecast\", \"weather_now\", \"generate_response\", \"stock_quote\"]",
    "Call: {\"name\": \"hourly_forecast\", \"arguments\": {\"city\": \"Lisbon\", \"day\": "
    "\"tomorrow\"}}",
    "Call: {\"name\": \"generate_response\", \"arguments\": {}}",
    "{\"name\": \"currency_convert\", \"description\": \"Convert an amount between currencies.\", "
    "\"parameters\": {\"type\": \"object\", \"properties\": {\"amount\": {\"type\": \"number\"}, "
    "\"from\": {\"type\": \"string\"}, \"to\": {\"type\": \"string\"}}, \"required\": "
    "[\"amount\", \"from\", \"to\"]}}",
    "{\"type\": \"object\", \"properties\": {\"query\": {\"type\": \"string\", \"description\": "
    "\"The search text.\"}, \"limit\": {\"type\": \"integer\"}}, \"required\": [\"query\"]}",
    "hourly_forecast(city: string, day?: string) -> object - Hourly weather for a city and day.",
    "stock_quote(symbol: string) -> object - The latest trade price of a stock symbol.",
    "send_email(to: string, subject: string, body: string) -> object - Send an email message.",
    "Answer the question in one short paragraph. Thank you for your help with this request.",
    "numbers 0 1 2 3 4 5 6 7 8 9 10 12 24 100 2024 3.14 true false null",
]


def _train_tokenizer(vocab_size: int) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS * 4, trainer=trainer)
    if tokenizer.get_vocab_size() > vocab_size:
        raise ValueError(f"tokenizer has {tokenizer.get_vocab_size()} > {vocab_size} tokens")
    return tokenizer


def _hf_weights(config: dict, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    d, inter = config["hidden_size"], config["intermediate_size"]
    head_dim = config["head_dim"]
    q_out = config["num_attention_heads"] * head_dim
    kv_out = config["num_key_value_heads"] * head_dim

    def normal(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    weights = {"model.embed_tokens.weight": normal(config["vocab_size"], d)}
    for i in range(config["num_hidden_layers"]):
        prefix = f"model.layers.{i}"
        weights[f"{prefix}.self_attn.q_proj.weight"] = normal(q_out, d)
        weights[f"{prefix}.self_attn.k_proj.weight"] = normal(kv_out, d)
        weights[f"{prefix}.self_attn.v_proj.weight"] = normal(kv_out, d)
        weights[f"{prefix}.self_attn.o_proj.weight"] = normal(d, q_out)
        weights[f"{prefix}.mlp.gate_proj.weight"] = normal(inter, d)
        weights[f"{prefix}.mlp.up_proj.weight"] = normal(inter, d)
        weights[f"{prefix}.mlp.down_proj.weight"] = normal(d, inter)
        weights[f"{prefix}.input_layernorm.weight"] = np.ones(d, np.float32)
        weights[f"{prefix}.post_attention_layernorm.weight"] = np.ones(d, np.float32)
    weights["model.norm.weight"] = np.ones(d, np.float32)
    if not config["tie_word_embeddings"]:
        weights["lm_head.weight"] = normal(config["vocab_size"], d)
    return weights


def build_tiny_model(
    out_dir: str | Path,
    *,
    hidden_size: int = 64,
    intermediate_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    vocab_size: int = 512,
    seed: int = 0,
    tie_word_embeddings: bool = False,
) -> Path:
    """Write a complete HF Llama directory (config, weights, tokenizer) into `out_dir`.

    The output depends only on the arguments, so a cache keyed by them stays valid.
    """
    if hidden_size % num_heads or num_heads % num_kv_heads:
        raise ValueError("hidden_size must divide by num_heads, and num_heads by num_kv_heads")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(vocab_size)
    tokenizer.save(str(out / "tokenizer.json"))
    ids = {token: tokenizer.token_to_id(token) for token in SPECIAL_TOKENS}

    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hidden_size,
        "intermediate_size": intermediate_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": num_heads,
        "num_key_value_heads": num_kv_heads,
        "head_dim": hidden_size // num_heads,
        "vocab_size": vocab_size,
        "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "hidden_act": "silu",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "initializer_range": 0.02,
        "tie_word_embeddings": tie_word_embeddings,
        "bos_token_id": ids["<|im_start|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        "torch_dtype": "float32",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "generation_config.json").write_text(json.dumps({
        "bos_token_id": config["bos_token_id"],
        "eos_token_id": config["eos_token_id"],
        "pad_token_id": config["pad_token_id"],
    }, indent=2) + "\n")
    save_file(_hf_weights(config, seed), str(out / "model.safetensors"),
              metadata={"format": "pt"})

    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|im_start|>",
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "model_max_length": 2048,
        "clean_up_tokenization_spaces": False,
        "chat_template": CHAT_TEMPLATE,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n")
    (out / "special_tokens_map.json").write_text(json.dumps({
        key: tokenizer_config[key] for key in ("bos_token", "eos_token", "pad_token", "unk_token")
    }, indent=2) + "\n")
    return out
