"""`gentool-jax simulate`: write the simulated (or imported) splits, stats and TFDS dataset.

The splits come from one of three sources: the offline world (`simulate/`), a user's file
(`importers/`) or a teacher LLM (`teacher/`). This command picks one, so it stands above all
three and none of them imports another's command.

The output directory gets a manifest with a hash of everything the output depends on; a rerun
with the same config finds it and skips, so the pipeline can resume cheaply.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from tqdm import tqdm

from gentool_jax.atomic import write_json
from gentool_jax.errors import GentoolError
from gentool_jax.records import require_file, write_records
from gentool_jax.simulate import variety
from gentool_jax.simulate.simulation import SPLITS, simulate, split_file
from gentool_jax.simulate.stats import compute_stats
from gentool_jax.simulate.wording import FILE as WORDING_FILE
from gentool_jax.simulate.wording import SPLIT as WORDING_SPLIT

MANIFEST = "manifest.json"
# Bump when the generator changes in a way that changes its output for the same config.
GENERATOR_VERSION = 1
# The generator of a world with any variety option on (simulate/variety.py); a world with all
# of them at their defaults is the version-1 world, byte for byte, and keeps its fingerprint.
VARIETY_GENERATOR_VERSION = 2
# Options added after version-1 data existed that only add a file: left out of the
# fingerprint at their defaults, so data written before them keeps its fingerprint.
ADDED_DEFAULTS = {"wording_validation": False}


def _fingerprint(config, source: str, teacher: str = "") -> str:
    simulate = json.loads(config.simulate.to_json())
    if not teacher:  # the teacher's settings change nothing the offline world or an import writes
        simulate.pop("teacher", None)
    # Options absent before they existed leave the fingerprint at their defaults.
    for option, default in {**variety.DEFAULTS, **ADDED_DEFAULTS}.items():
        if simulate.get(option) == default:
            simulate.pop(option)
    generator = VARIETY_GENERATOR_VERSION if set(variety.DEFAULTS) & set(simulate) \
        else GENERATOR_VERSION
    parts = {"generator": generator, "seed": config.seed, "simulate": simulate,
             "source": source}
    if source:
        parts["source_sha256"] = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    if teacher:
        parts["teacher_seeds_sha256"] = hashlib.sha256(Path(teacher).read_bytes()).hexdigest()
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _files(config) -> list[str]:
    """The record files a simulate run writes (the manifest's `files`)."""
    extra = [WORDING_FILE] if config.simulate.get("wording_validation", False) else []
    return [split_file(s) for s in SPLITS] + extra


def _complete(out: Path, fingerprint: str, write_tfds: bool, files: list[str]) -> bool:
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    files = files + ["stats.json"]
    return (manifest.get("fingerprint") == fingerprint
            and all((out / f).is_file() for f in files)
            and (not write_tfds or manifest.get("tfds", False)))


def check_inputs(config, options: dict[str, str]) -> tuple[str, str]:
    """(source, teacher seeds) of a simulate run, each checked to exist (and the teacher to be
    configured): a one-line error before any long work. The pipeline calls it before fetching
    the model and recording its config, so a typo in a path costs neither."""
    source = options.get("from") or config.simulate.source
    teacher = options.get("teacher") or config.simulate.teacher.seeds
    if source and teacher:
        raise GentoolError("simulate: give --from (import records) or --teacher (generate "
                           "with a teacher LLM), not both")
    if (source or teacher) and not variety.is_default(config.simulate):
        raise GentoolError("simulate: config.simulate.toolset_sizes, config.simulate."
                           "writing, config.simulate.extra_asks and config.simulate."
                           "worded_asks shape the offline world only; reset them for --from or "
                           "--teacher (which use toolset_size)")
    if (source or teacher) and config.simulate.get("wording_validation", False):
        raise GentoolError("simulate: config.simulate.wording_validation re-asks the offline "
                           "world's validation queries only; reset it for --from or --teacher")
    if source:
        require_file(source)  # before the fingerprint reads it
    if teacher:
        from gentool_jax.teacher.generate import check_teacher_config

        require_file(teacher)
        check_teacher_config(config.simulate.teacher)
    return source, teacher


def simulate_command(config, options: dict[str, str]) -> int:
    """Simulate (or import `--from`, or generate `--teacher`) into `--out` or `<workdir>/data`."""
    out = Path(options.get("out") or Path(config.workdir) / "data")
    source, teacher = check_inputs(config, options)
    write_tfds = bool(config.simulate.write_tfds)
    fingerprint = _fingerprint(config, source, teacher)
    fmt = options.get("format") or "auto"
    if fmt != "auto":  # an explicit reader can change what the same file imports as
        if not source:
            raise GentoolError(f"simulate: --format={fmt} needs --from=FILE")
        fingerprint = hashlib.sha256(f"{fingerprint}:format={fmt}".encode()).hexdigest()
    files = _files(config)
    if _complete(out, fingerprint, write_tfds, files):
        print(f"simulate: {out} already holds this simulation (manifest matches); skipping.")
        return 0
    if (out / MANIFEST).is_file():
        print(f"simulate: {out} holds another simulation (its manifest's fingerprint of the "
              "simulate config, seed and source differs, or files are missing); writing it "
              "again. Checkpoints trained on the old data will refuse to resume on the new.")
    start = time.perf_counter()
    if teacher:
        from gentool_jax.importers.formats import import_file
        from gentool_jax.model.model_cache import cache_root
        from gentool_jax.teacher.generate import teacher_pairs

        print(f"simulate: generating with teacher {config.simulate.teacher.model} from {teacher}")
        pairs = teacher_pairs(config, teacher, out, cache_root(config.model) / "teacher")
        splits = import_file(pairs, config.simulate.toolset_size, config.seed)
    elif source:
        from gentool_jax.importers.formats import import_file

        print(f"simulate: importing {source}")
        splits = import_file(source, config.simulate.toolset_size, config.seed, fmt=fmt,
                             sim_config=config.simulate)
    else:
        with tqdm(total=config.simulate.num_pairs, desc="simulate pairs", unit="pair") as bar:
            splits = simulate(config.simulate, config.seed, progress=bar.update)
    (out / MANIFEST).unlink(missing_ok=True)
    for split in tqdm(SPLITS, desc="write jsonl", unit="split"):
        write_records(out / split_file(split), splits[split])
    if WORDING_SPLIT in splits:  # not a split of its own: stats.json stays the same
        write_records(out / WORDING_FILE, splits[WORDING_SPLIT])
        print(f"simulate: {len(splits[WORDING_SPLIT])} validation records in held-out "
              f"wording -> {out / WORDING_FILE}")
    stats = compute_stats({split: splits[split] for split in SPLITS})
    write_json(out / "stats.json", stats)
    seconds = time.perf_counter() - start
    print(f"simulate: {stats['tool_pairs']} pairs, {stats['distinct_queries']} queries, "
          f"{stats['distinct_tools']} tools, {stats['domains']} domains, "
          f"{stats['training_samples']} training samples ({seconds:.1f}s) -> {out}")
    print("  " + ", ".join(f"{s}={len(splits[s])}" for s in SPLITS))
    if write_tfds:
        from gentool_jax.simulate.tfds_builder import write_tfds as build_tfds

        print("simulate: writing the TFDS array_record copy ...", flush=True)
        start = time.perf_counter()
        path = build_tfds(out)
        print(f"simulate: TFDS array_record dataset at {path} "
              f"({time.perf_counter() - start:.1f}s)")
    write_json(out / MANIFEST, {"fingerprint": fingerprint, "tfds": write_tfds,
                                 "files": files})
    return 0

