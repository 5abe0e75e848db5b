"""`gentool-jax bfcl`: the single-turn, single-call BFCL categories, converted to our records,
answered by the model in our format and scored offline with BFCL's AST rules and our metrics.

The data are the question and answer files inside the Apache-2.0 wheel `bfcl-eval` (pinned
version and sha256; fetched with `pip download --no-deps`, never installed: its dependencies
would replace numpy and pull torch). Files are read straight out of the zip. Generation is the
evaluation's own (`evaluate.command._run_model_system`: the training prompt, the sampler, the
generation cache), so a BFCL number and a scenario number come from the same path.
docs/bfcl.md says what is converted, how it is scored and what an offline rerun cannot do.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from ml_collections import ConfigDict

from gentool_jax.atomic import atomic_open, write_json, write_text
from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.errors import GentoolError
from gentool_jax.evaluate.bfcl_ast import ERROR_KINDS, check_call, irrelevance_verdicts
from gentool_jax.evaluate.generation_cache import sampling_fields
from gentool_jax.evaluate.metrics import compute_metrics
from gentool_jax.evaluate.parser import ParsedOutput
from gentool_jax.model import model_cache
from gentool_jax.model.settings import ModelSettings
from gentool_jax.sample.settings import SampleSettings
from gentool_jax.simulate.records import DEFAULT_TOOL, Record, normalize_tool, validate_record

BFCL_VERSION = "2026.3.23"
WHEEL_REQUIREMENT = f"bfcl-eval=={BFCL_VERSION}"
WHEEL_NAME = f"bfcl_eval-{BFCL_VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "3bb6dfa5f0c68ad403c9ec50b00db2bb3b4cc9b38ab1ff33f48fe30d853d3a0a"
WHEEL_DATA = "bfcl_eval/data/"  # question files here, answer keys under possible_answer/
CATEGORIES = ("simple_python", "multiple", "live_simple", "live_multiple", "irrelevance",
              "live_irrelevance")
IRRELEVANCE = ("irrelevance", "live_irrelevance")
# BFCL parameter types -> JSON Schema; None drops the type (any value).
_TYPES = {"dict": "object", "float": "number", "integer": "integer", "string": "string",
          "boolean": "boolean", "array": "array", "tuple": "array", "any": None}


class BfclDataError(GentoolError):
    """The BFCL wheel cannot be fetched or verified, or a BFCL file is missing or malformed."""


def question_file(category: str) -> str:
    return f"BFCL_v4_{category}.json"


def answer_file(category: str) -> str:
    return f"possible_answer/BFCL_v4_{category}.json"


def download_wheel(downloads: Path) -> Path:
    """The verified bfcl-eval wheel in `downloads`, fetched with pip (no dependencies) if absent
    or corrupt; a failed download or a hash mismatch is a BfclDataError."""
    return model_cache.fetch_pinned_wheel(
        downloads, WHEEL_REQUIREMENT, WHEEL_NAME, WHEEL_SHA256, BfclDataError,
        hint=" (pass --data=DIR with the BFCL files to work offline)")


class BfclSource:
    """BFCL data files in a bfcl-eval wheel (under bfcl_eval/data/) or in a directory laid out
    the same way (BFCL_v4_<category>.json, possible_answer/BFCL_v4_<category>.json)."""

    def __init__(self, path: str | Path, version: str):
        self.path = Path(path)
        self.version = version
        if not (self.path.is_dir() or zipfile.is_zipfile(self.path)):
            raise BfclDataError(f"{self.path}: neither a directory of BFCL files nor a wheel")

    def read_lines(self, name: str) -> list[dict[str, Any]]:
        """The JSON object on each non-blank line of one data file."""
        where = f"{self.path}:{name}"
        try:
            if self.path.is_dir():
                text = (self.path / name).read_text(encoding="utf-8")
            else:
                with zipfile.ZipFile(self.path) as archive:
                    text = archive.read(WHEEL_DATA + name).decode("utf-8")
        except (OSError, KeyError, UnicodeDecodeError) as error:
            raise BfclDataError(f"{where}: cannot read ({error})") from None
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise BfclDataError(f"{where}:{number}: invalid JSON: {error.msg}") from None
            if not isinstance(row, dict):
                raise BfclDataError(f"{where}:{number}: not a JSON object")
            rows.append(row)
        return rows


def open_source(config: ConfigDict, data: str = "") -> BfclSource:
    """`data` (a directory or wheel) if given, else the pinned wheel, downloaded into the
    model cache's downloads/ on first use."""
    if data:
        version = BFCL_VERSION if Path(data).name == WHEEL_NAME else f"local files ({data})"
        return BfclSource(data, version)
    downloads = model_cache.cache_root(section_view(ModelSettings, config.model)) / "downloads"
    return BfclSource(download_wheel(downloads), BFCL_VERSION)


