"""launch/run.sh --dry-run prints the exact commands for each mode."""

import os
import subprocess

from tests.conftest import REPO_ROOT

RUN_SH = str(REPO_ROOT / "launch" / "run.sh")


def dry_run(mode: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", RUN_SH, mode, "--dry-run", *args], capture_output=True, text=True,
        env={**os.environ, **env}, timeout=30,
    )


def test_tpu_pod_runs_the_same_command_on_every_worker():
    result = dry_run("tpu-pod", "pipeline", "--config=configs/tpu_v5e.py",
                     "--config.train.stage1.lr=2e-4", TPU_NAME="pod-1", ZONE="us-west4-a")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert all("--worker=all" in line for line in lines)
    assert all(line.startswith("gcloud compute tpus tpu-vm") for line in lines)
    assert "scp --recurse" in lines[1]
    final = lines[-1]
    assert "gcloud compute tpus tpu-vm ssh pod-1 --zone us-west4-a" in final
    assert "pip install -e \".[tpu]\"" in final
    assert "gentool-jax pipeline --config=configs/tpu_v5e.py --config.train.stage1.lr=2e-4" in final


def test_tpu_pod_requires_its_environment():
    env = {k: v for k, v in os.environ.items() if k not in ("TPU_NAME", "ZONE")}
    result = subprocess.run(["bash", RUN_SH, "tpu-pod", "--dry-run", "pipeline"],
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 2
    assert "TPU_NAME" in result.stderr


def test_slurm_starts_one_process_per_node():
    result = dry_run("slurm", "train", "--config=configs/gpu_h100.py", NODES="4")
    assert result.returncode == 0, result.stderr
    assert "#SBATCH --nodes=4" in result.stdout
    assert "#SBATCH --ntasks-per-node=1" in result.stdout
    assert "srun gentool-jax train --config=configs/gpu_h100.py" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("sbatch ")


def test_local_and_gpu_modes():
    local = dry_run("local", "pipeline", "--config=configs/smoke.py")
    assert local.stdout.strip().endswith("gentool-jax pipeline --config=configs/smoke.py")
    gpu = dry_run("gpu", "train", "--config=configs/gpu_h100.py")
    assert "pip install -e '.[cuda]'" in gpu.stdout


def test_unknown_mode_fails():
    assert dry_run("mainframe", "pipeline").returncode == 2
