"""Every analysis module's engine work gives the same frames on DuckDB, PostgreSQL and Spark.

The workbook's event-level reductions are written once in Ibis so they run where a company's
data lives. This file runs each public entry point that builds an Ibis expression over a
DataSource on (a) a data folder (DuckDB), (b) a real PostgreSQL server (started by the tests,
see ``tests/pg_server.py``) and (c) Spark local mode (when pyspark and Java are present; under
``CI=true`` both must be), on one small generated organisation, and compares the frames with
DuckDB's: values exactly (floats to rtol 1e-9), rows in the order the function returns them.

Not repeated here (already compared elsewhere): the reductions of ``helpers.data.reductions`` on
PostgreSQL and Spark (tests/test_engine_postgres.py, tests/test_spark.py), coaching sub-metrics,
churn cohorts/durations and commitment payments on PostgreSQL (tests/test_coaching_postgres.py,
tests/test_churn_postgres.py) and the experiment review on PostgreSQL
(tests/test_experiments_postgres.py); those run here on Spark only.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pytest

from helpers.analyses.compensation import churn
from helpers.analyses.coaching import model as coaching
from helpers.analyses.compensation import model as compensation
from helpers.analyses.experiments import model as experiments
from helpers.analyses.lead_value import model as lead_value
from helpers.analyses.lead_value import marketing
from helpers.analyses.lead_value import sla
from helpers.analyses.lead_value import speed_to_lead
from helpers.analyses.predictable_revenue import model as predictable_model
from helpers.analyses.predictable_revenue import reductions as predictable
from helpers.analyses import success
from helpers.data import reductions
from helpers.analyses.training import model as training
from helpers.core.config import DEFAULTS_FILE, load_config
from helpers.data.engine import DatabaseSource, FolderSource, load_folder_into_database
from helpers.reporting.context import compute_table_overview
from helpers.data.sample import generate_org

pytest_plugins = ["conftest_pg"]

CFG = load_config(DEFAULTS_FILE)  # documented defaults, whatever a local workbook.toml says
LV = lead_value.LeadValueSettings.from_config(CFG)
PR = predictable_model.PredictableRevenueSettings.from_config(CFG)


class Ctx:
    """What the cases need besides the source: the org's as_of day and a model fitted once on DuckDB."""

    def __init__(self, folder: Path, duck: FolderSource) -> None:
        truth = json.loads((folder / "ground_truth.json").read_text())
        self.as_of = truth["generator"]["as_of"][:10]
        self.month = self.as_of[:7]
        feats = lead_value.lead_features(duck, as_of=self.as_of, window_days=LV.feature_window_days)
        mature = lead_value.mature_leads(feats, as_of=self.as_of, maturity_days=LV.maturity_days)
        self.at_creation = lead_value.LeadValueModel(behaviours=False, prior_sd=LV.prior_sd, holdout_share=0).fit(
            mature, min_leads=50, min_won=5)
        self.economics = lead_value.segment_economics(duck, as_of=self.as_of,
                                                      lifetime_cap_months=LV.lifetime_cap_months)
        self.traits = sorted(duck.read("hiring_scores")["trait"].unique())


def _summary(model: Any) -> pd.DataFrame:
    return model.summary


