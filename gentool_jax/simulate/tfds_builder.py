"""The simulated splits as a TFDS dataset in `array_record` format.

TensorFlow is not installed: TFDS then only writes and reads `array_record` files, which is all
we need, since Grain and `tfds.data_source` read them directly. Each example carries the full
record as JSON text plus a few fields for filtering, so nothing of the schema is lost.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import tensorflow_datasets as tfds

from gentool_jax.console import library_output_hidden
from gentool_jax.records import dump_record, read_records
from gentool_jax.simulate.simulation import SPLITS, split_file

NAME = "gentool_records"


class GentoolRecords(tfds.core.GeneratorBasedBuilder):
    """Reads `<split>.jsonl` (train, validation, test_<scenario>) from `source_dir`."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "DESIGN §2 records, one JSON text per example."}

    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls):
        """No code-relative files (checksums, metadata): this also keeps TFDS from needing
        `importlib_resources`, which it imports only to locate them."""
        return None

    def __init__(self, *, source_dir: str | Path | None = None, **kwargs):
        self._source_dir = Path(source_dir) if source_dir else None
        super().__init__(**kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        text = tfds.features.Text()
        return tfds.core.DatasetInfo(
            builder=self,
            description="GenTool zero-to-one / weak-to-strong tool-use samples.",
            features=tfds.features.FeaturesDict({
                "id": text, "query": text, "variant": text, "scenario": text, "record": text}),
            disable_shuffling=True,  # keep file order, so reading back matches the JSONL
        )

    def _split_generators(self, dl_manager):
        if self._source_dir is None:
            raise ValueError("GentoolRecords needs source_dir to build")
        return {split: self._generate_examples(self._source_dir / split_file(split))
                for split in SPLITS if (self._source_dir / split_file(split)).is_file()}

    def _generate_examples(self, path: Path):
        for number, record in enumerate(read_records(path)):
            yield number, {"id": record["id"], "query": record["query"],
                           "variant": record["variant"], "scenario": record["scenario"],
                           "record": dump_record(record)}


def write_tfds(out_dir: str | Path) -> Path:
    """(Re)build `<out_dir>/tfds` from the JSONL files of `out_dir`; returns the dataset dir."""
    out_dir = Path(out_dir)
    data_dir = out_dir / "tfds"
    shutil.rmtree(data_dir, ignore_errors=True)
    builder = GentoolRecords(source_dir=out_dir, data_dir=str(data_dir),
                             file_format="array_record")
    with library_output_hidden():  # TFDS's "Downloading ... Unknown size" banner and bars
        builder.download_and_prepare()
    return Path(builder.data_dir)


def data_source(out_dir: str | Path) -> dict:
    """Random-access sources per split of a built dataset (`record` holds the JSON text)."""
    builder = tfds.builder_from_directory(str(Path(out_dir) / "tfds" / NAME / "1.0.0"))
    return builder.as_data_source()
