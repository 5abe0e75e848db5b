"""The CLI: help texts, config loading, override validation and exit codes."""

import subprocess
import sys

import pytest

from gentool_jax import cli
from gentool_jax.errors import GentoolError
from tests.conftest import REPO_ROOT

SMOKE = str(REPO_ROOT / "configs" / "smoke.py")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gentool_jax.cli", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )


def test_top_level_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for name in cli.COMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_command_explains_itself(name):
    result = run_cli(name, f"--config={SMOKE}", "--help")
    assert result.returncode == 0, result.stderr
    assert f"gentool-jax {name}" in result.stdout
    for option in cli.COMMANDS[name].options:
        assert f"--{option.name}" in result.stdout


def test_overrides_are_applied_with_their_types():
    config, options = cli.parse(
        "train", [f"--config={SMOKE}", "--config.train.stage1.lr=1e-3",
                  "--config.model.lora.rank=16", "--stage=stage1"])
    assert config.train.stage1.lr == pytest.approx(1e-3)
    assert config.model.lora.rank == 16
    assert options["stage"] == "stage1"


def test_unknown_override_key_is_named_and_exits_nonzero():
    result = run_cli("pipeline", f"--config={SMOKE}", "--config.train.nonexistent=1")
    assert result.returncode != 0
    assert "train.nonexistent" in result.stderr


def test_wrong_override_type_is_an_error():
    with pytest.raises(GentoolError, match="lr"):
        cli.parse("train", [f"--config={SMOKE}", "--config.train.stage1.lr=fast"])


def test_missing_config_file_is_an_error():
    with pytest.raises(GentoolError, match="config file not found"):
        cli.parse("train", ["--config=configs/does_not_exist.py"])


def test_unknown_command_exits_2():
    assert run_cli("frobnicate").returncode == 2


@pytest.mark.parametrize("name", ["base", "default", "smoke", "gpu_h100", "tpu_v5e"])
def test_every_config_file_loads(name):
    config, _ = cli.parse("pipeline", [f"--config={REPO_ROOT / 'configs' / (name + '.py')}"])
    assert config.train.stage1.include_call is False
    assert config.train.stage2.include_call is True


@pytest.mark.parametrize(("override", "field"), [
    ("--config.data.tool_style=yaml", "data.tool_style"),
    ("--config.model.remat=some", "model.remat"),
    ("--config.model.attention=flash", "model.attention"),
    ("--config.train.schedule=linear", "train.schedule"),
    ("--config.model.dtype=float8", "model.dtype"),
    ("--config.evaluate.splits=('seen_query_seen_tool','test')", "evaluate.splits"),
    ("--config.evaluate.baselines=('bm25','gpt')", "evaluate.baselines"),
    ("--config.train.stage1.lr=-1.0", "train.stage1.lr"),
    ("--config.data.max_len=0", "data.max_len"),
    ("--config.distributed.mode=on", "distributed.mode"),
    ("--config.train.stage2.variants=('none','strongest')", "train.stage2.variants"),
    ("--config.sample.top_p=0.0", "sample.top_p"),
    ("--config.sample.temperature=-0.5", "sample.temperature"),
    ("--config.sample.top_k=-1", "sample.top_k"),
    ("--config.model.lora.dropout=1.0", "model.lora.dropout"),
    ("--config.model.lora.targets=(q_proj", "model.lora.targets"),
])
def test_a_value_outside_its_choices_is_refused_before_any_work(override, field):
    with pytest.raises(GentoolError, match=f"config.{field} (must be|is not a valid)"):
        cli.parse("train", [f"--config={SMOKE}", override])


def test_a_config_file_that_does_not_parse_or_raises_is_one_line(tmp_path):
    (tmp_path / "configs").mkdir()
    broken = tmp_path / "configs" / "broken.py"
    broken.write_text("def get_config(:\n    pass\n")
    result = run_cli("train", f"--config={broken}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{broken}:1: config file does not parse" in result.stderr
    broken.write_text("def get_config():\n    return undefined_name\n")
    result = run_cli("train", f"--config={broken}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{broken}:2: config file failed to load: NameError" in result.stderr
    broken.write_text("CONFIG = {}\n")  # a module, but no config file
    with pytest.raises(GentoolError, match=f"^{broken}: not a config file: it defines no "
                                           r"get_config\(\)$"):
        cli.parse("train", [f"--config={broken}"])


def test_configs_are_found_from_any_directory(tmp_path, monkeypatch):
    result = subprocess.run(
        [sys.executable, "-m", "gentool_jax.cli", "train", "--config=configs/smoke.py", "--help"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    monkeypatch.chdir(tmp_path)
    config, _ = cli.parse("train", ["--config=configs/smoke.py"])
    assert config.model.name == "tiny-random"


@pytest.mark.parametrize("kind", ["missing", "directory", "not-utf8"])
def test_simulate_from_a_bad_source_is_one_line(tmp_path, kind):
    source = {"missing": tmp_path / "nope.jsonl", "directory": tmp_path,
              "not-utf8": tmp_path / "latin1.jsonl"}[kind]
    if kind == "not-utf8":
        source.write_bytes(b'{"query": "caf\xe9"}\n')
    result = run_cli("simulate", f"--config={SMOKE}", f"--from={source}",
                     f"--out={tmp_path / 'out'}")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    expected = {"missing": "file not found", "directory": "is a directory",
                "not-utf8": ":1: not UTF-8 text (byte 0xe9 at column 15)"}[kind]
    assert expected in result.stderr
    assert not (tmp_path / "out").exists()


def test_debug_shows_the_traceback_that_the_one_line_error_hides(tmp_path, capsys):
    argv = ["simulate", f"--config={SMOKE}", f"--from={tmp_path / 'nope.jsonl'}",
            f"--out={tmp_path / 'out'}"]
    assert cli.main(argv) == 1
    assert "file not found" in capsys.readouterr().err
    with pytest.raises(GentoolError, match="file not found"):
        cli.main([*argv, "--debug"])
    with pytest.raises(GentoolError, match="unknown config key"):
        cli.main(["train", f"--config={SMOKE}", "--config.train.nonexistent=1", "--debug"])


def test_a_path_the_system_refuses_is_one_line_too(tmp_path, capsys):
    """An --out that is a file: the OSError is reported in one line naming the path."""
    taken = tmp_path / "taken"
    taken.write_text("a file, not a directory\n")
    assert cli.main(["simulate", f"--config={SMOKE}", f"--out={taken / 'data'}"]) == 1
    stderr = capsys.readouterr().err
    error = stderr.splitlines()[-1]  # after the progress bars
    assert error.startswith("gentool-jax simulate: error: ") and "Traceback" not in stderr
    assert str(taken) in error
