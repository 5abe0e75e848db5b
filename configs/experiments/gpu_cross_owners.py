"""configs/experiments/gpu_cross_queries.py with the owners' mix: ten queries of the pairs that
own each training toolset's distractors (simulate.cross_mix="owners"; 72,460 training samples,
a toolset's most frequent answer 47% of its records). At the CPU budget neither mix moved the
decision probe off the floor (docs/results.md); paper scale on a GPU is where they can differ.

    python3 benchmarks/accelerator_paper_scale.py --pieces /tmp/pieces --out $OUT/paper \\
        --config configs/experiments/gpu_cross_owners.py
"""

from configs.experiments import gpu_cross_queries


def get_config():
    config = gpu_cross_queries.get_config()
    config.workdir = "runs/gpu_cross_owners"
    config.simulate.cross_queries = 10
    config.simulate.cross_mix = "owners"
    return config
