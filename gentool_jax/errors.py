"""Errors a user can act on. The CLI prints them without a traceback and exits non-zero."""


class GentoolError(Exception):
    """A problem with the user's input, files or configuration (not a bug in gentool-jax)."""


class RecordError(GentoolError):
    """A malformed data record; the message names the file, line and reason."""

    def __init__(self, path: str, line: int, reason: str):
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


class ModelFileError(GentoolError):
    """A missing, unexpected, mismatched or unsupported model file or tensor."""


class CheckpointError(GentoolError):
    """A checkpoint that cannot be resumed onto the current run (other model or config)."""


class TrainingDivergedError(GentoolError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""
