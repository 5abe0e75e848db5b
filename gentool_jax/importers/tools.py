"""The tools and the call of one public function-calling line, as DESIGN §2 tools and
arguments: the conversion the xLAM and ShareGPT readers share (`xlam.py`,
`sharegpt.py`), apart from the split and sample building of `cases.py`.

Public data give tools flat or OpenAI-wrapped, with JSON-Schema parameters or xLAM's
`{name: {type, description, default?}}` and its type strings (`List[int], optional`); each
becomes a validated flat tool, and the gold call's arguments are checked against its tool by
`records.argument_errors`. A bad field raises `LineError`, which the reader turns into a
RecordError naming the file and line.
"""

from __future__ import annotations

import json
from typing import Any

from gentool_jax.records import (
    DEFAULT_TOOL,
    argument_errors,
    normalize_tool,
    validate_tool,
)

# xLAM / APIGen type strings -> JSON Schema types (None: any value).
_TYPES = {"str": "string", "string": "string", "int": "integer", "integer": "integer",
          "float": "number", "number": "number", "double": "number", "bool": "boolean",
          "boolean": "boolean", "list": "array", "array": "array", "tuple": "array",
          "set": "array", "dict": "object", "object": "object", "any": None}
_SCHEMA_KEYS = {"type", "properties", "required", "additionalProperties", "description",
                "$schema", "title"}


class LineError(ValueError):
    """A bad field of one line; the reader adds file and line (RecordError)."""


def json_field(value: Any, where: str) -> Any:
    """`value`, parsed when it is a JSON string (xLAM stores tools and answers as strings)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            raise LineError(f"{where}: not valid JSON text") from None
    return value


def _type_schema(text: str) -> tuple[dict[str, Any], bool]:
    """(JSON Schema, optional?) of an xLAM type string such as `List[int], optional`."""
    text = text.strip()
    optional = text.lower().endswith(", optional") or text.lower().startswith("optional[")
    if text.lower().endswith(", optional"):
        text = text[: -len(", optional")].strip()
    if text.lower().startswith("optional[") and text.endswith("]"):
        text = text[len("optional["):-1].strip()
    head, _, inner = text.partition("[")
    kind = _TYPES.get(head.strip().lower())
    schema: dict[str, Any] = {} if kind is None else {"type": kind}
    if kind == "array" and inner.endswith("]") and "," not in inner:
        item, _ = _type_schema(inner[:-1])
        if item:
            schema["items"] = item
    return schema, optional


def convert_parameters(params: Any, where: str) -> dict[str, Any]:
    """A tool's parameters as JSON Schema: already-JSON-Schema ones are kept; xLAM's
    `{name: {type, description, default?}}` is converted (a parameter is required unless it
    has a `default` or an `optional` type)."""
    if params is None:
        return {"type": "object", "properties": {}}
    if not isinstance(params, dict):
        raise LineError(f"{where}: must be an object")
    if params.get("type") == "object" or ("properties" in params and set(params) <= _SCHEMA_KEYS
                                          and isinstance(params["properties"], dict)):
        return {**params, "type": "object", "properties": dict(params.get("properties") or {})}
    properties, required = {}, []
    for name, spec in params.items():
        if not isinstance(spec, dict):
            raise LineError(f"{where}.{name}: a parameter must be an object")
        kind = spec.get("type", "")
        if not isinstance(kind, str):
            raise LineError(f"{where}.{name}.type: must be a string")
        schema, optional = _type_schema(kind)
        if isinstance(spec.get("description"), str):
            schema["description"] = spec["description"]
        for key in ("enum", "default"):
            if key in spec:
                schema[key] = spec[key]
        properties[name] = schema
        if not optional and "default" not in spec:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def convert_tool(raw: Any, where: str) -> dict[str, Any]:
    """An offered tool (flat, OpenAI-wrapped, xLAM parameters) as a validated DESIGN §2 tool."""
    raw = normalize_tool(raw)
    if not isinstance(raw, dict):
        raise LineError(f"{where}: a tool must be an object")
    if not isinstance(raw.get("name"), str) or not raw["name"]:
        raise LineError(f"{where}.name: must be a non-empty string")
    if raw["name"] == DEFAULT_TOOL:
        raise LineError(f"{where}.name: '{DEFAULT_TOOL}' is reserved (always offered)")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise LineError(f"{where}.description: must be a string")
    tool = {"name": raw["name"], "description": description,
            "parameters": convert_parameters(raw.get("parameters"), f"{where}.parameters")}
    if isinstance(raw.get("returns"), dict):
        tool["returns"] = raw["returns"]
    try:
        validate_tool(tool, where)
    except ValueError as error:
        raise LineError(str(error)) from None
    return tool


def convert_tools(raw: Any, where: str) -> list[dict[str, Any]]:
    tools = json_field(raw, where)
    if not isinstance(tools, list):
        raise LineError(f"{where}: must be a list of tools")
    out, seen = [], set()
    for i, tool in enumerate(tools):
        tool = convert_tool(tool, f"{where}[{i}]")
        if tool["name"] not in seen:
            seen.add(tool["name"])
            out.append(tool)
    return out


def gold_case(tools: list[dict[str, Any]], name: Any, arguments: Any, where: str
              ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(gold tool, arguments, other tools) of one call, checked against the tool's schema."""
    if not isinstance(name, str) or not name:
        raise LineError(f"{where}.name: must be a non-empty string")
    gold = next((tool for tool in tools if tool["name"] == name), None)
    if gold is None:
        raise LineError(f"{where}.name: '{name}' is not one of the line's tools")
    arguments = json_field({} if arguments is None else arguments, f"{where}.arguments")
    if not isinstance(arguments, dict):
        raise LineError(f"{where}.arguments: must be an object")
    problems = argument_errors(gold, arguments).messages
    if problems:
        raise LineError(f"{where}.arguments: {problems[0]}")
    return gold, arguments, [tool for tool in tools if tool["name"] != name]
