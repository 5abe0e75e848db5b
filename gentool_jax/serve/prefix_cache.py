"""Prefilled toolset prefixes kept across requests: a bounded LRU the sampler reads from.

Agents send the same toolset with every request, and in a GenTool prompt the system prompt
with the toolset is ≈80% of the tokens. Evaluation prefills such a shared prefix once per batch
(`sample.prefix`, `model/prefix_attention.py`); a server's batches are small and arrive one
after another, so here the prefill of each prefix is kept (keys, values and validity of its
`[1, L]` cache) and later batches continue from it without running the prefix again.

The store is the `PrefixSource` of `sample.generate`: given a batch's distinct prefixes it
returns their `[rows, length]` block, prefilling only those it does not hold. Every call runs
on the model worker thread; /metrics reads the counters from the event loop (plain ints).
"""

from __future__ import annotations

import collections
import math

import jax.numpy as jnp
import numpy as np
from flax import nnx

from gentool_jax.model.kv_cache import KVCache, init_cache
from gentool_jax.sample.decode import prefill_prefixes


class PrefixStore:
    """Up to `capacity` prefilled prefixes, keyed by their tokens, least recently used evicted.

    Each entry is the cache `prefill_prefixes` leaves for the prefix alone, left-padded to a
    multiple of `bucket` (so prefixes compile once per bucket). A batch's block is those
    entries left-padded to the block's length, plus rows of empty slots for unused prefix rows;
    pads are invalid slots that no query attends to. The block of the last batch is kept too:
    consecutive batches of one toolset reuse it without assembling it again (a block is
    rebuilt when its prefixes, shape or any entry object differ).
    """

    def __init__(self, model: nnx.Module, *, capacity: int, bucket: int, pad_id: int):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.graphdef, self.state = nnx.split(model)
        self.config, self.dtype = model.config, model.dtype
        self.capacity, self.bucket, self.pad_id = capacity, max(1, bucket), pad_id
        self.entries: collections.OrderedDict[tuple[int, ...], KVCache] = \
            collections.OrderedDict()
        self.hits = self.misses = self.evictions = 0
        self._last: tuple[tuple, KVCache] | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def __call__(self, prefixes: list[tuple[int, ...]], rows: int, length: int) -> KVCache:
        entries = [self._entry(prefix) for prefix in prefixes]
        key = (tuple(prefixes), tuple(map(id, entries)), rows, length)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        block = _block(entries, rows, length)
        self._last = (key, block)
        return block

    def _entry(self, prefix: tuple[int, ...]) -> KVCache:
        entry = self.entries.get(prefix)
        if entry is not None:
            self.hits += 1
            self.entries.move_to_end(prefix)
            return entry
        self.misses += 1
        entry = self._prefill(prefix)
        self.entries[prefix] = entry
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)
            self.evictions += 1
        return entry

    def _prefill(self, prefix: tuple[int, ...]) -> KVCache:
        length = math.ceil(len(prefix) / self.bucket) * self.bucket
        tokens = np.full((1, length), self.pad_id, np.int32)
        valid = np.zeros((1, length), np.int32)
        tokens[0, length - len(prefix):] = prefix
        valid[0, length - len(prefix):] = 1
        cache = init_cache(self.config, 1, length, self.dtype)
        return prefill_prefixes(self.graphdef, self.state, cache, jnp.asarray(tokens),
                                jnp.asarray(valid))


def _block(entries: list[KVCache], rows: int, length: int) -> KVCache:
    """The entries stacked into `[rows, length]`, each left-padded with invalid slots; rows
    past the entries are all invalid (no row continues them)."""

    def stack(parts: list[jnp.ndarray], axis: int) -> jnp.ndarray:
        padded = []
        for part in parts:
            widths = [(0, 0)] * part.ndim
            widths[axis] = (length - part.shape[axis], 0)
            padded.append(jnp.pad(part, widths))
        filler = list(padded[0].shape)
        filler[0] = rows - len(parts)
        return jnp.concatenate(padded + [jnp.zeros(filler, padded[0].dtype)], axis=0)

    layers = range(len(entries[0].k))
    return KVCache(k=tuple(stack([e.k[i] for e in entries], 3) for i in layers),
                   v=tuple(stack([e.v[i] for e in entries], 2) for i in layers),
                   segment_ids=stack([e.segment_ids for e in entries], 1),
                   index=jnp.asarray(length, jnp.int32))
