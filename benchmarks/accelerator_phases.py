"""The measuring phases of `accelerator_check.py`, one function each, run in their own process.

Every phase reports with `phase_runner.report` as it goes, so a phase cut off at its timeout
still returns what it had measured. Shapes are real (SmolLM2-135M, Llama-3.2-1B) with random
weights: real weights cannot travel to the accelerator machine, and speed does not depend on
their values. `dry=True` swaps in a tiny shape and short runs so the whole check can be
exercised on a CPU.
"""

from __future__ import annotations

import functools
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from phase_runner import report
from roofline import decode_step_bytes, lora_step_flops

SMOLLM2_135M = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_layers=30,
                    num_heads=9, num_kv_heads=3, head_dim=64, rope_theta=100000.0,
                    rms_norm_eps=1e-5, tie_word_embeddings=True)
LLAMA_32_1B = dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_layers=16,
                   num_heads=32, num_kv_heads=8, head_dim=64, rope_theta=500000.0,
                   rms_norm_eps=1e-5, tie_word_embeddings=True)
TINY = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_layers=2, num_heads=4,
            num_kv_heads=2, head_dim=16, rope_theta=10000.0, rms_norm_eps=1e-5,
            tie_word_embeddings=True)
SHAPES = {"smollm2_135m": SMOLLM2_135M, "llama32_1b": LLAMA_32_1B}
LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ALL_LINEARS = r".*(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$"
LORA_RANK = 16
DATASHEET_BF16 = 989e12  # H100/H200 SXM dense bf16
REPO = Path(__file__).resolve().parent.parent


def train_setting(shape_name: str, dry: bool) -> dict:
    """Sequence length, batch sizes to sweep and timed steps of a throughput phase."""
    if dry:
        return dict(shape=TINY, length=128, batches=(1, 2), steps=2)
    start = 8 if shape_name == "smollm2_135m" else 4
    return dict(shape=SHAPES[shape_name], length=2048,
                batches=tuple(start * 2 ** i for i in range(4)), steps=4)


def maxtext_step_flops(shape: dict, rows: int, length: int) -> float:
    """MaxText's rule: 6 FLOPs per weight per token for every matmul weight (the LM head
    included, the embedding lookup not), plus causal attention forward and backward."""
    d, inter, hd = shape["hidden_size"], shape["intermediate_size"], shape["head_dim"]
    q, kv = shape["num_heads"] * hd, shape["num_kv_heads"] * hd
    per_layer = d * q + 2 * d * kv + q * d + 3 * d * inter
    weights = per_layer * shape["num_layers"] + shape["vocab_size"] * d
    attention = 6.0 * length * length * shape["num_heads"] * hd * shape["num_layers"] / 2
    return 6.0 * weights * rows * length + attention * rows


def device_peak_bytes() -> float | None:
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return float(stats["peak_bytes_in_use"]) if "peak_bytes_in_use" in stats else None


def environment(dry: bool) -> None:
    import jax

    info = {"python": platform.python_version(), "machine": platform.machine(),
            "backend": jax.default_backend(),
            "devices": [str(d.device_kind) for d in jax.devices()]}
    for package in ("jax", "jaxlib", "flax", "optax", "orbax.checkpoint", "transformers",
                    "torch", "peft", "grain", "llguidance", "numpy"):
        try:
            module = __import__(package, fromlist=["__version__"])
            info[package] = getattr(module, "__version__", "?")
        except Exception as error:  # a missing package is a finding, not a crash
            info[package] = f"missing ({type(error).__name__})"
    try:
        from jax._src.lib import cuda_versions

        info["cudnn"] = cuda_versions.cudnn_get_version() if cuda_versions else None
    except Exception as error:
        info["cudnn"] = f"unknown ({type(error).__name__})"
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                              "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=20)
        info["nvidia_smi"] = smi.stdout.strip() or smi.stderr.strip()
    except (OSError, subprocess.TimeoutExpired) as error:
        info["nvidia_smi"] = f"unavailable ({type(error).__name__})"
    print(jax.print_environment_info(return_string=True), flush=True)
    info["summary"] = (f"{info['backend']} {info['devices'][0]} x{len(info['devices'])}, jax "
                       f"{info['jax']}, flax {info['flax']}, cudnn {info['cudnn']}")
    report(info)


