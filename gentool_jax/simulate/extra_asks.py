"""More trained wordings of each need (`simulate.extra_asks`).

Each capability has three asks and the third is held out for the unseen-query scenarios, so
training shows every need in only two phrasings. The paper-scale model memorised those two and
scored chance on the held-out third (docs/results.md, "Query-dependent answers at paper scale").
These four extra asks a capability let a run test whether more trained wordings make the model
read a new one. Like the table asks they are noun clauses with `{slot}`s (required slots outside
`[...]`, an optional slot inside one `[...]`) that avoid the tool's own words; they also avoid
the distinctive words of the capability's held-out ask, which must stay a new wording.
`world.domains(n)` appends the first n after a capability's own asks, so `HELD_OUT_ASK` keeps its
index and `queries.make_query` draws seen queries from them.
"""

from gentool_jax.simulate.extra_asks_a import EXTRA_ASKS_A
from gentool_jax.simulate.extra_asks_b import EXTRA_ASKS_B

# Capability id -> its extra asks, in the order `simulate.extra_asks` takes them.
EXTRA_ASKS: dict[str, tuple[str, ...]] = {**EXTRA_ASKS_A, **EXTRA_ASKS_B}
MAX_EXTRA_ASKS = 4
