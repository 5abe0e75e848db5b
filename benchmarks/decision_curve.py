"""Decision-accuracy learning curves from the probe rows of training runs (docs/results.md).

    python benchmarks/decision_curve.py runs/exp/w1 runs/exp/w5 --png docs/decision_curve.png
    python benchmarks/decision_curve.py runs/exp/w5 --checkpoint stage2/112 --samples 512 \
        --config configs/default.py

The first form reads the `probe/*` rows that training logged (`train.probe`) in each workdir's
stage metrics and prints, per run, teacher-forced first-ranked accuracy against training
samples seen, beside the always-abstain and BM25 lines; `--png` draws it (no model is run).
The second probes one checkpoint on `--samples` validation samples (whole toolset groups, the
run's seed) and also says what the model ranks first when it is wrong: `generate_response`,
another offered tool, or text that is no offered name.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEY = "probe/first_ranked/tool_needing"


def _curve(workdir: Path) -> list[dict]:
    """(samples seen, probe values) per probed step, stages chained."""
    rows, seen_before = [], 0
    for stage in ("stage1", "stage2"):
        path = workdir / stage / "metrics.jsonl"
        if not path.exists():
            continue
        last = 0
        for line in path.read_text().splitlines():
            row = json.loads(line)
            last = row.get("samples_seen", last)
            if KEY in row:
                rows.append({"stage": stage, "step": row["step"],
                             "samples": seen_before + row.get("samples_seen", 0), **row})
        seen_before += last
    return rows


def _table(runs: dict[str, list[dict]]) -> str:
    lines = ["| run | stage/step | samples | first-ranked: tool-needing | none | all | "
             "BM25 tool-needing | abstain-all (all) |", "|---|---|---|---|---|---|---|---|"]
    for name, rows in runs.items():
        for row in rows:
            lines.append(
                f"| {name} | {row['stage']}/{row['step']} | {row['samples']} | "
                f"{row[KEY]:.3f} | {row.get('probe/first_ranked/none', float('nan')):.3f} | "
                f"{row['probe/first_ranked/all']:.3f} | "
                f"{row.get('probe/ref/bm25/tool_needing', float('nan')):.3f} | "
                f"{row.get('probe/ref/abstain_all/all', float('nan')):.3f} |")
    return "\n".join(lines)


def _plot(runs: dict[str, list[dict]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, rows in runs.items():
        ax.plot([r["samples"] for r in rows], [r[KEY] for r in rows], marker="o", label=name)
    some = next(rows for rows in runs.values() if rows)
    ax.axhline(some[0].get("probe/ref/bm25/tool_needing", 0), color="gray", linestyle="--",
               label="BM25 (tuned threshold)")
    ax.axhline(0.0, color="black", linewidth=0.5)
    ax.set_xlabel("training samples seen")
    ax.set_ylabel("first-ranked accuracy, tool-needing")
    ax.set_title(f"teacher-forced decision accuracy ({some[0]['probe/samples']} validation "
                 "samples)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _inspect(config_path: str, workdir: Path, checkpoint: str, samples: int) -> None:
    from gentool_jax.cli import parse
    from gentool_jax.model.lora import split_lora
    from gentool_jax.model.registry import load_tokenizer
    from gentool_jax.records import DEFAULT_TOOL, read_records
    from gentool_jax.train import decision_probe as dp
    from gentool_jax.train.trained_model import load_trained_model

    config, _ = parse("evaluate", [f"--config={config_path}",
                                   f"--config.workdir={workdir}"])
    stage = checkpoint.split("/")[0]
    stage_config = config.train[stage]
    model, _, model_dir = load_trained_model(config, str(workdir / checkpoint))
    tokenizer = load_tokenizer(model_dir)
    records = dp.choose_records(list(read_records(workdir / "data" / "validation.jsonl")),
                                samples, int(config.seed))
    probe = dp.build_probe(records, tokenizer, style=config.data.tool_style,
                           max_len=int(config.data.max_len),
                           include_ranking=stage_config.include_ranking,
                           include_call=stage_config.include_call)
    graphdef, lora, frozen = split_lora(model)
    started = time.perf_counter()
    predictions = dp.predict(probe, dp.make_probe_fn(graphdef), lora, frozen)
    seconds = time.perf_counter() - started
    predicted = predictions.free
    correct = dp.decisions_correct(probe, predicted)
    constrained = dp.decisions_correct(probe, predictions.constrained)
    first_token: dict[int, int] = {}
    for r, k in zip(*(probe.owner >= 0).nonzero()):
        first_token.setdefault(int(probe.owner[r, k]), int(predicted[r, k]))
    kinds: Counter = Counter()
    for decision, (index, _) in enumerate(probe.decisions):
        record = probe.records[index]
        if correct[decision]:
            kinds[(record["variant"], "gold")] += 1
            continue
        guess = tokenizer.decode([first_token[decision]])
        names = [tool["name"] for tool in record["tools"]]
        if DEFAULT_TOOL.startswith(guess) and guess:
            kinds[(record["variant"], "generate_response")] += 1
        elif any(name.startswith(guess) for name in names) and guess:
            kinds[(record["variant"], "another offered tool")] += 1
        else:
            kinds[(record["variant"], "no offered name")] += 1
    print(json.dumps(dp.summarize(probe, correct), indent=1))
    print("constrained:", json.dumps(dp.summarize(probe, constrained), indent=1))
    print(json.dumps(dp.reference_lines(probe.records), indent=1))
    print(f"{len(probe.records)} samples, {len(probe.gather)} rows, {seconds:.1f} s")
    for (variant, kind), count in sorted(kinds.items()):
        print(f"  {variant:<7} {kind:<22} {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workdirs", nargs="+", type=Path)
    parser.add_argument("--png", default="")
    parser.add_argument("--checkpoint", default="", help="probe this stage/step instead")
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--config", default="configs/default.py")
    args = parser.parse_args()
    if args.checkpoint:
        _inspect(args.config, args.workdirs[0], args.checkpoint, args.samples)
        return
    runs = {str(workdir): _curve(workdir) for workdir in args.workdirs}
    print(_table(runs))
    if args.png:
        _plot(runs, args.png)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
