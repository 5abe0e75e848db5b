"""Cross queries: other pairs' queries asked against a training toolset, so the query decides.

Every query of a pair in one split and variant sees the same toolset (`toolsets.py`), and that
toolset's gold answer is the same for all of them: in the training data the toolset alone
predicts the answer. A small model takes that shortcut. Trained on every one of the 33,660
paper-scale samples (docs/results.md, "The query is ignored"), SmolLM2-135M picked the same tool
for a query and for another domain's query on 23 of 24 validation toolsets, and its teacher-
forced choice stayed at chance. Cross queries remove the shortcut: a training toolset also
receives queries of the pairs whose tools sit in it as distractors (their gold is that tool)
and queries of an unrelated pair (their gold is usually `generate_response`), each ranked by the
same capability rule as every other record (`toolsets.rank_tools`). One toolset then has
different answers for different queries, and reading the query is the only way to fit them. The
records share the toolset's prompt prefix, so they pack into the same shared-prefix rows.

`mix="owners"` asks only the distractors' owners, cycling through them with a different query
on each visit, so a toolset's answers spread over its offered tools instead of leaning on
`generate_response` (an unrelated pair's usual answer).

Only the training split gets them, from training queries of seen pairs whose tools are already
in training toolsets: nothing held out can leak, and the validation and test splits stay the
paper's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, Record
from gentool_jax.simulate.pairs import Pair
from gentool_jax.simulate.tools import Tool, gold_arguments
from gentool_jax.simulate.toolsets import VAGUE_FLAVOURS, rank_tools

SPLIT = "train"
MIXES = ("alternate", "owners")


def add_cross_queries(pairs: Sequence[Pair], records: list[Record], per_toolset: int,
                      seed: int, mix: str = "alternate", visible: bool = False) -> list[Record]:
    """`records` (one split's, in toolset groups) with up to `per_toolset` cross records after
    each toolset's group; deterministic in `seed`. `mix` is "alternate" (owners interleaved with
    unrelated pairs) or "owners" (owners only, each visited again with another query).
    `visible` (the "visible" distractor rule) asks no toolset a query of a domain whose vague
    weak tool it offers from another pair: that tool's text claims the query's whole domain."""
    if mix not in MIXES:
        raise GentoolError(f"simulate.cross_mix must be one of {', '.join(MIXES)}, got {mix!r}")
    if per_toolset <= 0:
        return records
    tools: dict[str, Tool] = {}
    owner: dict[str, Pair] = {}
    for pair in pairs:
        for tool in (pair.strong, pair.weak):
            tools[tool.name], owner[tool.name] = tool, pair
    asked = {pair.id: [(k, query) for k, (query, split) in
                       enumerate(zip(pair.queries, pair.splits)) if split == SPLIT]
             for pair in pairs}
    askers = [pair for pair in pairs if asked[pair.id]]
    by_id = {pair.id: pair for pair in pairs}
    out: list[Record] = []
    for group in _toolset_groups(records):
        out.extend(group)
        first = group[0]
        names = [tool["name"] for tool in first["tools"]]
        rng = random.Random(f"{seed}:cross:{first['meta']['pair_id']}:{first['variant']}")
        toolset = [tools[n] for n in names]
        asked_here = _VisiblyAsked(asked, names, owner, by_id) if visible else asked
        if mix == "owners":
            for pair, (k, query) in _owner_queries(names, first["meta"]["pair_id"], owner,
                                                   asked_here, per_toolset, rng):
                out.append(_cross_record(pair, k, query, first, toolset))
            continue
        for pair in _cross_pairs(names, first["meta"]["pair_id"], owner, askers, asked_here,
                                 per_toolset, rng):
            k, query = rng.choice(asked[pair.id])
            out.append(_cross_record(pair, k, query, first, toolset))
    return out


class _VisiblyAsked:
    """`asked` for one toolset, empty for the pairs of a domain whose vague weak tool (generic
    or coarse) another pair puts in the toolset."""

    def __init__(self, asked: dict, names: list[str], owner: dict[str, Pair],
                 by_id: dict[str, Pair]):
        self._asked, self._by_id = asked, by_id
        self._vague: dict[str, set[str]] = {}
        for name in names:
            pair = owner.get(name)
            if pair is not None and name == pair.weak.name and pair.flavour in VAGUE_FLAVOURS:
                self._vague.setdefault(pair.domain, set()).add(pair.id)

    def __getitem__(self, pair_id: str) -> list:
        if self._vague.get(self._by_id[pair_id].domain, set()) - {pair_id}:
            return []
        return self._asked[pair_id]


def _toolset_groups(records: list[Record]) -> list[list[Record]]:
    """Records grouped by pair and variant (one toolset each, `toolsets.build_records`), in
    order of first appearance."""
    groups: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        groups.setdefault((record["meta"]["pair_id"], record["variant"]), []).append(record)
    return list(groups.values())


def _cross_pairs(names: list[str], own_pair: str, owner: dict[str, Pair], askers: list[Pair],
                 asked: dict, count: int, rng: random.Random) -> list[Pair]:
    """Pairs whose queries go to this toolset: the distractors' owners (shuffled) interleaved
    with unrelated pairs (none of their tools offered), `count` in all."""
    present = {owner[n].id for n in names if n in owner}
    by_id = {owner[n].id: owner[n] for n in names if n in owner}
    owners = [by_id[i] for i in dict.fromkeys(owner[n].id for n in names if n in owner)
              if i != own_pair and asked[i]]
    rng.shuffle(owners)
    chosen: list[Pair] = []
    for pair in owners:
        chosen.append(pair)
        if len(chosen) == count:
            return chosen
        for _ in range(20):  # an unrelated pair between owners; give up on a crowded world
            other = rng.choice(askers)
            if other.id not in present and all(other.id != c.id for c in chosen) \
                    and asked[other.id]:
                chosen.append(other)
                break
        if len(chosen) == count:
            return chosen
    return chosen


def _owner_queries(names: list[str], own_pair: str, owner: dict[str, Pair], asked: dict,
                   count: int, rng: random.Random) -> list[tuple[Pair, tuple]]:
    """`count` (pair, query) of the distractors' owners, round-robin in a shuffled owner order,
    each owner's queries without repeats until they run out."""
    owners = [owner[n] for n in names if n in owner and owner[n].id != own_pair
              and asked[owner[n].id]]
    owners = list({pair.id: pair for pair in owners}.values())
    rng.shuffle(owners)
    queue = {pair.id: rng.sample(asked[pair.id], len(asked[pair.id])) for pair in owners}
    chosen: list[tuple[Pair, tuple]] = []
    while owners and len(chosen) < count:
        for pair in list(owners):
            if not queue[pair.id]:
                owners.remove(pair)
                continue
            chosen.append((pair, queue[pair.id].pop()))
            if len(chosen) == count:
                break
    return chosen


