"""Notebook 03's engine work gives the same numbers on DuckDB (a data folder) and on PostgreSQL.

The synthetic organisation of ``tests/conftest_pg.py`` (mixed file formats, awkward timestamps,
deals without leads, open deals) is loaded into a throw-away PostgreSQL server; the sub-metric
reduction and the weak-stage model fitted on each engine's funnel must be equal frame for frame.
"""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.analyses.coaching.model import WeakStageModel, compute_submetrics, rep_month_submetrics
from helpers.core.config import DEFAULTS_FILE, load_config
from helpers.data.engine import DatabaseSource, load_folder_into_database, open_source
from helpers.data.reductions import rep_month_funnel

pytest_plugins = ["conftest_pg"]
pytestmark = pytest.mark.postgres

CONFIG = load_config(DEFAULTS_FILE)


@pytest.fixture(scope="module")
def engines(postgres_server, synthetic_org):
    url = postgres_server.create_database("coaching_test")
    load_folder_into_database(synthetic_org, url, schema="crm")
    folder = open_source(data_dir=synthetic_org)
    database = DatabaseSource(url, schema="crm")
    yield folder, database
    folder.close()
    database.close()


@pytest.mark.parametrize("window", [{}, {"start": "2024-02", "end": "2024-05-15"}], ids=["all", "window"])
def test_submetrics_identical_on_duckdb_and_postgres(engines, window) -> None:
    folder, database = engines
    expected = rep_month_submetrics(folder, **window)
    actual = rep_month_submetrics(database, **window)
    assert len(expected) > 0 and expected["calls"].sum() > 0 and expected["won_deals"].sum() > 0
    assert expected["leads_created"].sum() > 0
    pd.testing.assert_frame_equal(actual, expected)
    months = sorted(expected["month"].unique())
    pd.testing.assert_frame_equal(compute_submetrics(actual, months=months), compute_submetrics(expected, months=months))


def test_weak_stage_model_identical_on_duckdb_and_postgres(engines) -> None:
    folder, database = engines
    f_duck, f_pg = rep_month_funnel(folder, CONFIG), rep_month_funnel(database, CONFIG)
    months = sorted(f_duck["month"].unique())
    model = WeakStageModel(min_previous_stage=5)
    a = model.fit(f_duck, months=months).summary
    b = WeakStageModel(min_previous_stage=5).fit(f_pg, months=months).summary
    assert a["judged"].sum() > 0
    pd.testing.assert_frame_equal(b, a)


def test_cohort_counts_and_lead_mix_model_identical_on_duckdb_and_postgres(engines) -> None:
    """The default evidence (cohort counts, mature leads only) and the lead-mix comparison built on it."""
    from helpers.analyses.coaching.model import CoachingSettings, fit_weak_stages
    from helpers.data.reductions import rep_cohort_funnel

    folder, database = engines
    c_duck = rep_cohort_funnel(folder, CONFIG, end="2024-06")
    c_pg = rep_cohort_funnel(database, CONFIG, end="2024-06")
    assert c_duck["n"].sum() > 0 and c_duck["k"].sum() > 0 and (c_duck["k"] <= c_duck["n"]).all()
    pd.testing.assert_frame_equal(c_pg, c_duck)
    months = sorted(c_duck["month"].unique())
    settings = CoachingSettings(min_previous_stage=5)
    a, text = fit_weak_stages(c_duck, months=months, settings=settings)
    b, _ = fit_weak_stages(c_pg, months=months, settings=settings)
    assert a.summary["judged"].sum() > 0
    pd.testing.assert_frame_equal(b.summary, a.summary)
