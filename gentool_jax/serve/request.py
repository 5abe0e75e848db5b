"""Validate an OpenAI Chat Completions request body into a `ChatRequest`.

Every refusal names the offending field (`param`) the way the OpenAI API does, so a client sees
*which* part of its request was wrong, and a request over one of the server's size limits
(`Limits`, from `config.serve`) is refused naming the limit. Parameters the sampler cannot
honour (n > 1, stop sequences, penalties, logprobs) are refused rather than silently ignored:
a caller who asked for them would otherwise get an answer that quietly breaks its
assumptions. Fields that cannot change the answer (`user`, `metadata`, `seed`, ...) are
accepted and ignored.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from gentool_jax.records import DEFAULT_TOOL, normalize_tool, validate_tool
from gentool_jax.sample.sampling import SamplingSettings
from gentool_jax.serve.http_errors import APIError

ROLES = ("system", "developer", "user", "assistant", "tool")
# Accepted and ignored: they do not change what the model generates here. A GenTool model
# makes one call, so `parallel_tool_calls` has nothing to switch; sampled batches draw from the
# server's own seed sequence, so a per-request `seed` cannot be honoured inside a shared batch.
IGNORED = ("user", "metadata", "store", "seed", "service_tier", "parallel_tool_calls")
# Accepted only at the value that means "off".
_OFF_VALUES: dict[str, tuple[Any, ...]] = {
    "n": (None, 1), "stop": (None,),
    "logprobs": (None, False), "top_logprobs": (None, 0), "frequency_penalty": (None, 0),
    "presence_penalty": (None, 0), "logit_bias": (None, {}),
    "response_format": (None, {"type": "text"}),
}
_USED = ("model", "messages", "tools", "tool_choice", "temperature", "top_p", "max_tokens",
         "max_completion_tokens", "stream", "stream_options")
# Keys of a tool schema the prompt renders; others (OpenAI's `strict`) never reach the model.
_TOOL_KEYS = ("name", "description", "parameters", "returns")
_CHOICES = ("auto", "none", "required")


@dataclasses.dataclass(frozen=True)
class Limits:
    """How large a request may be (`config.serve`): a model behind a non-loopback address must
    not let one client tie the worker up with a huge toolset, conversation or budget."""

    max_tools: int = 128
    max_messages: int = 256
    max_message_chars: int = 65536
    max_completion_tokens: int = 1024


def _over(what: str, size: int, limit: int, field: str, param: str) -> APIError:
    return APIError(f"{what} is {size}; this server accepts at most {limit} (serve.{field})",
                    param=param, code="limit_exceeded")


@dataclasses.dataclass(frozen=True)
class ChatRequest:
    """A validated request. `tools` is None in chat mode (no tools, or tool_choice "none")."""

    model: str
    messages: list[dict[str, str]]  # role + plain-text content, in order
    tools: list[dict[str, Any]] | None  # flat function schemas, generate_response excluded
    max_tokens: int | None  # None: the server's default
    settings: SamplingSettings
    # tool_choice "required" or a named function: the names the call may use (the grammar
    # holds the reply to them); None: any offered tool or generate_response ("auto").
    call_names: tuple[str, ...] | None = None
    strict: bool = False  # a tool asked for `strict` schema adherence
    stream: bool = False  # answer as server-sent chunks
    include_usage: bool = False  # stream_options.include_usage: a last chunk with the usage

    @property
    def query(self) -> str:
        """The last user message: the GenTool query (one query, one call)."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")

    @property
    def tool_mode(self) -> bool:
        """Rank and call only when the conversation ends on a user turn; after a tool result
        the call was made, and the model answers the conversation as a plain chat."""
        return self.tools is not None and self.messages[-1]["role"] == "user"


