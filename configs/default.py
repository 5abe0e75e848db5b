"""The embedded default: SmolLM2-135M-Instruct on CPU, sized to finish on 2 cores.

The simulator still writes paper scale (the data is cheap); training and evaluation use a CPU
budget. For paper-scale training use configs/gpu_h100.py or configs/tpu_v5e.py.
"""

from configs import base


def get_config():
    config = base.get_config()
    config.workdir = "runs/default"
    config.model.name = "smollm2-135m-instruct"
    return config
