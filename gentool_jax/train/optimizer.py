"""AdamW with warmup + cosine (or constant) learning rate and global-norm clipping.

Only LoRA parameters ever reach this optimizer, so its state is tiny next to the frozen base.
Gradient accumulation is not done here (with `optax.MultiSteps`) but in the train step, because
an exact token-weighted mean needs the token counts of every micro-batch before dividing.
"""

from __future__ import annotations

from typing import Any

import optax

from gentool_jax.errors import GentoolError

SCHEDULES = ("cosine", "constant")


def learning_rate_schedule(train_config: Any, stage_config: Any) -> optax.Schedule:
    """Linear warmup from 0 to `stage.lr` over `warmup_steps`, then cosine decay to 0 or flat."""
    steps, warmup, lr = stage_config.steps, stage_config.warmup_steps, stage_config.lr
    if steps < 1:
        raise GentoolError(f"train stage steps must be >= 1, got {steps}")
    if not 0 <= warmup <= steps:
        raise GentoolError(f"train stage warmup_steps must be in [0, steps={steps}], got {warmup}")
    if train_config.schedule not in SCHEDULES:
        raise GentoolError(f"config.train.schedule must be one of {SCHEDULES}, got "
                           f"{train_config.schedule!r}")
    # Step 0 of a warmup would have lr 0 and waste a step; start at lr/warmup instead.
    warmup_fn = optax.linear_schedule(lr / max(warmup, 1), lr, max(warmup - 1, 1))
    if train_config.schedule == "constant":
        after = optax.constant_schedule(lr)
    else:
        after = optax.cosine_decay_schedule(lr, max(steps - warmup, 1))
    if warmup == 0:
        return after
    return optax.join_schedules([warmup_fn, after], [warmup])


def make_optimizer(train_config: Any, stage_config: Any) -> optax.GradientTransformation:
    """Clip by global norm (0 disables), then AdamW on the schedule above."""
    schedule = learning_rate_schedule(train_config, stage_config)
    adamw = optax.adamw(schedule, b1=train_config.b1, b2=train_config.b2,
                        weight_decay=train_config.weight_decay)
    if train_config.clip_norm and train_config.clip_norm > 0:
        return optax.chain(optax.clip_by_global_norm(train_config.clip_norm), adamw)
    return adamw
