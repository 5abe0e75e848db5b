"""LoRA train-step throughput: gentool-jax vs HF transformers + PEFT (torch), same shape.

Both sides train a randomly initialised SmolLM2-135M-shaped Llama (30 layers, d=576, tied 49k
vocabulary) with LoRA r=8 on q_proj/v_proj, AdamW, fp32, batch 4 x 256 tokens, the loss on the
last 60 tokens of each row (a tool-use prompt is mostly masked; DESIGN §8). Tokens/s counts all
4 x 256 tokens a step processes. Both run in this process; their timed steps alternate, so
they share whatever load the machine has. The same run measures the machine's matmul peak and
prints both sides' MFU by the frozen-base LoRA formula of `benchmarks/roofline.py`.

    python benchmarks/bench_train.py [--steps 5] [--rows 4] [--length 256] [--targets 60]
        [--loss-chunk 64] [--skip-torch]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from roofline import lora_step_flops, machine_limits, report_mfu

SHAPE = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_layers=30,
             num_heads=9, num_kv_heads=3, head_dim=64, rope_theta=100000.0, rms_norm_eps=1e-5,
             tie_word_embeddings=True)
RANK, ALPHA, TARGET_TOKENS = 8, 16.0, 60


def make_batch(rows: int, length: int, targets: int = TARGET_TOKENS,
               vocab_size: int = SHAPE["vocab_size"]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, vocab_size, (rows, length)).astype(np.int32)
    mask = np.zeros((rows, length), np.float32)
    mask[:, max(length - targets - 1, 0):length - 1] = 1.0
    return {"tokens": tokens, "targets": np.roll(tokens, -1, axis=1), "loss_mask": mask,
            "positions": np.broadcast_to(np.arange(length, dtype=np.int32), tokens.shape).copy(),
            "segment_ids": np.ones_like(tokens), "turn_ids": np.zeros_like(tokens)}


def lora_training_state(shape: dict = SHAPE, *, targets: str = r".*(q_proj|v_proj)$",
                        dtype: str = "float32", remat: str = "none", attention: str = "xla",
                        rank: int = RANK):
    """(graphdef, adapters, frozen weights, optimizer, optimizer state) of a benchmark model:
    random weights of `shape`, LoRA of `rank` on `targets`, AdamW at a constant rate."""
    import jax.numpy as jnp
    from flax import nnx
    from ml_collections import ConfigDict

    from gentool_jax.model.config import ModelConfig
    from gentool_jax.model.llama import Llama
    from gentool_jax.model.lora import apply_lora, split_lora
    from gentool_jax.train.optimizer import make_optimizer

    model = Llama(ModelConfig(**shape), dtype=jnp.dtype(dtype), param_dtype=jnp.dtype(dtype),
                  remat=remat, attention=attention, rngs=nnx.Rngs(0))
    apply_lora(model, ConfigDict(dict(rank=rank, alpha=ALPHA, dropout=0.0, targets=targets,
                                      param_dtype="float32")),
               nnx.Rngs(params=1))
    graphdef, lora, frozen = split_lora(model)
    train = ConfigDict(dict(schedule="constant", b1=0.9, b2=0.999, weight_decay=0.0,
                            clip_norm=1.0))
    optimizer = make_optimizer(train, ConfigDict(dict(steps=100, warmup_steps=0, lr=1e-4)))
    return graphdef, lora, frozen, optimizer, optimizer.init(lora)


def jax_step(batch: dict[str, np.ndarray], loss_chunk: int = 64,
             state_fn: Callable[[], tuple] = lora_training_state) -> Callable[[], None]:
    """One call = one optimizer step of our jitted train step on one device."""
    import jax
    from ml_collections import ConfigDict

    from gentool_jax.parallel.mesh import make_mesh
    from gentool_jax.parallel.partition import batch_sharding, state_shardings
    from gentool_jax.train.step import compile_train_step, make_train_step

    graphdef, lora, frozen, optimizer, opt_state = state_fn()
    mesh = make_mesh(ConfigDict(dict(data=1, fsdp=1, tensor=1)), jax.devices()[:1])
    shardings = {"lora": state_shardings(lora, mesh), "frozen": state_shardings(frozen, mesh),
                 "opt": jax.tree.map(lambda x: jax.sharding.NamedSharding(
                     mesh, jax.sharding.PartitionSpec()), opt_state)}
    step_fn = compile_train_step(
        make_train_step(graphdef, optimizer, grad_accum=1, dropout_seed=0,
                        loss_chunk=loss_chunk),
        lora_shardings=shardings["lora"], opt_shardings=shardings["opt"],
        frozen_shardings=shardings["frozen"], batch_sharding=batch_sharding(mesh))
    # Placed as the step's outputs will be, so the second call does not compile again.
    lora, frozen = jax.device_put(lora, shardings["lora"]), jax.device_put(frozen,
                                                                            shardings["frozen"])
    opt_state = jax.device_put(opt_state, shardings["opt"])
    batch = {key: jax.device_put(value) for key, value in batch.items()}
    state = {"lora": lora, "opt_state": opt_state, "step": 0}

    def step() -> None:
        state["lora"], state["opt_state"], metrics = step_fn(
            state["lora"], state["opt_state"], frozen, batch, state["step"])
        state["step"] += 1
        float(metrics["loss"])  # wait for the result

    return step


def torch_step(batch: dict[str, np.ndarray]) -> Callable[[], None]:
    """One call = one step of the standard HF + PEFT recipe (full logits, labels -100 off
    target, AdamW on the adapters)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=SHAPE["vocab_size"], hidden_size=SHAPE["hidden_size"],
        intermediate_size=SHAPE["intermediate_size"], num_hidden_layers=SHAPE["num_layers"],
        num_attention_heads=SHAPE["num_heads"], num_key_value_heads=SHAPE["num_kv_heads"],
        rope_theta=SHAPE["rope_theta"], rms_norm_eps=SHAPE["rms_norm_eps"],
        tie_word_embeddings=True)
    torch.manual_seed(0)
    model = get_peft_model(LlamaForCausalLM(config), LoraConfig(
        r=RANK, lora_alpha=ALPHA, target_modules=["q_proj", "v_proj"], lora_dropout=0.0,
        task_type="CAUSAL_LM"))
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    tokens = torch.tensor(batch["tokens"], dtype=torch.long)
    labels = tokens.clone()
    labels[torch.tensor(np.roll(batch["loss_mask"], 1, axis=1)) == 0] = -100

    def step():
        optimizer.zero_grad()
        loss = model(input_ids=tokens, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    return step


def timed(step: Callable[[], None]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--loss-chunk", type=int, default=64)
    parser.add_argument("--targets", type=int, default=TARGET_TOKENS,
                        help="target tokens per row (length-1 = loss on every token)")
    parser.add_argument("--skip-torch", action="store_true")
    args = parser.parse_args()
    limits = machine_limits()
    batch = make_batch(args.rows, args.length, args.targets)
    tokens = batch["tokens"].size
    steps = {"gentool-jax": jax_step(batch, args.loss_chunk)}
    if not args.skip_torch:
        steps["HF + PEFT"] = torch_step(batch)
    for name, step in steps.items():  # compile / warm up
        print(f"{name}: first step (compile, warm-up) {timed(step):.1f} s", flush=True)
    # Alternate the two so both see the same machine load (other jobs, thermal state).
    seconds = {name: [] for name in steps}
    for _ in range(args.steps):
        for name, step in steps.items():
            seconds[name].append(timed(step))
    rates = {name: tokens / float(np.median(values)) for name, values in seconds.items()}
    for name, rate in rates.items():
        print(f"{name:12s} {rate:8.1f} tokens/s  (median of {args.steps} steps of "
              f"{args.rows}x{args.length} tokens)")
    if len(rates) == 2:
        print(f"ratio        {rates['gentool-jax'] / rates['HF + PEFT']:8.2f}x")
    flops = lora_step_flops(SHAPE, rows=args.rows, length=args.length,
                            target_tokens=min(args.targets, args.length - 1),
                            lora_targets=("q_proj", "v_proj"), rank=RANK)
    print("step FLOPs: " + ", ".join(f"{part} {flop / 1e9:.1f} G" for part, flop in flops.items()))
    for name, values in seconds.items():
        print(report_mfu(name, flops["total"], float(np.median(values)), limits, "float32"))


if __name__ == "__main__":
    main()
