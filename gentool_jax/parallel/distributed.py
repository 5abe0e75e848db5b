"""Multi-process start-up: join the other hosts of a TPU pod / SLURM job before touching devices."""

from __future__ import annotations

import os

import jax

from gentool_jax.errors import GentoolError

MODES = ("auto", "off", "explicit")  # config.distributed.mode (checked by config_check)


def _detected() -> bool:
    """Environments where jax.distributed.initialize() can find its peers by itself."""
    if os.environ.get("JAX_COORDINATOR_ADDRESS"):
        return True
    if int(os.environ.get("SLURM_NTASKS", "1") or 1) > 1:
        return True
    # A multi-host TPU slice lists several worker hostnames.
    hosts = os.environ.get("TPU_WORKER_HOSTNAMES", "")
    return len([h for h in hosts.split(",") if h]) > 1


def initialize(distributed_config) -> bool:
    """Initialize jax.distributed if this run spans several processes; True if it did."""
    mode = str(distributed_config.mode)
    if jax.distributed.is_initialized():
        return True
    if mode == "off":
        return False
    if mode == "explicit":
        if not distributed_config.coordinator_address:
            raise GentoolError("distributed.mode='explicit' needs "
                               "distributed.coordinator_address (host:port)")
        jax.distributed.initialize(
            coordinator_address=str(distributed_config.coordinator_address),
            num_processes=int(distributed_config.num_processes),
            process_id=int(distributed_config.process_id),
        )
        return True
    if mode != "auto":
        raise GentoolError(f"distributed.mode must be auto, off or explicit, not {mode!r}")
    if not _detected():
        return False
    jax.distributed.initialize()
    return True
