"""Every config value with a fixed set of choices or a range, checked once at the command line.

A bad value used to fail where it was first read, often after the model had loaded or a stage
had trained; here all of them are checked before any command starts, and the error names the
field, its value and what it may be. The allowed sets are the ones the code that reads each
field defines, imported from there, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from gentool_jax.errors import GentoolError

DTYPES = ("float32", "bfloat16", "float16")


def _choices() -> dict[str, tuple[str, ...]]:
    from gentool_jax.data.render import RANKING_TARGETS, STYLES
    from gentool_jax.data.sources import SOURCES
    from gentool_jax.model.attention_kernels import IMPLEMENTATIONS
    from gentool_jax.model.llama import REMAT_POLICIES
    from gentool_jax.parallel.distributed import MODES
    from gentool_jax.sample.settings import CONSTRAIN_MODES
    from gentool_jax.simulate.toolsets import DISTRACTOR_RULES
    from gentool_jax.train.optimizer import SCHEDULES
    from gentool_jax.train.stage_chain import STAGE_INIT

    return {
        "model.dtype": DTYPES, "model.param_dtype": DTYPES, "model.lora.param_dtype": DTYPES,
        "model.remat": tuple(REMAT_POLICIES), "model.attention": IMPLEMENTATIONS,
        "data.tool_style": STYLES, "data.source": SOURCES,
        "data.ranking_target": RANKING_TARGETS,
        "train.schedule": SCHEDULES, "train.stage2_init": STAGE_INIT,
        "distributed.mode": MODES, "sample.constrain": CONSTRAIN_MODES,
        "simulate.distractors": DISTRACTOR_RULES, "selector.varied_distractors": DISTRACTOR_RULES,
    }


def _subsets(config: Any) -> dict[str, tuple[str, ...]]:
    from gentool_jax.evaluate.command import BASELINES
    from gentool_jax.records import VARIANTS
    from gentool_jax.simulate.simulation import SPLITS
    from gentool_jax.train.command import configured_stages

    subsets = {"evaluate.splits": tuple(s for s in SPLITS if s != "train"),
               "evaluate.baselines": BASELINES}
    subsets.update({f"train.{stage}.variants": VARIANTS for stage in configured_stages(config)})
    return subsets


def _intervals(config: Any) -> Iterable[tuple[str, Any, Callable[[float], bool], str]]:
    """(field, value, test, interval) of every field bounded on both sides; the sampler and the
    LoRA layer would otherwise refuse them with a traceback, mid-run."""
    from gentool_jax.simulate.variety import MAX_DECOYS

    yield "sample.top_p", config.sample.top_p, lambda v: 0 < v <= 1, "in (0, 1]"
    yield "model.lora.dropout", config.model.lora.dropout, lambda v: 0 <= v < 1, "in [0, 1)"
    yield ("selector.varied_decoys", config.selector.varied_decoys,
           lambda v: 0 <= v <= MAX_DECOYS, f"in [0, {MAX_DECOYS}]")


def _get(config: Any, field: str) -> Any:
    node = config
    for part in field.split("."):
        node = node[part]
    return node


def _positive(config: Any) -> Iterable[tuple[str, Any, bool]]:
    """(field, value, allow zero) of every field that must be a positive number."""
    yield "data.max_len", config.data.max_len, False
    yield "data.decision_weight", config.data.decision_weight, False
    yield "train.probe.samples", config.train.probe.samples, True
    yield "train.probe.every", config.train.probe.every, True
    yield "model.lora.rank", config.model.lora.rank, False
    yield "train.checkpoint_every", config.train.checkpoint_every, False
    yield "train.keep_checkpoints", config.train.keep_checkpoints, False
    yield "train.log_every", config.train.log_every, False
    yield "sample.batch_size", config.sample.batch_size, False
    yield "sample.temperature", config.sample.temperature, True
    yield "sample.top_k", config.sample.top_k, True
    yield "sample.max_new_tokens", config.sample.max_new_tokens, False
    yield "evaluate.max_samples_per_split", config.evaluate.max_samples_per_split, True
    yield "serve.batch_size", config.serve.batch_size, False
    yield "serve.batch_window_ms", config.serve.batch_window_ms, True
    yield "serve.max_tokens", config.serve.max_tokens, False
    teacher = config.simulate.teacher
    yield "simulate.teacher.temperature", teacher.temperature, True
    yield "simulate.teacher.max_tokens", teacher.max_tokens, True
    yield "simulate.teacher.queries_per_pair", teacher.queries_per_pair, False
    yield "simulate.teacher.max_retries", teacher.max_retries, True
    yield "simulate.teacher.output_retries", teacher.output_retries, True
    yield "simulate.teacher.timeout_s", teacher.timeout_s, False
    yield "simulate.teacher.concurrency", teacher.concurrency, False
    from gentool_jax.train.command import configured_stages

    for stage in configured_stages(config):
        section = config.train[stage]
        yield f"train.{stage}.steps", section.steps, True
        yield f"train.{stage}.batch_size", section.batch_size, False
        yield f"train.{stage}.grad_accum", section.grad_accum, False
        yield f"train.{stage}.lr", section.lr, False
        yield f"train.{stage}.warmup_steps", section.warmup_steps, True


def check_config(config: Any) -> None:
    """Raise GentoolError naming the first field whose value is not allowed."""
    for field, allowed in _choices().items():
        value = _get(config, field)
        if value not in allowed:
            raise GentoolError(f"config.{field} must be one of {', '.join(allowed)}; got "
                               f"{value!r}")
    for field, allowed in _subsets(config).items():
        values = _get(config, field)
        unknown = [v for v in values if v not in allowed]
        if isinstance(values, str) or unknown:
            raise GentoolError(f"config.{field} must be a tuple of {', '.join(allowed)}; got "
                               f"{values!r}")
    for field, value, zero_ok in _positive(config):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (
                value == 0 and not zero_ok):
            floor = "≥ 0" if zero_ok else "> 0"
            raise GentoolError(f"config.{field} must be a number {floor}; got {value!r}")
    for field, value, inside, interval in _intervals(config):
        if isinstance(value, bool) or not isinstance(value, int | float) or not inside(value):
            raise GentoolError(f"config.{field} must be a number {interval}; got {value!r}")
    from gentool_jax.simulate.variety import check_variety

    check_variety(config.simulate)
    try:
        re.compile(str(config.model.lora.targets))
    except re.error as error:
        raise GentoolError(f"config.model.lora.targets is not a valid regex: {error}") from None
