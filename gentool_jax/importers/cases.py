"""Public function-calling data -> GenTool records: the part shared by the xLAM and ShareGPT
readers (`xlam.py`, `sharegpt.py`).

A reader turns each usable line into a `Case`: one query, the gold tool, the gold arguments and
the line's other offered tools (converted and checked by `tools.py`). `build_splits`
then does what the simulator does for its own world (docs/simulator.md, "Importing public
function-calling data"):

1. splits before any sample is built: whole gold tools (joined with every tool that shares a
   name or description with them) are held out as `seen_query_unseen_tool`, other cases of
   tools with several cases go to `seen_query_seen_tool` and `validation`, the rest trains;
   held-out tools are removed from every other split's toolsets;
2. a weak copy of each gold tool along one GenTool axis (`weaken.py`), named and described
   apart from every tool of the file;
3. distractors: the line's other tools first, then the file's tools most similar to the gold
   tool (BM25 over name + description, as `toolsets.DistractorPicker`), skipping those that
   may do the same job (`_too_close`: a shared content word of the name, or description
   Jaccard >= 0.5), since public data have no capability labels to tell;
4. the four toolset variants with ranking and calls, by the pair importer's own builder
   (`pair_records.pair_records`), every record validated, then the leakage check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gentool_jax.errors import RecordError
from gentool_jax.importers.pair_records import pair_records
from gentool_jax.importers.tools import LineError
from gentool_jax.importers.weaken import AXES, WeakCopy, choose_axis, name_words, weaken
from gentool_jax.records import Record, json_lines, validate_record
from gentool_jax.simulate.leakage import check_leakage
from gentool_jax.simulate.similarity import BM25Index, tokenize
from gentool_jax.simulate.simulation import SPLITS

UNSEEN_TOOL = "seen_query_unseen_tool"
SEEN_TOOL = "seen_query_seen_tool"


@dataclass
class Case:
    """One single-call example of a public dataset."""

    id: str
    query: str
    gold: dict[str, Any]
    arguments: dict[str, Any]
    others: list[dict[str, Any]]
    line: int
    source: str
    context_messages: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


def fail(path: Path, line: int, reason: str) -> RecordError:
    return RecordError(str(path), line, reason)


def read_cases(path: str | Path, kind: str,
               case_of: Callable[[dict, int], Case | str]) -> ReadResult:
    """The single-call cases of a `kind` file (`case_of(row, line)` -> a case, or the reason a
    line is skipped), and the skipped lines by reason; any bad line is a RecordError."""
    path = Path(path)
    cases, skipped = [], {}
    for line_number, row in json_lines(path):
        if not isinstance(row, dict):
            raise fail(path, line_number, f"an {kind} line must be a JSON object")
        try:
            case = case_of(row, line_number)
        except LineError as error:
            raise fail(path, line_number, str(error)) from None
        if isinstance(case, str):
            skipped[case] = skipped.get(case, 0) + 1
        else:
            cases.append(case)
    return ReadResult(cases, skipped)


def _hash(*parts: Any) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def _tool_key(tool: dict[str, Any]) -> str:
    return json.dumps(tool, sort_keys=True, ensure_ascii=False)


def _held_out_units(cases: list[Case]) -> list[list[int]]:
    """Cases grouped by gold tool, groups joined when they share a tool name or description
    (union-find), so a held-out unit never shares either with a training gold tool."""
    parent = list(range(len(cases)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}
    for i, case in enumerate(cases):
        for key in (("name", case.gold["name"]), ("description", case.gold["description"])):
            if not key[1].strip():
                continue  # a blank description says nothing about sameness
            if key in first:
                parent[find(i)] = find(first[key])
            else:
                first[key] = i
    units: dict[int, list[int]] = {}
    for i in range(len(cases)):
        units.setdefault(find(i), []).append(i)
    return list(units.values())


def assign_splits(cases: list[Case], test_cases: int, validation_fraction: float, seed: int
                  ) -> list[str]:
    """The split of every case (see the module docstring): a test scenario gets about
    `test_cases` cases, capped at a tenth of the file (the held-out tools may overshoot to a
    fifth, at most twice that, since they go whole)."""
    quota = min(int(test_cases), len(cases) // 10)
    splits = ["train"] * len(cases)
    units = sorted(_held_out_units(cases),
                   key=lambda unit: _hash(seed, "heldout", cases[unit[0]].gold["name"]))
    taken, cap = 0, min(2 * quota, len(cases) // 5)  # a unit may overshoot the quota a little
    for unit in units:
        if taken >= quota:
            break
        if taken + len(unit) > cap or any(not cases[i].gold["description"].strip()
                                            for i in unit):
            continue  # too big, or a blank description the leakage check could not tell apart
        for i in unit:
            splits[i] = UNSEEN_TOOL
        taken += len(unit)
    # Seen-tool test and validation cases keep at least two thirds of a tool's cases training.
    by_tool: dict[str, list[int]] = {}
    for i, case in enumerate(cases):
        if splits[i] == "train":
            by_tool.setdefault(case.gold["name"], []).append(i)
    order = sorted((i for members in by_tool.values() if len(members) >= 2 for i in members),
                   key=lambda i: _hash(seed, "seen", cases[i].id, i))
    lent = {name: 0 for name in by_tool}
    quotas = {SEEN_TOOL: quota, "validation": int(round(validation_fraction * len(cases)))}
    for split in (SEEN_TOOL, "validation"):
        for i in order:
            if quotas[split] <= 0:
                break
            name = cases[i].gold["name"]
            if splits[i] == "train" and lent[name] < max(1, len(by_tool[name]) // 3):
                splits[i] = split
                lent[name] += 1
                quotas[split] -= 1
    return splits


def _weak_copies(cases: list[Case], seed: int, names: set[str], descriptions: set[str]
                 ) -> dict[str, WeakCopy]:
    """One weak copy per distinct gold tool, named and described apart from every tool."""
    copies: dict[str, WeakCopy] = {}
    for case in cases:
        key = _tool_key(case.gold)
        if key in copies:
            continue
        start = AXES.index(choose_axis(f"{seed}:{case.gold['name']}", case.gold))
        for offset in range(len(AXES)):
            axis = AXES[(start + offset) % len(AXES)]
            try:
                weak = weaken(case.gold, axis, names)
            except ValueError:
                continue
            if axis != "description" or weak.tool["description"] not in descriptions:
                break
        names.add(weak.tool["name"])
        descriptions.add(weak.tool["description"])
        copies[key] = weak
    return copies


# Name words that say nothing about what a tool is for (they may be shared by distractors).
_GENERIC = frozenset((
    "get", "set", "list", "search", "find", "fetch", "retrieve", "lookup", "query", "create",
    "add", "update", "delete", "remove", "calculate", "calc", "compute", "check", "make", "run",
    "api", "info", "data", "details", "tool", "service", "by", "for", "of", "and", "the", "to",
    "from", "all", "new", "v1", "v2", "v3", "helper", "lite"))


def _content_words(name: str) -> set[str]:
    return {w for w in name_words(name) if len(w) > 2 and w not in _GENERIC}


def _too_close(tool: dict[str, Any], gold: dict[str, Any]) -> bool:
    """A tool of another line that may well do what the gold tool does (public data carry no
    capability labels): it shares a content word of the name (`calculate_derivative` for
    `calculus.derivative`) or half its description words. Never a pool distractor."""
    if _content_words(tool["name"]) & _content_words(gold["name"]):
        return True
    a, b = set(tokenize(tool["description"])), set(tokenize(gold["description"]))
    return bool(a | b) and len(a & b) >= 0.5 * len(a | b)


def _allowed(tool: dict[str, Any], gold: dict[str, Any], taken: set[str],
             held: tuple[set[str], set[str]]) -> bool:
    """Whether `tool` may be a distractor of a case with this gold tool: not taken yet, not
    the gold under another spelling or with the same description (most likely the same tool),
    not a held-out name or description (`held` is empty for the held-out cases themselves)."""
    if tool["name"] in taken or name_words(tool["name"]) == name_words(gold["name"]):
        return False
    if tool["description"].strip() and tool["description"] == gold["description"]:
        return False
    return tool["name"] not in held[0] and tool["description"] not in held[1]


def build_splits(path: Path, cases: list[Case], toolset_size: int, seed: int,
                 test_cases: int = 400, validation_fraction: float = 0.05
                 ) -> dict[str, list[Record]]:
    """Records of every split (SPLITS keys) from the cases, leakage-checked."""
    splits_of = assign_splits(cases, test_cases, validation_fraction, seed)
    train_queries = {c.query for c, s in zip(cases, splits_of) if s == "train"}
    kept: list[tuple[Case, str]] = []
    for case, split in zip(cases, splits_of):
        if split != "train" and case.query in train_queries:
            if split == UNSEEN_TOOL:
                continue  # its query is a training query: leave it out
            split = "train"
        kept.append((case, split))
    held_names = {c.gold["name"] for c, s in kept if s == UNSEEN_TOOL}
    held_descriptions = {c.gold["description"] for c, s in kept if s == UNSEEN_TOOL}
    pool: dict[str, dict[str, Any]] = {}
    for case in cases:
        for tool in (case.gold, *case.others):
            pool.setdefault(tool["name"], tool)
    pool_tools = list(pool.values())
    index = BM25Index([f"{t['name']} {t['description']}" for t in pool_tools])
    copies = _weak_copies([c for c, _ in kept], seed, set(pool),
                          {t["description"] for t in pool_tools})
    held_names |= {copies[_tool_key(c.gold)].tool["name"] for c, s in kept if s == UNSEEN_TOOL}
    orders: dict[str, np.ndarray] = {}
    splits: dict[str, list[Record]] = {name: [] for name in SPLITS}
    for case, split in kept:
        weak = copies[_tool_key(case.gold)]
        taken = {case.gold["name"], weak.tool["name"]}
        held = (set(), set()) if split == UNSEEN_TOOL else (held_names, held_descriptions)
        distractors = []
        for tool in case.others:
            if len(distractors) < toolset_size and _allowed(tool, case.gold, taken, held):
                distractors.append(tool)
                taken.add(tool["name"])
        if len(distractors) < toolset_size:
            if case.gold["name"] not in orders:
                scores = index.scores(f"{case.gold['name']} {case.gold['description']}")
                orders[case.gold["name"]] = np.argsort(-scores, kind="stable")
            for i in orders[case.gold["name"]]:
                tool = pool_tools[i]
                if _allowed(tool, case.gold, taken, held) and not _too_close(tool, case.gold):
                    distractors.append(tool)
                    taken.add(tool["name"])
                    if len(distractors) == toolset_size:
                        break
        if len(distractors) < toolset_size:
            raise fail(path, case.line, f"only {len(distractors)} distractor tools available, "
                       f"need {toolset_size}: the file has too few distinct tools")
        pair = {"id": case.id, "query": case.query, "strong_tool": case.gold,
                "weak_tool": weak.tool, "strong_arguments": case.arguments,
                "weak_arguments": weak.arguments(case.arguments), "scenario": split,
                "domain": "imported"}
        for record in pair_records(pair, case.line, distractors, seed):
            record["meta"].update(weak_flavour=weak.axis, weak_axis=weak.axis,
                                  source=case.source, source_line=case.line,
                                  context_messages=case.context_messages, **case.meta)
            try:
                validate_record(record)
            except ValueError as error:
                raise fail(path, case.line, f"built record is invalid: {error}") from None
            splits[split].append(record)
    check_leakage(splits)
    return splits


@dataclass
class ReadResult:
    """What a reader kept and what it skipped (by reason)."""

    cases: list[Case]
    skipped: dict[str, int]

    def summary(self, path: Path, fmt: str) -> str:
        skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(self.skipped.items()))
        return (f"simulate: {fmt} import of {path}: {len(self.cases)} single-call cases kept"
                + (f"; skipped {skipped}" if skipped else ""))
