"""The JAX sampler as the batcher's `Generator`: one `generate` call per batch.

`generate` pads every call to `batch_size` rows and prompts to a multiple of `bucket`, so the
prefill/decode programs compile once per prompt-length bucket. The token budget is part of the
program's shape too, so it is rounded up to a power of two here: a server whose clients ask for
arbitrary `max_tokens` compiles a handful of budgets, not one per value. Decoding stops as soon
as every row has stopped, so a budget larger than needed costs cache space, not steps.

With a `PrefixStore` (`serve.prefix_cache_size` > 0), a batch whose prompts all start with the
same toolset prefix (their `prefix_lengths` leading tokens) continues that prefix's kept
prefill instead of running it: the sampler's prefix-cached path, with the store as its source
of prefix caches and one prefix row a batch. A batch that mixes toolsets, or holds chat
requests, runs plainly as one batch: the cached path would split it into one decode loop per
prefix, and with one prefix a batch its programs have one shape per (prefix, suffix) length
bucket, so the cache adds few compilations.

Requests in tool mode come with their toolset's grammar (`sample.constraint.RowGrammar`); a batch
holding any is decoded constrained, the others' rows free, in one call. The llguidance tokenizer
and compiled grammars are built on the first such batch and kept for the server's life.
"""

from __future__ import annotations

import threading
from typing import Any

from gentool_jax.sample.constraint import Constrainer, RowGrammar
from gentool_jax.sample.generate import generate, stop_ids_for
from gentool_jax.sample.sampling import SamplingSettings
from gentool_jax.serve.prefix_cache import PrefixStore

MIN_BUDGET = 16


def budget_bucket(max_new_tokens: int) -> int:
    """The compiled token budget that covers `max_new_tokens`: a power of two, >= MIN_BUDGET."""
    budget = MIN_BUDGET
    while budget < max_new_tokens:
        budget *= 2
    return budget


class SamplerEngine:
    """Runs batches of prompts through `generate` with fixed shapes; call from one thread."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int, bucket: int, seed: int,
                 mesh: Any = None, prefix_cache_size: int = 0):
        self.model, self.batch_size, self.bucket, self.mesh = model, batch_size, bucket, mesh
        self.tokenizer, self.constrainer, self.lock = tokenizer, None, threading.Lock()
        self.stop_ids = stop_ids_for(tokenizer)
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
        self.seed, self.calls = seed, 0
        self.prefixes = (PrefixStore(model, capacity=prefix_cache_size, bucket=bucket,
                                     pad_id=self.pad_id) if prefix_cache_size > 0 else None)

    def _constrainer(self) -> Constrainer:
        with self.lock:
            if self.constrainer is None:
                self.constrainer = Constrainer(self.tokenizer, self.model.config.vocab_size,
                                               self.stop_ids)
            return self.constrainer

    def check_grammar(self, grammar: RowGrammar) -> None:
        """Compile `grammar` now (any thread); GrammarError names a schema it refuses."""
        self._constrainer().check([grammar])

    def __call__(self, prompts: list[list[int]], settings: SamplingSettings,
                 max_new_tokens: int, grammars: list[RowGrammar | None] | None = None,
                 prefix_lengths: list[int] | None = None) -> list[list[int]]:
        # A new seed per call: two sampled batches never repeat each other's draws.
        self.calls += 1
        extra: dict[str, Any] = {}
        if grammars is not None and any(g is not None for g in grammars):
            extra = dict(constrainer=self._constrainer(), grammars=grammars)
        if self._one_prefix(prompts, prefix_lengths):
            extra.update(prefix_lengths=prefix_lengths, prefix_source=self.prefixes,
                         prefix_rows=1)
        return generate(self.model, prompts, max_new_tokens=budget_bucket(max_new_tokens),
                        stop_ids=self.stop_ids, temperature=settings.temperature,
                        top_k=settings.top_k, top_p=settings.top_p, seed=self.seed + self.calls,
                        pad_id=self.pad_id, batch_size=self.batch_size, bucket=self.bucket,
                        mesh=self.mesh, **extra)

    def _one_prefix(self, prompts: list[list[int]], prefix_lengths: list[int] | None) -> bool:
        """Whether the batch continues one cached prefix: the cache is on and every prompt
        starts with the same (non-empty) prefix."""
        if self.prefixes is None or not prefix_lengths or not all(prefix_lengths):
            return False
        return len({tuple(p[:n]) for p, n in zip(prompts, prefix_lengths)}) == 1
