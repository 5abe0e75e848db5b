"""Public function-calling data imports (`simulate --from=FILE --format=xlam|sharegpt`)."""

import json

import pytest

from gentool_jax import cli
from gentool_jax.errors import RecordError
from gentool_jax.importers.formats import import_file, sniff_format
from gentool_jax.importers.public import read_cases
from gentool_jax.importers.weaken import weaken
from gentool_jax.records import DEFAULT_TOOL, read_records, write_records
from gentool_jax.simulate.simulation import SPLITS, split_file
from tests.conftest import REPO_ROOT

SMOKE = str(REPO_ROOT / "configs" / "smoke.py")


def _p(kind, description, default=None):
    spec = {"type": kind, "description": description}
    if default is not None:
        spec["default"] = default
    return spec


# xLAM-style tools: parameters are {name: {type, description, default?}}.
TOOLS = {
    "get_weather": {"name": "get_weather", "description": "Current weather conditions for a "
                    "city, with temperature and wind.",
                    "parameters": {"city": _p("str", "The city name."),
                                   "unit": _p("str, optional", "C or F.", "C")}},
    "stock_price": {"name": "stock_price", "description": "Latest trading price of a stock "
                    "ticker on its exchange.", "parameters": {"ticker": _p("str", "Ticker.")}},
    "convert_currency": {"name": "convert_currency", "description": "Convert an amount of "
                         "money between two currencies at today's rate.",
                         "parameters": {"amount": _p("float", "Amount."),
                                        "source": _p("str", "From currency."),
                                        "target": _p("str", "To currency.")}},
    "search_recipes": {"name": "search_recipes", "description": "Find cooking recipes for a "
                       "dish with ingredients and steps.",
                       "parameters": {"dish": _p("str", "Dish."),
                                      "max_results": _p("int", "How many.", 5),
                                      "tags": _p("List[str]", "Diet tags.", [])}},
    "translate_text": {"name": "translate_text", "description": "Translate a piece of text "
                       "into a target language.",
                       "parameters": {"text": _p("str", "Text."),
                                      "language": _p("str", "Target language.")}},
    "book_flight": {"name": "book_flight", "description": "Book a flight seat between two "
                    "airports on a date.", "parameters": {"origin": _p("str", "From."),
                                                          "destination": _p("str", "To."),
                                                          "date": _p("str", "YYYY-MM-DD.")}},
    "get_news": {"name": "get_news", "description": "Latest news headlines about a topic "
                 "from major outlets.", "parameters": {"topic": _p("str", "Topic.")}},
    "define_word": {"name": "define_word", "description": "Dictionary definition and usage "
                    "examples of an English word.", "parameters": {"word": _p("str", "Word.")}},
}
CITIES = ["Lisbon", "Porto", "Oslo"]
CALLS = {  # three queries per tool
    "get_weather": [(f"What's the weather in {c} now?", {"city": c}) for c in CITIES],
    "stock_price": [(f"Price of {t} right now?", {"ticker": t}) for t in ("AAPL", "MSFT", "IBM")],
    "convert_currency": [(f"Convert {a} EUR to USD.", {"amount": a, "source": "EUR",
                                                       "target": "USD"}) for a in (5, 12.5, 90)],
    "search_recipes": [(f"Give me {n} recipes for {d}.", {"dish": d, "max_results": n})
                       for d, n in (("paella", 2), ("ramen", 3), ("tacos", 4))],
    "translate_text": [(f"Say '{w}' in German.", {"text": w, "language": "German"})
                       for w in ("hello", "thanks", "goodbye")],
    "book_flight": [(f"Book me a flight from {o} to {d} on 2026-12-2{i}.",
                     {"origin": o, "destination": d, "date": f"2026-12-2{i}"})
                    for i, (o, d) in enumerate((("LIS", "OSL"), ("OPO", "MAD"), ("JFK", "SFO")))],
    "get_news": [(f"Any news about {t}?", {"topic": t}) for t in ("AI", "football", "elections")],
    "define_word": [(f"What does '{w}' mean?", {"word": w}) for w in ("ephemeral", "quixotic",
                                                                       "laconic")],
}
NAMES = list(TOOLS)


