"""`simulate.worded_asks`: trained asks in the tool's own words.

They exist so that a world shows the word overlap real requests have with the tool they need;
what matters is that each is built from its capability's own verb and object, renders a
grounded query under the slot rules, trains like the other seen asks while the held-out ask
stays held out, and that 0 keeps the paper-faithful world byte for byte.
"""

import re

import pytest

from configs import smoke
from gentool_jax.baselines.lexical import tool_scores
from gentool_jax.config_check import check_config
from gentool_jax.errors import GentoolError
from gentool_jax.records import DEFAULT_TOOL, validate_record
from gentool_jax.simulate.simulation import simulate
from gentool_jax.simulate.worded_asks import MAX_WORDED_ASKS, gerund, worded_asks
from gentool_jax.simulate.world import HELD_OUT_ASK, check_asks, domains
from gentool_jax.simulate_command import _fingerprint
from tests.test_simulate_asks import _ask_ids, assert_held_out_ask_stays_out
from tests.test_simulate_variety import PAPER_SMOKE_SHA256, _digest

_SLOT = re.compile(r"\{(\w+)\}")


def _smoke(worded: int):
    config = smoke.get_config()
    config.simulate.worded_asks = worded
    return config


@pytest.fixture(scope="module")
def worded_world():
    return simulate(_smoke(MAX_WORDED_ASKS).simulate, seed=0)


def test_gerunds_follow_the_spelling_rules():
    assert [gerund(v) for v in ("get", "create", "search", "plan", "see", "log", "buy")] == \
        ["getting", "creating", "searching", "planning", "seeing", "logging", "buying"]


def test_every_worded_ask_names_its_capability_under_the_slot_rules():
    for domain in domains():
        for cap in domain.capabilities:
            asks = worded_asks(cap, MAX_WORDED_ASKS)
            assert len(set(asks)) == MAX_WORDED_ASKS and not set(asks) & set(cap.asks), cap.id
            check_asks(cap.id, cap.params, asks)
            for ask in asks:
                assert cap.object in ask, (cap.id, ask)
            assert asks[1].startswith(f"to {cap.verb} the {cap.object}"), asks[1]


def test_a_world_with_worded_asks_appends_them_after_the_table_s():
    plain = {cap.id: cap for domain in domains() for cap in domain.capabilities}
    for domain in domains(2, 3):
        for cap in domain.capabilities:
            assert cap.asks[:HELD_OUT_ASK + 1] == plain[cap.id].asks
            assert cap.asks[HELD_OUT_ASK + 3:] == worded_asks(plain[cap.id], 3)


def test_zero_worded_asks_is_the_paper_world():
    assert _digest(simulate(_smoke(0).simulate, seed=0)) == PAPER_SMOKE_SHA256
    assert _fingerprint(_smoke(0), "") == _fingerprint(smoke.get_config(), "")
    assert _fingerprint(_smoke(2), "") != _fingerprint(_smoke(0), "")


def test_worded_asks_train_and_the_held_out_ask_stays_out(worded_world):
    trained = {i for record in worded_world["train"] for i in _ask_ids(record)}
    assert trained == {0, 1} | set(range(HELD_OUT_ASK + 1, HELD_OUT_ASK + 1 + MAX_WORDED_ASKS))
    assert_held_out_ask_stays_out(worded_world)


def test_worded_records_are_valid_grounded_and_overlap_their_gold_tool(worded_world):
    """The reason for the option: on worded training records word overlap finds the gold
    tool far more often than on the table's asks."""
    worded_hits, table_hits = [], []
    for record in worded_world["train"]:
        validate_record(record)
        query = record["query"].lower()
        for tool in (record["meta"]["strong_tool"], record["meta"]["weak_tool"]):
            for value in record["meta"]["calls"][tool].values():
                assert str(value).lower() in query, (record["id"], value)
        if record["call"]["name"] == DEFAULT_TOOL or len(_ask_ids(record)) > 1:
            continue
        names = [tool["name"] for tool in record["tools"]]
        hit = names[int(tool_scores(record).argmax())] == record["call"]["name"]
        (worded_hits if _ask_ids(record)[0] > HELD_OUT_ASK else table_hits).append(hit)
    assert len(worded_hits) > 50 and len(table_hits) > 50
    assert sum(worded_hits) / len(worded_hits) > sum(table_hits) / len(table_hits) + 0.2


@pytest.mark.parametrize("value", [MAX_WORDED_ASKS + 1, -1, True])
def test_an_out_of_range_value_is_refused_naming_the_field(value):
    config = _smoke(0)
    config.simulate.worded_asks = value
    with pytest.raises(GentoolError, match=r"^config\.simulate\.worded_asks must be an integer "
                                           rf"in 0\.\.{MAX_WORDED_ASKS}; got "):
        check_config(config)
