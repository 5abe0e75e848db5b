"""configs/experiments/gpu_cross_owners.py with both target levers at once: a short GPU slot.

The owners' mix at paper scale (33,873 stage-2 samples on an H200, docs/results.md) still left
the decision probe at chance while the loss fell to 0.09 a token, so the loss is spent on the
format, not the choice. This run asks whether any recipe learns the choice at that scale before
the levers are taken apart: the decision tokens weigh 5× (data.decision_weight), the ranking ends
at generate_response (data.ranking_target="useful": the tail in presentation order teaches
nothing). LoRA stays at rank 8, so the adapter (8.7 MiB) still comes back from the GPU machine
and only the target changes against gpu_cross_owners. Stage 1 is cut to 3 steps and stage 2 to
150 (≈22,000 samples) to fit what a slot has left after one full run.

    python3 benchmarks/accelerator_paper_scale.py --pieces /tmp/pieces --out $OUT/paper \\
        --config configs/experiments/gpu_decision_focus.py
"""

from configs.experiments import gpu_cross_owners


def get_config():
    config = gpu_cross_owners.get_config()
    config.workdir = "runs/gpu_decision_focus"
    config.data.decision_weight = 5.0
    config.data.ranking_target = "useful"
    config.train.stage1.steps = 3
    config.train.stage1.warmup_steps = 1
    config.train.stage2.steps = 150
    return config
