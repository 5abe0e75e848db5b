"""Grammar-constrained decoding on the tiny random model: every sampled reply over 200+
generated toolsets parses, ranks each offered name once and calls with valid arguments; greedy
output is the free output wherever that is valid; rows are independent of their batch; new
toolsets compile no new programs; prefix caching and a mesh give the same replies; the token
budget running out is reported; bad schemas get a one-line error."""

import json

import jax
import ml_collections
import numpy as np
import optax
import pytest
from flax import nnx

from gentool_jax.data.render import target_text
from gentool_jax.evaluate.parser import parse_output
from gentool_jax.model.loading import load_model
from gentool_jax.model.registry import load_tokenizer
from gentool_jax.parallel.mesh import make_mesh
from gentool_jax.parallel.partition import shard_state
from gentool_jax.records import DEFAULT_TOOL
from gentool_jax.sample import decode as decode_module
from gentool_jax.sample.constraint import COMPLETE, UNFINISHED, Constrainer, RowGrammar
from gentool_jax.sample.generate import generate, generate_with_outcomes, stop_ids_for
from gentool_jax.sample.grammar import GrammarError, GrammarOptions, ReplyFormat

OPTIONS = GrammarOptions(max_string_length=6, max_array_items=2)
BUDGET = 200
NAMES = ("get_weather", "get_weather_forecast", "stock_quote", "stock", "send_email",
         "book_table", "convert_currency", "search_books", "translate", "translate_text")


def random_schema(rng: np.random.Generator, depth: int = 0) -> dict:
    """One parameter schema: enum, integer, number, boolean, string, nested object, array."""
    kinds = ["enum", "integer", "number", "boolean", "string"]
    if depth < 2:
        kinds += ["object", "array"]
    kind = kinds[rng.integers(len(kinds))]
    if kind == "enum":
        return {"type": "string", "enum": ["c", "f", "kelvin"][: 1 + rng.integers(3)]}
    if kind == "object":
        return random_parameters(rng, depth + 1)
    if kind == "array":
        return {"type": "array", "items": random_schema(rng, depth + 1)}
    return {"type": kind}


def random_parameters(rng: np.random.Generator, depth: int = 0) -> dict:
    names = ["city", "days", "unit", "amount", "query", "flag", "when", "items"]
    chosen = [names[i] for i in sorted(rng.choice(len(names), rng.integers(0, 4), False))]
    properties = {name: random_schema(rng, depth) for name in chosen}
    required = [name for name in chosen if rng.random() < 0.5]
    return {"type": "object", "properties": properties, "required": required}


def random_toolsets(count: int, seed: int = 0) -> list[list[dict]]:
    """Toolsets of 0-4 tools (the first has none: only generate_response is offered); names
    are drawn from pairs sharing a prefix, so the grammar must tell them apart."""
    rng = np.random.default_rng(seed)
    toolsets: list[list[dict]] = [[]]
    while len(toolsets) < count:
        names = rng.choice(len(NAMES), rng.integers(1, 5), replace=False)
        toolsets.append([{"name": NAMES[i], "description": "d",
                          "parameters": random_parameters(rng)} for i in names])
    return toolsets


def schema_errors(value, schema: dict, where: str = "arguments") -> list[str]:
    """Whether `value` fits the subset of JSON schema the generated toolsets use (types,
    enums, required, no undefined keys, string and array bounds)."""
    if "enum" in schema:
        return [] if value in schema["enum"] else [f"{where}: {value!r} not in the enum"]
    kind = schema.get("type")
    checks = {"string": lambda v: isinstance(v, str),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
              "boolean": lambda v: isinstance(v, bool), "array": lambda v: isinstance(v, list),
              "object": lambda v: isinstance(v, dict)}
    if not checks[kind](value):
        return [f"{where}: {value!r} is not {kind}"]
    errors = []
    if kind == "string" and len(value) > OPTIONS.max_string_length:
        errors.append(f"{where}: string longer than the bound")
    if kind == "array":
        errors += [f"{where}: too many items"] if len(value) > OPTIONS.max_array_items else []
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{where}[{i}]")
    if kind == "object":
        properties = schema.get("properties", {})
        errors += [f"{where}: undefined key {k}" for k in value if k not in properties]
        errors += [f"{where}: missing {k}" for k in schema.get("required", []) if k not in value]
        order = [k for k in properties if k in value]
        errors += [] if list(value) == order else [f"{where}: keys out of schema order"]
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], f"{where}.{key}")
    return errors


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    model = load_model(tiny_model_dir)
    stops = stop_ids_for(tokenizer)
    return model, tokenizer, stops, Constrainer(tokenizer, model.config.vocab_size, stops,
                                                OPTIONS)


