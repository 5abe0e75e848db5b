"""Where a GenTool reply decides something, in tokens.

Of the ≈60–120 target tokens of a sample, only a few carry the choice the method is about: the
names ranked before `generate_response` (and `generate_response` itself) and the call's name.
The rest is format, names copied in presentation order and argument copying. Two things need
those tokens by position: a loss that weighs them more (`decision_weight`), and the
teacher-forced decision probe (`train/decision_probe.py`), which asks whether greedy decoding
would have produced the gold name at each decision given the gold text before it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, Record

RANKING_PREFIX = "Ranking: "
CALL_PREFIX = 'Call: {"name": '


@dataclasses.dataclass(frozen=True)
class DecisionSpans:
    """Character spans `[start, end)` of the decision names inside a target text."""

    useful_ranked: tuple[tuple[int, int], ...]  # ranked names up to generate_response, included
    call_name: tuple[int, int] | None

    @property
    def first_ranked(self) -> tuple[int, int] | None:
        return self.useful_ranked[0] if self.useful_ranked else None


def _name_span(text: str, name: str, cursor: int) -> tuple[int, int]:
    quoted = json.dumps(name, ensure_ascii=False)
    at = text.find(quoted, cursor)
    if at < 0:
        raise GentoolError(f"target {text!r} does not contain the name {name!r}")
    return at + 1, at + len(quoted) - 1


def decision_spans(target: str, record: Record) -> DecisionSpans:
    """The decision names of `target`, a reply rendered for `record` by `render.target_text`."""
    useful: list[tuple[int, int]] = []
    if target.startswith(RANKING_PREFIX):
        cursor = len(RANKING_PREFIX)
        for name in record["ranking"]:
            span = _name_span(target, name, cursor)
            useful.append(span)
            cursor = span[1]
            if name == DEFAULT_TOOL:
                break
    call = None
    at = target.find(CALL_PREFIX)
    if at >= 0:
        call = _name_span(target, record["call"]["name"], at + len(CALL_PREFIX))
    return DecisionSpans(useful_ranked=tuple(useful), call_name=call)


def token_char_ends(tokenizer: Any, target_ids: Sequence[int], target: str) -> np.ndarray:
    """`ends[i]`: characters of `target` covered by its first i + 1 tokens.

    Read by decoding growing prefixes, so it holds for any tokenizer whose decode of the
    target's tokens gives the target back (checked: a template that alters the text fails)."""
    ids = [int(token) for token in target_ids]
    if tokenizer.decode(ids) != target:
        raise GentoolError("the target's tokens do not decode to the target text, so decision "
                           "tokens cannot be located")
    return np.asarray([len(tokenizer.decode(ids[: i + 1])) for i in range(len(ids))], np.int64)


def tokens_of_span(ends: np.ndarray, span: tuple[int, int]) -> np.ndarray:
    """Indices of the tokens that overlap the character span (into the target's tokens)."""
    starts = np.concatenate([[0], ends[:-1]])
    return np.flatnonzero((starts < span[1]) & (ends > span[0]))
