"""`gentool-jax bfcl`: the single-turn, single-call BFCL categories, converted to our records,
answered by the model in our format and scored offline with BFCL's AST rules and our metrics.

The data come from the pinned `bfcl-eval` wheel (`source.py`), converted by `convert.py`.
Generation is the evaluation's own (`evaluate.command.run_model_system`: the training prompt,
the sampler, the generation cache), so a BFCL number and a scenario number come from the same
path.
docs/bfcl.md says what is converted, how it is scored and what an offline rerun cannot do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ml_collections import ConfigDict

from gentool_jax.atomic import atomic_open, write_json, write_text
from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.errors import GentoolError
from gentool_jax.evaluate.bfcl.leakage import write_leakage
from gentool_jax.evaluate.bfcl.probes import SOURCE_CATEGORIES, derive_probes, score_scenario
from gentool_jax.evaluate.bfcl.scoring import fmt_score, render_report, score_category
from gentool_jax.evaluate.bfcl.source import (
    CATEGORIES,
    load_category,
    open_source,
    parse_categories,
    take,
)
from gentool_jax.evaluate.generation_cache import sampling_fields
from gentool_jax.model.settings import ModelSettings
from gentool_jax.records import Record, write_records
from gentool_jax.sample.settings import SampleSettings


def _limit(text: str) -> int:
    try:
        limit = int(text or 0)
    except ValueError:
        limit = -1
    if limit < 0:
        raise GentoolError(f"--limit={text}: expected a whole number of questions per category "
                           "(0 = all)")
    return limit


def _probes(records: list[Record], categories: list[str], seed: int) -> list[Record]:
    """`--probes`: the derived probes of the chosen multiple / live_multiple questions."""
    if not set(categories) & set(SOURCE_CATEGORIES):
        raise GentoolError("--probes derives from multiple / live_multiple: add one of them to "
                           "--categories")
    return derive_probes(records, seed)


def _leakage(workdir: Path, options: dict[str, str], loaded: dict[str, list[Record]],
             out_dir: Path) -> dict[str, Any] | None:
    """leakage.md / .json against --train-data or <workdir>/data/train.jsonl when it exists;
    the per-category counts (None when there is no training split)."""
    train = options.get("train-data", "") or workdir / "data" / "train.jsonl"
    if not options.get("train-data") and not Path(train).is_file():
        return None
    report = write_leakage(out_dir, loaded, train)
    print(f"bfcl: wrote {out_dir}/leakage.md (BFCL functions vs {train})")
    return {category: {key: value for key, value in counts.items() if key != "examples"}
            for category, counts in report["categories"].items()}


def bfcl_command(config: ConfigDict, options: dict[str, str]) -> int:
    """`gentool-jax bfcl [--checkpoint=DIR] [--out=DIR] [--limit=N] [--categories=a,b]
    [--data=DIR|WHEEL] [--probes] [--train-data=FILE]`: convert, generate, score and write
    records.jsonl, generations.jsonl, metrics.json and report.md into --out (and leakage.md /
    .json when a training split exists; `--probes` adds the derived probes, probes.py)."""
    from gentool_jax.evaluate.command import (
        parsed_reply,
        reply_format,
        run_model_system,
        unforced_reply,
    )
    from gentool_jax.parallel.mesh import make_mesh
    from gentool_jax.train.inference import check_checkpoint

    settings = section_view(RunSettings, config)
    categories = parse_categories(options.get("categories", ""))
    limit = _limit(str(options.get("limit", "0")))
    checkpoint = options.get("checkpoint", "") or None
    out_dir = Path(options.get("out", "") or settings.workdir / "bfcl")
    # The base model alone without a checkpoint; with one, the trained model, next to the base
    # model when config.evaluate.baselines names it (as `evaluate` does).
    systems = ["base_model"] if (checkpoint is None
                                 or "base_model" in config.evaluate.baselines) else []
    systems += ["trained"] if checkpoint is not None else []
    check_checkpoint(config, checkpoint)
    source = open_source(config, options.get("data", ""))
    loaded = {category: load_category(source, category) for category in categories}
    records = [record for category in categories
               for record in take(loaded[category], limit, settings.seed)]
    probes = _probes(records, categories, settings.seed) if options.get("probes") else []
    records += probes
    out_dir.mkdir(parents=True, exist_ok=True)
    write_records(out_dir / "records.jsonl", records)
    leakage = _leakage(settings.workdir, options, loaded, out_dir)
    mesh = make_mesh(config.mesh)
    results: dict[str, dict[str, Any]] = {}
    probe_results: dict[str, dict[str, Any]] = {}
    run_info: dict[str, Any] = {}
    with atomic_open(out_dir / "generations.jsonl") as handle:
        for system in systems:
            run = run_model_system(config, records, system, checkpoint, mesh)
            run_info[system] = {"seconds": round(run.seconds, 2), **run.info}
            target = reply_format(config, system, checkpoint).ranking_target
            parsed = [parsed_reply(g, r, target) for g, r in zip(run.generations, records)]
            unforced = [unforced_reply(g, config) for g in run.generations]
            results[system] = {}
            for category in [*categories, *dict.fromkeys(r["scenario"] for r in probes)]:
                index = [i for i, r in enumerate(records) if r["scenario"] == category]
                chosen = [records[i] for i in index], [parsed[i] for i in index]
                scored = (score_category(*chosen, [unforced[i] for i in index])
                          if category in CATEGORIES else score_scenario(*chosen))
                target = results if category in CATEGORIES else probe_results
                target.setdefault(system, {})[category] = scored["scores"]
                for i, verdict in zip(index, scored["verdicts"]):
                    generation = run.generations[i]
                    handle.write(json.dumps({
                        "id": records[i]["id"], "system": system, "category": category,
                        "fingerprint": run.fingerprint, "prompt_tokens": generation.prompt_tokens,
                        "generated_tokens": generation.generated_tokens, "text": generation.text,
                        "parsed": parsed[i].to_dict(), "bfcl": verdict,
                        "constraint": generation.constraint,
                        "interventions": generation.interventions,
                    }, ensure_ascii=False) + "\n")
    payload = {"info": {
        "bfcl_version": source.version, "source": str(source.path), "categories": categories,
        "limit": limit, "model": section_view(ModelSettings, config.model).name,
        "checkpoint": checkpoint or "",
        "tool_style": str(config.data.tool_style),
        "sampling": sampling_fields(config.sample),
        "decoding": "constrained" if section_view(SampleSettings, config.sample).constrained
        else "free",
        "systems": run_info}, "systems": results}
    if probes:
        payload["probes"] = probe_results
    if leakage:
        payload["info"]["leakage"] = leakage
    write_json(out_dir / "metrics.json", payload)
    write_text(out_dir / "report.md", render_report(payload))
    print(f"bfcl: wrote {out_dir}/report.md, metrics.json, generations.jsonl, records.jsonl "
          f"(bfcl-eval {source.version})")
    for system, scored in results.items():
        for category, scores in scored.items():
            bfcl = scores.get("ast_accuracy", scores.get("irrelevance_lenient"))
            print(f"  {system:<12} {category:<18} n={scores['n']:<5} BFCL={fmt_score(bfcl)}")
    return 0