def convert_schema(schema: dict[str, Any], where: str) -> dict[str, Any]:
    """A BFCL parameter schema as JSON Schema: types renamed (`dict` -> object, `float` ->
    number, `tuple` -> array, `any` -> no type), recursively through properties and items;
    BFCL's non-standard `optional` flag is dropped (`required` says the same)."""
    converted = {key: value for key, value in schema.items() if key != "optional"}
    if "type" in schema:
        if schema["type"] not in _TYPES:
            raise BfclDataError(f"{where}: unknown BFCL type {schema['type']!r}")
        converted.pop("type")
        if _TYPES[schema["type"]] is not None:
            converted["type"] = _TYPES[schema["type"]]
    if isinstance(schema.get("properties"), dict):
        converted["properties"] = {name: convert_schema(sub, f"{where}.{name}")
                                   for name, sub in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        converted["items"] = convert_schema(schema["items"], f"{where}[]")
    return converted


def convert_tool(function: dict[str, Any], where: str) -> dict[str, Any]:
    """A BFCL function doc as an OpenAI function schema (DESIGN §2 `tools` entry)."""
    function = normalize_tool(function)
    parameters = convert_schema(function.get("parameters") or {"type": "dict"},
                                f"{where}.{function.get('name')}")
    parameters.setdefault("properties", {})
    return {"name": function.get("name"), "description": function.get("description", ""),
            "parameters": parameters}


def first_acceptable(value: Any) -> Any:
    """The value an answer-key entry stands for when its first choice is taken everywhere:
    in a dict `{key: [choices...]}` each key gets its first choice (left out when that is
    the omission ""); list elements are resolved one by one."""
    if isinstance(value, dict):
        resolved = {}
        for key, choices in value.items():
            choice = choices[0] if isinstance(choices, list) and choices else choices
            if choice != "":
                resolved[key] = first_acceptable(choice)
        return resolved
    if isinstance(value, list):
        return [first_acceptable(item) for item in value]
    return value


def convert_question(question: dict[str, Any], answer: dict[str, Any] | None, category: str,
                     version: str) -> Record:
    """One BFCL question (and its answer key; None for the irrelevance categories) as a
    DESIGN §2 record; see docs/bfcl.md for every field."""
    qid = str(question.get("id", ""))
    turns = question.get("question") or [[]]
    messages = turns[-1] if turns and isinstance(turns[-1], list) else []
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if len(turns) != 1 or not users:
        raise BfclDataError(f"{category}/{qid}: not a single-turn question with a user message")
    tools = [convert_tool(f, f"{category}/{qid}") for f in question.get("function") or []]
    names = [tool["name"] for tool in tools]
    meta: dict[str, Any] = {"source": "bfcl", "bfcl_version": version, "category": category,
                            "context_messages": len(messages) - 1}
    if answer is None:
        call = {"name": DEFAULT_TOOL, "arguments": {}}
        ranking, variant = [DEFAULT_TOOL, *names], "none"
    else:
        truth = answer.get("ground_truth")
        if not (isinstance(truth, list) and len(truth) == 1 and isinstance(truth[0], dict)
                and len(truth[0]) == 1):
            raise BfclDataError(f"{category}/{qid}: the answer key is not a single call")
        (name, params), = truth[0].items()
        acceptable = {arg: [first_acceptable(v) for v in
                            (choices if isinstance(choices, list) else [choices])]
                      for arg, choices in params.items()}
        tool = next((t for t in tools if t["name"] == name), {"parameters": {}})
        required = set(tool["parameters"].get("required", []))
        arguments = {}
        for arg, values in acceptable.items():  # the first choice; a required one is given
            real = [v for v in values if v != ""]
            if arg in required and values:
                arguments[arg] = real[0] if real else ""
            elif values and values[0] != "":
                arguments[arg] = values[0]
        call = {"name": name, "arguments": arguments}
        ranking = [name, DEFAULT_TOOL, *(n for n in names if n != name)]
        variant = "strong"
        meta.update(acceptable_arguments=acceptable, bfcl_answer=truth[0])
    record = {"id": qid, "query": str(users[-1].get("content", "")), "tools": tools,
              "ranking": ranking, "call": call, "variant": variant, "scenario": category,
              "meta": meta}
    try:
        validate_record(record, any_scenario=True)
    except ValueError as error:
        raise BfclDataError(f"{category}/{qid}: converted record is invalid: {error}") from None
    return record


def load_category(source: BfclSource, category: str) -> list[Record]:
    """Every question of a category as a record, in file order."""
    answers: dict[str, dict[str, Any]] = {}
    if category not in IRRELEVANCE:
        answers = {str(row.get("id")): row for row in source.read_lines(answer_file(category))}
    records = []
    for question in source.read_lines(question_file(category)):
        qid = str(question.get("id"))
        if category not in IRRELEVANCE and qid not in answers:
            raise BfclDataError(f"{source.path}:{answer_file(category)}: no answer for {qid}")
        records.append(convert_question(question, answers.get(qid), category, source.version))
    return records


def parse_categories(text: str) -> list[str]:
    """The comma list of `--categories` ("" = all six), refusing an unknown name."""
    chosen = [name.strip() for name in text.split(",") if name.strip()] or list(CATEGORIES)
    unknown = [name for name in chosen if name not in CATEGORIES]
    if unknown:
        raise GentoolError(f"--categories: unknown category {unknown[0]!r} (choose from "
                           f"{', '.join(CATEGORIES)})")
    return list(dict.fromkeys(chosen))


def take(records: list[Record], limit: int, seed: int) -> list[Record]:
    """At most `limit` records (0 = all) in a seeded hash order of their ids, then file order,
    so a small run covers the whole file rather than its first, similar questions."""
    if limit <= 0 or len(records) <= limit:
        return records
    key = lambda r: hashlib.sha256(f"{seed}:{r['id']}".encode()).hexdigest()
    chosen = {r["id"] for r in sorted(records, key=key)[:limit]}
    return [r for r in records if r["id"] in chosen]


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


def _limit(text: str) -> int:
    try:
        limit = int(text or 0)
    except ValueError:
        limit = -1
    if limit < 0:
        raise GentoolError(f"--limit={text}: expected a whole number of questions per category "
                           "(0 = all)")
    return limit


def _fmt(value: Any) -> str:
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
                f"| {category} | {scores['n']} | {_fmt(bfcl)} | "
                f"{_fmt(scores.get('free_score'))} | "
                f"{_fmt(scores.get('irrelevance_strict'))} | {_fmt(ours.get('tsa'))} | "
                f"{_fmt(ours.get('argument_value_accuracy'))} | "
                f"{_fmt(ours.get('call_exact_match'))} | {_fmt(ours.get('format_validity'))} | "
                f"{_fmt(ours.get('free_format_validity'))} | {failures or '–'} |")
        lines.append("")
    if payload.get("probes"):
        from gentool_jax.evaluate.bfcl_probes import render_probes

        lines += render_probes(payload["probes"])
    return "\n".join(lines)


