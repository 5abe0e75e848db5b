"""Training samples/s with and without shared-prefix rows, same records, same step, same run.

    python benchmarks/bench_shared_prefix.py [--config=configs/default.py] [--batches 20]
        [--steps 2] [--stage stage2]

Both layouts pack simulated training records (a small world, the config's tokenizer and tool
style) into the config's rows of `data.max_len` tokens: `plain` puts whole samples in a row
(`data.share_prefix=False`), `shared` lays the records of one toolset out behind one copy of
their prompt prefix. Samples per row are counted over `--batches` batches; the LoRA train step
(the config's LoRA targets and rank, SmolLM2-135M-shaped random weights, the config's dtype) is
timed on `--steps` real batches of each layout after one compile/warm-up step, alternating the
two. samples/s = samples per step / median step time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import _config, _records, _tokenizer  # noqa: E402
from bench_train import SHAPE  # noqa: E402


def _batches(config, records, tokenizer, stage, share: bool, count: int):
    from gentool_jax.data.input_pipeline import make_train_iterator

    config.data.share_prefix = share
    iterator = make_train_iterator(records, tokenizer, data_config=config.data,
                                   stage_config=stage, seed=int(config.seed),
                                   process_index=0, process_count=1)
    batches, samples = [], []
    for _ in range(count):
        before = iterator.samples
        batches.append(next(iterator))
        samples.append(iterator.samples - before)
    return batches, samples


def _step_fn(config, stage):
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from gentool_jax.model.config import ModelConfig
    from gentool_jax.model.llama import Llama
    from gentool_jax.model.lora import apply_lora, split_lora
    from gentool_jax.train.optimizer import make_optimizer
    from gentool_jax.train.step import make_train_step

    dtype = jnp.dtype(str(config.model.dtype))
    model = Llama(ModelConfig(**SHAPE), dtype=dtype, param_dtype=jnp.dtype(
        str(config.model.param_dtype)), rngs=nnx.Rngs(0))
    apply_lora(model, config.model.lora, nnx.Rngs(params=1))
    graphdef, lora, frozen = split_lora(model)
    optimizer = make_optimizer(config.train, stage)
    step = jax.jit(make_train_step(graphdef, optimizer, grad_accum=1, dropout_seed=0,
                                   loss_chunk=int(config.train.loss_chunk)),
                   donate_argnums=(0, 1))
    state = {"lora": lora, "opt": optimizer.init(lora), "step": 0}

    def run(batch) -> float:
        started = time.perf_counter()
        state["lora"], state["opt"], metrics = step(
            state["lora"], state["opt"], frozen, {k: jnp.asarray(v) for k, v in batch.items()},
            jnp.asarray(state["step"], jnp.int32))
        float(metrics["loss"])
        state["step"] += 1
        return time.perf_counter() - started

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/default.py")
    parser.add_argument("--stage", default="stage2")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    config = _config(args.config)
    config.data.pack = True
    stage = config.train[args.stage]
    tokenizer, model_name = _tokenizer(config)
    layouts = {}
    with tempfile.TemporaryDirectory() as tmp:
        records = _records(config, None, Path(tmp))
        for name, share in (("plain", False), ("shared", True)):
            layouts[name] = _batches(config, records, tokenizer, stage, share, args.batches)
    rows = int(stage.batch_size)
    print(f"tokenizer {model_name}, style {config.data.tool_style}, {rows} rows x "
          f"{config.data.max_len} tokens, stage {args.stage}, dtype {config.model.dtype}")
    run = _step_fn(config, stage)
    seconds = {name: [] for name in layouts}
    for name, (batches, _) in layouts.items():
        print(f"{name}: first step (compile, warm-up) {run(batches[0]):.1f} s", flush=True)
    for i in range(1, args.steps + 1):
        for name, (batches, _) in layouts.items():
            seconds[name].append(run(batches[i % len(batches)]))
    rates = {}
    for name, (_, samples) in layouts.items():
        step_s = float(np.median(seconds[name]))
        per_step = float(np.mean(samples))
        rates[name] = per_step / step_s
        print(f"{name:7s} {per_step / rows:5.2f} samples/row  {per_step:5.1f} samples/step  "
              f"step {step_s:6.1f} s  {rates[name]:6.3f} samples/s")
    print(f"ratio   {rates['shared'] / rates['plain']:.2f}x samples/s (target >= 2.5x)")


if __name__ == "__main__":
    main()
