"""A tiny random Llama and a small simulated world: the whole pipeline in minutes on 2 cores.

Tests run this config; the numbers it produces say nothing about GenTool, only that every stage
of the pipeline connects.
"""

from configs import base


def get_config():
    config = base.get_config()
    config.workdir = "runs/smoke"
    config.model.name = "tiny-random"
    config.model.lora.rank = 4
    config.simulate.num_pairs = 60
    config.simulate.queries_per_pair = 4
    config.simulate.test_queries_per_scenario = 16
    config.simulate.write_tfds = False
    config.data.max_len = 1536  # the tiny tokenizer (512 tokens) makes long sequences
    for stage in (config.train.stage1, config.train.stage2):
        stage.steps = 4
        stage.batch_size = 4
        stage.warmup_steps = 1
    config.train.checkpoint_every = 2
    config.train.log_every = 1
    config.sample.max_new_tokens = 24
    config.sample.batch_size = 8
    config.evaluate.max_samples_per_split = 8
    return config
