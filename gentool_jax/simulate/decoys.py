"""Decoy tools (`simulate.decoys`): a pair's own object under a different action.

The similarity-picked distractors of a pair never share its capabilities, and within a domain
each capability has its own object, so a simulated toolset never offers a tool about the very
thing the user named that does something else with it. Real toolsets do, and that is where a
selector fitted on simulated records fails on hand-written ones: asked to renew a library loan
it picks `place-hold`; asked to book a parking space, `parking_fines_pay`; asked to bill a
customer, `invoices_void`. A decoy is such a tool: the object of one of the pair's
capabilities with an action no capability of the world performs on it (export a forecast,
cancel a hotel booking), written like every other tool of the world, with the capability's
inputs. It serves no capability, so it ranks with the irrelevant tools, and it comes first
among its pair's distractors: every toolset of the pair with room beside the relevant tools
holds it.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Protocol

from gentool_jax.simulate.tools import Registries, Tool, build_strong
from gentool_jax.simulate.variety import Writing
from gentool_jax.simulate.vocabulary import VERBS, WRITE_VERBS
from gentool_jax.simulate.world import Capability, Domain

# Actions a decoy may take, by whether the capability it mimics reads or writes: a read's
# decoy changes or moves the thing, a write's decoy undoes or lists it. None of them is a
# synonym of a table verb's action on the same object (`_banned_verbs`).
_READ_DECOY_VERBS = ("export", "share", "delete", "archive", "update", "report")
_WRITE_DECOY_VERBS = ("cancel", "update", "delete", "list")
_DECOY_RETURNS = {"export": ("file_url", "string"), "share": ("share_link", "string"),
                  "delete": ("deleted", "boolean"), "archive": ("archived", "boolean"),
                  "update": ("updated", "boolean"), "report": ("ticket_id", "string"),
                  "cancel": ("cancelled", "boolean"), "list": ("items", "array")}


class Pair(Protocol):
    """What decoys read and write of a pair (`pairs.Pair`, which builds them through this
    module, so the type is declared here)."""

    id: str
    domain: str
    strong: Tool
    decoys: list[Tool]


def _banned_verbs(world: tuple[Domain, ...]) -> dict[str, set[str]]:
    """Object -> every verb, and every synonym of it, that some capability applies to it."""
    banned: dict[str, set[str]] = {}
    for domain in world:
        for cap in domain.capabilities:
            banned.setdefault(cap.object, set()).update({cap.verb, *VERBS.get(cap.verb, ())})
    return banned


def decoy_capability(cap: Capability, verb: str) -> Capability:
    """`cap`'s object and inputs under `verb`, with an id no query asks for."""
    return dataclasses.replace(cap, id=f"{cap.id}~{verb}", name=f"{cap.name}_{verb}",
                               verb=verb, returns=(_DECOY_RETURNS[verb],), asks=())


def add_decoys(pairs: list[Pair], world: tuple[Domain, ...], count: int, registry: Registries,
               writing: Writing, seed: int) -> None:
    """Give each pair `count` decoys (`pair.decoys`), each on a different capability of its
    strong tool where it has enough, with its own rng so the rest of the world is unchanged."""
    domains = {domain.name: domain for domain in world}
    caps = {cap.id: cap for domain in world for cap in domain.capabilities}
    banned = _banned_verbs(world)
    for pair in pairs:
        rng = random.Random(f"{seed}:decoys:{pair.id}")
        own = [caps[cap_id] for cap_id in pair.strong.caps]
        picks = rng.sample(own, len(own)) * count
        for cap in picks[:count]:
            choices = _WRITE_DECOY_VERBS if cap.verb in WRITE_VERBS else _READ_DECOY_VERBS
            verbs = [verb for verb in choices if verb not in banned.get(cap.object, set())
                     and f"{cap.id}~{verb}" not in {c for d in pair.decoys for c in d.caps}]
            if not verbs:
                continue
            tool = build_strong(domains[pair.domain], [decoy_capability(cap, rng.choice(verbs))],
                                registry, rng, writing)
            pair.decoys.append(dataclasses.replace(tool, kind="decoy"))
