"""Pair records -> GenTool records: one query with a strong and a weak tool and the call for
each becomes its four toolset variants, exactly as the simulator builds them (docs/simulator.md,
"Pair import format"). Every bad line is reported as `file:line: reason`.

`pair_records` is the variant builder every import shares: pair files, the xLAM and ShareGPT
cases (`cases.build_splits`) and the teacher's pairs (written as a pair file).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gentool_jax.errors import RecordError
from gentool_jax.records import (
    DEFAULT_TOOL,
    SCENARIOS,
    TRAIN_SCENARIOS,
    VARIANTS,
    Record,
    argument_errors,
    field_problem,
    json_lines,
    normalize_tool,
    validate_record,
    validate_tool,
)
from gentool_jax.simulate.leakage import UNSEEN_TOOL_SCENARIOS
from gentool_jax.simulate.similarity import BM25Index

PAIR_FIELDS = {"id", "query", "strong_tool", "weak_tool", "strong_arguments", "weak_arguments",
               "better", "weak_usefulness", "scenario", "domain", "intent", "template_id",
               "distractors"}


def _parse_pair(path: Path, line_number: int, pair: Any) -> dict:
    def fail(reason: str) -> RecordError:
        return RecordError(str(path), line_number, reason)

    if not isinstance(pair, dict):
        raise fail("pair record must be a JSON object")
    problem = field_problem(pair, PAIR_FIELDS, ("query", "strong_tool", "weak_tool",
                                                 "strong_arguments", "weak_arguments"),
                            "a pair record")
    if problem:
        raise fail(problem)
    if not isinstance(pair["query"], str) or not pair["query"].strip():
        raise fail("field 'query' must be a non-empty string")
    pair["strong_tool"] = normalize_tool(pair["strong_tool"])
    pair["weak_tool"] = normalize_tool(pair["weak_tool"])
    if not isinstance(pair.get("distractors", []), list):
        raise fail("field 'distractors' must be a list of tools")
    pair["distractors"] = [normalize_tool(tool) for tool in pair.get("distractors", [])]
    try:
        for role in ("strong", "weak"):
            validate_tool(pair[f"{role}_tool"], f"{role}_tool")
        for i, tool in enumerate(pair.get("distractors", [])):
            validate_tool(tool, f"distractors[{i}]")
    except ValueError as error:
        raise fail(str(error)) from None
    for role in ("strong", "weak"):
        tool, args = pair[f"{role}_tool"], pair[f"{role}_arguments"]
        if not isinstance(args, dict):
            raise fail(f"field '{role}_arguments' must be an object")
        problems = argument_errors(tool, args).messages
        if problems:
            raise fail(f"{role}_arguments: {problems[0]}")
    if pair["strong_tool"]["name"] == pair["weak_tool"]["name"]:
        raise fail("strong_tool and weak_tool have the same name")
    if pair.get("better", "strong") not in ("strong", "weak"):
        raise fail("field 'better' must be 'strong' or 'weak'")
    if pair.get("weak_usefulness", "partial") not in ("partial", "full"):
        raise fail("field 'weak_usefulness' must be 'partial' or 'full'")
    if pair.get("better") == "weak" and pair.get("weak_usefulness") != "full":
        raise fail("'better': 'weak' needs 'weak_usefulness': 'full' (both tools solve it)")
    if pair.get("scenario", "train") not in SCENARIOS + TRAIN_SCENARIOS:
        raise fail(f"unknown scenario '{pair.get('scenario')}'")
    return pair


def records_from_pairs(path: Path, toolset_size: int, seed: int) -> list[Record]:
    """The records of every pair of a pair file, with distractors from the pair's own list, then
    the most similar tools of the other pairs."""
    pairs = [(line_number, _parse_pair(path, line_number, value))
             for line_number, value in json_lines(path)]
    pool = [(p, tool) for p, (_, pair) in enumerate(pairs)
            for tool in (pair["strong_tool"], pair["weak_tool"])]
    index = BM25Index([f"{tool['name']} {tool['description']}" for _, tool in pool])
    records = []
    for p, (line_number, pair) in enumerate(pairs):
        own = {pair["strong_tool"]["name"], pair["weak_tool"]["name"]}
        distractors = [t for t in pair.get("distractors", []) if t["name"] not in own]
        if len(distractors) < toolset_size:
            distractors += _similar(index, pool, pairs, p, own, distractors, toolset_size)
        if len(distractors) < toolset_size:
            raise RecordError(str(path), line_number,
                              f"only {len(distractors)} distractor tools available, need "
                              f"{toolset_size}: add more pairs or a 'distractors' list")
        for record in pair_records(pair, line_number, distractors[:toolset_size], seed):
            try:
                validate_record(record)
            except ValueError as error:
                raise RecordError(str(path), line_number, str(error)) from None
            records.append(record)
    return records


def _similar(index, pool, pairs, p, own, chosen, size) -> list[dict]:
    """Most similar tools of other pairs; unseen-tool pairs lend tools only to their own kind."""
    scenario = pairs[p][1].get("scenario", "train")
    taken = own | {t["name"] for t in chosen}
    out = []
    scores = index.scores(f"{pairs[p][1]['strong_tool']['name']} "
                          f"{pairs[p][1]['strong_tool']['description']}")
    for i in np.argsort(-scores, kind="stable"):
        owner, tool = pool[i]
        other = pairs[owner][1].get("scenario", "train")
        if owner == p or tool["name"] in taken:
            continue
        if other in UNSEEN_TOOL_SCENARIOS and other != scenario:
            continue
        out.append(tool)
        taken.add(tool["name"])
        if len(chosen) + len(out) == size:
            break
    return out


def pair_records(pair: dict, line_number: int, distractors: list[dict], seed: int
                 ) -> Iterator[Record]:
    """The four toolset variants of one checked pair; their presentation order is seeded by the
    query id, so the same pair file always imports to the same records."""
    strong, weak = pair["strong_tool"], pair["weak_tool"]
    query_id = str(pair.get("id") or f"pair-{line_number:05d}")
    better, other = (weak, strong) if pair.get("better") == "weak" else (strong, weak)
    args = {strong["name"]: pair["strong_arguments"], weak["name"]: pair["weak_arguments"]}
    meta = {"domain": pair.get("domain", "imported"), "pair_id": query_id, "query_id": query_id,
            "strong_tool": strong["name"], "weak_tool": weak["name"],
            "better_tool": better["name"], "intent": pair.get("intent", ""),
            "template_id": pair.get("template_id", ""), "weak_flavour": "imported",
            "both_full": pair.get("weak_usefulness") == "full", "calls": args}
    relevant = {"none": [], "weak": [weak], "strong": [strong], "both": [strong, weak]}
    for variant in VARIANTS:
        tools = relevant[variant] + distractors[: len(distractors) - len(relevant[variant])]
        random.Random(f"{seed}:present:{query_id}:{variant}").shuffle(tools)
        useful = [t["name"] for t in (better, other) if t in relevant[variant]]
        ranking = useful + [DEFAULT_TOOL] + [t["name"] for t in tools if t["name"] not in useful]
        top = ranking[0]
        yield {"id": f"{query_id}-{variant}", "query": pair["query"], "tools": tools,
               "ranking": ranking,
               "call": {"name": top, "arguments": args.get(top, {})},
               "variant": variant, "scenario": pair.get("scenario", "train"),
               "meta": dict(meta)}
