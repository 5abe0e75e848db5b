"""One unattended command that proves and measures the accelerator path (issue 29).

    python benchmarks/accelerator_check.py --out $OUT/check        # on the GPU machine
    python benchmarks/accelerator_check.py --dry-run --out /tmp/c  # every phase, CPU, tiny

GPU slots are short and rare, so the check runs unattended against one overall deadline
(default 6 minutes): each phase in its own process with its own timeout, a failed or hung
phase recorded and the next one run, `results.json` rewritten after every phase, a summary
table printed last (`benchmarks/phase_runner.py`). Phases, most valuable first:

  environment         nvidia-smi, `jax.print_environment_info()`, versions, cuDNN
  ceilings            bf16 / fp32 matmul, streaming read and device copy: the roofline
  gpu_tests           `pytest -m gpu tests/test_gpu.py` (kernels, bf16 step, sampler, mesh)
  train_smollm2_135m  our LoRA step at the SmolLM2-135M shape, seq 2048, batch sweep
  train_llama32_1b    the same at the Llama-3.2-1B shape
  hf_peft             HF transformers + PEFT on torch, same shapes (its own process: JAX
                      must not hold the memory)
  decode, decode_hf   our sampler vs HF `generate`, batch 1 and 32, prompt 128, 256 new
  smoke_pipeline      `gentool-jax pipeline --config=configs/smoke.py` end to end

The GPU machine has no network: the wheels of `benchmarks/accelerator_wheels.sh` travel with
the repository and install offline first (docs/benchmarks.md gives the full command).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

# (name, timeout in seconds on the accelerator, on a dry run)
SCHEDULE = (
    ("environment", 30, 60),
    ("ceilings", 15, 40),
    ("gpu_tests", 70, 150),
    ("train_smollm2_135m", 70, 40),
    ("train_llama32_1b", 70, 40),
    ("hf_peft", 35, 40),
    ("decode", 45, 40),
    ("decode_hf", 30, 40),
    ("smoke_pipeline", 50, 90),
)


def phase_command(name: str, dry: bool) -> list[str]:
    return [sys.executable, __file__, "--phase", name] + (["--dry-run"] if dry else [])


def ratios(phases: dict) -> dict:
    """Same-run ratios: our training tokens/s over HF + PEFT's (each at its best batch, and at
    the largest batch both ran), our decoding over HF `generate` per batch."""
    found = {}
    hf = phases.get("hf_peft", {}).get("result", {}).get("shapes", {})
    for shape in ("smollm2_135m", "llama32_1b"):
        ours = phases.get(f"train_{shape}", {}).get("result", {}).get("runs", [])
        theirs = [r for r in hf.get(shape, []) if "tokens_per_s" in r]
        if ours and theirs:
            found[f"train_{shape}_best"] = (max(r["tokens_per_s"] for r in ours)
                                            / max(r["tokens_per_s"] for r in theirs))
            ours_by_rows = {r["rows"]: r["tokens_per_s"] for r in ours}
            shared = [r for r in theirs if r["rows"] in ours_by_rows]
            if shared:
                rows = shared[-1]["rows"]
                found[f"train_{shape}_batch{rows}"] = (ours_by_rows[rows]
                                                       / shared[-1]["tokens_per_s"])
    ours = phases.get("decode", {}).get("result", {}).get("runs", [])
    theirs = {r["batch"]: r["tokens_per_s"]
              for r in phases.get("decode_hf", {}).get("result", {}).get("runs", [])}
    for run in ours:
        if run["batch"] in theirs:
            found[f"decode_batch{run['batch']}"] = run["tokens_per_s"] / theirs[run["batch"]]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "runs")) / "check")
    parser.add_argument("--deadline", type=float, default=360.0,
                        help="seconds for the whole check (phases after it are skipped)")
    parser.add_argument("--dry-run", action="store_true",
                        help="every phase on the CPU at tiny shapes: proves the script works")
    parser.add_argument("--only", nargs="+", default=None, help="run these phases alone")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        from accelerator_phases import PHASES

        PHASES[args.phase](args.dry_run)
        return

    from phase_runner import PhaseRunner

    env = {"PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), str(HERE), os.environ.get("PYTHONPATH", "")) if p)}
    # A forced host device count (the test suite's 8 CPU devices) would split the smoke
    # pipeline's batches over devices it was not sized for; every phase runs on the real ones.
    env["XLA_FLAGS"] = " ".join(flag for flag in os.environ.get("XLA_FLAGS", "").split()
                                if not flag.startswith("--xla_force_host_platform_device_count"))
    if args.dry_run:
        env["JAX_PLATFORMS"] = "cpu"
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif Path("/dev/nvidia0").exists():
        # tests/conftest.py defaults JAX to the CPU: on the GPU machine say which backend the
        # phases must use, and have the GPU tests fail (not skip) if JAX lands elsewhere.
        env["JAX_PLATFORMS"] = "cuda,cpu"  # the constrained sampler's grammar runs on the host
        env["GENTOOL_EXPECT_BACKEND"] = "gpu"
    runner = PhaseRunner(args.out, args.deadline, "accelerator check",
                         meta={"dry_run": args.dry_run, "argv": sys.argv})
    for name, timeout, dry_timeout in SCHEDULE:
        if args.only and name not in args.only:
            continue
        runner.run(name, phase_command(name, args.dry_run),
                   dry_timeout if args.dry_run else timeout, env=env)
    runner.results["ratios"] = ratios(runner.results["phases"])
    runner.finish()
    for name, value in runner.results["ratios"].items():
        print(f"ratio {name}: {value:.2f}x")


if __name__ == "__main__":
    main()
