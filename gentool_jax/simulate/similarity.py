"""Okapi BM25 in numpy, with a tokenizer that understands tool identifiers.

Tool names come as `get_hourly_forecast`, `getHourlyForecast` or `SkyCastPro`; splitting them into
words lets a name match a description or a query. The simulator picks the most similar irrelevant
tools with it, and the lexical baseline scores tools against queries with it.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[A-Za-z0-9]+")
# Words too common in tool text to say anything about which tool fits.
_STOP = frozenset((
    "a", "an", "the", "of", "for", "to", "in", "on", "at", "by", "and", "or", "with", "from",
    "is", "are", "be", "it", "this", "that", "as", "into", "your", "my", "i", "me", "you",
    "we", "our", "can", "could", "would", "will", "please", "what", "which", "how", "when",
    "where", "who", "do", "does",
))


def tokenize(text: str) -> list[str]:
    """Lower-cased words; snake_case, camelCase and PascalCase identifiers become their parts."""
    words = []
    for chunk in _WORD.findall(text):
        for part in _CAMEL.split(chunk):
            part = part.lower()
            if part and part not in _STOP:
                words.append(part)
    return words


class BM25Index:
    """BM25 scores of a fixed document list against any query.

    Postings are kept per term as (document ids, term frequencies) arrays, so a query costs
    one vectorized update per query term rather than a pass over every document.
    """

    def __init__(self, documents: list[str], k1: float = 1.2, b: float = 0.75):
        self.k1 = k1
        self.b = b
        tokenized = [tokenize(doc) for doc in documents]
        self.size = len(documents)
        lengths = np.array([len(tokens) for tokens in tokenized], dtype=np.float64)
        average = lengths.mean() if self.size and lengths.mean() > 0 else 1.0
        self._norm = k1 * (1.0 - b + b * lengths / average)
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for doc_id, tokens in enumerate(tokenized):
            for term, count in Counter(tokens).items():
                ids, counts = postings.setdefault(term, ([], []))
                ids.append(doc_id)
                counts.append(count)
        self._postings = {
            term: (np.array(ids, dtype=np.int64), np.array(counts, dtype=np.float64))
            for term, (ids, counts) in postings.items()
        }
        self._idf = {
            term: math.log(1.0 + (self.size - len(ids) + 0.5) / (len(ids) + 0.5))
            for term, (ids, _) in self._postings.items()
        }

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document (float64, length = number of documents)."""
        out = np.zeros(self.size, dtype=np.float64)
        for term, weight in Counter(tokenize(query)).items():
            posting = self._postings.get(term)
            if posting is None:
                continue
            ids, tf = posting
            out[ids] += weight * self._idf[term] * tf * (self.k1 + 1.0) / (tf + self._norm[ids])
        return out
