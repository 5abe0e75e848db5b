"""`gentool-jax bfcl`: BFCL questions -> records, the AST matcher, and the command end to end."""

import json
import zipfile

import pytest

from configs import base
from gentool_jax import cli
from gentool_jax.errors import GentoolError
from gentool_jax.evaluate.bfcl import convert, scoring
from gentool_jax.evaluate.bfcl import source as bfcl
from gentool_jax.evaluate.bfcl.ast_match import (
    check_call,
    irrelevance_verdicts,
    standardize_string,
)
from gentool_jax.records import read_records

TRIANGLE = {"name": "calculate_triangle_area", "description": "Area of a triangle.",
            "parameters": {"type": "dict", "required": ["base", "height"], "properties": {
                "base": {"type": "integer", "description": "The base."},
                "height": {"type": "float", "description": "The height."},
                "unit": {"type": "string", "description": "The unit.", "optional": True}}}}
ROUTE = {"name": "maps.route", "description": "Plan a route between two places.",
         "parameters": {"type": "dict", "required": ["start", "stops"], "properties": {
             "start": {"type": "string", "description": "Where to start."},
             "stops": {"type": "array", "items": {"type": "string"}, "description": "Stops."},
             "origin": {"type": "tuple", "items": {"type": "float"}, "description": "Lat, lon."},
             "options": {"type": "dict", "description": "Preferences.", "properties": {
                 "avoid_tolls": {"type": "boolean", "description": "Avoid tolls."},
                 "mode": {"type": "string", "enum": ["car", "bike"], "description": "Mode."}}},
             "extra": {"type": "any", "description": "Anything."}}}}
WEATHER = {"name": "weather.now", "description": "Current weather in a city.",
           "parameters": {"type": "dict", "required": ["city"], "properties": {
               "city": {"type": "string", "description": "The city."}}}}
ORDER = {"name": "order.food", "description": "Order items.",
         "parameters": {"type": "dict", "required": ["items"], "properties": {
             "items": {"type": "array", "items": {"type": "dict"}, "description": "Items."}}}}


def _question(qid, functions, *messages):
    return {"id": qid, "question": [list(messages)], "function": functions}


def _user(text):
    return {"role": "user", "content": text}


QUESTIONS = {
    "simple_python": [
        _question("simple_python_0", [TRIANGLE], _user("Area of a triangle, base 10, height 5?")),
        _question("simple_python_1", [ROUTE], _user("Route from Lisbon via Porto, no tolls.")),
    ],
    "multiple": [_question("multiple_0", [TRIANGLE, WEATHER], _user("Weather in Lisbon?"))],
    "live_simple": [_question("live_simple_0-0-0", [WEATHER],
                              {"role": "system", "content": "You are a weather bot."},
                              _user("How warm is it in Porto now?"))],
    "live_multiple": [_question("live_multiple_0-0-0", [WEATHER, ORDER],
                                _user("Order 2 burgers and 1 salad."))],
    "irrelevance": [_question("irrelevance_0", [TRIANGLE], _user("Who wrote Hamlet?"))],
    "live_irrelevance": [
        _question("live_irrelevance_0-0-0", [], _user("hi"),
                  {"role": "assistant", "content": "Hello!"}, _user("Tell me a joke.")),
        _question("live_irrelevance_1-0-1", [WEATHER], _user("What is 2 + 2?")),
    ],
}
ANSWERS = {
    "simple_python": [
        {"calculate_triangle_area": {"base": [10], "height": [5.0], "unit": ["units", ""]}},
        {"maps.route": {"start": ["Lisbon"], "stops": [["Porto"]], "origin": ["", [38.7, -9.1]],
                        "options": [{"avoid_tolls": [True], "mode": ["", "car"]}]}},
    ],
    "multiple": [{"weather.now": {"city": ["Lisbon", "Lisboa"]}}],
    "live_simple": [{"weather.now": {"city": ["Porto"]}}],
    "live_multiple": [{"order.food": {"items": [[{"name": ["burger"], "qty": [2]},
                                                 {"name": ["salad"], "qty": ["", 1]}]]}}],
}


