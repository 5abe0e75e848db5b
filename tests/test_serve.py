"""`gentool-jax serve`: the OpenAI Chat Completions server, driven with the official client.

Two servers: one in-process over a scripted generator (the tiny random model writes garbage, so
exact tool calls, abstention and unreadable output are checked with known replies), and the real
command in a subprocess over the tiny random model (response shape, batching of concurrent
requests through the real sampler, graceful SIGTERM).
"""

import concurrent.futures
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest
from serve_common import free_port, running_server

from gentool_jax.cli import main
from gentool_jax.data.render import encode_prompt
from gentool_jax.model.registry import load_tokenizer
from gentool_jax.records import DEFAULT_TOOL
from gentool_jax.serve.app import Service
from gentool_jax.serve.batcher import Batcher
from gentool_jax.serve.reply import ABSTAIN_TEXT

REPO_ROOT = Path(__file__).resolve().parent.parent
FORECAST = {"name": "hourly_forecast", "description": "Hourly weather for a city and day.",
            "parameters": {"type": "object",
                           "properties": {"city": {"type": "string"},
                                          "day": {"type": "string"}},
                           "required": ["city"]}}
QUOTE = {"name": "stock_quote", "description": "The latest trade price of a stock symbol.",
         "parameters": {"type": "object", "properties": {"symbol": {"type": "string"}},
                        "required": ["symbol"]}}
TOOLS = [{"type": "function", "function": FORECAST}, {"type": "function", "function": QUOTE}]
RANKING = ["hourly_forecast", "generate_response", "stock_quote"]
# What the scripted model answers, by a word of the query.
REPLIES = {
    "umbrella": "Ranking: " + json.dumps(RANKING) + "\nCall: " + json.dumps(
        {"name": "hourly_forecast", "arguments": {"city": "Lisbon", "day": "tomorrow"}}),
    "joke": 'Ranking: ["generate_response", "hourly_forecast", "stock_quote"]\n'
            'Call: {"name": "generate_response", "arguments": {}}',
    "ramble": "I think maybe the weather tool, or not",
    "hello": "Hello there!",
}
MODEL = "fake-gentool"


def _client(base_url: str) -> openai.OpenAI:
    # No retries: a failed request must fail the test, not be silently sent again.
    return openai.OpenAI(base_url=base_url + "/v1", api_key="unused", max_retries=0,
                         timeout=120)


def _metric(base_url: str, name: str) -> int:
    text = httpx.get(base_url + "/metrics").text
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith(name + " ")))


def _batches_run(base_url: str) -> int:
    return _metric(base_url, "gentool_serve_batches_total")


class ScriptedModel:
    """A batcher generator that answers from REPLIES; slow enough that requests pile up."""

    def __init__(self, tokenizer):
        self.tokenizer, self.stop = tokenizer, tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.prompts: list[list[int]] = []
        self.batch_sizes: list[int] = []
        self.grammars: list = []

    def __call__(self, prompts, settings, max_new_tokens, grammars=None, prefix_lengths=None):
        time.sleep(0.05)
        self.batch_sizes.append(len(prompts))
        self.prompts += prompts
        self.grammars += grammars
        outputs = []
        for prompt in prompts:
            text = self.tokenizer.decode(prompt)
            if "explode" in text:
                raise RuntimeError("device lost")
            reply = next((r for word, r in REPLIES.items() if word in text), "?")
            outputs.append(self.tokenizer.encode(reply, add_special_tokens=False) + [self.stop])
        return outputs


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return load_tokenizer(tiny_model_dir)


@pytest.fixture(scope="module")
def scripted(tokenizer):
    """(base url, scripted model) of an in-process server on a free port."""
    model = ScriptedModel(tokenizer)
    service = Service(model_id=MODEL, tokenizer=tokenizer,
                      batcher=Batcher(model, batch_size=8, window_s=0.02),
                      stop_ids=[model.stop], tool_style="compact", max_tokens=64,
                      context_length=2048)
    with running_server(service) as url:
        yield url, model


def _ask(client, query, **kwargs):
    return client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": query}], **kwargs)


