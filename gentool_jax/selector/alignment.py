"""How well a query and a tool's text line up word for word in the model's own token states.

Averaging a text's token states into one vector (`selector/encode.py`) blurs which words it
holds: to a 135M model, "I was charged twice for the same order, please dispute it" sits close
to a card-freezing tool as another text about a card, although the dispute tool names what is
asked. Matching token to token keeps it: each query token finds its closest token of the tool's
text and each tool token its closest token of the query (both ways, as a late-interaction
retriever scores), and the two mean best matches are averaged. Unlike BM25 it can also match
different words wherever the model's states place them close. Untrained, it ranked the gold
tool first on real toolsets far more often than the pooled vectors' cosine (docs/results.md,
"Token alignment").

Token states are centred and scaled with the head's own standardisation (the mean and scale of
the training texts' pooled vectors) before the cosines, so the alignment of a text pair does
not depend on which other records it is scored with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gentool_jax.records import Record
from gentool_jax.selector.encode import tool_text


def unit_tokens(tokens: np.ndarray, mean: np.ndarray, scale: float) -> np.ndarray:
    """`[L, H]` token states, standardised and cut to unit length."""
    centred = (tokens.astype(np.float32) - mean) / scale
    return centred / np.maximum(np.linalg.norm(centred, axis=-1, keepdims=True), 1e-6)


def token_alignment(query: np.ndarray, tool: np.ndarray) -> float:
    """The mean best cosine of each query token against the tool's tokens and of each tool
    token against the query's, averaged (both `[L, H]`, unit rows)."""
    cosines = query @ tool.T
    return float(0.5 * (cosines.max(1).mean() + cosines.max(0).mean()))


def record_alignments(records: Sequence[Record], tokens: dict[str, np.ndarray],
                      mean: np.ndarray, scale: float) -> list[np.ndarray]:
    """Each record's `[tools]` alignments of its query with its offered tools (a text is
    standardised once however many records hold it)."""
    units: dict[str, np.ndarray] = {}

    def unit(text: str) -> np.ndarray:
        if text not in units:
            units[text] = unit_tokens(tokens[text], mean, scale)
        return units[text]

    return [np.array([token_alignment(unit(record["query"]), unit(tool_text(tool)))
                      for tool in record["tools"]], np.float32) for record in records]