def _cross_record(pair: Pair, k: int, query, toolset_record: Record,
                  toolset: list[Tool]) -> Record:
    ranking = rank_tools(toolset, query.caps)
    top = ranking[0]
    by_name = {tool.name: tool for tool in toolset}
    arguments = {} if top == DEFAULT_TOOL else gold_arguments(by_name[top], query.text,
                                                              query.values)
    has_strong, has_weak = pair.strong.name in by_name, pair.weak.name in by_name
    variant = {(True, True): "both", (True, False): "strong", (False, True): "weak",
               (False, False): "none"}[(has_strong, has_weak)]
    query_id = f"{pair.id}-q{k:02d}"
    host = toolset_record["meta"]["pair_id"]
    return {"id": f"{query_id}-x-{host}-{toolset_record['variant']}", "query": query.text,
            "tools": toolset_record["tools"], "ranking": ranking,
            "call": {"name": top, "arguments": arguments}, "variant": variant,
            "scenario": toolset_record["scenario"],
            "meta": {"domain": pair.domain, "pair_id": pair.id, "query_id": query_id,
                     "strong_tool": pair.strong.name, "weak_tool": pair.weak.name,
                     "intent": query.intent, "template_id": query.template_id,
                     "capabilities": list(query.caps), "cross_toolset_of": host}}
