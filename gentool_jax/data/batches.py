"""Encoded samples → fixed-shape training batches, padded (one sample a row) or packed.

Every row has exactly `max_len` tokens so the train step compiles once per stage. Packing puts
several samples in a row (first fit); `segment_ids` and `positions` let the model keep attention
and RoPE inside each sample, so a packed row trains exactly like its samples one by one.
A sample longer than `max_len` is dropped and counted, never truncated: a truncated target
would teach the model to stop mid-answer or never see the end-of-turn token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grain
import numpy as np

from gentool_jax.data.render import EncodedExample
from gentool_jax.errors import GentoolError

BATCH_KEYS = ("tokens", "targets", "loss_mask", "positions", "segment_ids")


def make_batch(rows: Sequence[Sequence[EncodedExample]], max_len: int) -> dict[str, np.ndarray]:
    """Lay out rows of samples as `[len(rows), max_len]` arrays (the train-step contract).

    `targets[t]` is the next token within the same sample and `loss_mask[t]` says whether that
    next token is an assistant target; the last position of a sample predicts nothing.
    """
    shape = (len(rows), max_len)
    batch = {
        "tokens": np.zeros(shape, np.int32),
        "targets": np.zeros(shape, np.int32),
        "loss_mask": np.zeros(shape, np.float32),
        "positions": np.zeros(shape, np.int32),
        "segment_ids": np.zeros(shape, np.int32),
    }
    for r, samples in enumerate(rows):
        start = 0
        for segment, example in enumerate(samples, start=1):
            length = len(example)
            end = start + length
            if end > max_len:
                raise ValueError(f"row {r} holds {end} tokens > max_len {max_len}")
            batch["tokens"][r, start:end] = example.tokens
            batch["targets"][r, start:end - 1] = example.tokens[1:]
            batch["loss_mask"][r, start:end - 1] = example.loss_mask[1:]
            batch["positions"][r, start:end] = np.arange(length, dtype=np.int32)
            batch["segment_ids"][r, start:end] = segment
            start = end
    return batch


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


class BatchIterator(grain.DatasetIterator):
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

    def __next__(self) -> dict[str, np.ndarray]:
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
