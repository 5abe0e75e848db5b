"""BFCL's AST-match rules for one single-call answer, reimplemented from their description.

BFCL judges a call without running it: the right function, every required parameter, no
parameter the function or the answer key does not know, each value of the declared type and
among the answer key's acceptable values. Our records keep the tools as JSON Schema
(`bfcl.convert_tool`) and the raw answer key in `meta.bfcl_answer`, so a verdict needs nothing
but the record and the parsed call. The rules are listed in docs/bfcl.md; the code is ours,
written from those rules, not from BFCL's checker.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from gentool_jax.records import DEFAULT_TOOL

# Kinds of failure, in the order the checks run (the first failing check is the verdict).
ERROR_KINDS = ("no_call", "wrong_function", "missing_required", "unexpected_parameter",
               "type_error", "value_error", "missing_parameter")
_STRING_NOISE = re.compile(r"[\s,./\-_*^]")  # BFCL forgives spaces and these marks


@dataclasses.dataclass(frozen=True)
class Verdict:
    """AST verdict on one output: `error` is one of ERROR_KINDS ("" when correct)."""

    correct: bool
    error: str = ""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _fail(error: str, detail: str) -> Verdict:
    return Verdict(False, error, detail)


def standardize_string(text: str) -> str:
    """BFCL's string form: lower case, without spaces or `, . / - _ * ^` (we also drop tabs
    and newlines), single quotes read as double ones: "New York, NY" equals "new york ny"."""
    return _STRING_NOISE.sub("", text).lower().replace("'", '"')


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    """The JSON Schema type name of a decoded JSON value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _has_type(value: Any, declared: str | None) -> bool:
    """Whether `value` is of the declared JSON Schema type; an integer is a number (BFCL
    accepts 5 for a float parameter), a boolean is never a number, no type accepts all."""
    if declared is None:
        return True
    if declared == "number":
        return _is_number(value)
    return _kind(value) == declared


def type_ok(value: Any, schema: dict[str, Any], acceptable: Sequence[Any]) -> bool:
    """The value has the parameter's declared type, or the type of one of its acceptable
    answers (the answer key wins where it disagrees with the declaration, as when a number
    parameter's answer is a string); array elements are checked against `items` likewise."""
    declared = schema.get("type")
    answers = [a for a in acceptable if a != ""]
    if not (_has_type(value, declared) or any(_kind(a) == _kind(value) for a in answers)):
        return False
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        elements = [e for a in answers if isinstance(a, list) for e in a]
        return all(type_ok(e, items, elements) for e in value)
    return True


def value_matches(value: Any, answer: Any) -> bool:
    """One value against one acceptable answer: strings after `standardize_string`, numbers by
    value (5 == 5.0), booleans only by booleans, lists element by element, and dicts in the
    answer-key form `{key: [acceptable...]}` (a key whose list holds "" may be left out)."""
    if isinstance(value, str) and isinstance(answer, str):
        return standardize_string(value) == standardize_string(answer)
    if isinstance(value, bool) or isinstance(answer, bool):
        return isinstance(value, bool) and isinstance(answer, bool) and value == answer
    if _is_number(value) and _is_number(answer):
        return float(value) == float(answer)
    if isinstance(value, list) and isinstance(answer, list):
        return len(value) == len(answer) and all(map(value_matches, value, answer))
    if isinstance(value, dict) and isinstance(answer, dict):
        return _dict_matches(value, answer)
    return value == answer and type(value) is type(answer)


def _dict_matches(value: dict[str, Any], answer: dict[str, Any]) -> bool:
    for key, given in value.items():
        if key not in answer or not any(value_matches(given, a) for a in _choices(answer[key])):
            return False
    return all(key in value or "" in _choices(choices) for key, choices in answer.items())


def _choices(answer_value: Any) -> list[Any]:
    return answer_value if isinstance(answer_value, list) else [answer_value]


def check_call(call: dict[str, Any] | None, tools: Sequence[dict[str, Any]],
               answer: dict[str, dict[str, list[Any]]]) -> Verdict:
    """AST verdict on a parsed call against a BFCL answer key `{function: {param:
    [acceptable...]}}` and the offered tools (JSON Schema, as in our records)."""
    if not call or not isinstance(call.get("name"), str):
        return _fail("no_call", "the output holds no readable call")
    (expected, params), = answer.items()
    if call["name"] != expected:
        return _fail("wrong_function", f"called {call['name']!r}, expected {expected!r}")
    arguments = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
    schema = next((t for t in tools if t["name"] == expected), {}).get("parameters", {})
    properties = schema.get("properties", {})
    missing = [name for name in schema.get("required", []) if name not in arguments]
    if missing:
        return _fail("missing_required", f"required {', '.join(missing)} not given")
    for name, value in arguments.items():
        if name not in properties or name not in params:
            return _fail("unexpected_parameter", f"{name!r} is not a parameter of the "
                         "function or not in the answer key")
        acceptable = _choices(params[name])
        if not type_ok(value, properties[name], acceptable):
            return _fail("type_error", f"{name}={value!r} is not of type "
                         f"{properties[name].get('type', 'any')}")
        if not any(value_matches(value, a) for a in acceptable):
            return _fail("value_error", f"{name}={value!r} is not one of {acceptable!r}")
    omitted = [name for name, choices in params.items()
               if name not in arguments and "" not in _choices(choices)]
    if omitted:
        return _fail("missing_parameter", f"{', '.join(omitted)} must be given (the answer "
                     "key has no omission for it)")
    return Verdict(True)


def irrelevance_verdicts(call: dict[str, Any] | None, tools: Sequence[dict[str, Any]]
                         ) -> tuple[bool, bool]:
    """(lenient, strict) verdicts on an output for a question no offered function can answer.

    Lenient is BFCL's way: right unless the output calls one of the offered functions (an
    unreadable output counts as "no call", hence right). Strict asks for the explicit
    abstention of our format, a call of `generate_response`.
    """
    name = call.get("name") if call else None
    offered = {tool["name"] for tool in tools}
    return name not in offered, name == DEFAULT_TOOL
