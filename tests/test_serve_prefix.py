"""The toolset prefix cache across requests, on the tiny random model through the real sampler.

Two in-process servers over the same weights, one with the cache and one without, must give
identical replies (greedy) to the same requests, sequential and concurrent, across toolsets
and in chat mode; a corrupted cache entry must change them (so the comparison can fail and the
cache is really read); the LRU keeps the recently used prefixes; a streamed reply of the real
sampler reassembles to the non-streamed one.
"""

import concurrent.futures
import contextlib
import json

import httpx
import jax.numpy as jnp
import openai
import pytest
from serve_common import running_server

from configs import smoke
from gentool_jax.model.kv_cache import KVCache
from gentool_jax.serve.command import build_service
from gentool_jax.serve.prefix_cache import PrefixStore
from gentool_jax.train.inference import load_for_inference


def _tool(name: str, description: str, **properties: str) -> dict:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object",
                       "properties": {k: {"type": v} for k, v in properties.items()}}}}


WEATHER = [_tool("hourly_forecast", "Hourly weather for a city and day.", city="string",
                 day="string"),
           _tool("stock_quote", "The latest trade price of a stock symbol.", symbol="string")]
TRAVEL = [_tool("find_flight", "Flights between two cities on a date.", origin="string",
                destination="string", date="string")]
MONEY = [_tool("currency_convert", "Convert an amount between currencies.", amount="number",
               to="string")]
QUERIES = ["Will I need an umbrella in Lisbon tomorrow?", "Price of ACME?",
           "Tell me a joke", "Is it windy in Oslo on Friday morning?"]


@pytest.fixture(scope="module")
def loaded(tiny_model_dir):
    config = smoke.get_config()
    config.model.name = str(tiny_model_dir)
    config.serve.batch_size = 4
    # Free decoding: the grammar would write most of a reply itself, hiding what the model
    # read from its prefix (a corrupted prefix left these replies unchanged).
    config.sample.constrain = "none"
    model, tokenizer = load_for_inference(config, None)
    return config, model, tokenizer


@pytest.fixture(scope="module")
def servers(loaded):
    """{"cached": (url, service), "uncached": (url, service)} over the same weights."""
    config, model, tokenizer = loaded
    made = {}
    with contextlib.ExitStack() as running:
        for name, size in (("cached", 2), ("uncached", 0)):
            config.serve.prefix_cache_size = size
            service = build_service(config, model, tokenizer, "tiny")
            made[name] = (running.enter_context(running_server(service)), service)
        yield made


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=300)


def _ask(url: str, query: str, tools: list | None, **kwargs) -> dict:
    """The reply as comparable data: message (tool call ids dropped), finish, usage."""
    reply = _client(url).chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": query}], max_tokens=24,
        **({"tools": tools} if tools else {}), **kwargs)
    message = reply.choices[0].message.model_dump()
    for call in message.get("tool_calls") or []:
        call.pop("id")
    return {"message": message, "finish": reply.choices[0].finish_reason,
            "usage": reply.usage.model_dump()}


def _metric(url: str, name: str) -> int:
    text = httpx.get(url + "/metrics").text
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith(name + " ")))


ASKED = [(q, WEATHER) for q in QUERIES] + [(q, TRAVEL) for q in QUERIES[:2]] + [
    (QUERIES[0], None), (QUERIES[1], WEATHER)]


def test_cached_and_uncached_servers_give_identical_replies(servers):
    cached, uncached = servers["cached"][0], servers["uncached"][0]
    expected = [_ask(uncached, q, tools) for q, tools in ASKED]
    assert [_ask(cached, q, tools) for q, tools in ASKED] == expected
    assert _metric(cached, "gentool_serve_prefix_cache_misses_total") == 2  # WEATHER, TRAVEL
    assert _metric(cached, "gentool_serve_prefix_cache_hits_total") >= 5
    assert "prefix_cache" not in httpx.get(uncached + "/metrics").text
    hits = _metric(cached, "gentool_serve_prefix_cache_hits_total")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # batches of one toolset's rows
        together = list(pool.map(lambda asked: _ask(cached, *asked), ASKED[:4]))
    assert together == expected[:4]
    assert _metric(cached, "gentool_serve_prefix_cache_hits_total") - hits < 4  # shared
    with concurrent.futures.ThreadPoolExecutor(len(ASKED)) as pool:  # batches of mixed rows
        together = list(pool.map(lambda asked: _ask(cached, *asked), ASKED))
    assert together == expected
    assert _metric(cached, "gentool_serve_prefix_cache_misses_total") == 2
    assert _metric(cached, "gentool_serve_prefix_cache_entries") == 2
    assert _ask(cached, QUERIES[0], MONEY) == _ask(uncached, QUERIES[0], MONEY)
    assert _metric(cached, "gentool_serve_prefix_cache_evictions_total") == 1


def test_a_corrupted_entry_changes_the_replies(servers):
    cached, uncached = servers["cached"][0], servers["uncached"][0]
    store = servers["cached"][1].prefixes
    asked = [(q, WEATHER) for q in QUERIES]
    for q, tools in asked:  # WEATHER's prefix is (again) an entry
        _ask(cached, q, tools)
    [key] = [k for k in store.entries if len(k) == max(map(len, store.entries))]
    entry = store.entries[key]
    store.entries[key] = KVCache(k=tuple(k * 0.0 for k in entry.k),
                                 v=tuple(jnp.flip(v, axis=2) for v in entry.v),
                                 segment_ids=entry.segment_ids, index=entry.index)
    try:
        corrupted = [_ask(cached, q, tools) for q, tools in asked]
    finally:
        store.entries[key] = entry
    assert corrupted != [_ask(uncached, q, tools) for q, tools in asked]


def test_the_store_evicts_the_least_recently_used_prefix(loaded):
    _, model, tokenizer = loaded
    store = PrefixStore(model, capacity=2, bucket=16, pad_id=0)
    a, b, c = (tuple(range(start, start + 20)) for start in (1, 30, 60))
    for prefixes in ([a], [b], [a], [c]):
        block = store(prefixes, 2, 32)
    assert list(store.entries) == [a, c] and (store.hits, store.misses) == (1, 3)
    assert store.evictions == 1
    # the block: the entry left-padded to 32 slots, then a row of empty slots
    valid = block.segment_ids != 0
    assert valid.shape == (2, 32) and int(valid[0].sum()) == 20 and bool(valid[0, -20:].all())
    assert not bool(valid[1].any())
    assert store([a, c], 2, 32) is store([a, c], 2, 32)  # consecutive batches share a block


def test_a_streamed_reply_of_the_real_sampler_matches_the_whole_one(servers):
    url = servers["cached"][0]
    whole = _ask(url, QUERIES[0], WEATHER, tool_choice="required")
    chunks = list(_client(url).chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": QUERIES[0]}], max_tokens=24,
        tools=WEATHER, tool_choice="required", stream=True))
    deltas = [c.choices[0].delta for c in chunks]
    assert chunks[-1].choices[0].finish_reason == whole["finish"]
    calls = [d.tool_calls[0] for d in deltas if d.tool_calls]
    if whole["message"]["tool_calls"]:
        function = whole["message"]["tool_calls"][0]["function"]
        assert calls[0].function.name == function["name"]
        arguments = "".join(c.function.arguments for c in calls)
        assert json.loads(arguments) == json.loads(function["arguments"])
    else:
        assert not calls
        assert "".join(d.content or "" for d in deltas) == whole["message"]["content"]
    assert deltas[-1].gentool["raw"] == whole["message"]["gentool"]["raw"]
