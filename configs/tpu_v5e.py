"""Paper-scale GenTool on a TPU v5e pod slice: bf16 compute, data × fsdp mesh over all chips.

Launch on every worker with `launch/run.sh tpu-pod pipeline --config=configs/tpu_v5e.py`;
jax.distributed is initialized inside the program from the TPU environment.
"""

from configs import base


def get_config():
    config = base.get_config()
    config.workdir = "runs/tpu"
    config.model.dtype = "bfloat16"
    config.model.remat = "dots_saveable"
    config.mesh.data = -1
    config.mesh.fsdp = 4
    config.data.tool_style = "json"
    config.data.max_len = 1024
    config.data.pack = True
    config.data.num_workers = 8
    for stage in (config.train.stage1, config.train.stage2):
        stage.batch_size = 64
        stage.steps = 600
        stage.warmup_steps = 30
    config.train.checkpoint_every = 100
    config.sample.batch_size = 128
    config.evaluate.max_samples_per_split = 0
    return config
