#!/usr/bin/env bash
# Launch gentool-jax locally, on a GPU box, on every worker of a TPU pod, or under SLURM.
#
#   launch/run.sh MODE [--dry-run] [--] <gentool-jax subcommand and flags>
#
#   local    run on this machine (CPU, or whatever jax finds)
#   gpu      install .[cuda] into the active environment, then run on the local GPUs
#   tpu-pod  copy this repo to every TPU VM worker, install .[tpu] there, run the same command
#            on all workers; needs TPU_NAME and ZONE (PROJECT optional)
#   slurm    write an sbatch script that starts one process per GPU node, and submit it;
#            NODES (default 2), GPUS_PER_NODE (default 8), PARTITION and TIME are optional
#
# Multi-host initialization happens inside the program (config.distributed.mode=auto detects
# TPU pods and SLURM), so every worker runs the identical command.
# --dry-run prints the exact commands instead of running them.
#
# Example: TPU_NAME=my-v5e ZONE=us-west4-a launch/run.sh tpu-pod --dry-run \
#            pipeline --config=configs/tpu_v5e.py --config.train.stage1.lr=2e-4
set -euo pipefail

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

[[ $# -ge 1 ]] || { usage >&2; exit 2; }
mode=$1; shift
dry_run=0
if [[ ${1:-} == --dry-run ]]; then dry_run=1; shift; fi
if [[ ${1:-} == -- ]]; then shift; fi
case $mode in -h|--help) usage; exit 0 ;; esac
[[ $# -ge 1 ]] || { echo "run.sh: missing the gentool-jax subcommand (e.g. pipeline)" >&2; exit 2; }

repo_dir=$(cd "$(dirname "$0")/.." && pwd)
remote_dir=${REMOTE_DIR:-gentool-jax}
args=$(printf '%q ' "$@")
args=${args% }

run() {
  if (( dry_run )); then
    printf '%s\n' "$*"
  else
    eval "$@"
  fi
}

require() {
  local name=$1
  if [[ -z ${!name:-} ]]; then
    echo "run.sh $mode: set $name (e.g. $name=... launch/run.sh $mode ...)" >&2
    exit 2
  fi
}

case $mode in
  local)
    run "cd $(printf '%q' "$repo_dir") && gentool-jax $args"
    ;;
  gpu)
    run "cd $(printf '%q' "$repo_dir") && pip install -e '.[cuda]' && gentool-jax $args"
    ;;
  tpu-pod)
    require TPU_NAME
    require ZONE
    project_flag=""
    [[ -n ${PROJECT:-} ]] && project_flag=" --project $PROJECT"
    tpu="gcloud compute tpus tpu-vm"
    target="$TPU_NAME --zone $ZONE$project_flag --worker=all"
    run "$tpu ssh $target --command 'mkdir -p ~/$remote_dir'"
    run "$tpu scp --recurse $(printf '%q' "$repo_dir")/pyproject.toml $(printf '%q' "$repo_dir")/README.md $(printf '%q' "$repo_dir")/gentool_jax $(printf '%q' "$repo_dir")/configs $TPU_NAME:~/$remote_dir --zone $ZONE$project_flag --worker=all"
    run "$tpu ssh $target --command 'cd ~/$remote_dir && pip install -e \".[tpu]\" && gentool-jax $args'"
    ;;
  slurm)
    nodes=${NODES:-2}
    gpus=${GPUS_PER_NODE:-8}
    script=${SBATCH_SCRIPT:-$repo_dir/launch/gentool.sbatch}
    header="#!/usr/bin/env bash
#SBATCH --job-name=gentool-jax
#SBATCH --nodes=$nodes
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=$gpus
#SBATCH --output=gentool-%j.log"
    [[ -n ${PARTITION:-} ]] && header+=$'\n'"#SBATCH --partition=$PARTITION"
    [[ -n ${TIME:-} ]] && header+=$'\n'"#SBATCH --time=$TIME"
    # One process per node sees all its GPUs; jax.distributed reads SLURM_* for the rest.
    body="cd $(printf '%q' "$repo_dir")
srun gentool-jax $args"
    if (( dry_run )); then
      printf '%s\n%s\n' "$header" "$body"
      echo "sbatch $script"
    else
      printf '%s\n%s\n' "$header" "$body" > "$script"
      sbatch "$script"
    fi
    ;;
  *)
    echo "run.sh: unknown mode '$mode' (local, gpu, tpu-pod, slurm)" >&2
    exit 2
    ;;
esac
