"""The output parser reads well-formed answers exactly and never raises on anything else."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gentool_jax.evaluate.parser import parse_output

TOOLS = ["hourly_forecast", "weather_now", "stock_quote"]
GOOD_RANKING = ["hourly_forecast", "weather_now", "generate_response", "stock_quote"]
GOOD_CALL = {"name": "hourly_forecast", "arguments": {"city": "Lisbon", "day": "tomorrow"}}


def answer(ranking=GOOD_RANKING, call=GOOD_CALL) -> str:
    return f"Ranking: {json.dumps(ranking)}\nCall: {json.dumps(call)}"


def test_well_formed_answer():
    parsed = parse_output(answer(), TOOLS)
    assert parsed.valid and parsed.errors == []
    assert parsed.ranking == GOOD_RANKING
    assert parsed.call == GOOD_CALL


def test_prose_around_and_markdown_decoration_are_tolerated():
    text = ("Sure! Here is my answer.\n**Ranking:** " + json.dumps(GOOD_RANKING)
            + " (best first)\n- Call: " + json.dumps(GOOD_CALL) + "\nHope this helps.")
    parsed = parse_output(text, TOOLS)
    assert parsed.valid, parsed.errors
    assert parsed.call == GOOD_CALL


def test_abstention_call():
    parsed = parse_output(answer(call={"name": "generate_response", "arguments": {}}), TOOLS)
    assert parsed.valid and parsed.call["name"] == "generate_response"


@pytest.mark.parametrize("text, ranking_ok, call_ok, reason", [
    ("", False, False, "no 'Ranking:' line"),
    ("I think the weather tool is best.", False, False, "no 'Call:' line"),
    ("Ranking: [\"hourly_forecast\", \"weath", False, False, "does not parse"),
    ("Ranking: " + json.dumps(GOOD_RANKING) + "\nCall: {\"name\": \"hourly_forecast\", \"argu",
     True, False, "'Call:' JSON does not parse"),
    ("Ranking: {\"a\": 1}\nCall: " + json.dumps(GOOD_CALL), False, True, "not a list"),
    ("Ranking: " + json.dumps(GOOD_RANKING) + "\nCall: [1, 2]", True, False, "not an object"),
    ("Ranking: " + json.dumps(GOOD_RANKING) + "\nCall:", True, False, "not followed by anything"),
])
def test_malformed_outputs(text, ranking_ok, call_ok, reason):
    parsed = parse_output(text, TOOLS)
    assert not parsed.valid
    assert any(reason in error for error in parsed.errors), parsed.errors
    assert (parsed.ranking is not None) == ranking_ok
    assert (parsed.call is not None) == call_ok


def test_unknown_and_repeated_ranking_names_are_dropped_and_reported():
    ranking = ["hourly_forecast", "teleport", "hourly_forecast", 7, "weather_now",
               "generate_response", "stock_quote"]
    parsed = parse_output(answer(ranking=ranking), TOOLS)
    assert not parsed.valid
    assert parsed.ranking == GOOD_RANKING
    assert any("unknown tool 'teleport'" in e for e in parsed.errors)
    assert any("repeats 'hourly_forecast'" in e for e in parsed.errors)
    assert any("not a tool name string" in e for e in parsed.errors)


def test_incomplete_ranking_is_kept_but_invalid():
    parsed = parse_output(answer(ranking=["weather_now"]), TOOLS)
    assert parsed.ranking == ["weather_now"]
    assert any("omits generate_response, hourly_forecast, stock_quote" in e
               for e in parsed.errors)


def test_call_to_unknown_tool_keeps_the_name():
    parsed = parse_output(answer(call={"name": "teleport", "arguments": {}}), TOOLS)
    assert not parsed.valid and parsed.call == {"name": "teleport", "arguments": {}}
    assert any("unknown tool 'teleport'" in e for e in parsed.errors)


@pytest.mark.parametrize("call, reason, kept", [
    ({"name": "weather_now", "arguments": "Lisbon"}, "not an object", True),
    ({"name": "weather_now"}, "no 'arguments' object", True),
    ({"arguments": {}}, "no string 'name'", False),
    ({"name": 3, "arguments": {}}, "no string 'name'", False),
    ({"name": "generate_response", "arguments": {"x": 1}}, "takes no arguments", True),
    ({"name": "weather_now", "arguments": {}, "why": "x"}, "unexpected keys why", True),
])
def test_bad_calls(call, reason, kept):
    parsed = parse_output(answer(call=call), TOOLS)
    assert not parsed.valid
    assert any(reason in e for e in parsed.errors), parsed.errors
    assert (parsed.call is not None) == kept
    if kept:
        assert isinstance(parsed.call["arguments"], dict)


def test_ranking_optional_for_call_only_systems():
    text = "Call: " + json.dumps(GOOD_CALL)
    assert parse_output(text, TOOLS, expect_ranking=False).valid
    assert not parse_output(text, TOOLS).valid


def test_non_text_input():
    parsed = parse_output(None, TOOLS)
    assert not parsed.valid and parsed.ranking is None and parsed.call is None


def test_deeply_nested_json_does_not_raise():
    parsed = parse_output("Ranking: " + "[" * 100_000, TOOLS)
    assert not parsed.valid


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
fragments = st.sampled_from(["Ranking:", "Call:", "ranking :", "**Call:**", "\n", "{", "[", "\"",
                             "generate_response", "hourly_forecast", "}", "]", ",", ":"])


@settings(max_examples=300, deadline=None)
@given(st.lists(fragments | st.text(max_size=8) | json_values.map(json.dumps), max_size=12))
def test_fuzz_never_raises(pieces):
    parsed = parse_output("".join(pieces), TOOLS)
    assert parsed.valid == (not parsed.errors)
    if parsed.call is not None:
        assert isinstance(parsed.call["name"], str)
        assert isinstance(parsed.call["arguments"], dict)
    if parsed.ranking is not None:
        assert all(isinstance(name, str) for name in parsed.ranking)


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_fuzz_any_json_after_prefixes(ranking, call):
    parsed = parse_output(f"Ranking: {json.dumps(ranking)}\nCall: {json.dumps(call)}", TOOLS)
    json.dumps(parsed.to_dict())
