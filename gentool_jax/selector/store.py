"""The fitted head on disk: `<dir>/head.npz` (its arrays) and `<dir>/selector.json` (what it
was fitted on: the checkpoint whose vectors it reads, settings, data, measured accuracy).

Both are written to temporary names and renamed, the JSON last, so a head is present only when
complete and a failed refit never clobbers the last good one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from gentool_jax.atomic import write_json
from gentool_jax.errors import GentoolError

HEAD_FILE = "head.npz"
INFO_FILE = "selector.json"


def save_head(directory: Path, head: dict[str, Any], info: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / (HEAD_FILE + ".tmp.npz")
    np.savez(tmp, **{key: np.asarray(value) for key, value in head.items()})
    tmp.replace(directory / HEAD_FILE)
    write_json(directory / INFO_FILE, info)


def read_info(directory: Path) -> dict[str, Any] | None:
    """The head's `selector.json`, or None where no complete head is saved."""
    path = directory / INFO_FILE
    if not path.is_file() or not (directory / HEAD_FILE).is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise GentoolError(f"{path}: not valid JSON ({error}); refit with "
                           "`gentool-jax fit-selector`") from None


def load_head(directory: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    info = read_info(directory)
    if info is None:
        raise GentoolError(f"no fitted selector in {directory}: run `gentool-jax fit-selector`")
    try:
        with np.load(directory / HEAD_FILE) as arrays:
            head = {key: arrays[key] for key in arrays.files}
    except (OSError, ValueError) as error:
        raise GentoolError(f"{directory / HEAD_FILE}: unreadable ({error}); refit with "
                           "`gentool-jax fit-selector`") from None
    missing = {"u", "v", "abstain", "abstain_bias", "lexical", "lexical_gain", "lexical_refusal",
               "alignment", "mean", "scale", "depth"} - set(head)
    if missing:
        raise GentoolError(f"{directory / HEAD_FILE}: missing arrays {sorted(missing)}; refit "
                           "with `gentool-jax fit-selector`")
    return head, info
