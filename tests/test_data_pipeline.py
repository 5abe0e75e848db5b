"""The Grain pipeline: resume (state and Orbax), process sharding, workers, global arrays."""

from __future__ import annotations

import re

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest
from test_data_common import (  # noqa: F401
    make_records,
    records_file,
    tiny_model_dir,
    tiny_tokenizer,
)

from configs import base
from gentool_jax.data import input_pipeline
from gentool_jax.errors import GentoolError
from gentool_jax.records import write_records


def _configs(batch_size=4, pack=False, shuffle_tools=True, variants=None, workers=0):
    config = base.get_config()
    config.data.max_len = 1024  # the tiny tokenizer needs ~700 tokens for a compact sample
    config.data.pack = pack
    config.data.shuffle_tools = shuffle_tools
    config.data.num_workers = workers
    stage = config.train.stage2
    stage.batch_size = batch_size
    if variants is not None:
        stage.variants = variants
    return config.data, stage


def _assert_same(batches, others):
    assert len(batches) == len(others)
    for want, got in zip(batches, others):
        assert sorted(want) == sorted(got)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])


def _case_ids(batch, tokenizer):
    ids = []
    for row, segments in zip(batch["tokens"], batch["segment_ids"]):
        for segment in range(1, int(segments.max()) + 1):
            text = tokenizer.decode(row[segments == segment])
            ids.append(int(re.search(r"\(case (\d+)\)", text).group(1)))
    return ids


@pytest.mark.parametrize("pack", [False, True])
def test_resume_from_state_sees_the_same_batches(records_file, tiny_tokenizer, pack):  # noqa: F811
    data, stage = _configs(pack=pack)
    make = lambda: input_pipeline.make_train_iterator(  # noqa: E731
        records_file, tiny_tokenizer, data_config=data, stage_config=stage, seed=3)
    it = make()
    for _ in range(2):
        next(it)
    state = it.get_state()
    expected = [next(it) for _ in range(3)]
    resumed = make()
    resumed.set_state(state)
    _assert_same(expected, [next(resumed) for _ in range(3)])


def test_resume_through_orbax(tmp_path, records_file, tiny_tokenizer):  # noqa: F811
    data, stage = _configs(pack=True)
    make = lambda: input_pipeline.make_train_iterator(  # noqa: E731
        records_file, tiny_tokenizer, data_config=data, stage_config=stage, seed=5)
    it = make()
    next(it)
    with ocp.CheckpointManager(tmp_path / "ckpt") as manager:
        manager.save(1, args=ocp.args.Composite(data=input_pipeline.checkpoint_save_args(it)))
        manager.wait_until_finished()
    expected = [next(it) for _ in range(2)]
    resumed = make()
    with ocp.CheckpointManager(tmp_path / "ckpt") as manager:
        manager.restore(1, args=ocp.args.Composite(
            data=input_pipeline.checkpoint_restore_args(resumed)))
    _assert_same(expected, [next(resumed) for _ in range(2)])


def test_two_processes_see_every_sample_of_an_epoch_once(records_file, tiny_tokenizer):  # noqa: F811
    data, stage = _configs(batch_size=4, shuffle_tools=False)  # 2 rows per process
    seen = []
    for index in range(2):
        it = input_pipeline.make_train_iterator(records_file, tiny_tokenizer, data_config=data,
                                          stage_config=stage, seed=11, process_index=index,
                                          process_count=2)
        # 24 records / 2 processes / 2 rows = 6 steps per epoch.
        ids = [i for _ in range(6) for i in _case_ids(next(it), tiny_tokenizer)]
        assert len(set(ids)) == 12
        seen.extend(ids)
    assert sorted(seen) == list(range(24))


def test_epochs_are_reshuffled_and_variants_filtered(tmp_path, tiny_tokenizer):  # noqa: F811
    path = tmp_path / "train.jsonl"
    write_records(path, make_records(16))
    data, stage = _configs(batch_size=2, shuffle_tools=False, variants=("both", "weak"))
    it = input_pipeline.make_train_iterator(path, tiny_tokenizer, data_config=data,
                                      stage_config=stage, seed=0)
    epochs = [[i for _ in range(4) for i in _case_ids(next(it), tiny_tokenizer)]
              for _ in range(2)]
    wanted = sorted(i for i in range(16) if i % 4 in (1, 3))
    assert sorted(epochs[0]) == sorted(epochs[1]) == wanted
    assert epochs[0] != epochs[1]


