"""Teacher-forced decision accuracy: does the model pick the gold tool, given the gold text so far?

Generation-based TSA on 64 validation samples has a standard error near 0.05 and takes minutes;
too noisy and too slow to steer training by. This probe reads one forward pass per shared-prefix
row of validation samples and checks the two decisions a GenTool reply makes: the first ranked
name and the call's name. A decision counts as correct when every token of the gold name is the
argmax at its position, i.e. greedy decoding from the gold prefix would have written exactly that
name. It is scored per variant beside two reference lines computed on the same samples:
answering `generate_response` to everything, and BM25 with its threshold tuned on them.

Each decision is read twice from the same forward pass. Free: the argmax over the whole
vocabulary, what unconstrained greedy decoding writes. Constrained: the argmax over the tokens
the reply grammar allows there (those that continue some offered name consistent with the gold
text so far), what grammar-constrained greedy decoding writes (`sample.constrain="tools"`, the
default). An untrained model rarely writes a name unprompted, so only the constrained reading
shows how well it already chooses.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from gentool_jax.data.batches import Batch, SharedSegment, make_batch
from gentool_jax.data.decisions import decision_spans, token_char_ends, tokens_of_span
from gentool_jax.data.render import EncodedExample, encode_example, encode_prompt, target_text
from gentool_jax.data.shared_prefix import group_by_toolset, split_shared_prefix
from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, Record

KINDS = ("first_ranked", "call_name")
TOOL_VARIANTS = ("weak", "strong", "both")


@dataclasses.dataclass(frozen=True)
class ProbeSet:
    """Validation rows laid out once; `gather[r, k]` is a position whose argmax must equal
    `expected[r, k]`, belonging to decision `owner[r, k]` (-1: padding); `allowed[r, k]` are
    the tokens the grammar allows there (padded with the expected token)."""

    batch: Batch
    gather: np.ndarray
    expected: np.ndarray
    owner: np.ndarray
    decisions: tuple[tuple[int, str], ...]  # (record index, kind) per decision
    records: tuple[Record, ...]
    allowed: np.ndarray | None = None


@dataclasses.dataclass(frozen=True)
class Predictions:
    """The token each gathered position predicts, `[rows, K]`: over the whole vocabulary, and
    over the tokens the grammar allows there."""

    free: np.ndarray
    constrained: np.ndarray


@functools.lru_cache(maxsize=4)
def _token_ids_by_text(tokenizer: Any) -> dict[str, tuple[int, ...]]:
    """Every token's decoded text -> the ids that decode to it."""
    by_text: dict[str, list[int]] = defaultdict(list)
    for token in range(len(tokenizer)):
        by_text[tokenizer.decode([token])].append(token)
    return {text: tuple(ids) for text, ids in by_text.items()}


def _allowed_tokens(tokenizer: Any, record: Record, target: str, span: tuple[int, int],
                    ends: np.ndarray, indices: np.ndarray) -> list[np.ndarray]:
    """Per decision token: the tokens whose text continues the gold text before it toward
    some offered name (followed by what follows the gold name), as the reply grammar allows."""
    by_text = _token_ids_by_text(tokenizer)
    tail = target[span[1]:span[1] + 4]
    names = [tool["name"] for tool in record["tools"]] + [DEFAULT_TOOL]
    options = [target[:span[0]] + name + tail for name in names]
    starts = np.concatenate([[0], ends[:-1]])
    out = []
    for index in indices:
        written = target[:starts[index]]
        allowed: set[int] = set()
        for option in options:
            if option.startswith(written):
                rest = option[len(written):]
                for end in range(1, len(rest) + 1):
                    allowed.update(by_text.get(rest[:end], ()))
        out.append(np.asarray(sorted(allowed), np.int32))
    return out


def _decision_tokens(record: Record, tokenizer: Any, style: str, include_ranking: bool,
                     include_call: bool
                     ) -> tuple[EncodedExample, str, np.ndarray, list[np.ndarray]]:
    """The sample cut right after its decision, the decision's kind, its token indices and the
    tokens the grammar allows at each.

    With a ranking the decision is the first ranked name: the call's name that follows it is a
    copy of that name under teacher forcing, so it measures nothing. Without one (plain SFT)
    the decision is the call's name. Nothing after the decision is needed for its argmax, so
    the sample is cut there and the probe pays for prompt tokens only."""
    example = encode_example(record, tokenizer, style=style, include_ranking=include_ranking,
                             include_call=include_call)
    start = len(encode_prompt(record, tokenizer, style))
    target = target_text(record, include_ranking=include_ranking, include_call=include_call)
    spans = decision_spans(target, record)
    kind, span = (("first_ranked", spans.first_ranked) if include_ranking
                  else ("call_name", spans.call_name))
    ends = token_char_ends(tokenizer, example.tokens[start:-1], target)
    indices = tokens_of_span(ends, span)
    positions = start + indices
    allowed = _allowed_tokens(tokenizer, record, target, span, ends, indices)
    end = int(positions[-1]) + 1
    return EncodedExample(example.tokens[:end], example.loss_mask[:end]), kind, positions, allowed