def write_fixture(root):
    """A directory laid out like bfcl_eval/data/ with the questions and answer keys above."""
    (root / "possible_answer").mkdir(parents=True)
    for category, questions in QUESTIONS.items():
        (root / bfcl.question_file(category)).write_text(
            "".join(json.dumps(q) + "\n" for q in questions))
        if category in ANSWERS:
            (root / bfcl.answer_file(category)).write_text("".join(
                json.dumps({"id": q["id"], "ground_truth": [a]}) + "\n"
                for q, a in zip(questions, ANSWERS[category])))
    return root


@pytest.fixture
def fixture_dir(tmp_path):
    return write_fixture(tmp_path / "bfcl")


def load(directory, category):
    return bfcl.load_category(bfcl.BfclSource(directory, "test"), category)


def test_a_simple_question_becomes_a_record(fixture_dir):
    record = load(fixture_dir, "simple_python")[0]
    assert record["id"] == "simple_python_0"
    assert record["query"] == "Area of a triangle, base 10, height 5?"
    assert record["tools"] == [{
        "name": "calculate_triangle_area", "description": "Area of a triangle.",
        "parameters": {"type": "object", "required": ["base", "height"], "properties": {
            "base": {"type": "integer", "description": "The base."},
            "height": {"type": "number", "description": "The height."},
            "unit": {"type": "string", "description": "The unit."}}}}]
    assert record["ranking"] == ["calculate_triangle_area", "generate_response"]
    assert record["call"] == {"name": "calculate_triangle_area",
                              "arguments": {"base": 10, "height": 5.0, "unit": "units"}}
    assert record["variant"] == "strong" and record["scenario"] == "simple_python"
    assert record["meta"] == {
        "source": "bfcl", "bfcl_version": "test", "category": "simple_python",
        "context_messages": 0,
        "acceptable_arguments": {"base": [10], "height": [5.0], "unit": ["units", ""]},
        "bfcl_answer": ANSWERS["simple_python"][0]}


def test_types_nested_schemas_and_nested_answers_convert(fixture_dir):
    record = load(fixture_dir, "simple_python")[1]
    props = record["tools"][0]["parameters"]["properties"]
    assert props["stops"] == {"type": "array", "items": {"type": "string"},
                              "description": "Stops."}
    assert props["origin"]["type"] == "array" and props["origin"]["items"] == {"type": "number"}
    assert props["options"]["type"] == "object"
    assert props["options"]["properties"]["avoid_tolls"]["type"] == "boolean"
    assert props["options"]["properties"]["mode"]["enum"] == ["car", "bike"]
    assert "type" not in props["extra"]  # BFCL `any`: no JSON Schema type
    # first acceptable value everywhere; an omission ("") first leaves the argument out
    assert record["call"]["arguments"] == {"start": "Lisbon", "stops": ["Porto"],
                                           "options": {"avoid_tolls": True}}
    assert record["meta"]["acceptable_arguments"]["options"] == [{"avoid_tolls": True}]
    lists = load(fixture_dir, "live_multiple")[0]
    assert lists["call"]["arguments"] == {"items": [{"name": "burger", "qty": 2},
                                                    {"name": "salad"}]}
    assert lists["ranking"] == ["order.food", "generate_response", "weather.now"]


def test_a_required_argument_is_always_in_the_gold_call():
    for function, truth, arguments in (
            (TRIANGLE, {"base": ["", 10], "height": [2.5], "unit": ["", "cm"]},
             {"base": 10, "height": 2.5}),
            (WEATHER, {"city": [""]}, {"city": ""})):  # only "" allowed: it is given
        answer = {"ground_truth": [{function["name"]: truth}]}
        record = convert.convert_question(_question("q", [function], _user("Hi?")), answer,
                                       "simple_python", "t")
        assert record["call"]["arguments"] == arguments
        assert check_call(record["call"], record["tools"], answer["ground_truth"][0]).correct


