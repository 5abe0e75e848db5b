"""`simulate(sim_config, seed)`: the whole offline world, from pairs to checked records.

Plain Python on purpose (no JAX, no multiprocessing): paper scale takes seconds on one core,
and a single deterministic pass is what makes the same seed give byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable

from gentool_jax.records import SCENARIOS, Record
from gentool_jax.simulate.cross_queries import add_cross_queries
from gentool_jax.simulate.leakage import check_leakage
from gentool_jax.simulate.pairs import build_pairs
from gentool_jax.simulate.toolsets import build_records
from gentool_jax.simulate.variety import parse_toolset_sizes
from gentool_jax.simulate.wording import HeldOutWording

SPLITS = ("train", "validation", *SCENARIOS)


def simulate(sim_config, seed: int,
             progress: Callable[[int], None] | None = None) -> dict[str, list[Record]]:
    """Records of every split (keys: train, validation and the four test scenarios, and
    `validation_wording` when `simulate.wording_validation` is on).

    `sim_config` is `config.simulate`; `progress(n)` is called once per finished pair.
    Raises LeakageError if a held-out tool, template or domain reached training.
    """
    pairs = build_pairs(sim_config, seed)
    wording = HeldOutWording(pairs, sim_config, seed) \
        if sim_config.get("wording_validation", False) else None
    records = build_records(pairs, sim_config.toolset_size, seed, progress,
                            sizes=parse_toolset_sizes(sim_config.toolset_sizes),
                            distractors=sim_config.get("distractors", "capability"),
                            wording=wording)
    records["train"] = add_cross_queries(pairs, records.get("train", []),
                                         sim_config.get("cross_queries", 0), seed,
                                         sim_config.get("cross_mix", "alternate"),
                                         sim_config.get("distractors") == "visible")
    splits = {name: records.get(name, []) for name in SPLITS}
    if wording is not None:
        splits[wording.split] = records.get(wording.split, [])
    check_leakage(splits)
    return splits


def split_file(split: str) -> str:
    """File name of a split in the output directory (test scenarios get a `test_` prefix)."""
    return f"{split}.jsonl" if split in ("train", "validation") else f"test_{split}.jsonl"
