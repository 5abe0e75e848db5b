"""The sample record of DESIGN §2: validation, reading and writing of JSON Lines.

Every reader goes through `read_records`, so a malformed line is always reported the same way:
`RecordError(path, line, reason)`. Every layer reads records (the simulator, the importers, the
teacher, data/, evaluate/, serve/), so this module stands on the package's lowest floor: plain
Python (no JAX) that imports nothing of gentool_jax but `atomic` and `errors`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gentool_jax.atomic import atomic_open
from gentool_jax.errors import RecordError

DEFAULT_TOOL = "generate_response"
VARIANTS = ("none", "weak", "strong", "both")
SCENARIOS = (
    "seen_query_seen_tool",
    "unseen_query_seen_tool",
    "seen_query_unseen_tool",
    "unseen_query_unseen_tool",
)
# Training and validation records carry these scenario labels.
TRAIN_SCENARIOS = ("train", "validation")

Record = dict[str, Any]


def normalize_tool(tool: Any) -> Any:
    """The flat function schema of a tool given flat or in the OpenAI wrapper
    `{"type": "function", "function": {...}}` (what the OpenAI API and most datasets use)."""
    if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(
            tool.get("function"), dict) and "name" not in tool:
        return tool["function"]
    return tool


def validate_record(record: Any, *, any_scenario: bool = False) -> None:
    """Raise ValueError naming the field if `record` breaks the DESIGN §2 schema.

    `any_scenario` accepts any non-empty scenario label (an external evaluation set), not only
    the simulator's splits."""
    if not isinstance(record, dict):
        raise ValueError("record must be a JSON object")
    for field, kind in (("id", str), ("query", str), ("tools", list), ("ranking", list),
                        ("call", dict), ("variant", str), ("scenario", str)):
        if field not in record:
            raise ValueError(f"missing field '{field}'")
        if not isinstance(record[field], kind):
            raise ValueError(f"field '{field}' must be a {kind.__name__}")
    if not record["query"].strip():
        raise ValueError("field 'query' is empty")
    names = []
    for i, tool in enumerate(record["tools"]):
        _validate_tool(tool, f"tools[{i}]")
        names.append(tool["name"])
    if DEFAULT_TOOL in names:
        raise ValueError(f"'tools' must not contain {DEFAULT_TOOL} (the renderer appends it)")
    if len(set(names)) != len(names):
        raise ValueError("duplicate tool names in 'tools'")
    expected = set(names) | {DEFAULT_TOOL}
    ranking = record["ranking"]
    if not all(isinstance(name, str) for name in ranking):
        raise ValueError("field 'ranking' must be a list of tool names")
    if len(ranking) != len(expected) or set(ranking) != expected:
        raise ValueError(
            "field 'ranking' must order every tool of 'tools' plus generate_response exactly once"
        )
    call = record["call"]
    if not isinstance(call.get("name"), str) or not isinstance(call.get("arguments"), dict):
        raise ValueError("field 'call' needs a string 'name' and an object 'arguments'")
    if call["name"] not in expected:
        raise ValueError(f"call.name '{call['name']}' is not in the toolset")
    if call["name"] == DEFAULT_TOOL and call["arguments"]:
        raise ValueError("a generate_response call takes no arguments")
    if record["variant"] not in VARIANTS:
        raise ValueError(f"field 'variant' must be one of {', '.join(VARIANTS)}")
    if not record["scenario"].strip():
        raise ValueError("field 'scenario' is empty")
    if not any_scenario and record["scenario"] not in SCENARIOS + TRAIN_SCENARIOS:
        raise ValueError(f"unknown scenario '{record['scenario']}' (an evaluation file may use "
                         "any label: `evaluate --data` accepts it)")
    meta = record.get("meta", {})
    if not isinstance(meta, dict):
        raise ValueError("field 'meta' must be an object")
    acceptable = meta.get("acceptable_arguments")
    if acceptable is not None and not (
        isinstance(acceptable, dict) and all(isinstance(v, list) for v in acceptable.values())
    ):
        raise ValueError("meta.acceptable_arguments must map argument names to lists of values")


def validate_tool(tool: Any, where: str = "tool") -> None:
    """Raise ValueError naming `where` if `tool` is not an OpenAI function schema (+ returns)."""
    _validate_tool(tool, where)


def _validate_tool(tool: Any, where: str) -> None:
    if not isinstance(tool, dict):
        raise ValueError(f"{where} must be an object")
    if not isinstance(tool.get("name"), str) or not tool["name"]:
        raise ValueError(f"{where}.name must be a non-empty string")
    if not isinstance(tool.get("description"), str):
        raise ValueError(f"{where}.description must be a string")
    params = tool.get("parameters")
    if not isinstance(params, dict) or not isinstance(params.get("properties", {}), dict):
        raise ValueError(f"{where}.parameters must be a JSON-schema object with 'properties'")
    for name, schema in params.get("properties", {}).items():
        if not isinstance(schema, dict):
            raise ValueError(f"{where}.parameters.properties.{name} must be an object")
        kind = schema.get("type", "string")
        if not (isinstance(kind, str) or (isinstance(kind, list)
                                          and all(isinstance(k, str) for k in kind))):
            raise ValueError(f"{where}.parameters.properties.{name}.type must be a string")
        if not isinstance(schema.get("description", ""), str):
            raise ValueError(f"{where}.parameters.properties.{name}.description must be a "
                             "string")
    required = params.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ValueError(f"{where}.parameters.required must be a list of parameter names")
    if not set(required) <= set(params.get("properties", {})):
        raise ValueError(f"{where}.parameters.required names an undefined parameter")
    if "returns" in tool and not isinstance(tool["returns"], dict):
        raise ValueError(f"{where}.returns must be an object")