def prompt_of(tokenizer, toolset: list[dict], query: str = "What now?") -> list[int]:
    tools = " ".join(tool["name"] for tool in toolset)
    return tokenizer.encode(f"Tools: {tools}\n{query}")


def test_sampled_replies_over_generated_toolsets_are_all_valid(tiny):
    model, tokenizer, stops, constrainer = tiny
    toolsets = random_toolsets(208)
    grammars = [RowGrammar.of(tools) for tools in toolsets]
    result = generate_with_outcomes(
        model, [prompt_of(tokenizer, tools) for tools in toolsets], max_new_tokens=BUDGET,
        stop_ids=stops, temperature=1.0, seed=3, batch_size=32, bucket=32,
        constrainer=constrainer, grammars=grammars)
    called = set()
    for tools, tokens, outcome in zip(toolsets, result.tokens, result.outcomes):
        text = tokenizer.decode(tokens, skip_special_tokens=True)
        assert outcome.status == COMPLETE, (outcome, text)
        assert tokens[-1] in stops
        parsed = parse_output(text, [tool["name"] for tool in tools])
        assert parsed.valid, (parsed.errors, text)
        offered = [tool["name"] for tool in tools] + [DEFAULT_TOOL]
        assert sorted(parsed.ranking) == sorted(offered)
        name, arguments = parsed.call["name"], parsed.call["arguments"]
        called.add(name == DEFAULT_TOOL)
        schema = next((t["parameters"] for t in tools if t["name"] == name),
                      {"type": "object", "properties": {}})
        assert not schema_errors(arguments, schema), (schema_errors(arguments, schema), text)
        # the rendered target's layout (numbers may be written in other JSON forms than
        # json.dumps would, so the call is compared up to its arguments)
        ranking_line, call_line = text.split("\n")
        assert ranking_line == target_text({"ranking": parsed.ranking}, include_ranking=True,
                                           include_call=False)
        assert call_line.startswith(f'Call: {{"name": {json.dumps(name)}, "arguments": {{')
    assert called == {True, False}  # both abstention and real calls were sampled


def overfit(model, prompt: list[int], target: list[int], steps: int = 200):
    """Train the model to answer `prompt` with `target` (greedy then reproduces it)."""
    tokens = np.asarray([prompt + target], np.int32)
    mask = np.zeros_like(tokens, np.float32)
    mask[0, len(prompt) - 1:-1] = 1.0
    positions = np.arange(tokens.shape[1])[None]
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)

    @nnx.jit
    def step(model, optimizer):
        def loss(model):
            logits, _ = model(tokens, positions)
            losses = optax.softmax_cross_entropy_with_integer_labels(
                logits[:, :-1], tokens[:, 1:])
            return (losses * mask[:, :-1]).sum() / mask.sum()

        value, grads = nnx.value_and_grad(loss)(model)
        optimizer.update(model, grads)
        return value

    for _ in range(steps):
        step(model, optimizer)


def test_greedy_constrained_equals_free_output_where_that_is_valid(tiny_model_dir, tiny):
    _, tokenizer, stops, constrainer = tiny
    model = load_model(tiny_model_dir)
    tools = random_toolsets(3, seed=5)[1:]
    record = {"ranking": [t["name"] for t in tools[0]] + [DEFAULT_TOOL],
              "call": {"name": DEFAULT_TOOL, "arguments": {}}}
    reply = target_text(record, include_ranking=True, include_call=True)
    taught = prompt_of(tokenizer, tools[0])
    overfit(model, taught, tokenizer.encode(reply) + [stops[-1]])
    prompts = [taught, prompt_of(tokenizer, tools[1], "Something else entirely?")]
    grammars = [RowGrammar.of(tools[0]), RowGrammar.of(tools[1])]
    free = generate(model, prompts, max_new_tokens=BUDGET, stop_ids=stops, batch_size=2)
    held = generate_with_outcomes(model, prompts, max_new_tokens=BUDGET, stop_ids=stops,
                                  batch_size=2, constrainer=constrainer, grammars=grammars)
    assert tokenizer.decode(free[0], skip_special_tokens=True) == reply
    assert held.tokens[0] == free[0] and held.outcomes[0].interventions == 0
    for free_tokens, tokens, outcome in zip(free, held.tokens, held.outcomes):
        assert outcome.status == COMPLETE
        assert (outcome.interventions == 0) == (tokens == free_tokens)


