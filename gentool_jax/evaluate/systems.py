"""The systems an evaluation compares, each turning records into raw text answers.

A system is anything that answers a record in the DESIGN §3 format: the lexical BM25 selector
(it writes the two lines from its scores), the base model zero-shot and the trained model (both
prompted exactly as in training and sampled with `sample.generate`). Keeping every system behind
the same text interface means one parser and one set of metrics judge them all.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from ml_collections import ConfigDict

from gentool_jax.config_view import section_view
from gentool_jax.records import DEFAULT_TOOL, Record, toolset_key
from gentool_jax.sample.settings import SampleSettings


@dataclasses.dataclass
class Generation:
    """One system's raw answer to one record."""

    text: str
    prompt_tokens: int = 0
    generated_tokens: int = 0
    # Constrained decoding only (`sample.constrain="tools"`): how the reply ended ("complete",
    # "unfinished": the token budget ran out, "rejected": the grammar allowed nothing) and in
    # how many steps the grammar overrode the model's most likely token; "" / None otherwise.
    constraint: str = ""
    interventions: int | None = None


@dataclasses.dataclass
class SystemRun:
    name: str
    generations: list[Generation]
    seconds: float
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    fingerprint: str = ""  # identifies the settings the generations came from (for reuse)


def bm25_answer(record: Record, threshold: float) -> str:
    """The BM25 selector's answer: its tools by score, `generate_response` placed where the
    abstention threshold cuts, and a call of its top tool with no arguments (it fills none)."""
    from gentool_jax.baselines.lexical import tool_scores

    scores = np.asarray(tool_scores(record), dtype=float)
    names = [tool["name"] for tool in record["tools"]]
    order = sorted(range(len(names)), key=lambda i: (-scores[i], i))
    above = [names[i] for i in order if scores[i] >= threshold]
    below = [names[i] for i in order if scores[i] < threshold]
    ranking = [*above, DEFAULT_TOOL, *below]
    call = {"name": ranking[0], "arguments": {}}
    return f"Ranking: {json.dumps(ranking)}\nCall: {json.dumps(call)}"


def run_bm25(records: Sequence[Record], validation: Sequence[Record]) -> SystemRun:
    """BM25 with its abstention threshold tuned on `validation` (0 = never abstain if empty)."""
    from gentool_jax.baselines.lexical import tune_threshold

    start = time.perf_counter()
    threshold = float(tune_threshold(validation)) if validation else 0.0
    generations = [Generation(bm25_answer(record, threshold)) for record in records]
    return SystemRun("bm25", generations, time.perf_counter() - start,
                     info={"threshold": threshold, "tuned_on": len(validation)})


def run_model(name: str, model: Any, tokenizer: Any, records: Sequence[Record], *,
              sample_config: SampleSettings | ConfigDict, tool_style: str, seed: int = 0,
              mesh: Any = None, prefix_cache: bool = True, reply: Any = None,
              replies: Sequence[Any] | None = None) -> SystemRun:
    """Prompt `model` with every record (the training prompt, generation header included).

    With `prefix_cache`, records presenting the same tools in the same order share the prefill
    of their common prompt prefix (the system prompt with the toolset, ≈80% of a prompt);
    greedy answers are the same either way. `sample_config` is a `SampleSettings` or the
    `config.sample` section it views. With `sample.constrain="tools"` each reply is held to its
    record's toolset grammar in the `reply` format (a `sample.grammar.ReplyFormat`; default:
    ranking and call, as the model is prompted); `replies` gives each record its own (the
    selection head's pick fixed in it, docs/selector.md).
    """
    sample = section_view(SampleSettings, sample_config)
    from gentool_jax.data.render import encode_prompt
    from gentool_jax.sample.constraint import Constrainer, RowGrammar
    from gentool_jax.sample.generate import generate_with_outcomes, stop_ids_for
    from gentool_jax.sample.grammar import FULL_REPLY
    from gentool_jax.sample.prefix import shared_prefix_lengths

    prompts = [encode_prompt(record, tokenizer, tool_style) for record in records]
    prefix_lengths = None
    if prefix_cache:
        prefix_lengths = shared_prefix_lengths(prompts, [toolset_key(r) for r in records])
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    stops = stop_ids_for(tokenizer)
    constraint: dict[str, Any] = {}
    if sample.constrained:
        constraint = dict(constrainer=Constrainer(tokenizer, model.config.vocab_size, stops),
                          grammars=[RowGrammar.of(r["tools"], row_reply)
                                    for r, row_reply in zip(records, replies or [
                                        reply or FULL_REPLY] * len(records))])
    start = time.perf_counter()
    result = generate_with_outcomes(
        model, prompts, max_new_tokens=sample.max_new_tokens, stop_ids=stops,
        temperature=sample.temperature, top_k=sample.top_k, top_p=sample.top_p, seed=seed,
        pad_id=int(pad_id), batch_size=sample.batch_size, bucket=sample.prompt_bucket,
        prefix_lengths=prefix_lengths, mesh=mesh, progress=True, **constraint)
    seconds = time.perf_counter() - start
    generations = [
        Generation(tokenizer.decode(tokens, skip_special_tokens=True), len(prompt), len(tokens),
                   *((outcome.status, outcome.interventions) if outcome else ()))
        for prompt, tokens, outcome in zip(prompts, result.tokens, result.outcomes)
    ]
    produced = sum(g.generated_tokens for g in generations)
    info = {
        "generated_tokens": produced, "prompt_tokens": sum(len(p) for p in prompts),
        "generated_tokens_per_second": round(produced / seconds, 1) if seconds else None,
        "stop_ids": stops,
        "prompts_sharing_a_prefix": sum(n > 0 for n in prefix_lengths or []),
        "decoding": "constrained" if sample.constrained else "free",
    }
    if sample.constrained:
        info["replies_overridden"] = sum(bool(g.interventions) for g in generations)
        info["replies_incomplete"] = sum(g.constraint != "complete" for g in generations)
    return SystemRun(name, generations, seconds, info=info)


def constraint_errors(generation: Generation) -> list[str]:
    """Why a constrained reply is not valid whatever its text says: a reply the grammar did
    not see to its end-of-turn token (cut by the token budget, or refused) is never accepted."""
    if generation.constraint in ("", "complete"):
        return []
    return [f"constrained decoding: the reply is {generation.constraint} (the grammar did not "
            "reach its end-of-turn token)"]
