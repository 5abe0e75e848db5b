"""Issue 28: the default run on a simulated world with real toolsets' variety.

Tool names in ten conventions, descriptions in five documentation styles, parameter synonyms
and varied schemas (docs/simulator.md, "Variety"), and toolsets of 1 to 12 candidates (BFCL's
have 1-4, applications' a dozen or more). The pairs, capabilities, queries and splits are the
default world's, so a comparison with configs/default.py measures the writing and sizes only.
"""

from configs import default


def get_config():
    config = default.get_config()
    config.workdir = "runs/experiments/variety"
    config.simulate.toolset_sizes = "1-12"
    for part in ("names", "descriptions", "parameters"):
        config.simulate.writing[part] = "varied"
    # Compact samples of this world: median 665 tokens, p99 1,652, max 1,787 (SmolLM2
    # tokenizer, validation split); 8.2% exceed the default's 1024 and would be dropped, most
    # of them from the largest toolsets. A 2048-token row also holds about twice the samples,
    # so compare with configs/default.py at equal samples or tokens, not equal steps.
    config.data.max_len = 2048
    return config
