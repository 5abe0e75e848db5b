"""`simulate --teacher=SEEDS`: GenTool's three generation stages with a teacher LLM.

The paper had GPT-4o write weak tools, queries and arguments; this runs the same stages
against any OpenAI-compatible endpoint, starting from the user's single-tool cases:
  A. for each seed (query, strong tool), a weak tool, weaker along one of the four axes;
  B. `queries_per_pair` new queries per (strong, weak) pair;
  C. the arguments of each query's call with each of the two tools.
The result is written as pair records and goes through the importer
(`importers.formats.import_file`): the same variant builder, distractors and leakage check as
any imported data. Splits are decided here, before stage B, in the offline world's way
(`simulate.pairs.assign_seen_splits` for the seen pairs), because a query's split decides how
the teacher is asked to word it.
"""

from __future__ import annotations

import math
import os
import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from tqdm import tqdm

from gentool_jax.atomic import write_json
from gentool_jax.config_view import section_view
from gentool_jax.errors import GentoolError, RecordError
from gentool_jax.records import field_problem, json_lines, write_records
from gentool_jax.simulate.pairs import assign_seen_splits
from gentool_jax.teacher.client import ClientSettings, TeacherClient
from gentool_jax.teacher.prompts import (
    AXES,
    InvalidOutput,
    arguments_messages,
    check_tool,
    parse_arguments,
    parse_queries,
    parse_weak_tool,
    queries_messages,
    retry_messages,
    weak_tool_messages,
)

SEED_FIELDS = {"id", "query", "tool", "domain"}
PAIRS_FILE = "teacher_pairs.jsonl"
STATS_FILE = "teacher_stats.json"
_HELD_OUT_WORDING = ("unseen_query_seen_tool", "unseen_query_unseen_tool")
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class TeacherConfig:
    """The `config.simulate.teacher` fields a run reads, typed (`config_view.section_view`)."""

    base_url: str
    model: str
    api_key_env: str
    temperature: float
    max_tokens: int
    queries_per_pair: int
    max_retries: int
    output_retries: int
    timeout_s: float
    concurrency: int

    def client_settings(self) -> ClientSettings:
        return ClientSettings(self.base_url, self.model, self.temperature, self.timeout_s,
                              self.max_retries, self.max_tokens)


@dataclass
class Seed:
    id: str
    line: int
    query: str
    tool: dict
    domain: str


@dataclass
class TeacherPair:
    seed: Seed
    axis: str
    weak: dict
    splits: list[str] = field(default_factory=list)  # scenario label of each query


def check_teacher_config(teacher) -> None:
    """One-line error for an endpoint that is not configured, before any request."""
    missing = [name for name in ("base_url", "model") if not str(teacher[name]).strip()]
    if missing:
        raise GentoolError(
            "simulate --teacher needs " + " and ".join(f"config.simulate.teacher.{m}"
                                                       for m in missing)
            + " (for example --config.simulate.teacher.base_url=https://api.openai.com/v1 "
              "--config.simulate.teacher.model=gpt-4o)")


def read_seeds(path: str | Path) -> list[Seed]:
    """The seed cases of a JSONL file; a bad line raises RecordError(file, line, field)."""
    seeds: list[Seed] = []
    first: dict[tuple[str, str], int] = {}  # (field, value) -> line, for duplicate tools
    for line_number, value in json_lines(path):
        seed = _parse_seed(path, line_number, value)
        for what in ("name", "description"):
            key = (what, seed.tool[what])
            if key in first:
                raise RecordError(str(path), line_number,
                                  f"tool.{what} is also the tool {what} on line {first[key]}: "
                                  "one seed per tool (stage B writes its queries)")
            first[key] = line_number
        seeds.append(seed)
    if not seeds:
        raise RecordError(str(path), 0, "no seed cases")
    return seeds


def _parse_seed(path: str | Path, line_number: int, seed: Any) -> Seed:
    def fail(reason: str) -> RecordError:
        return RecordError(str(path), line_number, reason)

    if not isinstance(seed, dict):
        raise fail("a seed must be a JSON object with 'query' and 'tool'")
    problem = field_problem(seed, SEED_FIELDS, ("query", "tool"), "a seed")
    if problem:
        raise fail(problem)
    if not isinstance(seed["query"], str) or not seed["query"].strip():
        raise fail("field 'query' must be a non-empty string")
    for name in ("id", "domain"):
        if name in seed and (not isinstance(seed[name], str) or not seed[name].strip()):
            raise fail(f"field '{name}' must be a non-empty string")
    try:
        tool = check_tool(seed["tool"], "tool")
    except ValueError as error:
        raise fail(str(error)) from None
    seed_id = seed.get("id") or f"seed-{line_number:05d}"
    return Seed(seed_id, line_number, seed["query"].strip(), tool, seed.get("domain") or seed_id)


