"""`gentool-jax evaluate` end to end on the smoke config (tiny model, small simulated world)."""

import json
import uuid
from pathlib import Path

import pytest

from configs import smoke
from gentool_jax.errors import GentoolError
from gentool_jax.evaluate.command import _subset, evaluate_command, load_eval_records
from gentool_jax.evaluate.report import write_reports
from gentool_jax.model.registry import resolve_model
from gentool_jax.simulate_command import simulate_command


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    config = smoke.get_config()
    config.workdir = str(tmp_path_factory.mktemp("workdir"))
    config.evaluate.max_samples_per_split = 4
    config.evaluate.splits = ("seen_query_seen_tool", "unseen_query_unseen_tool")
    config.sample.max_new_tokens = 8
    config.sample.batch_size = 4
    simulate_command(config, {"from": "", "out": ""})
    return config


def test_subset_keeps_whole_queries_and_is_deterministic(config):
    records = list(load_eval_records(config))
    assert len(records) == 8
    by_query = {}
    for record in records:
        by_query.setdefault(record["meta"]["query_id"], []).append(record["variant"])
    assert all(len(variants) == 4 for variants in by_query.values())
    assert [r["id"] for r in records] == [r["id"] for r in load_eval_records(config)]
    assert _subset(records, 0, 0) == records


