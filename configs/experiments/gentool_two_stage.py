"""Experiment 5, the method: GenTool with stage 1 (ranking) then stage 2 (ranking + call).

Its evaluation also reports experiments 1 and 2 (base model zero-shot, BM25 selector) on the
same test samples.
"""

from configs import default


def get_config():
    config = default.get_config()
    config.workdir = "runs/experiments/gentool_two_stage"
    return config