class TeacherRun:
    """Stages A-C over the seeds, with per-stage counts of invalid and skipped outputs."""

    def __init__(self, config, client: TeacherClient):
        self.config = config
        self.teacher = section_view(TeacherConfig, config.simulate.teacher)
        self.client = client
        self.invalid: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _ask(self, stage: str, messages, parse: Callable[[str], T]) -> T | None:
        """`parse(reply)`, asking again with the reason on an invalid reply (bounded);
        None (counted as skipped) when every try was invalid."""
        for _ in range(self.teacher.output_retries + 1):
            reply = self.client.complete(messages)
            try:
                return parse(reply)
            except InvalidOutput as error:
                with self._lock:
                    self.invalid[stage] += 1
                messages = retry_messages(messages, reply, error)
        with self._lock:
            self.skipped[stage] += 1
        return None

    def weak_tools(self, seeds: list[Seed]) -> list[TeacherPair]:
        """Stage A: a weak tool per seed; the axis is drawn per seed from the run's seed."""
        taken = {seed.tool["name"] for seed in seeds}

        def one(seed: Seed) -> TeacherPair | None:
            axis = random.Random(f"{self.config.seed}:teacher-axis:{seed.id}").choice(
                sorted(AXES))
            weak = self._ask("weak_tool", weak_tool_messages(seed.query, seed.tool, axis),
                             lambda reply: parse_weak_tool(reply, seed.tool, axis, taken))
            return None if weak is None else TeacherPair(seed, axis, weak)

        pairs = [p for p in _parallel(one, seeds, self.teacher.concurrency, "teacher: weak tools")
                 if p is not None]
        # Two pairs with one weak name or description would break the leakage check's
        # premise (a tool is identified by them): the later pair goes.
        kept: list[TeacherPair] = []
        weak_names, descriptions = set(), {seed.tool["description"] for seed in seeds}
        for pair in pairs:
            if pair.weak["name"] in weak_names or pair.weak["description"] in descriptions:
                self.skipped["duplicate_weak_tool"] += 1
                continue
            weak_names.add(pair.weak["name"])
            descriptions.add(pair.weak["description"])
            kept.append(pair)
        return kept

    def records(self, pair: TeacherPair) -> list[dict]:
        """Stages B and C for one pair: its pair records (queries the teacher failed on are
        skipped)."""
        seed, qpp = pair.seed, len(pair.splits)
        wordings = ["indirect" if split in _HELD_OUT_WORDING else "direct"
                    for split in pair.splits]
        avoid = {seed.query}
        texts: dict[str, list[str]] = {}
        for wording in ("direct", "indirect"):
            count = wordings.count(wording)
            if count:
                queries = self._ask("queries", queries_messages(
                    seed.tool, pair.weak, seed.query, count, wording),
                    lambda reply, c=count, a=set(avoid): parse_queries(reply, c, a))
                if queries is None:
                    return []
                texts[wording] = queries
                avoid |= set(queries)
        out = []
        for k in range(qpp):
            query = texts[wordings[k]].pop(0)
            arguments = {}
            for role, tool in (("strong", seed.tool), ("weak", pair.weak)):
                arguments[role] = self._ask(
                    "arguments", arguments_messages(query, tool),
                    lambda reply, t=tool: parse_arguments(reply, t))
                if arguments[role] is None:
                    break
            else:
                out.append({"id": f"{seed.id}-q{k:02d}", "query": query,
                            "strong_tool": seed.tool, "weak_tool": pair.weak,
                            "strong_arguments": arguments["strong"],
                            "weak_arguments": arguments["weak"], "better": "strong",
                            "weak_usefulness": "partial", "scenario": pair.splits[k],
                            "domain": seed.domain, "template_id": f"teacher-{wordings[k]}"})
        return out


