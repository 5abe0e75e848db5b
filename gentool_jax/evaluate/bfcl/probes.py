"""Derived probes: GenTool's two generalization questions asked with BFCL questions.

From every converted `multiple` / `live_multiple` question (`bfcl.load_category`) three records
are derived (`gentool-jax bfcl --probes`, docs/bfcl.md "Derived probes and leakage"):

- `derived_zero_to_one`, variant `none`: the same question with the gold function removed, so
  the gold answer is `generate_response`; and variant `strong`: the question as it is. Scored
  with zero-to-one consistency (the `none` record abstains *and* the `strong` one calls the
  gold function), TSA and abstention.
- `derived_weak_to_strong`, variant `both`: the question with a weakened copy of the gold
  function added (`importers/weaken.py`, one of GenTool's four axes, chosen by a hash of the
  question id), at a hashed position; the gold stays the original function. Scored with
  weak-to-strong preference, overall and per axis.

These are our probes built from BFCL's questions, not BFCL scores: they are labelled
`derived` everywhere (scenario, `meta.source`, report section) and never enter the BFCL table.
"""

from __future__ import annotations

import copy
import hashlib
from collections import defaultdict
from typing import Any

from gentool_jax.evaluate.metrics import METRICS, compute_metrics, score_sample
from gentool_jax.evaluate.parser import ParsedOutput
from gentool_jax.importers.weaken import AXES, choose_axis, weaken
from gentool_jax.records import DEFAULT_TOOL, Record, validate_record

SOURCE_CATEGORIES = ("multiple", "live_multiple")
ZERO_TO_ONE = "derived_zero_to_one"
WEAK_TO_STRONG = "derived_weak_to_strong"
SCENARIOS = (ZERO_TO_ONE, WEAK_TO_STRONG)


