"""Per-row grammar matchers stepped from inside the jitted decode loop.

The decode `while_loop` calls `host_masks` once per step through one `io_callback` (always the
same function, so no program is compiled per toolset or per batch): it hands the host the
tokens the rows just produced, the host advances each row's llguidance matcher and returns the
rows' next-token bitmasks `[B, ceil(V/32)]` (int32, 32 tokens a word, as llguidance fills them,
in parallel over rows) and which rows must end. The device unpacks the bits and masks the
logits before temperature, top-k and top-p (`sampling.sample_tokens`).

A row ends "rejected" when its matcher errs or allows nothing (it is never sampled from all
`-inf` logits), "complete" when the matcher accepted the end-of-turn token, and stays
"unfinished" when the token budget ran out first: only complete rows are valid replies.

Why a callback in the loop and not a host-stepped loop: measured in
`benchmarks/bench_constrained.py` (docs/constrained_decoding.md), the host mask for a batch of
32 costs 1.6 ms a step at the median (8 ms p99) against ≈230 ms for a decode step of the
default model on the 2-core CPU VM, so overlapping the two would hide under 1% and a
host-stepped loop would lose the fused `while_loop`.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import io_callback

from gentool_jax.errors import GentoolError
from gentool_jax.sample.grammar import (
    FULL_REPLY,
    NO_BOUNDS,
    GrammarCache,
    GrammarOptions,
    ReplyFormat,
    grammar_key,
)

COMPLETE, UNFINISHED, REJECTED = "complete", "unfinished", "rejected"


@dataclasses.dataclass(frozen=True, eq=False)
class RowGrammar:
    """What one prompt's reply must follow: its toolset (the record's `tools`, without
    `generate_response`) and the reply format."""

    tools: tuple[dict[str, Any], ...]
    reply: ReplyFormat = FULL_REPLY

    @classmethod
    def of(cls, tools: Sequence[dict[str, Any]], reply: ReplyFormat = FULL_REPLY
           ) -> RowGrammar:
        return cls(tuple(tools), reply)


@dataclasses.dataclass
class RowOutcome:
    """How a constrained row ended, and in how many steps the grammar overrode the model's
    own most likely token (0 = the output is the unconstrained greedy output)."""

    status: str = UNFINISHED
    interventions: int = 0
    error: str = ""

    @property
    def valid(self) -> bool:
        return self.status == COMPLETE


def llg_tokenizer(tokenizer: Any, vocab_size: int, stop_ids: Sequence[int]) -> Any:
    """An `llguidance.LLTokenizer` over the HF fast tokenizer's own `tokenizers` JSON, sized
    to the model's logits and ending on the sampler's stop ids (the end-of-turn tokens)."""
    import llguidance

    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    return llguidance.LLTokenizer(backend.to_str(), n_vocab=int(vocab_size),
                                  eos_token=[int(i) for i in stop_ids])


def require_host_device() -> None:
    """The grammar runs on the host through `io_callback`, which needs JAX's CPU backend; with
    `JAX_PLATFORMS=cuda` (or `tpu`) alone it fails deep inside the first decode step, so say
    so before anything compiles (found on an H200, docs/benchmarks.md)."""
    try:
        jax.devices("cpu")
    except RuntimeError as error:
        raise GentoolError(
            "constrained decoding (sample.constrain) fills its token masks on the host and "
            f"needs JAX's CPU backend, which this process lacks ({error}): add cpu to "
            "JAX_PLATFORMS (e.g. JAX_PLATFORMS=cuda,cpu) or set --config.sample.constrain=none"
        ) from None


class Constrainer:
    """The tokenizer-level half of constrained decoding, shared by every batch of a run (and
    of a server's life): the llguidance tokenizer, the compiled-grammar cache and the thread
    pool that fills masks."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_ids: Sequence[int],
                 options: GrammarOptions = NO_BOUNDS):
        import llguidance

        require_host_device()
        self.stop_ids = frozenset(int(i) for i in stop_ids)
        if not self.stop_ids:
            raise ValueError("constrained decoding needs at least one stop (end-of-turn) id")
        self.vocab_size = int(vocab_size)
        self.tokenizer = llg_tokenizer(tokenizer, vocab_size, sorted(self.stop_ids))
        self.grammars = GrammarCache(self.tokenizer)
        self.options = options
        self.executor = llguidance.LLExecutor()
        self.words = (self.vocab_size + 31) // 32

    def check(self, grammars: Sequence[RowGrammar | None]) -> None:
        """Compile every distinct grammar now, so a bad schema fails before any decoding."""
        distinct = {grammar_key(g.tools, g.reply, self.options): g
                    for g in grammars if g is not None}
        for grammar in distinct.values():
            self.grammars.matcher(grammar.tools, grammar.reply, self.options)

    def batch(self, grammars: Sequence[RowGrammar | None], batch_size: int) -> BatchMatchers:
        """Matchers for one batch; rows past `grammars` (fillers) and None rows are free."""
        matchers = [None if g is None else
                    self.grammars.matcher(g.tools, g.reply, self.options) for g in grammars]
        matchers += [None] * (batch_size - len(matchers))
        return BatchMatchers(self, matchers)


