"""The reply grammar of one toolset: exactly the text training renders (`data.render`) and
`evaluate/parser.py` reads, as an llguidance Lark grammar.

A reply is `Ranking: ` + a JSON list holding every offered name once (`generate_response`
included), a newline, then `Call: {"name": X, "arguments": A}` with A valid against X's
`parameters` schema (no keys beyond it, properties in schema order, `json.dumps` separators and
no other whitespace), then the end-of-turn token. Stage 1 replies stop after the ranking; plain
SFT replies have only the call. "Each name once" is a parametric rule (llguidance keeps a 64-bit
set of the names used), so the grammar stays linear in the toolset size instead of listing
permutations; that caps a toolset at 64 names.

Grammars are compiled once per (toolset, format, options) and kept by a hash of them: rows of
one toolset (the common case in evaluation) copy one compiled matcher.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL

# What llguidance's parametric rules can track: one bit per name.
MAX_NAMES = 64
# The JSON compiler options that reproduce `json.dumps(..., ensure_ascii=False)`; `lenient`
# ignores keywords llguidance does not implement (descriptions, titles, unknown annotations)
# instead of refusing the tool.
_JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": ",
                 "lenient": True}
# Schema keywords whose value maps names to schemas.
_NAMED_SCHEMAS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Distinct grammars kept compiled; a BFCL or evaluation run has a few hundred toolsets.
_CACHE_SIZE = 4096


class GrammarError(GentoolError):
    """A toolset whose reply grammar cannot be built (a schema llguidance refuses)."""


@dataclasses.dataclass(frozen=True)
class ReplyFormat:
    """Which lines the reply has (`data.render.target_text`'s `include_*` flags) and which
    tools the call may name (None = any offered; serve's `tool_choice` narrows it)."""

    include_ranking: bool = True
    include_call: bool = True
    call_names: tuple[str, ...] | None = None
    # "useful": the ranking ends at generate_response (`data.render.target_text`)
    ranking_target: str = "full"
    # The name the ranking must open with (the selection head's pick, docs/selector.md); None
    # = any offered name.
    first_ranked: str | None = None

    def held_to(self, name: str) -> ReplyFormat:
        """This format with `name` as the ranking's first name and the call's: the selection
        head's pick (docs/selector.md)."""
        return dataclasses.replace(self, first_ranked=name if self.include_ranking else None,
                                   call_names=(name,) if self.include_call else None)

    def __post_init__(self):
        if not (self.include_ranking or self.include_call):
            raise ValueError("a reply format needs the ranking or the call")
        if self.ranking_target not in ("full", "useful"):
            raise ValueError(f"unknown ranking target {self.ranking_target!r}")


@dataclasses.dataclass(frozen=True)
class GrammarOptions:
    """Bounds added to schemas that have none, so that a reply fits a token budget (tests
    sample an untrained model, whose strings would otherwise run on); 0 = no bound."""

    max_string_length: int = 0
    max_array_items: int = 0


FULL_REPLY = ReplyFormat()
NO_BOUNDS = GrammarOptions()


def _lark_string(text: str) -> str:
    """A Lark string literal matching `text` exactly (JSON escapes are Lark's too)."""
    return json.dumps(text, ensure_ascii=False)


def _name_json(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def strict_schema(schema: Any, options: GrammarOptions = NO_BOUNDS) -> Any:
    """A copy of `schema` in which every object refuses keys it does not define (unless it
    says otherwise) and unbounded strings / arrays get the `options` bounds."""
    if isinstance(schema, list):
        return [strict_schema(item, options) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            # A mapping of names to schemas, not a schema: a parameter may be called "type".
            out[key] = {name: strict_schema(item, options) for name, item in value.items()}
        elif key in ("enum", "const", "default", "examples"):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = strict_schema(value, options)
    kinds = out.get("type")
    kinds = {kind for kind in kinds if isinstance(kind, str)} if isinstance(kinds, list) else (
        {kinds} if isinstance(kinds, str) else set())
    if ("object" in kinds or "properties" in out) and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if "string" in kinds and options.max_string_length and "maxLength" not in out:
        out["maxLength"] = options.max_string_length
    if "array" in kinds and options.max_array_items and "maxItems" not in out:
        out["maxItems"] = options.max_array_items
    return out


def _arguments_schema(tool: dict[str, Any], options: GrammarOptions) -> dict[str, Any]:
    parameters = tool.get("parameters")
    if not isinstance(parameters, dict) or not parameters:
        parameters = {"type": "object", "properties": {}}
    schema = strict_schema(parameters, options)
    return {**schema, "x-guidance": _JSON_OPTIONS}


def _ranking_rules(names: Sequence[str], first_ranked: str | None = None) -> list[str]:
    """`ranking`: `[` + every name once, `, `-separated + `]`, via a parametric set of bits;
    opening with `first_ranked` when given."""
    count = len(names)
    first = " | ".join(f"{_lark_string(_name_json(name))} rank_rest::set_bit({i})"
                       for i, name in enumerate(names)
                       if first_ranked in (None, name))
    rest = " | ".join([f'"" %if is_ones([0:{count}])'] + [
        f"{_lark_string(', ' + _name_json(name))} rank_rest::set_bit({i}) %if bit_clear({i})"
        for i, name in enumerate(names)])
    return ['ranking: "[" rank_first::0x0 "]"', f"rank_first::_ : {first}",
            f"rank_rest::_ : {rest}"]


def _useful_ranking_rules(names: Sequence[str], first_ranked: str | None = None) -> list[str]:
    """`ranking` for `ranking_target="useful"`: tools each at most once, then
    `generate_response`, which closes the list; opening with `first_ranked` when given."""
    tools = [name for name in names if name != DEFAULT_TOOL]
    stop = _name_json(DEFAULT_TOOL)
    if first_ranked == DEFAULT_TOOL:  # nothing follows it: a plain rule, no name set to keep
        return [f'ranking: "[" {_lark_string(stop)} "]"']
    first = " | ".join([_lark_string(stop)] * (first_ranked is None) + [
        f"{_lark_string(_name_json(name))} rank_rest::set_bit({i})"
        for i, name in enumerate(tools) if first_ranked in (None, name)])
    rest = " | ".join([_lark_string(", " + stop)] + [
        f"{_lark_string(', ' + _name_json(name))} rank_rest::set_bit({i}) %if bit_clear({i})"
        for i, name in enumerate(tools)])
    return ['ranking: "[" rank_first::0x0 "]"', f"rank_first::_ : {first}",
            f"rank_rest::_ : {rest}"]


def _call_rules(tools: Sequence[dict[str, Any]], callable_names: Sequence[str],
                options: GrammarOptions) -> list[str]:
    """`call`: one alternative per callable tool, its arguments under its own schema."""
    by_name = {tool["name"]: tool for tool in tools}
    alternatives, rules = [], []
    for i, name in enumerate(callable_names):
        head = _lark_string('{"name": ' + _name_json(name) + ', "arguments": ')
        if name == DEFAULT_TOOL:
            rules.append(f'call_{i}: {head} "{{}}}}"')
        else:
            schema = json.dumps(_arguments_schema(by_name[name], options), ensure_ascii=False)
            rules.append(f'call_{i}: {head} args_{i} "}}"')
            rules.append(f"args_{i}: %json {schema}")
        alternatives.append(f"call_{i}")
    return [f"call: {' | '.join(alternatives)}", *rules]


def _offered(tools: Sequence[dict[str, Any]]) -> list[str]:
    names = [str(tool["name"]) for tool in tools if tool.get("name") != DEFAULT_TOOL]
    if len(set(names)) != len(names):
        raise GrammarError(f"toolset {names}: a name appears twice")
    names.append(DEFAULT_TOOL)
    if len(names) > MAX_NAMES:
        raise GrammarError(f"toolset of {len(names)} tools (generate_response included): the "
                           f"reply grammar tracks at most {MAX_NAMES}")
    return names


def reply_grammar(tools: Sequence[dict[str, Any]], reply: ReplyFormat = FULL_REPLY,
                  options: GrammarOptions = NO_BOUNDS) -> str:
    """The Lark text of the reply grammar for `tools` (the record's tools, without
    `generate_response`: it is always offered, last, as the renderer adds it)."""
    names = _offered(tools)
    callable_names = names if reply.call_names is None else list(reply.call_names)
    unknown = sorted(set(callable_names) - set(names))
    if unknown or not callable_names:
        raise GrammarError(f"the call may name {callable_names or 'no tool'}, which the "
                           f"toolset {names} does not offer")
    if reply.first_ranked is not None and reply.first_ranked not in names:
        raise GrammarError(f"the ranking must open with {reply.first_ranked!r}, which the "
                           f"toolset {names} does not offer")
    lines = []
    if reply.include_ranking and reply.include_call:
        lines.append('start: "Ranking: " ranking "\\nCall: " call')
    elif reply.include_ranking:
        lines.append('start: "Ranking: " ranking')
    else:
        lines.append('start: "Call: " call')
    if reply.include_ranking:
        lines += (_useful_ranking_rules(names, reply.first_ranked)
                  if reply.ranking_target == "useful"
                  else _ranking_rules(names, reply.first_ranked))
    if reply.include_call:
        lines += _call_rules(tools, callable_names, options)
    return "\n".join(lines) + "\n"


def grammar_key(tools: Sequence[dict[str, Any]], reply: ReplyFormat,
                options: GrammarOptions) -> str:
    """A hash of everything the grammar depends on: names, parameter schemas, format, bounds."""
    parts = {"tools": [[tool.get("name"), tool.get("parameters")] for tool in tools],
             "reply": dataclasses.asdict(reply), "options": dataclasses.asdict(options)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _first_line(message: str) -> str:
    return " ".join(message.strip().splitlines()[:1]) or "unknown error"


def _blame(tools: Sequence[dict[str, Any]], tokenizer: Any, options: GrammarOptions) -> str:
    """Which tool (and top-level parameter) makes the grammar fail, for the error message."""
    import llguidance

    def error_of(schema: Any) -> str:
        grammar = llguidance.LLMatcher.grammar_from_lark(
            f"start: %json {json.dumps(schema, ensure_ascii=False)}\n")
        return llguidance.LLMatcher.validate_grammar(grammar, tokenizer)

    for tool in tools:
        if tool.get("name") == DEFAULT_TOOL:
            continue
        schema = _arguments_schema(tool, options)
        message = error_of(schema)
        if not message:
            continue
        properties = schema.get("properties")
        for field, spec in (properties.items() if isinstance(properties, dict) else []):
            if error_of({**strict_schema(spec, options), "x-guidance": _JSON_OPTIONS}):
                return f"tool {tool['name']!r}, parameter {field!r}: {_first_line(message)}"
        return f"tool {tool['name']!r}: {_first_line(message)}"
    return ""


class GrammarCache:
    """Compiled matchers by `grammar_key`, least recently used dropped past `size`.

    A row takes `deep_copy()` of the cached matcher: copying keeps the compiled lexer and
    grammar, so only a toolset never seen before pays the compile.
    """

    def __init__(self, tokenizer: Any, size: int = _CACHE_SIZE):
        self.tokenizer = tokenizer
        self.size = size
        self._matchers: OrderedDict[str, Any] = OrderedDict()
        self.compiled = 0  # how many grammars this cache has compiled (tests read it)
        # A server checks requests' grammars on its event loop while the model thread decodes.
        self._lock = threading.Lock()

    def matcher(self, tools: Sequence[dict[str, Any]], reply: ReplyFormat = FULL_REPLY,
                options: GrammarOptions = NO_BOUNDS) -> Any:
        """A fresh `llguidance.LLMatcher` for one row answering over `tools`."""
        with self._lock:
            return self._matcher(tools, reply, options)

    def _matcher(self, tools: Sequence[dict[str, Any]], reply: ReplyFormat,
                 options: GrammarOptions) -> Any:
        import llguidance

        key = grammar_key(tools, reply, options)
        template = self._matchers.get(key)
        if template is None:
            lark = reply_grammar(tools, reply, options)
            grammar = llguidance.LLMatcher.grammar_from_lark(lark)
            message = llguidance.LLMatcher.validate_grammar(grammar, self.tokenizer)
            if message:
                where = _blame(tools, self.tokenizer, options) or _first_line(message)
                raise GrammarError(f"cannot constrain replies to this toolset: {where}")
            template = llguidance.LLMatcher(self.tokenizer, grammar, log_level=0)
            self.compiled += 1
            self._matchers[key] = template
            while len(self._matchers) > self.size:
                self._matchers.popitem(last=False)
        else:
            self._matchers.move_to_end(key)
        return template.deep_copy()
