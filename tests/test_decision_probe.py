"""Decision tokens (data/decisions.py), their loss weight, and the teacher-forced probe."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from test_data_common import make_record, make_records, tiny_model_dir, tiny_tokenizer  # noqa: F401

from gentool_jax.data import render
from gentool_jax.data.batches import make_batch
from gentool_jax.data.decisions import decision_spans
from gentool_jax.train import decision_probe as dp


def test_decision_spans_are_the_useful_ranked_names_and_the_call_name():
    record = make_record(3)  # "both": hourly_forecast, weather_now, generate_response, ...
    target = render.target_text(record, include_ranking=True, include_call=True)
    spans = decision_spans(target, record)
    assert [target[a:b] for a, b in spans.useful_ranked] == [
        "hourly_forecast", "weather_now", "generate_response"]
    assert target[slice(*spans.first_ranked)] == "hourly_forecast"
    assert target[slice(*spans.call_name)] == "hourly_forecast"
    call_only = render.target_text(record, include_ranking=False, include_call=True)
    spans = decision_spans(call_only, record)
    assert spans.useful_ranked == () and call_only[slice(*spans.call_name)] == "hourly_forecast"


def test_decision_weight_lands_on_the_decision_names_only(tiny_tokenizer):  # noqa: F811
    record = make_record(1)  # "weak": weather_now, generate_response, then the rest
    plain = render.encode_example(record, tiny_tokenizer, style="compact", include_ranking=True,
                                  include_call=True)
    weighted = render.encode_example(record, tiny_tokenizer, style="compact",
                                     include_ranking=True, include_call=True,
                                     decision_weight=4.0)
    assert np.array_equal(plain.tokens, weighted.tokens)
    assert set(np.unique(weighted.loss_mask)) == {0.0, 1.0, 4.0}
    assert np.array_equal(weighted.loss_mask > 0, plain.loss_mask > 0)
    heavy = np.flatnonzero(weighted.loss_mask == 4.0)
    runs = np.split(heavy, np.flatnonzero(np.diff(heavy) > 1) + 1)
    texts = [tiny_tokenizer.decode(weighted.tokens[run]) for run in runs]
    # Three names: two ranked up to generate_response, then the call's name; each run covers
    # its name and at most the quote characters that share its first or last token.
    assert len(texts) == 3
    for text, name in zip(texts, ["weather_now", "generate_response", "weather_now"]):
        assert name in text and len(text.replace(name, "").strip(' "[,')) == 0, text


def _single_sample_predictions(model, probe: dp.ProbeSet, tokenizer, *, include_ranking):
    """The reference: each record alone, unpacked, argmax at its decision tokens over the
    vocabulary and over the allowed tokens."""
    out, out_constrained = [], []
    for record in probe.records:
        example, _, positions, allowed = dp._decision_tokens(record, tokenizer, "compact",
                                                             include_ranking, True)
        batch = make_batch([[example]], len(example))
        hidden, _ = model.hidden(jnp.asarray(batch["tokens"]), jnp.asarray(batch["positions"]),
                                 segment_ids=jnp.asarray(batch["segment_ids"]),
                                 turn_ids=jnp.asarray(batch["turn_ids"]))
        logits = model.logits(hidden)[0]
        out.append([int(jnp.argmax(logits[p - 1])) for p in positions])
        out_constrained.append([int(ids[jnp.argmax(logits[p - 1][ids])])
                                for p, ids in zip(positions, allowed)])
    return out, out_constrained


def test_packed_probe_predicts_what_each_sample_alone_predicts(tiny_model_dir,  # noqa: F811
                                                               tiny_tokenizer):  # noqa: F811
    from gentool_jax.model.loading import load_model
    from gentool_jax.model.lora import split_lora

    model = load_model(tiny_model_dir)
    records = make_records(12)
    for include_ranking in (True, False):
        # Rows short enough that groups split over several rows.
        probe = dp.build_probe(records, tiny_tokenizer, style="compact", max_len=700,
                               include_ranking=include_ranking, include_call=True)
        assert len(probe.gather) > 2 and len(probe.decisions) == len(records)
        graphdef, lora, frozen = split_lora(model)
        predicted = dp.predict(probe, dp.make_probe_fn(graphdef), lora, frozen, rows_per_call=2)
        packed = [[] for _ in records]
        packed_constrained = [[] for _ in records]
        for r, k in zip(*np.nonzero(probe.owner >= 0)):
            index = probe.decisions[probe.owner[r, k]][0]
            packed[index].append(int(predicted.free[r, k]))
            packed_constrained[index].append(int(predicted.constrained[r, k]))
        assert (packed, packed_constrained) == _single_sample_predictions(
            model, probe, tiny_tokenizer, include_ranking=include_ranking)
        kinds = {kind for _, kind in probe.decisions}
        assert kinds == ({"first_ranked"} if include_ranking else {"call_name"})


def test_a_decision_counts_only_when_every_token_is_right_and_summaries_add_up():
    records = make_records(4)  # none, weak, strong, both
    owner = np.array([[0, 0, 1, 2, 2, 2], [3, 3, -1, -1, -1, -1]], np.int32)
    expected = np.arange(12, dtype=np.int32).reshape(2, 6)
    probe = dp.ProbeSet(batch=None, gather=np.zeros_like(owner), expected=expected, owner=owner,
                        decisions=tuple((i, "first_ranked") for i in range(4)),
                        records=tuple(records))
    predicted = expected.copy()
    predicted[0, 1] = 99  # decision 0 (none) wrong in its second token
    predicted[1, 2] = 99  # padding: ignored
    correct = dp.decisions_correct(probe, predicted)
    assert correct.tolist() == [False, True, True, True]
    summary = dp.summarize(probe, correct)
    assert summary["first_ranked/all"] == 0.75
    assert summary["first_ranked/none"] == 0.0
    assert summary["first_ranked/tool_needing"] == 1.0
    refs = dp.reference_lines(records)
    assert refs["abstain_all/all"] == 0.25


def test_chosen_records_are_whole_toolset_groups_and_seeded():
    records = make_records(24)
    chosen = dp.choose_records(records, 5, seed=3)
    assert len(chosen) >= 5
    assert chosen == dp.choose_records(records, 5, seed=3)
    from gentool_jax.data.shared_prefix import group_by_toolset

    sizes = sorted(len(g) for g in group_by_toolset(chosen))
    full = {len(g) for g in group_by_toolset(records)}
    assert set(sizes) <= full


def test_allowed_tokens_are_those_that_continue_an_offered_name(tiny_tokenizer):  # noqa: F811
    record = make_record(2)  # offers weather_now and hourly_forecast among others
    target = render.target_text(record, include_ranking=True, include_call=True)
    example, _, positions, allowed = dp._decision_tokens(record, tiny_tokenizer, "compact",
                                                         True, True)
    start = len(render.encode_prompt(record, tiny_tokenizer, "compact"))
    names = [tool["name"] for tool in record["tools"]] + ["generate_response"]
    written = target[:target.index('["') + 2]
    for position, ids in zip(positions, allowed):
        gold = int(example.tokens[position])
        assert gold in ids
        before = tiny_tokenizer.decode(example.tokens[start:position])
        assert before.startswith(written)
        # Every allowed token keeps the reply on some offered name (or its closing quote).
        for token in ids:
            text = before + tiny_tokenizer.decode([int(token)])
            assert any((written + name + '", ').startswith(text)
                       or text.startswith(written + name + '"') for name in names), text
    # The first decision token may start any offered name: at least one other name is allowed.
    first = {tiny_tokenizer.decode([int(t)]) for t in allowed[0]}
    assert len(first) > 1
    assert not any(text.startswith("Call") for text in first)


def test_the_probe_finds_a_bare_file_name_among_the_runs_data(tmp_path):
    from pathlib import Path

    from gentool_jax.train.loop import probe_path

    assert probe_path("", tmp_path) == tmp_path / "data" / "validation.jsonl"
    assert probe_path("validation_wording.jsonl", tmp_path) == \
        tmp_path / "data" / "validation_wording.jsonl"
    assert probe_path("elsewhere/dev.jsonl", tmp_path) == Path("elsewhere/dev.jsonl")
