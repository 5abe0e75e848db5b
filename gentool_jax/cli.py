"""The `gentool-jax` command: subcommands over one ml-collections config.

Each subcommand takes `--config=configs/<name>.py` plus `--config.<field>=<value>` overrides and
its own few options. Subcommand code is imported only when it runs, so `--help` stays fast and a
broken optional dependency of one command cannot break the others.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path

from absl import flags
from ml_collections import config_flags

from gentool_jax.console import set_debug
from gentool_jax.errors import GentoolError
from gentool_jax.extras import missing_dependency


@dataclasses.dataclass(frozen=True)
class Option:
    name: str
    default: str | bool  # a bool default makes a switch (--name / --noname)
    help: str


@dataclasses.dataclass(frozen=True)
class Command:
    summary: str
    entry: str  # "module:function"; the function takes (config, options: dict[str, str]) -> int
    options: tuple[Option, ...] = ()


COMMANDS: dict[str, Command] = {
    "fetch-model": Command(
        "Fetch (or build) the configured model into the cache and print where it is.",
        "gentool_jax.model.registry:fetch_model_command",
    ),
    "simulate": Command(
        "Simulate the GenTool tool world (or import user records) into <workdir>/data.",
        "gentool_jax.simulate_command:simulate_command",
        (
            Option("from", "", "Import this JSONL (DESIGN §2 records, pair records, xLAM or "
                   "ShareGPT lines) instead of simulating."),
            Option("out", "", "Output directory (default: <workdir>/data)."),
            Option("format", "auto", "Format of --from: auto (from the first line's keys), "
                   "records, pairs, xlam or sharegpt (docs/simulator.md)."),
            Option("teacher", "", "Generate the data with a teacher LLM (config.simulate."
                   "teacher) from this seed JSONL of single-tool cases (docs/simulator.md)."),
        ),
    ),
    "train": Command(
        "Two-stage LoRA training (stage 1 ranking, stage 2 call); resumes automatically.",
        "gentool_jax.train.command:train_command",
        (
            Option("stage", "all", "Which stage to run: all, or a name in config.train.stages."),
            Option("data", "", "Training JSONL (default: <workdir>/data/train.jsonl)."),
            Option("recover", False, "Resume a diverged stage with a changed lr, warmup_steps "
                   "or clip_norm (otherwise a resume refuses any config change)."),
        ),
    ),
    "fit-selector": Command(
        "Fit the selection head on a trained checkpoint's vectors (docs/selector.md).",
        "gentool_jax.selector.command:fit_selector_command",
        (
            Option("checkpoint", "", "Stage checkpoint to fit on (default: latest of the "
                   "last stage)."),
        ),
    ),
    "evaluate": Command(
        "Sample from the model and score it per scenario and variant (DESIGN §5).",
        "gentool_jax.evaluate.command:evaluate_command",
        (
            Option("checkpoint", "", "LoRA checkpoint directory or PEFT adapter "
                   "(default: untrained base model)."),
            Option("data", "", "Evaluate this JSONL instead of the simulated test splits."),
            Option("out", "", "Report directory (default: <workdir>/eval)."),
        ),
    ),
    "bfcl": Command(
        "Score the model on BFCL's single-call categories offline (AST rules, docs/bfcl.md).",
        "gentool_jax.evaluate.bfcl.command:bfcl_command",
        (
            Option("checkpoint", "", "LoRA checkpoint directory or PEFT adapter (default: "
                   "the untrained base model)."),
            Option("out", "", "Report directory (default: <workdir>/bfcl)."),
            Option("limit", "0", "Questions per category, a seeded sample (0 = all)."),
            Option("categories", "", "Comma list of categories (default: simple_python, "
                   "multiple, live_simple, live_multiple, irrelevance, live_irrelevance)."),
            Option("data", "", "BFCL files: a directory laid out like bfcl_eval/data/ or a "
                   "bfcl-eval wheel (default: the pinned wheel, downloaded once)."),
            Option("probes", False, "Also score the derived zero-to-one / weak-to-strong "
                   "probes built from the multiple and live_multiple questions (docs/bfcl.md)."),
            Option("train-data", "", "Training JSONL for the leakage report (default: "
                   "<workdir>/data/train.jsonl when it exists)."),
        ),
    ),
    "export": Command(
        "Export trained adapters as a PEFT adapter directory and a merged HF checkpoint.",
        "gentool_jax.train.export:export_command",
        (
            Option("checkpoint", "", "Checkpoint directory (default: latest of the last stage)."),
            Option("out", "", "Export directory (default: <workdir>/export)."),
        ),
    ),
    "pipeline": Command(
        "Fetch model, simulate, train both stages, evaluate and report; resumable.",
        "gentool_jax.pipeline:pipeline_command",
    ),
    "serve": Command(
        "Serve the model over an OpenAI-compatible Chat Completions API (docs/serving.md).",
        "gentool_jax.serve.command:serve_command",
        (
            Option("checkpoint", "", "Stage checkpoint, PEFT adapter or merged export "
                   "(default: the untrained base model)."),
            Option("host", "127.0.0.1", "Address to listen on."),
            Option("port", "8000", "Port to listen on."),
            Option("api-key", "", "Key clients must send as a bearer token (default: "
                   "$GENTOOL_JAX_API_KEY; none: no authentication)."),
        ),
    ),
}

DEFAULT_CONFIG = "configs/default.py"
DEBUG_FLAG = "--debug"


def _overview() -> str:
    lines = [
        "usage: gentool-jax <command> [--config=configs/<name>.py] [--config.<field>=<value> ...]",
        "",
        "GenTool in JAX: simulate zero-to-one / weak-to-strong tool-use data and fine-tune",
        "Llama-family models with two-stage LoRA (rank the tools, then call one).",
        "",
        "commands:",
    ]
    lines += [f"  {name:<12} {command.summary}" for name, command in COMMANDS.items()]
    lines += [
        "",
        "Run `gentool-jax <command> --help` for a command's options.",
        "Any config field can be overridden, e.g. --config.train.stage1.lr=3e-4",
        "A bad input is a one-line error (exit 1 or 2); add --debug to see its traceback.",
    ]
    return "\n".join(lines)


def _config_path(argv: Sequence[str]) -> str:
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
    return DEFAULT_CONFIG


def _with_resolved_config(argv: Sequence[str]) -> list[str]:
    """argv with `--config=` pointing at an existing file: a `configs/<name>.py` that is not
    found from the current directory is taken from the installed `configs` package, so the
    commands work from any directory (outputs still go under the workdir, relative to it)."""
    raw = _config_path(argv)
    path, sep, arg = raw.partition(":")
    rest = [a for i, a in enumerate(argv) if not a.startswith("--config=") and not (
        a == "--config" or (i > 0 and argv[i - 1] == "--config"))]
    if Path(path).is_file():
        return [f"--config={raw}", *rest]
    spec = importlib.util.find_spec("configs")
    relative = Path(path).parts[1:] if Path(path).parts[:1] == ("configs",) else ()
    if spec is not None and spec.submodule_search_locations and relative:
        packaged = Path(next(iter(spec.submodule_search_locations)), *relative)
        if packaged.is_file():
            return [f"--config={packaged}{sep}{arg}", *rest]
    return [f"--config={raw}", *rest]


def _make_configs_importable(config_path: str) -> None:
    """Config files say `from configs import base`; put the folder holding configs/ on the path."""
    path = Path(config_path.split(":", 1)[0]).resolve()
    if not path.is_file():
        raise GentoolError(f"config file not found: {config_path}")
    root = str(path.parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)


def _flag_values(command: Command, argv: Sequence[str] = ()) -> flags.FlagValues:
    values = flags.FlagValues()
    # config_flags finds the `--config.x=` overrides in the argv it is given (sys.argv if none).
    config_flags.DEFINE_config_file(
        "config", default=DEFAULT_CONFIG, help_string="Config file (configs/<name>.py).",
        flag_values=values, lock_config=True, sys_argv=["gentool-jax", *argv],
    )
    for option in command.options:
        define = flags.DEFINE_bool if isinstance(option.default, bool) else flags.DEFINE_string
        define(option.name, option.default, option.help, flag_values=values)
    return values


def _command_help(name: str, command: Command) -> str:
    lines = [f"usage: gentool-jax {name} [--config=configs/<name>.py] [--config.<field>=<v>] "
             + " ".join(f"[--{o.name}]" if isinstance(o.default, bool) else f"[--{o.name}=...]"
                        for o in command.options), "", command.summary, "",
             "options:", "  --config=PATH   ml-collections config file (default "
             f"{DEFAULT_CONFIG}); override fields with --config.<field>=<value>",
             "  --debug         show the traceback of an error instead of one line"]
    lines += [f"  --{o.name:<13} {o.help}" for o in command.options]
    return "\n".join(lines)


def parse(name: str, argv: Sequence[str]):
    """Parse a subcommand's arguments into (config, options); raises GentoolError on bad input."""
    from gentool_jax.config_check import check_config

    command = COMMANDS[name]
    argv = _with_resolved_config(argv)
    values = _flag_values(command, argv)
    _make_configs_importable(_config_path(argv))
    defaults = _load_config_file(_config_path(argv))
    try:
        values([f"gentool-jax {name}", *argv])
        config = values.config
    except (flags.Error, KeyError, AttributeError, TypeError, ValueError) as error:
        unknown = _unknown_override_key(argv, defaults)
        if unknown:
            raise GentoolError(
                f"unknown config key '{unknown}' (configs/base.py lists every field)") from None
        raise GentoolError(f"bad command line: {str(error).strip()}") from None
    check_config(config)
    options = {option.name: getattr(values, option.name) for option in command.options}
    return config, options


