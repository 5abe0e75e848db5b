"""A request's prompt tokens: the exact training prompt in tool mode, the chat template otherwise.

Tool mode builds a DESIGN §2 record from the request (its tools in the order given, the last
user message as the query) and renders it with `data.render.encode_prompt`, the function
training and evaluation use, so a served model sees token for token the framing it was trained
on (a system message of its own: the request's system messages are not part of it).
"""

from __future__ import annotations

from typing import Any

from gentool_jax.data.render import encode_prompt
from gentool_jax.records import DEFAULT_TOOL, Record, validate_record
from gentool_jax.serve.errors import APIError
from gentool_jax.serve.request import ChatRequest


def request_record(request: ChatRequest) -> Record:
    """The GenTool record of a tool-mode request.

    The gold fields (`ranking`, `call`, `variant`) are unknown at serving time; they get the
    placeholder values of a "no suitable tool" record so the record passes the same schema check
    as every other record before it is rendered.
    """
    if not request.query.strip():
        raise APIError("the last user message (the query) is empty", param="messages")
    tools = list(request.tools or [])
    record = {"id": "request", "query": request.query, "tools": tools,
              "ranking": [*(tool["name"] for tool in tools), DEFAULT_TOOL],
              "call": {"name": DEFAULT_TOOL, "arguments": {}}, "variant": "none",
              "scenario": "serve", "meta": {}}
    try:
        validate_record(record, any_scenario=True)
    except ValueError as error:
        raise APIError(f"the tools do not make a GenTool record: {error}",
                       param="tools") from None
    return record


def prompt_tokens(request: ChatRequest, tokenizer: Any, tool_style: str) -> list[int]:
    """Token ids the sampler continues, generation header included."""
    try:
        if request.tool_mode:
            return encode_prompt(request_record(request), tokenizer, tool_style)
        rendered = tokenizer.apply_chat_template(request.messages, add_generation_prompt=True,
                                                 tokenize=True)
    except APIError:
        raise
    except Exception as error:  # a template's own checks (role order, ...) raise anything
        raise APIError(f"the model's chat template cannot render these messages: {error}",
                       param="messages") from None
    # transformers 5 returns a BatchEncoding by default; older versions a plain list.
    if hasattr(rendered, "keys") and "input_ids" in rendered:
        rendered = rendered["input_ids"]
    return [int(token) for token in rendered]
