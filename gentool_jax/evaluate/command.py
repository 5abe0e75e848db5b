"""`gentool-jax evaluate`: score the baselines and the trained model on the test scenarios (or
on a user's JSONL) and write metrics.json, report.md, a chart per scenario and every raw
generation, so any number in the report can be traced back to the text it came from.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gentool_jax.errors import GentoolError
from gentool_jax.evaluate.metrics import compute_metrics
from gentool_jax.evaluate.parser import parse_output
from gentool_jax.evaluate.report import write_reports
from gentool_jax.evaluate.systems import Generation, SystemRun, run_bm25, run_model
from gentool_jax.simulate.records import Record, read_records

BASELINES = ("bm25", "base_model")
TRAINED = "trained"


def _data_dir(config: Any) -> Path:
    return Path(config.workdir) / "data"


def _subset(records: list[Record], limit: int, seed: int) -> list[Record]:
    """At most `limit` records, taken as whole queries (all toolset variants of a query stay
    together, so zero-to-one consistency keeps its pairs) in a seeded hash order."""
    if limit <= 0 or len(records) <= limit:
        return records
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[str((record.get("meta") or {}).get("query_id", record["id"]))].append(record)
    key = lambda q: hashlib.sha256(f"{seed}:{q}".encode()).hexdigest()
    chosen: list[Record] = []
    for query in sorted(groups, key=key):
        if len(chosen) + len(groups[query]) > limit and chosen:
            continue
        chosen.extend(groups[query])
        if len(chosen) >= limit:
            break
    ids = {id(record) for record in chosen}
    return [record for record in records if id(record) in ids]  # file order, for stable output


def load_eval_records(config: Any, data: str = "") -> list[Record]:
    """The user's JSONL (all of it) or the configured simulated test splits, each capped at
    `config.evaluate.max_samples_per_split`."""
    if data:
        records = list(read_records(data))
        if not records:
            raise GentoolError(f"--data={data}: the file holds no records")
        return records
    from gentool_jax.simulate.generate import split_file

    records: list[Record] = []
    for split in config.evaluate.splits:
        path = _data_dir(config) / split_file(split)
        if not path.is_file():
            raise GentoolError(f"{path} not found: run `gentool-jax simulate` first, or pass "
                               "--data=FILE.jsonl (config.evaluate.splits names the splits)")
        records += _subset(list(read_records(path)),
                           int(config.evaluate.max_samples_per_split), int(config.seed))
    return records


def _validation_records(config: Any) -> list[Record]:
    from gentool_jax.simulate.generate import split_file

    path = _data_dir(config) / split_file("validation")
    return list(read_records(path)) if path.is_file() else []


def _load_base(config: Any, mesh: Any):
    import jax.numpy as jnp

    from gentool_jax.model.loading import load_model
    from gentool_jax.model.registry import load_tokenizer, resolve_model

    path = resolve_model(config.model)
    model = load_model(path, dtype=jnp.dtype(config.model.dtype),
                       param_dtype=jnp.dtype(config.model.param_dtype), mesh=mesh)
    return model, load_tokenizer(path)


def _load_trained(config: Any, checkpoint: str, mesh: Any):
    """A training checkpoint (stage dir / step; "" = latest of the last stage), a merged HF
    export directory, or a PEFT adapter directory (put on the configured base model)."""
    import jax.numpy as jnp

    from gentool_jax.model.loading import load_model
    from gentool_jax.model.peft_import import is_peft_adapter, load_peft_adapter
    from gentool_jax.model.registry import load_tokenizer, resolve_model

    path = Path(checkpoint) if checkpoint else None
    dtypes = dict(dtype=jnp.dtype(config.model.dtype),
                  param_dtype=jnp.dtype(config.model.param_dtype))
    if path is not None and is_peft_adapter(path):
        from gentool_jax.parallel.partition import place_model

        base_dir = resolve_model(config.model)
        model = load_model(base_dir, mesh=mesh, **dtypes)
        load_peft_adapter(model, path)
        place_model(model, mesh)
        model.eval()
        return model, load_tokenizer(base_dir)
    if path is not None and (path / "config.json").is_file():
        model = load_model(path, mesh=mesh, **dtypes)
        tokenizer_dir = path if (path / "tokenizer_config.json").is_file() else resolve_model(
            config.model)
        return model, load_tokenizer(tokenizer_dir)
    from gentool_jax.train.export import load_trained_model

    model, _, model_dir = load_trained_model(config, checkpoint, mesh=mesh)
    return model, load_tokenizer(model_dir)


def _fingerprint(config: Any, system: str, checkpoint: str | None) -> str:
    """What a model system's generations depend on; saved generations with the same value are
    reused, so rerunning an interrupted pipeline does not sample again."""
    parts: dict[str, Any] = {
        "system": system, "model": str(config.model.name), "dtype": str(config.model.dtype),
        "param_dtype": str(config.model.param_dtype), "sample": config.sample.to_dict(),
        "tool_style": str(config.data.tool_style), "seed": int(config.seed),
    }
    if system == TRAINED:
        roots = [Path(checkpoint)] if checkpoint else [
            Path(config.workdir) / str(stage) for stage in config.train.stages]
        files = [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]
        parts["checkpoint"] = [checkpoint, max((p.stat().st_mtime_ns for p in files), default=0)]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _saved_generations(out_dir: Path) -> dict[tuple[str, ...], Generation]:
    """(system, fingerprint, scenario, record id) -> generation, from an earlier run's
    generations.jsonl."""
    path = out_dir / "generations.jsonl"
    saved: dict[tuple[str, ...], Generation] = {}
    if not path.is_file():
        return saved
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
                key = (row["system"], row["fingerprint"], row["scenario"], row["id"])
                saved[key] = Generation(
                    row["text"], int(row["prompt_tokens"]), int(row["generated_tokens"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line from another version or a torn write: sample again
    return saved


def _run_systems(config: Any, records: list[Record], systems: Sequence[str],
                 checkpoint: str | None, out_dir: Path) -> list[SystemRun]:
    from gentool_jax.parallel.mesh import make_mesh

    runs: list[SystemRun] = []
    if "bm25" in systems:
        runs.append(run_bm25(records, _validation_records(config)))
    model_systems = [s for s in systems if s != "bm25"]
    if not model_systems:
        return runs
    saved = _saved_generations(out_dir)
    mesh = make_mesh(config.mesh)
    settings = dict(sample_config=config.sample, tool_style=str(config.data.tool_style),
                    seed=int(config.seed), mesh=mesh)
    for system in model_systems:
        fingerprint = _fingerprint(config, system, checkpoint)
        keys = [(system, fingerprint, record["scenario"], record["id"]) for record in records]
        if all(key in saved for key in keys):
            print(f"evaluate: reusing the saved generations of {system}")
            runs.append(SystemRun(system, [saved[key] for key in keys], 0.0,
                                  info={"reused": True}, fingerprint=fingerprint))
            continue
        if system == "base_model":
            model, tokenizer = _load_base(config, mesh)
        else:
            model, tokenizer = _load_trained(config, checkpoint or "", mesh)
        print(f"evaluate: generating with {system} on {len(records)} records")
        run = run_model(system, model, tokenizer, records, **settings)
        run.fingerprint = fingerprint
        runs.append(run)
        del model
        gc.collect()
    return runs


def evaluate_systems(config: Any, records: list[Record], *, out_dir: str | Path,
                     systems: Sequence[str] = BASELINES, checkpoint: str | None = None,
                     info: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run `systems` (any of "bm25", "base_model") plus the trained model when `checkpoint` is
    not None ("" = the latest checkpoint of the last stage in config.workdir), score them and
    write the report files into `out_dir`. Returns {system: {scenario: {variant: metrics}}}."""
    unknown = sorted(set(systems) - set(BASELINES))
    if unknown:
        raise GentoolError(f"config.evaluate.baselines: unknown {', '.join(unknown)} "
                           f"(choose from {', '.join(BASELINES)})")
    names = list(dict.fromkeys(systems)) + ([TRAINED] if checkpoint is not None else [])
    if not names:
        raise GentoolError("nothing to evaluate: config.evaluate.baselines is empty and no "
                           "--checkpoint was given")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = _run_systems(config, records, names, checkpoint, out_dir)
    metrics: dict[str, Any] = {}
    run_info: dict[str, Any] = {}
    tmp = out_dir / "generations.jsonl.tmp"
    with tmp.open("w", encoding="utf-8") as handle:
        for run in runs:
            parsed = [parse_output(g.text, [t["name"] for t in r["tools"]])
                      for g, r in zip(run.generations, records)]
            metrics[run.name] = compute_metrics(records, parsed)
            run_info[run.name] = {"seconds": round(run.seconds, 2), **run.info}
            for record, generation, output in zip(records, run.generations, parsed):
                handle.write(json.dumps({
                    "id": record["id"], "system": run.name, "scenario": record["scenario"],
                    "variant": record["variant"], "fingerprint": run.fingerprint,
                    "prompt_tokens": generation.prompt_tokens,
                    "generated_tokens": generation.generated_tokens, "text": generation.text,
                    "parsed": output.to_dict(),
                }, ensure_ascii=False) + "\n")
    tmp.replace(out_dir / "generations.jsonl")
    write_reports(metrics, out_dir, info={**(info or {}), "systems": run_info})
    return metrics


