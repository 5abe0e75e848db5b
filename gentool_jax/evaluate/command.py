"""`gentool-jax evaluate`: score the baselines and the trained model on the test scenarios (or
on a user's JSONL) and write metrics.json, report.md, a chart per scenario and every raw
generation, so any number in the report can be traced back to the text it came from.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ml_collections import ConfigDict

from gentool_jax.atomic import atomic_open
from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.errors import GentoolError
from gentool_jax.evaluate.generation_cache import (
    GenerationCache,
    prompt_key,
    sampling_fields,
    system_fingerprint,
)
from gentool_jax.evaluate.metrics import compute_metrics
from gentool_jax.evaluate.parser import ParsedOutput, parse_output
from gentool_jax.evaluate.report import write_reports
from gentool_jax.evaluate.systems import (
    Generation,
    SystemRun,
    constraint_errors,
    run_bm25,
    run_model,
)
from gentool_jax.model.model_cache import directory_digest
from gentool_jax.model.settings import ModelSettings
from gentool_jax.records import Record, read_records
from gentool_jax.sample.settings import SampleSettings

BASELINES = ("bm25", "base_model")
TRAINED = "trained"


@dataclasses.dataclass(frozen=True)
class EvaluateConfig:
    """The `config.evaluate` section, typed (`config_view.section_view`)."""

    splits: tuple[str, ...]
    max_samples_per_split: int
    queries_per_pair: int
    baselines: tuple[str, ...]
    reuse_generations: bool


def _data_dir(config: ConfigDict) -> Path:
    return section_view(RunSettings, config).workdir / "data"


def _subset(records: list[Record], limit: int, seed: int, per_pair: int = 0) -> list[Record]:
    """At most `limit` records, taken as whole queries (all toolset variants of a query stay
    together, so zero-to-one consistency keeps its pairs) in a seeded hash order. With
    `per_pair` > 0, up to that many queries of one tool pair are taken together: they share
    their toolsets, so the sampler prefills each toolset once for all of them."""
    if limit <= 0 or len(records) <= limit:
        return records
    groups: dict[str, list[Record]] = defaultdict(list)
    pair_of: dict[str, str] = {}
    for record in records:
        meta = record.get("meta") or {}
        query = str(meta.get("query_id", record["id"]))
        groups[query].append(record)
        pair_of[query] = str(meta.get("pair_id", query)) if per_pair > 0 else query
    key = lambda q: hashlib.sha256(f"{seed}:{q}".encode()).hexdigest()
    by_pair: dict[str, list[str]] = defaultdict(list)
    for query in sorted(groups, key=key):
        by_pair[pair_of[query]].append(query)
    order = [query for pair in sorted(by_pair, key=key)
             for query in by_pair[pair][: per_pair or None]]
    chosen: list[Record] = []
    for query in order:
        if len(chosen) + len(groups[query]) > limit and chosen:
            continue
        chosen.extend(groups[query])
        if len(chosen) >= limit:
            break
    ids = {id(record) for record in chosen}
    return [record for record in records if id(record) in ids]  # file order, for stable output


def load_eval_records(config: ConfigDict, data: str = "") -> list[Record]:
    """The user's JSONL (all of it) or the configured simulated test splits, each capped at
    `config.evaluate.max_samples_per_split`."""
    if data:
        records = list(read_records(data, any_scenario=True))
        if not records:
            raise GentoolError(f"--data={data}: the file holds no records")
        return records
    from gentool_jax.simulate.simulation import split_file

    evaluate = section_view(EvaluateConfig, config.evaluate)
    records: list[Record] = []
    for split in evaluate.splits:
        path = _data_dir(config) / split_file(split)
        if not path.is_file():
            raise GentoolError(f"{path} not found: run `gentool-jax simulate` first, or pass "
                               "--data=FILE.jsonl (config.evaluate.splits names the splits)")
        records += _subset(list(read_records(path)), evaluate.max_samples_per_split,
                           section_view(RunSettings, config).seed, evaluate.queries_per_pair)
    return records


def check_trained_on_these_splits(config: ConfigDict, checkpoint: str | None) -> None:
    """Refuse to score a training checkpoint on simulated test splits that are not the ones
    simulated with its training records: after a re-simulation into the same workdir, the new
    test splits may hold queries and tools the checkpoint trained on, and the scores would
    silently measure leakage. Applies when the checkpoint records (DESIGN: its metadata's
    `train_data`) that it trained on this data directory's training file; `--data=FILE`
    evaluates a file on purpose and is not checked."""
    from gentool_jax.model.peft_import import is_peft_adapter
    from gentool_jax.train.checkpoint import StageCheckpoints, data_fingerprint
    from gentool_jax.train.command import default_data_path
    from gentool_jax.train.inference import check_checkpoint
    from gentool_jax.train.trained_model import locate_checkpoint

    check_checkpoint(config, checkpoint)  # a bad --checkpoint gets its own one-line error
    if checkpoint is None or (checkpoint and (is_peft_adapter(Path(checkpoint)) or (
            Path(checkpoint) / "config.json").is_file())):
        return  # the base model, a PEFT adapter or a merged export records no training data
    train_file = default_data_path(config)
    workdir, stage, step = locate_checkpoint(config, checkpoint)
    checkpoints = StageCheckpoints(workdir / stage / "checkpoints", keep=1, async_save=False)
    try:
        step = checkpoints.latest_step() if step is None else step
        saved = checkpoints.metadata(step).get("train_data", {}) if step is not None else {}
    finally:
        checkpoints.close()
    recorded = Path(str(saved.get("path", "")))
    if not saved or not train_file.exists() or recorded.resolve() != train_file.resolve():
        return
    now = data_fingerprint(train_file)
    if now != saved.get("fingerprint"):
        raise GentoolError(
            f"{workdir / stage} was trained on {train_file} with sha256 "
            f"{str(saved.get('fingerprint'))[:12]}, but it now has sha256 {now[:12]} (the data "
            "was re-simulated), so its test splits may overlap what the checkpoint trained on; "
            "retrain, restore the old data, or pass --data=FILE to score a file anyway")


def _validation_records(config: ConfigDict) -> list[Record]:
    from gentool_jax.simulate.simulation import split_file

    path = _data_dir(config) / split_file("validation")
    return list(read_records(path)) if path.is_file() else []


def _weights_roots(config: ConfigDict, system: str, checkpoint: str | None,
                   selector: Path | None = None) -> list[Path]:
    """The files a model system's weights come from: the base model directory, plus for the
    trained system the given checkpoint and every stage's checkpoints (the stage chain), and
    the selection head it selects with."""
    from gentool_jax.model.registry import resolve_model

    roots = [resolve_model(section_view(ModelSettings, config.model))]
    if system == TRAINED:
        parts = Path(checkpoint).parts if checkpoint else ()
        if checkpoint:
            roots.append(Path(checkpoint))
        workdir = section_view(RunSettings, config).workdir
        for stage in config.train.stages:  # the chain up to the checkpoint's own stage
            roots.append(workdir / str(stage) / "checkpoints")
            if str(stage) in parts:
                break
        if selector is not None:
            roots.append(selector)
    return [root for root in dict.fromkeys(roots) if root.exists()]


def _tokenizer(config: ConfigDict, system: str, checkpoint: str | None):
    from gentool_jax.model.registry import load_tokenizer, resolve_model

    path = Path(checkpoint) if system == TRAINED and checkpoint else None
    if path is not None and (path / "tokenizer_config.json").is_file():
        return load_tokenizer(path)
    return load_tokenizer(resolve_model(section_view(ModelSettings, config.model)))


def reply_format(config: ConfigDict, system: str, checkpoint: str | None) -> Any:
    """The reply lines a model system was trained to write (`sample.grammar.ReplyFormat`):
    the base model is prompted for both; the trained one writes its stage's target (the
    stage a `--checkpoint` path names, else the last configured stage)."""
    from gentool_jax.sample.grammar import FULL_REPLY, ReplyFormat
    from gentool_jax.train.command import configured_stages
    from gentool_jax.train.views import StageConfig

    stages = configured_stages(config)
    if system != TRAINED or not stages:
        return FULL_REPLY
    parts = Path(checkpoint).parts if checkpoint else ()
    stage = next((name for name in stages if name in parts), stages[-1])
    view = section_view(StageConfig, config.train[stage])
    return ReplyFormat(view.include_ranking, view.include_call,
                       ranking_target=str(config.data.ranking_target))


def run_model_system(config: ConfigDict, records: list[Record], system: str,
                      checkpoint: str | None, mesh: Any) -> SystemRun:
    """Generations of one model system: from the content cache where the weights, prompt and
    sampling settings match, sampled (and cached) for the rest. The fingerprint takes the raw
    `config.sample` values, as the generations cached by earlier runs were keyed."""
    from gentool_jax.data.render import encode_prompt
    from gentool_jax.model.model_cache import cache_root
    from gentool_jax.selector.use import head_for, pick_names, selector_dir

    model_settings = section_view(ModelSettings, config.model)
    seed = section_view(RunSettings, config).seed
    tokenizer = _tokenizer(config, system, checkpoint)
    style = str(config.data.tool_style)
    prompts = [encode_prompt(record, tokenizer, style) for record in records]
    sampling = sampling_fields(config.sample)
    # The trained system's selection head (docs/selector.md), or None.
    head = head_for(config, checkpoint or "") if system == TRAINED else None
    selector = selector_dir(config) if head is not None else None
    fingerprint = system_fingerprint(
        weights=directory_digest(_weights_roots(config, system, checkpoint, selector)),
        dtype=model_settings.dtype, param_dtype=model_settings.param_dtype,
        sampling=sampling, seed=seed, prompts=prompts)
    cache = GenerationCache(cache_root(model_settings) / "generations", fingerprint)
    reuse = section_view(EvaluateConfig, config.evaluate).reuse_generations
    saved = cache.load() if reuse else {}
    keys = [prompt_key(prompt) for prompt in prompts]
    missing = [i for i, key in enumerate(keys) if key not in saved]
    decoding = "constrained" if section_view(SampleSettings, config.sample).constrained else "free"
    info: dict[str, Any] = {"reused": len(records) - len(missing), "decoding": decoding,
                            "selection": "head" if head is not None else "model"}
    seconds = 0.0
    if missing:
        from gentool_jax.train.inference import load_for_inference

        model, _ = load_for_inference(config, None if system == "base_model" else
                                      checkpoint or "", mesh)
        print(f"evaluate: generating with {system} on {len(missing)} records "
              f"({info['reused']} reused from the generation cache)")
        reply = reply_format(config, system, checkpoint)
        replies = None
        if head is not None:
            picks = pick_names(head, model, tokenizer, [records[i] for i in missing],
                               int(config.selector.encode_batch))
            replies = [reply.held_to(pick) for pick in picks]
        run = run_model(system, model, tokenizer, [records[i] for i in missing],
                        sample_config=section_view(SampleSettings, config.sample),
                        tool_style=style, seed=seed, mesh=mesh, reply=reply, replies=replies)
        del model
        gc.collect()
        fresh = dict(zip((keys[i] for i in missing), run.generations))
        cache.add(fresh.items())
        saved.update(fresh)
        seconds, info = run.seconds, {**run.info, **info}
    else:
        print(f"evaluate: all {len(records)} generations of {system} come from the cache "
              f"{cache.path}")
    return SystemRun(system, [saved[key] for key in keys], seconds, info=info,
                     fingerprint=fingerprint)


def _run_systems(config: ConfigDict, records: list[Record], systems: Sequence[str],
                 checkpoint: str | None) -> list[SystemRun]:
    from gentool_jax.parallel.mesh import make_mesh

    runs: list[SystemRun] = []
    if "bm25" in systems:
        runs.append(run_bm25(records, _validation_records(config)))
    model_systems = [s for s in systems if s != "bm25"]
    if model_systems:
        mesh = make_mesh(config.mesh)
        runs += [run_model_system(config, records, system, checkpoint, mesh)
                 for system in model_systems]
    return runs


def parsed_reply(generation: Generation, record: Record, ranking_target: str = "full"
                 ) -> ParsedOutput:
    """The parser's reading of a reply; a constrained reply that did not end is invalid."""
    parsed = parse_output(generation.text, [t["name"] for t in record["tools"]],
                          ranking_target=ranking_target)
    errors = constraint_errors(generation)
    if errors:
        parsed.errors += errors
        parsed.valid = False
    return parsed


