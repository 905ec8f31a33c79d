"""Notebook 04's reductions give identical frames on DuckDB (a folder) and on a real PostgreSQL server.

Date arithmetic (calendar-month offsets, day differences) is where engines differ, so the churn
cohorts, the Kaplan-Meier durations and the commitment-plan payments are compared on the shared
synthetic organisation of ``conftest_pg`` (customers without consultants, mixed file formats).
"""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.analyses.compensation.churn import customer_cohorts, retention_durations
from helpers.analyses.compensation.model import commitment_payments
from helpers.data.engine import DatabaseSource, load_folder_into_database, open_source

pytest_plugins = ["conftest_pg"]

REDUCTIONS = {
    "cohorts": lambda s: customer_cohorts(s, window_months=4, clawback_months=3, as_of="2024-06-30"),
    "cohorts_consultant": lambda s: customer_cohorts(s, window_months=2, clawback_months=2, as_of="2024-05-15",
                                                     attribution="consultant"),
    "durations": lambda s: retention_durations(s, as_of="2024-06-30"),
    "commitment": lambda s: commitment_payments(s, commitment_months=4, as_of="2024-06-30"),
    "commitment_spread": lambda s: commitment_payments(s, commitment_months=3, as_of="2024-06-30",
                                                       annual_prepay_paid_upfront=False),
}


@pytest.fixture(scope="module")
def engines(postgres_server, synthetic_org):
    url = postgres_server.create_database("churn_test")
    load_folder_into_database(synthetic_org, url, schema="crm")
    folder, database = open_source(data_dir=synthetic_org), DatabaseSource(url, schema="crm")
    yield folder, database
    folder.close()
    database.close()


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_identical_on_duckdb_and_postgres(engines, name: str) -> None:
    folder, database = engines
    on_duckdb, on_postgres = REDUCTIONS[name](folder), REDUCTIONS[name](database)
    assert len(on_duckdb) > 0
    pd.testing.assert_frame_equal(on_duckdb, on_postgres)