def test_rows_equal_their_runs_alone_and_new_toolsets_compile_nothing(tiny):
    model, tokenizer, stops, constrainer = tiny
    toolsets = random_toolsets(10, seed=11)
    kwargs = dict(max_new_tokens=BUDGET, stop_ids=stops, batch_size=4, bucket=32,
                  constrainer=constrainer)
    prompts = [prompt_of(tokenizer, tools) for tools in toolsets]
    first = generate_with_outcomes(model, prompts[:4], **kwargs,
                                   grammars=[RowGrammar.of(t) for t in toolsets[:4]])
    for i in range(4):
        alone = generate_with_outcomes(model, [prompts[i]], **kwargs,
                                       grammars=[RowGrammar.of(toolsets[i])])
        assert alone.tokens[0] == first.tokens[i]
        assert alone.outcomes[0] == first.outcomes[i]
    compiled = decode_module.decode._cache_size(), decode_module.prefill._cache_size()
    grammars_before = constrainer.grammars.compiled
    again = generate_with_outcomes(model, prompts[4:8], **kwargs,
                                   grammars=[RowGrammar.of(t) for t in toolsets[4:8]])
    assert all(outcome.status == COMPLETE for outcome in again.outcomes)
    assert constrainer.grammars.compiled > grammars_before  # new toolsets, new grammars...
    assert (decode_module.decode._cache_size(),
            decode_module.prefill._cache_size()) == compiled  # ...but no new programs


def test_prefix_cache_and_mesh_give_the_same_replies(tiny):
    model, tokenizer, stops, constrainer = tiny
    toolsets = random_toolsets(4, seed=7)[1:]
    prompts, grammars, prefix_lengths = [], [], []
    for tools in toolsets:
        base = prompt_of(tokenizer, tools)
        for query in ("one?", "two more?", "three words here?"):
            prompts.append(base + tokenizer.encode(query))
            grammars.append(RowGrammar.of(tools))
            prefix_lengths.append(len(base))
    kwargs = dict(max_new_tokens=BUDGET, stop_ids=stops, batch_size=8, bucket=16,
                  constrainer=constrainer, grammars=grammars)
    plain = generate_with_outcomes(model, prompts, **kwargs)
    shared = generate_with_outcomes(model, prompts, prefix_lengths=prefix_lengths,
                                    prefix_rows=2, **kwargs)
    assert shared.tokens == plain.tokens and shared.outcomes == plain.outcomes
    mesh = make_mesh(ml_collections.ConfigDict(dict(data=4, fsdp=1, tensor=2)))
    graphdef, state = nnx.split(model)
    sharded = nnx.merge(graphdef, shard_state(state, mesh))
    on_mesh = generate_with_outcomes(sharded, prompts, mesh=mesh, **kwargs)
    assert on_mesh.tokens == plain.tokens and on_mesh.outcomes == plain.outcomes
    assert jax.device_count() == 8


def test_running_out_of_tokens_is_unfinished_never_complete(tiny):
    model, tokenizer, stops, constrainer = tiny
    tools = random_toolsets(2, seed=2)[1]
    result = generate_with_outcomes(model, [prompt_of(tokenizer, tools)], max_new_tokens=12,
                                    stop_ids=stops, batch_size=1, constrainer=constrainer,
                                    grammars=[RowGrammar.of(tools)])
    assert result.outcomes[0].status == UNFINISHED
    assert not result.outcomes[0].valid


def matcher_accepts(constrainer, tokenizer, stops, tools, reply: ReplyFormat, text: str):
    matcher = constrainer.grammars.matcher(tools, reply, constrainer.options)
    return matcher.consume_tokens(tokenizer.encode(text) + [stops[-1]]) and matcher.is_stopped()