def test_models_lists_the_served_model(scripted):
    client = _client(scripted[0])
    assert [m.id for m in client.models.list().data] == [MODEL]
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_tool_call_uses_the_training_prompt_and_returns_the_call(scripted, tokenizer):
    base_url, model = scripted
    reply = _ask(_client(base_url), "Will I need an umbrella in Lisbon tomorrow?", tools=TOOLS)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.id.startswith("call_") and call.type == "function"
    assert call.function.name == "hourly_forecast"
    assert json.loads(call.function.arguments) == {"city": "Lisbon", "day": "tomorrow"}
    extra = choice.message.gentool
    assert extra["ranking"] == RANKING and extra["valid"] and extra["raw"] == REPLIES["umbrella"]
    record = {"query": "Will I need an umbrella in Lisbon tomorrow?", "tools": [FORECAST, QUOTE]}
    expected = encode_prompt(record, tokenizer, "compact")
    assert model.prompts[-1] == expected
    assert reply.usage.prompt_tokens == len(expected)
    assert reply.usage.completion_tokens == len(
        tokenizer.encode(REPLIES["umbrella"], add_special_tokens=False)) + 1
    assert reply.model == MODEL and reply.object == "chat.completion"


def test_abstention_is_plain_content(scripted):
    reply = _ask(_client(scripted[0]), "Tell me a joke", tools=TOOLS)
    choice = reply.choices[0]
    assert choice.finish_reason == "stop"
    assert not choice.message.tool_calls
    assert choice.message.content == ABSTAIN_TEXT
    assert choice.message.gentool["call"] == {"name": DEFAULT_TOOL, "arguments": {}}


def test_unreadable_output_comes_back_as_raw_content(scripted):
    reply = _ask(_client(scripted[0]), "ramble about it", tools=TOOLS)
    message = reply.choices[0].message
    assert message.content == REPLIES["ramble"] and not message.tool_calls
    assert message.gentool["valid"] is False and message.gentool["call"] is None


def test_without_tools_renders_the_chat_template(scripted, tokenizer):
    base_url, model = scripted
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]
    reply = _client(base_url).chat.completions.create(model=MODEL, messages=messages)
    assert reply.choices[0].message.content == "Hello there!"
    assert reply.choices[0].finish_reason == "stop"
    assert model.prompts[-1] == tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=True)["input_ids"]


