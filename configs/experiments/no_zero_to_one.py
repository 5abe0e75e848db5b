"""Experiment 6: GenTool two stages without `none` variants (no zero-to-one simulation)."""

from configs import default


def get_config():
    config = default.get_config()
    config.workdir = "runs/experiments/no_zero_to_one"
    for stage in (config.train.stage1, config.train.stage2):
        stage.variants = ("weak", "strong", "both")
    config.evaluate.baselines = ()
    return config
