"""Experiment 3: the usual tool-use fine-tuning: only `strong` variants, call-only target."""

from configs.experiments.one_stage import single_stage_config


def get_config():
    return single_stage_config("plain_sft", variants=("strong",), include_ranking=False)
