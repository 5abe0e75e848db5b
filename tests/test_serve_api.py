"""The server off localhost: API key, request limits and streaming, with the official client.

One in-process server over a scripted generator (known replies, so a streamed tool call can be
compared with the non-streamed one exactly), with an API key and deliberately small limits.
"""

import json

import httpx
import openai
import pytest
from serve_common import running_server

from gentool_jax.errors import GentoolError
from gentool_jax.model.registry import load_tokenizer
from gentool_jax.serve.app import Service
from gentool_jax.serve.batcher import Batcher
from gentool_jax.serve.command import exposure_warning
from gentool_jax.serve.request import Limits

KEY = "sk-test-0123456789"
MODEL = "fake-gentool"
FORECAST = {"name": "hourly_forecast", "description": "Hourly weather for a city and day.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                            "day": {"type": "string"}}}}
TOOLS = [{"type": "function", "function": FORECAST}]
CALL = {"name": "hourly_forecast",
        "arguments": {"city": "Lisbon, the capital of Portugal", "day": "tomorrow afternoon"}}
REPLIES = {"umbrella": 'Ranking: ["hourly_forecast", "generate_response"]\nCall: '
                       + json.dumps(CALL),
           "hello": "Hello there! This answer is long enough to be streamed in several pieces."}
LIMITS = Limits(max_tools=2, max_messages=3, max_message_chars=200, max_completion_tokens=50)
MAX_BODY = 4000


class Scripted:
    def __init__(self, tokenizer):
        self.tokenizer, self.stop = tokenizer, tokenizer.convert_tokens_to_ids("<|im_end|>")

    def __call__(self, prompts, settings, max_new_tokens, grammars=None, prefix_lengths=None):
        replies = [next((r for word, r in REPLIES.items() if word in self.tokenizer.decode(p)),
                        "?") for p in prompts]
        return [self.tokenizer.encode(r, add_special_tokens=False) + [self.stop]
                for r in replies]


def _refuse_schemas_with_enum(grammar):
    if any("enum" in json.dumps(tool) for tool in grammar.tools):
        raise GentoolError("the grammar engine refuses this schema")


@pytest.fixture(scope="module")
def server(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    generator = Scripted(tokenizer)
    service = Service(model_id=MODEL, tokenizer=tokenizer,
                      batcher=Batcher(generator, batch_size=4, window_s=0.01),
                      stop_ids=[generator.stop], tool_style="compact", max_tokens=400,
                      context_length=2048, check_grammar=_refuse_schemas_with_enum, api_key=KEY,
                      limits=LIMITS, max_body_bytes=MAX_BODY)
    with running_server(service) as url:
        yield url


def _client(base_url: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0, timeout=60)


def _ask(client, query="umbrella?", **kwargs):
    return client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": query}], **kwargs)


def test_the_api_key_is_required_everywhere_but_health(server):
    with pytest.raises(openai.AuthenticationError) as caught:
        _ask(_client(server, "sk-wrong"), tools=TOOLS)
    assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
    assert caught.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.AuthenticationError):
        _client(server, KEY + "x").models.list()
    for path in ("/v1/models", "/metrics", "/v1/no/such/route"):
        response = httpx.get(server + path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "invalid_api_key"
    assert httpx.get(server + "/health").json() == {"status": "ok"}
    reply = _ask(_client(server), tools=TOOLS)
    assert reply.choices[0].message.tool_calls[0].function.name == "hourly_forecast"
    assert httpx.get(server + "/metrics", headers={"Authorization": f"Bearer {KEY}"}
                     ).status_code == 200


def _tools(count: int) -> list[dict]:
    return [{"type": "function", "function": {"name": f"t{i}", "description": "d"}}
            for i in range(count)]


OVER_LIMITS = [
    ("tools", {"tools": _tools(3)}, "tools", "serve.max_tools"),
    ("messages", {"messages": [{"role": "user", "content": "umbrella"}] * 4}, "messages",
     "serve.max_messages"),
    ("message length", {"messages": [{"role": "user", "content": "umbrella " * 30}]},
     "messages[0].content", "serve.max_message_chars"),
    ("max_tokens", {"max_tokens": 51}, "max_tokens", "serve.max_completion_tokens"),
    ("max_completion_tokens", {"max_completion_tokens": 51}, "max_completion_tokens",
     "serve.max_completion_tokens"),
]


@pytest.mark.parametrize("fields, param, limit", [case[1:] for case in OVER_LIMITS],
                         ids=[case[0] for case in OVER_LIMITS])
def test_each_limit_is_a_400_naming_it(server, fields, param, limit):
    arguments = {"messages": [{"role": "user", "content": "umbrella?"}], "tools": TOOLS,
                 **fields}
    with pytest.raises(openai.BadRequestError) as caught:
        _client(server).chat.completions.create(model=MODEL, **arguments)
    assert caught.value.param == param and caught.value.code == "limit_exceeded"
    assert limit in caught.value.message
    at_the_limit = {"tools": _tools(2), "max_tokens": 50}  # the limits themselves pass
    assert _ask(_client(server), **at_the_limit).choices[0].message.role == "assistant"


def test_a_large_body_is_a_413_whether_declared_or_chunked(server):
    big = {"model": MODEL, "messages": [{"role": "user", "content": "umbrella?"}],
           "tools": TOOLS, "metadata": {"pad": "x" * MAX_BODY}}
    with pytest.raises(openai.APIStatusError) as caught:
        _client(server).chat.completions.create(
            model=MODEL, messages=big["messages"], tools=TOOLS, metadata=big["metadata"])
    assert caught.value.status_code == 413 and "serve.max_body_bytes" in caught.value.message
    encoded = json.dumps(big).encode()
    chunked = httpx.post(server + "/v1/chat/completions",
                         content=(encoded[i:i + 1000] for i in range(0, len(encoded), 1000)),
                         headers={"Authorization": f"Bearer {KEY}"})
    assert chunked.status_code == 413
    assert chunked.json()["error"]["code"] == "limit_exceeded"


def test_a_schema_the_grammar_refuses_is_the_requests_error(server):
    tools = [{"type": "function", "function": {
        "name": "pick", "parameters": {"type": "object", "properties": {
            "color": {"type": "string", "enum": ["red"]}}}}}]
    with pytest.raises(openai.BadRequestError) as caught:
        _ask(_client(server), tools=tools)
    assert caught.value.param == "tools"


def _streamed(client, **kwargs):
    return list(_ask(client, stream=True, **kwargs))


def test_a_streamed_tool_call_reassembles_to_the_non_streamed_reply(server):
    client = _client(server)
    whole = _ask(client, tools=TOOLS).choices[0]
    chunks = _streamed(client, tools=TOOLS)
    assert all(c.object == "chat.completion.chunk" and c.model == MODEL for c in chunks)
    assert len({c.id for c in chunks}) == 1
    deltas = [c.choices[0].delta for c in chunks]
    assert deltas[0].role == "assistant"
    calls = [d.tool_calls[0] for d in deltas if d.tool_calls]
    assert calls[0].function.name == "hourly_forecast" and calls[0].id.startswith("call_")
    assert all(c.function.name is None and c.index == 0 for c in calls[1:])
    assert len(calls) > 3  # the arguments came in fragments
    arguments = "".join(c.function.arguments for c in calls)
    expected = whole.message.tool_calls[0].function
    assert arguments == expected.arguments and json.loads(arguments) == CALL["arguments"]
    assert [c.choices[0].finish_reason for c in chunks] == [None] * (len(chunks) - 1) + [
        "tool_calls"]
    assert deltas[-1].gentool["call"] == whole.message.gentool["call"]
    assert not any(d.content for d in deltas)


def test_streamed_content_and_usage(server):
    client = _client(server)
    whole = _ask(client, "hello")
    chunks = _streamed(client, query="hello", stream_options={"include_usage": True})
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content == REPLIES["hello"]
    assert sum(bool(c.choices and c.choices[0].delta.content) for c in chunks) > 1
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.model_dump() == \
        whole.usage.model_dump()
    assert all(c.usage is None for c in chunks[:-1])


def test_a_refused_stream_is_an_ordinary_error(server):
    with pytest.raises(openai.BadRequestError) as caught:
        _streamed(_client(server), tools=TOOLS, max_tokens=51)
    assert caught.value.param == "max_tokens"


@pytest.mark.parametrize("host, key, warned", [
    ("127.0.0.1", None, False), ("localhost", None, False), ("::1", None, False),
    ("0.0.0.0", None, True), ("10.1.2.3", None, True), ("my-host.example", None, True),
    ("0.0.0.0", KEY, False),
])
def test_a_non_loopback_address_without_a_key_warns(host, key, warned):
    warning = exposure_warning(host, key, "GENTOOL_JAX_API_KEY")
    assert (warning is not None) == warned
    if warned:
        assert "\n" not in warning and host in warning and "GENTOOL_JAX_API_KEY" in warning