def unforced_reply(generation: Generation, config: ConfigDict) -> bool | None:
    """Whether a greedy constrained reply is exactly the free one (no intervention); None
    where that says nothing about free decoding (sampled, unconstrained, baselines)."""
    if generation.interventions is None or float(config.sample.temperature) > 0:
        return None
    return generation.interventions == 0 and generation.constraint == "complete"


def evaluate_systems(config: ConfigDict, records: list[Record], *, out_dir: str | Path,
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
    from gentool_jax.train.inference import check_checkpoint

    check_checkpoint(config, checkpoint)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = _run_systems(config, records, names, checkpoint)
    metrics: dict[str, Any] = {}
    run_info: dict[str, Any] = {}
    with atomic_open(out_dir / "generations.jsonl") as handle:
        for run in runs:
            target = reply_format(config, run.name, checkpoint).ranking_target
            parsed = [parsed_reply(g, r, target) for g, r in zip(run.generations, records)]
            metrics[run.name] = compute_metrics(records, parsed, unforced=[
                unforced_reply(g, config) for g in run.generations])
            run_info[run.name] = {"seconds": round(run.seconds, 2), **run.info}
            for record, generation, output in zip(records, run.generations, parsed):
                handle.write(json.dumps({
                    "id": record["id"], "system": run.name, "scenario": record["scenario"],
                    "variant": record["variant"], "fingerprint": run.fingerprint,
                    "prompt_tokens": generation.prompt_tokens,
                    "generated_tokens": generation.generated_tokens, "text": generation.text,
                    "constraint": generation.constraint,
                    "interventions": generation.interventions,
                    "parsed": output.to_dict(),
                }, ensure_ascii=False) + "\n")
    write_reports(metrics, out_dir, info={**(info or {}), "systems": run_info})
    return metrics


def evaluate_command(config: ConfigDict, options: dict[str, str]) -> int:
    """`gentool-jax evaluate [--checkpoint=DIR] [--data=FILE.jsonl] [--out=DIR]`."""
    data = options.get("data", "")
    checkpoint = options.get("checkpoint", "") or None
    out_dir = Path(options.get("out", "") or section_view(RunSettings, config).workdir / "eval")
    if not data:
        check_trained_on_these_splits(config, checkpoint)
    records = load_eval_records(config, data)
    info = {
        "model": section_view(ModelSettings, config.model).name, "checkpoint": checkpoint or "",
        "data": data or str(_data_dir(config)), "records": len(records),
        "tool_style": str(config.data.tool_style),
        "sampling": sampling_fields(config.sample),
    }
    metrics = evaluate_systems(config, records, out_dir=out_dir,
                               systems=section_view(EvaluateConfig, config.evaluate).baselines,
                               checkpoint=checkpoint, info=info)
    print(f"evaluate: wrote {out_dir}/metrics.json, report.md, generations.jsonl and "
          f"{len({s for m in metrics.values() for s in m})} charts")
    for system, scenarios in metrics.items():
        for scenario, variants in scenarios.items():
            row = variants["all"]
            tsa = "–" if row["tsa"] is None else f"{row['tsa']:.3f}"
            print(f"  {system:<12} {scenario:<26} n={row['n']:<4} TSA={tsa}")
    return 0
