"""The Grain training input pipeline: records → sharded, shuffled, tokenized, fixed-shape batches.

Order of operations, and why:
1. the stage's records (filtered by variant up front, so an epoch is exactly the stage's data);
2. a global shuffle reseeded every epoch, repeated forever (the trainer counts steps, not epochs);
3. a strided slice per JAX process: every process shuffles identically, then takes every
   `process_count`-th sample, so across processes each sample of an epoch is seen exactly once;
4. render + tokenize (in worker processes when `data.num_workers > 0`), with the tool
   presentation augmentation seeded by the global sample index, so it is identical whatever the
   worker layout or restart point;
5. pad or pack into process-local rows (`batch_size // process_count`), dropping and counting
   samples longer than `max_len`.
With `data.share_prefix` the unit of steps 2-5 is a group of records with the same toolset,
laid out as one shared prefix and a turn per record (`data/shared_prefix.py`).

Every step is a deterministic function of (seed, index), so the iterator's state is a few
integers: `get_state()`/`set_state()` and Orbax (`grain.checkpoint`) resume exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import grain
import jax
import numpy as np

from gentool_jax.config_view import section_view
from gentool_jax.data.batches import BATCH_KEYS, Batch, BatchIterator, BatchIterDataset
from gentool_jax.data.render import EncodedExample, encode_example, shuffle_tools
from gentool_jax.data.shared_prefix import (
    GroupEncoder,
    GroupSource,
    SharedPrefixBatchDataset,
    group_by_toolset,
)
from gentool_jax.data.sources import load_records, select_variants
from gentool_jax.errors import GentoolError


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The `config.data` fields the pipeline reads, typed (`config_view.section_view`)."""

    tool_style: str
    max_len: int
    shuffle_tools: bool
    pack: bool
    share_prefix: bool
    num_workers: int
    prefetch: int
    source: str
    decision_weight: float
    ranking_target: str


@dataclasses.dataclass(frozen=True)
class StageInput:
    """The fields of a `config.train.<stage>` section that decide its input, typed."""

    batch_size: int
    include_ranking: bool
    include_call: bool
    variants: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Encoder:
    """Picklable record → EncodedExample step (runs in Grain worker processes)."""

    tokenizer: Any
    style: str
    include_ranking: bool
    include_call: bool
    shuffle: bool
    decision_weight: float = 1.0
    ranking_target: str = "full"

    def __call__(self, record: dict[str, Any], rng: np.random.Generator) -> EncodedExample:
        if self.shuffle:
            record = shuffle_tools(record, rng)
        return encode_example(record, self.tokenizer, style=self.style,
                              include_ranking=self.include_ranking,
                              include_call=self.include_call,
                              decision_weight=self.decision_weight,
                                   ranking_target=self.ranking_target)


def _process_layout(process_index: int | None, process_count: int | None) -> tuple[int, int]:
    index = jax.process_index() if process_index is None else int(process_index)
    count = jax.process_count() if process_count is None else int(process_count)
    if not 0 <= index < count:
        raise GentoolError(f"process_index {index} is outside process_count {count}")
    return index, count


def local_rows(global_batch: int, process_count: int) -> int:
    """Rows this process feeds per step; the global batch must split evenly over processes."""
    if global_batch < 1 or global_batch % process_count:
        raise GentoolError(
            f"batch_size {global_batch} must be a positive multiple of the {process_count} "
            "JAX processes")
    return global_batch // process_count


def _mark_flags_parsed() -> None:
    # Grain worker processes read absl flags; unparsed flags abort them at start-up.
    from absl import flags

    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()