def parse_request(body: Any, limits: Limits = Limits()) -> ChatRequest:
    """The request in `body` (decoded JSON), or APIError(400) naming the bad field or limit."""
    if not isinstance(body, dict):
        raise APIError("the request body must be a JSON object")
    for key in body:
        if key not in _USED and key not in IGNORED and key not in _OFF_VALUES:
            raise APIError(f"Unrecognized request argument supplied: {key}", param=key)
    for key, allowed in _OFF_VALUES.items():
        if key in body and body[key] not in allowed:
            raise APIError(f"'{key}' = {json.dumps(body[key])[:60]} is not supported by this "
                           f"server (supported: {', '.join(json.dumps(v) for v in allowed)})",
                           param=key, code="unsupported_parameter")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise APIError("'model' must be a non-empty string", param="model")
    messages = _messages(body.get("messages"), limits)
    if body.get("tools") is not None:
        if isinstance(body["tools"], list) and len(body["tools"]) > limits.max_tools:
            raise _over("the number of tools", len(body["tools"]), limits.max_tools,
                        "max_tools", "tools")
        tools = _tools(body["tools"])
    else:
        tools = None
    tool_choice = body.get("tool_choice")
    call_names = _call_names(tool_choice, tools)
    strict = any(isinstance(entry, dict) and (entry.get("function") or entry).get("strict")
                 is True for entry in body.get("tools") or [])
    return ChatRequest(model=model, messages=messages,
                       tools=None if tool_choice == "none" else tools,
                       max_tokens=_max_tokens(body, limits), settings=_settings(body),
                       call_names=call_names, strict=strict, stream=_stream(body),
                       include_usage=_include_usage(body))


def _stream(body: dict[str, Any]) -> bool:
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise APIError("'stream' must be a boolean", param="stream")
    return bool(stream)


def _include_usage(body: dict[str, Any]) -> bool:
    """OpenAI's one stream option; like the OpenAI API, options without streaming are refused
    rather than ignored."""
    options = body.get("stream_options")
    if options is None:
        return False
    if not body.get("stream"):
        raise APIError("'stream_options' is only allowed when 'stream' is true",
                       param="stream_options")
    if not isinstance(options, dict) or set(options) - {"include_usage"} or not isinstance(
            options.get("include_usage", False), bool):
        raise APIError("'stream_options' must be {\"include_usage\": true|false}",
                       param="stream_options")
    return bool(options.get("include_usage"))


def _call_names(tool_choice: Any, tools: list[dict[str, Any]] | None) -> tuple[str, ...] | None:
    """What `tool_choice` lets the call name: "auto" / "none" / absent: anything offered
    (generate_response included); "required": an offered tool, never generate_response;
    `{"type": "function", "function": {"name": X}}`: X only."""
    if tool_choice is None or tool_choice in ("auto", "none"):
        return None
    if tools is None:
        raise APIError("tool_choice needs 'tools'", param="tool_choice")
    if tool_choice == "required":
        return tuple(tool["name"] for tool in tools)
    function = tool_choice.get("function") if isinstance(tool_choice, dict) else None
    if (not isinstance(tool_choice, dict) or tool_choice.get("type") != "function"
            or not isinstance(function, dict) or not isinstance(function.get("name"), str)):
        raise APIError(f"tool_choice must be one of {', '.join(_CHOICES)} or "
                       '{"type": "function", "function": {"name": ...}}', param="tool_choice")
    if function["name"] not in {tool["name"] for tool in tools}:
        raise APIError(f"tool_choice names {function['name']!r}, which 'tools' does not offer",
                       param="tool_choice")
    return (function["name"],)


