"""Hidden states of short texts (a query, one tool's `name: description`), each text read
alone by the model: mean-pooled, and token by token for `selector/alignment.py`.

The selector matches a query to a tool on these vectors rather than inside the prompt: a fitted
map on them picks the gold tool for wordings it never saw (`benchmarks/fitted_oracle.py`,
docs/results.md), where every fine-tuned generation recipe tried stayed at chance. Texts are
batched by length (padding to `bucket` tokens) so a few programs compile and little compute
goes to padding; the frozen weights enter the jitted function as an argument. `depth` reads
the states after the first blocks only: halfway up the 30-block default model the fitted head
scored higher on both held-out simulated splits than on the last block's (docs/results.md).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from tqdm import tqdm


def tool_text(tool: dict[str, Any]) -> str:
    """What the selector reads of a tool: its name and description, as a user would."""
    return f"{tool['name']}: {tool.get('description', '')}"


@dataclasses.dataclass
class TextStates:
    """What the selector reads of each text: `pooled` `[hidden]` float32 (the mean over its
    tokens) and, where kept, `tokens` `[length, hidden]` float16 (`selector/alignment.py`)."""

    pooled: dict[str, np.ndarray]
    tokens: dict[str, np.ndarray]


@functools.partial(jax.jit, static_argnums=(0, 4))
def _states(graphdef: Any, state: Any, tokens: jax.Array, valid: jax.Array,
            depth: int | None) -> tuple[jax.Array, jax.Array]:
    model = nnx.merge(graphdef, state)
    positions = jnp.broadcast_to(jnp.arange(tokens.shape[1], dtype=jnp.int32), tokens.shape)
    hidden, _ = model.hidden(tokens, positions, segment_ids=valid.astype(jnp.int32),
                             depth=depth)
    hidden = hidden.astype(jnp.float32)
    weights = valid[..., None].astype(jnp.float32)
    pooled = (hidden * weights).sum(1) / jnp.maximum(weights.sum(1), 1.0)
    return pooled, hidden.astype(jnp.float16)


def encode_texts(model: Any, tokenizer: Any, texts: Iterable[str], *, batch_size: int = 32,
                 bucket: int = 16, max_tokens: int = 256, depth: int = 0,
                 keep_tokens: bool = True, desc: str = "selector: encode") -> TextStates:
    """Each text's final-normed hidden states after the first `depth` blocks (0 = all), read
    alone (no special tokens; cut at `max_tokens`), averaged over its tokens and, with
    `keep_tokens`, kept token by token."""
    unique = sorted(set(texts), key=len)
    states = TextStates({}, {})
    if not unique:
        return states
    ids = [tokenizer(text, add_special_tokens=False)["input_ids"][:max_tokens] or [0]
           for text in unique]
    graphdef, state = nnx.split(model)
    with tqdm(total=len(unique), desc=desc, unit="text", leave=False) as bar:
        for start in range(0, len(unique), batch_size):
            chunk = ids[start:start + batch_size]
            width = -(-max(len(row) for row in chunk) // bucket) * bucket
            tokens = np.zeros((batch_size, width), np.int32)
            valid = np.zeros((batch_size, width), bool)
            for row, row_ids in enumerate(chunk):
                tokens[row, :len(row_ids)] = row_ids
                valid[row, :len(row_ids)] = True
            valid[len(chunk):, 0] = True  # filler rows: one token, so no row is empty
            pooled, hidden = _states(graphdef, state, tokens, valid, depth or None)
            pooled, hidden = np.asarray(pooled), np.asarray(hidden) if keep_tokens else None
            for row, text in enumerate(unique[start:start + len(chunk)]):
                states.pooled[text] = pooled[row]
                if hidden is not None:
                    states.tokens[text] = hidden[row, :len(chunk[row])].copy()
            bar.update(len(chunk))
    return states