def test_evaluate_writes_every_report_file(config, tmp_path):
    tiny_dir = resolve_model(config.model)  # a merged HF directory stands in for a checkpoint
    out = tmp_path / "eval"
    assert evaluate_command(config, {"checkpoint": str(tiny_dir), "data": "",
                                     "out": str(out)}) == 0
    payload = json.loads((out / "metrics.json").read_text())
    systems = payload["systems"]
    assert list(systems) == ["bm25", "base_model", "trained"]
    assert set(systems["bm25"]) == {"seen_query_seen_tool", "unseen_query_unseen_tool"}
    row = systems["bm25"]["seen_query_seen_tool"]["all"]
    assert row["n"] == 4 and row["format_validity"] == 1.0
    # the merged "checkpoint" is the base model itself: same generations, same scores
    assert systems["trained"] == systems["base_model"]
    generations = [json.loads(line) for line in (out / "generations.jsonl").open()]
    assert len(generations) == 3 * 8
    assert {g["system"] for g in generations} == {"bm25", "base_model", "trained"}
    assert all(g["prompt_tokens"] > 0 for g in generations if g["system"] != "bm25")
    # constrained decoding (the default) with an 8-token budget: no reply reaches its end, and
    # none is accepted, whatever its text
    models = [g for g in generations if g["system"] != "bm25"]
    assert {g["constraint"] for g in models} == {"unfinished"}
    assert all(not g["parsed"]["valid"] and "constrained decoding" in g["parsed"]["errors"][-1]
               for g in models)
    base = systems["base_model"]["seen_query_seen_tool"]["all"]
    assert base["format_validity"] == 0.0 and base["free_format_validity"] == 0.0
    assert row["free_format_validity"] is None  # bm25 is not decoded
    assert payload["info"]["systems"]["base_model"]["decoding"] == "constrained"
    report = (out / "report.md").read_text()
    assert "## unseen_query_unseen_tool" in report and "| **trained** | all | 4 |" in report
    for scenario in ("seen_query_seen_tool", "unseen_query_unseen_tool"):
        assert (out / f"{scenario}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a rerun reuses the saved generations (same settings) and reproduces the same scores
    assert evaluate_command(config, {"checkpoint": str(tiny_dir), "data": "",
                                     "out": str(out)}) == 0
    again = json.loads((out / "metrics.json").read_text())
    assert again["systems"] == systems
    assert again["info"]["systems"]["trained"] == {"seconds": 0.0, "reused": 8,
                                                   "decoding": "constrained",
                                                   "selection": "model"}


def test_generations_are_reused_by_content_never_by_id(config, tmp_path):
    """Same ids, one changed query: only that record is sampled again (issue 16's finding)."""
    source = Path(config.workdir) / "data" / "test_seen_query_unseen_tool.jsonl"
    records = [json.loads(line) for line in source.read_text().splitlines()[:3]]
    user = tmp_path / "user.jsonl"
    config = config.copy_and_resolve_references()
    config.evaluate.baselines = ("base_model",)
    out = tmp_path / "eval"

    def run(records):
        user.write_text("".join(json.dumps(record) + "\n" for record in records))
        assert evaluate_command(config, {"checkpoint": "", "data": str(user),
                                         "out": str(out)}) == 0
        return json.loads((out / "metrics.json").read_text())["info"]["systems"]["base_model"]

    run(records)
    assert run(records)["reused"] == 3
    records[1]["query"] += f" (asked again, {uuid.uuid4().hex})"
    info = run(records)
    assert info["reused"] == 2 and info["generated_tokens"] > 0
    generations = [json.loads(line) for line in (out / "generations.jsonl").open()]
    assert [g["id"] for g in generations] == [record["id"] for record in records]


def test_peft_adapter_directory_as_checkpoint(config, tmp_path):
    from flax import nnx

    from gentool_jax.model.hf_export import collect_adapters, export_peft_adapter
    from gentool_jax.model.loading import load_model
    from gentool_jax.model.lora import apply_lora

    tiny_dir = resolve_model(config.model)
    model = load_model(tiny_dir)
    apply_lora(model, config.model.lora, nnx.Rngs(params=0))  # B = 0: the base model's outputs
    export_peft_adapter(collect_adapters(model), tmp_path / "adapter", base_model=str(tiny_dir))
    config = config.copy_and_resolve_references()
    config.evaluate.baselines = ("base_model",)
    out = tmp_path / "eval"
    assert evaluate_command(config, {"checkpoint": str(tmp_path / "adapter"), "data": "",
                                     "out": str(out)}) == 0
    systems = json.loads((out / "metrics.json").read_text())["systems"]
    assert systems["trained"] == systems["base_model"]


def test_user_data_file(config, tmp_path):
    source = Path(config.workdir) / "data" / "test_seen_query_unseen_tool.jsonl"
    user = tmp_path / "user.jsonl"
    user.write_text("".join(source.read_text().splitlines(keepends=True)[:3]))
    config = config.copy_and_resolve_references()
    config.evaluate.baselines = ("bm25",)
    out = tmp_path / "eval"
    assert evaluate_command(config, {"checkpoint": "", "data": str(user), "out": str(out)}) == 0
    metrics = json.loads((out / "metrics.json").read_text())["systems"]
    assert metrics["bm25"]["seen_query_unseen_tool"]["all"]["n"] == 3


def test_an_evaluation_file_may_use_any_scenario_label(config, tmp_path):
    source = Path(config.workdir) / "data" / "test_seen_query_unseen_tool.jsonl"
    lines = source.read_text().splitlines()[:4]
    labels = ["my set/v1", "my set/v1", "other", "other"]
    user = tmp_path / "labelled.jsonl"
    user.write_text("".join(json.dumps({**json.loads(line), "scenario": label}) + "\n"
                            for line, label in zip(lines, labels)))
    config = config.copy_and_resolve_references()
    config.evaluate.baselines = ("bm25",)
    out = tmp_path / "eval"
    assert evaluate_command(config, {"checkpoint": "", "data": str(user), "out": str(out)}) == 0
    metrics = json.loads((out / "metrics.json").read_text())["systems"]["bm25"]
    assert {name: row["all"]["n"] for name, row in metrics.items()} == {"my set/v1": 2,
                                                                         "other": 2}
    assert sorted(p.name for p in out.glob("*.png")) == ["my_set_v1.png", "other.png"]


def test_bad_inputs_are_named(config, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(GentoolError, match="bad.jsonl:1"):
        evaluate_command(config, {"checkpoint": "", "data": str(bad), "out": str(tmp_path)})
    missing = config.copy_and_resolve_references()
    missing.workdir = str(tmp_path / "nowhere")
    with pytest.raises(GentoolError, match="simulate"):
        evaluate_command(missing, {"checkpoint": "", "data": "", "out": str(tmp_path)})
    unknown = config.copy_and_resolve_references()
    unknown.evaluate.baselines = ("bm25", "oracle")
    with pytest.raises(GentoolError, match="unknown oracle"):
        evaluate_command(unknown, {"checkpoint": "", "data": "", "out": str(tmp_path)})


@pytest.mark.parametrize("checkpoint", ["/no/such/dir", "WORKDIR"])
def test_a_bad_checkpoint_is_refused_before_any_system_is_sampled(config, tmp_path, monkeypatch,
                                                                  checkpoint):
    from gentool_jax.evaluate import command

    monkeypatch.setattr(command, "_run_systems", lambda *a: pytest.fail("sampled first"))
    # WORKDIR exists but is no stage directory (and has no checkpoints).
    checkpoint = config.workdir if checkpoint == "WORKDIR" else checkpoint
    with pytest.raises(GentoolError, match="checkpoint"):
        evaluate_command(config, {"checkpoint": checkpoint, "data": "", "out": str(tmp_path)})


def test_reports_from_hand_made_metrics(tmp_path):
    row = {"n": 2, "tsa": 0.5, "ranking_top1": None}
    metrics = {"sys_a": {"s1": {"all": row, "none": row}}, "sys_b": {"s1": {"all": row}}}
    written = write_reports(metrics, tmp_path, info={"model": "m"})
    assert [p.name for p in written] == ["metrics.json", "report.md", "s1.png"]
    report = (tmp_path / "report.md").read_text()
    assert "| **sys_a** | all | 2 | 0.500 | – |" in report
    assert "| sys_a | none | 2 |" in report


def test_bm25_answer_agrees_with_the_lexical_selector(config):
    from gentool_jax.baselines.lexical import select, tool_scores
    from gentool_jax.evaluate.parser import parse_output
    from gentool_jax.evaluate.systems import bm25_answer

    records = load_eval_records(config)
    for threshold in (0.0, 1.0, 1e9):
        for record in records:
            parsed = parse_output(bm25_answer(record, threshold), [t["name"] for t in
                                                                    record["tools"]])
            assert parsed.valid
            assert parsed.call["name"] == select(record, threshold) == parsed.ranking[0]
            above = sum(score >= threshold for score in tool_scores(record))
            assert parsed.ranking.index("generate_response") == above
