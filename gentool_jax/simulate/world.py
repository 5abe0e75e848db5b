"""The tool world: domains made of atomic capabilities, each with parameters, returns and asks.

The domain tables (domains_a.py, domains_b.py) are compact text so that adding a domain is one
block; this module parses them once into frozen dataclasses and checks them, so a typo in a
table fails at import rather than producing ungrounded queries. The extra asks of
`simulate.extra_asks` (extra_asks.py) and the worded asks of `simulate.worded_asks`
(worded_asks.py) pass the same checks when a world asks for them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from gentool_jax.errors import GentoolError
from gentool_jax.simulate.domains_a import DOMAINS_A
from gentool_jax.simulate.domains_b import DOMAINS_B
from gentool_jax.simulate.extra_asks import EXTRA_ASKS, MAX_EXTRA_ASKS
from gentool_jax.simulate.gazetteers import SLOTS
from gentool_jax.simulate.worded_asks import MAX_WORDED_ASKS, worded_asks

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
    check_asks(f"{domain}.{name}", tuple(params), asks)
    return Capability(f"{domain}.{name}", domain, name, verb, obj, tuple(params),
                      tuple(returns), asks)


def check_asks(cap_id: str, params: tuple[tuple[str, bool], ...], asks: tuple[str, ...]) -> None:
    """Raise ValueError naming the capability if an ask could not be rendered into a grounded
    query: a required slot missing outside `[...]`, an optional one missing inside, or a slot
    the capability does not declare."""
    for ask in asks:
        optional_part = " ".join(_OPTIONAL.findall(ask))
        required_part = _OPTIONAL.sub("", ask)
        for slot, required in params:
            where = required_part if required else optional_part
            if f"{{{slot}}}" not in where:
                kind = "outside" if required else "inside"
                raise ValueError(f"{cap_id}: ask lacks {{{slot}}} {kind} [...]: {ask}")
        unknown = set(_PLACEHOLDER.findall(ask)) - {slot for slot, _ in params}
        if unknown:
            raise ValueError(f"{cap_id}: ask uses undeclared slots {sorted(unknown)}")


def check_extra_asks(value: object) -> None:
    """Raise GentoolError naming `simulate.extra_asks` unless it is a whole number the table
    can serve."""
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 0 <= value <= MAX_EXTRA_ASKS:
        raise GentoolError(f"config.simulate.extra_asks must be an integer in "
                           f"0..{MAX_EXTRA_ASKS}; got {value!r}")


def check_worded_asks(value: object) -> None:
    """Raise GentoolError naming `simulate.worded_asks` unless it is a whole number of the
    templates there are."""
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 0 <= value <= MAX_WORDED_ASKS:
        raise GentoolError(f"config.simulate.worded_asks must be an integer in "
                           f"0..{MAX_WORDED_ASKS}; got {value!r}")


def _with_more_asks(cap: Capability, extra_asks: int, worded: int) -> Capability:
    if not extra_asks and not worded:
        return cap
    if extra_asks and cap.id not in EXTRA_ASKS:
        raise ValueError(f"{cap.id}: no extra asks in simulate/extra_asks_*.py")
    more = EXTRA_ASKS.get(cap.id, ())[:extra_asks] + worded_asks(cap, worded)
    check_asks(cap.id, cap.params, more)
    return replace(cap, asks=cap.asks + more)


@functools.cache
def domains(extra_asks: int = 0, worded: int = 0) -> tuple[Domain, ...]:
    """Every domain of the world, in a fixed order (table order); each capability's asks are
    followed by its first `extra_asks` extra asks (extra_asks.py), then its first `worded`
    asks in the tool's own words (worded_asks.py), all of which train like asks 0-1.
    0 and 0 are the paper-faithful world."""
    check_extra_asks(extra_asks)
    check_worded_asks(worded)
    out = []
    for name, (noun, lines) in {**DOMAINS_A, **DOMAINS_B}.items():
        caps = tuple(_with_more_asks(_parse_capability(name, line), extra_asks, worded)
                     for line in lines)
        out.append(Domain(name, noun, caps))
    return tuple(out)


def world_of(sim) -> tuple[Domain, ...]:
    """The domains a `config.simulate` section asks for."""
    return domains(sim.get("extra_asks", 0), sim.get("worded_asks", 0))


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
