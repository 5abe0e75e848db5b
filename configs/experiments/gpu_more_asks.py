"""configs/experiments/gpu_cross_owners.py with six trained wordings of each need, not two.

The owners' mix at paper scale scored 0.33-0.38 on seen queries and chance (0.19-0.20) on the
held-out wording (docs/results.md): the model memorised the two trained asks of each capability
rather than reading queries. simulate.extra_asks=4 adds four hand-written asks a capability, so
training sees six phrasings (asks 0, 1 and 3-6; the held-out ask 2 still never trains); this
run asks whether that lets the model read the held-out one. Judge it on the unseen-query test
splits (UQ-ST, UQ-UT) against gpu_cross_owners, not on validation, whose queries use trained
wordings. Same recipe and step count; the data have as many queries and samples, in 3,544
training intents instead of 823 (docs/simulator.md, "More wordings"), and the same
test_unseen_query_unseen_tool split, byte for byte. Its decision probe reads the validation
queries re-asked in held-out wording (simulate.wording_validation, validation_wording.jsonl),
so the learning curve follows reading rather than recall, without looking at a test split.

    python3 benchmarks/accelerator_paper_scale.py --pieces /tmp/pieces --out $OUT/paper \\
        --config configs/experiments/gpu_more_asks.py
"""

from configs.experiments import gpu_cross_owners


def get_config():
    config = gpu_cross_owners.get_config()
    config.workdir = "runs/gpu_more_asks"
    config.simulate.extra_asks = 4
    config.simulate.wording_validation = True
    config.train.probe.data = "validation_wording.jsonl"
    return config
