"""Orbax checkpoints of one training stage: adapters, optimizer, data iterator and metadata.

Each save is a step directory holding four items: `lora` and `opt_state` (sharded arrays),
`data` (the Grain iterator state) and `metadata` (JSON: stage, step, base-model identity, the
configs that must not change across a resume). Orbax writes a step into a temporary directory
and renames it when complete, so a save cut off by a crash is invisible and the previous step
is resumed instead. The base weights are never saved: they are identified by a fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from gentool_jax.atomic import write_json
from gentool_jax.errors import CheckpointError
from gentool_jax.model import model_cache

ITEMS = ("lora", "opt_state", "data", "metadata")
# Config fields whose change makes the saved adapters, optimizer or data position meaningless.
# `steps` is left out on purpose: extending a finished run is allowed.
COMPATIBLE_KEYS = ("base_model", "train_data", "mix_in", "lora", "data", "stage", "optimizer",
                   "seed", "stage2_init")
# What a resume after a divergence may change (`gentool-jax train --recover`): how the next
# steps are taken, not what the saved state means.
RECOVERY_KEYS = {"stage": ("lr", "warmup_steps"), "optimizer": ("clip_norm",)}


def model_fingerprint(model_dir: Path) -> str:
    """sha256 over config.json and every weight file, from the cache manifest when there is one."""
    model_dir = Path(model_dir)
    names = sorted(p.name for p in model_dir.iterdir()
                   if p.name == "config.json" or p.suffix == ".safetensors")
    manifest = {}
    marker = model_dir / model_cache.MARKER
    if marker.is_file() and model_cache.is_complete(model_dir):
        manifest = json.loads(marker.read_text())["files"]
    digest = hashlib.sha256()
    for name in names:
        file_hash = (manifest.get(name, {}).get("sha256")
                     or model_cache.file_sha256(model_dir / name))
        digest.update(f"{name}:{file_hash}\n".encode())
    return digest.hexdigest()


def data_fingerprint(path: Path) -> str:
    """Digest of the training records (a JSONL file, or every file of a TFDS directory), so a
    re-simulated or different dataset is never resumed onto adapters trained on another."""
    return model_cache.directory_digest([Path(path)])


def _abstract(tree: Any) -> Any:
    """Shape/dtype/sharding skeleton of a live tree, the restore target for Orbax."""
    return jax.tree.map(ocp.utils.to_shape_dtype_struct, tree)


class StageCheckpoints:
    """The checkpoint directory of one stage: save every N steps (async), keep K, resume."""

    def __init__(self, directory: Path, *, keep: int, async_save: bool = True):
        self.directory = Path(directory).absolute()
        self.manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=max(keep, 1), create=True,
                                                 enable_async_checkpointing=async_save),
            item_names=ITEMS,
        )

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(self, step: int, *, lora: Any, opt_state: Any, data: Any, metadata: dict) -> None:
        """Start saving `step`; returns once device buffers are copied (the write is async).

        `data` is the Orbax save args of the data iterator
        (`data.input_pipeline.checkpoint_save_args`).
        """
        self.manager.save(step, args=ocp.args.Composite(
            lora=ocp.args.StandardSave(lora),
            opt_state=ocp.args.StandardSave(opt_state),
            data=data,
            metadata=ocp.args.JsonSave({**metadata, "step": step}),
        ), force=True)

    def metadata(self, step: int) -> dict:
        return self.manager.restore(step, args=ocp.args.Composite(
            metadata=ocp.args.JsonRestore())).metadata

    def restore(self, step: int, *, lora: Any, opt_state: Any, data: Any) -> tuple[Any, Any]:
        """(lora, opt_state) of `step`, laid out like the given live trees; `data` (the
        iterator's restore args) sets the data iterator's position in place."""
        restored = self.manager.restore(step, args=ocp.args.Composite(
            lora=ocp.args.StandardRestore(_abstract(lora)),
            opt_state=ocp.args.StandardRestore(_abstract(opt_state)),
            data=data,
        ))
        return restored.lora, restored.opt_state

    def restore_lora(self, step: int, *, lora: Any) -> Any:
        """Only the adapters (stage 2 building on stage 1, export)."""
        return self.manager.restore(step, args=ocp.args.Composite(
            lora=ocp.args.StandardRestore(_abstract(lora)))).lora

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()


def _mix_identity(mix_in: dict | None) -> dict | None:
    """What must match for a resume: the mixed-in files' contents and the repeat; not their
    paths, as for train_data, so a moved data directory still resumes. None when no file is
    mixed in (the metadata then has no `mix_in`, as before the field existed)."""
    if not mix_in:
        return None
    return {"fingerprints": [entry.get("fingerprint") for entry in mix_in.get("files", [])],
            "repeat": mix_in.get("repeat")}


def _describe_mix(mix_in: dict | None) -> str:
    if not mix_in:
        return "none"
    return (", ".join(f"{entry.get('path')} (sha256 {str(entry.get('fingerprint'))[:12]})"
                      for entry in mix_in.get("files", [])) + f" ×{mix_in.get('repeat')}")


def _check_mix_in(saved: dict | None, current: dict | None, where: Path) -> None:
    if _mix_identity(saved) != _mix_identity(current):
        raise CheckpointError(
            f"{where} was trained with other mixed-in records (data.mix_in: "
            f"{_describe_mix(saved)}) than this run's ({_describe_mix(current)}). Use the "
            "original data.mix_in and data.mix_in_repeat, or a new workdir to train from "
            "scratch.")


def check_compatible(saved: dict, current: dict, *, where: Path, recover: bool = False) -> None:
    """Refuse to resume when the base model, the data or a config that shapes the state has
    changed. With `recover`, the RECOVERY_KEYS fields may differ (a resume after divergence)."""
    base_saved, base_now = saved.get("base_model", {}), current["base_model"]
    if base_saved.get("fingerprint") != base_now["fingerprint"]:
        raise CheckpointError(
            f"{where} was trained on base model {base_saved.get('name')!r} "
            f"(fingerprint {str(base_saved.get('fingerprint'))[:12]}), but this run uses "
            f"{base_now['name']!r} (fingerprint {base_now['fingerprint'][:12]}). Use the original "
            "model, or a new workdir to train from scratch.")
    data_saved, data_now = saved.get("train_data", {}), current["train_data"]
    if data_saved.get("fingerprint") != data_now["fingerprint"]:
        raise CheckpointError(
            f"{where} was trained on other records ({data_saved.get('path')}, sha256 "
            f"{str(data_saved.get('fingerprint'))[:12]}) than this run's {data_now['path']} "
            f"(sha256 {data_now['fingerprint'][:12]}): the data was re-simulated or another "
            "--data given. Use the original data, or a new workdir to train from scratch.")
    _check_mix_in(saved.get("mix_in"), current.get("mix_in"), where)
    for key in COMPATIBLE_KEYS:
        if key in ("base_model", "train_data", "mix_in"):
            continue
        old, new = saved.get(key), current.get(key)
        if recover and key in RECOVERY_KEYS and isinstance(old, dict) and isinstance(new, dict):
            old = {k: v for k, v in old.items() if k not in RECOVERY_KEYS[key]}
            new = {k: v for k, v in new.items() if k not in RECOVERY_KEYS[key]}
        if old != new:
            hint = (" To resume after a divergence with a lower learning rate, longer warmup or "
                    "clip_norm, add --recover." if key in RECOVERY_KEYS and not recover else "")
            raise CheckpointError(
                f"{where} was written with a different '{key}' config: saved "
                f"{json.dumps(saved.get(key), sort_keys=True)}, now "
                f"{json.dumps(current.get(key), sort_keys=True)}. Restore the old settings or "
                f"use a new workdir.{hint}")


def done_marker(stage_dir: Path) -> Path:
    return Path(stage_dir) / "DONE.json"


def read_done(stage_dir: Path) -> dict | None:
    path = done_marker(stage_dir)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def write_done(stage_dir: Path, summary: dict) -> None:
    """Mark a stage finished (written last, atomically), so a rerun skips it."""
    write_json(done_marker(stage_dir), summary, indent=1, sort_keys=True)