def evaluate_command(config: Any, options: dict[str, str]) -> int:
    """`gentool-jax evaluate [--checkpoint=DIR] [--data=FILE.jsonl] [--out=DIR]`."""
    data = options.get("data", "")
    checkpoint = options.get("checkpoint", "") or None
    out_dir = Path(options.get("out", "") or Path(config.workdir) / "eval")
    records = load_eval_records(config, data)
    info = {
        "model": str(config.model.name), "checkpoint": checkpoint or "",
        "data": data or str(_data_dir(config)), "records": len(records),
        "tool_style": str(config.data.tool_style),
        "sampling": {key: config.sample[key] for key in
                     ("max_new_tokens", "temperature", "top_k", "top_p")},
    }
    metrics = evaluate_systems(config, records, out_dir=out_dir,
                               systems=tuple(config.evaluate.baselines),
                               checkpoint=checkpoint, info=info)
    print(f"evaluate: wrote {out_dir}/metrics.json, report.md, generations.jsonl and "
          f"{len({s for m in metrics.values() for s in m})} charts")
    for system, scenarios in metrics.items():
        for scenario, variants in scenarios.items():
            row = variants["all"]
            tsa = "–" if row["tsa"] is None else f"{row['tsa']:.3f}"
            print(f"  {system:<12} {scenario:<26} n={row['n']:<4} TSA={tsa}")
    return 0
