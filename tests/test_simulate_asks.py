"""`simulate.extra_asks`: more trained wordings of each need, the held-out one still held out.

The option exists to test whether a model trained on six phrasings of a need reads the held-out
seventh, so what matters is that the held-out ask stays out of training and new in wording,
that the default keeps writing the paper-faithful world byte for byte, and that every extra
ask renders a grounded query.
"""

import re

import pytest

from configs import smoke
from gentool_jax.config_check import check_config
from gentool_jax.errors import GentoolError
from gentool_jax.records import validate_record
from gentool_jax.simulate import world
from gentool_jax.simulate.extra_asks import EXTRA_ASKS, MAX_EXTRA_ASKS
from gentool_jax.simulate.leakage import UNSEEN_QUERY_SCENARIOS, check_leakage
from gentool_jax.simulate.simulation import SPLITS, simulate
from gentool_jax.simulate.world import HELD_OUT_ASK, check_asks, domains
from gentool_jax.simulate_command import _fingerprint, check_inputs
from tests.test_simulate_variety import PAPER_SMOKE_SHA256, _digest

_SLOT = re.compile(r"\{(\w+)\}")
_SEGMENT = re.compile(r"\[([^\]]*)\]")
# Words too common to make a wording distinctive.
_COMMON = {"about", "from", "into", "much", "that", "what", "where", "whether", "which", "with"}


def _capabilities():
    return [cap for domain in domains() for cap in domain.capabilities]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z'-]+", _SLOT.sub(" ", text).lower()))


def _ask_ids(record) -> list[int]:
    return [int(i) for i in record["meta"]["intent"].rsplit("#", 1)[1].split(".")]


def _smoke(extra_asks: int | None):
    config = smoke.get_config()
    if extra_asks is None:  # a config written before the option existed
        del config.simulate["extra_asks"]
    else:
        config.simulate.extra_asks = extra_asks
    return config


def assert_held_out_ask_stays_out(splits) -> None:
    """The unseen-query scenarios use only the held-out ask, and no other split uses it."""
    for split in SPLITS:
        ids = {i for record in splits[split] for i in _ask_ids(record)}
        if split in UNSEEN_QUERY_SCENARIOS:
            assert ids == {HELD_OUT_ASK}, split
        else:
            assert HELD_OUT_ASK not in ids, split


@pytest.fixture(scope="module")
def worlds():
    plain = simulate(_smoke(None).simulate, seed=0)
    return plain, simulate(_smoke(0).simulate, seed=0), simulate(_smoke(4).simulate, seed=0)


def test_every_capability_has_four_extra_asks_under_the_slot_rules():
    caps = _capabilities()
    assert set(EXTRA_ASKS) == {cap.id for cap in caps}
    for cap in caps:
        extra = EXTRA_ASKS[cap.id]
        assert len(extra) == MAX_EXTRA_ASKS == 4, cap.id
        check_asks(cap.id, cap.params, extra)
        assert len(set(extra) | set(cap.asks)) == len(extra) + len(cap.asks), cap.id
        for ask in extra:
            outside = _SLOT.findall(_SEGMENT.sub("", ask))
            segments = [_SLOT.findall(segment) for segment in _SEGMENT.findall(ask)]
            assert "[" not in _SEGMENT.sub("", ask) and "]" not in _SEGMENT.sub("", ask), ask
            for slot, required in cap.params:
                inside = sum(slot in found for found in segments)
                assert (outside.count(slot), inside) == ((1, 0) if required else (0, 1)), \
                    (cap.id, slot, ask)


def test_extra_asks_leave_the_held_out_wording_new_and_avoid_the_tool_s_words():
    """A distinctive word of the held-out ask (absent from the two trained ones) trained through
    an extra ask would make the unseen-query test partly seen; a word of the tool's object would
    let lexical matching do the work."""
    for cap in _capabilities():
        trained = _words(cap.asks[0]) | _words(cap.asks[1])
        distinctive = {w for w in _words(cap.asks[HELD_OUT_ASK]) - trained - _COMMON
                       if len(w) >= 4}
        tool_words = {w for w in _words(cap.object) if len(w) >= 4}
        for ask in EXTRA_ASKS[cap.id]:
            assert not _words(ask) & distinctive, (cap.id, ask, _words(ask) & distinctive)
            assert not _words(ask) & tool_words, (cap.id, ask, _words(ask) & tool_words)


def test_zero_extra_asks_is_today_s_world(worlds):
    plain, zero, _ = worlds
    assert _digest(zero) == _digest(plain) == PAPER_SMOKE_SHA256
    assert all(len(cap.asks) == HELD_OUT_ASK + 1 for cap in _capabilities())


def test_extra_asks_follow_the_capability_s_own():
    by_id = {cap.id: cap for domain in domains(4) for cap in domain.capabilities}
    for cap in _capabilities():
        assert by_id[cap.id].asks == cap.asks + EXTRA_ASKS[cap.id]
    assert all(len(c.asks) == 5 for d in domains(2) for c in d.capabilities)


def test_four_extra_asks_train_new_wordings_and_keep_the_held_out_one_out(worlds):
    _, zero, four = worlds
    trained_ids = {i for record in four["train"] for i in _ask_ids(record)}
    assert trained_ids == {0, 1, 3, 4, 5, 6}
    assert_held_out_ask_stays_out(four)
    # Pairs whose every query is held out draw nothing from the seen asks: same records.
    assert four["unseen_query_unseen_tool"] == zero["unseen_query_unseen_tool"]
    assert check_leakage(four)["unseen_query_records"] > 0
    assert len({r["query"] for r in four["train"]}) >= len({r["query"] for r in zero["train"]})


def test_records_with_extra_asks_are_valid_and_grounded(worlds):
    _, _, four = worlds
    for split in SPLITS:
        for record in four[split]:
            validate_record(record)
            query = record["query"].lower()
            for tool in (record["meta"]["strong_tool"], record["meta"]["weak_tool"]):
                for value in record["meta"]["calls"][tool].values():
                    assert str(value).lower() in query, (record["id"], value)


@pytest.mark.parametrize("value", [5, -1, True])
def test_an_out_of_range_value_is_refused_naming_the_field(value):
    config = _smoke(0)
    config.simulate.extra_asks = value
    with pytest.raises(GentoolError, match=r"^config\.simulate\.extra_asks must be an integer "
                                           r"in 0\.\.4; got ") as error:
        check_config(config)
    assert "\n" not in str(error.value)
    with pytest.raises(GentoolError, match=r"config\.simulate\.extra_asks"):
        simulate(config.simulate, seed=0)


def test_a_bad_extra_ask_fails_naming_the_capability(monkeypatch):
    monkeypatch.setitem(world.EXTRA_ASKS, "weather.current", ("the temperature somewhere",))
    with pytest.raises(ValueError, match=r"weather\.current: ask lacks \{city\} outside"):
        world.domains.__wrapped__(1)


def test_fingerprint_and_imports(tmp_path):
    """0 keeps the manifest of data written before the option; any other value is another
    world, and the importers, which have no asks, refuse it."""
    assert _fingerprint(_smoke(0), "") == _fingerprint(_smoke(None), "")
    assert _fingerprint(_smoke(4), "") != _fingerprint(_smoke(0), "")
    source = tmp_path / "pairs.jsonl"
    source.write_text("{}\n")
    with pytest.raises(GentoolError, match="worded_asks shape the offline world only"):
        check_inputs(_smoke(4), {"from": str(source)})
