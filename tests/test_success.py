"""Success metrics per hire: hand-worked numbers on a tiny export, planted truths on generated orgs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core.config import ConfigError, load_config
from helpers.data.engine import MissingTableError, open_source
from helpers.paths import SAMPLE_DATA_DIR
from helpers.data.sample import generate_org
from helpers.analyses.success import SUCCESS_METRICS, compute_success_metrics

REPS = ("rep_id,name,role,hire_date,leave_date\n"
        "R1,Ann,ae,2024-01-15,\n"
        "R2,Bob,ae,2024-06-01,\n"
        "R3,Cy,manager,2020-01-01,\n"
        "R4,Di,ae,2023-01-01,\n")
QUOTAS = ("rep_id,month,quota_mrr\n"
          + "".join(f"R1,2024-0{m},1000\n" for m in range(2, 8))
          + "R2,2024-06,500\n")
CUSTOMERS = ("customer_id,closing_rep_id,start_date,churn_date,mrr,billing_term\n"
             "C3,R1,2024-02-20,2024-04-15,300,monthly\n"   # during the ramp; churned after 55 days
             "C1,R1,2024-05-10,,500,monthly\n"             # counted month May
             "C2,R1,2024-06-20,,700,monthly\n"             # counted month June
             "C4,R1,2024-07-05,,900,monthly\n")            # after as_of: invisible


def tiny(tmp_path: Path, **tables: str):
    data = tmp_path / "data"
    data.mkdir()
    for name, text in {"reps": REPS, "quotas": QUOTAS, "customers": CUSTOMERS, **tables}.items():
        if text:
            (data / f"{name}.csv").write_text(text, encoding="utf-8")
    cfg = tmp_path / "workbook.toml"
    cfg.write_text('[data]\ndir = "data"\n', encoding="utf-8")
    config = load_config(cfg)
    return open_source(config), config


def test_metrics_match_numbers_worked_by_hand(tmp_path: Path) -> None:
    """By hand: R1 hired 2024-01-15, ramp 3 months -> quota months from May; as of 2024-06-30 May and
    June count (July is not complete). Won 500 + 700 on 2 x 1000 quota -> 0.60, 600 per month.
    Churn window 4 months: only C3 (2024-02-20 + 4 months <= as_of) is observed and it churned -> 1.0.
    Lifetime value: 1 churn in 55 + 51 + 10 = 116 customer-days = 3.8111 months, h = 0.262392;
    mean MRR 500; 500 * (1 - (1 - h)^36) / h = 1905.51 (worked with a calculator)."""
    source, config = tiny(tmp_path)
    m = compute_success_metrics(source, config, as_of="2024-06-30").set_index("rep_id")
    assert list(m.index) == ["R1", "R2", "R4"]  # the manager carries no quota
    r1 = m.loc["R1"]
    assert r1["months_observed"] == 2 and r1["quota_mrr"] == 2000 and r1["won_mrr"] == 1200
    assert r1["quota_attainment"] == pytest.approx(0.60)
    assert r1["mrr_per_month"] == pytest.approx(600.0)
    assert (r1["customers"], r1["customers_observed"], r1["customers_churned"]) == (3, 1, 1)
    assert r1["customer_churn_rate"] == pytest.approx(1.0)
    assert r1["customer_months"] == pytest.approx(116 / 30.4375)
    assert r1["customer_lifetime_value"] == pytest.approx(1905.51, abs=0.01)
    assert not r1["judged"]  # 2 months < min_months_tenure = 3
    # still ramping, and no data at all: missing, never zero
    for rep in ("R2", "R4"):
        assert m.loc[rep, "months_observed"] == 0
        assert np.isnan(m.loc[rep, ["quota_attainment", "mrr_per_month", "customer_churn_rate",
                                    "customer_lifetime_value"]].astype(float)).all()
    assert set(SUCCESS_METRICS) <= set(m.columns)
    assert SUCCESS_METRICS["customer_churn_rate"].higher_is_better is False


def test_later_as_of_counts_more_months_and_ramp_is_configurable(tmp_path: Path) -> None:
    source, config = tiny(tmp_path)
    m = compute_success_metrics(source, config, as_of="2024-07-31").set_index("rep_id")
    assert m.loc["R1", "months_observed"] == 3 and m.loc["R1", "won_mrr"] == 2100 and m.loc["R1", "judged"]
    (tmp_path / "workbook.toml").write_text('[data]\ndir = "data"\n[hiring]\nramp_months = 0\n', encoding="utf-8")
    config0 = load_config(tmp_path / "workbook.toml")
    m0 = compute_success_metrics(source, config0, as_of="2024-06-30").set_index("rep_id")
    # no ramp: every quota month starting on or after the hire date, February to June
    assert m0.loc["R1", "months_observed"] == 5
    assert m0.loc["R1", "won_mrr"] == 1500  # C3, started in February, now counts


def test_bad_settings_and_missing_tables_say_how_to_fix(tmp_path: Path) -> None:
    source, _ = tiny(tmp_path, customers="")
    config = load_config(tmp_path / "workbook.toml")
    with pytest.raises(MissingTableError, match="customers"):
        compute_success_metrics(source, config, as_of="2024-06-30")
    (tmp_path / "workbook.toml").write_text('[data]\ndir = "data"\n[hiring]\nsuccess_metrics = ["wins"]\n',
                                            encoding="utf-8")
    with pytest.raises(ConfigError, match="hiring.success_metrics"):
        compute_success_metrics(source, load_config(tmp_path / "workbook.toml"), as_of="2024-06-30")


# --------------------------------------------------------------------------- planted truth
ORGS = {"sample": None, "seed7_30reps": (7, 30, 8), "seed11_16reps": (11, 16, 6)}


@pytest.fixture(scope="module", params=list(ORGS))
def org(request: pytest.FixtureRequest, generated_org):
    args = ORGS[request.param]
    if args is None:
        folder = SAMPLE_DATA_DIR
    else:
        seed, reps, months = args
        folder = generated_org(seed=seed, reps=reps, months=months)  # shared, read only (conftest.py)
    truth = json.loads((folder / "ground_truth.json").read_text())
    config = load_config().with_data_dir(folder)
    metrics = compute_success_metrics(open_source(config, data_dir=folder), config,
                                      as_of=truth["generator"]["as_of"][:10])
    return metrics.set_index("rep_id"), truth


def test_attainment_follows_the_planted_ability(org) -> None:
    metrics, truth = org
    perf = pd.Series(truth["performance"]["performance_index"], name="perf")
    frame = metrics.join(perf, how="inner")
    frame = frame[frame["judged"]]
    assert len(frame) >= 10
    rho = frame[["perf", "quota_attainment"]].corr(method="spearman").iloc[0, 1]
    assert rho > 0.5, rho


def test_pressure_sellers_lose_more_of_their_customers(org) -> None:
    metrics, truth = org
    pressure = truth["churn"]["pressure_sellers"]
    pressure = list(pressure)
    others = metrics.drop(index=pressure, errors="ignore")
    rate_p = metrics.loc[pressure, "customer_churn_rate"].mean()
    assert rate_p > others["customer_churn_rate"].median() * 1.5
    # pooled: churned / observed, pressure vs the rest
    pooled_p = metrics.loc[pressure, "customers_churned"].sum() / metrics.loc[pressure, "customers_observed"].sum()
    pooled_o = others["customers_churned"].sum() / others["customers_observed"].sum()
    assert pooled_p > 2 * pooled_o


# --------------------------------------------------------------------------- same numbers on PostgreSQL
@pytest.mark.postgres
def test_success_metrics_identical_on_postgres(tmp_path: Path) -> None:
    """The engine reductions (won MRR per rep-month, customer exposure with date arithmetic) give the
    same metrics on a real PostgreSQL server as on DuckDB, for a generated org."""
    import os

    from pg_server import PgServer, PgUnavailable

    from helpers.data.engine import DatabaseSource, load_folder_into_database

    folder = tmp_path / "org"
    generate_org(folder, seed=11, reps=8, months=4)
    try:
        server = PgServer()
    except PgUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    with server:
        url = server.create_database("success_test")
        load_folder_into_database(folder, url)
        config = load_config().with_data_dir(folder)
        duck = compute_success_metrics(open_source(config, data_dir=folder), config, as_of="2026-10-31")
        pg = compute_success_metrics(DatabaseSource(url), config, as_of="2026-10-31")
    pd.testing.assert_frame_equal(duck, pg)
