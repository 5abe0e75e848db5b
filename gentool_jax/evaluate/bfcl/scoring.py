"""BFCL scores of one category (BFCL's AST rules, `ast_match.py`, next to our DESIGN §5 metrics
on the same outputs) and report.md.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from gentool_jax.evaluate.bfcl.ast_match import ERROR_KINDS, check_call, irrelevance_verdicts
from gentool_jax.evaluate.bfcl.probes import render_probes
from gentool_jax.evaluate.bfcl.source import IRRELEVANCE
from gentool_jax.evaluate.metrics import compute_metrics
from gentool_jax.evaluate.parser import ParsedOutput
from gentool_jax.records import DEFAULT_TOOL, Record


def score_category(records: list[Record], parsed: list[ParsedOutput],
                   unforced: list[bool | None] | None = None) -> dict[str, Any]:
    """BFCL's score of one category (AST accuracy, or lenient and strict irrelevance), the AST
    failures by kind, each output's verdict, and our DESIGN §5 metrics over all of it.

    With `unforced` (greedy constrained decoding: whether the grammar never overrode a reply)
    it also gives free decoding's BFCL score from the same pass, `free_score`: the replies
    the grammar never touched are the free ones; a touched one left the trained format in free
    decoding and counts as a miss, so the figure is a lower bound."""
    verdicts: list[dict[str, Any]] = []
    for record, output in zip(records, parsed):
        if record["scenario"] in IRRELEVANCE:
            lenient, strict = irrelevance_verdicts(output.call, record["tools"])
            verdicts.append({"lenient": lenient, "strict": strict})
        else:
            verdicts.append(check_call(output.call, record["tools"],
                                       record["meta"]["bfcl_answer"]).to_dict())
    n = len(records)
    scores: dict[str, Any] = {"n": n}
    if records and records[0]["scenario"] in IRRELEVANCE:
        scores["irrelevance_lenient"] = sum(v["lenient"] for v in verdicts) / n if n else None
        scores["irrelevance_strict"] = sum(v["strict"] for v in verdicts) / n if n else None
    else:
        scores["ast_accuracy"] = sum(v["correct"] for v in verdicts) / n if n else None
        errors = Counter(v["error"] for v in verdicts if not v["correct"])
        scores["ast_errors"] = {kind: errors[kind] for kind in ERROR_KINDS if errors[kind]}
    if unforced is not None and n and all(u is not None for u in unforced):
        key = "lenient" if records[0]["scenario"] in IRRELEVANCE else "correct"
        scores["free_score"] = sum(bool(u and v[key]) for u, v in zip(unforced, verdicts)) / n
    ours = compute_metrics(records, parsed, unforced=unforced)
    scores["metrics"] = next(iter(ours.values()))["all"] if ours else {}
    return {"scores": scores, "verdicts": verdicts}


def fmt_score(value: Any) -> str:
    """A score as report.md and the console print it; "–" where nothing was scored."""
    return "–" if value is None else f"{value:.3f}"


def render_report(payload: dict[str, Any]) -> str:
    """report.md: per system, one row per category (never an overall: BFCL's categories differ
    in size and kind, so a pooled number would mostly weigh live_multiple)."""
    info = payload["info"]
    lines = [
        "# BFCL (offline AST scoring)", "",
        f"- bfcl-eval: {info['bfcl_version']} (source {info['source']})",
        f"- model: {info['model']}; checkpoint: {info['checkpoint'] or '–'}; tool style: "
        f"{info['tool_style']}; limit per category: {info['limit'] or 'all'}",
        "- BFCL score: AST accuracy for call categories, lenient irrelevance (no offered "
        "function called) for the irrelevance ones; strict irrelevance asks for "
        f"`{DEFAULT_TOOL}`. Our metrics are DESIGN §5's on the same outputs (docs/bfcl.md).",
        f"- decoding: {info.get('decoding', 'free')}. Constrained, the scores are of replies "
        "held to each question's function schemas; the free BFCL score and free format are "
        "free decoding's from the same greedy pass (docs/constrained_decoding.md).",
        "",
    ]
    for system, categories in payload["systems"].items():
        lines += [f"## {system}", "",
                  "| category | n | BFCL score | free BFCL score | strict irrelevance | TSA | "
                  "arg value acc | exact call | format validity | free format | AST failures |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for category, scores in categories.items():
            ours = scores["metrics"]
            bfcl = scores.get("ast_accuracy", scores.get("irrelevance_lenient"))
            failures = ", ".join(f"{k} {v}" for k, v in scores.get("ast_errors", {}).items())
            lines.append(
                f"| {category} | {scores['n']} | {fmt_score(bfcl)} | "
                f"{fmt_score(scores.get('free_score'))} | "
                f"{fmt_score(scores.get('irrelevance_strict'))} | "
                f"{fmt_score(ours.get('tsa'))} | "
                f"{fmt_score(ours.get('argument_value_accuracy'))} | "
                f"{fmt_score(ours.get('call_exact_match'))} | "
                f"{fmt_score(ours.get('format_validity'))} | "
                f"{fmt_score(ours.get('free_format_validity'))} | {failures or '–'} |")
        lines.append("")
    if payload.get("probes"):
        lines += render_probes(payload["probes"])
    return "\n".join(lines)