def ceilings(dry: bool) -> None:
    import jax
    import jax.numpy as jnp
    from roofline import matmul_flops_per_second, read_bytes_per_second

    result = {"bf16_matmul_flops": matmul_flops_per_second("bfloat16"),
              "fp32_matmul_flops": matmul_flops_per_second("float32")}
    report(result)
    result["read_bytes_per_s"] = read_bytes_per_second(megabytes=64 if dry else 2048)
    x = jnp.ones(((16 if dry else 1024) * 2**20,), jnp.float32)
    copy = jax.jit(lambda a: a + 1.0)
    copy(x).block_until_ready()
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        copy(x).block_until_ready()
        best = min(best, time.perf_counter() - started)
    result["copy_bytes_per_s"] = 2 * x.nbytes / best  # read once and written once
    result["summary"] = (f"bf16 matmul {result['bf16_matmul_flops'] / 1e12:.1f} TFLOP/s, "
                         f"fp32 {result['fp32_matmul_flops'] / 1e12:.1f}, read "
                         f"{result['read_bytes_per_s'] / 1e9:.0f} GB/s, copy "
                         f"{result['copy_bytes_per_s'] / 1e9:.0f} GB/s")
    report(result)


def train_throughput(shape_name: str, dry: bool) -> None:
    """Our jitted LoRA step (bf16, r=16 on all linears, loss on every token), batch sweep up
    to the memory limit or the phase's timeout."""
    import jax
    from bench_train import jax_step, lora_training_state, make_batch

    from gentool_jax.model.attention_kernels import resolve_attention

    setting = train_setting(shape_name, dry)
    shape, length = setting["shape"], setting["length"]
    attention = resolve_attention("auto", backend=jax.default_backend(), dtype="bfloat16",
                                  share_prefix=False, sliding_window=None, num_devices=1,
                                  head_dim=shape["head_dim"])
    result = {"shape": shape_name, "length": length, "attention": attention,
              "lora_rank": LORA_RANK, "runs": []}
    for rows in setting["batches"]:
        try:
            batch = make_batch(rows, length, length - 1, shape["vocab_size"])
            state_fn = functools.partial(lora_training_state, shape, targets=ALL_LINEARS,
                                         dtype="bfloat16", attention=attention, rank=LORA_RANK)
            step = jax_step(batch, state_fn=state_fn)
            started = time.perf_counter()
            step()  # compiles
            compile_s = time.perf_counter() - started
            seconds = []
            for _ in range(setting["steps"]):
                started = time.perf_counter()
                step()
                seconds.append(time.perf_counter() - started)
        except Exception as error:  # out of memory ends the sweep; it is a finding
            result["stopped"] = f"batch {rows}: {type(error).__name__}: {str(error)[:300]}"
            break
        step_s = float(np.median(seconds))
        lora_flops = lora_step_flops(shape, rows=rows, length=length, target_tokens=length - 1,
                                     lora_targets=LINEARS, rank=LORA_RANK)["total"]
        maxtext = maxtext_step_flops(shape, rows, length)
        run = {"rows": rows, "compile_s": round(compile_s, 2), "step_s": step_s,
               "tokens_per_s": rows * length / step_s,
               "peak_bytes": device_peak_bytes(),
               "mfu_maxtext_datasheet": maxtext / step_s / DATASHEET_BF16,
               "mfu_lora_datasheet": lora_flops / step_s / DATASHEET_BF16,
               "achieved_tflops_maxtext": maxtext / step_s / 1e12,
               "achieved_tflops_lora": lora_flops / step_s / 1e12}
        result["runs"].append(run)
        best = max(result["runs"], key=lambda r: r["tokens_per_s"])
        result["best"] = best
        result["summary"] = (
            f"{attention}: best {best['tokens_per_s']:.0f} tok/s at batch {best['rows']}x"
            f"{length}, MFU {100 * best['mfu_maxtext_datasheet']:.1f}% MaxText / "
            f"{100 * best['mfu_lora_datasheet']:.1f}% LoRA-honest (datasheet)")
        report(result)
        del step
    report(result)


