"""The learning curve of docs/results.md: the default run with a longer stage 2, checkpointed
every 8 steps and all checkpoints kept, so validation TSA can be read at each of them.

    gentool-jax train --config=configs/experiments/learning_curve.py
    gentool-jax evaluate --config=configs/experiments/learning_curve.py \
        --checkpoint=runs/experiments/learning_curve/stage2/checkpoints/<step> --data=VAL.jsonl

The default's schedule is constant after warmup, so the checkpoint at stage-2 step N is the
model of a default run with `train.stage2.steps=N`.
"""

from configs import default


def get_config():
    config = default.get_config()
    config.workdir = "runs/experiments/learning_curve"
    config.train.stage2.steps = 64
    config.train.checkpoint_every = 8
    config.train.keep_checkpoints = 10
    return config
