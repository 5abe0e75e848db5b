"""`<workdir>/config.json`: the resolved config of the run that owns a workdir, one writer.

`train` records it (after its inputs check out), and `pipeline` once its simulation is
done; neither before, so a run that fails on a bad path or model does not lock the workdir
against the corrected config. `pipeline` first refuses a workdir whose recorded config
differs from its own, naming the changed fields, so one workdir never mixes the outputs of
two configs. Both write the same sorted JSON, atomically. A field that a newer
version added is compared at its default, so upgrading the package keeps old workdirs usable
as long as the new field is left alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gentool_jax.atomic import write_json
from gentool_jax.errors import GentoolError

NAME = "config.json"
# Sections that change no output of a pipeline run (how a finished model is served), so a
# workdir recorded without them, or with other values, is still the same run.
NOT_RUN_SECTIONS = ("serve",)


def resolved(config: Any) -> dict:
    return json.loads(config.to_json_best_effort(sort_keys=True))


def record_config(config: Any, workdir: Path) -> None:
    write_json(Path(workdir) / NAME, resolved(config), indent=2, sort_keys=True)


def check_same_config(config: Any, workdir: Path) -> None:
    """Raise if `workdir` holds the config of another run (changed fields named)."""
    path = Path(workdir) / NAME
    if not path.exists():
        return
    from configs import base

    defaults = resolved(base.get_config())
    previous = _run_fields(_with_new_fields(json.loads(path.read_text()), defaults))
    current = _run_fields(resolved(config))
    if previous != current:
        changed = sorted(_diff_keys(previous, current))
        raise GentoolError(
            f"{path} was written by a run with a different config (changed: "
            f"{', '.join(changed[:8])}); use another --config.workdir or delete {workdir}")


def _with_new_fields(recorded: dict, defaults: dict) -> dict:
    """`recorded` plus, at their defaults, the fields a newer version added since it was
    written: a run recorded before a field existed ran as if it had its default."""
    merged = dict(recorded)
    for key, default in defaults.items():
        if key not in merged:
            merged[key] = default
        elif isinstance(merged[key], dict) and isinstance(default, dict):
            merged[key] = _with_new_fields(merged[key], default)
    return merged


def _run_fields(config: dict) -> dict:
    return {key: value for key, value in config.items() if key not in NOT_RUN_SECTIONS}


def _diff_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    keys = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key), b.get(key)
        if isinstance(left, dict) and isinstance(right, dict):
            keys += _diff_keys(left, right, f"{prefix}{key}.")
        elif left != right:
            keys.append(prefix + key)
    return keys