def xlam_lines(json_strings=True):
    """24 single-call lines (3 offered tools each), one multi-call line, one with no call."""
    lines = []
    for t, name in enumerate(NAMES):
        for k, (query, args) in enumerate(CALLS[name]):
            offered = [TOOLS[name], TOOLS[NAMES[(t + 1 + k) % 8]], TOOLS[NAMES[(t + 3 + k) % 8]]]
            answers = [{"name": name, "arguments": args}]
            lines.append({"id": len(lines), "query": query,
                          "tools": json.dumps(offered) if json_strings else offered,
                          "answers": json.dumps(answers) if json_strings else answers})
    lines.insert(5, {"id": 900, "query": "Weather in Oslo and the price of IBM?",
                     "tools": json.dumps([TOOLS["get_weather"], TOOLS["stock_price"]]),
                     "answers": json.dumps([{"name": "get_weather", "arguments": {"city": "Oslo"}},
                                            {"name": "stock_price",
                                             "arguments": {"ticker": "IBM"}}])})
    lines.append({"id": 901, "query": "Tell me a joke.", "tools": json.dumps([TOOLS["get_news"]]),
                  "answers": "[]"})
    return lines


def write(path, rows):
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n"
                            for row in rows))
    return path


def test_xlam_tools_are_converted_to_json_schema(tmp_path):
    cases = read_cases(write(tmp_path / "x.jsonl", xlam_lines()), "xlam").cases
    case = next(c for c in cases if c.gold["name"] == "search_recipes")
    assert case.gold == {
        "name": "search_recipes",
        "description": "Find cooking recipes for a dish with ingredients and steps.",
        "parameters": {"type": "object", "required": ["dish"], "properties": {
            "dish": {"type": "string", "description": "Dish."},
            "max_results": {"type": "integer", "description": "How many.", "default": 5},
            "tags": {"type": "array", "items": {"type": "string"}, "description": "Diet tags.",
                     "default": []}}}}
    weather = next(c for c in cases if c.gold["name"] == "get_weather")
    assert weather.gold["parameters"]["required"] == ["city"]  # ", optional" type
    assert weather.query == "What's the weather in Lisbon now?"
    assert weather.arguments == {"city": "Lisbon"}
    assert [t["name"] for t in weather.others] == ["stock_price", "search_recipes"]
    assert weather.id == "xlam-0" and weather.line == 1 and weather.source == "xlam"


def test_multi_call_and_no_call_lines_are_skipped_and_counted(tmp_path, capsys):
    path = write(tmp_path / "x.jsonl", xlam_lines())
    result = read_cases(path, "xlam")
    assert len(result.cases) == 24
    assert result.skipped == {"multi-call lines": 1, "no-call lines": 1}
    import_file(path, toolset_size=5, seed=0)
    assert "24 single-call cases kept; skipped 1 multi-call lines, 1 no-call lines" in \
        capsys.readouterr().out


@pytest.fixture
def xlam_splits(tmp_path):
    path = write(tmp_path / "x.jsonl", xlam_lines())
    assert sniff_format(path) == "xlam"
    return import_file(path, toolset_size=5, seed=0)


