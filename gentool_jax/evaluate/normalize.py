"""Argument-value normalisation, so that "Lisbon " and "lisbon", 3 and "3.0", or
"March 5, 2024" and "2024-03-05" count as the same value (DESIGN §5).

Only surface form is forgiven; a different city, number or day is still a different value.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any

# Tried in order; numeric day/month orders follow ISO first, then the US month/day convention
# (the convention of the API corpora, such as BFCL, whose values we compare against).
_DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%m/%d/%Y", "%m-%d-%Y",
    "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y", "%B %d", "%b %d", "%d %B", "%d %b",
)
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[t ](\d{2}:\d{2}(?::\d{2})?)$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_ORDINAL = re.compile(r"(\d+)(st|nd|rd|th)\b")


def normalize_value(value: Any) -> Any:
    """A canonical, comparable form of a JSON argument value."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return _number(float(value))
    if isinstance(value, str):
        return _normalize_text(value)
    if isinstance(value, (list, tuple)):
        return tuple(normalize_value(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((_normalize_text(str(k)), repr(normalize_value(v)))
                            for k, v in value.items()))
    return repr(value)


def values_match(predicted: Any, gold: Any) -> bool:
    """Whether two argument values are equal after normalisation (floats to 1e-6 relative)."""
    a, b = normalize_value(predicted), normalize_value(gold)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b  # True == 1.0 in Python, but a flag is not a count
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def _number(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


def _normalize_text(text: str) -> Any:
    text = " ".join(text.strip().lower().split())
    if text in ("true", "false"):
        return text == "true"
    compact = text.replace(" ", "")
    if _NUMBER.match(compact):
        return _number(float(compact))
    if _THOUSANDS.match(compact):
        return _number(float(compact.replace(",", "")))
    date = _parse_date(text)
    if date is not None:
        return date
    return text.strip(" .,;!?\"'")


def _parse_date(text: str) -> str | None:
    match = _DATETIME.match(text)
    if match:
        return f"{match.group(1)}T{match.group(2)}"
    cleaned = _ORDINAL.sub(r"\1", text.replace(",", " "))
    cleaned = " ".join(cleaned.split())
    if not any(ch.isdigit() for ch in cleaned):
        return None
    for fmt in _DATE_FORMATS:
        try:
            parsed = _dt.datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
        if "%Y" not in fmt:
            return parsed.strftime("--%m-%d")  # no year given: month-day only (ISO 8601 form)
        return parsed.date().isoformat()
    return None
