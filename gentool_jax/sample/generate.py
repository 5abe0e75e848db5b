"""`generate`: token-id prompts in, generated token ids out, in batches of fixed shape.

Prompts are sorted by length, cut into batches of `batch_size` rows (the last one filled with
one-token dummy rows) and left-padded to a multiple of `bucket`, so a whole evaluation compiles
the prefill/decode pair once per length bucket rather than once per batch. On a mesh the batch
is sharded over the data axes and the KV cache follows it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from gentool_jax.model.kv_cache import KVCache, init_cache
from gentool_jax.sample.decode import decode, prefill
from gentool_jax.sample.sampling import SamplingSettings

# Mesh axes that split the batch (the others, such as "tensor", split the weights).
BATCH_AXES = ("data", "fsdp")
# Tokens that end an assistant turn in the chat templates we support, besides the EOS id.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "</s>",
                      "<|end|>")


def stop_ids_for(tokenizer: Any) -> list[int]:
    """The EOS id(s) and every known end-of-turn token present in the tokenizer's vocabulary."""
    ids: list[int] = []
    eos = getattr(tokenizer, "eos_token_id", None)
    ids += eos if isinstance(eos, list) else [eos] if eos is not None else []
    vocab = tokenizer.get_vocab()
    ids += [vocab[token] for token in END_OF_TURN_TOKENS if token in vocab]
    return sorted(set(int(i) for i in ids))


def generate(model: nnx.Module, prompts: Sequence[Sequence[int]], *, max_new_tokens: int,
             stop_ids: Iterable[int], temperature: float = 0.0, top_k: int = 0,
             top_p: float = 1.0, seed: int = 0, pad_id: int = 0, batch_size: int = 16,
             bucket: int = 64, mesh: Mesh | None = None, progress: bool = False
             ) -> list[list[int]]:
    """Continue each prompt; returns per prompt the new tokens up to and including the first
    stop id (or `max_new_tokens` tokens when none came), in the order of `prompts`.

    Greedy when `temperature` is 0. Sampling draws from `seed`, folded with the batch number and
    step, so a run is reproducible for the same prompts and batch size.
    """
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    settings = SamplingSettings(float(temperature), int(top_k), float(top_p))
    prompts = [[int(t) for t in prompt] for prompt in prompts]
    for i, prompt in enumerate(prompts):
        if not prompt:
            raise ValueError(f"prompt {i} is empty: generation needs at least one token")
    stops = sorted(set(int(s) for s in stop_ids))
    stop_array = jnp.asarray(stops or [-1], jnp.int32)
    batch_axes = _batch_axes(mesh)
    batch_size = _round_up(max(1, batch_size), _shard_count(mesh, batch_axes))
    graphdef, state = nnx.split(model)
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    results: list[list[int]] = [[] for _ in prompts]
    # Prompts come longest first, so each cache shape is used by consecutive batches only:
    # keep just the current one (a new shape frees the old buffer).
    cache_shape, cache = None, None
    batches = range(0, len(order), batch_size)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="generate", unit="batch")
    for number, start in enumerate(batches):
        rows = order[start:start + batch_size]
        tokens, valid = _left_pad([prompts[i] for i in rows], batch_size, bucket, pad_id)
        shape = (batch_size, tokens.shape[1] + max_new_tokens)
        if shape != cache_shape:
            cache_shape, cache = shape, None
            cache = _new_cache(model, shape, mesh, batch_axes)
        tokens, valid = _place((tokens, valid), mesh, batch_axes)
        key = jax.random.fold_in(jax.random.key(seed), number)
        cache, state_0 = prefill(graphdef, state, cache, tokens, valid, key, stop_array,
                                 settings=settings, max_new_tokens=max_new_tokens, pad_id=pad_id)
        cache, final = decode(graphdef, state, cache, state_0, key, stop_array,
                              settings=settings, pad_id=pad_id)
        output = np.asarray(jax.device_get(final.output))
        for row, index in enumerate(rows):
            results[index] = _until_stop(output[row], stops)
    return results


def _until_stop(row: np.ndarray, stops: list[int]) -> list[int]:
    tokens = row.tolist()
    for i, token in enumerate(tokens):
        if token in stops:
            return tokens[: i + 1]
    return tokens


def _round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)


def _left_pad(prompts: list[list[int]], batch_size: int, bucket: int, pad_id: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """`[batch_size, L]` tokens and validity, L = longest prompt rounded up to `bucket`."""
    length = _round_up(max(len(p) for p in prompts), max(1, bucket))
    tokens = np.full((batch_size, length), pad_id, np.int32)
    valid = np.zeros((batch_size, length), np.int32)
    valid[len(prompts):, -1] = 1  # filler rows: one real (pad) token, so no row is empty
    for row, prompt in enumerate(prompts):
        tokens[row, length - len(prompt):] = prompt
        valid[row, length - len(prompt):] = 1
    return tokens, valid


def _batch_axes(mesh: Mesh | None) -> tuple[str, ...]:
    return () if mesh is None else tuple(a for a in BATCH_AXES if a in mesh.axis_names)


def _shard_count(mesh: Mesh | None, axes: tuple[str, ...]) -> int:
    return 1 if mesh is None else math.prod(mesh.shape[a] for a in axes)


def _place(arrays: tuple[np.ndarray, ...], mesh: Mesh | None, axes: tuple[str, ...]):
    if mesh is None:
        return tuple(jnp.asarray(a) for a in arrays)
    sharding = NamedSharding(mesh, P(axes or None, None))
    return tuple(jax.device_put(a, sharding) for a in arrays)


def _new_cache(model: nnx.Module, shape: tuple[int, int], mesh: Mesh | None,
               axes: tuple[str, ...]) -> KVCache:
    batch, length = shape
    make = lambda: init_cache(model.config, batch, length, model.dtype)
    if mesh is None:
        return jax.jit(make)()
    heads = "tensor" if ("tensor" in mesh.axis_names
                         and model.config.num_kv_heads % mesh.shape["tensor"] == 0) else None
    batch_spec = axes or None
    kv = (NamedSharding(mesh, P(batch_spec, None, heads, None)),) * model.config.num_layers
    shardings = KVCache(k=kv, v=kv, segment_ids=NamedSharding(mesh, P(batch_spec, None)),
                        index=NamedSharding(mesh, P()))
    return jax.jit(make, out_shardings=shardings)()