class BatchMatchers:
    """The matchers of one batch's rows and how each row ended."""

    def __init__(self, constrainer: Constrainer, matchers: list[Any]):
        self.constrainer = constrainer
        self.matchers = matchers
        self.outcomes = [RowOutcome() if m is not None else None for m in matchers]
        self.finished = [m is None for m in matchers]
        self.started = False
        self.mask = np.full((len(matchers), constrainer.words), -1, np.int32)

    def _end(self, row: int, status: str, error: str = "") -> None:
        self.finished[row] = True
        self.outcomes[row].status, self.outcomes[row].error = status, error

    def step(self, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every live row by the token it produced (none on the first call) and return
        (next-token bitmask `[B, W]` int32, rows to end now `[B]` bool). Finished and free
        rows get an all-ones mask, so the device never meets a row of all `-inf` logits."""
        from llguidance.numpy import fill_next_token_bitmask_par

        dead = np.zeros(len(self.matchers), bool)
        if self.started:
            for row in range(len(self.matchers)):
                if not self.finished[row]:
                    dead[row] = self._consume(row, int(tokens[row])) == REJECTED
        self.started = True
        live = [(m, row) for row, m in enumerate(self.matchers) if not self.finished[row]]
        self.mask.fill(-1)
        if live:
            fill_next_token_bitmask_par(self.constrainer.executor, live, self.mask)
        for matcher, row in live:
            if matcher.is_error() or not self.mask[row].any():
                reason = matcher.get_error()[:200] or "the grammar allows no next token"
                self._end(row, REJECTED, reason)
                dead[row] = True
                self.mask[row] = -1
        return self.mask.copy(), dead

    def _consume(self, row: int, token: int) -> str | None:
        """Feed `token` to the row's matcher; end the row REJECTED if it refuses the token,
        COMPLETE if it is an accepted stop. Returns how the row ended, None if still open."""
        matcher = self.matchers[row]
        if not matcher.consume_token(token):
            self._end(row, REJECTED, f"token {token}: {matcher.get_error()[:200]}")
            return REJECTED
        if token in self.constrainer.stop_ids:
            self._end(row, COMPLETE)
            return COMPLETE
        return None

    def finish(self, last_tokens: np.ndarray, interventions: np.ndarray
               ) -> list[RowOutcome | None]:
        """Close the batch after the loop: the rows' last tokens were produced but never
        consumed (the loop ends on them), so a row whose last token is a stop it accepts is
        complete; a row still open ran out of tokens."""
        for row in range(len(self.matchers)):
            if not self.finished[row] and self._consume(row, int(last_tokens[row])) is None:
                self._end(row, UNFINISHED, "the token budget ran out before the reply ended")
        for row, outcome in enumerate(self.outcomes):
            if outcome is not None:
                outcome.interventions = int(interventions[row])
        return self.outcomes


# The batches being decoded, by the handle the jitted loop carries (an int32 scalar, so a new
# batch reuses the compiled program).
_ACTIVE: dict[int, BatchMatchers] = {}
_HANDLES = itertools.count(1)
_LOCK = threading.Lock()


def register(batch: BatchMatchers) -> int:
    with _LOCK:
        handle = next(_HANDLES) % (2**31 - 1)
        _ACTIVE[handle] = batch
    return handle


def release(handle: int) -> None:
    with _LOCK:
        _ACTIVE.pop(handle, None)


def _host_step(handle: np.ndarray, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _ACTIVE[int(handle)].step(np.asarray(tokens))


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class ConstraintState:
    """What the decode loop carries for constrained rows: the batch's handle and, per row,
    how many steps the mask changed the unmasked argmax."""

    handle: jax.Array  # int32 scalar
    interventions: jax.Array  # [B] int32


def host_masks(state: ConstraintState, tokens: jax.Array, vocab_size: int
               ) -> tuple[jax.Array, jax.Array]:
    """(allowed `[B, vocab_size]` bool, rows to end `[B]` bool) for the next token, from the
    host's matchers after they consumed `tokens` (ignored on a batch's first call)."""
    batch = tokens.shape[0]
    words = (vocab_size + 31) // 32
    shapes = (jax.ShapeDtypeStruct((batch, words), jnp.int32),
              jax.ShapeDtypeStruct((batch,), jnp.bool_))
    bitmask, dead = io_callback(_host_step, shapes, state.handle, tokens)
    ids = jnp.arange(vocab_size, dtype=jnp.int32)
    allowed = (jnp.right_shift(bitmask[:, ids // 32], ids % 32) & 1).astype(bool)
    return allowed, dead
