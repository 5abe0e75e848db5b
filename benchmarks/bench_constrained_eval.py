"""The README run's evaluation, constrained vs free, timed whole (issue 26's wall-time bar).

    python benchmarks/bench_constrained_eval.py [--workdir runs/default] [--rounds 2]

`benchmarks/bench_constrained.py` times decode steps; this times what a user waits for: the
`gentool-jax evaluate` command of the README's pipeline on its own checkpoint (stage 2's
latest under --workdir) and test splits, once with `sample.constrain=tools` and once with
`none`, in rounds whose order alternates so the VM's drift cancels in each round's ratio. Each
evaluation writes to a scratch folder, never to <workdir>/eval, and samples afresh (the
generation cache would otherwise answer every run after the first). The whole run grows by the
evaluation's ratio weighted by the evaluation's share of the pipeline's wall time, which
--eval-share gives (a ratio too, so it carries over from the run that measured it: the README's
timing of the default pipeline); without it only the evaluation ratio is printed. The roofline
probe is printed first, as with every timing here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.roofline import machine_limits  # noqa: E402

MODES = ("none", "tools")


def evaluate_seconds(args: argparse.Namespace, mode: str, out: Path) -> float:
    """Wall seconds of one `gentool-jax evaluate` in `mode` (its sampling seconds and tokens
    printed from the report); a failure stops the benchmark."""
    argv = [sys.executable, "-m", "gentool_jax.cli", "evaluate", f"--config={args.config}",
            f"--config.workdir={args.workdir}", f"--config.sample.constrain={mode}",
            "--config.evaluate.reuse_generations=false",
            # The selection head needs the grammar, so both modes select by generation alone.
            "--config.selector.enabled=false",
            f"--checkpoint={args.workdir / 'stage2'}", f"--out={out}"]
    started = time.perf_counter()
    subprocess.run(argv, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    trained = json.loads((out / "metrics.json").read_text())["info"]["systems"]["trained"]
    print(f"  {mode}: {seconds:.1f} s wall, sampling {trained['seconds']:.1f} s for "
          f"{trained['generated_tokens']} new tokens", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/default.py")
    parser.add_argument("--workdir", type=Path, default=Path("runs/default"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--eval-share", type=float, default=None,
                        help="evaluation's share of the pipeline's wall time, for the run's growth")
    args = parser.parse_args()
    args.workdir = args.workdir.resolve()
    if not (args.workdir / "stage2").is_dir():
        raise SystemExit(f"{args.workdir / 'stage2'}: no stage-2 checkpoints; run the pipeline")

    machine_limits()
    ratios = []
    with tempfile.TemporaryDirectory() as scratch:
        for round_index in range(args.rounds):
            order = MODES if round_index % 2 == 0 else MODES[::-1]
            seconds = {}
            for mode in order:
                seconds[mode] = evaluate_seconds(args, mode, Path(scratch) / f"{mode}{round_index}")
            ratio = seconds["tools"] / seconds["none"]
            ratios.append(ratio)
            print(f"round {round_index + 1} ({order[0]} first): free {seconds['none']:.1f} s, "
                  f"constrained {seconds['tools']:.1f} s, constrained / free {ratio:.3f}",
                  flush=True)
    print(f"evaluation, constrained / free: median {statistics.median(ratios):.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f})")
    if args.eval_share:
        run = 1 + args.eval_share * (statistics.median(ratios) - 1)
        print(f"whole run: 1 + {args.eval_share:.3f} x ({statistics.median(ratios):.3f} - 1) "
              f"= {run:.3f}x")


if __name__ == "__main__":
    main()