def hf_llama_config(shape: dict):
    """The transformers `LlamaConfig` of one of our shape dicts (the torch baselines' model)."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=shape["vocab_size"], hidden_size=shape["hidden_size"],
        intermediate_size=shape["intermediate_size"], num_hidden_layers=shape["num_layers"],
        num_attention_heads=shape["num_heads"], num_key_value_heads=shape["num_kv_heads"],
        head_dim=shape["head_dim"], rope_theta=shape["rope_theta"],
        rms_norm_eps=shape["rms_norm_eps"], tie_word_embeddings=True)


def hf_peft(dry: bool) -> None:
    """HF transformers + PEFT on torch, the same shapes, batches and loss: the baseline."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    result = {"device": device, "torch": torch.__version__, "shapes": {}}
    summaries = []
    for shape_name in SHAPES:
        runs = result["shapes"].setdefault(shape_name, [])
        _hf_peft_sweep(shape_name, dry, device, runs, lambda: report(result))
        measured = [r for r in runs if "tokens_per_s" in r]
        if measured:
            best = max(measured, key=lambda r: r["tokens_per_s"])
            summaries.append(f"{shape_name} {best['tokens_per_s']:.0f} tok/s "
                             f"(batch {best['rows']})")
        result["summary"] = "; ".join(summaries)
        report(result)
        if device == "cuda":
            torch.cuda.empty_cache()


