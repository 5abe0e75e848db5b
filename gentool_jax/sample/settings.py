"""A typed view (`config_view.section_view`) of `config.sample`, the sampler's settings.

Evaluation and serving view the section once where it enters and hand the sampler `int` and
`float` values. The generation-cache fingerprint and the reports still take the raw
`config.sample` values: a reuse compares them with what earlier runs wrote.
"""

from __future__ import annotations

import dataclasses

# `sample.constrain`: hold replies to the toolset's grammar, or decode freely.
CONSTRAIN_MODES = ("tools", "none")


@dataclasses.dataclass(frozen=True)
class SampleSettings:
    """`config.sample`."""

    max_new_tokens: int
    temperature: float  # 0 = greedy
    top_k: int  # 0 = off
    top_p: float
    batch_size: int
    prompt_bucket: int  # prompts are left-padded to a multiple of this
    constrain: str = "tools"  # one of CONSTRAIN_MODES

    @property
    def constrained(self) -> bool:
        return self.constrain == "tools"
