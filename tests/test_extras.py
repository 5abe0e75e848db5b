"""A missing package is one line naming the pip install, exit status 1, wherever the import
fails: in the command, in a Grain worker process, in a thread."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gentool_jax.extras import MissingDependencyError, missing_dependency, require

REPO = Path(__file__).resolve().parents[1]


def _cli(args, tmp_path, *, env_extra=None, prelude=""):
    env = dict(os.environ, **(env_extra or {}))
    code = f"import sys\n{prelude}\nfrom gentool_jax.cli import main\nsys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_module_not_found_names_its_extra():
    error = ModuleNotFoundError("No module named 'fastapi'", name="fastapi")
    assert missing_dependency(error) == (
        "the Python package 'fastapi' is not installed: pip install 'gentool-jax[serve]'")


def test_a_core_module_names_the_reinstall():
    error = ModuleNotFoundError("No module named 'jinja2.sandbox'", name="jinja2.sandbox")
    assert "'jinja2'" in missing_dependency(error)
    assert "pip install -e ." in missing_dependency(error)


def test_an_error_that_crossed_a_process_is_read_from_its_text():
    # Grain re-raises a worker's error as its own exception carrying the original as text.
    wrapped = RuntimeError("Traceback ...\nImportError: apply_chat_template requires jinja2 "
                           "to be installed.")
    assert "'jinja2' is not installed" in missing_dependency(wrapped)


def test_the_cause_chain_is_followed_and_other_errors_are_left_alone():
    try:
        try:
            raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")
        except ImportError as inner:
            raise ValueError("while starting") from inner
    except ValueError as outer:
        assert "gentool-jax[serve]" in missing_dependency(outer)
    assert missing_dependency(ValueError("a bad value")) is None
    assert missing_dependency(KeyError("jinja2")) is None


def test_a_missing_jax_plugin_names_the_accelerator_extra():
    error = RuntimeError("Unknown backend: 'cuda' requested, but no platforms that are "
                         "instances of cuda are present.")
    assert "gentool-jax[cuda]" in missing_dependency(error)
    error = RuntimeError("Unable to initialize backend 'tpu': no libtpu")
    assert "gentool-jax[tpu]" in missing_dependency(error)


def test_require_raises_the_one_line_error():
    require("json", "reading records")
    with pytest.raises(MissingDependencyError, match=r"serving needs .*'gentool_absent"):
        require("gentool_absent_module_xyz", "serving")


def test_serve_without_its_extra_is_one_line(tmp_path):
    result = _cli(["serve", f"--config={REPO}/configs/smoke.py"], tmp_path,
                  prelude="sys.modules['fastapi'] = None; sys.modules['uvicorn'] = None")
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "pip install 'gentool-jax[serve]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_thread_that_dies_of_a_missing_package_ends_the_command(tmp_path):
    code = (
        "import sys, threading, time\n"
        "from gentool_jax import cli\n"
        "threading.excepthook = cli._thread_error_hook('serve')\n"
        "def work():\n"
        "    raise ModuleNotFoundError(\"No module named 'uvicorn'\", name='uvicorn')\n"
        "threading.Thread(target=work).start()\n"
        "time.sleep(60)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == ("gentool-jax serve: error: the Python package 'uvicorn' "
                                     "is not installed: pip install 'gentool-jax[serve]'")


@pytest.mark.parametrize("workers", [0, 2])
def test_a_package_missing_inside_grain_workers_is_one_line(tmp_path, workers):
    """jinja2 shadowed by a module that fails to import, in this process and in every worker
    it starts (PYTHONPATH is inherited): training stops with one line, exit 1."""
    shadow = tmp_path / "shadow" / "jinja2"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'jinja2'\", name='jinja2')\n")
    config = f"--config={REPO}/configs/smoke.py"
    workdir = f"--config.workdir={tmp_path / 'run'}"
    simulated = _cli(["simulate", config, workdir], tmp_path)
    assert simulated.returncode == 0, simulated.stderr
    result = _cli(["train", config, workdir, f"--config.data.num_workers={workers}"], tmp_path,
                  env_extra={"PYTHONPATH": os.pathsep.join(
                      [str(shadow.parent), os.environ.get("PYTHONPATH", "")])})
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "gentool-jax train: error: the Python package 'jinja2' is not installed: "
        "pip install -e . (or pip install gentool-jax) to reinstall its dependencies")

