"""Time the simulator at paper scale (configs/default.py) on one core and print its counts.

    python benchmarks/bench_simulate.py [--tfds] [--config=configs/default.py]

Measures `simulate()` (world, pairs, queries, toolsets, leakage check), writing the JSONL
splits and stats, and with --tfds the TFDS array_record build. Not a unit test: the numbers
belong in docs/simulator.md together with the machine they were taken on.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the issue asks
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gentool_jax.records import write_records  # noqa: E402
from gentool_jax.simulate.simulation import SPLITS, simulate, split_file  # noqa: E402
from gentool_jax.simulate.stats import compute_stats  # noqa: E402


def _load_config(path: str):
    spec = importlib.util.spec_from_file_location("bench_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "default.py"))
    parser.add_argument("--tfds", action="store_true", help="also time the TFDS build")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    config = _load_config(args.config)
    start = time.perf_counter()
    splits = simulate(config.simulate, config.seed)
    simulated = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        for split in SPLITS:
            write_records(out / split_file(split), splits[split])
        stats = compute_stats(splits)
        written = time.perf_counter() - start
        tfds_seconds = None
        if args.tfds:
            from gentool_jax.simulate.tfds_builder import write_tfds

            start = time.perf_counter()
            write_tfds(out)
            tfds_seconds = time.perf_counter() - start
    print(f"simulate():            {simulated:6.1f} s")
    print(f"write JSONL + stats:   {written:6.1f} s")
    print(f"total (no TFDS):       {simulated + written:6.1f} s")
    if tfds_seconds is not None:
        print(f"TFDS array_record:     {tfds_seconds:6.1f} s")
    for key in ("tool_pairs", "distinct_queries", "training_samples", "domains",
                "distinct_tools", "pairs_with_both_full_queries", "both_full_pair_fraction",
                "distinct_2_queries", "distinct_2_descriptions"):
        print(f"{key:30s} {stats[key]}")
    print("records per split: " + ", ".join(f"{s}={len(splits[s])}" for s in SPLITS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
