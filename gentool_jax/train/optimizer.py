"""AdamW with warmup + cosine (or constant) learning rate and global-norm clipping.

Only LoRA parameters ever reach this optimizer, so its state is tiny next to the frozen base.
Gradient accumulation is not done here (with `optax.MultiSteps`) but in the train step, because
an exact token-weighted mean needs the token counts of every micro-batch before dividing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import optax

from gentool_jax.config_view import section_view
from gentool_jax.errors import GentoolError

SCHEDULES = ("cosine", "constant")


@dataclasses.dataclass(frozen=True)
class StageSchedule:
    """The `config.train.<stage>` fields of the learning-rate schedule, typed."""

    steps: int
    warmup_steps: int
    lr: float


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """The `config.train` fields of the optimizer, typed."""

    schedule: str
    weight_decay: float
    clip_norm: float | None  # 0 or None: no clipping
    b1: float
    b2: float


def learning_rate_schedule(train_config: OptimizerConfig | Any,
                           stage_config: StageSchedule | Any) -> optax.Schedule:
    """Linear warmup from 0 to `stage.lr` over `warmup_steps`, then cosine decay to 0 or flat.

    Of `train_config` (a view or the `config.train` section) only `schedule` is read."""
    stage = section_view(StageSchedule, stage_config)
    steps, warmup, lr = stage.steps, stage.warmup_steps, stage.lr
    schedule = train_config.schedule
    if steps < 1:
        raise GentoolError(f"train stage steps must be >= 1, got {steps}")
    if not 0 <= warmup <= steps:
        raise GentoolError(f"train stage warmup_steps must be in [0, steps={steps}], got {warmup}")
    if schedule not in SCHEDULES:
        raise GentoolError(f"config.train.schedule must be one of {SCHEDULES}, got "
                           f"{schedule!r}")
    # Step 0 of a warmup would have lr 0 and waste a step; start at lr/warmup instead.
    warmup_fn = optax.linear_schedule(lr / max(warmup, 1), lr, max(warmup - 1, 1))
    if schedule == "constant":
        after = optax.constant_schedule(lr)
    else:
        after = optax.cosine_decay_schedule(lr, max(steps - warmup, 1))
    if warmup == 0:
        return after
    return optax.join_schedules([warmup_fn, after], [warmup])


def make_optimizer(train_config: OptimizerConfig | Any,
                   stage_config: StageSchedule | Any) -> optax.GradientTransformation:
    """Clip by global norm (0 disables), then AdamW on the schedule above."""
    train = section_view(OptimizerConfig, train_config)
    schedule = learning_rate_schedule(train, stage_config)
    adamw = optax.adamw(schedule, b1=train.b1, b2=train.b2, weight_decay=train.weight_decay)
    if train.clip_norm is not None and train.clip_norm > 0:
        return optax.chain(optax.clip_by_global_norm(train.clip_norm), adamw)
    return adamw
