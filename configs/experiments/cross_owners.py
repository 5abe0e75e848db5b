"""Cross queries from the distractors' owners only (simulate.cross_mix="owners"): ten other
pairs' queries on each training toolset, each answered by one of its offered tools, so a
toolset's answers spread over its tools (modal answer 47% of a toolset's records, 4.1 distinct
answers a toolset, `generate_response` 12% of training records) and only the query tells them
apart. Otherwise the settings of configs/experiments/cross_queries.py.

    gentool-jax simulate --config=configs/experiments/cross_owners.py
    gentool-jax train --config=configs/experiments/cross_owners.py
"""

from configs.experiments import cross_queries


def get_config():
    config = cross_queries.get_config()
    config.workdir = "runs/exp/own10"
    config.simulate.cross_queries = 10
    config.simulate.cross_mix = "owners"
    return config
