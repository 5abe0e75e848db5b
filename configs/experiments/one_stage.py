"""Shared shape of the single-stage experiments: one call stage with the two-stage step budget."""

from configs import default


def single_stage_config(name: str, *, variants: tuple[str, ...], include_ranking: bool):
    config = default.get_config()
    config.workdir = f"runs/experiments/{name}"
    steps = config.train.stage1.steps + config.train.stage2.steps
    config.train.stages = ("stage2",)
    config.train.stage2.steps = steps
    config.train.stage2.variants = variants
    config.train.stage2.include_ranking = include_ranking
    config.evaluate.baselines = ()
    return config