def test_multiple_live_and_irrelevance_shapes(fixture_dir):
    multiple = load(fixture_dir, "multiple")[0]
    assert [t["name"] for t in multiple["tools"]] == ["calculate_triangle_area", "weather.now"]
    assert multiple["ranking"] == ["weather.now", "generate_response", "calculate_triangle_area"]
    assert multiple["meta"]["acceptable_arguments"] == {"city": ["Lisbon", "Lisboa"]}
    live = load(fixture_dir, "live_simple")[0]
    assert live["query"] == "How warm is it in Porto now?"  # the system message is dropped
    assert live["meta"]["context_messages"] == 1
    irrelevant = load(fixture_dir, "irrelevance")[0]
    assert irrelevant["call"] == {"name": "generate_response", "arguments": {}}
    assert irrelevant["variant"] == "none"
    assert irrelevant["ranking"] == ["generate_response", "calculate_triangle_area"]
    assert "acceptable_arguments" not in irrelevant["meta"]
    no_tools, one_tool = load(fixture_dir, "live_irrelevance")
    assert no_tools["query"] == "Tell me a joke." and no_tools["tools"] == []
    assert no_tools["ranking"] == ["generate_response"]
    assert no_tools["meta"]["context_messages"] == 2
    assert one_tool["ranking"] == ["generate_response", "weather.now"]


def test_converted_records_pass_the_record_reader(fixture_dir, tmp_path):
    from gentool_jax.records import write_records

    records = [r for c in bfcl.CATEGORIES for r in load(fixture_dir, c)]
    write_records(tmp_path / "records.jsonl", records)
    again = list(read_records(tmp_path / "records.jsonl", any_scenario=True))
    assert again == records and len(again) == 8


def test_the_wheel_layout_reads_the_same(fixture_dir, tmp_path):
    wheel = tmp_path / bfcl.WHEEL_NAME
    with zipfile.ZipFile(wheel, "w") as archive:
        for path in fixture_dir.rglob("*.json"):
            archive.write(path, bfcl.WHEEL_DATA + str(path.relative_to(fixture_dir)))
    source = bfcl.BfclSource(wheel, bfcl.BFCL_VERSION)
    for category in bfcl.CATEGORIES:
        assert bfcl.load_category(source, category) == [
            {**r, "meta": {**r["meta"], "bfcl_version": bfcl.BFCL_VERSION}}
            for r in load(fixture_dir, category)]


def test_bad_data_is_named(fixture_dir, tmp_path):
    (fixture_dir / bfcl.answer_file("multiple")).write_text("")
    with pytest.raises(convert.BfclDataError, match="no answer for multiple_0"):
        load(fixture_dir, "multiple")
    with pytest.raises(convert.BfclDataError, match="BFCL_v4_simple_java.json: cannot read"):
        load(fixture_dir, "simple_java")
    (fixture_dir / bfcl.question_file("irrelevance")).write_text("{not json\n")
    with pytest.raises(convert.BfclDataError, match=r"BFCL_v4_irrelevance.json:1: invalid JSON"):
        load(fixture_dir, "irrelevance")
    odd = {**TRIANGLE, "parameters": {"type": "dict", "properties": {"x": {"type": "complex"}}}}
    with pytest.raises(convert.BfclDataError, match="unknown BFCL type 'complex'"):
        convert.convert_question(_question("q", [odd], _user("hi")), None, "irrelevance", "t")


def test_download_failures_are_clear(tmp_path, monkeypatch):
    import subprocess

    def failing(*args, **kwargs):
        return subprocess.CompletedProcess(args, 1, "", "ERROR: no network")

    monkeypatch.setattr(subprocess, "run", failing)
    with pytest.raises(convert.BfclDataError, match="(?s)pip download bfcl-eval==.*no network"):
        bfcl.download_wheel(tmp_path)

    def corrupt(*args, **kwargs):
        (tmp_path / bfcl.WHEEL_NAME).write_bytes(b"not the wheel")
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(subprocess, "run", corrupt)
    with pytest.raises(convert.BfclDataError, match="sha256 does not match"):
        bfcl.download_wheel(tmp_path)
    assert not (tmp_path / bfcl.WHEEL_NAME).exists()


# --- the AST matcher, against verdicts worked out by hand -------------------------------------

TOOLS = [convert.convert_tool(TRIANGLE, "t"), convert.convert_tool(ROUTE, "t"),
         convert.convert_tool(WEATHER, "t")]
AREA = {"calculate_triangle_area": {"base": [10], "height": [5.0], "unit": ["units", "cm", ""]}}
PLAN = {"maps.route": {"start": ["New York, NY"], "stops": [["Porto", "Braga"]],
                       "origin": ["", [38.7, -9.1]],
                       "options": [{"avoid_tolls": [True], "mode": ["", "car"]}]}}


