"""BFCL questions and answer keys as DESIGN §2 records: BFCL's parameter types renamed to JSON
Schema, the first acceptable answer taken as the gold call; docs/bfcl.md says what each field
becomes.
"""

from __future__ import annotations

from typing import Any

from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, Record, normalize_tool, validate_record

# BFCL parameter types -> JSON Schema; None drops the type (any value).
_TYPES = {"dict": "object", "float": "number", "integer": "integer", "string": "string",
          "boolean": "boolean", "array": "array", "tuple": "array", "any": None}


class BfclDataError(GentoolError):
    """The BFCL wheel cannot be fetched or verified, or a BFCL file is missing or malformed."""


def convert_schema(schema: dict[str, Any], where: str) -> dict[str, Any]:
    """A BFCL parameter schema as JSON Schema: types renamed (`dict` -> object, `float` ->
    number, `tuple` -> array, `any` -> no type), recursively through properties and items;
    BFCL's non-standard `optional` flag is dropped (`required` says the same)."""
    converted = {key: value for key, value in schema.items() if key != "optional"}
    if "type" in schema:
        if schema["type"] not in _TYPES:
            raise BfclDataError(f"{where}: unknown BFCL type {schema['type']!r}")
        converted.pop("type")
        if _TYPES[schema["type"]] is not None:
            converted["type"] = _TYPES[schema["type"]]
    if isinstance(schema.get("properties"), dict):
        converted["properties"] = {name: convert_schema(sub, f"{where}.{name}")
                                   for name, sub in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        converted["items"] = convert_schema(schema["items"], f"{where}[]")
    return converted


def convert_tool(function: dict[str, Any], where: str) -> dict[str, Any]:
    """A BFCL function doc as an OpenAI function schema (DESIGN §2 `tools` entry)."""
    function = normalize_tool(function)
    parameters = convert_schema(function.get("parameters") or {"type": "dict"},
                                f"{where}.{function.get('name')}")
    parameters.setdefault("properties", {})
    return {"name": function.get("name"), "description": function.get("description", ""),
            "parameters": parameters}


def first_acceptable(value: Any) -> Any:
    """The value an answer-key entry stands for when its first choice is taken everywhere:
    in a dict `{key: [choices...]}` each key gets its first choice (left out when that is
    the omission ""); list elements are resolved one by one."""
    if isinstance(value, dict):
        resolved = {}
        for key, choices in value.items():
            choice = choices[0] if isinstance(choices, list) and choices else choices
            if choice != "":
                resolved[key] = first_acceptable(choice)
        return resolved
    if isinstance(value, list):
        return [first_acceptable(item) for item in value]
    return value


def convert_question(question: dict[str, Any], answer: dict[str, Any] | None, category: str,
                     version: str) -> Record:
    """One BFCL question (and its answer key; None for the irrelevance categories) as a
    DESIGN §2 record; see docs/bfcl.md for every field."""
    qid = str(question.get("id", ""))
    turns = question.get("question") or [[]]
    messages = turns[-1] if turns and isinstance(turns[-1], list) else []
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if len(turns) != 1 or not users:
        raise BfclDataError(f"{category}/{qid}: not a single-turn question with a user message")
    tools = [convert_tool(f, f"{category}/{qid}") for f in question.get("function") or []]
    names = [tool["name"] for tool in tools]
    meta: dict[str, Any] = {"source": "bfcl", "bfcl_version": version, "category": category,
                            "context_messages": len(messages) - 1}
    if answer is None:
        call = {"name": DEFAULT_TOOL, "arguments": {}}
        ranking, variant = [DEFAULT_TOOL, *names], "none"
    else:
        truth = answer.get("ground_truth")
        if not (isinstance(truth, list) and len(truth) == 1 and isinstance(truth[0], dict)
                and len(truth[0]) == 1):
            raise BfclDataError(f"{category}/{qid}: the answer key is not a single call")
        (name, params), = truth[0].items()
        acceptable = {arg: [first_acceptable(v) for v in
                            (choices if isinstance(choices, list) else [choices])]
                      for arg, choices in params.items()}
        tool = next((t for t in tools if t["name"] == name), {"parameters": {}})
        required = set(tool["parameters"].get("required", []))
        arguments = {}
        for arg, values in acceptable.items():  # the first choice; a required one is given
            real = [v for v in values if v != ""]
            if arg in required and values:
                arguments[arg] = real[0] if real else ""
            elif values and values[0] != "":
                arguments[arg] = values[0]
        call = {"name": name, "arguments": arguments}
        ranking = [name, DEFAULT_TOOL, *(n for n in names if n != name)]
        variant = "strong"
        meta.update(acceptable_arguments=acceptable, bfcl_answer=truth[0])
    record = {"id": qid, "query": str(users[-1].get("content", "")), "tools": tools,
              "ranking": ranking, "call": call, "variant": variant, "scenario": category,
              "meta": meta}
    try:
        validate_record(record, any_scenario=True)
    except ValueError as error:
        raise BfclDataError(f"{category}/{qid}: converted record is invalid: {error}") from None
    return record