def _probes(records: list[Record], categories: list[str], seed: int) -> list[Record]:
    """`--probes`: the derived probes of the chosen multiple / live_multiple questions."""
    from gentool_jax.evaluate.bfcl_probes import SOURCE_CATEGORIES, derive_probes

    if not set(categories) & set(SOURCE_CATEGORIES):
        raise GentoolError("--probes derives from multiple / live_multiple: add one of them to "
                           "--categories")
    return derive_probes(records, seed)


def _score_probes(records: list[Record], parsed: list[ParsedOutput]) -> dict[str, Any]:
    from gentool_jax.evaluate.bfcl_probes import score_scenario

    return score_scenario(records, parsed)


def _leakage(workdir: Path, options: dict[str, str], loaded: dict[str, list[Record]],
             out_dir: Path) -> dict[str, Any] | None:
    """leakage.md / .json against --train-data or <workdir>/data/train.jsonl when it exists;
    the per-category counts (None when there is no training split)."""
    from gentool_jax.evaluate.bfcl_leakage import write_leakage

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
    .json when a training split exists; `--probes` adds the derived probes, bfcl_probes.py)."""
    from gentool_jax.evaluate.command import (
        _parsed,
        _run_model_system,
        _unforced,
        reply_format,
    )
    from gentool_jax.parallel.mesh import make_mesh
    from gentool_jax.simulate.records import write_records
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
            run = _run_model_system(config, records, system, checkpoint, mesh)
            run_info[system] = {"seconds": round(run.seconds, 2), **run.info}
            target = reply_format(config, system, checkpoint).ranking_target
            parsed = [_parsed(g, r, target) for g, r in zip(run.generations, records)]
            unforced = [_unforced(g, config) for g in run.generations]
            results[system] = {}
            for category in [*categories, *dict.fromkeys(r["scenario"] for r in probes)]:
                index = [i for i, r in enumerate(records) if r["scenario"] == category]
                chosen = [records[i] for i in index], [parsed[i] for i in index]
                scored = (score_category(*chosen, [unforced[i] for i in index])
                          if category in CATEGORIES else _score_probes(*chosen))
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
            print(f"  {system:<12} {category:<18} n={scores['n']:<5} BFCL={_fmt(bfcl)}")
    return 0
