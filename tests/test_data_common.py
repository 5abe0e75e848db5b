"""Shared fixtures of the data tests: hand-made DESIGN §2 records and the tiny tokenizer.

Other `test_data_*` modules import from here; the one test checks the fixtures themselves are
valid records, so a schema change breaks here first, with a clear message.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from gentool_jax.records import validate_record, write_records

_TOOLS = [
    {"name": "hourly_forecast", "description": "Hourly weather forecast for a city and day.",
     "parameters": {"type": "object", "properties": {
         "city": {"type": "string", "description": "City name."},
         "day": {"type": "string", "enum": ["today", "tomorrow"]}},
         "required": ["city"]},
     "returns": {"type": "object", "properties": {"temp_c": {"type": "number"},
                                                  "rain_mm": {"type": "number"}}}},
    {"name": "weather_now", "description": "Current weather in a city.",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                    "required": ["city"]}},
    {"name": "stock_quote", "description": "Latest trade price of a stock symbol.",
     "parameters": {"type": "object", "properties": {"symbol": {"type": "string"}},
                    "required": ["symbol"]}},
    {"name": "currency_convert", "description": "Convert an amount between currencies.",
     "parameters": {"type": "object", "properties": {
         "amount": {"type": "number"}, "from": {"type": "string"}, "to": {"type": "string"},
         "rounding": {"type": "integer"}}, "required": ["amount", "from", "to"]}},
    {"name": "send_email", "description": "Send an email message.",
     "parameters": {"type": "object", "properties": {
         "to": {"type": "array", "items": {"type": "string"}}, "subject": {"type": "string"},
         "body": {"type": "string"}}, "required": ["to", "body"]}},
    {"name": "book_table", "description": "Reserve a restaurant table.",
     "parameters": {"type": "object", "properties": {
         "restaurant": {"type": "string"}, "people": {"type": "integer"},
         "time": {"type": "string"}}, "required": ["restaurant", "people"]}},
]
_DISTRACTORS = ["stock_quote", "currency_convert", "send_email", "book_table"]
_CITIES = ["Lisbon", "Oslo", "Kyoto", "Lima", "Accra", "Perth", "Quito"]


def make_record(i: int) -> dict:
    """Record `i`: one of four variants of a weather query (DESIGN §2), tools in a fixed order."""
    by_name = {tool["name"]: tool for tool in _TOOLS}
    variant = ("none", "weak", "strong", "both")[i % 4]
    city = _CITIES[i % len(_CITIES)]
    relevant = {"none": [], "weak": ["weather_now"], "strong": ["hourly_forecast"],
                "both": ["hourly_forecast", "weather_now"]}[variant]
    distractors = _DISTRACTORS[: 4 - len(relevant) + (i % 2)]
    names = distractors[:2] + relevant + distractors[2:]
    call = ({"name": relevant[0], "arguments": {"city": city}} if relevant
            else {"name": "generate_response", "arguments": {}})
    if variant in ("strong", "both"):
        call["arguments"]["day"] = "tomorrow"
    ranking = relevant + ["generate_response"] + [n for n in names if n not in relevant]
    record = {
        "id": f"weather-{i:04d}-{variant}",
        "query": f"Will I need an umbrella in {city} tomorrow afternoon? (case {i})",
        "tools": [by_name[name] for name in names],
        "ranking": ranking,
        "call": call,
        "variant": variant,
        "scenario": "train",
        "meta": {"domain": "weather", "pair_id": f"weather-{i // 4:04d}"},
    }
    return record


def make_records(n: int) -> list[dict]:
    return [make_record(i) for i in range(n)]


@functools.lru_cache(maxsize=1)
def _tiny_dir(root: str) -> Path:
    from gentool_jax.model.tiny import build_tiny_model

    return build_tiny_model(Path(root) / "tiny")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return _tiny_dir(str(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir):
    from gentool_jax.model.registry import load_tokenizer

    return load_tokenizer(tiny_model_dir)


@pytest.fixture
def records_file(tmp_path) -> Path:
    path = tmp_path / "train.jsonl"
    write_records(path, make_records(24))
    return path


def test_fixture_records_are_valid():
    for record in make_records(16):
        validate_record(record)