def build_probe(records: Sequence[Record], tokenizer: Any, *, style: str, max_len: int,
                include_ranking: bool, include_call: bool) -> ProbeSet:
    """Lay `records` out as shared-prefix rows of `max_len` tokens, remembering where each
    decision's tokens are predicted."""
    rows: list[list[SharedSegment]] = []
    used: list[int] = []
    marks: list[list[tuple[int, int, int, np.ndarray]]] = []  # (position, expected, decision,
    # allowed) per row
    decisions: list[tuple[int, str]] = []
    for group in group_by_toolset(records):
        encoded = [_decision_tokens(records[i], tokenizer, style, include_ranking, include_call)
                   for i in group]
        segment = split_shared_prefix([example for example, *_ in encoded])
        cut = len(segment.prefix)
        if cut + max(len(turn) for turn in segment.turns) > max_len:
            raise GentoolError(f"a validation sample of {records[group[0]]['id']!r} does not fit "
                               f"in data.max_len={max_len}; the probe cannot score it")
        for index, turn, (example, kind, positions, allowed) in zip(group, segment.turns,
                                                                    encoded):
            same_segment = bool(rows and rows[-1] and rows[-1][-1].prefix is segment.prefix)
            if not rows or used[-1] + len(turn) + (0 if same_segment else cut) > max_len:
                rows.append([])
                used.append(0)
                marks.append([])
                same_segment = False
            if not same_segment:
                rows[-1].append(SharedSegment(segment.prefix, ()))
                used[-1] += cut
            last = rows[-1][-1]
            rows[-1][-1] = SharedSegment(last.prefix, (*last.turns, turn))
            turn_start = used[-1]
            used[-1] += len(turn)
            decisions.append((index, kind))
            for position, options in zip(positions, allowed):
                marks[-1].append((turn_start + int(position) - cut - 1,
                                  int(example.tokens[position]), len(decisions) - 1, options))
    width = max(len(row_marks) for row_marks in marks)
    choices = max(len(mark[3]) for row_marks in marks for mark in row_marks) + 1
    gather = np.zeros((len(rows), width), np.int32)
    expected = np.zeros((len(rows), width), np.int32)
    owner = np.full((len(rows), width), -1, np.int32)
    allowed_ids = np.zeros((len(rows), width, choices), np.int32)
    for r, row_marks in enumerate(marks):
        for k, (position, token, decision, options) in enumerate(row_marks):
            gather[r, k], expected[r, k], owner[r, k] = position, token, decision
            allowed_ids[r, k] = token  # padding repeats the expected token: never a rival
            allowed_ids[r, k, :len(options)] = options
    return ProbeSet(make_batch(rows, max_len), gather, expected, owner, tuple(decisions),
                    tuple(records), allowed_ids)


def make_probe_fn(graphdef: nnx.GraphDef):
    """`(lora, frozen, batch, gather, allowed) -> [2, rows, K]`: the argmax token over the
    vocabulary and over `allowed` at each gathered position. The forward pass projects only
    the gathered positions, so the vocabulary projection costs K, not max_len, rows."""

    @jax.jit
    def probe(lora, frozen, batch, gather, allowed):
        model = nnx.merge(graphdef, lora, frozen, copy=True)
        model.eval()
        hidden, _ = model.hidden(batch["tokens"], batch["positions"],
                                 segment_ids=batch["segment_ids"], turn_ids=batch["turn_ids"])
        picked = jnp.take_along_axis(hidden, gather[..., None], axis=1)
        logits = model.logits(picked)
        among = jnp.take_along_axis(logits, allowed, axis=-1)
        restricted = jnp.take_along_axis(allowed, jnp.argmax(among, axis=-1)[..., None],
                                         axis=-1)[..., 0]
        return jnp.stack([jnp.argmax(logits, axis=-1), restricted])

    return probe


def decisions_correct(probe: ProbeSet, predicted: np.ndarray) -> np.ndarray:
    """Per decision: whether every one of its tokens was predicted."""
    correct = np.ones(len(probe.decisions), bool)
    valid = probe.owner >= 0
    wrong = valid & (np.asarray(predicted) != probe.expected)
    correct[np.unique(probe.owner[wrong])] = False
    return correct


