"""Atomic file writes: a temporary file beside the target, renamed over it when complete.

Every state file (manifests, DONE markers, the run's config.json, reports, record files) is
written this way, so a kill at any moment leaves either the old file or the new one, never a
torn one. Plain Python, importable from every layer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_open(path: str | Path) -> Iterator[IO[str]]:
    """A UTF-8 text handle whose content replaces `path` only if the block completes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        yield handle
    tmp.replace(path)


def write_text(path: str | Path, text: str) -> None:
    with atomic_open(path) as handle:
        handle.write(text)


def write_json(path: str | Path, value: Any, *, indent: int = 2, sort_keys: bool = False) -> None:
    write_text(path, json.dumps(value, indent=indent, sort_keys=sort_keys,
                                ensure_ascii=False) + "\n")