def assign_splits(pairs: list[TeacherPair], sim, queries_per_pair: int, seed: int) -> None:
    """Scenario labels of every pair's queries, the offline world's way (docs/simulator.md):
    whole domains held out for unseen_query_unseen_tool, whole pairs of the other domains for
    seen_query_unseen_tool (each about `test_queries_per_scenario` queries), and the seen
    pairs give a few queries each to the seen-tool scenarios and validation."""
    per_test = math.ceil(sim.test_queries_per_scenario / queries_per_pair)
    if len(pairs) < 3 * per_test:
        raise GentoolError(
            f"the teacher made {len(pairs)} tool pairs, too few for "
            f"simulate.test_queries_per_scenario={sim.test_queries_per_scenario} with "
            f"{queries_per_pair} queries a pair: need at least {3 * per_test} (add seeds or "
            "lower test_queries_per_scenario)")
    rng = random.Random(f"{seed}:teacher-roles")
    domains = sorted({pair.seed.domain for pair in pairs})
    rng.shuffle(domains)
    held: set[str] = set()
    for domain in domains:
        if sum(pair.seed.domain in held for pair in pairs) >= per_test:
            break
        held.add(domain)
    seen = [pair for pair in pairs if pair.seed.domain not in held]
    if len(seen) < 2 * per_test:
        raise GentoolError(f"holding out whole domains for unseen_query_unseen_tool leaves "
                           f"{len(seen)} tool pairs; give the seeds more distinct 'domain's")
    order = list(range(len(seen)))
    rng.shuffle(order)
    unseen_tool = {seen[i].seed.id for i in order[:per_test]}
    for pair in pairs:
        if pair.seed.domain in held:
            pair.splits = ["unseen_query_unseen_tool"] * queries_per_pair
        elif pair.seed.id in unseen_tool:
            pair.splits = ["seen_query_unseen_tool"] * queries_per_pair
    rest = [pair for pair in seen if pair.seed.id not in unseen_tool]
    assign_seen_splits(rest, SimpleNamespace(
        queries_per_pair=queries_per_pair, validation_fraction=sim.validation_fraction,
        test_queries_per_scenario=sim.test_queries_per_scenario), seed)


def teacher_pairs(config, seeds_path: str | Path, out: Path, cache_dir: Path) -> Path:
    """Run stages A-C into `<out>/teacher_pairs.jsonl` (and `teacher_stats.json`)."""
    check_teacher_config(config.simulate.teacher)
    teacher = section_view(TeacherConfig, config.simulate.teacher)
    seeds = read_seeds(seeds_path)
    client = TeacherClient(teacher.client_settings(), os.environ.get(teacher.api_key_env, ""),
                           cache_dir)
    run = TeacherRun(config, client)
    stats: dict[str, Any] = {"seeds": len(seeds)}
    try:
        pairs = run.weak_tools(seeds)
        if not pairs:
            raise GentoolError("the teacher gave no valid weak tool for any seed (its invalid "
                               f"replies are counted in {out / STATS_FILE})")
        assign_splits(pairs, config.simulate, teacher.queries_per_pair, config.seed)
        per_pair = _parallel(run.records, pairs, teacher.concurrency,
                             "teacher: queries + arguments")
        records, texts = [], set()
        for pair_records in per_pair:
            for record in pair_records:
                if record["query"] in texts:  # a test query must never be a training one
                    run.skipped["duplicate_query"] += 1
                    continue
                texts.add(record["query"])
                records.append(record)
        stats.update(pairs=len({r["strong_tool"]["name"] for r in records}),
                     queries=len(records))
    finally:
        stats.update(client.stats.as_dict(), invalid_outputs=dict(sorted(run.invalid.items())),
                     skipped=dict(sorted(run.skipped.items())))
        write_json(out / STATS_FILE, stats)
        _report(stats, out / STATS_FILE)
    if not records:
        raise GentoolError("the teacher's replies gave no valid pair records "
                           f"({_counts(stats)}); see {out / STATS_FILE}")
    path = out / PAIRS_FILE
    write_records(path, records)
    return path


def _counts(stats: dict[str, Any]) -> str:
    invalid = sum(stats["invalid_outputs"].values())
    skipped = ", ".join(f"{k}={v}" for k, v in stats["skipped"].items()) or "none"
    return f"{invalid} invalid outputs, skipped: {skipped}"


def _report(stats: dict[str, Any], path: Path) -> None:
    print(f"teacher: {stats['requests']} requests ({stats['retries']} retries), "
          f"{stats['cache_hits']} cache hits, {stats['prompt_tokens']} prompt + "
          f"{stats['completion_tokens']} completion tokens; {_counts(stats)} -> {path}")


def _parallel(fn: Callable[[T], R], items: Sequence[T], workers: int, desc: str) -> list[R]:
    """`[fn(item) for item in items]` on `workers` threads (the teacher's concurrency limit),
    in the items' order whatever order they finish in, so the output is deterministic."""
    results: list[Any] = [None] * len(items)
    with ThreadPoolExecutor(max_workers=workers) as pool, \
            tqdm(total=len(items), desc=desc, unit="item") as bar:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update(1)
    return results
