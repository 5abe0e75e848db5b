"""Deterministic weak copies of an arbitrary tool schema, one GenTool weakness axis at a time.

The simulator builds its weak tools from capabilities (`tools.build_weak`); imported data and
the BFCL-derived probes only have a schema, so this module weakens the schema itself along one
of the paper's four axes (DESIGN §1):

- `name`: a vaguer name that keeps at most one word of the original (`weather.now` ->
  `weather_helper`, `calculate_triangle_area` -> `area_helper`, `search` -> `general_helper`);
- `description`: the first four words of the first sentence (`"Area of a triangle."`), shorter
  and vaguer than the original;
- `parameters`: only the required parameters, all plain untyped strings (no enum, items,
  format, default or description): fewer and coarser, like the simulator's `coarse` flavour;
- `returns`: a single text `summary` instead of structured results.

Every axis but `name` gives the copy a `_lite` name (`weather.now_lite`) so it can sit next to
the original. An axis that cannot weaken a tool (a description of four words or fewer, a tool
whose parameters are already all required plain strings, returns already a summary) is not
applicable; `choose_axis` then takes the next one, so every tool gets a weak copy (`name`
always applies). Plain Python, no JAX, like all of simulate/.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

AXES = ("name", "description", "parameters", "returns")
SUMMARY_RETURNS = {"type": "object", "properties": {"summary": {"type": "string"}}}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[A-Za-z0-9]+")
_DESCRIPTION_WORDS = 4


def name_words(name: str) -> list[str]:
    """The lower-cased words of an identifier (snake_case, camelCase, dotted, kebab-case)."""
    return [part.lower() for chunk in _WORD.findall(name) for part in _CAMEL.split(chunk)
            if part]


def _description_words(text: str) -> list[str]:
    return text.split()


@dataclass(frozen=True)
class WeakCopy:
    """A weakened copy of a tool and how a call of the original maps onto it."""

    tool: dict[str, Any]
    axis: str
    kept_parameters: tuple[str, ...] | None  # None: every parameter kept as is

    def arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The call of the weak copy that serves what `arguments` did on the original: on the
        parameters axis only the kept parameters, their values as strings; else unchanged."""
        if self.kept_parameters is None:
            return dict(arguments)
        return {name: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                for name, value in arguments.items() if name in self.kept_parameters}


def applicable(tool: dict[str, Any], axis: str) -> bool:
    """Whether `axis` can make `tool` weaker (see the module docstring)."""
    if axis == "name":
        return True
    if axis == "description":
        return len(_description_words(tool.get("description", ""))) > _DESCRIPTION_WORDS
    if axis == "parameters":
        params = tool.get("parameters") or {}
        props = params.get("properties") or {}
        required = set(params.get("required") or [])
        return any(name not in required or schema != {"type": "string"}
                   for name, schema in props.items())
    if axis == "returns":
        return tool.get("returns") != SUMMARY_RETURNS
    raise ValueError(f"unknown weakness axis {axis!r} (one of {', '.join(AXES)})")


def choose_axis(key: str, tool: dict[str, Any]) -> str:
    """A deterministic axis for `tool`: the sha256 of `key` picks a starting axis, and the
    first applicable one from there (in AXES order, wrapping) is taken."""
    start = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % len(AXES)
    for offset in range(len(AXES)):
        axis = AXES[(start + offset) % len(AXES)]
        if applicable(tool, axis):
            return axis
    return "name"  # unreachable: name always applies


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def _vague_name(name: str) -> str:
    words = name_words(name)
    if "." in name and words:  # a namespaced function: its namespace, like a domain name
        keep = name_words(name.split(".", 1)[0])[:1]
    else:
        keep = words[-1:] if len(words) >= 2 else []
    return "_".join(keep + ["helper"]) if keep else "general_helper"


def _lite_name(name: str) -> str:
    camel = "_" not in name and "." not in name and any(ch.isupper() for ch in name)
    return f"{name}Lite" if camel else f"{name}_lite"


def weaken(tool: dict[str, Any], axis: str, taken: Iterable[str] = ()) -> WeakCopy:
    """A copy of `tool` weakened along `axis`, named apart from `taken` (and the tool itself).
    Raises ValueError when the axis is not applicable to the tool."""
    if not applicable(tool, axis):
        raise ValueError(f"axis {axis!r} cannot weaken tool '{tool.get('name')}'")
    taken = set(taken) | {tool["name"]}
    weak = copy.deepcopy(tool)
    kept: tuple[str, ...] | None = None
    if axis == "name":
        weak["name"] = _unique(_vague_name(tool["name"]), taken)
    else:
        weak["name"] = _unique(_lite_name(tool["name"]), taken)
    if axis == "description":
        words = _description_words(tool["description"].split(". ")[0])[:_DESCRIPTION_WORDS]
        weak["description"] = " ".join(words).rstrip(".,;:!?") + "."
    elif axis == "parameters":
        params = tool.get("parameters") or {}
        props = params.get("properties") or {}
        required = [name for name in props if name in set(params.get("required") or [])]
        kept = tuple(required)
        weak["parameters"] = {"type": "object",
                              "properties": {name: {"type": "string"} for name in kept},
                              "required": list(kept)}
    elif axis == "returns":
        weak["returns"] = copy.deepcopy(SUMMARY_RETURNS)
    return WeakCopy(weak, axis, kept)