def test_overlong_samples_are_counted(records_file, tiny_tokenizer):  # noqa: F811
    data, stage = _configs(batch_size=2, shuffle_tools=False)
    data.max_len = 550  # 12 of the 24 fixture samples (528..541 tokens) fit
    it = input_pipeline.make_train_iterator(records_file, tiny_tokenizer, data_config=data,
                                      stage_config=stage, seed=0)
    lengths = []
    for _ in range(7):  # 14 kept samples: past the end of the first epoch
        batch = next(it)
        assert batch["tokens"].shape == (2, 550)
        lengths += list((batch["segment_ids"] > 0).sum(axis=1))
    assert it.samples == 14 and all(528 <= n <= 541 for n in lengths)
    # All 12 long samples of epoch 1 were dropped whole, none truncated; epoch 2 adds at most 12.
    assert 12 <= it.dropped <= 24


def test_worker_processes_give_the_same_batches(records_file, tiny_tokenizer):  # noqa: F811
    batches = {}
    for workers in (0, 2):
        data, stage = _configs(pack=True, workers=workers)
        it = input_pipeline.make_train_iterator(records_file, tiny_tokenizer, data_config=data,
                                          stage_config=stage, seed=2)
        batches[workers] = [next(it) for _ in range(2)]
        it.close()
    _assert_same(batches[0], batches[2])


def test_to_global_batch_lays_rows_over_the_mesh(records_file, tiny_tokenizer):  # noqa: F811
    data, stage = _configs(batch_size=8, shuffle_tools=False)
    batch = next(input_pipeline.make_train_iterator(records_file, tiny_tokenizer, data_config=data,
                                              stage_config=stage, seed=0))
    mesh = jax.make_mesh((8,), ("data",))
    arrays = input_pipeline.to_global_batch(batch, mesh, jax.sharding.PartitionSpec("data"))
    for key, value in batch.items():
        assert arrays[key].shape == value.shape and arrays[key].dtype == value.dtype
        assert len(arrays[key].sharding.device_set) == 8
        np.testing.assert_array_equal(np.asarray(arrays[key]), value)


def test_bad_inputs_are_named(tmp_path, records_file, tiny_tokenizer):  # noqa: F811
    data, stage = _configs(batch_size=3)
    with pytest.raises(GentoolError, match="batch_size 3"):
        input_pipeline.make_train_iterator(records_file, tiny_tokenizer, data_config=data,
                                     stage_config=stage, seed=0, process_index=0,
                                     process_count=2)
    data, stage = _configs(variants=("sometimes",))
    with pytest.raises(GentoolError, match="variants"):
        input_pipeline.make_train_iterator(records_file, tiny_tokenizer, data_config=data,
                                     stage_config=stage, seed=0)
    data, stage = _configs()
    data.source = "parquet"
    with pytest.raises(GentoolError, match="data.source"):
        input_pipeline.make_train_iterator(records_file, tiny_tokenizer, data_config=data,
                                     stage_config=stage, seed=0)


def test_tfds_source_gives_the_jsonl_batches(tmp_path, tiny_tokenizer):  # noqa: F811
    from gentool_jax.simulate.tfds_builder import write_tfds

    write_records(tmp_path / "train.jsonl", make_records(12))
    write_tfds(tmp_path)
    batches = {}
    for source, path in (("jsonl", tmp_path / "train.jsonl"), ("tfds", tmp_path / "tfds")):
        data, stage = _configs(batch_size=2, variants=("weak", "strong", "both"))
        data.source = source
        it = input_pipeline.make_train_iterator(path, tiny_tokenizer, data_config=data,
                                          stage_config=stage, seed=4)
        batches[source] = [next(it) for _ in range(5)]
    _assert_same(batches["jsonl"], batches["tfds"])


def test_loaded_records_batch_as_their_file(tmp_path, tiny_tokenizer):  # noqa: F811
    """`train` reads the file once and hands the records on: each stage's subset of them must
    batch exactly as the stage reading the file itself did."""
    import json

    from gentool_jax.data.sources import TfdsRecords, load_records

    path = tmp_path / "train.jsonl"
    write_records(path, make_records(12))
    data, stage = _configs(batch_size=2, variants=("weak", "both"))
    loaded = load_records(path)
    batches = [[next(it) for _ in range(3)] for it in (
        input_pipeline.make_train_iterator(source, tiny_tokenizer, data_config=data,
                                           stage_config=stage, seed=1)
        for source in (path, loaded))]
    _assert_same(*batches)
    # A TFDS split is scanned once for its variants; a stage's subset reuses that scan.
    elements = [{"record": json.dumps(r).encode(), "variant": r["variant"].encode()}
                for r in loaded]
    every = TfdsRecords(elements, range(len(elements)), [r["variant"] for r in loaded], "tfds")
    subset = every.with_variants(("weak", "both"))
    assert [subset[i] for i in range(len(subset))] == [
        r for r in loaded if r["variant"] in ("weak", "both")]
