"""Run a test script as several local `jax.distributed` processes (4 CPU devices each)."""

import os
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def run_workers(script: Path, count: int = 2, timeout: float = 240) -> None:
    """Start `python script <process id>` `count` times and fail with a worker's output tail."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
           "JAX_PLATFORMS": "cpu"}
    workers = [subprocess.Popen([sys.executable, str(script), str(i)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for i in range(count)]
    outputs = [worker.communicate(timeout=timeout)[0] for worker in workers]
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-3000:]