def test_xlam_import_builds_the_four_variants(xlam_splits, tmp_path):
    records = [r for split in SPLITS for r in xlam_splits[split]]
    assert len(records) == 24 * 4  # one unseen-tool query of a training query may be left out
    by_id = {r["id"]: r for r in records}
    query = next(r["meta"]["query_id"] for r in records if r["query"].startswith("Convert 5 "))
    none, weak, strong, both = (by_id[f"{query}-{v}"] for v in ("none", "weak", "strong",
                                                                 "both"))
    gold = "convert_currency"
    weak_name = strong["meta"]["weak_tool"]
    assert strong["meta"]["strong_tool"] == gold and strong["meta"]["better_tool"] == gold
    assert strong["meta"]["source"] == "xlam" and strong["meta"]["source_line"] == 8
    axis = strong["meta"]["weak_axis"]
    weak_tool = next(t for t in both["tools"] if t["name"] == weak_name)
    gold_tool = next(t for t in both["tools"] if t["name"] == gold)
    expected = weaken(gold_tool, axis, [gold]).tool  # named apart from the file's tools
    assert {**weak_tool, "name": ""} == {**expected, "name": ""} and weak_name != gold
    # none: the gold tool removed, the answer is generate_response
    assert gold not in [t["name"] for t in none["tools"]]
    assert weak_name not in [t["name"] for t in none["tools"]]
    assert none["call"] == {"name": DEFAULT_TOOL, "arguments": {}}
    assert none["ranking"][0] == DEFAULT_TOOL and len(none["tools"]) == 5
    # strong: the line's call
    assert strong["call"] == {"name": gold, "arguments": {"amount": 5, "source": "EUR",
                                                          "target": "USD"}}
    assert strong["ranking"][:2] == [gold, DEFAULT_TOOL]
    # the line's other tools are the first distractors
    assert {"get_news", "book_flight"} <= {t["name"] for t in none["tools"]}
    # weak: the weakened copy is called; both: the original wins
    assert weak["call"]["name"] == weak_name and weak["ranking"][:2] == [weak_name, DEFAULT_TOOL]
    assert both["ranking"][:3] == [gold, weak_name, DEFAULT_TOOL]
    assert both["call"] == strong["call"]
    assert all(len(r["tools"]) == 5 for r in (none, weak, strong, both))
    # everything passes the reader
    path = tmp_path / "all.jsonl"
    write_records(path, records)
    assert len(list(read_records(path))) == len(records)


def test_xlam_import_holds_out_tools_without_leaking(xlam_splits):
    unseen = xlam_splits["seen_query_unseen_tool"]
    assert unseen, "a tenth of the file goes to held-out tools"
    held = {r["meta"]["strong_tool"] for r in unseen} | {r["meta"]["weak_tool"] for r in unseen}
    for split in ("train", "validation", "seen_query_seen_tool"):
        for record in xlam_splits[split]:
            assert not held & {t["name"] for t in record["tools"]}, record["id"]
    assert xlam_splits["seen_query_seen_tool"]
    train_tools = {r["meta"]["strong_tool"] for r in xlam_splits["train"]}
    assert {r["meta"]["strong_tool"] for r in xlam_splits["seen_query_seen_tool"]} <= train_tools
    assert not xlam_splits["unseen_query_seen_tool"]  # public data carry no intent labels


def test_json_strings_and_inline_lists_import_the_same(tmp_path):
    a = import_file(write(tmp_path / "a.jsonl", xlam_lines()), toolset_size=5, seed=0)
    b = import_file(write(tmp_path / "b.jsonl", xlam_lines(json_strings=False)),
                    toolset_size=5, seed=0)
    assert a == b


def sharegpt_lines():
    rows = []
    for t, name in enumerate(NAMES):
        for k, (query, args) in enumerate(CALLS[name]):
            offered = [TOOLS[name], TOOLS[NAMES[(t + 2 + k) % 8]]]
            style = (t + k) % 3
            if style == 0:  # OpenAI-style messages with tool_calls, OpenAI-wrapped tools
                rows.append({"id": f"c{len(rows)}",
                             "tools": [{"type": "function", "function": tool}
                                       for tool in offered],
                             "messages": [
                                 {"role": "system", "content": "You can call tools."},
                                 {"role": "user", "content": "Hi!"},
                                 {"role": "assistant", "content": "Hello, how can I help?"},
                                 {"role": "user", "content": query},
                                 {"role": "assistant", "content": None, "tool_calls": [
                                     {"type": "function", "function": {
                                         "name": name, "arguments": json.dumps(args)}}]},
                                 {"role": "tool", "content": "{}"}]})
            elif style == 1:  # ShareGPT from/value with an assistant function_call
                rows.append({"tools": json.dumps(offered), "conversations": [
                    {"from": "human", "value": query},
                    {"from": "gpt", "value": "", "function_call": {"name": name,
                                                                   "arguments": args}}]})
            else:  # LLaMA-Factory's function_call turn
                rows.append({"tools": json.dumps(offered), "conversations": [
                    {"from": "human", "value": query},
                    {"from": "function_call",
                     "value": json.dumps({"name": name, "arguments": args})},
                    {"from": "observation", "value": "{}"}]})
    rows.append({"tools": [TOOLS["get_news"]], "conversations": [
        {"from": "human", "value": "Hello"}, {"from": "gpt", "value": "Hi there."}]})
    rows.append({"tools": [TOOLS["get_news"], TOOLS["define_word"]], "messages": [
        {"role": "user", "content": "News on AI and define 'laconic'."},
        {"role": "assistant", "tool_calls": [
            {"type": "function", "function": {"name": "get_news", "arguments": '{"topic": "AI"}'}},
            {"type": "function", "function": {"name": "define_word",
                                              "arguments": '{"word": "laconic"}'}}]}]})
    return rows


