"""Records → chat messages → token ids with a loss mask (DESIGN §3).

Everything goes through the tokenizer's own chat template, so a model is trained on exactly the
framing it will see at generation time. The loss mask is derived by rendering the prompt (with
the generation prompt) and the full conversation and checking that one is a token prefix of the
other: no template-specific offsets, and a template that breaks the assumption fails loudly
instead of silently training on the wrong tokens.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from gentool_jax.data.decisions import decision_spans, token_char_ends, tokens_of_span
from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, Record

STYLES = ("json", "compact", "described")

DEFAULT_TOOL_DESCRIPTION = "Answer directly, without a tool; use it when no other tool fits."
DEFAULT_TOOL_SCHEMA: dict[str, Any] = {
    "name": DEFAULT_TOOL,
    "description": DEFAULT_TOOL_DESCRIPTION,
    "parameters": {"type": "object", "properties": {}, "required": []},
}

# Short on purpose: every token here is paid by every sample (DESIGN §8 budgets ~300 tokens
# for a compact prompt + target), yet it must state the ranking rule and the exact format.
_INSTRUCTIONS = """\
Tools:
{tools}

Rank all tools, generate_response included, best first: tools that fully do what the query \
asks (the more focused first), then tools that do part of it, then generate_response, then the \
rest in listed order. Then call the best tool with the query's arguments.
Reply with exactly two lines:
Ranking: ["<tool>", ...]
Call: {{"name": "<tool>", "arguments": {{"<argument>": <value>, ...}}}}"""


class ChatTemplateError(GentoolError):
    """The tokenizer's chat template cannot give an exact prompt/target split."""


@dataclasses.dataclass(frozen=True)
class EncodedExample:
    """One training sample: `loss_mask[i]` is 1 where `tokens[i]` is an assistant target.

    The sequence ends at the end-of-turn token (a target), so its length is the number of rows
    it takes in a packed batch.
    """

    tokens: np.ndarray  # int32 [length]
    loss_mask: np.ndarray  # float32 [length]: 0 prompt, 1 target, `decision_weight` decisions

    def __len__(self) -> int:
        return len(self.tokens)


