"""The default recipe on training data with cross queries (simulate/cross_queries.py): four other
pairs' queries asked against each training toolset, so one toolset has different answers and
the query decides. The decision probe is on (96 validation samples every 32 steps, the settings
of the earlier runs in docs/results.md), and stage 2 runs 288 steps to show where the curve
goes past the default's 112.

    gentool-jax simulate --config=configs/experiments/cross_queries.py
    gentool-jax train --config=configs/experiments/cross_queries.py
"""

from configs import default


def get_config():
    config = default.get_config()
    config.workdir = "runs/exp/cross4"
    config.simulate.cross_queries = 4
    config.train.probe.samples = 96
    config.train.probe.every = 32
    config.train.stage2.steps = 288
    config.train.checkpoint_every = 32
    return config
