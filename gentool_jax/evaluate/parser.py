"""Read the `Ranking:` and `Call:` lines (DESIGN §3) out of whatever a model generated.

Model output is untrusted text: an untrained model rambles, a trained one may be cut off by the
token budget. The parser therefore never raises; it keeps every part it could read and lists, in
plain words, each reason the output is not a well-formed answer. `valid` means "no reason
found", which is what the format-validity metric counts.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from typing import Any

from gentool_jax.records import DEFAULT_TOOL

# A line that starts (after optional markdown decoration) with the prefix; case is forgiven
# because the content, not the capitalisation, is what the metrics judge.
_PREFIX = r"(?im)^[ \t>*#`_-]*{word}[ \t*_]*:[ \t*_]*"
_RANKING = re.compile(_PREFIX.format(word="ranking"))
_CALL = re.compile(_PREFIX.format(word="call"))
_DECODER = json.JSONDecoder()


@dataclasses.dataclass
class ParsedOutput:
    """What could be read from one generation; `errors` is empty exactly when `valid`."""

    ranking: list[str] | None
    call: dict[str, Any] | None
    valid: bool
    errors: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def parse_output(
    text: Any, toolset_names: Iterable[str], *, expect_ranking: bool = True,
    ranking_target: str = "full",
) -> ParsedOutput:
    """Parse one generation against the toolset it was prompted with.

    `toolset_names` are the record's tools in presentation order; `generate_response` is
    always allowed. With `expect_ranking=False` (outputs of a system that only calls, such as
    the BM25 baseline) a missing `Ranking:` line is not an error. With
    `ranking_target="useful"` a ranking ends at `generate_response` and the reader restores
    the tail, the remaining tools in presentation order (DESIGN §2).
    """
    errors: list[str] = []
    if not isinstance(text, str):
        return ParsedOutput(None, None, False, [f"output is {type(text).__name__}, not text"])
    try:
        ordered = [str(name) for name in toolset_names]
    except TypeError:
        ordered = []
    allowed = set(ordered) | {DEFAULT_TOOL}
    ranking = None
    if expect_ranking or _RANKING.search(text):
        ranking = _parse_ranking(text, allowed, errors,
                                 tail=ordered if ranking_target == "useful" else None)
    call = _parse_call(text, allowed, errors)
    return ParsedOutput(ranking, call, not errors, errors)


def _json_after(pattern: re.Pattern[str], text: str, label: str, errors: list[str]) -> Any:
    """Decode the JSON value that follows the first `label:` line; None (and an error) if none."""
    match = pattern.search(text)
    if match is None:
        errors.append(f"no '{label}:' line")
        return None
    rest = text[match.end():].lstrip()
    if not rest:
        errors.append(f"'{label}:' is not followed by anything")
        return None
    try:
        value, _ = _DECODER.raw_decode(rest)
    except (json.JSONDecodeError, RecursionError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
        snippet = rest.split("\n", 1)[0][:60]
        errors.append(f"'{label}:' JSON does not parse ({reason}): {snippet!r}")
        return None
    return value


def _parse_ranking(text: str, allowed: set[str], errors: list[str],
                   tail: list[str] | None = None) -> list[str] | None:
    """The ranking; with `tail` (presentation order) a list that ends at generate_response is
    completed by the tools it does not name, in that order."""
    value = _json_after(_RANKING, text, "Ranking", errors)
    if value is None:
        return None
    if not isinstance(value, list):
        errors.append(f"'Ranking:' is a JSON {type(value).__name__}, not a list")
        return None
    ranking: list[str] = []
    for item in value:
        if not isinstance(item, str):
            errors.append(f"ranking entry {_short(item)} is not a tool name string")
        elif item not in allowed:
            errors.append(f"ranking names unknown tool {item!r}")
        elif item in ranking:
            errors.append(f"ranking repeats {item!r}")
        else:
            ranking.append(item)
    if tail is not None:
        if ranking[-1:] != [DEFAULT_TOOL] or len(ranking) != len(value):
            errors.append(f"ranking does not end at {DEFAULT_TOOL}")
        ranking += [name for name in tail if name not in ranking]
    missing = sorted(allowed - set(ranking))
    if missing:
        errors.append(f"ranking omits {', '.join(missing)}")
    return ranking


def _parse_call(text: str, allowed: set[str], errors: list[str]) -> dict[str, Any] | None:
    value = _json_after(_CALL, text, "Call", errors)
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append(f"'Call:' is a JSON {type(value).__name__}, not an object")
        return None
    name = value.get("name")
    if not isinstance(name, str):
        errors.append("call has no string 'name'")
        return None
    if name not in allowed:
        errors.append(f"call names unknown tool {name!r}")
    arguments = value.get("arguments", None)
    if arguments is None:
        errors.append("call has no 'arguments' object")
        arguments = {}
    elif not isinstance(arguments, dict):
        errors.append(f"call 'arguments' is a JSON {type(arguments).__name__}, not an object")
        arguments = {}
    elif name == DEFAULT_TOOL and arguments:
        errors.append(f"{DEFAULT_TOOL} takes no arguments")
    extra = sorted(set(value) - {"name", "arguments"})
    if extra:
        errors.append(f"call has unexpected keys {', '.join(map(str, extra))}")
    return {"name": name, "arguments": arguments}


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."
