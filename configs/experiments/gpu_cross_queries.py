"""configs/gpu_paper_scale.py on training data with cross queries: the next GPU slot's run.

The paper-scale run without them (docs/results.md, "The query is ignored") learned to answer
from the toolset alone. This is the same run, step for step, on data where four other pairs'
queries are asked against each training toolset (simulate/cross_queries.py; 49,180 training
samples, of which stage 2's 224 steps see about 34,000).

    python3 benchmarks/accelerator_paper_scale.py --pieces /tmp/pieces --out $OUT/paper \\
        --config configs/experiments/gpu_cross_queries.py
"""

from configs import gpu_paper_scale


def get_config():
    config = gpu_paper_scale.get_config()
    config.workdir = "runs/gpu_cross_queries"
    config.simulate.cross_queries = 4
    return config