@dataclass(frozen=True)
class ArgumentErrors:
    """What a call's arguments break in its tool's schema, by kind, so that each reader gets
    its own wording (an import error for a person, a retry reason for a teacher LLM) while
    the check itself is written once: `undefined` arguments the tool does not define,
    `missing` required parameters (both sorted), and, when values are checked, one message per
    argument of the wrong JSON-schema type or outside its enum, in argument order."""

    tool: str
    undefined: tuple[str, ...]
    missing: tuple[str, ...]
    values: tuple[str, ...]

    @property
    def messages(self) -> list[str]:
        """The problems in the importers' words, names first (empty when the call fits)."""
        out = []
        if self.undefined:
            out.append(f"undefined parameter(s) {', '.join(self.undefined)} of '{self.tool}'")
        if self.missing:
            out.append(f"lacks required parameter(s) {', '.join(self.missing)} of "
                       f"'{self.tool}'")
        return out + list(self.values)


def argument_errors(tool: dict[str, Any], arguments: dict[str, Any], *,
                    values: bool = False) -> ArgumentErrors:
    """The ways `arguments` do not fit the validated `tool`'s parameters; `values` also checks
    each defined argument's type and enum (imported data keep their values as given, so only
    the teacher's replies are held to the types)."""
    params = tool["parameters"]
    props = params.get("properties", {})
    checked = [_value_error(name, value, props[name]) for name, value in arguments.items()
               if values and name in props]
    return ArgumentErrors(tool["name"], tuple(sorted(set(arguments) - set(props))),
                          tuple(sorted(set(params.get("required", [])) - set(arguments))),
                          tuple(error for error in checked if error))


def _value_error(name: str, value: Any, schema: dict[str, Any]) -> str | None:
    kinds = schema.get("type", "string")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not any(_has_type(value, kind) for kind in kinds):
        return (f"argument {name} must be of type {'/'.join(kinds)}, got "
                f"{json.dumps(value, ensure_ascii=False)}")
    if "enum" in schema and value not in schema["enum"]:
        return f"argument {name} must be one of {json.dumps(schema['enum'], ensure_ascii=False)}"
    return None


def _has_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    python = {"string": str, "boolean": bool, "array": list, "object": dict,
              "null": type(None)}[kind]
    return isinstance(value, python)


def field_problem(value: dict[str, Any], allowed: set[str], required: Iterable[str],
                  what: str) -> str | None:
    """The first unknown or missing field of a JSON object a user wrote (`what`: "a seed"),
    worded alike for every such reader; None when its fields are right."""
    unknown = sorted(set(value) - allowed)
    if unknown:
        return f"unknown field(s) {', '.join(unknown)} ({what} has {', '.join(sorted(allowed))})"
    missing = next((name for name in required if name not in value), None)
    return None if missing is None else f"missing field '{missing}'"


def toolset_key(record: Record) -> str:
    """Identifies a record's toolset in presentation order: records with equal keys render
    the same prompt up to the user turn, so they can share one prefix (DESIGN §3)."""
    return json.dumps(record["tools"], sort_keys=True, ensure_ascii=False)


def require_file(path: str | Path) -> Path:
    """`path`, or RecordError if it is missing or a directory."""
    path = Path(path)
    if path.is_dir():
        raise RecordError(str(path), 0, "is a directory, not a JSONL file")
    if not path.is_file():
        raise RecordError(str(path), 0, "file not found")
    return path


def jsonl_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line; a missing file, a directory or bytes that
    are not UTF-8 raise RecordError naming the file (and line), never a traceback."""
    path = require_file(path)
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise RecordError(str(path), line_number,
                                  f"not UTF-8 text (byte {raw[error.start]:#04x} at column "
                                  f"{error.start + 1})") from None
            if line.strip():
                yield line_number, line


def json_lines(path: str | Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON value) of each non-blank line, for every JSONL reader of
    simulate/: invalid JSON (or JSON nested too deeply for the parser) raises RecordError
    naming the file and line, as `jsonl_lines` does for unreadable files."""
    for line_number, line in jsonl_lines(path):
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
            raise RecordError(str(path), line_number, f"invalid JSON: {reason}") from None
        yield line_number, value


def read_records(path: str | Path, *, validate: bool = True,
                 any_scenario: bool = False) -> Iterator[Record]:
    """Yield the records of a JSONL file, tools in the flat form (OpenAI-wrapped ones are
    unwrapped); a bad line raises RecordError(path, line, reason)."""
    path = Path(path)
    for line_number, record in json_lines(path):
        if isinstance(record, dict) and isinstance(record.get("tools"), list):
            record["tools"] = [normalize_tool(tool) for tool in record["tools"]]
        if validate:
            try:
                validate_record(record, any_scenario=any_scenario)
            except ValueError as error:
                raise RecordError(str(path), line_number, str(error)) from None
        yield record


def dump_record(record: Record) -> str:
    """One canonical JSON line (sorted keys off: field order is part of byte-identical output)."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def write_records(path: str | Path, records: Iterable[Record]) -> int:
    """Write atomically (temp file + rename): an interrupted run never leaves half a file."""
    count = 0
    with atomic_open(path) as handle:
        for record in records:
            handle.write(dump_record(record) + "\n")
            count += 1
    return count
