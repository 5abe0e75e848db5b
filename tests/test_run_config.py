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


def test_typed_views_cast_once_and_leave_the_recorded_config_as_it_was(tmp_path):
    """A view (`config_view.section_view`) types a section for the code that reads it; the
    ConfigDict, and so config.json and the resume check, stay as the config file gave them."""
    from gentool_jax.config_view import section_view
    from gentool_jax.serve.command import ServeConfig, model_id_for
    from gentool_jax.train.optimizer import StageSchedule
    from gentool_jax.train.views import StageConfig

    config = smoke.get_config()
    record_config(config, tmp_path)
    before = (tmp_path / NAME).read_text()
    config.train.stage1.variants = ["weak", "strong"]  # a list where a tuple is meant
    stage = section_view(StageConfig, config.train.stage1)
    assert stage.variants == ("weak", "strong") and isinstance(stage.lr, float)
    assert section_view(StageConfig, stage) is stage
    # A module views its part of the view its caller took.
    assert section_view(StageSchedule, stage) == StageSchedule(stage.steps, stage.warmup_steps,
                                                               stage.lr)
    config.train.stage1.variants = ("none", "weak", "strong", "both")
    record_config(config, tmp_path)
    assert (tmp_path / NAME).read_text() == before
    # `X | None` keeps None (a switched-off field), anything else is cast.
    config.serve.model_id = None
    assert section_view(ServeConfig, config.serve).model_id is None
    assert model_id_for(config, None) == config.model.name
    config.serve.model_id = "mine"
    assert model_id_for(config, None) == "mine"
