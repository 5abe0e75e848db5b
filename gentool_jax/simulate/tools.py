"""Tools built from capability sets: the strong tool of a pair and its weak versions.

A weak tool is weaker along the paper's four axes in one of three flavours:
- `generic`: a vague domain name and description, one free-text `query` parameter, text results;
- `subset`: fewer capabilities (precise for those it has, short description);
- `coarse`: the same capabilities with merged, untyped parameters, a vague name and description,
  and a single text summary instead of structured returns.
How useful a tool is for a query (`usefulness`) decides the gold ranking (DESIGN §2).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from gentool_jax.simulate import naming, varied_docs, varied_names, varied_params
from gentool_jax.simulate.gazetteers import SLOTS
from gentool_jax.simulate.variety import PAPER, Writing
from gentool_jax.simulate.world import Capability, Domain

FLAVOURS = ("generic", "subset", "coarse")
_COARSE_PARAM = {"city": "location", "origin": "start", "destination": "end", "date": "when",
                 "time": "at", "person": "who", "contact": "who", "ticker": "symbol",
                 "company": "name", "amount": "value", "count": "number"}


@dataclass
class Tool:
    name: str
    description: str
    kind: str  # strong | generic | subset | coarse | decoy (simulate/decoys.py)
    domain: str
    caps: tuple[str, ...]  # capability ids this tool serves
    arg_names: dict[str, str]  # slot kind -> parameter name ({} for generic: free text)
    parameters: dict
    returns: dict
    schema: dict = field(init=False)

    def __post_init__(self):
        self.schema = {"name": self.name, "description": self.description,
                       "parameters": self.parameters, "returns": self.returns}

    @property
    def document(self) -> str:
        """The text similarity search sees (DESIGN §2: name + description)."""
        return f"{self.name} {self.description}"


def usefulness(tool: Tool, query_caps: tuple[str, ...]) -> str:
    """`full`, `partial` or `none`: how much of the query the tool can answer.

    Generic and coarse tools never fully answer (imprecise input, poor results); a precise tool
    fully answers when it has every capability the query needs.
    """
    if not set(tool.caps) & set(query_caps):
        return "none"
    if tool.kind in ("generic", "coarse"):
        return "partial"
    return "full" if set(query_caps) <= set(tool.caps) else "partial"


def gold_arguments(tool: Tool, query_text: str, values: dict[str, object]) -> dict:
    """The call arguments for `tool`, taken from the query's mentioned slot values."""
    if tool.kind == "generic":  # its one parameter takes the whole request as free text
        return {next(iter(tool.parameters["properties"])): query_text}
    args = {}
    for slot, param in tool.arg_names.items():
        if slot in values:
            value = values[slot]
            args[param] = str(value) if tool.kind == "coarse" else value
    return args


def _param_name(slot: str, camel: bool) -> str:
    return naming.camel(slot.split("_")) if camel else slot


def _slot_schema(slot: str) -> dict:
    kind = SLOTS[slot]
    text = slot.replace("_", " ")
    schema = {"type": kind.type, "description": f"The {text}" + (
        f" ({kind.format})" if kind.format else "")}
    if kind.enum:
        schema["enum"] = list(kind.values)
    return schema


def _returns(caps: list[Capability]) -> dict:
    props = {}
    for cap in caps:
        for name, kind in cap.returns:
            props.setdefault(name, {"type": kind})
    return {"type": "object", "properties": props}


def _precise_params(caps: list[Capability], camel: bool) -> tuple[dict, dict[str, str]]:
    slots: list[str] = []
    for cap in caps:
        slots += [slot for slot, _ in cap.params if slot not in slots]
    # Only what every capability needs is required, so a query using one of them can call it.
    required = [slot for slot in slots if all(slot in cap.required for cap in caps)]
    arg_names = {slot: _param_name(slot, camel) for slot in slots}
    params = {"type": "object",
              "properties": {arg_names[s]: _slot_schema(s) for s in slots},
              "required": [arg_names[s] for s in required]}
    return params, arg_names


class Registries:
    """World-wide unique tool names and descriptions."""

    def __init__(self):
        self.names = naming.NameRegistry()
        self.descriptions = naming.NameRegistry(separator=" ")


def _verb_objects(caps: list[Capability]) -> list[tuple[str, str]]:
    return [(cap.verb, cap.object) for cap in caps]


def _precise_names(caps: list[Capability], domain: Domain, rng: random.Random,
                   writing: Writing) -> list[str]:
    """Candidate names of a precise tool for `caps` (strong, or the subset weak flavour)."""
    if writing.names == "varied":
        return varied_names.strong_names(_verb_objects(caps), domain.name, rng)
    return naming.strong_names(caps[0].verb, [cap.object for cap in caps], domain.name, rng)


