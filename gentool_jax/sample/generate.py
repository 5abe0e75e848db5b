"""`generate`: token-id prompts in, generated token ids out, in batches of fixed shape.

Prompts are sorted by length, cut into batches of `batch_size` rows (the last one filled with
one-token dummy rows) and left-padded to a multiple of `bucket`, so a whole evaluation compiles
the prefill/decode pair once per length bucket rather than once per batch. On a mesh the batch
is sharded over the data axes and the KV cache follows it.

With prefix caching, prompts sharing a prefix are batched by group instead (`sample.prefix`):
each batch prefills its distinct prefixes once as a `[prefix_rows, Lp]` block that the rows
read in place (never copied per row: `model/prefix_attention.py`), and prefills only the rows'
own tokens into a cache of their own tokens and the decoded ones. Prefix and suffix lengths are
bucketed like whole prompts, so the extra programs compile once per (Lp, Ls) bucket pair. On a
mesh the prefix block is sharded like the batch (its row count rounded up to the shards) and
XLA moves each prefix's keys to the rows that need them.

With a `Constrainer` and a `RowGrammar` per prompt, every row's reply is held to its toolset's
grammar (`sample/constraint.py`); `generate_with_outcomes` also says how each row ended and how
often the grammar overrode the model's own choice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from gentool_jax.model.kv_cache import KVCache, init_cache
from gentool_jax.model.prefix_attention import SharedPrefixes
from gentool_jax.sample.constraint import (
    BatchMatchers,
    Constrainer,
    ConstraintState,
    RowGrammar,
    RowOutcome,
    register,
    release,
)
from gentool_jax.sample.decode import (
    DecodeState,
    decode,
    prefill,
    prefill_prefixes,
    prefill_suffixes,
)
from gentool_jax.sample.prefix import SharedBatch, plan_batches
from gentool_jax.sample.sampling import SamplingSettings

# Mesh axes that split the batch (the others, such as "tensor", split the weights).
BATCH_AXES = ("data", "fsdp")
# (distinct prefixes of a batch, block rows, block length) -> their `[rows, length]` prefix cache,
# left-padded like `prefill_prefixes` fills it: where a caller keeps prefilled prefixes across
# calls (the server's `serve.prefix_cache.PrefixStore`).
PrefixSource = Callable[[list[tuple[int, ...]], int, int], KVCache]
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


@dataclasses.dataclass
class Generated:
    """Per prompt, the new tokens and (constrained prompts only, else None) how it ended."""

    tokens: list[list[int]]
    outcomes: list[RowOutcome | None]


def generate(model: nnx.Module, prompts: Sequence[Sequence[int]], **kwargs: Any
             ) -> list[list[int]]:
    """`generate_with_outcomes(...).tokens`: the new tokens of each prompt."""
    return generate_with_outcomes(model, prompts, **kwargs).tokens


def generate_with_outcomes(
        model: nnx.Module, prompts: Sequence[Sequence[int]], *, max_new_tokens: int,
        stop_ids: Iterable[int], temperature: float = 0.0, top_k: int = 0, top_p: float = 1.0,
        seed: int = 0, pad_id: int = 0, batch_size: int = 16, bucket: int = 64,
        prefix_lengths: Sequence[int] | None = None, prefix_rows: int | None = None,
        mesh: Mesh | None = None, progress: bool = False, constrainer: Constrainer | None = None,
        grammars: Sequence[RowGrammar | None] | None = None,
        prefix_source: PrefixSource | None = None) -> Generated:
    """Continue each prompt; returns per prompt the new tokens up to and including the first
    stop id (or `max_new_tokens` tokens when none came), in the order of `prompts`.

    Greedy when `temperature` is 0. Sampling draws from `seed`, folded with the batch number and
    step, so a run is reproducible for the same prompts and batch size.

    `prefix_lengths` turns on prefix caching: prompts whose first `prefix_lengths[i]` tokens are
    identical share one prefill of that prefix (`sample.prefix.shared_prefix_lengths` computes
    them), at most `prefix_rows` distinct prefixes a batch (default `batch_size // 4`, at least
    1; on a mesh both are rounded up to the batch shards). Greedy outputs are the same as
    without it; sampled ones differ, as batches are composed differently. A `prefix_source`
    supplies the prefixes' caches instead of a prefill per batch, and then a prompt alone with
    its prefix continues it too.

    `constrainer` with `grammars` (one per prompt; None leaves that prompt free) constrains
    each reply to its grammar; every distinct grammar is compiled before decoding starts, so
    a schema the grammar engine refuses fails at once.
    """
    if (constrainer is None) != (grammars is None):
        raise ValueError("constrained decoding needs both a constrainer and the grammars")
    if grammars is not None and len(grammars) != len(prompts):
        raise ValueError(f"{len(grammars)} grammars for {len(prompts)} prompts")
    if constrainer is not None:
        if constrainer.vocab_size != model.config.vocab_size:
            raise ValueError(f"the constrainer masks {constrainer.vocab_size} tokens, the "
                             f"model has {model.config.vocab_size}")
        constrainer.check(grammars)
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if prefix_rows is not None and prefix_rows < 1:
        raise ValueError(f"prefix_rows must be >= 1, got {prefix_rows}")
    settings = SamplingSettings(float(temperature), int(top_k), float(top_p))
    prompts = [[int(t) for t in prompt] for prompt in prompts]
    for i, prompt in enumerate(prompts):
        if not prompt:
            raise ValueError(f"prompt {i} is empty: generation needs at least one token")
    batch_axes = _batch_axes(mesh)
    shards = _shard_count(mesh, batch_axes)
    batch_size = _round_up(max(1, batch_size), shards)
    # The prefix block is sharded like the batch, so it too needs a multiple of the shards.
    prefix_rows = _round_up(min(batch_size, prefix_rows or max(1, batch_size // 4)), shards)
    if prefix_lengths is None:
        plain, shared = list(range(len(prompts))), []
    else:
        plain, shared = plan_batches(prompts, [int(n) for n in prefix_lengths],
                                     batch_size=batch_size, prefix_rows=prefix_rows,
                                     share_singles=prefix_source is not None)
    order = sorted(plain, key=lambda i: -len(prompts[i]))
    batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
    batches += shared
    runner = _Runner(model, prompts, mesh, batch_axes, settings,
                     stops=sorted(set(int(s) for s in stop_ids)), seed=seed, pad_id=pad_id,
                     max_new_tokens=max_new_tokens, batch_size=batch_size,
                     prefix_rows=prefix_rows, bucket=bucket, constrainer=constrainer,
                     grammars=grammars, prefix_source=prefix_source)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="generate", unit="batch")
    results: list[list[int]] = [[] for _ in prompts]
    outcomes: list[RowOutcome | None] = [None] * len(prompts)
    for number, batch in enumerate(batches):
        if isinstance(batch, SharedBatch):
            rows = [index for index, _ in batch.rows]
            output, ended = runner.shared(batch, number)
        else:
            rows = batch
            output, ended = runner.plain(batch, number)
        for row, index in enumerate(rows):
            results[index] = _until_stop(output[row], runner.stops)
            outcomes[index] = ended[row]
    return Generated(results, outcomes)


class _Runner:
    """What the batches of one `generate` call share: weights, settings and the cache buffers.

    Prompts come longest first, so each cache shape is used by consecutive batches only: one
    buffer is kept per role ("main" for the batch, "prefix" for the shared prefixes) and a new
    shape frees the old buffer before allocating.
    """

    def __init__(self, model: nnx.Module, prompts: list[list[int]], mesh: Mesh | None,
                 batch_axes: tuple[str, ...], settings: SamplingSettings, *, stops: list[int],
                 seed: int, pad_id: int, max_new_tokens: int, batch_size: int,
                 prefix_rows: int, bucket: int, constrainer: Constrainer | None = None,
                 grammars: Sequence[RowGrammar | None] | None = None,
                 prefix_source: PrefixSource | None = None):
        self.model, self.prompts, self.mesh, self.batch_axes = model, prompts, mesh, batch_axes
        self.graphdef, self.state = nnx.split(model)
        self.settings, self.stops, self.seed, self.pad_id = settings, stops, seed, pad_id
        self.stop_array = jnp.asarray(stops or [-1], jnp.int32)
        self.max_new_tokens, self.batch_size, self.prefix_rows, self.bucket = (
            max_new_tokens, batch_size, prefix_rows, bucket)
        self.caches: dict[str, tuple[tuple[int, int], KVCache]] = {}
        self.constrainer, self.grammars = constrainer, grammars
        self.prefix_source = prefix_source

    def _take(self, role: str, shape: tuple[int, int]) -> KVCache:
        held = self.caches.pop(role, None)
        if held is not None and held[0] == shape:
            return held[1]
        del held
        return _new_cache(self.model, shape, self.mesh, self.batch_axes)

    def _keep(self, role: str, cache: KVCache) -> None:
        self.caches[role] = ((cache.k[0].shape[0], cache.max_len), cache)

    def _place(self, *arrays: np.ndarray) -> tuple[jax.Array, ...]:
        return _place(arrays, self.mesh, self.batch_axes)

    def _key(self, number: int) -> jax.Array:
        return jax.random.fold_in(jax.random.key(self.seed), number)

    def _matchers(self, rows: list[int]) -> tuple[BatchMatchers | None, ConstraintState | None]:
        """The batch's host matchers, registered, and the state the compiled loop carries."""
        if self.constrainer is None:
            return None, None
        matchers = self.constrainer.batch([self.grammars[i] for i in rows], self.batch_size)
        handle = register(matchers)
        counts = np.zeros(self.batch_size, np.int32)
        return matchers, ConstraintState(jnp.asarray(handle, jnp.int32), *self._place(counts))

    def _decode(self, cache: KVCache, first: DecodeState, key: jax.Array,
                constraint: ConstraintState | None, matchers: BatchMatchers | None,
                prefixes: SharedPrefixes | None = None
                ) -> tuple[np.ndarray, list[RowOutcome | None]]:
        try:
            cache, final, constraint = decode(
                self.graphdef, self.state, cache, first, key, self.stop_array, prefixes,
                constraint, settings=self.settings, pad_id=self.pad_id)
            self._keep("main", cache)
            output = np.asarray(jax.device_get(final.output))
            if matchers is None:
                return output, [None] * self.batch_size
            last, counts = jax.device_get((final.token, constraint.interventions))
            return output, matchers.finish(np.asarray(last), np.asarray(counts))
        finally:
            if constraint is not None:
                release(int(constraint.handle))

    def plain(self, rows: list[int], number: int
              ) -> tuple[np.ndarray, list[RowOutcome | None]]:
        """`[batch_size, max_new_tokens]` output of whole prompts, each prefilled in full,
        and how each constrained row ended."""
        tokens, valid = _left_pad([self.prompts[i] for i in rows], self.batch_size, self.bucket,
                                  self.pad_id)
        cache = self._take("main", (self.batch_size, tokens.shape[1] + self.max_new_tokens))
        tokens, valid = self._place(tokens, valid)
        key = self._key(number)
        matchers, constraint = self._matchers(rows)
        with _released_on_error(constraint):
            cache, first, constraint = prefill(
                self.graphdef, self.state, cache, tokens, valid, key, self.stop_array,
                constraint, settings=self.settings, max_new_tokens=self.max_new_tokens,
                pad_id=self.pad_id)
        return self._decode(cache, first, key, constraint, matchers)

    def shared(self, batch: SharedBatch, number: int
               ) -> tuple[np.ndarray, list[RowOutcome | None]]:
        """`[batch_size, max_new_tokens]` output of a batch whose rows continue shared prefixes.

        The prefixes sit left-padded in `[prefix_rows, Lp]`; a row's cache holds its own tokens
        left-padded to `[0, Ls)`, then the decoded tokens. Filler rows (a short last batch)
        continue prefix 0 with one pad token, and unused prefix rows are one pad token: both
        are computed and never read.
        """
        prefix_tokens, prefix_valid = _left_pad([list(p) for p in batch.prefixes],
                                                self.prefix_rows, self.bucket, self.pad_id)
        own = [self.prompts[i][len(batch.prefixes[p]):] for i, p in batch.rows]
        tokens, valid = _left_pad(own, self.batch_size, self.bucket, self.pad_id)
        offsets = np.zeros(self.batch_size, np.int32)
        offsets[:len(own)] = [len(batch.prefixes[p]) for _, p in batch.rows]
        row_of_slot, slot_of_row = _prefix_slots([p for _, p in batch.rows], self.prefix_rows,
                                                 self.batch_size)
        if self.prefix_source is None:
            prefix_cache = self._take("prefix", prefix_tokens.shape)
            prefix_cache = prefill_prefixes(self.graphdef, self.state, prefix_cache,
                                            *self._place(prefix_tokens, prefix_valid))
        else:
            prefix_cache = self.prefix_source(batch.prefixes, *prefix_tokens.shape)
        prefixes = SharedPrefixes(prefix_cache, *self._place(row_of_slot, slot_of_row))
        cache = self._take("main", (self.batch_size, tokens.shape[1] + self.max_new_tokens))
        tokens, valid, offsets = self._place(tokens, valid, offsets)
        key = self._key(number)
        matchers, constraint = self._matchers([index for index, _ in batch.rows])
        with _released_on_error(constraint):
            cache, first, constraint = prefill_suffixes(
                self.graphdef, self.state, cache, tokens, valid, offsets, prefixes, key,
                self.stop_array, constraint, settings=self.settings,
                max_new_tokens=self.max_new_tokens, pad_id=self.pad_id)
        output = self._decode(cache, first, key, constraint, matchers, prefixes)
        if self.prefix_source is None:
            self._keep("prefix", prefix_cache)
        return output


