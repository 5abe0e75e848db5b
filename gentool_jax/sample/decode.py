"""The compiled halves of generation: prefill a left-padded batch, then decode in a while_loop.

Prefix-cached batches split the prefill in two: `prefill_prefixes` runs each distinct shared
prefix once into its own `[R, Lp]` cache, and `prefill_suffixes` runs the rows' own tokens
into the batch's cache, which holds only those and the decoded ones; every row reads its
prefix from the shared block (`model/prefix_attention.py`), in the prefill and in `decode`.

All are pure functions of (graphdef, state, buffers): the model's weights travel as an
argument, never as a closure, so one compiled program serves any weights of the same shapes
(base, LoRA-adapted, merged) and the weights can live sharded on a mesh. The KV cache is one
preallocated buffer per (batch, length) shape, donated into each call and handed back, so a
whole evaluation reuses the same memory instead of allocating a cache per batch.

Constrained decoding passes a `ConstraintState` (`sample/constraint.py`): each step then asks
the host for the rows' grammar masks through one `io_callback` and samples among the allowed
tokens only. Without it (None) the programs are the unconstrained ones, unchanged.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
from flax import nnx

from gentool_jax.model.kv_cache import KVCache
from gentool_jax.model.prefix_attention import SharedPrefixes
from gentool_jax.sample.constraint import ConstraintState, host_masks
from gentool_jax.sample.sampling import SamplingSettings, sample_masked, sample_tokens


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class DecodeState:
    """What the decode loop carries besides the cache."""

    token: jax.Array  # [B] the last token produced (fed to the next step)
    position: jax.Array  # [B] RoPE position of `token` (real tokens before it, pads excluded)
    done: jax.Array  # [B] bool: the row has produced a stop id
    output: jax.Array  # [B, max_new_tokens] produced tokens, pad after a stop
    step: jax.Array  # int32 scalar: how many tokens are in `output`


def _next_tokens(logits, key, step, done, stop_ids, pad_id, settings, constraint=None,
                 previous=None):
    """The rows' next tokens; with a `constraint`, among their grammar's allowed tokens (the
    host consumes `previous`, the tokens the rows produced last, first), and rows the host
    ends are done from now on, with a pad token."""
    key = jax.random.fold_in(key, step)
    if constraint is None:
        token = sample_tokens(logits, key, settings)
        token = jnp.where(done, jnp.int32(pad_id), token)
        return token, done | jnp.isin(token, stop_ids), None
    allowed, dead = host_masks(constraint, previous, logits.shape[-1])
    token, intervened = sample_masked(logits, allowed, key, settings)
    done = done | dead
    token = jnp.where(done, jnp.int32(pad_id), token)
    counts = constraint.interventions + (intervened & ~done).astype(jnp.int32)
    return (token, done | jnp.isin(token, stop_ids),
            dataclasses.replace(constraint, interventions=counts))


def _first_token(model, cache, tokens, valid, offsets, key, stop_ids, settings,
                 max_new_tokens, pad_id, prefixes=None, constraint=None):
    """Write `tokens` into the cache at its `index` and pick each row's first new token.

    Real tokens get RoPE positions `offsets + 0, 1, ...` (pads excluded), so a row continuing a
    cached prefix of length `offsets` is positioned exactly as the whole prompt would be.
    """
    valid = valid.astype(jnp.int32)
    positions = offsets[:, None] + jnp.maximum(jnp.cumsum(valid, axis=1) - 1, 0)
    hidden, cache = model.hidden(tokens, positions, segment_ids=valid, cache=cache,
                                 prefixes=prefixes)
    logits = model.logits(hidden[:, -1])  # left padding: the last column is the last real token
    done = jnp.zeros(tokens.shape[0], bool)
    token, done, constraint = _next_tokens(logits, key, 0, done, stop_ids, pad_id, settings,
                                           constraint, tokens[:, -1])
    output = jnp.full((tokens.shape[0], max_new_tokens), pad_id, jnp.int32).at[:, 0].set(token)
    return cache, DecodeState(token=token, position=positions[:, -1] + 1, done=done,
                              output=output, step=jnp.ones((), jnp.int32)), constraint


def _emptied(cache: KVCache) -> KVCache:
    """Marking every slot invalid is enough: stale keys and values are never attended to."""
    return dataclasses.replace(cache, segment_ids=jnp.zeros_like(cache.segment_ids),
                               index=jnp.zeros_like(cache.index))


@functools.partial(jax.jit, static_argnames=("graphdef", "settings", "max_new_tokens", "pad_id"),
                   donate_argnames=("cache",))
def prefill(graphdef: nnx.GraphDef, state: nnx.State, cache: KVCache, tokens: jax.Array,
            valid: jax.Array, key: jax.Array, stop_ids: jax.Array,
            constraint: ConstraintState | None = None, *, settings: SamplingSettings,
            max_new_tokens: int, pad_id: int
            ) -> tuple[KVCache, DecodeState, ConstraintState | None]:
    """Run the prompts `[B, P]` (left-padded; `valid` marks real tokens) through the model,
    into the (reused, first emptied) cache."""
    model = nnx.merge(graphdef, state)
    offsets = jnp.zeros(tokens.shape[0], jnp.int32)
    return _first_token(model, _emptied(cache), tokens, valid, offsets, key, stop_ids,
                        settings, max_new_tokens, pad_id, constraint=constraint)


@functools.partial(jax.jit, static_argnames=("graphdef",), donate_argnames=("cache",))
def prefill_prefixes(graphdef: nnx.GraphDef, state: nnx.State, cache: KVCache,
                     tokens: jax.Array, valid: jax.Array) -> KVCache:
    """Keys and values of the shared prefixes `[R, Lp]` (left-padded) in a `[R, Lp]` cache.

    No logits: a prefix's continuation is each row's suffix, run by `prefill_suffixes`.
    """
    model = nnx.merge(graphdef, state)
    valid = valid.astype(jnp.int32)
    positions = jnp.maximum(jnp.cumsum(valid, axis=1) - 1, 0)
    return model.hidden(tokens, positions, segment_ids=valid, cache=_emptied(cache))[1]


@functools.partial(jax.jit, static_argnames=("graphdef", "settings", "max_new_tokens", "pad_id"),
                   donate_argnames=("cache",))
def prefill_suffixes(graphdef: nnx.GraphDef, state: nnx.State, cache: KVCache,
                     tokens: jax.Array, valid: jax.Array, offsets: jax.Array,
                     prefixes: SharedPrefixes, key: jax.Array, stop_ids: jax.Array,
                     constraint: ConstraintState | None = None, *,
                     settings: SamplingSettings, max_new_tokens: int, pad_id: int
                     ) -> tuple[KVCache, DecodeState, ConstraintState | None]:
    """Run each row's own tokens `[B, Ls]` (left-padded) into the (reused, emptied) cache,
    after the row's shared prefix.

    `offsets` `[B]` are the prefixes' real lengths: the positions continue from there, while
    the pads of prefix and suffix are invalid slots that no token attends to.
    """
    model = nnx.merge(graphdef, state)
    return _first_token(model, _emptied(cache), tokens, valid, offsets, key, stop_ids,
                        settings, max_new_tokens, pad_id, prefixes, constraint)


@functools.partial(jax.jit, static_argnames=("graphdef", "settings", "pad_id"),
                   donate_argnames=("cache", "decode_state"))
def decode(graphdef: nnx.GraphDef, state: nnx.State, cache: KVCache, decode_state: DecodeState,
           key: jax.Array, stop_ids: jax.Array, prefixes: SharedPrefixes | None = None,
           constraint: ConstraintState | None = None, *, settings: SamplingSettings,
           pad_id: int) -> tuple[KVCache, DecodeState, ConstraintState | None]:
    """Produce tokens one at a time until every row stopped or the output buffer is full
    (rows continuing shared prefixes read them from `prefixes`, not from their cache)."""
    model = nnx.merge(graphdef, state)
    max_new_tokens = decode_state.output.shape[1]

    def keep_going(carry):
        _, ds, _ = carry
        return (ds.step < max_new_tokens) & ~jnp.all(ds.done)

    def step(carry):
        cache, ds, constraint = carry
        ones = jnp.ones_like(ds.token)[:, None]
        hidden, cache = model.hidden(ds.token[:, None], ds.position[:, None],
                                     segment_ids=ones, cache=cache, prefixes=prefixes)
        logits = model.logits(hidden[:, 0])
        token, done, constraint = _next_tokens(logits, key, ds.step, ds.done, stop_ids, pad_id,
                                               settings, constraint, ds.token)
        output = jax.lax.dynamic_update_slice(ds.output, token[:, None], (0, ds.step))
        return cache, DecodeState(token=token, position=ds.position + 1, done=done,
                                  output=output, step=ds.step + 1), constraint

    return jax.lax.while_loop(keep_going, step, (cache, decode_state, constraint))
