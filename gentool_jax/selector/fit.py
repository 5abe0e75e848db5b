"""Fitting the selection head on training records, and scoring it the way evaluation does.

One softmax cross-entropy over each record's offered tools plus `generate_response`, on the
model's pooled vectors (encoded once: a query and a tool recur across a record's variants and
toolsets), AdamW for a fixed number of steps of records drawn with replacement. The vectors are
small (`[records, tools, hidden]`), so the whole fit is a few seconds of jitted steps after the
encoding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

from gentool_jax.baselines.lexical import tool_scores
from gentool_jax.records import DEFAULT_TOOL, Record
from gentool_jax.selector.encode import tool_text
from gentool_jax.selector.head import TRAINED, init_head, scores, standardisation


@dataclasses.dataclass(frozen=True)
class SelectorSettings:
    """`config.selector`."""

    enabled: bool
    records: int  # training records the head is fitted on (a seeded sample, all variants)
    rank: int
    steps: int
    batch_size: int
    lr: float
    weight_decay: float
    encode_batch: int
    validation_records: int
    depth: int  # blocks read before pooling (0 = all)
    lexical: bool  # fit weights on word overlap with the query (else they stay 0)
    varied_records: int  # records of the varied-writing companion world also fitted on
    varied_extra_asks: int  # that world's simulate.extra_asks
    varied_worded_asks: int  # that world's simulate.worded_asks
    varied_decoys: int  # that world's simulate.decoys
    varied_distractors: str  # that world's simulate.distractors


@dataclasses.dataclass
class Candidates:
    """Records as arrays: queries `[n, H]`, tools `[n, W, H]` (zero past a record's toolset),
    offered `[n, W]`, lexical `[n, W]` (`toolset_overlap`), best_overlap `[n]` (`log1p` of
    the toolset's best BM25) and gold `[n]` (W = `generate_response`, the column `scores`
    appends)."""

    queries: np.ndarray
    tools: np.ndarray
    offered: np.ndarray
    lexical: np.ndarray
    best_overlap: np.ndarray
    gold: np.ndarray

    @property
    def abstain_column(self) -> int:
        return self.tools.shape[1]


def toolset_overlap(record: Record) -> tuple[np.ndarray, float]:
    """(Each offered tool's BM25 against the query, standardised over the toolset (mean 0,
    unit spread; all zero where the tools match equally or there is one), so the weight fitted
    on simulated toolsets carries over to toolsets of other sizes and wordier documentation;
    `log1p` of the best BM25, how well anything offered matches the query's words.)"""
    overlap = np.asarray(tool_scores(record), np.float64)
    best = float(np.log1p(max(overlap.max(), 0.0))) if len(overlap) else 0.0
    spread = overlap.std() if len(overlap) else 0.0
    if spread < 1e-6:
        return np.zeros(len(overlap), np.float32), best
    return ((overlap - overlap.mean()) / spread).astype(np.float32), best


def candidates(records: Sequence[Record], vectors: dict[str, np.ndarray], *,
               with_gold: bool = True) -> Candidates:
    """`records` as arrays; `with_gold=False` for records whose call is unknown (inference)."""
    width = max(len(record["tools"]) for record in records)
    hidden = len(next(iter(vectors.values())))
    queries = np.stack([vectors[record["query"]] for record in records])
    tools = np.zeros((len(records), width, hidden), np.float32)
    offered = np.zeros((len(records), width), bool)
    lexical = np.zeros((len(records), width), np.float32)
    best_overlap = np.zeros(len(records), np.float32)
    gold = np.zeros(len(records), np.int32)
    for i, record in enumerate(records):
        names = [tool["name"] for tool in record["tools"]]
        lexical[i, :len(names)], best_overlap[i] = toolset_overlap(record)
        for j, tool in enumerate(record["tools"]):
            tools[i, j], offered[i, j] = vectors[tool_text(tool)], True
        if with_gold:
            call = record["call"]["name"]
            gold[i] = width if call == DEFAULT_TOOL else names.index(call)
    return Candidates(queries, tools, offered, lexical, best_overlap, gold)


def texts_of(records: Sequence[Record]) -> set[str]:
    return {record["query"] for record in records} | {
        tool_text(tool) for record in records for tool in record["tools"]}


def fit_head(train: Candidates, settings: SelectorSettings, seed: int) -> dict[str, Any]:
    """The head fitted on `train` (its standardisation from the training vectors alone). With
    `settings.lexical` off, the overlap features are zeroed, so their weights stay 0."""
    if not settings.lexical:
        train = dataclasses.replace(train, lexical=np.zeros_like(train.lexical),
                                    best_overlap=np.zeros_like(train.best_overlap))
    everything = np.concatenate([train.queries, train.tools[train.offered]])
    mean, scale = standardisation(everything)
    head = init_head(train.queries.shape[-1], settings.rank, mean, scale, seed, settings.depth)
    optimizer = optax.adamw(settings.lr, weight_decay=settings.weight_decay)
    trained = {key: head[key] for key in TRAINED}
    frozen = {key: value for key, value in head.items() if key not in TRAINED}
    opt_state = optimizer.init(trained)

    @jax.jit
    def step(trained, opt_state, queries, tools, offered, lexical, best_overlap, gold):
        def loss_fn(trained):
            logits = scores({**frozen, **trained}, queries, tools, offered, lexical,
                            best_overlap)
            return optax.softmax_cross_entropy_with_integer_labels(logits, gold).mean()

        loss, grads = jax.value_and_grad(loss_fn)(trained)
        updates, opt_state = optimizer.update(grads, opt_state, trained)
        return optax.apply_updates(trained, updates), opt_state, loss

    rng = np.random.default_rng(seed)
    arrays = [jnp.asarray(a) for a in (train.queries, train.tools, train.offered, train.lexical,
                                       train.best_overlap, train.gold)]
    bar = tqdm(range(settings.steps), desc="selector: fit", unit="step", leave=False)
    for _ in bar:
        batch = jnp.asarray(rng.integers(0, len(train.gold), settings.batch_size))
        trained, opt_state, loss = step(trained, opt_state, *(a[batch] for a in arrays))
    bar.close()
    return {**frozen, **jax.device_get(trained)}


def _logits(head: dict[str, Any], arrays: Candidates) -> jax.Array:
    return scores(head, jnp.asarray(arrays.queries), jnp.asarray(arrays.tools),
                  jnp.asarray(arrays.offered), jnp.asarray(arrays.lexical),
                  jnp.asarray(arrays.best_overlap))


def choose(head: dict[str, Any], arrays: Candidates) -> np.ndarray:
    """The top column of each record: a tool index, or `arrays.abstain_column`."""
    return np.asarray(jnp.argmax(_logits(head, arrays), axis=-1))


def held_out_loss(head: dict[str, Any], arrays: Candidates) -> float:
    """The fit's own loss (mean cross-entropy of the gold column) on `arrays`' records: a
    lower-noise read than TSA on a few hundred records, where head variants tie on picks."""
    return round(float(optax.softmax_cross_entropy_with_integer_labels(
        _logits(head, arrays), jnp.asarray(arrays.gold)).mean()), 4)


def selection_metrics(picks: np.ndarray, arrays: Candidates) -> dict[str, float | int]:
    """Gold on tool-needing records, `none` answered with `generate_response`, pooled TSA,
    abstention F1 and what always abstaining scores, over `arrays`' records."""
    refuse = arrays.abstain_column
    gold_refuses = arrays.gold == refuse
    correct = picks == arrays.gold
    said = picks == refuse
    hits = int((said & gold_refuses).sum())
    precision = hits / max(int(said.sum()), 1)
    recall = hits / max(int(gold_refuses.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def share(mask: np.ndarray) -> float:
        return round(float(correct[mask].mean()), 4) if mask.any() else float("nan")

    return {"n": int(len(picks)), "tool_needing": share(~gold_refuses),
            "none": share(gold_refuses), "tsa": round(float(correct.mean()), 4),
            "abstention_f1": round(f1, 4), "abstain_all": round(float(gold_refuses.mean()), 4)}