def test_sharegpt_conversations_become_cases(tmp_path):
    path = write(tmp_path / "s.jsonl", sharegpt_lines())
    assert sniff_format(path) == "sharegpt"
    result = read_cases(path, "sharegpt")
    assert result.skipped == {"multi-call lines": 1, "no-call lines": 1}
    assert len(result.cases) == 24
    first = result.cases[0]
    assert first.id == "sharegpt-c0" and first.query == "What's the weather in Lisbon now?"
    assert first.gold["name"] == "get_weather" and first.arguments == {"city": "Lisbon"}
    assert first.gold["parameters"]["properties"]["city"] == {"type": "string",
                                                              "description": "The city name."}
    assert [t["name"] for t in first.others] == ["convert_currency"]
    assert first.context_messages == 2  # the greeting exchange, not the system message
    second = result.cases[1]
    assert second.id == "sharegpt-000002" and second.arguments == {"city": "Porto"}
    third = result.cases[2]
    assert third.arguments == {"city": "Oslo"} and third.context_messages == 0
    splits = import_file(path, toolset_size=5, seed=0)
    record = next(r for r in splits["train"] if r["variant"] == "strong")
    assert record["meta"]["source"] == "sharegpt"
    assert sum(len(v) for v in splits.values()) == 24 * 4


@pytest.mark.parametrize("fmt, line, expected", [
    ("xlam", '{"query": "x", "tools": "[", "answers": "[]"}', ":3: tools: not valid JSON text"),
    ("xlam", {"query": "Weather?", "tools": [TOOLS["get_weather"]],
              "answers": [{"name": "get_weather", "arguments": {"town": "Oslo"}}]},
     ":3: answers[0].arguments: undefined parameter(s) town of 'get_weather'"),
    ("xlam", {"query": "Weather?", "tools": [TOOLS["get_weather"]],
              "answers": [{"name": "get_wether", "arguments": {}}]},
     ":3: answers[0].name: 'get_wether' is not one of the line's tools"),
    ("xlam", {"query": "", "tools": [], "answers": []}, ":3: query: must be a non-empty string"),
    ("sharegpt", {"tools": [TOOLS["get_news"]], "conversations": [
        {"from": "human", "value": "AI news?"},
        {"from": "gpt", "function_call": {"name": "get_news", "arguments": {}}}]},
     ":3: conversations[1].tool_calls[0].arguments: lacks required parameter(s) topic of "
     "'get_news'"),
])
def test_a_bad_line_is_a_one_line_error_and_nothing_is_written(tmp_path, capsys, fmt, line,
                                                               expected):
    good = xlam_lines() if fmt == "xlam" else sharegpt_lines()
    path = write(tmp_path / "bad.jsonl", [*good[:2], line, *good[2:]])
    with pytest.raises(RecordError):
        import_file(path, toolset_size=5, seed=0, fmt=fmt)
    out = tmp_path / "out"
    rc = cli.main(["simulate", f"--config={SMOKE}", f"--from={path}", f"--format={fmt}",
                   f"--out={out}"])
    err = capsys.readouterr().err.strip()
    assert rc == 1
    assert err.count("\n") == 0 and err.endswith(f"bad.jsonl{expected}"), err
    assert not out.exists() or not any(out.iterdir())


