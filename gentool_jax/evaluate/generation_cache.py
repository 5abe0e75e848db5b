"""Generations kept by content, so a system that has not changed is never sampled twice.

A generation is a function of the model's weights (base directory plus any adapter or training
checkpoint), the exact prompt tokens (which fix the record's query and toolset, the prompt
rendering and the tokenizer) and the sampling settings. The cache keys each generation by a
digest of all of these and nothing else: never by record id, so a changed record, prompt
style, checkpoint or tokenizer always samples again, while the base model and the baselines
of an unchanged default run are sampled once per machine. Files live under the model cache
(`<cache_root>/generations/<system fingerprint>.jsonl`), one line per prompt, appended as
batches finish; a torn last line is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gentool_jax.evaluate.systems import Generation

SAMPLING_FIELDS = ("max_new_tokens", "temperature", "top_k", "top_p")


def sampling_fields(sample_section: Any) -> dict[str, Any]:
    """The `config.sample` values a generation depends on, raw as the config holds them: the
    fingerprint and the reports record these, and caches written by earlier runs were keyed
    by them. `constrain` joins them only when it is on, so free decoding keeps the fingerprints
    of the runs from before the field existed."""
    fields = {key: sample_section[key] for key in SAMPLING_FIELDS}
    constrain = sample_section.get("constrain", "none")
    if constrain != "none":
        fields["constrain"] = constrain
    return fields


def system_fingerprint(*, weights: str, dtype: str, param_dtype: str, sampling: dict[str, Any],
                       seed: int, prompts: Sequence[Sequence[int]]) -> str:
    """What a system's generations depend on besides each prompt. Sampled (non-greedy) output
    also depends on the batch a prompt shares and on the seed, so it is keyed by the whole
    prompt list as well; greedy output is reusable prompt by prompt."""
    parts: dict[str, Any] = {"weights": weights, "dtype": dtype, "param_dtype": param_dtype,
                             "sampling": sampling}
    if float(sampling.get("temperature", 0.0)) > 0:
        parts["seed"] = int(seed)
        parts["prompts"] = [prompt_key(prompt) for prompt in prompts]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def prompt_key(tokens: Sequence[int]) -> str:
    return hashlib.sha256(np.asarray(tokens, np.int64).tobytes()).hexdigest()[:24]


class GenerationCache:
    """Append-only store of one system fingerprint's generations, keyed by `prompt_key`."""

    def __init__(self, root: str | Path, fingerprint: str):
        self.path = Path(root) / f"{fingerprint}.jsonl"

    def load(self) -> dict[str, Generation]:
        saved: dict[str, Generation] = {}
        if not self.path.is_file():
            return saved
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    row = json.loads(line)
                    interventions = row.get("interventions")
                    saved[str(row["prompt"])] = Generation(
                        str(row["text"]), int(row["prompt_tokens"]), int(row["generated_tokens"]),
                        str(row.get("constraint", "")),
                        None if interventions is None else int(interventions))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn write or a line of another version: sample again
        return saved

    def add(self, items: Iterable[tuple[str, Generation]]) -> None:
        lines = [json.dumps({"prompt": key, "text": g.text, "prompt_tokens": g.prompt_tokens,
                             "generated_tokens": g.generated_tokens, "constraint": g.constraint,
                             "interventions": g.interventions}, ensure_ascii=False) + "\n"
                 for key, g in items]
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("".join(lines))
            handle.flush()
            os.fsync(handle.fileno())
