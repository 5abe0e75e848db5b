"""The teacher's three prompts (weak tool, queries, arguments) and the checks on its replies.

A teacher LLM writes fluent data but not always valid data, so every reply is parsed as JSON
and checked before it can reach a record: a tool must be a well-formed function schema with
identifier names, queries must be distinct non-empty strings, and arguments may use only the
tool's parameters, with every required one present and each value of its JSON-schema type.
A failed check raises `InvalidOutput` with a reason the caller sends back to the teacher on
its retry (`retry_messages`), which is both a better retry and a new cache key.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gentool_jax.records import argument_errors, normalize_tool, validate_tool
from gentool_jax.teacher.client import Messages

# The paper's four weakness axes (DESIGN §1), in the words the teacher is given.
AXES = {
    "name": "a name that fits the user's request less: vaguer or more generic, still about the "
            "same topic (like weather_helper for a precise forecast tool)",
    "description": "a shorter, vaguer description that no longer says exactly what it returns "
                   "or which inputs it needs",
    "parameters": "fewer, coarser parameters: drop or merge some, make them untyped strings, "
                  "remove enums and format hints",
    "returns": "poorer returned results: one plain-text summary (or fewer fields) instead of "
               "the structured fields",
}
# Query wordings: training and seen-query tests use "direct"; unseen-query tests "indirect",
# so their wording (meta.template_id) is held out of training (DESIGN §4).
WORDINGS = {
    "direct": "Each query asks directly for what the user needs, some politely, some tersely.",
    "indirect": "Each query describes the user's situation or goal without asking for an "
                "action or naming the tool (\"My train gets in at 6 and I have no idea how "
                "to get downtown\").",
}
JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_SYSTEM = ("You write training data for assistants that call tools (OpenAI function-calling "
           "schemas). Reply with exactly one JSON object and nothing else: no prose, no code "
           "fences.")


class InvalidOutput(ValueError):
    """A teacher reply that is not the JSON the prompt asked for; the message says why."""


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _messages(task: str) -> Messages:
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": task}]


def weak_tool_messages(query: str, strong: dict, axis: str) -> Messages:
    """Stage A: a weaker version of `strong` for `query`, weaker along one axis."""
    return _messages(
        "Task: weak tool.\n"
        f"User query: {query}\n"
        f"Strong tool: {_dump(strong)}\n"
        f"Write a weaker version of the strong tool for this query, weaker by {AXES[axis]}. "
        "It must still be partly useful for the query, but clearly worse than the strong tool. "
        "Use a new name (letters, digits and underscores only). Reply with the weak tool as "
        'one JSON object: {"name": ..., "description": ..., "parameters": {"type": "object", '
        '"properties": {...}, "required": [...]}, "returns": {"type": "object", '
        '"properties": {...}}}.')


def queries_messages(strong: dict, weak: dict, example: str, count: int,
                     wording: str) -> Messages:
    """Stage B: `count` new queries that the strong tool solves and the weak one only partly."""
    return _messages(
        "Task: queries.\n"
        f"Strong tool: {_dump(strong)}\n"
        f"Weak tool: {_dump(weak)}\n"
        f"Example query: {example}\n"
        f"Write exactly {count} new, distinct user queries (different situations and values) "
        "that the strong tool fully solves and the weak tool solves only partly. Put every "
        "value a call needs (names, places, dates, amounts) into the query text. "
        f"{WORDINGS[wording]} "
        'Reply as {"queries": ["...", ...]}.')


def arguments_messages(query: str, tool: dict) -> Messages:
    """Stage C: the arguments of the call of `tool` that answers `query`."""
    return _messages(
        "Task: arguments.\n"
        f"User query: {query}\n"
        f"Tool: {_dump(tool)}\n"
        "Write the arguments of the call of this tool that best answers the query: only the "
        "tool's parameters, every required one, values of the declared types, taken from the "
        "query text where it gives them. Omit optional parameters the query does not give. "
        'Reply as {"arguments": {...}}.')


def retry_messages(messages: Messages, reply: str, error: InvalidOutput) -> Messages:
    """The conversation with the bad reply and what was wrong with it, for one more try."""
    return [*messages, {"role": "assistant", "content": reply},
            {"role": "user", "content": f"That reply is invalid: {error}. Reply again with "
                                        "only the corrected JSON object."}]


def parse_object(reply: str) -> dict:
    """The reply's JSON object (a surrounding ``` fence is tolerated, nothing else is)."""
    text = reply.strip()
    if text.startswith("```") and text.endswith("```") and len(text) >= 6:
        text = text[3:-3].removeprefix("json").strip()
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
        raise InvalidOutput(f"not JSON ({reason})") from None
    if not isinstance(value, dict):
        raise InvalidOutput("not a JSON object")
    return value