def _schema_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    if "enum" in schema and isinstance(schema["enum"], list):
        return "|".join(json.dumps(value, ensure_ascii=False) for value in schema["enum"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = "|".join(str(k) for k in kind)
    if kind == "array":
        return f"array[{_schema_type(schema.get('items'))}]"
    return str(kind)


def _returns_text(returns: Any) -> str:
    if not isinstance(returns, dict):
        return "object"
    properties = returns.get("properties")
    if isinstance(properties, dict) and properties:
        # Field names tell what a tool gives back; their types rarely decide which tool fits.
        return "{" + ", ".join(properties) + "}"
    return _schema_type(returns)


def compact_tool_line(tool: dict[str, Any], described_first: bool = False) -> str:
    """`name(arg: type, opt?: type) -> returns — description`, one line per tool.

    `described_first` writes `description — name(...) -> returns`: under causal attention a
    name's tokens cannot see the description that follows them, so choosing a name by what
    its tool does takes the model two hops (description, then back to the name); with the
    description first the name's own tokens carry it."""
    params = tool.get("parameters", {})
    required = set(params.get("required", []))
    args = ", ".join(
        f"{name}{'' if name in required else '?'}: {_schema_type(spec)}"
        for name, spec in params.get("properties", {}).items()
    )
    returns = "text" if tool["name"] == DEFAULT_TOOL else _returns_text(tool.get("returns"))
    description = " ".join(str(tool.get("description", "")).split())
    if described_first:
        return f"{description} — {tool['name']}({args}) -> {returns}"
    return f"{tool['name']}({args}) -> {returns} — {description}"


def _ordered_tools(record: Record, tools_order: Sequence[str] | None) -> list[dict[str, Any]]:
    tools = record["tools"]
    if tools_order is None:
        return list(tools)
    by_name = {tool["name"]: tool for tool in tools}
    if sorted(tools_order) != sorted(by_name):
        raise ValueError(f"record {record.get('id')!r}: tools_order must list every tool once")
    return [by_name[name] for name in tools_order]


def system_prompt(record: Record, style: str, tools_order: Sequence[str] | None = None) -> str:
    """Instructions and the toolset (in presentation order, `generate_response` last)."""
    if style not in STYLES:
        raise GentoolError(f"data.tool_style must be one of {', '.join(STYLES)}, got {style!r}")
    tools = [*_ordered_tools(record, tools_order), DEFAULT_TOOL_SCHEMA]
    if style in ("compact", "described"):
        rendered = "\n".join(compact_tool_line(tool, style == "described") for tool in tools)
    else:
        rendered = "\n".join(json.dumps(tool, ensure_ascii=False) for tool in tools)
    return _INSTRUCTIONS.format(tools=rendered)


RANKING_TARGETS = ("full", "useful")


def target_text(record: Record, *, include_ranking: bool, include_call: bool,
                ranking_target: str = "full") -> str:
    """The assistant reply: `Ranking: [...]` and/or `Call: {...}` lines, JSON after the prefix.

    `ranking_target="useful"` ends the ranking at `generate_response`: the tail after it is the
    remaining tools in presentation order (DESIGN §2), so it carries no decision and the reader
    restores it (`evaluate/parser.py`); "full" is the paper's whole ranking."""
    if not (include_ranking or include_call):
        raise GentoolError("a stage needs include_ranking or include_call (both are off)")
    if ranking_target not in RANKING_TARGETS:
        raise GentoolError(f"data.ranking_target must be one of {', '.join(RANKING_TARGETS)}, "
                           f"got {ranking_target!r}")
    lines = []
    if include_ranking:
        ranking = list(record["ranking"])
        if ranking_target == "useful" and DEFAULT_TOOL in ranking:
            ranking = ranking[: ranking.index(DEFAULT_TOOL) + 1]
        lines.append("Ranking: " + json.dumps(ranking, ensure_ascii=False))
    if include_call:
        call = {"name": record["call"]["name"], "arguments": record["call"]["arguments"]}
        lines.append("Call: " + json.dumps(call, ensure_ascii=False))
    return "\n".join(lines)


def prompt_messages(record: Record, style: str) -> list[dict[str, str]]:
    """System (instructions + tools) and user (query) messages, without the assistant turn."""
    return [
        {"role": "system", "content": system_prompt(record, style)},
        {"role": "user", "content": record["query"]},
    ]


def reorder_tools(record: Record, order: Sequence[str]) -> Record:
    """A copy of `record` presenting its tools in `order`.

    The ranking's irrelevant tail (after `generate_response`) follows presentation order by
    definition (DESIGN §2), so it is re-derived; the useful prefix is unchanged.
    """
    tools = _ordered_tools(record, order)
    ranking = list(record["ranking"])
    cut = ranking.index(DEFAULT_TOOL) + 1
    head = ranking[:cut]
    tail = [tool["name"] for tool in tools if tool["name"] not in head]
    return {**record, "tools": tools, "ranking": head + tail}


def shuffle_tools(record: Record, rng: np.random.Generator) -> Record:
    """Seeded presentation-order augmentation; the target stays consistent with it."""
    names = [tool["name"] for tool in record["tools"]]
    return reorder_tools(record, [names[i] for i in rng.permutation(len(names))])


def _token_ids(rendered: Any) -> list[int]:
    # transformers 5 returns a BatchEncoding by default; older versions a plain list.
    if hasattr(rendered, "keys") and "input_ids" in rendered:
        rendered = rendered["input_ids"]
    return [int(token) for token in rendered]


def encode_prompt(record: Record, tokenizer: Any, style: str) -> list[int]:
    """Prompt tokens up to and including the assistant header: what generation starts from."""
    return _token_ids(tokenizer.apply_chat_template(
        prompt_messages(record, style), add_generation_prompt=True, tokenize=True))


def _end_of_turn_ids(tokenizer: Any) -> set[int]:
    ids = {int(token) for token in getattr(tokenizer, "all_special_ids", [])}
    if getattr(tokenizer, "eos_token_id", None) is not None:
        ids.add(int(tokenizer.eos_token_id))
    return ids


def encode_example(
    record: Record,
    tokenizer: Any,
    *,
    style: str,
    include_ranking: bool,
    include_call: bool,
    decision_weight: float = 1.0,
    ranking_target: str = "full",
) -> EncodedExample:
    """Tokens of prompt + target + end-of-turn; the loss covers the target and end-of-turn.

    Anything the template appends after the end-of-turn token (ChatML's newline) is cut: it is
    never predicted at generation time, so it must not be trained or take row space.
    `decision_weight` scales the loss of the decision tokens (`data/decisions.py`): the names
    ranked up to `generate_response` and the call's name.
    """
    messages = prompt_messages(record, style)
    target = target_text(record, include_ranking=include_ranking, include_call=include_call,
                         ranking_target=ranking_target)
    prompt = encode_prompt(record, tokenizer, style)
    full = _token_ids(tokenizer.apply_chat_template(
        [*messages, {"role": "assistant", "content": target}], tokenize=True))
    where = f"record {record.get('id')!r}"
    if full[: len(prompt)] != prompt:
        raise ChatTemplateError(
            f"{where}: the chat template's generation prompt is not a token prefix of the "
            "rendered conversation, so the prompt/target split is ambiguous; use a tokenizer "
            "whose template renders the assistant turn after the generation prompt")
    specials = _end_of_turn_ids(tokenizer)
    end = next((i for i in range(len(prompt), len(full)) if full[i] in specials), None)
    if end is None or end == len(prompt):
        raise ChatTemplateError(
            f"{where}: no end-of-turn special token follows the assistant target in the "
            "rendered conversation; the model could not learn to stop")
    tokens = np.asarray(full[: end + 1], dtype=np.int32)
    loss_mask = np.zeros(len(tokens), dtype=np.float32)
    loss_mask[len(prompt):] = 1.0
    if decision_weight != 1.0:
        loss_mask[len(prompt) + decision_token_indices(record, tokenizer, full[len(prompt):end],
                                                       target)] = decision_weight
    return EncodedExample(tokens=tokens, loss_mask=loss_mask)


def decision_token_indices(record: Record, tokenizer: Any, target_ids: Sequence[int],
                           target: str) -> np.ndarray:
    """Indices into `target_ids` of every decision token of the reply."""
    spans = decision_spans(target, record)
    ends = token_char_ends(tokenizer, target_ids, target)
    chosen = [tokens_of_span(ends, span)
              for span in (*spans.useful_ranked, spans.call_name) if span is not None]
    return np.unique(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)