def verdict(arguments, answer=AREA, name=None):
    call = {"name": name or next(iter(answer)), "arguments": arguments}
    return check_call(call, TOOLS, answer)


@pytest.mark.parametrize("arguments,name,error", [
    ({"base": 10, "height": 5.0, "unit": "units"}, None, ""),
    ({"base": 10, "height": 5.0}, None, ""),                        # optional omitted
    ({"base": 10, "height": 5}, None, ""),                          # int for float
    ({"base": 10, "height": 5.0, "unit": "CM"}, None, ""),          # acceptable list, any case
    ({"city": "Lisbon"}, "weather.now", "wrong_function"),
    ({"base": 10, "unit": "cm"}, None, "missing_required"),
    ({"base": 10, "height": 5.0, "colour": "red"}, None, "unexpected_parameter"),
    ({"base": "10", "height": 5.0}, None, "type_error"),            # string for integer
    ({"base": 10.0, "height": 5.0}, None, "type_error"),            # float for integer
    ({"base": True, "height": 5.0}, None, "type_error"),            # a flag is not a number
    ({"base": 12, "height": 5.0}, None, "value_error"),
    ({"base": 10, "height": 5.0, "unit": "inch"}, None, "value_error"),
])
def test_ast_verdicts(arguments, name, error):
    result = verdict(arguments, name=name)
    assert result.error == error and result.correct == (error == "")


def test_ast_strings_lists_and_dicts():
    given = {"start": "new york ny", "stops": ["PORTO", "braga."],
             "options": {"avoid_tolls": True}}
    assert verdict(given, PLAN).correct  # strings forgive case, spaces and , . / - _ * ^
    assert verdict({**given, "origin": [38.7, -9.1]}, PLAN).correct
    assert verdict({**given, "start": "Boston"}, PLAN).error == "value_error"
    assert verdict({**given, "stops": ["Braga", "Porto"]}, PLAN).error == "value_error"  # order
    assert verdict({**given, "stops": ["Porto"]}, PLAN).error == "value_error"  # length
    assert verdict({**given, "stops": ["Porto", 3]}, PLAN).error == "type_error"  # items
    assert verdict({**given, "origin": [38.7]}, PLAN).error == "value_error"
    assert verdict({**given, "options": {"avoid_tolls": True, "mode": "Car"}}, PLAN).correct
    assert verdict({**given, "options": {}}, PLAN).error == "value_error"  # avoid_tolls needed
    assert verdict({**given, "options": {"avoid_tolls": True, "speed": 1}},
                   PLAN).error == "value_error"  # a key the answer does not know
    assert verdict({**given, "options": "tolls"}, PLAN).error == "type_error"
    # a parameter the answer key lists without "" must be given even if not required
    assert verdict({"start": "New York NY", "stops": ["Porto", "Braga"]},
                   PLAN).error == "missing_parameter"
    assert standardize_string(" It's A-B_c/d.e,f*g^h ") == 'it"sabcdefgh'


def test_ast_no_call_and_answer_key_types():
    assert check_call(None, TOOLS, AREA).error == "no_call"
    # an answer key whose value is a string for a number parameter (a variable in BFCL)
    variable = {"calculate_triangle_area": {"base": ["b"], "height": [5.0]}}
    assert verdict({"base": "B", "height": 5.0}, variable).correct


def test_irrelevance_lenient_and_strict():
    tools = [TOOLS[2]]
    assert irrelevance_verdicts({"name": "generate_response", "arguments": {}}, tools) == (
        True, True)
    assert irrelevance_verdicts({"name": "weather.now", "arguments": {}}, tools) == (
        False, False)
    assert irrelevance_verdicts(None, tools) == (True, False)  # unreadable: BFCL says no call
    assert irrelevance_verdicts({"name": "other", "arguments": {}}, tools) == (True, False)


