"""`<workdir>/config.json`: a changed run field is refused by name; serving settings are not
part of a run, so a workdir recorded before they existed (or with others) is still accepted."""

import json

import pytest

from configs import smoke
from gentool_jax.errors import GentoolError
from gentool_jax.run_config import NAME, check_same_config, record_config


def test_a_changed_run_field_is_named(tmp_path):
    config = smoke.get_config()
    record_config(config, tmp_path)
    config.train.stage2.lr = 0.5
    with pytest.raises(GentoolError, match=r"changed: train\.stage2\.lr\)"):
        check_same_config(config, tmp_path)


def test_serving_settings_do_not_make_another_run(tmp_path):
    config = smoke.get_config()
    record_config(config, tmp_path)
    recorded = json.loads((tmp_path / NAME).read_text())
    del recorded["serve"]  # as written by a version without the serve section
    (tmp_path / NAME).write_text(json.dumps(recorded))
    config.serve.batch_size = 3
    check_same_config(config, tmp_path)


def test_a_field_added_since_the_record_counts_at_its_default(tmp_path):
    config = smoke.get_config()
    record_config(config, tmp_path)
    recorded = json.loads((tmp_path / NAME).read_text())
    del recorded["evaluate"]["reuse_generations"]  # as if the field were newer than the run
    (tmp_path / NAME).write_text(json.dumps(recorded))
    check_same_config(config, tmp_path)
    config.evaluate.reuse_generations = False
    with pytest.raises(GentoolError, match=r"evaluate\.reuse_generations"):
        check_same_config(config, tmp_path)
