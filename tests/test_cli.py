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