def test_category_scores_and_our_metrics(fixture_dir):
    from gentool_jax.evaluate.parser import parse_output

    records = load(fixture_dir, "simple_python")
    texts = [f"Ranking: {json.dumps(r['ranking'])}\nCall: {json.dumps(r['call'])}"
             for r in records]
    texts[1] = 'Call: {"name": "maps.route", "arguments": {"start": "Lisbon"}}'
    parsed = [parse_output(t, [x["name"] for x in r["tools"]]) for t, r in zip(texts, records)]
    scores = scoring.score_category(records, parsed)["scores"]
    assert scores["n"] == 2 and scores["ast_accuracy"] == 0.5
    assert scores["ast_errors"] == {"missing_required": 1}
    assert scores["metrics"]["tsa"] == 1.0 and scores["metrics"]["call_exact_match"] == 0.5
    assert scores["metrics"]["format_validity"] == 0.5
    assert "free_score" not in scores  # free decoding: no second figure
    # greedy constrained: the first reply was never overridden (free decoding wrote it too),
    # the second was, so free decoding's score counts only the first
    free = scoring.score_category(records, parsed, [True, False])["scores"]
    assert free["free_score"] == 0.5 and free["metrics"]["free_format_validity"] == 0.5
    assert free["metrics"]["free_tsa"] == 1.0
    irrelevant = load(fixture_dir, "live_irrelevance")
    texts = ['Call: {"name": "generate_response", "arguments": {}}', "I think it is 4."]
    parsed = [parse_output(t, [x["name"] for x in r["tools"]])
              for t, r in zip(texts, irrelevant)]
    scores = scoring.score_category(irrelevant, parsed)["scores"]
    assert scores["irrelevance_lenient"] == 1.0 and scores["irrelevance_strict"] == 0.5
    assert scores["metrics"]["abstention_recall"] == 0.5


def test_categories_and_limit():
    assert bfcl.parse_categories("") == list(bfcl.CATEGORIES)
    assert bfcl.parse_categories("multiple, irrelevance,multiple") == ["multiple", "irrelevance"]
    with pytest.raises(GentoolError, match="unknown category 'simple_java'"):
        bfcl.parse_categories("multiple,simple_java")
    records = [{"id": f"q{i}"} for i in range(10)]
    taken = bfcl.take(records, 4, seed=0)
    assert len(taken) == 4 and taken == bfcl.take(records, 4, seed=0)
    assert taken == sorted(taken, key=records.index)  # file order kept
    assert bfcl.take(records, 0, seed=0) == records


# --- the command ------------------------------------------------------------------------------

def test_bfcl_command_end_to_end(fixture_dir, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["bfcl", "--config=configs/smoke.py", f"--config.workdir={tmp_path / 'work'}",
            "--config.sample.max_new_tokens=8", f"--data={fixture_dir}", f"--out={out}"]
    assert cli.main([*args, "--categories=nope"]) == 1
    assert "gentool-jax bfcl: error: --categories: unknown category 'nope'" in (
        capsys.readouterr().err)
    assert cli.main([*args, "--limit=1"]) == 0
    records = list(read_records(out / "records.jsonl", any_scenario=True))
    assert [r["scenario"] for r in records] == list(bfcl.CATEGORIES)  # one per category
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["info"]["bfcl_version"] == f"local files ({fixture_dir})"
    assert payload["info"]["limit"] == 1
    scores = payload["systems"]["base_model"]
    assert list(scores) == list(bfcl.CATEGORIES)
    for category, row in scores.items():
        assert row["n"] == 1 and row["metrics"]["n"] == 1
        key = "irrelevance_lenient" if category in bfcl.IRRELEVANCE else "ast_accuracy"
        assert 0.0 <= row[key] <= 1.0
    generations = [json.loads(line) for line in (out / "generations.jsonl").open()]
    assert [g["id"] for g in generations] == [r["id"] for r in records]
    assert all(g["system"] == "base_model" and "bfcl" in g and g["prompt_tokens"] > 0
               for g in generations)
    report = (out / "report.md").read_text()
    assert "## base_model" in report and "| live_irrelevance | 1 |" in report
    assert payload["info"]["decoding"] == "constrained" and "free BFCL score" in report
    assert all(g["constraint"] in ("complete", "unfinished", "rejected") for g in generations)
    assert "overall" not in report.lower()


@pytest.mark.slow
def test_the_real_wheel_converts_every_category():
    source = bfcl.open_source(base.get_config())
    counts = {c: len(bfcl.load_category(source, c)) for c in bfcl.CATEGORIES}
    assert all(n > 0 for n in counts.values())
    assert counts == {"simple_python": 400, "multiple": 200, "live_simple": 258,
                      "live_multiple": 1053, "irrelevance": 240, "live_irrelevance": 884}