def test_the_cli_writes_splits_like_simulate(tmp_path, capsys):
    path = write(tmp_path / "x.jsonl", xlam_lines())
    out = tmp_path / "data"
    rc = cli.main(["simulate", f"--config={SMOKE}", f"--from={path}", f"--out={out}"])
    assert rc == 0, capsys.readouterr().err
    for split in SPLITS:
        assert (out / split_file(split)).is_file()
    assert (out / "stats.json").is_file() and (out / "manifest.json").is_file()
    train = list(read_records(out / "train.jsonl"))
    assert train and all(r["meta"]["source"] == "xlam" for r in train)
    assert "xlam import" in capsys.readouterr().out
    rc = cli.main(["simulate", f"--config={SMOKE}", f"--from={path}", "--format=csv",
                   f"--out={tmp_path / 'other'}"])
    assert rc == 1 and "--format=csv: expected one of" in capsys.readouterr().err


def test_pool_distractors_that_may_do_the_gold_job_are_skipped():
    from gentool_jax.importers.cases import _too_close

    def tool(name, description="Something else entirely."):
        return {"name": name, "description": description}

    gold = tool("calculus.derivative", "Compute the derivative of a function at a value.")
    assert _too_close(tool("calculate_derivative"), gold)  # shares "derivative"
    assert _too_close(tool("math_tool", "Compute the derivative of a function."), gold)
    assert not _too_close(tool("get_news", "Headlines."), tool("get_weather"))  # "get": no
    assert not _too_close(tool("integrate", "Integrate a function."), gold)


def test_tools_with_blank_descriptions_are_never_held_out(tmp_path):
    rows = xlam_lines(json_strings=False)
    for row in rows:
        if isinstance(row["tools"], str):  # the skipped multi-call and no-call lines
            continue
        row["tools"] = [tool if tool["name"] in ("get_news", "define_word")
                        else {**tool, "description": ""} for tool in row["tools"]]
    splits = import_file(write(tmp_path / "x.jsonl", rows), toolset_size=5, seed=0)
    held = {r["meta"]["strong_tool"] for r in splits["seen_query_unseen_tool"]}
    assert held and held <= {"get_news", "define_word"}


def test_each_public_format_trains_and_evaluates_the_smoke_pipeline(tmp_path):
    """xLAM and ShareGPT fixtures through the whole pipeline (import, both stages, evaluation,
    export) in one process, so the second format reuses the first one's compiled programs."""
    from configs import smoke
    from gentool_jax.pipeline import pipeline_command

    for fmt, lines in (("xlam", xlam_lines()), ("sharegpt", sharegpt_lines())):
        config = smoke.get_config()
        config.workdir = str(tmp_path / fmt)
        config.simulate.source = str(write(tmp_path / f"{fmt}.jsonl", lines))
        config.mesh.data, config.mesh.tensor = 4, 2
        config.train.stage1.steps = config.train.stage2.steps = 1
        config.evaluate.baselines = ("bm25",)
        assert pipeline_command(config, {}) == 0
        workdir = tmp_path / fmt
        assert json.loads((workdir / "data" / "stats.json").read_text())
        for stage in ("stage1", "stage2"):
            rows = (workdir / stage / "metrics.jsonl").read_text().splitlines()
            assert rows and json.loads(rows[-1])["samples_seen"] > 0
        systems = json.loads((workdir / "eval" / "metrics.json").read_text())["systems"]
        assert set(systems) == {"bm25", "trained"}
        # Public data has no intent labels: only the seen-query scenarios are filled.
        assert set(systems["trained"]) == {"seen_query_seen_tool", "seen_query_unseen_tool"}
        assert (workdir / "export" / "adapter" / "adapter_config.json").is_file()