def _position(key: str, size: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % (size + 1)


def derive(record: Record, seed: int = 0) -> list[Record]:
    """The `none`, `strong` and `both` probes of one converted BFCL call question."""
    gold = record["call"]["name"]
    tools = record["tools"]
    gold_tool = next(tool for tool in tools if tool["name"] == gold)
    others = [tool for tool in tools if tool["name"] != gold]
    qid = f"derived-{record['id']}"
    meta = {"source": "derived", "derived_from": f"{record['meta'].get('category')}/"
            f"{record['id']}", "source_version": record["meta"].get("bfcl_version"),
            "category": record["meta"].get("category"), "query_id": qid,
            "context_messages": record["meta"].get("context_messages", 0)}
    with_args = {**meta, "acceptable_arguments": copy.deepcopy(
        record["meta"].get("acceptable_arguments", {}))}
    none = {"id": f"{qid}-none", "query": record["query"], "tools": copy.deepcopy(others),
            "ranking": [DEFAULT_TOOL, *(t["name"] for t in others)],
            "call": {"name": DEFAULT_TOOL, "arguments": {}}, "variant": "none",
            "scenario": ZERO_TO_ONE, "meta": dict(meta)}
    strong = {"id": f"{qid}-strong", "query": record["query"], "tools": copy.deepcopy(tools),
              "ranking": list(record["ranking"]), "call": copy.deepcopy(record["call"]),
              "variant": "strong", "scenario": ZERO_TO_ONE, "meta": dict(with_args)}
    axis = choose_axis(f"{seed}:{record['id']}", gold_tool)
    weak = weaken(gold_tool, axis, [t["name"] for t in tools]).tool
    both_tools = copy.deepcopy(tools)
    both_tools.insert(_position(f"{seed}:{record['id']}:weak", len(tools)), weak)
    both = {"id": f"{qid}-both", "query": record["query"], "tools": both_tools,
            "ranking": [gold, weak["name"], DEFAULT_TOOL,
                        *(t["name"] for t in both_tools if t["name"] not in (gold, weak["name"]))],
            "call": copy.deepcopy(record["call"]), "variant": "both", "scenario": WEAK_TO_STRONG,
            "meta": {**with_args, "strong_tool": gold, "weak_tool": weak["name"],
                     "better_tool": gold, "weak_axis": axis}}
    probes = [none, strong, both]
    for probe in probes:
        validate_record(probe, any_scenario=True)
    return probes


def derive_probes(records: list[Record], seed: int = 0) -> list[Record]:
    """The probes of every `multiple` / `live_multiple` record, in record order."""
    return [probe for record in records if record["scenario"] in SOURCE_CATEGORIES
            and record["call"]["name"] != DEFAULT_TOOL for probe in derive(record, seed)]


def score_scenario(records: list[Record], parsed: list[ParsedOutput]) -> dict[str, Any]:
    """Our metrics of one probe scenario (all records and per variant) and, for the
    weak-to-strong one, preference per weakness axis; with each record's verdict."""
    metrics = next(iter(compute_metrics(records, parsed).values()), {})
    samples = [score_sample(r, o) for r, o in zip(records, parsed)]
    scores: dict[str, Any] = {"n": len(records), "metrics": metrics.get("all", {}),
                              "variants": {v: m for v, m in metrics.items() if v != "all"}}
    if records and records[0]["scenario"] == WEAK_TO_STRONG:
        per_axis: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record, sample in zip(records, samples):
            per_axis[record["meta"]["weak_axis"]].append(sample)
        scores["w2s_by_axis"] = {axis: {
            "n": len(per_axis[axis]),
            "w2s_preference": _mean([s["w2s"] for s in per_axis[axis]]),
            "w2s_pairwise": _mean([s["w2s_pair"] for s in per_axis[axis] if "w2s_pair" in s]),
            "weak_chosen": _mean([float(s["pred_name"] == r["meta"]["weak_tool"])
                                  for r, s in zip(records, samples)
                                  if r["meta"]["weak_axis"] == axis])}
            for axis in AXES if per_axis[axis]}
    verdicts = [{"derived": True, "tool_correct": bool(s["tsa"])} for s in samples]
    return {"scores": scores, "verdicts": verdicts}


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def render_probes(probes: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """report.md lines of the derived probes (one table per system), apart from BFCL's."""
    lines = ["# Derived probes (built from BFCL questions; not BFCL scores)", "",
             "- `derived_zero_to_one`: `none` = the question with its gold function removed "
             f"(gold `{DEFAULT_TOOL}`), `strong` = the question as is; `derived_weak_to_strong`: "
             "`both` = a weakened copy of the gold function added (docs/bfcl.md).", ""]
    for system, scenarios in probes.items():
        lines += [f"## {system} (derived)", "",
                  "| scenario | variant | n | TSA | abstention recall | z2o consistency | "
                  "W2S preference | W2S pairwise | exact call |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for scenario, scores in scenarios.items():
            for variant, m in [*scores["variants"].items(), ("all", scores["metrics"])]:
                m = {key: m.get(key) for key in METRICS}
                lines.append(
                    f"| {scenario} | {variant} | {m['n']} | {_fmt(m['tsa'])} | "
                    f"{_fmt(m['abstention_recall'])} | {_fmt(m['z2o_consistency'])} | "
                    f"{_fmt(m['w2s_preference'])} | {_fmt(m['w2s_pairwise'])} | "
                    f"{_fmt(m['call_exact_match'])} |")
        axes = next((s["w2s_by_axis"] for s in scenarios.values() if "w2s_by_axis" in s), {})
        if axes:
            lines += ["", "| weakness axis | n | W2S preference | W2S pairwise | weak copy "
                      "chosen |", "| --- | ---: | ---: | ---: | ---: |"]
            lines += [f"| {axis} | {a['n']} | {_fmt(a['w2s_preference'])} | "
                      f"{_fmt(a['w2s_pairwise'])} | {_fmt(a['weak_chosen'])} |"
                      for axis, a in axes.items()]
        lines.append("")
    return lines
