"""A request's prompt tokens: the exact training prompt in tool mode, the chat template otherwise.

Tool mode builds a DESIGN §2 record from the request (its tools in the order given, the last
user message as the query) and renders it with `data.render.encode_prompt`, the function
training and evaluation use, so a served model sees token for token the framing it was trained
on (a system message of its own: the request's system messages are not part of it).
"""

from __future__ import annotations

from typing import Any

from gentool_jax.data.render import encode_prompt, prompt_messages
from gentool_jax.data.shared_prefix import common_prefix_length
from gentool_jax.records import DEFAULT_TOOL, Record, validate_record
from gentool_jax.serve.http_errors import APIError
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
    return _ids(rendered)


def _ids(rendered: Any) -> list[int]:
    # transformers 5 returns a BatchEncoding by default; older versions a plain list.
    if hasattr(rendered, "keys") and "input_ids" in rendered:
        rendered = rendered["input_ids"]
    return [int(token) for token in rendered]


def prefix_length(request: ChatRequest, tokenizer: Any, tool_style: str, prompt: list[int]
                  ) -> int:
    """How many leading tokens of a tool-mode `prompt` are its toolset prefix (the system turn
    with the instructions and tools), which requests with the same toolset share; 0 in chat
    mode. It is the common prefix of the prompt and the system turn rendered alone, so it never
    depends on where the chat template happens to merge tokens, and at least the prompt's last
    token stays the request's own (its logits start generation)."""
    if not request.tool_mode:
        return 0
    system = prompt_messages(request_record(request), tool_style)[:1]
    rendered = _ids(tokenizer.apply_chat_template(system, tokenize=True))
    return min(common_prefix_length([prompt, rendered]), len(prompt) - 1)
