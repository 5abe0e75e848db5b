"""The BFCL data a run reads: the question and answer files inside the Apache-2.0 wheel
`bfcl-eval` (pinned version and sha256; fetched with `pip download --no-deps`, never installed:
its dependencies would replace numpy and pull torch), read straight out of the zip, or a
directory laid out the same way; and which categories and questions a run takes.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from ml_collections import ConfigDict

from gentool_jax.config_view import section_view
from gentool_jax.errors import GentoolError
from gentool_jax.evaluate.bfcl.convert import BfclDataError, convert_question
from gentool_jax.model import model_cache
from gentool_jax.model.settings import ModelSettings
from gentool_jax.records import Record

BFCL_VERSION = "2026.3.23"
WHEEL_REQUIREMENT = f"bfcl-eval=={BFCL_VERSION}"
WHEEL_NAME = f"bfcl_eval-{BFCL_VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "3bb6dfa5f0c68ad403c9ec50b00db2bb3b4cc9b38ab1ff33f48fe30d853d3a0a"
WHEEL_DATA = "bfcl_eval/data/"  # question files here, answer keys under possible_answer/
CATEGORIES = ("simple_python", "multiple", "live_simple", "live_multiple", "irrelevance",
              "live_irrelevance")
IRRELEVANCE = ("irrelevance", "live_irrelevance")


def question_file(category: str) -> str:
    return f"BFCL_v4_{category}.json"


def answer_file(category: str) -> str:
    return f"possible_answer/BFCL_v4_{category}.json"


def download_wheel(downloads: Path) -> Path:
    """The verified bfcl-eval wheel in `downloads`, fetched with pip (no dependencies) if absent
    or corrupt; a failed download or a hash mismatch is a BfclDataError."""
    return model_cache.fetch_pinned_wheel(
        downloads, WHEEL_REQUIREMENT, WHEEL_NAME, WHEEL_SHA256, BfclDataError,
        hint=" (pass --data=DIR with the BFCL files to work offline)")


class BfclSource:
    """BFCL data files in a bfcl-eval wheel (under bfcl_eval/data/) or in a directory laid out
    the same way (BFCL_v4_<category>.json, possible_answer/BFCL_v4_<category>.json)."""

    def __init__(self, path: str | Path, version: str):
        self.path = Path(path)
        self.version = version
        if not (self.path.is_dir() or zipfile.is_zipfile(self.path)):
            raise BfclDataError(f"{self.path}: neither a directory of BFCL files nor a wheel")

    def read_lines(self, name: str) -> list[dict[str, Any]]:
        """The JSON object on each non-blank line of one data file."""
        where = f"{self.path}:{name}"
        try:
            if self.path.is_dir():
                text = (self.path / name).read_text(encoding="utf-8")
            else:
                with zipfile.ZipFile(self.path) as archive:
                    text = archive.read(WHEEL_DATA + name).decode("utf-8")
        except (OSError, KeyError, UnicodeDecodeError) as error:
            raise BfclDataError(f"{where}: cannot read ({error})") from None
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise BfclDataError(f"{where}:{number}: invalid JSON: {error.msg}") from None
            if not isinstance(row, dict):
                raise BfclDataError(f"{where}:{number}: not a JSON object")
            rows.append(row)
        return rows


def open_source(config: ConfigDict, data: str = "") -> BfclSource:
    """`data` (a directory or wheel) if given, else the pinned wheel, downloaded into the
    model cache's downloads/ on first use."""
    if data:
        version = BFCL_VERSION if Path(data).name == WHEEL_NAME else f"local files ({data})"
        return BfclSource(data, version)
    downloads = model_cache.cache_root(section_view(ModelSettings, config.model)) / "downloads"
    return BfclSource(download_wheel(downloads), BFCL_VERSION)


def load_category(source: BfclSource, category: str) -> list[Record]:
    """Every question of a category as a record, in file order."""
    answers: dict[str, dict[str, Any]] = {}
    if category not in IRRELEVANCE:
        answers = {str(row.get("id")): row for row in source.read_lines(answer_file(category))}
    records = []
    for question in source.read_lines(question_file(category)):
        qid = str(question.get("id"))
        if category not in IRRELEVANCE and qid not in answers:
            raise BfclDataError(f"{source.path}:{answer_file(category)}: no answer for {qid}")
        records.append(convert_question(question, answers.get(qid), category, source.version))
    return records


def parse_categories(text: str) -> list[str]:
    """The comma list of `--categories` ("" = all six), refusing an unknown name."""
    chosen = [name.strip() for name in text.split(",") if name.strip()] or list(CATEGORIES)
    unknown = [name for name in chosen if name not in CATEGORIES]
    if unknown:
        raise GentoolError(f"--categories: unknown category {unknown[0]!r} (choose from "
                           f"{', '.join(CATEGORIES)})")
    return list(dict.fromkeys(chosen))


def take(records: list[Record], limit: int, seed: int) -> list[Record]:
    """At most `limit` records (0 = all) in a seeded hash order of their ids, then file order,
    so a small run covers the whole file rather than its first, similar questions."""
    if limit <= 0 or len(records) <= limit:
        return records
    key = lambda r: hashlib.sha256(f"{seed}:{r['id']}".encode()).hexdigest()
    chosen = {r["id"] for r in sorted(records, key=key)[:limit]}
    return [r for r in records if r["id"] in chosen]
