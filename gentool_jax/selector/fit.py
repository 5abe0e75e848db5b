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
from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, Record
from gentool_jax.selector.alignment import record_alignments
from gentool_jax.selector.encode import TextStates, tool_text
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
    alignment: bool  # fit weights on token alignment with the query (else they stay 0)
    fits: int  # heads fitted from consecutive seeds whose logits are averaged
    varied_records: int  # records of the varied-writing companion world also fitted on
    varied_extra_asks: int  # that world's simulate.extra_asks
    varied_worded_asks: int  # that world's simulate.worded_asks
    varied_decoys: int  # that world's simulate.decoys
    varied_distractors: str  # that world's simulate.distractors


@dataclasses.dataclass
class Candidates:
    """Records as arrays: queries `[n, H]`, tools `[n, W, H]` (zero past a record's toolset),
    offered `[n, W]`, lexical `[n, W]` (`toolset_overlap`), best_overlap `[n]` (`log1p` of
    the toolset's best BM25), alignment `[n, W]` (token alignment standardised over the
    toolset) and gold `[n]` (W = `generate_response`, the column `scores` appends)."""

    queries: np.ndarray
    tools: np.ndarray
    offered: np.ndarray
    lexical: np.ndarray
    best_overlap: np.ndarray
    alignment: np.ndarray
    gold: np.ndarray

    def features(self) -> tuple[np.ndarray, ...]:
        """The arrays `head.scores` reads, in its order."""
        return (self.queries, self.tools, self.offered, self.lexical, self.best_overlap,
                self.alignment)

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
    return standardised_over_toolset(overlap), best


def standardised_over_toolset(values: np.ndarray) -> np.ndarray:
    """`values` (one per offered tool) at mean 0 and unit spread; all zero where they are
    equal or there is one."""
    spread = values.std() if len(values) else 0.0
    if spread < 1e-6:
        return np.zeros(len(values), np.float32)
    return ((values - values.mean()) / spread).astype(np.float32)


def training_standardisation(records: Sequence[Record], states: TextStates
                             ) -> tuple[np.ndarray, float]:
    """The head's standardisation: over every record's query and offered tools' pooled
    vectors, each counted as often as records hold it."""
    rows = [states.pooled[record["query"]] for record in records] + [
        states.pooled[tool_text(tool)] for record in records for tool in record["tools"]]
    return standardisation(np.stack(rows))


def candidates(records: Sequence[Record], states: TextStates,
               standardised: tuple[np.ndarray, float], *, with_gold: bool = True) -> Candidates:
    """`records` as arrays; token alignments where `states` kept tokens (else zero), with the
    head's `standardised` (mean, scale); `with_gold=False` for records whose call is unknown
    (inference)."""
    vectors = states.pooled
    width = max(len(record["tools"]) for record in records)
    hidden = len(next(iter(vectors.values())))
    queries = np.stack([vectors[record["query"]] for record in records])
    tools = np.zeros((len(records), width, hidden), np.float32)
    offered = np.zeros((len(records), width), bool)
    lexical = np.zeros((len(records), width), np.float32)
    best_overlap = np.zeros(len(records), np.float32)
    alignment = np.zeros((len(records), width), np.float32)
    gold = np.zeros(len(records), np.int32)
    aligned = (record_alignments(records, states.tokens, *standardised) if states.tokens
               else [np.zeros(len(record["tools"]), np.float32) for record in records])
    for i, (record, raw) in enumerate(zip(records, aligned)):
        names = [tool["name"] for tool in record["tools"]]
        lexical[i, :len(names)], best_overlap[i] = toolset_overlap(record)
        alignment[i, :len(names)] = standardised_over_toolset(raw)
        for j, tool in enumerate(record["tools"]):
            tools[i, j], offered[i, j] = vectors[tool_text(tool)], True
        if with_gold:
            call = record["call"]["name"]
            gold[i] = width if call == DEFAULT_TOOL else names.index(call)
    return Candidates(queries, tools, offered, lexical, best_overlap, alignment, gold)


def texts_of(records: Sequence[Record]) -> set[str]:
    return {record["query"] for record in records} | {
        tool_text(tool) for record in records for tool in record["tools"]}


def fit_head(train: Candidates, settings: SelectorSettings, seed: int,
             standardised: tuple[np.ndarray, float]) -> dict[str, Any]:
    """The head fitted on `train`, keeping the (mean, scale) `standardised` its features were
    built with (`training_standardisation`). With `settings.lexical` or `settings.alignment`
    off, those features are zeroed, so their weights stay 0."""
    if not settings.lexical:
        train = dataclasses.replace(train, lexical=np.zeros_like(train.lexical),
                                    best_overlap=np.zeros_like(train.best_overlap))
    if not settings.alignment:
        train = dataclasses.replace(train, alignment=np.zeros_like(train.alignment))
    head = init_head(train.queries.shape[-1], settings.rank, *standardised, seed,
                     settings.depth)
    optimizer = optax.adamw(settings.lr, weight_decay=settings.weight_decay)
    trained = {key: head[key] for key in TRAINED}
    frozen = {key: value for key, value in head.items() if key not in TRAINED}
    opt_state = optimizer.init(trained)

    @jax.jit
    def step(trained, opt_state, features, gold):
        def loss_fn(trained):
            logits = scores({**frozen, **trained}, *features)
            return optax.softmax_cross_entropy_with_integer_labels(logits, gold).mean()

        loss, grads = jax.value_and_grad(loss_fn)(trained)
        updates, opt_state = optimizer.update(grads, opt_state, trained)
        return optax.apply_updates(trained, updates), opt_state, loss

    rng = np.random.default_rng(seed)
    features = [jnp.asarray(a) for a in train.features()]
    gold = jnp.asarray(train.gold)
    bar = tqdm(range(settings.steps), desc="selector: fit", unit="step", leave=False)
    for _ in bar:
        batch = jnp.asarray(rng.integers(0, len(train.gold), settings.batch_size))
        trained, opt_state, loss = step(trained, opt_state, [a[batch] for a in features],
                                        gold[batch])
    bar.close()
    return {**frozen, **jax.device_get(trained)}


def fit_ensemble(train: Candidates, settings: SelectorSettings, seed: int,
                 standardised: tuple[np.ndarray, float]) -> dict[str, Any]:
    """`settings.fits` heads fitted from seeds `seed`, `seed + 1`, ..., their trained arrays
    stacked on a leading member axis; scoring averages their logits. One fit's picks on
    real toolsets swing with its seed (dev records trade places between fits); the average
    keeps what the fits agree on. Six fits lowered the loss on both simulated validation
    splits against the mean single fit (docs/results.md, "Token alignment")."""
    if settings.fits < 1:
        raise GentoolError(f"selector.fits must be at least 1, got {settings.fits}")
    heads = [fit_head(train, settings, seed + member, standardised)
             for member in range(settings.fits)]
    return {key: np.stack([np.asarray(head[key]) for head in heads]) if key in TRAINED
            else heads[0][key] for key in heads[0]}


def _logits(head: dict[str, Any], arrays: Candidates) -> jax.Array:
    """The mean logits of the head's members (a head from `fit_head` is one member)."""
    stacked = np.ndim(head["abstain_bias"]) == 1
    members = {key: jnp.asarray(head[key]) if stacked else jnp.asarray(head[key])[None]
               for key in TRAINED}
    shared = {key: value for key, value in head.items() if key not in TRAINED}
    features = [jnp.asarray(a) for a in arrays.features()]
    per_member = jax.vmap(lambda member: scores({**shared, **member}, *features))(members)
    return per_member.mean(0)


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