@contextlib.contextmanager
def _released_on_error(constraint: ConstraintState | None):
    """A prefill that raises never reaches `_decode`, whose `finally` releases the batch's
    matchers: release them here, so a failed batch leaves nothing in the registry."""
    try:
        yield
    except BaseException:
        if constraint is not None:
            release(int(constraint.handle))
        raise


def _prefix_slots(which: list[int], prefix_rows: int, batch_size: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(row of each query slot `[prefix_rows * C]`, slot of each row `[batch_size]`).

    Prefix r owns slots `[r * C, (r + 1) * C)`, C = the rows a prefix holds at most (at least
    `batch_size // prefix_rows`, so that the usual batch compiles one shape, else the next
    power of two). Unused slots point at row 0 and filler rows at slot 0: both are computed
    and never read.
    """
    counts = np.bincount(np.asarray(which, np.int64), minlength=prefix_rows)
    slots = max(batch_size // prefix_rows, 1)
    while slots < counts.max():
        slots *= 2
    row_of_slot = np.zeros(prefix_rows * slots, np.int32)
    slot_of_row = np.zeros(batch_size, np.int32)
    taken = np.zeros(prefix_rows, np.int64)
    for row, prefix in enumerate(which):
        slot = prefix * slots + taken[prefix]
        taken[prefix] += 1
        row_of_slot[slot], slot_of_row[row] = row, slot
    return row_of_slot, slot_of_row


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
    """Host arrays onto the device(s), their first (batch) dimension split over `axes`."""
    if mesh is None:
        return tuple(jnp.asarray(a) for a in arrays)
    return tuple(jax.device_put(a, NamedSharding(mesh, P(axes or None, *[None] * (a.ndim - 1))))
                 for a in arrays)


def _new_cache(model: nnx.Module, shape: tuple[int, int], mesh: Mesh | None,
               axes: tuple[str, ...]) -> KVCache:
    batch, length = shape
    make = lambda: init_cache(model.config, batch, length, model.dtype)
    if mesh is None:
        return jax.jit(make)()
    heads = "tensor" if ("tensor" in mesh.axis_names
                         and model.config.num_kv_heads % mesh.shape["tensor"] == 0) else None
    batch_spec = axes or None
    kv = (NamedSharding(mesh, P(batch_spec, heads, None, None)),) * model.config.num_layers
    shardings = KVCache(k=kv, v=kv, segment_ids=NamedSharding(mesh, P(batch_spec, None)),
                        index=NamedSharding(mesh, P()))
    return jax.jit(make, out_shardings=shardings)()
