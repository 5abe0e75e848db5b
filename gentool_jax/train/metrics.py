"""Training metrics: a JSONL file, TensorBoard events and the progress bar line.

Throughput and MFU use the standard estimate of 6 * N FLOPs per trained token (2N forward, 4N
backward) with N = the number of base-model parameters; LoRA parameters are negligible. A frozen
base skips its weight gradients, so the real work is nearer 4N per token: the reported MFU is the
conventional figure, comparable with other trainers, not a measurement of the hardware.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax

from gentool_jax.atomic import write_text

# Dense peak FLOP/s per device for the compute dtype actually used (bf16 / fp32), by substring
# of `device.device_kind`. Unknown devices (and CPUs, whose peak depends on cores and clocks)
# report no MFU rather than a made-up one.
PEAK_FLOPS = {
    "H200": {"bfloat16": 989e12, "float32": 67e12},
    "H100": {"bfloat16": 989e12, "float32": 67e12},
    "A100": {"bfloat16": 312e12, "float32": 19.5e12},
    "TPU v6": {"bfloat16": 918e12, "float32": 918e12 / 4},
    "TPU v5p": {"bfloat16": 459e12, "float32": 459e12 / 4},
    "TPU v5 lite": {"bfloat16": 197e12, "float32": 197e12 / 4},
    "TPU v4": {"bfloat16": 275e12, "float32": 275e12 / 4},
}


def peak_flops_per_device(dtype: str) -> float | None:
    kind = jax.devices()[0].device_kind
    for name, peaks in PEAK_FLOPS.items():
        if name.lower() in kind.lower():
            return peaks.get(dtype)
    return None


def model_flops_utilization(tokens_per_second: float, base_params: int, dtype: str) -> float | None:
    """6 * N * tokens/s over the peak of every device in the run; None where the peak is unknown."""
    peak = peak_flops_per_device(dtype)
    if peak is None:
        return None
    return 6.0 * base_params * tokens_per_second / (peak * jax.device_count())


class MetricsWriter:
    """Appends one JSON object per logged step and mirrors scalars to TensorBoard.

    Only process 0 writes. On resume, rows after the restored step are dropped first, so the
    file reads as one uninterrupted run.
    """

    def __init__(self, stage_dir: Path, *, resume_step: int):
        self.enabled = jax.process_index() == 0
        self.path = stage_dir / "metrics.jsonl"
        self._tb = None
        if not self.enabled:
            return
        stage_dir.mkdir(parents=True, exist_ok=True)
        self._truncate(resume_step)
        from tensorboardX import SummaryWriter

        self._tb = SummaryWriter(str(stage_dir / "tensorboard"))

    def _truncate(self, resume_step: int) -> None:
        if not self.path.exists():
            return
        kept = []
        for line in self.path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut off by a kill
                continue
            if row.get("step", 0) <= resume_step:
                kept.append(line)
        # Atomic: a kill during this rewrite must not cut off the rows a resume keeps.
        write_text(self.path, "".join(f"{line}\n" for line in kept))

    def write(self, step: int, values: dict[str, Any]) -> None:
        if not self.enabled:
            return
        row = {"step": step, **values}
        with self.path.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        for key, value in values.items():
            if isinstance(value, (int, float)) and value is not None:
                self._tb.add_scalar(key, value, step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def read_metrics(stage_dir: Path) -> list[dict]:
    path = Path(stage_dir) / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
