"""Padding, first-fit packing, the length policy and the batcher's checkpoint state."""

from __future__ import annotations

import grain
import numpy as np
import pytest

from gentool_jax.data.batches import BatchIterDataset, make_batch
from gentool_jax.data.render import EncodedExample
from gentool_jax.errors import GentoolError


def _example(tokens, first_target):
    tokens = np.asarray(tokens, np.int32)
    mask = np.zeros(len(tokens), bool)
    mask[first_target:] = True
    return EncodedExample(tokens, mask)


def test_make_batch_packs_segments_by_hand():
    a = _example([10, 11, 12, 13], first_target=2)  # prompt 10 11, target 12 13
    b = _example([20, 21, 22], first_target=1)
    batch = make_batch([[a, b], [b]], max_len=9)
    np.testing.assert_array_equal(batch["tokens"], [[10, 11, 12, 13, 20, 21, 22, 0, 0],
                                                    [20, 21, 22, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(batch["targets"], [[11, 12, 13, 0, 21, 22, 0, 0, 0],
                                                     [21, 22, 0, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(batch["loss_mask"], [[0, 1, 1, 0, 1, 1, 0, 0, 0],
                                                       [1, 1, 0, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(batch["positions"], [[0, 1, 2, 3, 0, 1, 2, 0, 0],
                                                       [0, 1, 2, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(batch["segment_ids"], [[1, 1, 1, 1, 2, 2, 2, 0, 0],
                                                         [1, 1, 1, 0, 0, 0, 0, 0, 0]])
    assert batch["loss_mask"].dtype == np.float32 and batch["tokens"].dtype == np.int32


def _stream(lengths):
    examples = [_example(np.arange(n) + 100 * i, first_target=n // 2)
                for i, n in enumerate(lengths)]
    return grain.MapDataset.source(examples).to_iter_dataset()


def _row_lengths(batch):
    return [[int((row == s).sum()) for s in range(1, row.max() + 1)]
            for row in batch["segment_ids"]]


def test_overlong_samples_are_dropped_and_counted_never_truncated():
    it = iter(BatchIterDataset(_stream([5, 20, 6, 30, 4, 11, 3]), rows=2, max_len=10,
                               pack=False))
    first, second = next(it), next(it)
    assert _row_lengths(first) == [[5], [6]] and _row_lengths(second) == [[4], [3]]
    assert it.dropped == 3 and it.samples == 4
    with pytest.raises(StopIteration):
        next(it)


def test_first_fit_packing():
    it = iter(BatchIterDataset(_stream([6, 5, 3, 4, 12, 2, 7, 7, 7]), rows=2, max_len=10,
                               pack=True))
    # 6→row0, 5→row1, 3→row0 (9), 4→row1 (9), 12 dropped, 2 fits nowhere → next batch.
    assert _row_lengths(next(it)) == [[6, 3], [5, 4]]
    assert it.dropped == 1
    assert _row_lengths(next(it)) == [[2, 7], [7]]
    assert _row_lengths(next(it)) == [[7], []]
    assert it.samples == 8


@pytest.mark.parametrize("pack", [False, True])
def test_state_restores_the_same_batches(pack):
    lengths = [3, 9, 4, 15, 2, 6, 8, 1, 5, 7, 3, 3, 12, 4, 6, 2, 9, 5, 4, 3]
    dataset = BatchIterDataset(_stream(lengths), rows=2, max_len=10, pack=pack)
    it = iter(dataset)
    next(it)
    state = it.get_state()
    expected = [next(it) for _ in range(3)]
    counters = (it.dropped, it.samples)
    resumed = iter(dataset)
    resumed.set_state(state)
    for want in expected:
        got = next(resumed)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    assert (resumed.dropped, resumed.samples) == counters


def test_a_split_where_nothing_fits_fails_instead_of_spinning():
    it = iter(BatchIterDataset(_stream([12, 15, 11] * 5), rows=1, max_len=10, pack=False,
                               epoch_size=3))
    with pytest.raises(GentoolError, match="whole epoch"):
        next(it)
