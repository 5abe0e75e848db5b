"""`gentool-jax pipeline`: fetch model → simulate → stage 1 → stage 2 → evaluate → export.

Each step is itself resumable (the simulator skips a finished dataset, training resumes from its
latest checkpoint and skips finished stages, evaluation reuses saved generations), so running the
same command again after an interruption continues where it stopped. The pipeline only orders
the steps, records the resolved config (once the inputs have proven usable) and prints a
summary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ml_collections import ConfigDict

from gentool_jax.run_config import check_same_config, record_config


def _step(name: str, started: float) -> None:
    print(f"[pipeline {time.time() - started:7.1f}s] {name}", flush=True)


def pipeline_command(config: ConfigDict, options: dict[str, str]) -> int:
    from gentool_jax.evaluate.command import evaluate_command
    from gentool_jax.model.registry import resolve_model
    from gentool_jax.simulate.command import check_inputs as check_simulate_inputs
    from gentool_jax.simulate.command import simulate_command
    from gentool_jax.train.command import train_command
    from gentool_jax.train.export import export_command

    started = time.time()
    workdir = Path(config.workdir)
    check_same_config(config, workdir)
    simulate_options = {"from": config.simulate.source, "out": ""}
    check_simulate_inputs(config, simulate_options)  # a bad path fails before the model fetch

    _step(f"model: {config.model.name}", started)
    model_dir = resolve_model(config.model)
    print(f"  model directory: {model_dir}")

    _step("simulate", started)
    simulate_command(config, simulate_options)
    # Recorded only once the inputs have proven usable: a run that failed on a bad path or
    # model must not lock the workdir against the corrected config (the simulation it may
    # have left is fingerprinted by its own manifest, so a corrected rerun redoes it).
    record_config(config, workdir)

    _step(f"train: {', '.join(config.train.stages)}", started)
    train_command(config, {"stage": "all", "data": ""})

    _step("evaluate", started)
    last_stage = workdir / config.train.stages[-1]
    evaluate_command(config, {"checkpoint": str(last_stage), "data": "", "out": ""})

    _step("export", started)
    export_command(config, {"checkpoint": str(last_stage), "out": ""})

    _step("done", started)
    print(_summary(workdir / "eval" / "metrics.json"))
    print(f"full report: {workdir / 'eval' / 'report.md'}")
    return 0


def _summary(metrics_path: Path) -> str:
    """Tool-selection accuracy per system and scenario: the one line a user looks at first."""
    systems = json.loads(metrics_path.read_text())["systems"]
    scenarios = list(next(iter(systems.values())))
    lines = ["tool-selection accuracy (all variants):",
             f"  {'system':<12}" + "".join(f"{name:>26}" for name in scenarios)]
    for system, per_scenario in systems.items():
        values = (per_scenario[name]["all"].get("tsa") for name in scenarios)
        lines.append(f"  {system:<12}" + "".join(
            f"{'–' if value is None else f'{value:.3f}':>26}" for value in values))
    return "\n".join(lines)
