"""`gentool-jax pipeline`: fetch model → simulate → stage 1 → stage 2 → (selection head) →
evaluate → export.

Each step is itself resumable (the simulator skips a finished dataset, training resumes from its
latest checkpoint and skips finished stages, evaluation reuses saved generations), so running the
same command again after an interruption continues where it stopped. The pipeline only orders
the steps, records the resolved config (once the inputs have proven usable) and prints a
summary.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

from ml_collections import ConfigDict

from gentool_jax.evaluate.metrics import ALL, TOOL_NEEDING
from gentool_jax.evaluate.report import abstain_all_tsa
from gentool_jax.run_config import check_same_config, record_config


def _step(name: str, started: float) -> None:
    print(f"[pipeline {time.time() - started:7.1f}s] {name}", flush=True)


def pipeline_command(config: ConfigDict, options: dict[str, str]) -> int:
    from gentool_jax.data.sources import check_mix_in
    from gentool_jax.evaluate.command import evaluate_command
    from gentool_jax.model.registry import resolve_model
    from gentool_jax.selector.command import fit_selector_command
    from gentool_jax.simulate_command import check_inputs as check_simulate_inputs
    from gentool_jax.simulate_command import simulate_command
    from gentool_jax.train.command import train_command
    from gentool_jax.train.export import export_command

    started = time.time()
    durations: dict[str, float] = {}
    workdir = Path(config.workdir)
    check_same_config(config, workdir)
    simulate_options = {"from": config.simulate.source, "out": ""}
    check_simulate_inputs(config, simulate_options)  # a bad path fails before the model fetch
    check_mix_in(config.data.mix_in, config.data.mix_in_repeat, config.data.source)

    with _stage("model", f"model: {config.model.name}", started, durations):
        model_dir = resolve_model(config.model)
        print(f"  model directory: {model_dir}")

    with _stage("simulate", "simulate", started, durations):
        simulate_command(config, simulate_options)
    # Recorded only once the inputs have proven usable: a run that failed on a bad path or
    # model must not lock the workdir against the corrected config (the simulation it may
    # have left is fingerprinted by its own manifest, so a corrected rerun redoes it).
    record_config(config, workdir)

    with _stage("train", f"train: {', '.join(config.train.stages)}", started, durations):
        train_command(config, {"stage": "all", "data": ""})

    last_stage = workdir / config.train.stages[-1]
    if config.selector.enabled:
        with _stage("selector", "fit-selector", started, durations):
            fit_selector_command(config, {"checkpoint": str(last_stage)})
    with _stage("evaluate", "evaluate", started, durations):
        evaluate_command(config, {"checkpoint": str(last_stage), "data": "", "out": ""})

    with _stage("export", "export", started, durations):
        export_command(config, {"checkpoint": str(last_stage), "out": ""})

    _step("done", started)
    print(summary(workdir, durations))
    return 0


@contextlib.contextmanager
def _stage(key: str, title: str, started: float, durations: dict[str, float]):
    _step(title, started)
    stage_start = time.time()
    yield
    durations[key] = time.time() - stage_start


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s" if seconds >= 60 else f"{seconds:.1f} s"


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def summary(workdir: Path, durations: dict[str, float]) -> str:
    """What a user reads first: TSA per scenario for each system, beside the always-abstain
    floor, then where the outputs are and how long each stage took."""
    systems = json.loads((workdir / "eval" / "metrics.json").read_text())["systems"]
    scenarios = list(next(iter(systems.values())))
    names = list(systems)
    width = max(16, *(len(name) + 2 for name in names))
    header = f"  {'scenario':<26}{'abstain-all':>12}" + "".join(
        f"{name:>{width}}" for name in names)
    lines = ["tool-selection accuracy per scenario, all variants / tool-needing variants "
             "(abstain-all: answering generate_response to everything):", header]
    for scenario in scenarios:
        first = systems[names[0]][scenario]
        row = f"  {scenario:<26}{_cell(abstain_all_tsa(first)):>12}"
        for name in names:
            per_variant = systems[name][scenario]
            pair = (f"{_cell(per_variant[ALL].get('tsa'))} / "
                    f"{_cell(per_variant.get(TOOL_NEEDING, {}).get('tsa'))}")
            row += f"{pair:>{width}}"
        lines.append(row)
    eval_dir = workdir / "eval"
    charts = sorted(eval_dir.glob("*.png"))
    lines += [f"report:   {eval_dir / 'report.md'} (metrics.json, generations.jsonl beside it)",
              f"charts:   {', '.join(str(path) for path in charts) or '(none)'}",
              f"adapters: {workdir / 'export' / 'adapter'} (PEFT); merged model: "
              f"{workdir / 'export' / 'merged'}",
              "wall time: " + ", ".join(f"{key} {_minutes(seconds)}"
                                        for key, seconds in durations.items())]
    return "\n".join(lines)
