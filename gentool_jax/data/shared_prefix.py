"""Shared-prefix rows (DESIGN §3): records with one toolset train as one prefix and many turns.

About 80% of a rendered sample is the system prompt with its toolset, and the simulator gives
all queries of a pair in one split and variant the same toolset in the same order. Such a group
is encoded once per epoch: every member is rendered exactly as on its own, their longest common
token prefix becomes the shared prefix, and what follows it in each member is that member's
turn. The batcher lays a group's turns out behind one copy of the prefix, splitting a group
that does not fit in one row over several rows (each with its own copy of the prefix).

The unit of shuffling is the group: an epoch visits every group once, with its members in a
fresh seeded order, so a process's state is still a few integers (Grain's, plus how many turns
of the current group are already in handed-out batches).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import grain
import numpy as np

from gentool_jax.data.batches import Batch, CountingIterator, SharedSegment, make_batch
from gentool_jax.data.render import EncodedExample, encode_example, reorder_tools
from gentool_jax.errors import GentoolError
from gentool_jax.records import toolset_key


def group_by_toolset(records: Sequence[dict[str, Any]]) -> list[list[int]]:
    """Indices of `records` grouped by toolset (tools in presentation order), in order of
    first appearance, so the grouping is a deterministic function of the file."""
    groups: dict[str, list[int]] = {}
    for index in range(len(records)):
        groups.setdefault(toolset_key(records[index]), []).append(index)
    return list(groups.values())


def common_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """Length of the longest token prefix that all `sequences` share."""
    if not sequences:
        return 0
    length = min(len(sequence) for sequence in sequences)
    first = sequences[0]
    for other in sequences[1:]:
        same = np.flatnonzero(np.asarray(first[:length]) != np.asarray(other[:length]))
        if len(same):
            length = int(same[0])
    return length


class GroupSource(Sequence):
    """Random access over groups: item i is the list of records of group i."""

    def __init__(self, records: Sequence[dict[str, Any]], groups: list[list[int]]):
        self._records = records
        self._groups = groups

    def __len__(self) -> int:
        return len(self._groups)

    def __getitem__(self, index: int) -> list[dict[str, Any]]:
        return [self._records[i] for i in self._groups[index]]


@dataclasses.dataclass(frozen=True)
class GroupEncoder:
    """Picklable group → SharedSegment step (members shuffled; one tool order per group)."""

    tokenizer: Any
    style: str
    include_ranking: bool
    include_call: bool
    shuffle: bool
    decision_weight: float = 1.0
    ranking_target: str = "full"

    def __call__(self, group: list[dict[str, Any]], rng: np.random.Generator) -> SharedSegment:
        members = [group[i] for i in rng.permutation(len(group))]
        if self.shuffle:
            names = [tool["name"] for tool in members[0]["tools"]]
            order = [names[i] for i in rng.permutation(len(names))]
            members = [reorder_tools(record, order) for record in members]
        examples = [encode_example(record, self.tokenizer, style=self.style,
                                   include_ranking=self.include_ranking,
                                   include_call=self.include_call,
                                   decision_weight=self.decision_weight,
                                   ranking_target=self.ranking_target)
                    for record in members]
        return split_shared_prefix(examples)


def split_shared_prefix(examples: Sequence[EncodedExample]) -> SharedSegment:
    """The longest common prefix of `examples` that ends before every first target token's
    predecessor, so each turn starts with at least one prompt token that predicts its target."""
    first_target = min(int(np.flatnonzero(example.loss_mask)[0]) for example in examples)
    cut = min(common_prefix_length([example.tokens for example in examples]),
              first_target - 1)
    cut = max(cut, 0)
    turns = tuple(EncodedExample(example.tokens[cut:], example.loss_mask[cut:])
                  for example in examples)
    return SharedSegment(prefix=examples[0].tokens[:cut], turns=turns)


class SharedPrefixBatchDataset(grain.IterDataset):
    """Lays a stream of `SharedSegment` groups out as batches of `rows` × `max_len` tokens."""

    def __init__(self, parent: grain.IterDataset, *, rows: int, max_len: int,
                 epoch_samples: int | None = None):
        super().__init__(parent)
        if rows < 1 or max_len < 2:
            raise ValueError(f"need rows >= 1 and max_len >= 2, got {rows=} {max_len=}")
        self._rows = rows
        self._max_len = max_len
        self._epoch_samples = epoch_samples

    def __iter__(self) -> SharedPrefixBatchIterator:
        return SharedPrefixBatchIterator(self._parent.__iter__(), rows=self._rows,
                                         max_len=self._max_len,
                                         epoch_samples=self._epoch_samples)

    def __str__(self) -> str:
        return f"SharedPrefixBatchDataset(rows={self._rows}, max_len={self._max_len})"


class SharedPrefixBatchIterator(CountingIterator):
    """Checkpointable batcher of groups; same counters and contract as `BatchIterator`.

    Turns go into rows in group order: each time, the first row with room for the prefix and
    the next turn takes the prefix and as many further turns as fit. A group that does not fit
    closes the batch; the saved state is the parent's state before that group plus the number
    of its turns already handed out, so a restore re-reads (re-encodes) the group and skips them.
    """

    def __init__(self, parent: grain.DatasetIterator, *, rows: int, max_len: int,
                 epoch_samples: int | None = None):
        super().__init__(parent)
        self._rows = rows
        self._max_len = max_len
        self._epoch_samples = epoch_samples
        self._group: SharedSegment | None = None
        self._group_state: dict[str, Any] | None = None
        self._group_dropped = 0
        self._placed = 0  # turns of `_group` already in handed-out or current batches
        self._skip = 0  # turns to skip in the next group read (set by a restore)
        self._dropped_in_a_row = 0

    def _read_group(self) -> None:
        state, dropped = self._parent.get_state(), self._dropped
        group = next(self._parent)
        room = self._max_len - len(group.prefix)
        kept = tuple(turn for turn in group.turns if len(turn) <= room)
        self._dropped += len(group.turns) - len(kept)
        self._dropped_in_a_row = 0 if kept else self._dropped_in_a_row + len(group.turns)
        if self._epoch_samples is not None and self._dropped_in_a_row >= self._epoch_samples:
            raise GentoolError(
                f"{self._dropped_in_a_row} samples in a row (a whole epoch) do not fit in "
                f"data.max_len={self._max_len} behind their shared prefix of "
                f"{len(group.prefix)} tokens; raise data.max_len or use data.tool_style=compact")
        self._group = SharedSegment(group.prefix, kept)
        self._group_state, self._group_dropped = state, dropped
        self._placed, self._skip = self._skip, 0

    def __next__(self) -> Batch:
        rows: list[list[SharedSegment]] = [[] for _ in range(self._rows)]
        used = [0] * self._rows
        placed = 0
        while True:
            if self._group is None:
                try:
                    self._read_group()
                except StopIteration:
                    if placed:
                        break
                    raise
            group = self._group
            prefix = len(group.prefix)
            while self._placed < len(group.turns):
                need = prefix + len(group.turns[self._placed])
                slot = next((r for r in range(self._rows)
                             if used[r] + need <= self._max_len), None)
                if slot is None:
                    break
                end, size = self._placed, used[slot] + prefix
                while end < len(group.turns) and size + len(group.turns[end]) <= self._max_len:
                    size += len(group.turns[end])
                    end += 1
                rows[slot].append(SharedSegment(group.prefix, group.turns[self._placed:end]))
                used[slot] = size
                placed += end - self._placed
                self._placed = end
            if self._placed < len(group.turns):
                break
            self._group = None
        self._samples += placed
        return make_batch(rows, self._max_len)

    def get_state(self) -> dict[str, Any]:
        if self._group is not None:
            return {"parent": self._group_state, "dropped": self._group_dropped,
                    "placed": self._placed, "samples": self._samples}
        return {"parent": self._parent.get_state(), "dropped": self._dropped, "placed": 0,
                "samples": self._samples}

    def set_state(self, state: dict[str, Any]) -> None:
        self._parent.set_state(state["parent"])
        self._group = None
        self._group_state = None
        self._dropped = int(state["dropped"])
        self._dropped_in_a_row = 0
        self._skip = int(state["placed"])
        self._samples = int(state["samples"])
