"""A missing optional piece is one line naming the `pip install` that brings it.

The import that fails may happen anywhere: in the command itself, in a Grain worker process
(Grain re-raises the worker's error wrapped in its own, with the original as text), or in a
thread. `missing_dependency` reads all three shapes, so the CLI can print one line and exit 1.
"""

from __future__ import annotations

import re

from gentool_jax.errors import GentoolError

# Top-level module -> the command that installs it. Modules not listed here are core
# dependencies: reinstalling the package brings them back.
INSTALL_HINTS = {
    "fastapi": "pip install 'gentool-jax[serve]'",
    "starlette": "pip install 'gentool-jax[serve]'",
    "uvicorn": "pip install 'gentool-jax[serve]'",
    "jax_cuda12_plugin": "pip install 'gentool-jax[cuda]'",
    "jax_cuda13_plugin": "pip install 'gentool-jax[cuda]'",
    "libtpu": "pip install 'gentool-jax[tpu]'",
    "torch": "pip install torch==2.13.0 (a test and benchmark reference only)",
    "peft": "pip install -e '.[test]'",
}
_CORE_HINT = "pip install -e . (or pip install gentool-jax) to reinstall its dependencies"

# How a failed import reads once it has crossed a process boundary or a library's own check.
_MESSAGES = (
    re.compile(r"No module named '([A-Za-z0-9_]+)"),
    re.compile(r"requires ([A-Za-z0-9_]+) to be installed"),
)
_BACKENDS = re.compile(
    r"(?:Unknown backend|Unable to initialize backend)[^']*'(cuda|gpu|tpu|rocm)'")


class MissingDependencyError(GentoolError):
    """An optional package (or a core one removed by hand) is not installed."""


def install_hint(module: str) -> str:
    return INSTALL_HINTS.get(module.split(".")[0], _CORE_HINT)


def require(module: str, purpose: str) -> None:
    """Import `module` now, or raise the one-line error naming the pip install for `purpose`."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as error:
        raise MissingDependencyError(
            f"{purpose} needs the Python package {module!r}, which is not installed: "
            f"{install_hint(module)}") from error


def _chain(error: BaseException):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)


def missing_dependency(error: BaseException) -> str | None:
    """The one-line message for an error caused by a missing package or JAX plugin, else None."""
    for link in _chain(error):
        if isinstance(link, MissingDependencyError):
            return str(link)
        if isinstance(link, ModuleNotFoundError) and link.name:
            module = link.name.split(".")[0]
            return (f"the Python package {module!r} is not installed: {install_hint(module)}")
        text = str(link)
        for pattern in _MESSAGES:
            match = pattern.search(text)
            if match and isinstance(link, ImportError | RuntimeError | ValueError):
                module = match.group(1)
                return (f"the Python package {module!r} is not installed: "
                        f"{install_hint(module)}")
        backend = _BACKENDS.search(text)
        if backend and isinstance(link, RuntimeError):
            plugin = "libtpu" if backend.group(1) == "tpu" else "jax_cuda12_plugin"
            return (f"JAX was asked for the {backend.group(1)!r} backend but has no plugin "
                    f"for it: {install_hint(plugin)}")
    return None