# name -> (engines it runs on here, function(source, ctx) -> DataFrame)
CASES: dict[str, tuple[tuple[str, ...], Callable[[Any, Ctx], pd.DataFrame]]] = {
    "success_metrics": (("postgres", "spark"),
                        lambda s, c: success.compute_success_metrics(s, CFG, as_of=c.as_of)),
    "hiring_trait_scores": (("postgres", "spark"),
                            lambda s, c: training.hiring_trait_scores(s, c.traits)),
    "statement_lines_hunting": (("postgres", "spark"),
                        lambda s, c: compensation.statement_lines(s, compensation.PlanSettings(plan="hunting"), month=c.month,
                                                                  as_of=c.as_of)),
    "statement_lines_commitment": (("postgres", "spark"),
                                   lambda s, c: compensation.statement_lines(
                                       s, compensation.PlanSettings(plan="commitment"), month=c.month,
                                       as_of=c.as_of)),
    "sla_violations": (("postgres", "spark"), lambda s, c: sla.sla_violations(s, as_of=c.as_of, rules=CFG.sla)),
    "lead_touch_summary": (("postgres", "spark"), lambda s, c: reductions.lead_touch_summary(s, as_of=c.as_of)),
    "call_list": (("postgres", "spark"),
                  lambda s, c: sla.call_list(s, as_of=c.as_of, settings=sla.CallListSettings.from_config(CFG))),
    "attempt_counts": (("postgres", "spark"),
                       lambda s, c: speed_to_lead.attempt_counts(s, as_of=c.as_of,
                                                                 settings=speed_to_lead.AttemptSettings.from_config(CFG))),
    "lead_features": (("postgres", "spark"),
                      lambda s, c: lead_value.lead_features(s, as_of=c.as_of, window_days=LV.feature_window_days)),
    "segment_economics": (("postgres", "spark"),
                          lambda s, c: lead_value.segment_economics(s, as_of=c.as_of,
                                                                    lifetime_cap_months=LV.lifetime_cap_months)),
    "stage_movement": (("postgres", "spark"),
                       lambda s, c: lead_value.stage_movement(s, as_of=c.as_of, journey_events=LV.journey_events)),
    "lead_value_by_day": (("postgres", "spark"),
                          lambda s, c: marketing.lead_value_by_day(s, c.at_creation, c.economics,
                                                                   start=c.month + "-01", end=c.as_of,
                                                                   lead_types=("seed", "net", "spear"))),
    "table_overview": (("postgres", "spark"),
                       lambda s, c: compute_table_overview(s, sorted(s.tables()), month=c.month)),
    # notebook 03's cohort funnel (lead-level, mature leads only) and the step times its maturity comes from
    "stage_time_histogram": (("postgres", "spark"),
                             lambda s, c: reductions.stage_time_histogram(s, CFG, end=c.as_of)),
    "rep_cohort_funnel": (("postgres", "spark"),
                          lambda s, c: reductions.rep_cohort_funnel(s, CFG, end=c.as_of)),
    "rep_cohort_funnel_window": (("postgres", "spark"),
                                 lambda s, c: reductions.rep_cohort_funnel(s, CFG, end=c.month, start="2000-01",
                                                                           maturity_days={"won": 20.0})),
    # compared on PostgreSQL in other files: Spark only here
    "coaching_submetrics": (("spark",), lambda s, c: coaching.rep_month_submetrics(s)),
    "churn_cohorts": (("spark",), lambda s, c: churn.customer_cohorts(s, window_months=2, clawback_months=2,
                                                                      as_of=c.as_of)),
    "retention_durations": (("spark",), lambda s, c: churn.retention_durations(s, as_of=c.as_of)),
    "commitment_payments": (("spark",), lambda s, c: compensation.commitment_payments(s, commitment_months=3,
                                                                                      as_of=c.as_of)),
    "experiment_review": (("spark",), lambda s, c: experiments.ExperimentReview().fit(s, as_of=c.as_of).summary),
    # notebook 07 (predictable revenue)
    "lead_kind_months": (("postgres", "spark"), lambda s, c: predictable.lead_kind_months(s, PR.source_kinds)),
    "lead_kind_lags": (("postgres", "spark"), lambda s, c: predictable.lead_kind_lags(s, PR.source_kinds)),
    "deal_book": (("postgres", "spark"), lambda s, c: predictable.deal_book(s, PR.source_kinds)),
    "rep_month_leads": (("postgres", "spark"), lambda s, c: predictable.rep_month_leads(s, PR.source_kinds)),
    "rep_week_connects": (("postgres", "spark"), lambda s, c: predictable.rep_week_connects(s)),
    "rep_meeting_opportunities": (("postgres", "spark"), lambda s, c: predictable.rep_meeting_opportunities(s)),
}

PARAMS = [pytest.param(name, engine, id=f"{name}-{engine}", marks=[pytest.mark.postgres] if engine == "postgres"
                       else []) for name, (engines, _) in CASES.items() for engine in engines]


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parity_org")
    generate_org(out, seed=11, reps=12, months=4)
    return out


@pytest.fixture(scope="module")
def duck(org: Path):
    source = FolderSource(org)
    yield source, Ctx(org, source)
    source.close()


@pytest.fixture(scope="module")
def postgres_source(postgres_server, org: Path):
    url = postgres_server.create_database("parity_test")
    load_folder_into_database(org, url, schema="crm")
    source = DatabaseSource(url, schema="crm")
    yield source
    source.close()


@pytest.fixture(scope="module")
def spark_source(org: Path, spark_session):
    """The org's tables as views of the session's one Spark session (the root conftest.py: skipped without
    pyspark or Java, except in CI)."""
    from helpers.data.spark import spark_folder_source

    return spark_folder_source(spark_session, org)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Named indexes become columns; positions renumbered (row order itself is compared)."""
    if any(n is not None for n in frame.index.names):
        frame = frame.reset_index()
    return frame.reset_index(drop=True)


@pytest.mark.parametrize(("name", "engine"), PARAMS)
def test_identical_to_duckdb(request: pytest.FixtureRequest, duck, name: str, engine: str) -> None:
    folder, ctx = duck
    other = request.getfixturevalue(f"{engine}_source")
    run = CASES[name][1]
    expected, actual = _plain(run(folder, ctx)), _plain(run(other, ctx))
    assert len(expected) > 0, f"{name} gave no rows on the test org: the comparison would prove nothing"
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, check_exact=False, rtol=1e-9,
                                  obj=f"{name} on {engine}")
