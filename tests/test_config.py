"""The configuration: seeds' defaults, overrides without code, and clear errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers.core.config import ConfigError, load_config
from helpers.paths import PROJECT_ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "workbook.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_seeds_numbers(tmp_path):
    cfg = load_config(write(tmp_path, ""))
    assert cfg.traits == ("coachability", "curiosity", "prior_success", "intelligence", "work_ethic")
    assert cfg.sla.first_touch_hours == 1
    assert cfg.sla.free_trial_min_calls == 3
    assert (cfg.sla.demo_request_age_days, cfg.sla.demo_request_min_touches) == (3, 2)
    assert cfg.sla.follow_up_attempts == {"small_business": 5, "mid_market": 8, "enterprise": 12}
    assert cfg.compensation.upfront_per_mrr == 2.0
    assert cfg.compensation.clawback_months == 4
    assert cfg.compensation.quartile_multipliers == (2.0, 1.5, 1.0, 0.5)
    assert [s.name for s in cfg.funnel_stages] == ["attempted", "connected", "discovery", "demo", "won"]
    assert cfg.score_min == 1 and cfg.score_max == 10


def test_overrides_change_numbers_without_code(tmp_path):
    cfg = load_config(write(tmp_path, """
[sla]
first_touch_hours = 0.25
[sla.follow_up_attempts]
small_business = 4
mid_market = 6
enterprise = 10
[compensation]
quartile_multipliers = [3, 2, 1, 0]
[hiring]
traits = ["grit", "curiosity"]
"""))
    assert cfg.sla.first_touch_hours == 0.25
    assert cfg.sla.follow_up_attempts["enterprise"] == 10
    assert cfg.sla.free_trial_min_calls == 3  # untouched settings keep their default
    assert cfg.compensation.quartile_multipliers == (3.0, 2.0, 1.0, 0.0)
    assert cfg.traits == ("grit", "curiosity")


def test_relative_data_dir_is_anchored_at_the_config_file(tmp_path):
    cfg = load_config(write(tmp_path, '[data]\ndir = "crm_export"\n[output]\ndir = "out"\n'))
    assert cfg.data_dir == (tmp_path / "crm_export").resolve()
    assert cfg.output_dir == (tmp_path / "out").resolve()


def test_project_config_points_at_the_sample():
    cfg = load_config(PROJECT_ROOT / "workbook.toml")
    assert cfg.data_dir == (PROJECT_ROOT / "data" / "sample").resolve()
    assert "aggressiveness" in cfg.traits


def test_database_url_comes_from_the_environment(tmp_path, monkeypatch):
    cfg = load_config(write(tmp_path, '[data]\nurl_env = "MY_WAREHOUSE_URL"\n'))
    monkeypatch.delenv("MY_WAREHOUSE_URL", raising=False)
    assert cfg.database_url is None
    monkeypatch.setenv("MY_WAREHOUSE_URL", "postgresql://u:secret@127.0.0.1/sales")
    assert cfg.database_url == "postgresql://u:secret@127.0.0.1/sales"


def test_database_url_may_be_written_in_the_config_and_the_environment_wins(tmp_path, monkeypatch):
    cfg = load_config(write(tmp_path, '[data]\nurl = "postgresql://u:pw1@127.0.0.1/crm"\n'))
    monkeypatch.delenv("SALES_WORKBOOK_DB_URL", raising=False)
    assert cfg.database_url == "postgresql://u:pw1@127.0.0.1/crm"
    assert "pw1" not in repr(cfg)
    monkeypatch.setenv("SALES_WORKBOOK_DB_URL", "postgresql://u:pw2@127.0.0.1/crm")
    assert cfg.database_url == "postgresql://u:pw2@127.0.0.1/crm"


@pytest.mark.parametrize("text, expected", [
    ("[sla]\nfirst_touch_hour = 2\n", ["unknown setting 'sla.first_touch_hour'", "Did you mean 'sla.first_touch_hours'"]),
    ("[sla]\nfirst_touch_hours = -1\n", ["'sla.first_touch_hours'", "-1", "> 0"]),
    ("[sla]\nfree_trial_min_calls = 2.5\n", ["'sla.free_trial_min_calls'", "whole number"]),
    ("[compensation]\nquartile_multipliers = [2, 1]\n", ["'compensation.quartile_multipliers'", "four"]),
    ("[hiring]\ntraits = [\"Work Ethic\", \"curiosity\"]\n", ["'hiring.traits'", "snake_case"]),
    ("[sla.follow_up_attempts]\nsmb = 5\n", ["'sla.follow_up_attempts'", "small_business"]),
    ("[[funnel.stages]]\nname = \"a\"\nactivity_types = [\"fax\"]\n[[funnel.stages]]\nname = \"b\"\n"
     "deal_statuses = [\"signed\"]\n", ["funnel.stages[2].deal_statuses", "won"]),  # activity types are open
    ("[statistics]\nconfidence_level = 95\n", ["'statistics.confidence_level'", "<= 0.999"]),
    ("[sla\nx = 1\n", ["not valid TOML"]),
])
def test_bad_settings_name_file_key_and_fix(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_cli_reports_config_errors_with_exit_code_2(tmp_path, capsys):
    from helpers.cli import main

    path = write(tmp_path, "[sla]\nbogus = 1\n")
    assert main(["validate", str(tmp_path), "--config", str(path)]) == 2
    assert "unknown setting 'sla.bogus'" in capsys.readouterr().err


def test_settings_reader_gives_modules_typed_access_with_errors_naming_the_key(tmp_path):
    from helpers.core.config import ConfigError, load_config

    cfg = load_config(None)
    assert cfg.settings.number("statistics.small_sample_n", integer=True) == cfg.small_sample_n
    assert cfg.settings.string_list("hiring.traits") == cfg.traits
    assert cfg.settings.choice("hiring.success_metric", ("quota_attainment", "mrr_per_month")) == cfg.success_metric
    with pytest.raises(ConfigError, match=r"hiring.traits.*one of 'a'"):
        cfg.settings.choice("hiring.traits", ("a",))


def test_organisation_named_after_the_folder_skips_generic_folder_names(tmp_path):
    """A run on ``--data ~/acme/data`` used to be headed "Organisation: Data"."""
    from helpers.core.config import organisation_from_folder

    assert organisation_from_folder(tmp_path / "acme_corp-2026") == "Acme Corp 2026"
    assert organisation_from_folder(tmp_path / "northwind" / "data") == "Northwind"
    assert organisation_from_folder(tmp_path / "globex" / "CRM" / "exports") == "Globex"
    assert organisation_from_folder("/data") == "Your company"
