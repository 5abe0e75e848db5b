"""Where training records come from: a JSONL file or the simulator's TFDS array_record dataset,
plus any JSONL files mixed in (`data.mix_in`, e.g. public data imported by `simulate --from`).

Both give a random-access sequence of validated DESIGN §2 records restricted to a stage's
variants, which is what Grain's `MapDataset.source` needs for index-based, resumable shuffling.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gentool_jax.errors import GentoolError, RecordError
from gentool_jax.records import VARIANTS, read_records, validate_record

SOURCES = ("jsonl", "tfds")


def _check_variants(variants: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown or not variants:
        raise GentoolError(
            f"stage variants {list(variants)} must be a non-empty subset of {list(VARIANTS)}")
    return tuple(variants)


class TfdsRecords:
    """Random access into a TFDS array_record split, decoding each element to a record.

    Each kept element's variant is remembered from the one scan of the split, so a stage's
    subset (`select_variants`) is taken without reading the split again."""

    def __init__(self, source: Any, indices: Sequence[int], variants: Sequence[str],
                 where: str):
        self._source = source
        self._indices = list(indices)
        self._variants = list(variants)
        self._where = where

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return decode_tfds_element(self._source[self._indices[index]], self._where,
                                   self._indices[index])

    def with_variants(self, variants: Sequence[str]) -> TfdsRecords:
        """The elements whose variant is in `variants`, in split order."""
        kept = [(index, variant) for index, variant in zip(self._indices, self._variants)
                if variant in variants]
        return TfdsRecords(self._source, [index for index, _ in kept],
                           [variant for _, variant in kept], self._where)


def decode_tfds_element(element: Any, where: str, index: int) -> dict[str, Any]:
    """The simulator's TFDS examples carry the whole record as JSON text (`record`)."""
    raw = element.get("record") if isinstance(element, dict) else None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    if not isinstance(raw, str):
        raise RecordError(where, index, "TFDS example has no 'record' JSON text feature")
    try:
        record = json.loads(raw)
        validate_record(record)
    except (json.JSONDecodeError, ValueError) as error:
        raise RecordError(where, index, str(error)) from None
    return record


def _dataset_dir(path: Path) -> Path:
    """`path` itself or the single `<name>/<version>` directory the simulator wrote under it."""
    if (path / "dataset_info.json").is_file():
        return path
    found = sorted(info.parent for info in path.glob("*/*/dataset_info.json"))
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise GentoolError(f"{path}: {what} TFDS datasets found (expected one "
                           "<name>/<version>/dataset_info.json); run `gentool-jax simulate` "
                           "with simulate.write_tfds=True or use data.source=jsonl")
    return found[0]


def _load_tfds(path: Path, split: str) -> TfdsRecords:
    directory = _dataset_dir(path)
    try:
        import tensorflow_datasets as tfds

        source = tfds.builder_from_directory(str(directory)).as_data_source(split=split)
    except Exception as error:  # noqa: BLE001 - tfds raises many unrelated types
        raise GentoolError(f"{directory}: cannot open TFDS split {split!r} ({error})") from None
    variants = []
    for i in range(len(source)):
        variant = source[i].get("variant", b"")
        variants.append(variant.decode("utf-8") if isinstance(variant, bytes) else variant)
    return TfdsRecords(source, range(len(source)), variants, f"{directory}[{split}]")


def select_variants(records: Sequence[dict[str, Any]], variants: Sequence[str]
                    ) -> Sequence[dict[str, Any]]:
    """The records of `load_records` (any variants) whose variant is in `variants`, so that
    every stage takes its subset of one read of the file."""
    variants = _check_variants(variants)
    if isinstance(records, TfdsRecords):
        return records.with_variants(variants)
    return [record for record in records if record["variant"] in variants]


def load_records(
    path: str | Path, *, source: str = "jsonl", variants: Sequence[str] = VARIANTS,
    split: str = "train",
) -> Sequence[dict[str, Any]]:
    """The validated records of `path` whose variant is in `variants`, in file order; a
    malformed JSONL line raises RecordError here, before any of them is used."""
    variants = _check_variants(variants)
    path = Path(path)
    if source == "jsonl":
        return select_variants(list(read_records(path)), variants)
    if source == "tfds":
        return _load_tfds(path, split).with_variants(variants)
    raise GentoolError(f"data.source must be one of {', '.join(SOURCES)}, got {source!r}")


@dataclasses.dataclass(frozen=True)
class TrainingRecords:
    """The records every stage takes its variants from, and where they came from: the run's
    metadata identifies each file, and the summary line says how much each contributed."""

    records: Sequence[dict[str, Any]]  # the training file's, then each mixed-in file's
    path: Path  # the training file (or TFDS directory)
    main: int  # how many of `records` come from `path`
    mixed: tuple[tuple[Path, int], ...]  # each data.mix_in file and its records (counted once)
    repeat: int  # data.mix_in_repeat

    def summary(self) -> str:
        """`train: 33,660 records from A + 480 mixed in from B (240 ×2) = 34,140 records`."""
        parts = [f"train: {self.main:,} records from {self.path}"]
        parts += [f" + {count * self.repeat:,} mixed in from {path} ({count:,} ×{self.repeat})"
                  for path, count in self.mixed]
        return "".join(parts) + f" = {len(self.records):,} records"


def check_mix_in(mix_in: Sequence[str | Path], repeat: Any, source: str) -> tuple[Path, ...]:
    """The `data.mix_in` files as paths, refusing unusable settings before the (possibly
    large) training file is read, so a typo fails in a second and names its field."""
    if isinstance(mix_in, str | Path):
        raise GentoolError(f"data.mix_in must be a tuple of JSONL paths, e.g. "
                           f"\"('{mix_in}',)\"; got the single string {str(mix_in)!r}")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise GentoolError(f"data.mix_in_repeat must be an int >= 1; got {repeat!r}")
    paths = tuple(Path(path) for path in mix_in)
    if paths and source != "jsonl":
        raise GentoolError(f"data.mix_in takes JSONL files only and cannot be mixed into "
                           f"data.source={source!r}; set data.source=jsonl to train on the "
                           "simulation's train.jsonl with the mixed-in files")
    for index, path in enumerate(paths):
        if not path.is_file():
            problem = "is a directory, not a JSONL file" if path.is_dir() else "does not exist"
            raise GentoolError(f"data.mix_in[{index}]: {path} {problem}")
    return paths


def load_training_records(
    path: str | Path, *, source: str = "jsonl", mix_in: Sequence[str | Path] = (),
    repeat: int = 1,
) -> TrainingRecords:
    """The validated records of every variant that training reads: `path`'s (as
    `load_records` gives them, unchanged when nothing is mixed in), then each `mix_in` file's
    records `repeat` times in file order, to up-weight a small imported set. Every file is
    read (so every line validated) before any record is used."""
    files = check_mix_in(mix_in, repeat, source)
    records = load_records(path, source=source)
    main = len(records)
    mixed = [load_records(file) for file in files]
    if mixed:
        records = [*records, *(record for part in mixed for _ in range(repeat)
                               for record in part)]
    return TrainingRecords(records, Path(path), main,
                           tuple((file, len(part)) for file, part in zip(files, mixed)), repeat)
