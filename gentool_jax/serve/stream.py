"""A finished chat completion as OpenAI's streamed chunks (`stream: true`), server-sent events.

The model worker decodes a whole batch in one compiled loop (`sample.decode.decode` is a
`while_loop` on the device), so tokens reach the host only when every row of the batch has
stopped. A reply is therefore streamed after it is decoded: the chunks carry the same message
the non-streamed reply would, in the order and shape OpenAI streams it (the role first, then
content pieces, or a tool call's id and name followed by its argument fragments, then a last
chunk with `finish_reason`). Clients built for streaming work unchanged; they get the first
token no earlier than the whole answer. A GenTool reply is two short lines, and a tool call
cannot be acted on before its JSON is complete, so the loss is small (docs/serving.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

PIECE_CHARS = 16  # characters of content or arguments per chunk


def _pieces(text: str) -> list[str]:
    return [text[i:i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)]


def chunks(completion: dict[str, Any], *, include_usage: bool) -> Iterator[dict[str, Any]]:
    """The `chat.completion.chunk` objects that reassemble into `completion` (one choice)."""
    head = {key: completion[key] for key in ("id", "created", "model", "system_fingerprint")}
    head["object"] = "chat.completion.chunk"
    choice = completion["choices"][0]
    message = choice["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        made = {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                     "finish_reason": finish}]}
        return {**made, "usage": None} if include_usage else made

    tool_calls = message.get("tool_calls")
    yield chunk({"role": "assistant", "content": None if tool_calls else ""})
    for index, call in enumerate(tool_calls or []):
        function = call["function"]
        yield chunk({"tool_calls": [{"index": index, "id": call["id"], "type": call["type"],
                                     "function": {"name": function["name"], "arguments": ""}}]})
        for piece in _pieces(function["arguments"]):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    for piece in _pieces(message.get("content") or ""):
        yield chunk({"content": piece})
    extra = {"gentool": message["gentool"]} if "gentool" in message else {}
    yield chunk(extra, choice["finish_reason"])
    if include_usage:
        yield {**head, "choices": [], "usage": completion["usage"]}


def server_sent_events(completion: dict[str, Any], *, include_usage: bool) -> Iterator[str]:
    """`data: <chunk JSON>` events, then `data: [DONE]`, as the OpenAI API ends a stream."""
    for made in chunks(completion, include_usage=include_usage):
        yield f"data: {json.dumps(made, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
