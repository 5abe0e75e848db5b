"""Reliability checks that need no trained run: state files that survive a crash mid-write,
exported adapters that name a base model other machines can find, and inputs validated before
any long work (issue 16)."""

import json
from pathlib import Path

import pytest
from test_data_common import make_records

from configs import smoke
from gentool_jax.errors import RecordError
from gentool_jax.records import write_records
from gentool_jax.train.metrics import read_metrics


def test_a_kill_while_metrics_are_trimmed_on_resume_keeps_the_kept_rows(tmp_path, monkeypatch):
    """On resume the metrics file is rewritten without the rows after the restored step; a
    crash part-way through that rewrite must leave the old file, not a truncated one (the
    kill tests compare every logged loss with an uninterrupted run)."""
    from gentool_jax.train.metrics import MetricsWriter

    stage_dir = tmp_path / "stage1"
    stage_dir.mkdir()
    rows = "".join(json.dumps({"step": step, "loss": 1.0 / step}) + "\n" for step in (1, 2, 3))
    (stage_dir / "metrics.jsonl").write_text(rows)
    real_open = Path.open

    class Torn:
        """A handle that writes half of what it is given, then dies."""

        def __init__(self, handle):
            self.handle = handle

        def write(self, text):
            self.handle.write(text[: len(text) // 2])
            raise OSError("killed mid-write")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    def torn_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return Torn(handle) if "w" in mode else handle

    monkeypatch.setattr(Path, "open", torn_open)
    with pytest.raises(OSError, match="killed"):
        MetricsWriter(stage_dir, resume_step=2)
    monkeypatch.undo()
    assert (stage_dir / "metrics.jsonl").read_text() == rows
    MetricsWriter(stage_dir, resume_step=2).close()
    assert [row["step"] for row in read_metrics(stage_dir)] == [1, 2]


def test_an_adapter_names_the_hub_repository_of_a_model_in_the_hub_cache(tmp_path):
    """`base_model_name_or_path` is the HF repository when it is known, not a local path."""
    from gentool_jax.model.registry import HUB_ID
    from gentool_jax.train.export import exported_base_name

    model = smoke.get_config().model
    snapshot = tmp_path / "hub" / "models--meta-llama--Llama-3.2-1B" / "snapshots" / "4e20de3"
    snapshot.mkdir(parents=True)
    names = {}
    for name in (str(snapshot), str(tmp_path / "hub"), "smollm2-135m-instruct", "tiny-random"):
        model.name = name
        names[name] = exported_base_name(model)
    assert names == {str(snapshot): "meta-llama/Llama-3.2-1B",
                     str(tmp_path / "hub"): str((tmp_path / "hub").resolve()),
                     "smollm2-135m-instruct": HUB_ID, "tiny-random": "tiny-random"}


@pytest.mark.parametrize("given", [False, True], ids=["workdir-data", "--data"])
def test_a_malformed_training_record_fails_before_the_model_loads(tmp_path, monkeypatch, given):
    """`train` (and `pipeline`, which runs it) reads the records before the base model: a bad
    line is reported in seconds, naming file and line, and nothing is written to the workdir."""
    from gentool_jax.model import registry
    from gentool_jax.train.command import run_training

    workdir = tmp_path / "run"
    data = tmp_path / "given.jsonl" if given else workdir / "data" / "train.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    records = make_records(3)
    del records[1]["query"]
    write_records(data, records)
    for name in ("resolve_model", "load_tokenizer"):
        monkeypatch.setattr(registry, name, lambda *a, **k: pytest.fail("model loaded first"))
    config = smoke.get_config()
    config.workdir = str(workdir)
    with pytest.raises(RecordError, match=r"\.jsonl:2: missing field 'query'$"):
        run_training(config, data if given else None)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == sorted(
        ["given.jsonl"] if given else ["run", "run/data", "run/data/train.jsonl"])
