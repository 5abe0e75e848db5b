"""Choosing the next token from logits: greedy, temperature, top-k and top-p (nucleus).

The settings are Python values, fixed at trace time, so a greedy run compiles to a plain argmax
with no sort or random draw in the decode loop.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 0.0  # 0 = greedy
    top_k: int = 0  # 0 = no top-k cut
    top_p: float = 1.0  # 1 = no nucleus cut

    def __post_init__(self):
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


def filter_logits(logits: jax.Array, settings: SamplingSettings) -> jax.Array:
    """Temperature-scaled logits with the tokens outside top-k / top-p set to -inf."""
    logits = logits.astype(jnp.float32) / settings.temperature
    vocab = logits.shape[-1]
    if 0 < settings.top_k < vocab:
        kth = jax.lax.top_k(logits, settings.top_k)[0][..., -1:]
        logits = jnp.where(logits < kth, -jnp.inf, logits)
    if settings.top_p < 1.0:
        order = jnp.argsort(-logits, axis=-1)
        sorted_logits = jnp.take_along_axis(logits, order, axis=-1)
        probs = jax.nn.softmax(sorted_logits, axis=-1)
        # Keep a token when the mass strictly before it is below top_p (the first always stays).
        before = jnp.cumsum(probs, axis=-1) - probs
        keep_sorted = before < settings.top_p
        keep = jnp.zeros_like(keep_sorted).at[
            jnp.arange(logits.shape[0])[:, None], order].set(keep_sorted)
        logits = jnp.where(keep, logits, -jnp.inf)
    return logits


def sample_tokens(logits: jax.Array, key: jax.Array, settings: SamplingSettings) -> jax.Array:
    """Next token ids `[batch]` (int32) from `[batch, vocab]` logits."""
    if settings.greedy:
        return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    filtered = filter_logits(logits, settings)
    return jax.random.categorical(key, filtered, axis=-1).astype(jnp.int32)


def sample_masked(logits: jax.Array, allowed: jax.Array, key: jax.Array,
                  settings: SamplingSettings) -> tuple[jax.Array, jax.Array]:
    """Next token ids `[batch]` among the `allowed` `[batch, vocab]` tokens only (masked before
    temperature, top-k and top-p, so the cuts rank allowed tokens), and whether the mask
    removed the row's unmasked argmax (an "intervention": with none, greedy output is exactly
    what unconstrained decoding gives)."""
    masked = jnp.where(allowed, logits, -jnp.inf)
    favourite = jnp.argmax(logits, axis=-1)
    intervened = ~jnp.take_along_axis(allowed, favourite[:, None], axis=-1)[:, 0]
    return sample_tokens(masked, key, settings), intervened
