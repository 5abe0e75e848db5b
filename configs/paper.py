"""The paper-faithful setting of GenTool's data (shared/DESIGN.md §1), pinned explicitly.

Toolsets of exactly 5 candidate tools plus `generate_response`, and tools written the
simulator's original way (a few name patterns and description templates). Everything else is
configs/default.py. Today the default writes the same world; this config keeps the paper's
setting reproducible when the default's data recipe changes (issue 28), and its data is
byte-identical to what the simulator wrote before the variety options existed. It also
selects by generation alone, as the paper does: the default's selection head is off.
"""

from configs import default


def get_config():
    config = default.get_config()
    config.workdir = "runs/paper"
    config.selector.enabled = False  # the paper selects by generation alone (docs/selector.md)
    config.simulate.toolset_size = 5
    config.simulate.toolset_sizes = ""
    for part in ("names", "descriptions", "parameters"):
        config.simulate.writing[part] = "paper"
    return config