def make_dataset(
    records: Sequence[dict[str, Any]],
    tokenizer: Any,
    *,
    data_config: DataConfig | Any,
    stage_config: StageInput | Any,
    seed: int,
    process_index: int,
    process_count: int,
) -> grain.IterDataset:
    """The pipeline as a Grain dataset over already-loaded (and variant-filtered) records;
    the configs are typed views or the ml-collections sections they view."""
    if not len(records):
        raise GentoolError("the training split has no records for this stage's variants")
    data = section_view(DataConfig, data_config)
    stage = section_view(StageInput, stage_config)
    rows = local_rows(stage.batch_size, process_count)
    seed = int(seed) % 2**32
    if data.share_prefix and not data.pack:
        raise GentoolError("data.share_prefix=True needs data.pack=True (a shared prefix is "
                           "followed by several samples in one row)")
    options = (tokenizer, data.tool_style, stage.include_ranking, stage.include_call,
               data.shuffle_tools, data.decision_weight, data.ranking_target)
    if data.share_prefix:
        source, encoder = GroupSource(records, group_by_toolset(records)), GroupEncoder(*options)
    else:
        source, encoder = records, Encoder(*options)
    ds = grain.MapDataset.source(source).shuffle(seed=seed).repeat(None)
    ds = ds[process_index::process_count].random_map(encoder, seed=seed)
    buffer = max(1, data.prefetch) * rows
    workers = data.num_workers
    if workers > 0:
        _mark_flags_parsed()
        it = ds.to_iter_dataset(grain.ReadOptions(num_threads=1, prefetch_buffer_size=buffer))
        it = it.mp_prefetch(grain.MultiprocessingOptions(
            num_workers=workers, per_worker_buffer_size=max(1, buffer // workers)))
    else:
        it = ds.to_iter_dataset(grain.ReadOptions(num_threads=2, prefetch_buffer_size=buffer))
    if data.share_prefix:
        return SharedPrefixBatchDataset(it, rows=rows, max_len=data.max_len,
                                        epoch_samples=len(records))
    return BatchIterDataset(it, rows=rows, max_len=data.max_len, pack=data.pack,
                            epoch_size=len(records))


def make_train_iterator(
    records: str | Path | Sequence[dict[str, Any]],
    tokenizer: Any,
    *,
    data_config: DataConfig | Any,
    stage_config: StageInput | Any,
    seed: int,
    process_index: int | None = None,
    process_count: int | None = None,
) -> BatchIterator:
    """An endless, checkpointable iterator of process-local batches for one training stage.

    `records` is a JSONL file (`data.source="jsonl"`), the simulator's TFDS directory
    (`data.source="tfds"`), or what `sources.load_training_records` read (one of them plus
    any data.mix_in files): `train` reads the files once, before loading the model, so a
    malformed line fails first. A path here reads only that file, never data.mix_in. The
    iterator's `dropped` / `samples` counters say how many samples were skipped as longer
    than `data.max_len` and how many were batched.
    """
    index, count = _process_layout(process_index, process_count)
    data = section_view(DataConfig, data_config)
    stage = section_view(StageInput, stage_config)
    if isinstance(records, str | Path):
        records = load_records(records, source=data.source, variants=stage.variants)
    else:
        records = select_variants(records, stage.variants)
    ds = make_dataset(records, tokenizer, data_config=data, stage_config=stage, seed=seed,
                      process_index=index, process_count=count)
    return iter(ds)


def checkpoint_save_args(iterator: grain.DatasetIterator) -> Any:
    """Orbax args that save the iterator state (one JSON file per JAX process).

    Use inside a composite checkpoint, e.g.
    `ocp.args.Composite(state=..., data=checkpoint_save_args(iterator))`.
    """
    return grain.checkpoint.CheckpointSave(item=iterator)


def checkpoint_restore_args(iterator: grain.DatasetIterator) -> Any:
    """Orbax args that restore a saved state into `iterator` (a freshly built one)."""
    return grain.checkpoint.CheckpointRestore(item=iterator)


def to_global_batch(batch: Mapping[str, np.ndarray], mesh: jax.sharding.Mesh, sharding: Any
                    ) -> Batch:
    """Assemble the processes' local rows (a `Batch`, or a dict of its fields) into global
    arrays laid out by `sharding`.

    `sharding` is a `jax.sharding.Sharding` or a `PartitionSpec` over `mesh` (rows are split
    over the data axes); each process passes only its own rows.
    """
    if isinstance(sharding, jax.sharding.PartitionSpec):
        sharding = jax.sharding.NamedSharding(mesh, sharding)
    missing = [key for key in BATCH_KEYS if key not in batch]
    if missing:
        raise ValueError(f"batch lacks {missing}")
    return Batch(**{key: jax.make_array_from_process_local_data(sharding, np.asarray(batch[key]))
                    for key in BATCH_KEYS})
