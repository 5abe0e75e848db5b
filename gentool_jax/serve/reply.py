"""Generated text → the assistant message and finish_reason of a chat completion.

Model output is untrusted (evaluate/parser.py never raises on it), so neither does this: a call
of a declared tool becomes `tool_calls`, a `generate_response` call becomes plain content, and
anything else comes back verbatim as content. The GenTool ranking rides along in an extra
`gentool` field of the message, which the OpenAI clients keep as an extra attribute.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from gentool_jax.evaluate.parser import parse_output
from gentool_jax.records import DEFAULT_TOOL

# Said when the model abstains (calls generate_response) without writing any text of its own:
# a GenTool target ends after the two lines, so a trained model usually writes none.
ABSTAIN_TEXT = "No tool fits this request; the model chose to answer directly."
_TARGET_LINE = re.compile(r"(?i)^[ \t>*#`_-]*(ranking|call)[ \t*_]*:")


def tool_reply(text: str, tool_names: Sequence[str], *, stopped: bool,
               ranking_target: str = "full") -> tuple[dict[str, Any], str]:
    """(message, finish_reason) for a tool-mode generation; `stopped`: it ended on a stop id."""
    parsed = parse_output(text, tool_names, ranking_target=ranking_target)
    extra = {"ranking": parsed.ranking, "call": parsed.call, "valid": parsed.valid,
             "errors": parsed.errors, "raw": text}
    call = parsed.call
    if call is not None and call["name"] in tool_names:
        tool_call = {"id": "call_" + uuid.uuid4().hex[:24], "type": "function",
                     "function": {"name": call["name"],
                                  "arguments": json.dumps(call["arguments"], ensure_ascii=False)}}
        return ({"role": "assistant", "content": None, "tool_calls": [tool_call],
                 "gentool": extra}, "tool_calls")
    finish = "stop" if stopped else "length"
    if call is not None and call["name"] == DEFAULT_TOOL:
        rest = "\n".join(line for line in text.splitlines()
                         if not _TARGET_LINE.match(line)).strip()
        return {"role": "assistant", "content": rest or ABSTAIN_TEXT, "gentool": extra}, finish
    return {"role": "assistant", "content": text, "gentool": extra}, finish


def chat_reply(text: str, *, stopped: bool) -> tuple[dict[str, Any], str]:
    """(message, finish_reason) for a plain chat generation."""
    return {"role": "assistant", "content": text}, "stop" if stopped else "length"
