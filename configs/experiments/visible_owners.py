"""configs/experiments/cross_owners.py on a world whose distractors a reader can tell from the
pair's tools (simulate.distractors="visible": no other pair's vague weak tool of the query's
domain among the distractors), with a longer stage 2 and a sparser probe.

    gentool-jax simulate --config=configs/experiments/visible_owners.py
    gentool-jax train --config=configs/experiments/visible_owners.py
"""

from configs.experiments import cross_owners


def get_config():
    config = cross_owners.get_config()
    config.workdir = "runs/exp/visown"
    config.simulate.distractors = "visible"
    config.train.stage2.steps = 400
    config.train.probe.every = 48
    config.train.checkpoint_every = 48
    return config