def _load_config_file(config_path: str):
    """Run the config file's `get_config` once, so a broken file is reported by its own path
    and line rather than as a traceback from inside the flag parser."""
    path, _, arg = config_path.partition(":")
    spec = importlib.util.spec_from_file_location("_gentool_config_load", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        get_config = getattr(module, "get_config", None)
        if not callable(get_config):
            raise GentoolError(f"{path}: not a config file: it defines no get_config()")
        return get_config(arg) if arg else get_config()
    except GentoolError:
        raise
    except SyntaxError as error:
        raise GentoolError(f"{error.filename}:{error.lineno}: config file does not parse: "
                           f"{error.msg}") from None
    except Exception as error:  # anything a user's config code raises is a config error
        frame = traceback.extract_tb(error.__traceback__)[-1]
        raise GentoolError(f"{frame.filename}:{frame.lineno}: config file failed to load: "
                           f"{type(error).__name__}: {error}") from None


def _unknown_override_key(argv: Sequence[str], config) -> str | None:
    """The first `--config.a.b=` override whose key the loaded config file does not define."""
    for arg in argv:
        if not arg.startswith("--config."):
            continue
        key = arg[len("--config."):].split("=", 1)[0]
        node = config
        for part in key.split("."):
            if not hasattr(node, "keys") or part not in node:
                return key
            node = node[part]
    return None


def _load_entry(entry: str):
    module_name, function_name = entry.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def _thread_error_hook(name: str):
    """A thread that dies of a missing package ends the command as the main thread would:
    one line and exit status 1 (the main thread may be waiting on it forever otherwise)."""
    default_hook = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        message = missing_dependency(args.exc_value) if args.exc_value else None
        if message is None:
            default_hook(args)
            return
        print(f"gentool-jax {name}: error: {message}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(1)

    return hook


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_overview())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"gentool-jax: unknown command '{name}'\n\n{_overview()}", file=sys.stderr)
        return 2
    command = COMMANDS[name]
    if "-h" in rest or "--help" in rest:
        print(_command_help(name, command))
        return 0
    # --debug: a user error is raised with its traceback instead of printed as one line.
    debug = DEBUG_FLAG in rest
    rest = [arg for arg in rest if arg != DEBUG_FLAG]
    try:
        config, options = parse(name, rest)
    except GentoolError as error:
        if debug:
            raise
        print(f"gentool-jax {name}: error: {error}", file=sys.stderr)
        return 2
    set_debug(debug)
    if not debug:
        threading.excepthook = _thread_error_hook(name)
    try:
        result = _load_entry(command.entry)(config, options)
    except (GentoolError, OSError) as error:
        # An OSError is the environment refusing a path (an --out that is a file, no
        # permission, a full disk); its message names the path, which is all a user needs.
        if debug:
            raise
        print(f"gentool-jax {name}: error: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        message = missing_dependency(error)
        if debug or message is None:
            raise
        print(f"gentool-jax {name}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gentool-jax {name}: interrupted; rerun the same command to resume.",
              file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
