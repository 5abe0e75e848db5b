"""`simulate --from=FILE --format=...`: which reader a file gets.

`records` (DESIGN §2 records) are read as they are; `pairs` (pair records) get their four
toolset variants built (`pair_records.py`); `xlam` and `sharegpt` are read into single-call
cases (`xlam.py`, `sharegpt.py`) and built into splits (`public.py`, `cases.py`). `auto` looks
at the first line's keys. Every import ends with the leakage check.
"""

from __future__ import annotations

import json
from pathlib import Path

from gentool_jax.errors import GentoolError
from gentool_jax.importers.pair_records import records_from_pairs
from gentool_jax.importers.public import import_public
from gentool_jax.records import Record, jsonl_lines, read_records
from gentool_jax.simulate.leakage import check_leakage
from gentool_jax.simulate.simulation import SPLITS

FORMATS = ("auto", "records", "pairs", "xlam", "sharegpt")


def sniff_format(path: str | Path) -> str:
    """The format of a file from its first line's keys: `strong_tool` -> pairs, `answers`
    -> xlam, `conversations` or `messages` -> sharegpt, else records (whose reader then
    reports a bad first line)."""
    first = next((line for _, line in jsonl_lines(path)), "")
    try:
        row = json.loads(first) if first else {}
    except (json.JSONDecodeError, RecursionError):
        return "records"
    if not isinstance(row, dict):
        return "records"
    if "strong_tool" in row:
        return "pairs"
    if "answers" in row and "query" in row:
        return "xlam"
    if ("conversations" in row or "messages" in row) and "ranking" not in row:
        return "sharegpt"
    return "records"


def resolve_format(path: str | Path, fmt: str) -> str:
    fmt = (fmt or "auto").strip().lower()
    if fmt not in FORMATS:
        raise GentoolError(f"--format={fmt}: expected one of {', '.join(FORMATS)}")
    return sniff_format(path) if fmt == "auto" else fmt


def import_file(path: str | Path, toolset_size: int, seed: int, fmt: str = "auto",
                sim_config=None) -> dict[str, list[Record]]:
    """Records of every split from a user JSONL file: `fmt` is records, pairs, xlam, sharegpt
    or auto (detected from the first line's keys, `sniff_format`)."""
    path = Path(path)
    fmt = resolve_format(path, fmt)
    if fmt in ("xlam", "sharegpt"):
        return import_public(path, fmt, toolset_size, seed, sim_config)
    if fmt == "pairs":
        records = records_from_pairs(path, toolset_size, seed)
    else:
        records = list(read_records(path))
    splits: dict[str, list[Record]] = {name: [] for name in SPLITS}
    for record in records:
        splits[record["scenario"]].append(record)
    check_leakage(splits)
    return splits
