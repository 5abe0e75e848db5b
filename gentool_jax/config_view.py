"""Typed, frozen views of ml-collections config sections.

After parsing, a ConfigDict field holds whatever its default or a `--config.x=` override gave
(an int where a float is meant, a list where a tuple is), so every reader used to cast it,
field by field and module by module. A view is a frozen dataclass that names the fields one
module reads with their types: `section_view(View, section)` casts each field once, where the
section enters that module, and the code below reads typed attributes. The config files and
the overrides stay as they are; the allowed values and ranges are still checked once at the
command line (`config_check.py`) before any view is made.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

View = TypeVar("View")


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """The top-level fields of a run (`section_view(RunSettings, config)`): the seed every
    random choice derives from, and the directory everything a run writes goes under."""

    seed: int
    workdir: Path


def section_view(cls: type[View], section: Any) -> View:
    """`section` as a `cls` (a frozen dataclass), each field cast to its annotated type
    (`str`, `int`, `float`, `bool`, `Path`, a tuple, one of them `| None`, or a nested view of
    a subsection); a `cls` already is one and comes back as is, so a function may take
    either."""
    if isinstance(section, cls):
        return section
    hints = typing.get_type_hints(cls)
    # Attribute access reads a ConfigDict and another view alike, so a module may view a part
    # of the view its caller took (a stage's input fields of the whole stage section).
    return cls(**{field.name: _cast(hints[field.name], getattr(section, field.name))
                  for field in dataclasses.fields(cls)})


def _cast(kind: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(kind):  # a subsection (`model.lora`) as its own view
        return section_view(kind, value)
    origin = typing.get_origin(kind)
    if origin is tuple:
        return tuple(value)
    if origin in (typing.Union, types.UnionType):  # `X | None`: a field None may switch off
        if value is None:
            return None
        (kind,) = (arg for arg in typing.get_args(kind) if arg is not type(None))
    return kind(value)
