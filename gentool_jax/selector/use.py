"""Using a fitted head at inference: which head belongs to a checkpoint, and the tool it picks
for each record.

A head reads the vectors of the model it was fitted on, so it is bound to one training
checkpoint (`<stage>/<step>`): evaluating another step, or a re-trained stage, with it would
read vectors it was never fitted on, and is refused with the command that fixes it. A PEFT
adapter or merged export has no head of its own; there the model selects alone, and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from ml_collections import ConfigDict

from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, Record
from gentool_jax.selector.store import load_head

SELECTOR_DIR = "selector"


def selector_dir(config: ConfigDict) -> Path:
    return section_view(RunSettings, config).workdir / SELECTOR_DIR


def checkpoint_id(config: ConfigDict, checkpoint: str) -> str | None:
    """`<stage>/<step>` of a training checkpoint ("" = the latest of the last stage), or None
    for a PEFT adapter or merged export (which no head is bound to)."""
    from gentool_jax.model.peft_import import is_peft_adapter
    from gentool_jax.train.checkpoint import StageCheckpoints
    from gentool_jax.train.trained_model import locate_checkpoint

    path = Path(checkpoint) if checkpoint else None
    if path is not None and (is_peft_adapter(path) or (path / "config.json").is_file()):
        return None
    workdir, stage, step = locate_checkpoint(config, checkpoint)
    if step is None:
        checkpoints = StageCheckpoints(workdir / stage / "checkpoints", keep=1, async_save=False)
        try:
            step = checkpoints.latest_step()
        finally:
            checkpoints.close()
    return f"{stage}/{step}"


def head_for(config: ConfigDict, checkpoint: str) -> dict[str, Any] | None:
    """The fitted head to select with for `checkpoint`, or None where `selector.enabled` is
    off or the checkpoint is an export. Raises where a head is expected but absent or fitted
    on another checkpoint, or where decoding is free (only the grammar holds a reply to the
    pick)."""
    if not bool(config.selector.enabled):
        return None
    bound = checkpoint_id(config, checkpoint)
    if bound is None:
        print(f"selector: {checkpoint} is an export, which carries no selection head; the "
              "model selects alone")
        return None
    directory = selector_dir(config)
    head, info = load_head(directory)
    if info.get("checkpoint") != bound:
        raise GentoolError(
            f"{directory} was fitted on {info.get('checkpoint')}, not {bound}: run "
            f"`gentool-jax fit-selector --checkpoint={checkpoint or bound}` (or set "
            "--config.selector.enabled=false to let the model select alone)")
    if str(config.sample.constrain) != "tools":
        raise GentoolError("selector.enabled: the head's pick is held by constrained decoding; "
                           "set --config.sample.constrain=tools or "
                           "--config.selector.enabled=false")
    return head


def pick_names(head: dict[str, Any], model: Any, tokenizer: Any, records: list[Record],
               batch_size: int = 32) -> list[str]:
    """The head's choice per record: an offered tool's name or `generate_response`."""
    from gentool_jax.selector.encode import encode_texts
    from gentool_jax.selector.fit import candidates, choose, texts_of

    if not records:
        return []
    states = encode_texts(model, tokenizer, texts_of(records), batch_size=batch_size,
                          depth=int(head["depth"]),
                          keep_tokens=bool(np.any(head["alignment"])))
    picks = choose(head, candidates(records, states, (head["mean"], float(head["scale"])),
                                    with_gold=False))
    return [record["tools"][pick]["name"] if pick < len(record["tools"]) else DEFAULT_TOOL
            for record, pick in zip(records, picks)]