def test_after_a_tool_result_the_conversation_is_a_plain_chat(scripted, tokenizer):
    base_url, model = scripted
    call = {"id": "call_1", "type": "function",
            "function": {"name": "hourly_forecast", "arguments": '{"city": "Lisbon"}'}}
    messages = [{"role": "user", "content": "umbrella in Lisbon?"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": "rain, hello"}]
    reply = _client(base_url).chat.completions.create(model=MODEL, messages=messages,
                                                      tools=TOOLS)
    message = reply.choices[0].message
    assert not message.tool_calls and not hasattr(message, "gentool")
    rendered = [messages[0],
                {"role": "assistant",
                 "content": 'Call: {"name": "hourly_forecast", "arguments": {"city": "Lisbon"}}'},
                {"role": "tool", "content": "rain, hello"}]
    assert model.prompts[-1] == tokenizer.apply_chat_template(
        rendered, add_generation_prompt=True, tokenize=True)["input_ids"]


def test_max_tokens_cuts_the_answer(scripted):
    reply = _ask(_client(scripted[0]), "umbrella?", tools=TOOLS, max_tokens=3)
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 3 and not reply.choices[0].message.tool_calls


def test_concurrent_requests_are_answered_in_few_batches(scripted):
    base_url, model = scripted
    before, sizes_before = _batches_run(base_url), len(model.batch_sizes)
    client = _client(base_url)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(
            lambda i: _ask(client, f"Umbrella number {i}? umbrella", tools=TOOLS), range(16)))
    assert all(r.choices[0].message.tool_calls[0].function.name == "hourly_forecast"
               for r in replies)
    batches = _batches_run(base_url) - before
    assert batches == len(model.batch_sizes) - sizes_before
    assert batches < 16 and max(model.batch_sizes[sizes_before:]) > 1
    assert max(model.batch_sizes) <= 8


BAD_REQUESTS = [
    ("unknown model", {"model": "gpt-4o"}, 404, "model"),
    ("tool without a name", {"tools": [{"type": "function", "function": {"description": "x"}}]},
     400, "tools[0].function"),
    ("tool of another type", {"tools": [{"type": "retrieval"}]}, 400, "tools[0].type"),
    ("no user message", {"messages": [{"role": "system", "content": "hi"}]}, 400, "messages"),
    ("prompt too long", {"messages": [{"role": "user", "content": "umbrella " * 3000}]}, 400,
     "messages"),
    ("n > 1", {"n": 2}, 400, "n"),
    ("stream not a boolean", {"stream": "yes"}, 400, "stream"),
    ("stream options without streaming", {"stream_options": {"include_usage": True}}, 400,
     "stream_options"),
    ("stop sequences", {"stop": ["\n"]}, 400, "stop"),
    ("temperature out of range", {"temperature": 3}, 400, "temperature"),
    ("unknown argument", {"best_of": 3}, 400, "best_of"),
]


@pytest.mark.parametrize("fields, status, param", [b[1:] for b in BAD_REQUESTS],
                         ids=[b[0] for b in BAD_REQUESTS])
def test_bad_requests_get_openai_errors_and_the_server_keeps_serving(scripted, fields, status,
                                                                     param):
    base_url, _ = scripted
    body = {"model": MODEL, "messages": [{"role": "user", "content": "umbrella?"}],
            "tools": TOOLS, **fields}
    response = httpx.post(base_url + "/v1/chat/completions", json=body, timeout=60)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert error["message"]
    assert _ask(_client(base_url), "umbrella?", tools=TOOLS).choices[0].finish_reason == \
        "tool_calls"


def test_tool_choice_and_strict_become_the_grammar(scripted):
    base_url, model = scripted
    client = _client(base_url)
    asked = [("auto", None), ("required", ("hourly_forecast", "stock_quote")),
             ({"type": "function", "function": {"name": "stock_quote"}}, ("stock_quote",))]
    for choice, names in asked:
        _ask(client, "umbrella?", tools=TOOLS, tool_choice=choice)
        grammar = model.grammars[-1]
        assert grammar.reply.call_names == names
        assert [tool["name"] for tool in grammar.tools] == ["hourly_forecast", "stock_quote"]
    _ask(client, "hello", tools=TOOLS, tool_choice="none")
    _ask(client, "hello")
    assert model.grammars[-2:] == [None, None]  # chat mode is never constrained
    for choice, message in (({"type": "function", "function": {"name": "nope"}}, "nope"),
                            ("sometimes", "tool_choice must be one of")):
        with pytest.raises(openai.BadRequestError, match=message) as error:
            _ask(client, "umbrella?", tools=TOOLS, tool_choice=choice)
        assert error.value.body["param"] == "tool_choice"


def test_strict_tools_are_constrained_when_the_server_decodes_freely(tokenizer):
    from gentool_jax.serve.app import _grammar
    from gentool_jax.serve.request import parse_request

    service = Service(model_id=MODEL, tokenizer=tokenizer, batcher=None, stop_ids=[],
                      tool_style="compact", max_tokens=8, context_length=64, constrain=False)
    body = {"model": MODEL, "messages": [{"role": "user", "content": "umbrella?"}],
            "tools": TOOLS}
    assert _grammar(service, parse_request(body)) is None
    strict = [{"type": "function", "function": {**FORECAST, "strict": True}}, TOOLS[1]]
    assert _grammar(service, parse_request({**body, "tools": strict})) is not None
    required = parse_request({**body, "tool_choice": "required"})
    assert _grammar(service, required).reply.call_names == ("hourly_forecast", "stock_quote")


def test_the_selection_heads_pick_holds_the_reply_unless_tool_choice_names_tools(tokenizer):
    """With a head (`Service.select`), a tool-mode request's grammar opens with its pick and
    calls it; a named tool_choice overrides it; chat mode never asks it."""
    model = ScriptedModel(tokenizer)
    asked: list[tuple[list[str], str]] = []

    def select(tools, query):
        asked.append(([tool["name"] for tool in tools], query))
        return "stock_quote"

    service = Service(model_id=MODEL, tokenizer=tokenizer,
                      batcher=Batcher(model, batch_size=8, window_s=0.02),
                      stop_ids=[model.stop], tool_style="compact", max_tokens=64,
                      context_length=2048, select=select)
    with running_server(service) as url:
        client = _client(url)
        _ask(client, "umbrella?", tools=TOOLS)
        reply = model.grammars[-1].reply
        assert (reply.first_ranked, reply.call_names) == ("stock_quote", ("stock_quote",))
        assert asked == [(["hourly_forecast", "stock_quote"], "umbrella?")]
        named = {"type": "function", "function": {"name": "hourly_forecast"}}
        _ask(client, "umbrella?", tools=TOOLS, tool_choice=named)
        reply = model.grammars[-1].reply
        assert (reply.first_ranked, reply.call_names) == (None, ("hourly_forecast",))
        _ask(client, "hello")
        assert model.grammars[-1] is None and len(asked) == 1


def test_invalid_json_and_typed_client_errors(scripted):
    base_url, _ = scripted
    response = httpx.post(base_url + "/v1/chat/completions", content=b"{not json",
                          headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as caught:
        _ask(_client(base_url), "umbrella", tools=TOOLS, n=3)
    assert caught.value.status_code == 400 and caught.value.param == "n"
    with pytest.raises(openai.NotFoundError):
        _client(base_url).chat.completions.create(
            model="nope", messages=[{"role": "user", "content": "hi"}])


def test_a_failed_generation_is_a_server_error_not_a_crash(scripted):
    base_url, _ = scripted
    with pytest.raises(openai.InternalServerError) as caught:
        _ask(_client(base_url), "explode", tools=TOOLS)
    assert caught.value.body["type"] == "server_error"
    assert _ask(_client(base_url), "hello").choices[0].message.content == "Hello there!"


@pytest.mark.parametrize("argv, code", [
    (["--checkpoint=/no/such/checkpoint"], 1),
    (["--port=http"], 1),
    (["--config.serve.batch_size=0"], 2),
])
def test_command_refuses_bad_options_before_listening(argv, code, tmp_path):
    assert main(["serve", "--config=configs/smoke.py", f"--config.workdir={tmp_path}",
                 *argv]) == code


@pytest.fixture(scope="module")
def real_server(tiny_model_dir, tmp_path_factory):
    """(base url, process) of `gentool-jax serve` over the tiny random model."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}  # one CPU device
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gentool_jax.cli", "serve", "--config=configs/smoke.py",
             f"--config.model.name={tiny_model_dir}",
             f"--config.workdir={tmp_path_factory.mktemp('workdir')}",
             "--config.serve.batch_size=8", f"--port={port}"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base_url + "/health", timeout=1).status_code == 200:
                break
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"server did not start:\n{log.read_text()[-3000:]}")
    yield base_url, process, log
    if process.poll() is None:
        process.kill()
        process.wait()


def _real_ask(base_url, query, max_tokens=16, model=None):
    return _client(base_url).chat.completions.create(
        model=model or _served_id(base_url), messages=[{"role": "user", "content": query}],
        tools=TOOLS, max_tokens=max_tokens)


def _served_id(base_url):
    return httpx.get(base_url + "/v1/models").json()["data"][0]["id"]


def test_real_sampler_answers_in_the_openai_shape(real_server, tiny_model_dir):
    base_url = real_server[0]
    assert _served_id(base_url) == Path(tiny_model_dir).name  # derived from model.name
    reply = _real_ask(base_url, "Will I need an umbrella in Lisbon tomorrow?")
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert choice.finish_reason in ("tool_calls", "stop", "length")
    assert isinstance(choice.message.gentool["raw"], str)
    if choice.finish_reason == "tool_calls":
        assert choice.message.tool_calls[0].function.name in ("hourly_forecast", "stock_quote")
    else:
        assert isinstance(choice.message.content, str) and not choice.message.tool_calls
    assert reply.usage.prompt_tokens > 100 and 1 <= reply.usage.completion_tokens <= 16


def test_real_sampler_honours_a_named_tool_choice(real_server):
    base_url = real_server[0]
    reply = _client(base_url).chat.completions.create(
        model=_served_id(base_url), messages=[{"role": "user", "content": "Price of ACME?"}],
        tools=TOOLS, max_tokens=256,
        tool_choice={"type": "function", "function": {"name": "stock_quote"}})
    choice = reply.choices[0]
    raw = choice.message.gentool["raw"]
    # the random model's reply follows the grammar: the trained format, the named tool
    assert raw.startswith("Ranking: [")
    if choice.finish_reason == "tool_calls":
        call = choice.message.tool_calls[0].function
        assert call.name == "stock_quote"
        assert set(json.loads(call.arguments)) <= set(QUOTE["parameters"]["properties"])
    else:
        assert choice.finish_reason == "length"
        assert '"name": "hourly_forecast"' not in raw


def test_real_sampler_batches_concurrent_requests(real_server):
    base_url = real_server[0]
    before = _batches_run(base_url)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda i: _real_ask(base_url, f"Umbrella in city {i}?"),
                                range(16)))
    assert all(len(r.choices) == 1 and r.usage.completion_tokens >= 1 for r in replies)
    assert _batches_run(base_url) - before < 16


def test_sigterm_finishes_the_request_in_flight_and_exits_0(real_server):
    base_url, process, log = real_server
    model = _served_id(base_url)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        # A new token budget compiles a new program first: the request stays in flight.
        pending = pool.submit(_real_ask, base_url, "Umbrella tomorrow?", 64, model)
        deadline = time.monotonic() + 60
        while _metric(base_url, "gentool_serve_requests_in_flight") == 0:
            assert time.monotonic() < deadline and not pending.done()
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        reply = pending.result(timeout=120)
    assert reply.choices[0].message.role == "assistant"
    assert process.wait(timeout=120) == 0, log.read_text()[-3000:]
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/health", timeout=2)
