"""Held-out wording for validation (`simulate.wording_validation`): validation queries re-asked
in the wording the unseen-query scenarios use, so the training-time probe can measure reading.

The validation split is worded like training (trained asks, trained frames); the unseen-query
test scenarios use the held-out ask of each capability and the held-out frame of each style
(`queries.py`). A decision probe on validation therefore cannot tell a model that reads a new
wording from one that recalls a trained one, and the test splits must never steer training.
This module derives a third file, `validation_wording.jsonl`, from the validation split alone:
each validation query is asked again with the same pair, capabilities, toolset and variant,
but in held-out wording, and its records come from the same `toolsets.query_records` as every
other record, so the ranking, gold call and arguments follow the new text's slot values.

The new queries draw from their own random stream (seed and query id), after the world is
built: with the option on, every other split is byte-identical to the option off.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from gentool_jax.records import Record
from gentool_jax.simulate.pairs import Pair
from gentool_jax.simulate.queries import Query, make_query
from gentool_jax.simulate.tools import Tool
from gentool_jax.simulate.toolsets import query_records
from gentool_jax.simulate.world import world_of

SPLIT = "validation_wording"
FILE = f"{SPLIT}.jsonl"
SUFFIX = "-wording"
_TRIES = 50  # as `pairs.build_pairs`: redraw a query whose text the world already has


class HeldOutWording:
    """Derives held-out-wording records from the validation queries of a built world.

    `build_records` calls `records` for each validation query with that query's distractors,
    so a derived record offers exactly the toolset of the record it derives from."""

    scenario = "validation"
    split = SPLIT

    def __init__(self, pairs: Sequence[Pair], sim, seed: int):
        self.seed = seed
        self.caps = {cap.id: cap for domain in world_of(sim)
                     for cap in domain.capabilities}
        # Every query text of the world stays distinct, as `build_pairs` keeps it.
        self.taken = {query.text for pair in pairs for query in pair.queries}

    def query(self, pair: Pair, k: int, query: Query) -> Query:
        """`query` asked again with the same capabilities, in held-out ask and frame."""
        rng = random.Random(f"{self.seed}:wording:{pair.id}-q{k:02d}")
        caps = [self.caps[cap_id] for cap_id in query.caps]
        for _ in range(_TRIES):
            new = make_query(pair.domain, caps, True, rng)
            if new.text not in self.taken:
                break
        self.taken.add(new.text)
        return new

    def records(self, pair: Pair, k: int, query: Query,
                distractors: list[Tool]) -> Iterator[Record]:
        """The four variants of validation query `k` of `pair` in held-out wording, ids and
        query ids suffixed `-wording`, `meta.wording_of` naming the validation record."""
        for record in query_records(pair, k, self.query(pair, k, query), self.scenario,
                                    distractors, self.seed):
            record["meta"]["wording_of"] = record["id"]
            record["meta"]["query_id"] += SUFFIX
            record["id"] += SUFFIX
            yield record