def build_strong(domain: Domain, caps: list[Capability], registry: Registries,
                 rng: random.Random, writing: Writing = PAPER) -> Tool:
    """The precise tool serving `caps`, written the paper's way or varied (`writing`)."""
    objects = [cap.object for cap in caps]
    name = registry.names.claim(_precise_names(caps, domain, rng, writing), rng)
    if writing.parameters == "varied":
        params, arg_names = varied_params.precise_params(
            caps, varied_params.casing(name, rng), rng)
    else:
        camel = any(ch.isupper() for ch in name) and rng.random() < 0.8
        params, arg_names = _precise_params(caps, camel)
    returns = _returns(caps)
    if writing.descriptions == "varied":
        descriptions = varied_docs.strong_descriptions(
            _verb_objects(caps), domain.noun, domain.name, name, params, returns, rng)
    else:
        descriptions = naming.strong_descriptions(
            caps[0].verb, objects, domain.noun, list(params["properties"]),
            params["required"], list(returns["properties"]), rng)
    description = registry.descriptions.claim(descriptions, rng)
    return Tool(name, description, "strong", domain.name, tuple(c.id for c in caps), arg_names,
                params, returns)


def build_weak(flavour: str, strong: Tool, domain: Domain, caps: list[Capability],
               subset: list[Capability], registry: Registries,
               rng: random.Random, writing: Writing = PAPER) -> Tool:
    """A weak version of `strong` (built from `caps`); `subset` is used by the subset flavour."""
    if flavour == "generic":
        return _build_generic(strong, domain, registry, rng, writing)
    if flavour == "subset":
        objects = [cap.object for cap in subset]
        name = registry.names.claim(_precise_names(subset, domain, rng, writing), rng)
        if writing.parameters == "varied":
            params, arg_names = varied_params.precise_params(
                subset, varied_params.casing(name, rng), rng)
        else:
            params, arg_names = _precise_params(subset, camel=rng.random() < 0.3)
        if writing.descriptions == "varied":
            descriptions = varied_docs.subset_descriptions(_verb_objects(subset), rng)
        else:
            descriptions = naming.subset_descriptions(subset[0].verb, objects, rng)
        description = registry.descriptions.claim(descriptions, rng)
        return Tool(name, description, "subset",
                    domain.name, tuple(c.id for c in subset), arg_names, params,
                    _returns(subset))
    if flavour != "coarse":
        raise ValueError(f"unknown weak flavour '{flavour}'")
    if writing.names == "varied":
        names = varied_names.coarse_names(domain.name, caps[0].object, rng)
    else:
        names = naming.coarse_names(domain.name, caps[0].object, rng)
    name = registry.names.claim(names, rng)
    kept = [slot for slot in strong.arg_names
            if any(slot in cap.required for cap in caps)]
    if writing.parameters == "varied":
        arg_names = varied_params.coarse_names(kept, rng)
    else:
        arg_names, used = {}, set()
        for slot in kept:
            param = _COARSE_PARAM.get(slot, f"{slot}_text")
            while param in used:
                param += "_2"
            used.add(param)
            arg_names[slot] = param
    strong_required = {s for s, p in strong.arg_names.items() if p in strong.parameters["required"]}
    params = {"type": "object",
              "properties": {p: {"type": "string"} for p in arg_names.values()},
              "required": [arg_names[s] for s in kept if s in strong_required]}
    returns = {"type": "object", "properties": {"summary": {"type": "string"}}}
    if writing.descriptions == "varied":
        descriptions = varied_docs.coarse_descriptions(caps[0].object, rng)
    else:
        descriptions = naming.coarse_descriptions(caps[0].object, rng)
    description = registry.descriptions.claim(descriptions, rng)
    return Tool(name, description, "coarse", domain.name,
                strong.caps, arg_names, params, returns)


def _build_generic(strong: Tool, domain: Domain, registry: Registries, rng: random.Random,
                   writing: Writing) -> Tool:
    """A vague whole-domain tool with one free-text parameter and a text answer."""
    if writing.names == "varied":
        name = registry.names.claim(varied_names.generic_names(domain.name, rng), rng)
    else:
        name = registry.names.claim(naming.generic_names(domain.name, rng), rng)
    if writing.parameters == "varied":
        arg, schema = varied_params.free_text(rng)
    else:
        arg, schema = "query", {"type": "string", "description": "The request in your own words"}
    params = {"type": "object", "properties": {arg: schema}, "required": [arg]}
    returns = {"type": "object", "properties": {"answer": {"type": "string"}}}
    if writing.descriptions == "varied":
        descriptions = varied_docs.generic_descriptions(domain.noun, domain.name, arg, rng)
    else:
        descriptions = naming.generic_descriptions(domain.noun, rng)
    description = registry.descriptions.claim(descriptions, rng)
    return Tool(name, description, "generic", domain.name, strong.caps, {}, params, returns)
