"""Encoded samples → fixed-shape training batches, padded (one sample a row) or packed.

Every row has exactly `max_len` tokens so the train step compiles once per stage. Packing puts
several samples in a row (first fit); `segment_ids` and `positions` let the model keep attention
and RoPE inside each sample, so a packed row trains exactly like its samples one by one.
A `SharedSegment` holds a shared prompt prefix once and then several turns (DESIGN §3):
`turn_ids` (0 = prefix) keep each turn to the prefix and itself, and each turn's positions
continue from the prefix end, so it also trains exactly like its samples one by one.
`Batch` is the one definition of a batch's fields, for data/ that fills it and train/ that
reads it.
A sample longer than `max_len` is dropped and counted, never truncated: a truncated target
would teach the model to stop mid-answer or never see the end-of-turn token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import grain
import jax
import numpy as np

from gentool_jax.data.render import EncodedExample
from gentool_jax.errors import GentoolError

Array = np.ndarray | jax.Array


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True, eq=False)
class Batch(Mapping[str, Array]):
    """`[rows, length]` arrays, numpy from data/ and `jax.Array`s once laid over the mesh.

    A registered pytree, so jit, shardings and tree maps take a batch whole; also a read-only
    mapping of its field names, so code written for a plain dict of these keys (the tests, the
    benchmarks) takes a Batch, and the train step takes such a dict, unchanged."""

    tokens: Array  # int32
    targets: Array  # int32: `tokens` shifted left by one within a sample, 0 where none
    loss_mask: Array  # float32: 1 where `targets` is an assistant target (end of turn included)
    positions: Array  # int32: from 0 in each sample; a shared prefix's turns continue from it
    segment_ids: Array  # int32: 1.. per packed segment, 0 = padding
    turn_ids: Array  # int32: 0 = shared prefix or plain sample, k = the k-th turn

    def __getitem__(self, key: str) -> Array:
        if key not in BATCH_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(BATCH_KEYS)

    def __len__(self) -> int:
        return len(BATCH_KEYS)


BATCH_KEYS = tuple(field.name for field in dataclasses.fields(Batch))


@dataclasses.dataclass(frozen=True)
class SharedSegment:
    """A shared prompt prefix (no loss) followed by turns: each turn is a sample's tokens after
    the prefix, with its loss mask. The prefix ends before every sample's first target token,
    so the prefix itself predicts nothing that is trained."""

    prefix: np.ndarray  # int32 [prefix_len]
    turns: tuple[EncodedExample, ...]

    def __len__(self) -> int:
        return len(self.prefix) + sum(len(turn) for turn in self.turns)


def _write_turn(batch: dict[str, np.ndarray], r: int, start: int, turn: EncodedExample,
                segment: int, turn_id: int, first_position: int) -> int:
    end = start + len(turn)
    batch["tokens"][r, start:end] = turn.tokens
    batch["targets"][r, start:end - 1] = turn.tokens[1:]
    batch["loss_mask"][r, start:end - 1] = turn.loss_mask[1:]
    batch["positions"][r, start:end] = first_position + np.arange(len(turn), dtype=np.int32)
    batch["segment_ids"][r, start:end] = segment
    batch["turn_ids"][r, start:end] = turn_id
    return end


def make_batch(rows: Sequence[Sequence[EncodedExample | SharedSegment]], max_len: int
               ) -> Batch:
    """Lay out rows of samples as `[len(rows), max_len]` arrays (the train-step contract).

    `targets[t]` is the next token within the same sample and `loss_mask[t]` says whether that
    next token is an assistant target; the last position of a sample predicts nothing.
    """
    shape = (len(rows), max_len)
    batch = {key: np.zeros(shape, np.float32 if key == "loss_mask" else np.int32)
             for key in BATCH_KEYS}
    for r, items in enumerate(rows):
        total = sum(len(item) for item in items)
        if total > max_len:
            raise ValueError(f"row {r} holds {total} tokens > max_len {max_len}")
        start = 0
        for segment, item in enumerate(items, start=1):
            if isinstance(item, EncodedExample):
                start = _write_turn(batch, r, start, item, segment, 0, 0)
                continue
            if len(item.prefix):
                prefix = EncodedExample(item.prefix, np.zeros(len(item.prefix), bool))
                start = _write_turn(batch, r, start, prefix, segment, 0, 0)
                # The prefix's last token would predict the first turn's first token; which
                # turn is ambiguous and it is never a target, so it predicts nothing.
                batch["targets"][r, start - 1] = 0
            for turn_id, turn in enumerate(item.turns, start=1):
                start = _write_turn(batch, r, start, turn, segment, turn_id, len(item.prefix))
    return Batch(**batch)


class BatchIterDataset(grain.IterDataset):
    """Groups a stream of `EncodedExample`s into batches of `rows` rows of `max_len` tokens."""

    def __init__(self, parent: grain.IterDataset, *, rows: int, max_len: int, pack: bool,
                 epoch_size: int | None = None):
        """`epoch_size`: samples per epoch; that many drops in a row means none ever fits."""
        super().__init__(parent)
        if rows < 1 or max_len < 2:
            raise ValueError(f"need rows >= 1 and max_len >= 2, got {rows=} {max_len=}")
        self._rows = rows
        self._max_len = max_len
        self._pack = pack
        self._epoch_size = epoch_size

    def __iter__(self) -> BatchIterator:
        return BatchIterator(self._parent.__iter__(), rows=self._rows, max_len=self._max_len,
                             pack=self._pack, epoch_size=self._epoch_size)

    def __str__(self) -> str:
        return f"BatchIterDataset(rows={self._rows}, max_len={self._max_len}, pack={self._pack})"


class CountingIterator(grain.DatasetIterator):
    """What every batcher reports: samples dropped as too long and samples handed out."""

    def __init__(self, parent: grain.DatasetIterator):
        super().__init__(parent)
        self._dropped = 0
        self._samples = 0

    @property
    def dropped(self) -> int:
        """Samples skipped so far because they exceed `max_len` (repeats across epochs count)."""
        return self._dropped

    @property
    def samples(self) -> int:
        """Samples placed in batches handed out so far."""
        return self._samples


class BatchIterator(CountingIterator):
    """Checkpointable batcher: its state is the parent's plus the sample counters.

    When packing, the sample that did not fit closes the batch and starts the next one; the
    saved parent state is the one *before* that sample was read, so a restore re-reads it
    rather than needing to serialize it.
    """

    def __init__(self, parent: grain.DatasetIterator, *, rows: int, max_len: int, pack: bool,
                 epoch_size: int | None = None):
        super().__init__(parent)
        self._rows = rows
        self._max_len = max_len
        self._pack = pack
        self._epoch_size = epoch_size
        self._held: EncodedExample | None = None
        self._held_state: dict[str, Any] | None = None
        self._held_dropped = 0

    def _read(self) -> EncodedExample:
        in_a_row = 0
        while True:
            example = next(self._parent)
            if len(example) <= self._max_len:
                return example
            self._dropped += 1
            in_a_row += 1
            if self._epoch_size is not None and in_a_row >= self._epoch_size:
                raise GentoolError(
                    f"{in_a_row} samples in a row (a whole epoch) are longer than "
                    f"data.max_len={self._max_len} (the last has {len(example)} tokens); raise "
                    "data.max_len or use data.tool_style=compact")

    def __next__(self) -> Batch:
        if not self._pack:
            rows = [[self._read()] for _ in range(self._rows)]
            self._samples += self._rows
            return make_batch(rows, self._max_len)
        rows: list[list[EncodedExample]] = [[] for _ in range(self._rows)]
        used = [0] * self._rows
        while True:
            if self._held is not None:
                example, self._held = self._held, None
            else:
                state, dropped = self._parent.get_state(), self._dropped
                try:
                    example = self._read()
                except StopIteration:
                    if any(used):
                        break
                    raise
                self._held_state, self._held_dropped = state, dropped
            slot = next((r for r in range(self._rows)
                         if used[r] + len(example) <= self._max_len), None)
            if slot is None:
                self._held = example
                break
            rows[slot].append(example)
            used[slot] += len(example)
        self._samples += sum(len(row) for row in rows)
        return make_batch(rows, self._max_len)

    def get_state(self) -> dict[str, Any]:
        if self._held is not None:
            return {"parent": self._held_state, "dropped": self._held_dropped,
                    "samples": self._samples}
        return {"parent": self._parent.get_state(), "dropped": self._dropped,
                "samples": self._samples}

    def set_state(self, state: dict[str, Any]) -> None:
        self._parent.set_state(state["parent"])
        self._held = None
        self._held_state = None
        self._dropped = int(state["dropped"])
        self._samples = int(state["samples"])