def predict(probe: ProbeSet, probe_fn, lora, frozen, *, rows_per_call: int = 1) -> Predictions:
    """The predicted token at every gathered position, free and constrained, `rows_per_call`
    rows a forward pass (the last call padded, so one shape compiles)."""
    predicted = []
    for start in range(0, len(probe.gather), rows_per_call):
        part = slice(start, start + rows_per_call)
        count = len(probe.gather[part])
        pad = [(0, rows_per_call - count), (0, 0)]
        rows = jax.tree.map(lambda x, part=part, pad=pad: jnp.pad(jnp.asarray(x[part]), pad),
                            probe.batch)
        gather = jnp.pad(jnp.asarray(probe.gather[part]), pad)
        allowed = jnp.pad(jnp.asarray(probe.allowed[part]), [*pad, (0, 0)])
        predicted.append(np.asarray(probe_fn(lora, frozen, rows, gather, allowed))[:, :count])
    both = np.concatenate(predicted, axis=1)
    return Predictions(free=both[0], constrained=both[1])


def summarize(probe: ProbeSet, correct: np.ndarray) -> dict[str, float]:
    """Accuracy per decision kind, per variant and pooled over the tool-needing variants."""
    hits: dict[str, list[bool]] = defaultdict(list)
    for (index, kind), ok in zip(probe.decisions, correct):
        variant = probe.records[index]["variant"]
        hits[f"{kind}/{variant}"].append(bool(ok))
        hits[f"{kind}/all"].append(bool(ok))
        if variant in TOOL_VARIANTS:
            hits[f"{kind}/tool_needing"].append(bool(ok))
    return {key: float(np.mean(values)) for key, values in sorted(hits.items())}


def reference_lines(records: Sequence[Record]) -> dict[str, float]:
    """Call-name accuracy of answering `generate_response` always, of BM25 (threshold tuned on
    these same records: an upper bound on what the baseline gets here), and of BM25's top tool
    on the tool-needing records."""
    from gentool_jax.baselines.lexical import select, tune_threshold

    threshold = tune_threshold(records)
    abstain = [record["call"]["name"] == DEFAULT_TOOL for record in records]
    bm25 = [select(record, threshold) == record["call"]["name"] for record in records]
    needing = [i for i, record in enumerate(records) if record["variant"] in TOOL_VARIANTS]
    top = [select(records[i], 0.0) == records[i]["call"]["name"] for i in needing]
    return {"abstain_all/all": float(np.mean(abstain)),
            "bm25/all": float(np.mean(bm25)),
            "bm25/tool_needing": float(np.mean([bm25[i] for i in needing])) if needing else 0.0,
            # BM25's best-matching tool, never abstaining: its lexical selection skill
            "bm25_top/tool_needing": float(np.mean(top)) if top else 0.0}


def choose_records(records: Sequence[Record], samples: int, seed: int) -> list[Record]:
    """At least `samples` records in whole toolset groups (so prefixes are shared), groups in
    a seeded order: the same subset for every run of one validation file and seed."""
    groups = group_by_toolset(records)
    order = np.random.default_rng(seed).permutation(len(groups))
    chosen: list[Record] = []
    for g in order:
        if len(chosen) >= samples:
            break
        chosen.extend(records[i] for i in groups[g])
    return chosen


class StageProbe:
    """The probe of one training stage: built once, measured every `every` steps and at the
    stage's last step; its figures go into that step's metrics row (and TensorBoard)."""

    def __init__(self, probe: ProbeSet, graphdef: nnx.GraphDef, every: int):
        self.probe = probe
        self.every = every
        self._fn = make_probe_fn(graphdef)
        self._references = {f"probe/ref/{key}": value
                            for key, value in reference_lines(probe.records).items()}

    def due(self, step: int, total_steps: int) -> bool:
        return step == total_steps or (self.every > 0 and step % self.every == 0)

    def measure(self, lora: Any, frozen: Any) -> dict[str, float]:
        started = time.perf_counter()
        predicted = predict(self.probe, self._fn, lora, frozen)
        correct = decisions_correct(self.probe, predicted.free)
        values = {f"probe/{key}": value for key, value in summarize(self.probe, correct).items()}
        constrained = decisions_correct(self.probe, predicted.constrained)
        values.update({f"probe/constrained/{key}": value
                       for key, value in summarize(self.probe, constrained).items()})
        return {**values, **self._references, "probe/samples": len(self.probe.records),
                "probe/seconds": time.perf_counter() - started}
