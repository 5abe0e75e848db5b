"""`simulate.decoys`: tools on a pair's own object that do something else with it.

What matters: every toolset of a pair with room beside its relevant tools carries its
decoys, a decoy never serves a query (it ranks with the irrelevant tools), its action is none
that the world performs on its object, the rest of the world (queries, gold tools, calls) is
the world without decoys, held-out pairs' decoys stay out of training, and 0 keeps the
paper-faithful world byte for byte.
"""

import pytest

from configs import smoke
from gentool_jax.config_check import check_config
from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, validate_record
from gentool_jax.simulate.decoys import _banned_verbs
from gentool_jax.simulate.pairs import build_pairs
from gentool_jax.simulate.simulation import simulate
from gentool_jax.simulate.variety import MAX_DECOYS
from gentool_jax.simulate.world import world_of
from gentool_jax.simulate_command import _fingerprint
from tests.test_simulate_variety import PAPER_SMOKE_SHA256, _digest


def _smoke(decoys: int, writing: str = "paper"):
    config = smoke.get_config()
    config.simulate.decoys = decoys
    for part in ("names", "descriptions", "parameters"):
        config.simulate.writing[part] = writing
    if writing == "varied":  # one-tool toolsets hold the decoy alone in `none`
        config.simulate.toolset_sizes = "1-4"
    return config


@pytest.fixture(scope="module", params=["paper", "varied"])
def worlds(request):
    sim = _smoke(1, request.param).simulate
    plain = _smoke(0, request.param).simulate
    return build_pairs(sim, seed=0), simulate(sim, seed=0), simulate(plain, seed=0)


def test_zero_decoys_is_the_paper_world():
    assert _digest(simulate(_smoke(0).simulate, seed=0)) == PAPER_SMOKE_SHA256
    assert _fingerprint(_smoke(0), "") == _fingerprint(smoke.get_config(), "")
    assert _fingerprint(_smoke(1), "") != _fingerprint(_smoke(0), "")


def test_a_decoy_is_its_pair_s_object_under_an_action_the_world_never_takes_on_it(worlds):
    pairs, _, _ = worlds
    banned = _banned_verbs(world_of(_smoke(1).simulate))
    caps = {cap.id: cap for domain in world_of(_smoke(1).simulate) for cap in domain.capabilities}
    for pair in pairs:
        assert len(pair.decoys) == 1, pair.id
        decoy = pair.decoys[0]
        (decoy_cap,) = decoy.caps
        mimicked, verb = decoy_cap.split("~")
        assert mimicked in pair.strong.caps and decoy.kind == "decoy"
        assert verb not in banned[caps[mimicked].object], (pair.id, verb)
        assert decoy_cap not in caps


def test_every_toolset_with_room_carries_its_decoy_ranked_with_the_irrelevant_tools(worlds):
    pairs, splits, _ = worlds
    decoy_of = {pair.id: pair.decoys[0].name for pair in pairs}
    for records in splits.values():
        for record in records:
            validate_record(record)
            decoy = decoy_of.get(record["meta"]["pair_id"])
            if decoy is None:  # a cross query: another pair's toolset
                continue
            relevant = {"none": 0, "weak": 1, "strong": 1, "both": 2}[record["variant"]]
            if len(record["tools"]) > relevant:  # room beside the relevant tools
                assert decoy in [tool["name"] for tool in record["tools"]], record["id"]
            elif decoy not in [tool["name"] for tool in record["tools"]]:
                continue
            ranking = record["ranking"]
            assert ranking.index(decoy) > ranking.index(DEFAULT_TOOL), record["id"]
            assert record["call"]["name"] != decoy


def test_decoys_change_nothing_but_the_toolsets(worlds):
    _, with_decoys, plain = worlds
    for split, records in plain.items():
        assert [(r["id"], r["query"], r["call"]["name"], r["meta"]) for r in records] == [
            (r["id"], r["query"], r["call"]["name"], r["meta"]) for r in with_decoys[split]]
        assert [len(r["tools"]) for r in records] == [len(r["tools"]) for r in with_decoys[split]]


def test_held_out_pairs_decoys_never_reach_training(worlds):
    pairs, splits, _ = worlds
    trained = {tool["name"] for record in splits["train"] for tool in record["tools"]}
    for pair in pairs:
        if pair.role != "seen":
            assert pair.decoys[0].name not in trained, pair.id


_REFUSED = [("simulate", "decoys", value,
             rf"^config\.simulate\.decoys must be an integer in 0\.\.{MAX_DECOYS} ")
            for value in (MAX_DECOYS + 1, -1, True)] + [
    ("simulate", "distractors", "similar", r"^config\.simulate\.distractors must be one of "),
    ("selector", "varied_decoys", MAX_DECOYS + 1,
     rf"config\.selector\.varied_decoys must be a number in \[0, {MAX_DECOYS}\]; got 4"),
    ("selector", "varied_distractors", "similar",
     r"config\.selector\.varied_distractors must be one of capability, visible; got 'similar'"),
]


@pytest.mark.parametrize("section, field, value, message", _REFUSED)
def test_a_bad_decoy_or_distractor_setting_is_refused_naming_the_field(section, field, value,
                                                                        message):
    config = _smoke(0)
    config[section][field] = value
    with pytest.raises(GentoolError, match=message):
        check_config(config)
