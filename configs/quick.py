"""A first look in about ten minutes on 2 cores: the embedded default model, the default recipe,
a tenth of its training and 16 test samples a scenario. Sized from the default's measured
step (9-12 s) and decode batch times; not yet timed end to end.

What it does not do: learn to pick tools by generation. The LoRA model writes well-formed
replies (the grammar guarantees that), and the tool is picked by the selection head, fitted
here on 1,000 training records and 1,000 of the companion world's instead of the default's
4,000 each (docs/selector.md). With that many records, the fitted map scored 0.46 on held-out
wordings, against the default's 0.53 (docs/results.md); this config's own selection accuracy
has not been measured. The report's `tool_needing` rows and the abstain-all line beside them
say for each run what it did. Use it to see the pipeline, the reports and the exported
adapters end to end, not to judge GenTool (docs/results.md has what the default budget
measures).
"""

from configs import default


def get_config():
    config = default.get_config()
    config.workdir = "runs/quick"
    config.train.stage1.steps = 4
    config.train.stage2.steps = 12
    config.train.checkpoint_every = 4
    config.train.probe.samples = 0
    config.selector.records = 1000
    config.selector.varied_records = 1000
    config.selector.validation_records = 200
    config.evaluate.max_samples_per_split = 16
    return config