def _text(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for i, part in enumerate(content):
            if not (isinstance(part, dict) and part.get("type") == "text"
                    and isinstance(part.get("text"), str)):
                raise APIError(f"{where}[{i}] must be a text part ({{\"type\": \"text\", "
                               "\"text\": ...}); this model reads text only", param=where)
            texts.append(part["text"])
        return "\n".join(texts)
    raise APIError(f"{where} must be a string or a list of text parts", param=where)


def _messages(raw: Any, limits: Limits) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise APIError("'messages' must be a non-empty list", param="messages")
    if len(raw) > limits.max_messages:
        raise _over("the number of messages", len(raw), limits.max_messages, "max_messages",
                    "messages")
    messages = []
    for i, message in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise APIError(f"{where} must be an object", param=where)
        role = message.get("role")
        if role not in ROLES:
            raise APIError(f"{where}.role must be one of {', '.join(ROLES)}",
                           param=f"{where}.role")
        content = _text(message.get("content"), f"{where}.content")
        if len(content) > limits.max_message_chars:
            raise _over(f"the length of {where}.content in characters", len(content),
                        limits.max_message_chars, "max_message_chars", f"{where}.content")
        if role == "assistant" and message.get("tool_calls"):
            content = "\n".join(filter(None, [content, *_call_lines(message["tool_calls"],
                                                                     where)]))
        messages.append({"role": role, "content": content})
    if not any(m["role"] == "user" for m in messages):
        raise APIError("'messages' must contain a user message (the query)", param="messages")
    return messages


def _call_lines(tool_calls: Any, where: str) -> list[str]:
    """An earlier assistant call, written back in the model's own `Call:` format."""
    if not isinstance(tool_calls, list):
        raise APIError(f"{where}.tool_calls must be a list", param=f"{where}.tool_calls")
    lines = []
    for j, call in enumerate(tool_calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise APIError(f"{where}.tool_calls[{j}].function needs a string 'name'",
                           param=f"{where}.tool_calls[{j}].function")
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except (TypeError, json.JSONDecodeError):
            raise APIError(f"{where}.tool_calls[{j}].function.arguments must be a JSON string",
                           param=f"{where}.tool_calls[{j}].function.arguments") from None
        lines.append("Call: " + json.dumps({"name": function["name"], "arguments": arguments},
                                           ensure_ascii=False))
    return lines


def _tools(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise APIError("'tools' must be a non-empty list of function tools", param="tools")
    tools, names = [], set()
    for i, entry in enumerate(raw):
        where = f"tools[{i}]"
        if isinstance(entry, dict) and "type" in entry and entry["type"] != "function":
            raise APIError(f"{where}.type must be 'function'", param=f"{where}.type")
        tool = normalize_tool(entry)
        if tool is not entry:
            where += ".function"
        if not isinstance(tool, dict):
            raise APIError(f"{where} must be an object", param=where)
        # OpenAI makes both optional; the prompt renders them, so give them their empty forms.
        tool = {"description": "", "parameters": {"type": "object", "properties": {}},
                **{key: tool[key] for key in _TOOL_KEYS if key in tool}}
        try:
            validate_tool(tool, where)
        except ValueError as error:
            raise APIError(str(error), param=where) from None
        if tool["name"] == DEFAULT_TOOL:
            raise APIError(f"{where}.name: {DEFAULT_TOOL} is built in (the server always adds "
                           "it); do not declare it", param=f"{where}.name")
        if tool["name"] in names:
            raise APIError(f"{where}.name: duplicate tool name {tool['name']!r}",
                           param=f"{where}.name")
        names.add(tool["name"])
        tools.append(tool)
    return tools


def _max_tokens(body: dict[str, Any], limits: Limits) -> int | None:
    given = [key for key in ("max_completion_tokens", "max_tokens") if body.get(key) is not None]
    if len(given) == 2 and body["max_tokens"] != body["max_completion_tokens"]:
        raise APIError("give max_tokens or max_completion_tokens, not both", param="max_tokens")
    if not given:
        return None
    value = body[given[0]]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise APIError(f"'{given[0]}' must be an integer >= 1", param=given[0])
    if value > limits.max_completion_tokens:
        raise _over(f"'{given[0]}'", value, limits.max_completion_tokens,
                    "max_completion_tokens", given[0])
    return value


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float,
            low_open: bool = False) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value > high or value < low or (low_open and value == low):
        bound = "(" if low_open else "["
        raise APIError(f"'{key}' must be a number in {bound}{low:g}, {high:g}]", param=key)
    return float(value)


def _settings(body: dict[str, Any]) -> SamplingSettings:
    """temperature 0 (the default here: GenTool's calls are evaluated greedily) is greedy."""
    return SamplingSettings(temperature=_number(body, "temperature", 0.0, 0.0, 2.0),
                            top_p=_number(body, "top_p", 1.0, 0.0, 1.0, low_open=True))
