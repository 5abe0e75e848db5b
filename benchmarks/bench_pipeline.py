"""Input-pipeline throughput against what the train step consumes (issue 5's ≥ 10× bar).

    python benchmarks/bench_pipeline.py [--config=configs/default.py] [--records=train.jsonl]
        [--batches=40] [--workers=0] [--train-tokens-per-s=190]

Records are the simulator's (simulated in memory at a small scale unless --records is given),
rendered with the config's tokenizer (SmolLM2 for the default config; the tiny tokenizer when
that model cannot be resolved here, which the output says). The train step's consumption is
`train tokens/s × samples per row / max_len`, because every row costs max_len tokens of
compute whatever it holds. Without --train-tokens-per-s the reference is DESIGN §8's measured
CPU figure (HF + PEFT, ≈190 tokens/s), the speed the JAX train step is required to beat.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DESIGN_CPU_TOKENS_PER_S = 190.0


def _config(path: str):
    module = importlib.import_module(Path(path).with_suffix("").as_posix().replace("/", "."))
    return module.get_config()


def _tokenizer(config):
    from gentool_jax.errors import GentoolError
    from gentool_jax.model.registry import load_tokenizer, resolve_model, tiny_model_dir

    try:
        return load_tokenizer(resolve_model(config.model)), str(config.model.name)
    except (GentoolError, ImportError, OSError) as error:
        print(f"note: model {config.model.name!r} unavailable here ({error}); "
              "using the tiny-random tokenizer instead")
        return load_tokenizer(tiny_model_dir(config.model)), "tiny-random"


def _records(config, path: str | None, directory: Path) -> Path:
    from gentool_jax.records import write_records

    if path:
        return Path(path)
    from gentool_jax.simulate.simulation import simulate

    sim = config.simulate
    sim.num_pairs = min(int(sim.num_pairs), 120)
    out = directory / "train.jsonl"
    write_records(out, simulate(sim, int(config.seed))["train"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/default.py")
    parser.add_argument("--records", default=None)
    parser.add_argument("--stage", default="stage2")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--pack", choices=["config", "on", "off"], default="config")
    parser.add_argument("--train-tokens-per-s", type=float, default=None)
    args = parser.parse_args()

    from gentool_jax.data.input_pipeline import make_train_iterator

    config = _config(args.config)
    if args.workers is not None:
        config.data.num_workers = args.workers
    if args.pack != "config":
        config.data.pack = args.pack == "on"
    stage = config.train[args.stage]
    tokenizer, model_name = _tokenizer(config)
    with tempfile.TemporaryDirectory() as tmp:
        records = _records(config, args.records, Path(tmp))
        iterator = make_train_iterator(records, tokenizer, data_config=config.data,
                                       stage_config=stage, seed=int(config.seed),
                                       process_index=0, process_count=1)
        next(iterator)  # start-up (worker spawn, first prefetch) is not throughput
        start_samples, start = iterator.samples, time.perf_counter()
        tokens = 0
        for _ in range(args.batches):
            batch = next(iterator)
            tokens += int((batch["segment_ids"] > 0).sum())
        elapsed = time.perf_counter() - start
        samples = iterator.samples - start_samples
        iterator.close()

    rows = args.batches * int(stage.batch_size)
    max_len = int(config.data.max_len)
    pipeline_rate = samples / elapsed
    train_tokens = args.train_tokens_per_s or DESIGN_CPU_TOKENS_PER_S
    consumption = train_tokens * (samples / rows) / max_len
    source = ("given" if args.train_tokens_per_s else
              "DESIGN §8 CPU reference (HF+PEFT, torch 2.13, 2 cores)")
    print(f"model/tokenizer     : {model_name}")
    print(f"data                : style={config.data.tool_style} max_len={max_len} "
          f"pack={bool(config.data.pack)} workers={int(config.data.num_workers)} "
          f"stage={args.stage} rows/batch={int(stage.batch_size)}")
    print(f"samples             : {samples} in {args.batches} batches, "
          f"{samples / rows:.2f} per row, mean length {tokens / samples:.0f} tokens, "
          f"{iterator.dropped} dropped as longer than max_len")
    print(f"pipeline            : {pipeline_rate:,.1f} samples/s "
          f"({tokens / elapsed:,.0f} real tokens/s)")
    print(f"train step consumes : {consumption:,.2f} samples/s "
          f"(at {train_tokens:,.0f} tokens/s, {source})")
    ratio = pipeline_rate / consumption
    verdict = "OK" if ratio >= 10 else "TOO SLOW"
    print(f"ratio               : {ratio:,.0f}x (must be >= 10x: {verdict})")
    return 0 if ratio >= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
