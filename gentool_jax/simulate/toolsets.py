"""Toolset variants of a query (none / weak / strong / both) with gold ranking and call.

Irrelevant tools are the ones most similar to the pair's strong tool (BM25 over name +
description), so a model cannot pick the relevant tool by topic alone; relevant tools replace
the least similar of them so the toolset size stays fixed (DESIGN §2).

Distractors are drawn once per (pair, scenario), irrelevant to every capability of the pair,
and each (pair, scenario, variant) has one presentation order. All queries of a pair in one
split and variant therefore see the same toolset, which training rows and the sampler share
as one prefix (DESIGN §3): the paper's method picks distractors by similarity to the tool,
not to the query, so this costs nothing in fidelity.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Protocol

import numpy as np

from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, VARIANTS, Record
from gentool_jax.simulate.pairs import SEEN, UNSEEN_DOMAIN, UNSEEN_TOOL, Pair
from gentool_jax.simulate.queries import Query
from gentool_jax.simulate.similarity import BM25Index
from gentool_jax.simulate.tools import Tool, gold_arguments, usefulness

# Which pairs' tools may serve as distractors in a scenario: unseen tools never enter the
# pools of training or seen-tool scenarios, so they cannot leak into a training toolset.
_POOL_ROLES = {"seen_query_unseen_tool": (SEEN, UNSEEN_TOOL),
               "unseen_query_unseen_tool": (SEEN, UNSEEN_DOMAIN)}


def rank_tools(tools: list[Tool], query_caps: tuple[str, ...]) -> list[str]:
    """DESIGN §2 ranking: full (focused first), partial, generate_response, irrelevant in order."""
    levels = [usefulness(tool, query_caps) for tool in tools]
    useful = [(0 if level == "full" else 1, len(tool.caps) if level == "full" else 0, i)
              for i, (tool, level) in enumerate(zip(tools, levels)) if level != "none"]
    ordered = [tools[i].name for _, _, i in sorted(useful)]
    return ordered + [DEFAULT_TOOL] + [t.name for t, lv in zip(tools, levels) if lv == "none"]


DISTRACTOR_RULES = ("capability", "visible")
VAGUE_FLAVOURS = ("generic", "coarse")


class DistractorPicker:
    """Most-similar irrelevant tools for each pair, restricted to the scenario's pool.

    `rule="capability"` (the paper's) keeps any tool that shares no capability with the pair.
    `rule="visible"` also skips another pair's vague weak tool (generic or coarse) of the same
    domain: its text ("Free-form restaurant tool.") claims the whole domain, so a reader cannot
    tell it from the pair's own vague weak tool, yet the capability rule labels one gold and
    the other irrelevant (18% of the paper-faithful training records offer such a tool;
    `benchmarks/domain_oracle.py`)."""

    def __init__(self, pairs: list[Pair], rule: str = "capability"):
        if rule not in DISTRACTOR_RULES:
            raise GentoolError(f"simulate.distractors must be one of "
                               f"{', '.join(DISTRACTOR_RULES)}, got {rule!r}")
        self.tools: list[Tool] = []
        self.owner: list[int] = []
        self.vague: list[bool] = []
        for p, pair in enumerate(pairs):
            self.tools += [pair.strong, pair.weak]
            self.owner += [p, p]
            self.vague += [False, pair.flavour in VAGUE_FLAVOURS]
        self.roles = np.array([pairs[p].role for p in self.owner])
        self.index = BM25Index([tool.document for tool in self.tools])
        self.pairs = pairs
        self.rule = rule

    def order(self, p: int) -> np.ndarray:
        """Tool indices by decreasing similarity to pair p's strong tool (stable ties)."""
        scores = self.index.scores(self.pairs[p].strong.document)
        return np.argsort(-scores, kind="stable")

    def pick(self, order: np.ndarray, p: int, scenario: str, count: int) -> list[Tool]:
        """The `count` tools most similar to pair p's strong tool that serve none of the
        pair's capabilities, so they are irrelevant to every query of the pair."""
        allowed = _POOL_ROLES.get(scenario, (SEEN,))
        pair = self.pairs[p]
        caps = set(pair.strong.caps) | set(pair.weak.caps)
        out: list[Tool] = []
        for i in order:
            if len(out) >= count:
                break
            if self.owner[i] == p or self.roles[i] not in allowed:
                continue
            tool = self.tools[i]
            if caps & set(tool.caps):
                continue  # it would be relevant to some query of the pair
            if (self.rule == "visible" and self.vague[i]
                    and self.pairs[self.owner[i]].domain == pair.domain):
                continue  # its text claims the pair's whole domain
            out.append(tool)
        return out


def query_records(pair: Pair, k: int, query: Query, scenario: str, distractors: list[Tool],
                  seed: int) -> Iterator[Record]:
    """The four toolset variants of one query, each with `len(distractors)` tools: relevant
    tools replace the last distractors, except that `both` always holds its two tools (a
    one-tool toolset's `both` variant has two)."""
    query_id = f"{pair.id}-q{k:02d}"
    calls = {pair.strong.name: gold_arguments(pair.strong, query.text, query.values),
             pair.weak.name: gold_arguments(pair.weak, query.text, query.values)}
    weak_full = usefulness(pair.weak, query.caps) == "full"
    better = pair.weak if weak_full else pair.strong
    meta = {"domain": pair.domain, "pair_id": pair.id, "query_id": query_id,
            "strong_tool": pair.strong.name, "weak_tool": pair.weak.name,
            "better_tool": better.name, "intent": query.intent,
            "template_id": query.template_id, "weak_flavour": pair.flavour,
            "both_full": weak_full, "capabilities": list(query.caps), "calls": calls}
    relevant = {"none": [], "weak": [pair.weak], "strong": [pair.strong],
                "both": [pair.strong, pair.weak]}
    size = len(distractors)
    for variant in VARIANTS:
        tools = relevant[variant] + distractors[: max(0, size - len(relevant[variant]))]
        random.Random(f"{seed}:present:{pair.id}:{scenario}:{variant}").shuffle(tools)
        ranking = rank_tools(tools, query.caps)
        top = ranking[0]
        call = {"name": top, "arguments": calls.get(top, {}) if top != DEFAULT_TOOL else {}}
        yield {"id": f"{query_id}-{variant}", "query": query.text,
               "tools": [tool.schema for tool in tools], "ranking": ranking, "call": call,
               "variant": variant, "scenario": scenario, "meta": dict(meta)}


class DerivedQueries(Protocol):
    """Records derived from each query of one scenario (wording.HeldOutWording), declared here
    so this module need not import the one that builds on it."""

    scenario: str
    split: str

    def records(self, pair: Pair, k: int, query: Query,
                distractors: list[Tool]) -> Iterable[Record]: ...


def build_records(pairs: list[Pair], toolset_size: int, seed: int,
                  progress=None, sizes: tuple[int, ...] = (),
                  distractors: str = "capability",
                  wording: DerivedQueries | None = None) -> dict[str, list[Record]]:
    """Records of every split, in pair / query / variant order.

    Every toolset holds `toolset_size` candidates, or, when `sizes` is given, a size drawn
    from it once per (pair, split): the pair's queries in that split keep sharing their
    toolsets (one prompt prefix per variant, DESIGN §3), and the four variants of a query keep
    one size. `wording` (a `wording.HeldOutWording`, or None) also gets each query of its
    scenario with that query's distractors, and its records go to the split `wording.split`."""
    picker = DistractorPicker(pairs, distractors)
    splits: dict[str, list[Record]] = {}
    for p, pair in enumerate(pairs):
        order = picker.order(p)
        by_scenario: dict[str, list[Tool]] = {}
        for k, (query, scenario) in enumerate(zip(pair.queries, pair.splits)):
            if scenario not in by_scenario:
                size = random.Random(f"{seed}:size:{pair.id}:{scenario}").choice(sizes) \
                    if sizes else toolset_size
                decoys = pair.decoys[:size]
                picked = picker.pick(order, p, scenario, size - len(decoys))
                if len(decoys) + len(picked) < size:
                    raise ValueError(f"only {len(decoys) + len(picked)} distractors for "
                                     f"{pair.id}, need {size}")
                by_scenario[scenario] = decoys + picked
            distractors = by_scenario[scenario]
            splits.setdefault(scenario, []).extend(
                query_records(pair, k, query, scenario, distractors, seed))
            if wording is not None and scenario == wording.scenario:
                splits.setdefault(wording.split, []).extend(
                    wording.records(pair, k, query, distractors))
        if progress is not None:
            progress(1)
    return splits
