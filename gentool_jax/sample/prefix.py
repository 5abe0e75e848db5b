"""Host-side planning of prefix-cached generation: which prompts share a prefix, and batches.

Evaluation prompts that present the same toolset in the same order are token-identical up to
the user turn (DESIGN §3, shared-prefix rows): ≈80% of every prompt. Prefilling that prefix once
per group instead of once per prompt is what makes prefix caching pay. This module only knows
token lists and group keys; the device work is in `sample.decode`, the loop in
`sample.generate`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence

from gentool_jax.data.shared_prefix import common_prefix_length


def shared_prefix_lengths(prompts: Sequence[Sequence[int]], keys: Sequence[Hashable]
                          ) -> list[int]:
    """Per prompt, how many leading tokens it shares with the other prompts of its key.

    Prompts with equal keys form a group; its prefix length is the longest common token prefix
    of the group's prompts, capped at the shortest prompt's length − 1 so that every prompt
    keeps at least one token of its own (its last token's logits start generation). A prompt
    alone under its key gets 0: there is nobody to share with.
    """
    if len(keys) != len(prompts):
        raise ValueError(f"{len(keys)} keys for {len(prompts)} prompts")
    groups: dict[Hashable, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    lengths = [0] * len(prompts)
    for members in groups.values():
        if len(members) < 2:
            continue
        rows = [prompts[i] for i in members]
        common = min(common_prefix_length(rows), min(len(row) for row in rows) - 1)
        for i in members:
            lengths[i] = common
    return lengths


@dataclasses.dataclass(frozen=True)
class SharedBatch:
    """One batch of prefix-cached rows: its distinct prefixes and, per row, which prompt it is
    and which of `prefixes` it continues."""

    prefixes: list[tuple[int, ...]]
    rows: list[tuple[int, int]]  # (prompt index, index into prefixes)


def plan_batches(prompts: Sequence[Sequence[int]], prefix_lengths: Sequence[int], *,
                 batch_size: int, prefix_rows: int, share_singles: bool = False
                 ) -> tuple[list[int], list[SharedBatch]]:
    """Split prompts into those generated plainly and batches that share prefixes.

    Prompts whose first `prefix_lengths[i]` tokens are identical form a group. Prompts with
    length 0 or alone in their group go plain (a prefix used once saves nothing), unless
    `share_singles`: a prefix kept across calls (the server's cache) pays even when one prompt
    of this call uses it. Groups come
    longest prefix first, so consecutive batches pad their prefixes to the same bucket, and
    fill batches greedily: a batch takes up to `batch_size` rows and `prefix_rows` distinct
    prefixes, and a group that does not fit is split, its rest starting the next batch (each
    batch prefills its `prefix_rows` slots whether used or not, so a split costs nothing extra
    while a half-empty batch would cost a decode).
    """
    if batch_size < 1 or prefix_rows < 1:
        raise ValueError(f"batch_size and prefix_rows must be >= 1, got {batch_size}, "
                         f"{prefix_rows}")
    if len(prefix_lengths) != len(prompts):
        raise ValueError(f"{len(prefix_lengths)} prefix lengths for {len(prompts)} prompts")
    groups: dict[tuple[int, ...], list[int]] = {}
    plain = []
    for index, (prompt, length) in enumerate(zip(prompts, prefix_lengths)):
        if not 0 <= length < len(prompt):
            raise ValueError(f"prefix length {length} of prompt {index} must be in "
                             f"[0, {len(prompt)}): a prompt keeps at least one token of its own")
        if length == 0:
            plain.append(index)
        else:
            groups.setdefault(tuple(prompt[:length]), []).append(index)
    least = 1 if share_singles else 2
    plain += [members[0] for members in groups.values() if len(members) < least]
    shared = sorted(((p, m) for p, m in groups.items() if len(m) >= least),
                    key=lambda group: (-len(group[0]), group[1][0]))
    batches: list[SharedBatch] = []
    prefixes: list[tuple[int, ...]] = []
    rows: list[tuple[int, int]] = []
    for prefix, members in shared:
        members = sorted(members, key=lambda i: -len(prompts[i]))
        while members:
            if len(rows) == batch_size or len(prefixes) == prefix_rows:
                batches.append(SharedBatch(prefixes, rows))
                prefixes, rows = [], []
            take, members = members[:batch_size - len(rows)], members[batch_size - len(rows):]
            rows += [(index, len(prefixes)) for index in take]
            prefixes.append(prefix)
    if rows:
        batches.append(SharedBatch(prefixes, rows))
    return sorted(plain), batches
