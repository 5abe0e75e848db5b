"""Typed views (`config_view.section_view`) of the `config.train` sections the trainer reads.

`loop.py`, `setup.py` and `command.py` take these where a section enters them, so a step
count, batch size or learning rate is cast once and read as an `int` or `float` below. The
checkpoint metadata (`loop.stage_metadata`) and `config.json` still record the raw sections:
what a resume compares must stay what earlier runs wrote.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class StageConfig:
    """A `config.train.<stage>` section."""

    steps: int
    lr: float
    batch_size: int
    grad_accum: int
    warmup_steps: int
    include_ranking: bool
    include_call: bool
    variants: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The `config.train` fields of the stage loop and set-up (the stage sections, and the
    optimizer's fields, which `optimizer.OptimizerConfig` views, left out)."""

    stages: tuple[str, ...]
    stage2_init: str
    checkpoint_every: int
    keep_checkpoints: int
    log_every: int
    loss_chunk: int
