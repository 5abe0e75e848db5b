"""What a normal run prints: our progress and results, not the libraries' chatter.

Libraries we drive print for their own users (TFDS's "Downloading and preparing dataset Unknown
size" banner, transformers' "PyTorch was not found" advisory, absl INFO lines). A gentool-jax
user asked for none of it; `--debug` brings it back, with tracebacks.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator

_DEBUG_ENV = "GENTOOL_DEBUG"


def set_debug(enabled: bool) -> None:
    """Remember `--debug` for this process and the workers it starts (they inherit the env)."""
    os.environ[_DEBUG_ENV] = "1" if enabled else ""
    if not enabled:
        # Read when the libraries are first imported, so set before any of them is.
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


def debug_enabled() -> bool:
    return bool(os.environ.get(_DEBUG_ENV))


@contextlib.contextmanager
def library_output_hidden() -> Iterator[None]:
    """Swallow what a library prints to stdout/stderr inside the block, unless `--debug`.

    If the block raises, the swallowed text is written to stderr first, so a failure is never
    left without the library's own explanation."""
    if debug_enabled():
        yield
        return
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            yield
    except BaseException:
        sys.stderr.write(captured.getvalue())
        raise
