"""The learning curve with one 2048-token shared-prefix row a step instead of two 1024-token
rows: the same tokens a step, but a longer row wastes less of its tail and holds more toolset
groups, so more samples go through a CPU-minute (docs/results.md compares the two curves).

    gentool-jax simulate --config=configs/experiments/learning_curve_2048.py
    gentool-jax train --config=configs/experiments/learning_curve_2048.py
    python benchmarks/learning_curve.py --config=configs/experiments/learning_curve_2048.py \
        --points stage1 stage2/16 stage2/32 ...
"""

from configs import default


def get_config():
    config = default.get_config()
    config.workdir = "runs/experiments/learning_curve_2048"
    config.data.max_len = 2048
    for stage in (config.train.stage1, config.train.stage2):
        stage.batch_size = 1
    config.train.stage1.steps = 8
    config.train.stage2.steps = 80
    config.train.checkpoint_every = 8
    config.train.keep_checkpoints = 12
    return config