def check_tool(tool: Any, where: str) -> dict:
    """The flat schema of `tool`, or InvalidOutput (ValueError) naming the bad field: a
    function schema (records.validate_tool) whose tool and parameter names are identifiers
    and whose parameter types are JSON-schema types."""
    tool = normalize_tool(tool)
    try:
        validate_tool(tool, where)
    except ValueError as error:
        raise InvalidOutput(str(error)) from None
    if not _IDENTIFIER.fullmatch(tool["name"]):
        raise InvalidOutput(f"{where}.name {tool['name']!r} is not an identifier "
                            "(letters, digits, underscores; at most 64)")
    for name, schema in tool["parameters"].get("properties", {}).items():
        if not _IDENTIFIER.fullmatch(name):
            raise InvalidOutput(f"{where}.parameters.properties: {name!r} is not an identifier")
        kinds = schema.get("type", "string")
        unknown = sorted(set([kinds] if isinstance(kinds, str) else kinds) - JSON_TYPES)
        if unknown:
            raise InvalidOutput(f"{where}.parameters.properties.{name}.type {unknown[0]!r} is "
                                "not a JSON-schema type")
        if "enum" in schema and not (isinstance(schema["enum"], list) and schema["enum"]):
            raise InvalidOutput(f"{where}.parameters.properties.{name}.enum must be a "
                                "non-empty list")
    return tool


def parse_weak_tool(reply: str, strong: dict, axis: str, taken: set[str]) -> dict:
    """Stage A's weak tool, checked: well-formed, a new name, and weaker along `axis`."""
    weak = check_tool(parse_object(reply), "weak tool")
    if weak["name"] in taken:
        raise InvalidOutput(f"weak tool name {weak['name']!r} is already used; choose a new one")
    strong_props = strong["parameters"].get("properties", {})
    weak_props = weak["parameters"].get("properties", {})
    if axis == "description" and len(weak["description"]) >= len(strong["description"]):
        raise InvalidOutput("the weak tool's description must be shorter than the strong one's")
    if axis == "parameters" and (weak_props == strong_props
                                 or len(weak_props) > len(strong_props)):
        raise InvalidOutput("the weak tool must have fewer or coarser parameters than the "
                            "strong one")
    if axis == "returns" and weak.get("returns") == strong.get("returns"):
        raise InvalidOutput("the weak tool must return poorer results than the strong one")
    return weak


def parse_queries(reply: str, count: int, avoid: set[str]) -> list[str]:
    """Stage B's first `count` distinct queries (none of them in `avoid`)."""
    queries = parse_object(reply).get("queries")
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        raise InvalidOutput('"queries" must be a list of strings')
    distinct = list(dict.fromkeys(" ".join(q.split()) for q in queries if q.strip()))
    distinct = [q for q in distinct if q not in avoid]
    if len(distinct) < count:
        raise InvalidOutput(f"need {count} distinct new non-empty queries, got {len(distinct)}")
    return distinct[:count]


def parse_arguments(reply: str, tool: dict) -> dict:
    """Stage C's arguments, checked against `tool`'s parameters."""
    arguments = parse_object(reply).get("arguments")
    if not isinstance(arguments, dict):
        raise InvalidOutput('"arguments" must be an object')
    errors = argument_errors(tool, arguments, values=True)
    if errors.undefined:
        raise InvalidOutput(f"argument(s) {', '.join(errors.undefined)} are not parameters of "
                            f"{tool['name']} (it has "
                            f"{', '.join(tool['parameters'].get('properties', {})) or 'none'})")
    if errors.missing:
        raise InvalidOutput(f"required argument(s) {', '.join(errors.missing)} missing")
    if errors.values:
        raise InvalidOutput(errors.values[0])
    return arguments

