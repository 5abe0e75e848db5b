"""`simulate --from=FILE --format=...`: which reader a file gets, and the public-data imports.

`records` (DESIGN §2 records) and `pairs` (pair records) are `importer.py`'s; `xlam` and
`sharegpt` are read into single-call cases (`import_xlam.py`, `import_sharegpt.py`) and built
into splits by `import_cases.build_splits`. `auto` looks at the first line's keys.
"""

from __future__ import annotations

import json
from pathlib import Path

from gentool_jax.errors import GentoolError
from gentool_jax.simulate.import_cases import ReadResult, build_splits
from gentool_jax.simulate.records import Record, jsonl_lines

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


def read_cases(path: str | Path, fmt: str) -> ReadResult:
    """The cases of an xlam or sharegpt file; ids made unique (a repeated id gets `-l<line>`)."""
    if fmt == "xlam":
        from gentool_jax.simulate.import_xlam import read_xlam as reader
    else:
        from gentool_jax.simulate.import_sharegpt import read_sharegpt as reader
    result = reader(path)
    seen: set[str] = set()
    for case in result.cases:
        if case.id in seen:
            case.id = f"{case.id}-l{case.line}"
        seen.add(case.id)
    return result


def import_public(path: str | Path, fmt: str, toolset_size: int, seed: int,
                  sim_config=None) -> dict[str, list[Record]]:
    """Splits of an xlam / sharegpt file; prints what was kept and skipped."""
    path = Path(path)
    result = read_cases(path, fmt)
    if not result.cases:
        raise GentoolError(f"{path}: no single-call case to import "
                           f"({result.summary(path, fmt).split(': ', 2)[-1]})")
    test_cases = int(getattr(sim_config, "test_queries_per_scenario", 400)) \
        if sim_config is not None else 400
    validation = float(getattr(sim_config, "validation_fraction", 0.05)) \
        if sim_config is not None else 0.05
    splits = build_splits(path, result.cases, toolset_size, seed, test_cases, validation)
    print(result.summary(path, fmt))
    return splits
