"""Build the sharded trainable state of one stage: base model, adapters, optimizer, step fn.

A later stage starts from the earlier stages' adapters as `train/stage_chain.py` rebuilds them
(continued, or merged into the frozen base under fresh ones).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from ml_collections import ConfigDict

from gentool_jax.config_view import section_view
from gentool_jax.data.input_pipeline import DataConfig
from gentool_jax.errors import GentoolError
from gentool_jax.model.lora import count_params, split_lora
from gentool_jax.model.settings import ModelSettings
from gentool_jax.parallel.partition import batch_sharding, state_shardings
from gentool_jax.train.checkpoint import model_fingerprint
from gentool_jax.train.optimizer import make_optimizer
from gentool_jax.train.stage_chain import previous_stage, start_of_stage
from gentool_jax.train.step import compile_train_step, make_train_step
from gentool_jax.train.views import StageConfig, TrainConfig


@dataclasses.dataclass
class StageState:
    """Everything the loop threads through its steps, already on the mesh."""

    graphdef: nnx.GraphDef
    lora: nnx.State
    opt_state: Any
    frozen: nnx.State
    step_fn: Any
    batch_sharding: Any
    base_params: int
    trainable_params: int
    init: dict  # where the adapters came from (part of the resume-compatibility metadata)


def load_base(model_dir: Path, model_config: ModelSettings | ConfigDict, mesh: Mesh | None, *,
              attention: str = "xla") -> nnx.Module:
    """The frozen base model in `model_config`'s dtypes and remat, sharded over `mesh`."""
    from gentool_jax.model.loading import load_model

    model = section_view(ModelSettings, model_config)
    return load_model(model_dir, dtype=jnp.dtype(model.dtype),
                      param_dtype=jnp.dtype(model.param_dtype), mesh=mesh,
                      remat=model.remat, attention=attention)


def training_attention(config: ConfigDict, model_dir: Path) -> str:
    """`model.attention` resolved for this backend, dtype, data layout and architecture."""
    from gentool_jax.model.attention_kernels import resolve_attention
    from gentool_jax.model.config import ModelConfig

    model = section_view(ModelSettings, config.model)
    architecture = ModelConfig.from_hf(model_dir)
    return resolve_attention(
        model.attention, backend=jax.default_backend(), dtype=model.dtype,
        share_prefix=section_view(DataConfig, config.data).share_prefix,
        sliding_window=architecture.sliding_window, num_devices=jax.device_count(),
        head_dim=architecture.head_dim)


def stage_init(config: ConfigDict, stage: str, workdir: Path) -> dict:
    """Where a stage's adapters start: recorded in its checkpoints, checked on resume."""
    return _init_record(config, previous_stage(config, stage, workdir))


def _init_record(config: ConfigDict, previous: tuple[str, int] | None) -> dict:
    if previous is None:
        return {"mode": "fresh"}
    mode = section_view(TrainConfig, config.train).stage2_init
    return {"mode": mode, "from": previous[0], "step": previous[1]}


def build_stage(config: ConfigDict, stage: str, model_dir: Path, workdir: Path, mesh: Mesh,
                *, seed: int) -> StageState:
    """Base model (+ merged earlier adapters), fresh or inherited adapters, optimizer, step fn."""
    stage_config = section_view(StageConfig, config.train[stage])
    train = section_view(TrainConfig, config.train)
    if stage_config.grad_accum < 1 or stage_config.batch_size % stage_config.grad_accum:
        raise GentoolError(f"config.train.{stage}: batch_size {stage_config.batch_size} must "
                           f"split into grad_accum={stage_config.grad_accum} equal micro-batches")
    model = load_base(model_dir, config.model, mesh,
                      attention=training_attention(config, model_dir))
    base_params = count_params(nnx.state(model, nnx.Param))
    previous = previous_stage(config, stage, workdir)
    init = _init_record(config, previous)
    # Fresh adapters of a merge hand-over draw from seed + 1 (those of a first stage, and the
    # continued ones' initial values, which the restore overwrites, from seed).
    fresh_seed = seed + 1 if previous is not None and init["mode"] == "merge" else seed
    start_of_stage(model, config, workdir, stage,
                   rngs=nnx.Rngs(params=fresh_seed, dropout=fresh_seed),
                   fingerprint=model_fingerprint(model_dir))

    graphdef, lora, frozen = split_lora(model)
    lora_shardings = state_shardings(lora, mesh)
    frozen_shardings = state_shardings(frozen, mesh)
    lora = jax.device_put(lora, lora_shardings)
    frozen = jax.device_put(frozen, frozen_shardings)
    optimizer = make_optimizer(config.train, stage_config)
    # The optimizer moments mirror the adapters, so their layout follows from the adapters'.
    # Scalars (the step count) come out on one device; replicate them over the mesh.
    opt_state = jax.jit(optimizer.init)(lora)
    replicated = NamedSharding(mesh, P())
    opt_shardings = jax.tree.map(
        lambda x: x.sharding if isinstance(x.sharding, NamedSharding) else replicated, opt_state)
    opt_state = jax.device_put(opt_state, opt_shardings)
    micro_rows = stage_config.batch_size // stage_config.grad_accum
    data_shards = mesh.shape["data"] * mesh.shape["fsdp"]
    if micro_rows % data_shards:
        raise GentoolError(
            f"config.train.{stage}: micro-batch of {micro_rows} rows (batch_size / grad_accum) "
            f"does not split over the {data_shards} data-parallel devices (mesh data × fsdp)")
    step_fn = compile_train_step(
        make_train_step(graphdef, optimizer, grad_accum=stage_config.grad_accum,
                        dropout_seed=seed, loss_chunk=train.loss_chunk),
        lora_shardings=lora_shardings, opt_shardings=opt_shardings,
        frozen_shardings=frozen_shardings, batch_sharding=batch_sharding(mesh))
    return StageState(graphdef=graphdef, lora=lora, opt_state=opt_state, frozen=frozen,
                      step_fn=step_fn, batch_sharding=batch_sharding(mesh),
                      base_params=base_params, trainable_params=count_params(lora), init=init)
