"""The embedded default: SmolLM2-135M-Instruct on CPU, sized to finish in ≈30 min on 2 cores.

The simulator still writes paper scale (data is cheap); training and evaluation use a CPU
budget: ≈50 and ≈80 packed training samples for stages 1 and 2, 32 test samples per scenario.
For paper-scale training use configs/gpu_h100.py or configs/tpu_v5e.py.
"""

from configs import base


def get_config():
    config = base.get_config()
    config.workdir = "runs/default"
    config.model.name = "smollm2-135m-instruct"
    # Packing two ≈500-token samples per 1024-token row wastes far less compute on padding.
    # A pipeline run at this shape peaks at ≈10.5 GB resident (docs/results.md).
    config.data.pack = True
    config.data.max_len = 1024
    for stage in (config.train.stage1, config.train.stage2):
        stage.batch_size = 4
        stage.lr = 1e-3
        stage.warmup_steps = 2
    config.train.stage1.steps = 6
    config.train.stage2.steps = 10
    config.train.checkpoint_every = 2
    config.train.log_every = 1
    config.sample.max_new_tokens = 128  # the longest simulated target is ≈117 tokens
    config.evaluate.max_samples_per_split = 32
    return config
