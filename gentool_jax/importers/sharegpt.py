"""Reader of ShareGPT / Glaive-style tool conversations (`simulate --from=FILE
--format=sharegpt`).

One JSON object a line: `{"tools": [...] or their JSON text, "conversations" | "messages":
[turns...], "id"?: ...}`. A turn is `{"from": "human"|"user"|"gpt"|"assistant"|"system"|
"function_call"|"observation"|"tool", "value": ...}` or `{"role": ..., "content": ...}`. The
gold call is the first assistant tool call: an assistant turn's `tool_calls`
(`[{"type": "function", "function": {"name", "arguments": JSON text}}]`), its `function_call`
(`{"name", "arguments"}`), or a `function_call` turn whose value is that call as JSON text
(LLaMA-Factory's ShareGPT). The user turn just before it is the query; earlier turns are
dropped and counted in `meta.context_messages`. A conversation whose first tool call holds
several calls, or that never calls a tool, is skipped and counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gentool_jax.importers.cases import Case, ReadResult, read_cases
from gentool_jax.importers.tools import LineError, convert_tools, gold_case, json_field

USER = {"human", "user"}
ASSISTANT = {"gpt", "assistant"}


def read_sharegpt(path: str | Path) -> ReadResult:
    """The single-call cases of a ShareGPT file, and the skipped lines by reason."""
    return read_cases(path, "ShareGPT", _case)


def _calls(turn: dict, role: str, where: str) -> list[dict[str, Any]] | None:
    """The calls of one turn (None: the turn calls no tool)."""
    if role == "function_call":
        calls = json_field(turn.get("value", turn.get("content")), f"{where}.value")
        calls = calls if isinstance(calls, list) else [calls]
    elif role in ASSISTANT and turn.get("tool_calls"):
        calls = turn["tool_calls"]
        if not isinstance(calls, list):
            raise LineError(f"{where}.tool_calls: must be a list")
        calls = [call.get("function", call) if isinstance(call, dict) else call
                 for call in calls]
    elif role in ASSISTANT and turn.get("function_call"):
        calls = [turn["function_call"]]
    else:
        return None
    for i, call in enumerate(calls):
        if not isinstance(call, dict):
            raise LineError(f"{where}.tool_calls[{i}]: must be an object with name and "
                            "arguments")
    return calls


def _case(row: dict, line_number: int) -> Case | str:
    key = "conversations" if "conversations" in row else "messages"
    if "tools" not in row:
        raise LineError("tools: missing field")
    turns = row.get(key)
    if not isinstance(turns, list):
        raise LineError("conversations: missing, or not a list of turns (also read as "
                        "'messages')")
    tools = convert_tools(row["tools"], "tools")
    for t, turn in enumerate(turns):
        where = f"{key}[{t}]"
        if not isinstance(turn, dict):
            raise LineError(f"{where}: a turn must be an object")
        role = turn.get("from", turn.get("role"))
        if not isinstance(role, str):
            raise LineError(f"{where}.from: missing speaker ('from' or 'role')")
        calls = _calls(turn, role.lower(), where)
        if calls is None:
            continue
        if len(calls) != 1:
            return "multi-call lines" if calls else "no-call lines"
        users = [u for u in range(t) if isinstance(turns[u], dict)
                 and str(turns[u].get("from", turns[u].get("role", ""))).lower() in USER]
        if not users:
            raise LineError(f"{where}: a tool call with no user turn before it")
        user = turns[users[-1]]
        query = user.get("value", user.get("content"))
        if not isinstance(query, str) or not query.strip():
            raise LineError(f"{key}[{users[-1]}].value: the query must be a non-empty string")
        gold, arguments, others = gold_case(tools, calls[0].get("name"),
                                            calls[0].get("arguments"), f"{where}.tool_calls[0]")
        qid = row.get("id")
        qid = (f"sharegpt-{qid}" if isinstance(qid, (str, int)) and str(qid)
               else f"sharegpt-{line_number:06d}")
        context = sum(1 for u in range(users[-1]) if isinstance(turns[u], dict)
                      and str(turns[u].get("from", turns[u].get("role", ""))).lower() != "system")
        return Case(qid, query.strip(), gold, arguments, others, line_number, "sharegpt",
                    context_messages=context)
    return "no-call lines"
