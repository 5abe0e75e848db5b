"""Experiment 7: GenTool two stages without `weak` / `both` variants (no weak-to-strong)."""

from configs import default


def get_config():
    config = default.get_config()
    config.workdir = "runs/experiments/no_weak_to_strong"
    for stage in (config.train.stage1, config.train.stage2):
        stage.variants = ("none", "strong")
    config.evaluate.baselines = ()
    return config
