"""The tool world: domains made of atomic capabilities, each with parameters, returns and asks.

The domain tables (domains_a.py, domains_b.py) are compact text so that adding a domain is one
block; this module parses them once into frozen dataclasses and checks them, so a typo in a
table fails at import rather than producing ungrounded queries.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from gentool_jax.simulate.domains_a import DOMAINS_A
from gentool_jax.simulate.domains_b import DOMAINS_B
from gentool_jax.simulate.gazetteers import SLOTS

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_OPTIONAL = re.compile(r"\[([^\]]*)\]")
# Asks with this index are kept for the unseen-query scenarios (DESIGN §4).
HELD_OUT_ASK = 2


@dataclass(frozen=True)
class Capability:
    id: str  # "<domain>.<name>", unique in the world
    domain: str
    name: str
    verb: str  # tool vocabulary: "get", "search", ...
    object: str  # tool vocabulary: "daily forecast"
    params: tuple[tuple[str, bool], ...]  # (slot kind, required)
    returns: tuple[tuple[str, str], ...]  # (field, JSON type)
    asks: tuple[str, ...]  # user phrasings; HELD_OUT_ASK is reserved for unseen queries

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(slot for slot, required in self.params if required)


@dataclass(frozen=True)
class Domain:
    name: str
    noun: str  # what a generic tool of this domain is "about": "weather", "stock market"
    capabilities: tuple[Capability, ...]


def _parse_capability(domain: str, line: str) -> Capability:
    fields = [part.strip() for part in line.split("|")]
    if len(fields) != 6:
        raise ValueError(f"{domain}: capability needs 6 '|' fields: {line[:60]}")
    name, verb, obj, params_text, returns_text, asks_text = fields
    params = []
    for spec in params_text.split(","):
        slot = spec.strip().rstrip("?")
        if slot not in SLOTS:
            raise ValueError(f"{domain}.{name}: unknown slot kind '{slot}'")
        params.append((slot, not spec.strip().endswith("?")))
    returns = []
    for spec in returns_text.split(","):
        field, kind = spec.strip().split(":")
        returns.append((field, kind))
    asks = tuple(ask.strip() for ask in asks_text.split(";") if ask.strip())
    if len(asks) <= HELD_OUT_ASK:
        raise ValueError(f"{domain}.{name}: needs {HELD_OUT_ASK + 1} asks, has {len(asks)}")
    for ask in asks:
        optional_part = " ".join(_OPTIONAL.findall(ask))
        required_part = _OPTIONAL.sub("", ask)
        for slot, required in params:
            where = required_part if required else optional_part
            if f"{{{slot}}}" not in where:
                kind = "outside" if required else "inside"
                raise ValueError(f"{domain}.{name}: ask lacks {{{slot}}} {kind} [...]: {ask}")
        unknown = set(_PLACEHOLDER.findall(ask)) - {slot for slot, _ in params}
        if unknown:
            raise ValueError(f"{domain}.{name}: ask uses undeclared slots {sorted(unknown)}")
    return Capability(f"{domain}.{name}", domain, name, verb, obj, tuple(params),
                      tuple(returns), asks)


@functools.cache
def domains() -> tuple[Domain, ...]:
    """Every domain of the world, in a fixed order (table order)."""
    out = []
    for name, (noun, lines) in {**DOMAINS_A, **DOMAINS_B}.items():
        caps = tuple(_parse_capability(name, line) for line in lines)
        out.append(Domain(name, noun, caps))
    return tuple(out)


def render_ask(ask: str, values: dict[str, object], include_optional: dict[str, bool]) -> str:
    """Fill an ask; an optional segment appears only if its slot has a value and is included."""

    def optional(match: re.Match) -> str:
        segment = match.group(1)
        slots = _PLACEHOLDER.findall(segment)
        if all(slot in values and include_optional.get(slot, False) for slot in slots):
            return segment
        return ""

    text = _OPTIONAL.sub(optional, ask)
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


def mentioned_slots(ask: str, include_optional: dict[str, bool]) -> list[str]:
    """The slots whose values end up in the text rendered by `render_ask`."""
    required = _PLACEHOLDER.findall(_OPTIONAL.sub("", ask))
    optional = [
        slot for segment in _OPTIONAL.findall(ask) for slot in _PLACEHOLDER.findall(segment)
        if include_optional.get(slot, False)
    ]
    return required + optional