def _hf_peft_sweep(shape_name: str, dry: bool, device: str, runs: list, save) -> None:
    """The standard HF recipe (labels = inputs, full logits, AdamW on the adapters), bf16
    weights, sdpa attention; the first three batch sizes of our sweep."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM

    setting = train_setting(shape_name, dry)
    shape, length = setting["shape"], setting["length"]
    config = hf_llama_config(shape)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    model = get_peft_model(model, LoraConfig(r=LORA_RANK, lora_alpha=2 * LORA_RANK,
                                             target_modules=list(LINEARS), lora_dropout=0.0,
                                             task_type="CAUSAL_LM"))
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def step(tokens) -> None:
        optimizer.zero_grad()
        model(input_ids=tokens, labels=tokens).loss.backward()
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    for rows in setting["batches"][:3]:
        tokens = torch.randint(0, shape["vocab_size"], (rows, length), device=device)
        try:
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            step(tokens)
            seconds = []
            for _ in range(setting["steps"]):
                started = time.perf_counter()
                step(tokens)
                seconds.append(time.perf_counter() - started)
        except torch.OutOfMemoryError as error:
            runs.append({"rows": rows, "stopped": str(error)[:200]})
            return
        step_s = float(np.median(seconds))
        runs.append({"rows": rows, "step_s": step_s, "tokens_per_s": rows * length / step_s,
                     "peak_bytes": torch.cuda.max_memory_allocated()
                     if device == "cuda" else None})
        save()


def decode_setting(dry: bool) -> dict:
    if dry:
        return dict(shape=TINY, prompt=16, new=8, batches=(1, 4))
    return dict(shape=SMOLLM2_135M, prompt=128, new=256, batches=(1, 32))


def _decode_rate(run, batch: int, new: int) -> tuple[float, float]:
    """(decode tokens/s, seconds for prefill + 1): the prompt's cost is timed separately and
    taken out, as in benchmarks/bench_sample.py."""
    run(1), run(new)  # compile or warm up both
    one = min(_timed(lambda: run(1)) for _ in range(2))
    full = min(_timed(lambda: run(new)) for _ in range(2))
    return batch * (new - 1) / (full - one), one


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def decode_ours(dry: bool) -> None:
    import jax.numpy as jnp
    from flax import nnx

    from gentool_jax.model.config import ModelConfig
    from gentool_jax.model.llama import Llama
    from gentool_jax.sample.generate import generate

    setting = decode_setting(dry)
    shape = setting["shape"]
    dtype = jnp.float32 if dry else jnp.bfloat16  # XLA:CPU has no bf16 x bf16 = f32 dot thunk
    model = Llama(ModelConfig(**shape), dtype=dtype, param_dtype=dtype, rngs=nnx.Rngs(0))
    result = {"shape": "tiny" if dry else "smollm2_135m", "prompt": setting["prompt"],
              "new_tokens": setting["new"], "runs": []}
    rng = np.random.default_rng(0)
    for batch in setting["batches"]:
        prompts = rng.integers(1, shape["vocab_size"], (batch, setting["prompt"])).tolist()
        run = lambda n, prompts=prompts, batch=batch: generate(
            model, prompts, max_new_tokens=n, stop_ids=[], batch_size=batch)
        rate, one = _decode_rate(run, batch, setting["new"])
        step_bytes = decode_step_bytes(shape, batch=batch, weight_bytes=2, cache_bytes=2,
                                       cache_len=setting["prompt"] + setting["new"] // 2)
        result["runs"].append({"batch": batch, "tokens_per_s": rate, "prefill_plus_one_s": one,
                               "bytes_per_s": step_bytes * rate / batch})
        result["summary"] = ", ".join(f"batch {r['batch']}: {r['tokens_per_s']:.0f} tok/s "
                                      f"({r['bytes_per_s'] / 1e9:.0f} GB/s)"
                                      for r in result["runs"])
        report(result)


def decode_hf(dry: bool) -> None:
    import torch
    from transformers import LlamaForCausalLM

    setting = decode_setting(dry)
    shape = setting["shape"]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = hf_llama_config(shape)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(torch.bfloat16).eval()
    result = {"device": device, "runs": []}
    for batch in setting["batches"]:
        ids = torch.randint(1, shape["vocab_size"], (batch, setting["prompt"]), device=device)

        def run(n: int, ids=ids):
            with torch.no_grad():
                model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                               max_new_tokens=n, min_new_tokens=n, pad_token_id=0)
            if device == "cuda":
                torch.cuda.synchronize()

        rate, one = _decode_rate(run, batch, setting["new"])
        result["runs"].append({"batch": batch, "tokens_per_s": rate, "prefill_plus_one_s": one})
        result["summary"] = ", ".join(f"batch {r['batch']}: {r['tokens_per_s']:.0f} tok/s"
                                      for r in result["runs"])
        report(result)


def _run_logged(argv: list[str]) -> tuple[int, str]:
    """Run a command with its output passed through to the phase log; (returncode, output)."""
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    return process.wait(), "".join(lines)


def gpu_tests(dry: bool) -> None:
    """`pytest -m gpu`: the counts and the names of failing tests."""
    started = time.perf_counter()
    returncode, output = _run_logged(
        [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-rfEs", "-p", "no:cacheprovider",
         "-o", "addopts=", str(REPO / "tests" / "test_gpu.py")])
    counts = {kind: int(n) for n, kind in re.findall(
        r"(\d+) (passed|failed|skipped|error|errors|deselected)", output.splitlines()[-1]
        if output else "")}
    failing = re.findall(r"^(?:FAILED|ERROR) (\S+)", output, re.MULTILINE)
    skipped = re.findall(r"^SKIPPED \[\d+\] (.+)$", output, re.MULTILINE)
    report({"returncode": returncode, "counts": counts, "failing": failing, "skipped": skipped,
            "seconds": time.perf_counter() - started,
            "summary": ", ".join(f"{n} {kind}" for kind, n in counts.items())
            + (f"; failing: {' '.join(failing)}" if failing else "")})
    if returncode != 0:
        raise SystemExit(returncode)


def smoke_pipeline(dry: bool) -> None:
    """The whole pipeline on the tiny model and world: every stage connects on this backend."""
    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        returncode, output = _run_logged(
            [sys.executable, "-m", "gentool_jax.cli", "pipeline", "--config=configs/smoke.py",
             f"--config.workdir={workdir}"])
    seconds = time.perf_counter() - started
    report({"returncode": returncode, "seconds": seconds,
            "summary": f"rc {returncode} in {seconds:.0f} s",
            "output_tail": output.splitlines()[-25:]})
    if returncode != 0:
        raise SystemExit(returncode)


PHASES = {
    "environment": environment,
    "ceilings": ceilings,
    "gpu_tests": gpu_tests,
    "train_smollm2_135m": functools.partial(train_throughput, "smollm2_135m"),
    "train_llama32_1b": functools.partial(train_throughput, "llama32_1b"),
    "hf_peft": hf_peft,
    "decode": decode_ours,
    "decode_hf": decode_hf,
    "smoke_pipeline": smoke_pipeline,
}
