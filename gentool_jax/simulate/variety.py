"""The simulator's variety options: how tools are written, how large toolsets are and how many
wordings of each need training sees.

The paper fixes the toolset at 5 candidates plus `generate_response` and its tools came from
one teacher; our paper-faithful world writes tools from a few patterns and each need in two
trained phrasings. All are kept as the defaults (`simulate.writing.* = "paper"`,
`simulate.toolset_sizes = ""`, `simulate.extra_asks = 0`, `simulate.worded_asks = 0`,
`simulate.decoys = 0`), which
write exactly what the simulator wrote before these options existed; turning them on gives the
variety that real toolsets and queries have (docs/simulator.md, "Variety", "More wordings",
"Worded asks", "Decoys").
`command._fingerprint` leaves default-valued options out of the manifest, so data written
before they existed stays valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from gentool_jax.errors import GentoolError
from gentool_jax.simulate.world import check_extra_asks, check_worded_asks

WRITING_MODES = ("paper", "varied")
WRITING_FIELDS = ("names", "descriptions", "parameters")
MAX_TOOLSET_SIZE = 64
MAX_DECOYS = 3
# Option -> default value, as the fingerprint sees it (config JSON).
DEFAULTS = {"toolset_sizes": "", "writing": {field: "paper" for field in WRITING_FIELDS},
            "extra_asks": 0, "worded_asks": 0, "decoys": 0}


@dataclass(frozen=True)
class Writing:
    """How the tools of the world are written: each part `paper` or `varied`."""

    names: str = "paper"
    descriptions: str = "paper"
    parameters: str = "paper"


PAPER = Writing()


def writing_of(sim) -> Writing:
    """The Writing of a `config.simulate` section."""
    return Writing(**{field: str(sim.writing[field]) for field in WRITING_FIELDS})


def parse_toolset_sizes(spec: str) -> tuple[int, ...]:
    """The candidate sizes of `simulate.toolset_sizes`: "" (none: `toolset_size` for every
    toolset), "LO-HI" (each size in the range equally likely) or "A,B,C" (a choice; repeat a
    size to weight it). Raises GentoolError naming the field on anything else."""
    text = str(spec).replace(" ", "")
    if not text:
        return ()
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-"))
            sizes = tuple(range(low, high + 1))
        else:
            sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1 or max(sizes) > MAX_TOOLSET_SIZE:
        raise GentoolError(
            f"config.simulate.toolset_sizes must be '' (use toolset_size), 'LO-HI' or "
            f"'A,B,...' with sizes in 1..{MAX_TOOLSET_SIZE}; got {spec!r}")
    return sizes


def check_decoys(value: object) -> None:
    """Raise GentoolError naming `simulate.decoys` unless it is an int in 0..MAX_DECOYS."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DECOYS:
        raise GentoolError(f"config.simulate.decoys must be an integer in 0..{MAX_DECOYS} "
                           f"(decoy tools a pair's toolsets carry); got {value!r}")


def check_variety(sim) -> None:
    """Raise GentoolError naming the first bad variety option of `config.simulate`."""
    for field in WRITING_FIELDS:
        value = sim.writing[field]
        if value not in WRITING_MODES:
            raise GentoolError(f"config.simulate.writing.{field} must be one of "
                               f"{', '.join(WRITING_MODES)}; got {value!r}")
    parse_toolset_sizes(sim.toolset_sizes)
    check_extra_asks(sim.get("extra_asks", 0))
    check_worded_asks(sim.get("worded_asks", 0))
    check_decoys(sim.get("decoys", 0))


def is_default(sim) -> bool:
    """Whether every variety option has its paper-faithful default."""
    return (writing_of(sim) == PAPER
            and not parse_toolset_sizes(sim.toolset_sizes)
            and not sim.get("extra_asks", 0) and not sim.get("worded_asks", 0)
            and not sim.get("decoys", 0))