def test_grammar_accepts_the_rendered_targets_of_every_format_and_abstention(tiny):
    _, tokenizer, stops, constrainer = tiny
    tools = [{"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"]}}, {"name": "get_weather_forecast", "parameters": {}}]
    ranking = ["get_weather_forecast", DEFAULT_TOOL, "get_weather"]
    for call in ({"name": "get_weather", "arguments": {"city": "Lisbon", "days": 2}},
                 {"name": DEFAULT_TOOL, "arguments": {}}):
        record = {"ranking": ranking, "call": call}
        for ranked, calls in ((True, True), (True, False), (False, True)):
            text = target_text(record, include_ranking=ranked, include_call=calls)
            assert matcher_accepts(constrainer, tokenizer, stops, tools,
                                   ReplyFormat(ranked, calls), text), text
    wrong = [
        'Ranking: ["get_weather", "get_weather", "generate_response"]',  # a name twice
        'Ranking: ["get_weather", "generate_response"]',  # one omitted
        'Ranking: ["get_weather_forecast","generate_response","get_weather"]',  # spacing
    ]
    for text in wrong:
        assert not matcher_accepts(constrainer, tokenizer, stops, tools,
                                   ReplyFormat(True, False), text), text
    call = 'Call: {"name": "get_weather", "arguments": {"city": "L", "extra": 1}}'
    assert not matcher_accepts(constrainer, tokenizer, stops, tools, ReplyFormat(False), call)
    named = ReplyFormat(False, True, call_names=("get_weather",))
    abstain = 'Call: {"name": "generate_response", "arguments": {}}'
    assert not matcher_accepts(constrainer, tokenizer, stops, tools, named, abstain)


def test_useful_rankings_end_at_generate_response_and_read_back_whole(tiny):
    """`data.ranking_target="useful"`: the grammar takes each tool at most once and closes the
    list at generate_response; the parser restores the tail in presentation order."""
    _, tokenizer, stops, constrainer = tiny
    tools = [{"name": name, "parameters": {}} for name in ("get_weather", "get_news",
                                                            "get_weather_forecast")]
    useful = ReplyFormat(True, True, ranking_target="useful")
    record = {"ranking": ["get_weather_forecast", "get_weather", DEFAULT_TOOL, "get_news"],
              "call": {"name": "get_weather_forecast", "arguments": {}}}
    text = target_text(record, include_ranking=True, include_call=True, ranking_target="useful")
    assert text.startswith('Ranking: ["get_weather_forecast", "get_weather", '
                           '"generate_response"]\n')
    assert matcher_accepts(constrainer, tokenizer, stops, tools, useful, text)
    full = target_text(record, include_ranking=True, include_call=True)
    assert not matcher_accepts(constrainer, tokenizer, stops, tools, useful, full)
    assert not matcher_accepts(constrainer, tokenizer, stops, tools, ReplyFormat(), text)
    names = [tool["name"] for tool in tools]
    parsed = parse_output(text, names, ranking_target="useful")
    assert parsed.valid and parsed.ranking == record["ranking"]
    assert not parse_output(text, names).valid  # read as a full ranking, it omits get_news
    assert not parse_output(full, names, ranking_target="useful").valid
    abstain = 'Ranking: ["generate_response"]\nCall: {"name": "generate_response", "arguments": {}}'
    assert matcher_accepts(constrainer, tokenizer, stops, tools, useful, abstain)
    assert parse_output(abstain, names, ranking_target="useful").ranking == [DEFAULT_TOOL, *names]


def test_a_fixed_first_name_holds_the_ranking_and_the_call_to_it(tiny):
    """The selection head's pick (`ReplyFormat.first_ranked` + `call_names`) is the only
    opening the grammar takes, in both ranking targets, abstention included."""
    _, tokenizer, stops, constrainer = tiny
    tools = [{"name": name, "parameters": {}} for name in ("get_weather", "get_news")]
    for target in ("full", "useful"):
        base = ReplyFormat(True, True, ranking_target=target)
        for pick, other in (("get_news", "get_weather"), (DEFAULT_TOOL, "get_news")):
            held = base.held_to(pick)
            for first in (pick, other):
                record = {"ranking": [first, *[n for n in ("get_weather", "get_news",
                                                           DEFAULT_TOOL) if n != first]],
                          "call": {"name": first, "arguments": {}}}
                text = target_text(record, include_ranking=True, include_call=True,
                                   ranking_target=target)
                assert matcher_accepts(constrainer, tokenizer, stops, tools, base, text)
                assert matcher_accepts(constrainer, tokenizer, stops, tools, held,
                                       text) == (first == pick), (target, pick, text)
    with pytest.raises(GrammarError, match="must open with 'search'"):
        constrainer.grammars.matcher(tools, ReplyFormat(first_ranked="search"))


