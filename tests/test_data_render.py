"""Prompt rendering, stage targets and the loss mask (DESIGN §3)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from test_data_common import make_record, tiny_model_dir, tiny_tokenizer  # noqa: F401

from gentool_jax.data import render
from gentool_jax.data.batches import make_batch
from gentool_jax.evaluate.parser import parse_output


@pytest.mark.parametrize("style", ["compact", "json"])
def test_every_tool_and_parameter_is_in_the_prompt(style):
    record = make_record(3)
    prompt = render.system_prompt(record, style)
    for tool in record["tools"]:
        assert tool["name"] in prompt
        for parameter in tool["parameters"]["properties"]:
            assert parameter in prompt
    tool_lines = [line for line in prompt.splitlines()
                  if line.startswith(tuple(t["name"] for t in record["tools"]))
                  or line.startswith(("generate_response", '{"name"'))]
    # Presentation order is the record's, with generate_response last.
    names = [t["name"] for t in record["tools"]] + ["generate_response"]
    assert len(tool_lines) == len(names)
    for line, name in zip(tool_lines, names):
        if style == "json":
            assert json.loads(line)["name"] == name
        else:
            assert line.startswith(name + "(")


def test_json_style_carries_the_full_schemas():
    record = make_record(2)
    lines = render.system_prompt(record, "json").splitlines()
    schemas = [json.loads(line) for line in lines if line.startswith('{"name"')]
    assert schemas[:-1] == record["tools"]
    assert schemas[-1]["name"] == "generate_response"
    assert schemas[-1]["parameters"]["properties"] == {}


def test_compact_line_format():
    tool = make_record(2)["tools"][2]
    assert tool["name"] == "hourly_forecast"
    assert render.compact_tool_line(tool) == (
        'hourly_forecast(city: string, day?: "today"|"tomorrow") -> '
        "{temp_c, rain_mm} — Hourly weather forecast for a city and day.")
    email = {"name": "send_email", "description": "Send  an\nemail.", "parameters": {
        "type": "object", "properties": {"to": {"type": "array", "items": {"type": "string"}},
                                         "cc": {"type": "string"}}, "required": ["to"]}}
    assert render.compact_tool_line(email) == (
        "send_email(to: array[string], cc?: string) -> object — Send an email.")
    assert render.compact_tool_line(tool, described_first=True) == (
        "Hourly weather forecast for a city and day. — hourly_forecast(city: string, "
        'day?: "today"|"tomorrow") -> {temp_c, rain_mm}')


def test_described_style_puts_each_description_before_its_name():
    record = make_record(3)
    lines = render.system_prompt(record, "described").splitlines()
    tools = [*record["tools"], render.DEFAULT_TOOL_SCHEMA]
    expected = [render.compact_tool_line(tool, described_first=True) for tool in tools]
    start = lines.index(expected[0])
    assert lines[start:start + len(expected)] == expected


def test_instructions_state_the_output_format():
    prompt = render.system_prompt(make_record(0), "compact")
    assert prompt.endswith('Reply with exactly two lines:\nRanking: ["<tool>", ...]\n'
                           'Call: {"name": "<tool>", "arguments": {"<argument>": <value>, ...}}')


@pytest.mark.parametrize("index", range(4))
def test_targets_parse_back_with_the_evaluation_parser(index):
    record = make_record(index)
    names = [tool["name"] for tool in record["tools"]]
    stage1 = render.target_text(record, include_ranking=True, include_call=False)
    assert stage1 == "Ranking: " + json.dumps(record["ranking"])
    stage2 = render.target_text(record, include_ranking=True, include_call=True)
    assert stage2.splitlines()[0] == stage1
    parsed = parse_output(stage2, names)
    assert parsed.valid, parsed.errors
    assert parsed.ranking == record["ranking"] and parsed.call == record["call"]
    call_only = render.target_text(record, include_ranking=False, include_call=True)
    assert call_only == "Call: " + json.dumps(record["call"])
    with pytest.raises(render.GentoolError):
        render.target_text(record, include_ranking=False, include_call=False)


def test_reorder_rederives_the_irrelevant_tail():
    record = make_record(3)  # both: hourly_forecast, weather_now relevant
    assert record["ranking"][:3] == ["hourly_forecast", "weather_now", "generate_response"]
    order = ["weather_now", "send_email", "hourly_forecast", "currency_convert", "stock_quote"]
    moved = render.reorder_tools(record, order)
    assert [tool["name"] for tool in moved["tools"]] == order
    assert moved["ranking"] == ["hourly_forecast", "weather_now", "generate_response",
                                "send_email", "currency_convert", "stock_quote"]
    assert record["ranking"][3:] == ["stock_quote", "currency_convert", "send_email"]
    shuffled = render.shuffle_tools(record, np.random.default_rng(1))
    assert shuffled == render.shuffle_tools(record, np.random.default_rng(1))
    tail = shuffled["ranking"][3:]
    assert tail == [t["name"] for t in shuffled["tools"] if t["name"] in tail]


@pytest.mark.parametrize("style", ["compact", "json", "described"])
def test_mask_alignment(tiny_tokenizer, style):  # noqa: F811
    record = make_record(1)
    example = render.encode_example(record, tiny_tokenizer, style=style, include_ranking=True,
                                    include_call=True)
    prompt = render.encode_prompt(record, tiny_tokenizer, style)
    end_of_turn = tiny_tokenizer.convert_tokens_to_ids("<|im_end|>")
    tokens, mask = example.tokens, example.loss_mask
    assert tokens.dtype == np.int32 and list(tokens[: len(prompt)]) == prompt
    assert not mask[: len(prompt)].any() and mask[len(prompt):].all()
    assert tokens[-1] == end_of_turn
    target = render.target_text(record, include_ranking=True, include_call=True)
    assert tiny_tokenizer.decode(tokens[mask > 0]) == target + "<|im_end|>"
    # The template's newline after <|im_end|> is neither kept nor trained.
    full = tiny_tokenizer.apply_chat_template(
        [*render.prompt_messages(record, style), {"role": "assistant", "content": target}],
        tokenize=True)["input_ids"]
    assert list(full[: len(tokens)]) == list(tokens) and tiny_tokenizer.decode(
        full[len(tokens):]) == "\n"

    batch = make_batch([[example]], max_len=len(tokens) + 5)
    last_prompt = len(prompt) - 1
    assert batch["targets"][0, last_prompt] == tokens[len(prompt)]
    assert batch["loss_mask"][0, last_prompt] == 1.0
    assert not batch["loss_mask"][0, :last_prompt].any()
    # End-of-turn is predicted (and trained) from the last target token.
    assert batch["targets"][0, len(tokens) - 2] == end_of_turn
    assert batch["loss_mask"][0, len(tokens) - 2] == 1.0
    assert not batch["loss_mask"][0, len(tokens) - 1:].any()
    assert batch["loss_mask"][0].sum() == mask.sum()


def test_stage1_target_ends_after_the_ranking(tiny_tokenizer):  # noqa: F811
    record = make_record(2)
    example = render.encode_example(record, tiny_tokenizer, style="compact",
                                    include_ranking=True, include_call=False)
    assert tiny_tokenizer.decode(example.tokens[example.loss_mask > 0]) == (
        "Ranking: " + json.dumps(record["ranking"]) + "<|im_end|>")


def test_template_that_breaks_the_prefix_is_rejected(tiny_tokenizer):  # noqa: F811
    broken = copy.deepcopy(tiny_tokenizer)
    # The generation prompt says "assistant" but the rendered assistant turn says "model".
    broken.chat_template = (
        "{% for m in messages %}<|im_start|>{{ 'model' if m['role'] == 'assistant' "
        "else m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    with pytest.raises(render.ChatTemplateError, match="not a token prefix"):
        render.encode_example(make_record(0), broken, style="compact", include_ranking=True,
                              include_call=True)


def test_unknown_style_is_rejected():
    with pytest.raises(render.GentoolError, match="tool_style"):
        render.system_prompt(make_record(0), "yaml")
