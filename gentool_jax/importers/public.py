"""The public function-calling formats, xLAM and ShareGPT: each line read into a single-call
case (`xlam.py`, `sharegpt.py`), the cases built into splits by `cases.build_splits`.
"""

from __future__ import annotations

from pathlib import Path

from gentool_jax.errors import GentoolError
from gentool_jax.importers.cases import ReadResult, build_splits
from gentool_jax.importers.sharegpt import read_sharegpt
from gentool_jax.importers.xlam import read_xlam
from gentool_jax.records import Record


def read_cases(path: str | Path, fmt: str) -> ReadResult:
    """The cases of an xlam or sharegpt file; ids made unique (a repeated id gets `-l<line>`)."""
    result = read_xlam(path) if fmt == "xlam" else read_sharegpt(path)
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
