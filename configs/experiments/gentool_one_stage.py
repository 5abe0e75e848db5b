"""Experiment 4: GenTool data (all variants) in one stage without the ranking target."""

from configs.experiments.one_stage import single_stage_config


def get_config():
    return single_stage_config(
        "gentool_one_stage", variants=("none", "weak", "strong", "both"), include_ranking=False)
