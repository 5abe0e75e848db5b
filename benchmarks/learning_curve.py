"""Validation TSA against training samples seen, from a checkpointed run (docs/results.md).

    gentool-jax train --config=configs/experiments/learning_curve.py
    python benchmarks/learning_curve.py --validation=64 [--points stage1 stage2/8 stage2/16]
    python benchmarks/learning_curve.py --config=CONFIG [--workdir=DIR] --points ...  # another run

Writes a fixed validation subset (whole queries, all four variants, seeded), evaluates every
requested checkpoint and the BM25 selector on it with `gentool-jax evaluate --data` (so the
test splits are never read), and prints a Markdown table; `--png` also draws the curve.
Samples seen are the training iterator's own counts (`samples_seen` in each stage's
metrics.jsonl), so a shared-prefix row counts every sample it holds.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

CONFIG = "configs/experiments/learning_curve.py"


def _validation_subset(workdir: Path, size: int, seed: str) -> Path:
    rows = [json.loads(line) for line in (workdir / "data" / "validation.jsonl").open()]
    by_query: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_query[row["meta"]["query_id"]].append(row)
    order = sorted(by_query, key=lambda q: hashlib.sha256(f"{seed}:{q}".encode()).hexdigest())
    out = workdir / f"validation_{size}.jsonl"
    with out.open("w") as handle:
        for query in order[: size // 4]:
            handle.writelines(json.dumps(row) + "\n" for row in by_query[query])
    return out


def _samples_seen(workdir: Path, point: str) -> int:
    """Samples trained on up to `point` (`stage1` = its last step, `stage2/8` = step 8)."""
    stage, _, step = point.partition("/")
    seen = 0
    for name in ("stage1", "stage2"):
        rows = [json.loads(line) for line in (workdir / name / "metrics.jsonl").open()]
        if name != stage:
            seen += rows[-1]["samples_seen"]
            continue
        want = int(step) if step else rows[-1]["step"]
        return seen + next(row["samples_seen"] for row in rows if row["step"] == want)
    raise ValueError(point)


def _workdir(config: str) -> Path:
    """The workdir the config file names, read the way `--config=` reads it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # configs import configs.base
    spec = importlib.util.spec_from_file_location("curve_config", config)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module.get_config().workdir)


def _evaluate(point: str, data: Path, out: Path, workdir: Path, config: str) -> dict:
    checkpoint = workdir / (point if "/" not in point else point.replace("/", "/checkpoints/"))
    command = [sys.executable, "-m", "gentool_jax.cli", "evaluate", f"--config={config}",
               f"--config.workdir={workdir}",
               "--config.evaluate.baselines=('bm25',)", f"--checkpoint={checkpoint}",
               # the curve of generation itself: a head is bound to one checkpoint
               "--config.selector.enabled=false",
               f"--data={data}", f"--out={out}"]
    subprocess.run(command, check=True)
    return json.loads((out / "metrics.json").read_text())["systems"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=CONFIG, help="the config the run was trained with")
    parser.add_argument("--workdir", default="",
                        help="the run's workdir if it was overridden (default: the config's)")
    parser.add_argument("--validation", type=int, default=64)
    parser.add_argument("--points", nargs="+",
                        default=["stage1", "stage2/8", "stage2/16", "stage2/24"])
    parser.add_argument("--png", default="")
    args = parser.parse_args()
    workdir = Path(args.workdir) if args.workdir else _workdir(args.config)
    data = _validation_subset(workdir, args.validation, "curve")
    rows = []
    for point in args.points:
        systems = _evaluate(point, data, workdir / "curve" / point.replace("/", "_"), workdir,
                            args.config)
        trained = systems["trained"]["validation"]["all"]
        bm25 = systems["bm25"]["validation"]["all"]
        rows.append((point, _samples_seen(workdir, point), trained, bm25))
    print("| checkpoint | samples seen | TSA | Format | Abst. F1 | Exact call | BM25 TSA |")
    print("|---|---|---|---|---|---|---|")
    for point, seen, trained, bm25 in rows:
        print(f"| {point} | {seen} | {trained['tsa']:.3f} | {trained['format_validity']:.3f} | "
              f"{trained['abstention_f1'] or 0:.3f} | {trained['call_exact_match']:.3f} | "
              f"{bm25['tsa']:.3f} |")
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axis = plt.subplots(figsize=(6, 3.5))
        axis.plot([r[1] for r in rows], [r[2]["tsa"] for r in rows], "o-", label="trained TSA")
        axis.plot([r[1] for r in rows], [r[2]["format_validity"] for r in rows], "s--",
                  label="trained Format")
        axis.axhline(rows[0][3]["tsa"], color="gray", linestyle=":", label="BM25 TSA")
        axis.set_xlabel("training samples seen")
        axis.set_ylabel(f"validation ({args.validation} samples)")
        axis.set_ylim(0, 1)
        axis.legend(loc="lower right")
        figure.tight_layout()
        figure.savefig(args.png, dpi=120)


if __name__ == "__main__":
    main()
