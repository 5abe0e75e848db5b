"""Run a test script as several local `jax.distributed` processes (4 CPU devices each)."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def run_workers(script: Path, count: int = 2, timeout: float = 300) -> None:
    """Start `python script <process id>` `count` times and fail with a worker's output tail.

    A worker that outlives `timeout` (a peer that died leaves the others waiting for it in
    jax.distributed) is killed with all the others, so the test fails instead of hanging."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
           "JAX_PLATFORMS": "cpu"}
    logs = [script.with_name(f"{script.stem}.{i}.log") for i in range(count)]
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(log.open("w")) for log in logs]
        workers = [subprocess.Popen([sys.executable, str(script), str(i)], env=env, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                   for i, out in enumerate(files)]
    deadline = time.monotonic() + timeout
    try:
        for worker in workers:
            worker.wait(timeout=max(deadline - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        pass
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for i, (worker, log) in enumerate(zip(workers, logs)):
        assert worker.returncode == 0, \
            f"worker {i} (rc {worker.returncode}):\n{log.read_text()[-3000:]}"
