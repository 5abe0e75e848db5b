"""(strong, weak) tool pairs with their queries, assigned to splits before any sample exists.

Splitting happens here, at the level of domains, pairs and queries, so no sample can mix a
held-out tool or wording into training (DESIGN §4):
- held-out domains give the pairs of `unseen_query_unseen_tool`;
- a few pairs of the other domains are kept whole for `seen_query_unseen_tool`;
- the remaining ("seen") pairs give train, validation and both seen-tool test scenarios, with
  at most a few queries per pair leaving training so every seen tool is trained on.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from gentool_jax.errors import GentoolError
from gentool_jax.simulate.decoys import add_decoys
from gentool_jax.simulate.queries import Query, make_query
from gentool_jax.simulate.tools import Registries, Tool, build_strong, build_weak
from gentool_jax.simulate.variety import Writing, writing_of
from gentool_jax.simulate.world import Capability, Domain, world_of

SEEN, UNSEEN_TOOL, UNSEEN_DOMAIN = "seen", "unseen_tool", "unseen_domain"
ROLE_SCENARIO = {UNSEEN_TOOL: "seen_query_unseen_tool",
                 UNSEEN_DOMAIN: "unseen_query_unseen_tool"}
HELD_OUT_WORDING = ("unseen_query_seen_tool", "unseen_query_unseen_tool")
# Share of a both-fully-solve pair's queries that only need the weak tool's capabilities.
_BOTH_FULL_QUERY_SHARE = 0.4


@dataclass
class Pair:
    id: str
    domain: str
    role: str
    flavour: str
    both_full: bool
    strong: Tool
    weak: Tool
    queries: list[Query] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)  # scenario label of each query
    decoys: list[Tool] = field(default_factory=list)  # simulate/decoys.py


def _rng(seed: int, key: str) -> random.Random:
    return random.Random(f"{seed}:{key}")


def _roles(sim, seed: int) -> tuple[list[tuple[str, Domain, bool]], list[Domain]]:
    """(role, domain, both_full) for every pair, and the held-out domains."""
    rng = _rng(seed, "roles")
    world = list(world_of(sim))
    rng.shuffle(world)
    n_held = max(1, round(sim.heldout_domain_fraction * len(world)))
    held, seen = world[:n_held], world[n_held:]
    per_test = math.ceil(sim.test_queries_per_scenario / sim.queries_per_pair)
    n_seen = sim.num_pairs - 2 * per_test
    if n_seen < per_test:
        raise GentoolError(
            f"simulate.num_pairs={sim.num_pairs} is too small for "
            f"test_queries_per_scenario={sim.test_queries_per_scenario}: need at least "
            f"{3 * per_test} pairs")
    out = []
    for role, count, pool in ((SEEN, n_seen, seen), (UNSEEN_TOOL, per_test, seen),
                              (UNSEEN_DOMAIN, per_test, held)):
        both = set(rng.sample(range(count), round(sim.both_full_fraction * count)))
        out += [(role, pool[i % len(pool)], i in both) for i in range(count)]
    return out, held


def _make_pair(index: int, role: str, domain: Domain, both_full: bool,
               registry: Registries, writing: Writing, seed: int) -> Pair:
    rng = _rng(seed, f"pair:{index}")
    caps = list(domain.capabilities)
    size = 1 if len(caps) < 2 else rng.choices((1, 2, 3), weights=(3, 5, 2))[0]
    if both_full:
        size = max(size, 2)
    chosen = sorted(rng.sample(caps, min(size, len(caps))), key=caps.index)
    if both_full:
        flavour = "subset"
    elif len(chosen) == 1:
        flavour = rng.choice(("generic", "coarse"))
    else:
        flavour = rng.choices(("generic", "subset", "coarse"), weights=(3, 4, 3))[0]
    subset = sorted(rng.sample(chosen, rng.randint(1, len(chosen) - 1)), key=caps.index) \
        if flavour == "subset" else []
    strong = build_strong(domain, chosen, registry, rng, writing)
    weak = build_weak(flavour, strong, domain, chosen, subset, registry, rng, writing)
    pair_id = f"{domain.name}-{index:04d}"
    return Pair(pair_id, domain.name, role, flavour, both_full, strong, weak)


def _query_caps(pair: Pair, k: int, sim, caps: dict[str, Capability],
                rng: random.Random) -> list[Capability]:
    strong = [caps[c] for c in pair.strong.caps]
    if pair.flavour != "subset":
        return sorted(rng.sample(strong, rng.randint(1, min(2, len(strong)))), key=strong.index)
    weak = [caps[c] for c in pair.weak.caps]
    n_both = max(1, round(_BOTH_FULL_QUERY_SHARE * sim.queries_per_pair))
    if pair.both_full and k < n_both:
        return sorted(rng.sample(weak, rng.randint(1, min(2, len(weak)))), key=strong.index)
    # Needs one capability the weak tool lacks, so only the strong tool fully solves it.
    extra = [cap for cap in strong if cap.id not in pair.weak.caps]
    return sorted([rng.choice(weak), rng.choice(extra)], key=strong.index)


def assign_seen_splits(pairs: list[Pair], sim, seed: int) -> None:
    """Each pair that gives queries away gives them to one held-out split, as a block: its
    queries there share toolsets (one prefix each, DESIGN §3) and every seen pair keeps at
    least `queries_per_pair - cap` queries for training."""
    rng = _rng(seed, "splits")
    qpp = sim.queries_per_pair
    order = list(range(len(pairs)))
    rng.shuffle(order)
    cap = max(1, (qpp - 1) // 3)  # queries a seen pair may give away; the rest train its tools
    n_val = round(sim.validation_fraction * len(pairs) * qpp)
    quotas = [("unseen_query_seen_tool", sim.test_queries_per_scenario),
              ("seen_query_seen_tool", sim.test_queries_per_scenario), ("validation", n_val)]
    labels: dict[int, list[str]] = {}
    walk = iter(order)
    for label, quota in quotas:
        while quota > 0:
            p = next(walk, None)
            if p is None:
                break
            ks = sorted(rng.sample(range(qpp), min(cap, quota)))
            labels[p] = [label if k in ks else "train" for k in range(qpp)]
            quota -= len(ks)
    for p, pair in enumerate(pairs):
        pair.splits = labels.get(p, ["train"] * qpp)


def build_pairs(sim, seed: int) -> list[Pair]:
    """Every pair of the world with its tools, split labels and distinct queries."""
    roles, _ = _roles(sim, seed)
    registry = Registries()
    writing = writing_of(sim)
    pairs = [_make_pair(i, role, domain, both, registry, writing, seed)
             for i, (role, domain, both) in enumerate(roles)]
    if sim.get("decoys", 0):
        add_decoys(pairs, world_of(sim), sim.decoys, registry, writing, seed)
    seen = [pair for pair in pairs if pair.role == SEEN]
    assign_seen_splits(seen, sim, seed)
    for pair in pairs:
        if pair.role != SEEN:
            pair.splits = [ROLE_SCENARIO[pair.role]] * sim.queries_per_pair
    _trim_unseen(pairs, sim)
    caps = {cap.id: cap for domain in world_of(sim)
            for cap in domain.capabilities}
    texts: set[str] = set()
    for pair in pairs:
        rng = _rng(seed, f"queries:{pair.id}")
        for k, split in enumerate(pair.splits):
            for _ in range(50):
                query = make_query(pair.domain, _query_caps(pair, k, sim, caps, rng),
                                   split in HELD_OUT_WORDING, rng)
                if query.text not in texts:
                    break
            texts.add(query.text)
            pair.queries.append(query)
    return pairs


def _trim_unseen(pairs: list[Pair], sim) -> None:
    """Unseen-tool pairs come in whole-pair units; drop the overshoot past the scenario quota."""
    for role in (UNSEEN_TOOL, UNSEEN_DOMAIN):
        left = sim.test_queries_per_scenario
        for pair in (p for p in pairs if p.role == role):
            keep = min(left, len(pair.splits))
            pair.splits = pair.splits[:keep]
            left -= keep