def test_a_schema_the_engine_refuses_is_a_one_line_error_naming_the_tool(tiny):
    _, _, _, constrainer = tiny
    tools = [{"name": "ok_tool", "parameters": {"type": "object", "properties": {}}},
             {"name": "broken", "parameters": {"type": "object", "properties": {
                 "fine": {"type": "string"}, "when": {"type": "datetime"}}}}]
    with pytest.raises(GrammarError) as error:
        constrainer.check([RowGrammar.of(tools)])
    message = str(error.value)
    assert "'broken'" in message and "'when'" in message and "\n" not in message
    with pytest.raises(GrammarError, match="at most 64"):
        constrainer.check([RowGrammar.of([{"name": f"t{i}", "parameters": {}}
                                          for i in range(64)])])
    assert "additionalProperties" not in tools[0]["parameters"]  # the input is not mutated


def test_a_row_whose_matcher_errs_is_ended_rejected_with_a_full_mask(tiny):
    _, tokenizer, _, constrainer = tiny
    batch = constrainer.batch([RowGrammar.of([]), RowGrammar.of([])], batch_size=3)
    mask, dead = batch.step(np.zeros(3, np.int32))  # first call: nothing consumed yet
    assert not dead.any() and (mask[2] == -1).all()  # the filler row is free
    wrong = tokenizer.encode("Call")[0]  # the reply must start with "Ranking: "
    right = tokenizer.encode("Ranking")[0]
    mask, dead = batch.step(np.asarray([wrong, right, 0], np.int32))
    assert dead.tolist() == [True, False, False]
    assert (mask[0] == -1).all()  # never a row of all -inf logits on the device
    assert batch.outcomes[0].status == "rejected" and batch.outcomes[0].error
    assert batch.outcomes[1].status == UNFINISHED and batch.outcomes[2] is None


def test_sample_constrain_is_checked_at_the_command_line():
    from configs import base
    from gentool_jax.config_check import check_config
    from gentool_jax.errors import GentoolError

    config = base.get_config()
    assert config.sample.constrain == "tools"
    check_config(config)
    config.sample.constrain = "json"
    with pytest.raises(GentoolError, match="config.sample.constrain must be one of tools, none"):
        check_config(config)


def test_a_parameter_named_type_is_a_parameter_not_a_schema_keyword(tiny):
    """The hand-written dev set has a tool whose parameter is called `type`; its grammar
    once failed with a TypeError (the properties mapping was read as a schema)."""
    _, tokenizer, stops, constrainer = tiny
    tools = [{"name": "find_places", "parameters": {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["cafe", "bar"]},
        "near": {"type": "object", "properties": {"type": {"type": "string"}}}},
        "required": ["type"]}}]
    text = 'Call: {"name": "find_places", "arguments": {"type": "cafe"}}'
    assert matcher_accepts(constrainer, tokenizer, stops, tools, ReplyFormat(False), text)
    wrong = 'Call: {"name": "find_places", "arguments": {"type": "pub"}}'
    assert not matcher_accepts(constrainer, tokenizer, stops, tools, ReplyFormat(False), wrong)


def test_a_process_without_jax_cpu_backend_is_told_before_decoding(monkeypatch):
    """JAX_PLATFORMS=cuda alone left io_callback without a host device: on an H200 the first
    constrained decode step failed deep inside XLA. Now the constrainer says why at once."""
    import jax

    from gentool_jax.errors import GentoolError
    from gentool_jax.sample import constraint

    real_devices = jax.devices

    def devices(backend=None):
        if backend == "cpu":
            raise RuntimeError("Unknown backend: 'cpu' requested, but no platforms are "
                               "instantiated")
        return real_devices(backend)

    monkeypatch.setattr(jax, "devices", devices)
    with pytest.raises(GentoolError, match="JAX_PLATFORMS=cuda,cpu"):
        constraint.require_host_device()
