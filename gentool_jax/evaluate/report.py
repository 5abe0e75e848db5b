"""Evaluation reports: `metrics.json` (everything), `report.md` (key metrics, scenarios ×
systems) and one PNG bar chart per scenario.

Input is `{system: {scenario: {variant | "all": {metric: value}}}}` as built by
`metrics.compute_metrics` per system, so the files can be regenerated from metrics.json alone.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from gentool_jax.atomic import write_text
from gentool_jax.evaluate.metrics import ALL, METRICS

SystemMetrics = dict[str, dict[str, dict[str, dict[str, Any]]]]

# The columns a reader compares first; metrics.json keeps every metric of every variant.
KEY_METRICS = (
    ("tsa", "TSA"), ("abstention_f1", "Abst. F1"), ("argument_value_accuracy", "Arg. value"),
    ("call_exact_match", "Exact call"), ("ranking_prefix_match", "Prefix"),
    ("ranking_ndcg3", "NDCG@3"), ("w2s_preference", "W2S"), ("z2o_consistency", "Z2O"),
    ("format_validity", "Format"), ("free_format_validity", "Free format"),
    ("free_tsa", "Free TSA"),
)


def write_reports(metrics: SystemMetrics, out_dir: str | Path, *,
                  info: dict[str, Any] | None = None) -> list[Path]:
    """Write metrics.json, report.md and `<scenario>.png`; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {"info": info or {}, "metric_order": list(METRICS), "systems": metrics}
    metrics_path = out_dir / "metrics.json"
    write_text(metrics_path, json.dumps(payload, indent=2, allow_nan=False) + "\n")
    report_path = out_dir / "report.md"
    write_text(report_path, markdown_report(metrics, info=info))
    written = [metrics_path, report_path]
    for scenario in _scenarios(metrics):
        written.append(plot_scenario(metrics, scenario, out_dir / f"{file_stem(scenario)}.png"))
    return written


def file_stem(label: str) -> str:
    """A scenario label as a file name (an evaluation file may use any label)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("._") or "scenario"


def markdown_report(metrics: SystemMetrics, *, info: dict[str, Any] | None = None) -> str:
    """One table per scenario: a row per system (all variants), then a row per system×variant."""
    lines = ["# GenTool evaluation", ""]
    info = dict(info or {})
    systems = info.pop("systems", {})
    for key, value in info.items():
        lines.append(f"- **{key}**: {json.dumps(value) if isinstance(value, dict) else value}")
    for system, details in systems.items():
        described = ", ".join(f"{k}={v}" for k, v in details.items())
        lines.append(f"- **{system}**: {described}")
    if info or systems:
        lines.append("")
    lines.append("Metrics are defined in docs/evaluation.md; `–` means not applicable. A "
                 "system whose `decoding` is `constrained` had every reply held to its "
                 "toolset's grammar: its metrics are the constrained replies'; `Free format` "
                 "and `Free TSA` are free decoding's, from the same greedy pass (the replies "
                 "the grammar never overrode; docs/constrained_decoding.md).")
    header = "| system | variant | n | " + " | ".join(label for _, label in KEY_METRICS) + " |"
    rule = "|" + "---|" * (3 + len(KEY_METRICS))
    for scenario in _scenarios(metrics):
        lines += ["", f"## {scenario}", ""]
        floor = abstain_all_tsa(next(iter(metrics.values())).get(scenario, {}))
        if floor is not None:
            lines += [f"Answering `generate_response` to everything scores TSA {floor:.3f} "
                      "here (all variants) and 0 on `tool_needing` (weak, strong and both "
                      "pooled).", ""]
        lines += [header, rule]
        for system, scenarios in metrics.items():
            variants = scenarios.get(scenario, {})
            ordered = ([ALL] if ALL in variants else []) + [v for v in variants if v != ALL]
            for variant in ordered:
                row = variants[variant]
                cells = [_cell(row.get(metric)) for metric, _ in KEY_METRICS]
                label = f"**{system}**" if variant == ALL else system
                lines.append(f"| {label} | {variant} | {row.get('n', 0)} | "
                             + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def abstain_all_tsa(per_variant: dict[str, dict[str, Any]]) -> float | None:
    """The TSA of answering `generate_response` to everything: the share of `none` samples."""
    total = per_variant.get(ALL, {}).get("n", 0)
    return per_variant.get("none", {}).get("n", 0) / total if total else None


def plot_scenario(metrics: SystemMetrics, scenario: str, path: str | Path) -> Path:
    """Grouped bars: key metrics (all variants) for each system on one scenario."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    systems = [s for s in metrics if scenario in metrics[s]]
    width = 0.8 / max(len(systems), 1)
    figure, axes = plt.subplots(figsize=(1.1 * len(KEY_METRICS) + 2, 4))
    for k, system in enumerate(systems):
        row = metrics[system][scenario].get(ALL, {})
        heights = [_plottable(row.get(metric)) for metric, _ in KEY_METRICS]
        xs = [i + (k - (len(systems) - 1) / 2) * width for i in range(len(KEY_METRICS))]
        axes.bar(xs, heights, width=width, label=system)
    axes.set_xticks(range(len(KEY_METRICS)), [label for _, label in KEY_METRICS],
                    rotation=30, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("score")
    axes.set_title(scenario)
    axes.legend(fontsize="small", loc="upper right")
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _scenarios(metrics: SystemMetrics) -> list[str]:
    seen: dict[str, None] = {}
    for scenarios in metrics.values():
        seen.update(dict.fromkeys(scenarios))
    return list(seen)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _plottable(value: Any) -> float:
    return 0.0 if value is None else max(float(value), 0.0)

