"""`gentool-jax fit-selector [--checkpoint=DIR]`: fit the selection head on a trained
checkpoint's vectors of the training records, score it on validation, save it beside the run.

The head also fits on `selector.varied_records` training records of a companion world: the
same simulated pairs (the same held-out tools and domains, so no test tool reaches the fit),
with names, descriptions and parameters written in varied styles, toolsets of 1-12 tools, and
queries drawn from its own mix of asks (`selector.varied_extra_asks`,
`selector.varied_worded_asks`: by default four asks a capability in the tool's own words, as
real requests are often worded). Fitted on the run's own world alone, the head learns how the
simulator writes tools and that word overlap is worth nothing; with the companion it read the
hand-written development set better and the simulated test splits about as well
(docs/results.md). Its validation records are scored beside the run's own.

Re-running with the same checkpoint, data and settings finds the saved head and stops (the
pipeline relies on that to resume); a different checkpoint or setting refits, and the new head
replaces the old one only once it is complete.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from ml_collections import ConfigDict

from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.errors import GentoolError
from gentool_jax.records import Record, read_records
from gentool_jax.selector.fit import (
    SelectorSettings,
    candidates,
    choose,
    fit_ensemble,
    held_out_loss,
    selection_metrics,
    texts_of,
    training_standardisation,
)
from gentool_jax.selector.head import TRAINED
from gentool_jax.selector.store import read_info, save_head
from gentool_jax.selector.use import checkpoint_id, selector_dir

# Held-out splits the head is scored on after fitting, where the data directory has them.
SCORED_SPLITS = ("validation", "validation_wording")
# The companion world's validation records, scored beside them.
COMPANION_SPLIT = "varied_validation"


def seeded_sample(records: Sequence[Record], limit: int, seed: int) -> list[Record]:
    """A seeded sample (all of them for `limit` <= 0), read by index: a TFDS split decodes
    only the records drawn."""
    if limit <= 0 or len(records) <= limit:
        return [records[i] for i in range(len(records))]
    return [records[i] for i in random.Random(seed).sample(range(len(records)), limit)]


def companion_world(simulate: ConfigDict, settings: SelectorSettings) -> ConfigDict:
    """The companion's `config.simulate`: the run's world in varied writing, toolsets of 1-12,
    and the asks, decoys and distractor rule of `settings.varied_*`."""
    world = ConfigDict(simulate.to_dict())
    world.writing = ConfigDict(dict(names="varied", descriptions="varied", parameters="varied"))
    world.toolset_sizes = "1-12"
    world.extra_asks = settings.varied_extra_asks
    world.worded_asks = settings.varied_worded_asks
    world.decoys = settings.varied_decoys
    world.distractors = settings.varied_distractors
    world.wording_validation = False
    return world


def varied_companion(config: ConfigDict, seed: int) -> dict[str, list[Record]]:
    """Seeded samples of the companion world's training and validation records (none where
    `selector.varied_records` is 0, or where the run's data is imported rather than simulated:
    there is no world to rewrite)."""
    settings = section_view(SelectorSettings, config.selector)
    if settings.varied_records <= 0:
        return {"train": [], "validation": []}
    if str(config.simulate.source):
        print(f"fit-selector: the data is imported ({config.simulate.source}); no varied-writing "
              "companion world to add")
        return {"train": [], "validation": []}
    from gentool_jax.simulate.simulation import simulate

    splits = simulate(companion_world(config.simulate, settings), seed)
    return {"train": seeded_sample(splits["train"], settings.varied_records, seed),
            "validation": seeded_sample(splits["validation"], settings.validation_records, seed)}


def fit_selector_command(config: ConfigDict, options: dict[str, str]) -> int:
    from gentool_jax.data.sources import load_training_records
    from gentool_jax.selector.encode import encode_texts
    from gentool_jax.train.checkpoint import data_fingerprint
    from gentool_jax.train.command import default_data_path
    from gentool_jax.train.inference import load_for_inference

    settings = section_view(SelectorSettings, config.selector)
    run = section_view(RunSettings, config)
    checkpoint = options.get("checkpoint", "")
    bound = checkpoint_id(config, checkpoint)
    if bound is None:
        raise GentoolError(f"--checkpoint={checkpoint}: a selection head is fitted on a "
                           "training checkpoint (<workdir>/<stage>[/checkpoints/<step>]), not "
                           "on an export")
    train_path = default_data_path(config)
    if not train_path.exists():
        raise GentoolError(f"{train_path} not found: run `gentool-jax simulate` first")
    # `trained` names the head's fitted arrays, so a head saved by code that scores with other
    # terms is refitted rather than reused.
    fitted_on = {"checkpoint": bound, "settings": config.selector.to_dict(),
                 "train_data": data_fingerprint(train_path), "seed": run.seed,
                 "trained": list(TRAINED)}
    directory = selector_dir(config)
    saved = read_info(directory)
    if saved is not None and all(saved.get(key) == value for key, value in fitted_on.items()):
        print(f"fit-selector: {directory} already holds the head for {bound}")
        return 0

    started = time.perf_counter()
    training = load_training_records(train_path, source=str(config.data.source),
                                     mix_in=tuple(config.data.mix_in),
                                     repeat=int(config.data.mix_in_repeat)).records
    companion = varied_companion(config, run.seed)
    train = seeded_sample(training, settings.records, run.seed) + companion["train"]
    scored = {split: seeded_sample(list(read_records(path)), settings.validation_records, run.seed)
              for split in SCORED_SPLITS
              if (path := train_path.parent / f"{split}.jsonl").is_file()}
    if companion["validation"]:
        scored[COMPANION_SPLIT] = companion["validation"]
    model, tokenizer = load_for_inference(config, checkpoint)
    texts = texts_of(train).union(*(texts_of(records) for records in scored.values()))
    print(f"fit-selector: {bound}, {len(train)} training records, {len(texts)} texts to encode")
    states = encode_texts(model, tokenizer, texts, batch_size=settings.encode_batch,
                          depth=settings.depth, keep_tokens=settings.alignment)
    standardised = training_standardisation(train, states)
    arrays = {"train": candidates(train, states, standardised)} | {
        split: candidates(records, states, standardised) for split, records in scored.items()}
    head = fit_ensemble(arrays["train"], settings, run.seed, standardised)
    measured: dict[str, Any] = {
        split: {**selection_metrics(choose(head, split_arrays), split_arrays),
                "loss": held_out_loss(head, split_arrays)}
        for split, split_arrays in arrays.items()}
    seconds = round(time.perf_counter() - started, 1)
    save_head(directory, head, {**fitted_on, "records": len(train), "metrics": measured,
                                "seconds": seconds})
    print(f"fit-selector: saved {directory} ({seconds:.0f} s)")
    for split, row in measured.items():
        print(f"  {split:<20} n={row['n']:<5} tool-needing {row['tool_needing']:.3f}  "
              f"none {row['none']:.3f}  TSA {row['tsa']:.3f} (abstain-all "
              f"{row['abstain_all']:.3f})  abstention F1 {row['abstention_f1']:.3f}  "
              f"loss {row['loss']:.3f}")
    return 0
