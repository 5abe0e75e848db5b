"""configs/experiments/cross_owners.py with four extra asks a capability (simulate.extra_asks=4):
each need trained in six wordings instead of two, the held-out one still held out. The CPU
counterpart of configs/experiments/gpu_more_asks.py; read it on the unseen-query test splits.

    gentool-jax simulate --config=configs/experiments/more_asks.py
    gentool-jax train --config=configs/experiments/more_asks.py
"""

from configs.experiments import cross_owners


def get_config():
    config = cross_owners.get_config()
    config.workdir = "runs/exp/more_asks"
    config.simulate.extra_asks = 4
    return config
