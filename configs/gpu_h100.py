"""Paper-scale GenTool on one GPU node (H100/H200): SmolLM2-135M in bf16, full-scale data.

Scale the mesh with `--config.mesh.fsdp=N` on multi-GPU nodes, or pass a larger Llama-family
model directory as `--config.model.name=/path/to/hf_model`.
"""

from configs import base


def get_config():
    config = base.get_config()
    config.workdir = "runs/gpu"
    config.model.dtype = "bfloat16"
    config.model.remat = "dots_saveable"
    config.data.tool_style = "json"
    config.data.max_len = 1024
    config.data.pack = True
    config.data.num_workers = 4
    for stage in (config.train.stage1, config.train.stage2):
        stage.batch_size = 32
        stage.steps = 1000
        stage.warmup_steps = 50
    config.train.checkpoint_every = 200
    config.sample.batch_size = 64
    config.evaluate.max_samples_per_split = 0
    return config
