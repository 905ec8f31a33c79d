"""The same reductions on a real PostgreSQL server give exactly the DuckDB results.

A server is started from the Debian ``postgresql`` package for the session (see
``tests/pg_server.py``), a synthetic organisation (every file format, awkward timestamps)
is loaded into it with :func:`helpers.data.engine.load_folder_into_database`, and every
reduction is compared frame for frame with the folder (DuckDB) result.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg
import pytest

from helpers.core.config import DEFAULTS_FILE, load_config
from helpers.core.contract import TABLES
from helpers.data.engine import DatabaseSource, DataSourceError, load_folder_into_database, open_source
from helpers.paths import SAMPLE_DATA_DIR
from helpers.data.reductions import (
    data_period,
    last_complete_month,
    lead_engagement,
    lead_outcomes,
    lead_touch_summary,
    rep_churn,
    rep_month_activity,
    rep_month_funnel,
)

pytest_plugins = ["conftest_pg"]
pytestmark = pytest.mark.postgres

CONFIG = load_config(DEFAULTS_FILE)  # the documented default funnel, whatever workbook.toml says

REDUCTIONS = {
    "rep_month_activity": lambda src: rep_month_activity(src),
    "rep_month_activity_window": lambda src: rep_month_activity(src, start="2024-02", end="2024-05-15"),
    "rep_month_funnel": lambda src: rep_month_funnel(src, CONFIG),
    "rep_month_funnel_wide": lambda src: rep_month_funnel(src, CONFIG, shape="wide"),
    "lead_touch_summary": lambda src: lead_touch_summary(src, as_of="2024-05-15"),
    "lead_touch_summary_instant": lambda src: lead_touch_summary(src, as_of="2024-03-31T22:30:00-02:00",
                                                                 call_window_days=2.5),
    "lead_engagement": lead_engagement,
    "lead_outcomes": lead_outcomes,
    "rep_churn": lambda src: rep_churn(src, window_months=4),
    "rep_churn_as_of": lambda src: rep_churn(src, window_months=2, as_of="2024-06-30"),
}


@pytest.fixture(scope="module")
def engines(postgres_server, synthetic_org):
    """(folder source, PostgreSQL source) over the same synthetic organisation."""
    url = postgres_server.create_database("engine_test")
    load_folder_into_database(synthetic_org, url, schema="crm")
    folder = open_source(data_dir=synthetic_org)
    database = DatabaseSource(url, schema="crm")
    yield folder, database, url
    folder.close()
    database.close()


def test_tables_round_trip_with_contract_types(engines) -> None:
    folder, database, _ = engines
    assert database.tables() == folder.tables()
    for name in folder.tables():
        key = list(TABLES[name].primary_key)
        expected = folder.read(name).sort_values(key, ignore_index=True)
        actual = database.read(name).sort_values(key, ignore_index=True)
        pd.testing.assert_frame_equal(actual, expected, obj=name)


@pytest.mark.parametrize("reduction", sorted(REDUCTIONS))
def test_reduction_identical_on_duckdb_and_postgres(engines, reduction: str) -> None:
    folder, database, _ = engines
    expected = REDUCTIONS[reduction](folder)
    actual = REDUCTIONS[reduction](database)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(actual, expected, obj=reduction)


def test_data_period_identical(engines) -> None:
    folder, database, _ = engines
    assert data_period(database) == data_period(folder)
    assert last_complete_month(database) == last_complete_month(folder)


def test_database_fingerprint_follows_the_data(engines, postgres_server) -> None:
    _, _, url = engines
    scratch = postgres_server.create_database("fingerprint_test")
    load_folder_into_database(engines[0].data_dir, scratch, tables=["reps", "customers"])
    first = DatabaseSource(scratch).fingerprint()
    assert DatabaseSource(scratch).fingerprint() == first
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute("UPDATE customers SET churn_date = DATE '2030-01-01' WHERE customer_id = "
                     "(SELECT min(customer_id) FROM customers)")
    assert DatabaseSource(scratch).fingerprint() != first


def test_env_var_selects_the_database_and_credentials_stay_hidden(engines, postgres_server, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, url = engines
    toml = tmp_path / "workbook.toml"
    toml.write_text(f'[data]\ndir = "{tmp_path}"\nschema = "crm"\n', encoding="utf-8")
    monkeypatch.setenv("SALES_WORKBOOK_DB_URL", url)
    source = open_source(load_config(toml))
    assert source.kind == "database" and source.has("activities")
    password = postgres_server.password
    assert password not in repr(source) and password not in source.description and password not in source.url
    with pytest.raises(DataSourceError) as info:
        DatabaseSource(url.replace(password, "not-the-" + password))
    assert "password authentication failed" in str(info.value)
    assert password not in str(info.value)
    source.close()


def _sample_present() -> bool:
    return any((SAMPLE_DATA_DIR / f"reps{suffix}").exists() for suffix in (".parquet", ".csv.gz", ".csv"))


@pytest.mark.slow
def test_sample_organisation_identical_on_postgres(postgres_server) -> None:
    assert _sample_present(), "data/sample is committed; regenerate it with `make sample`"
    url = postgres_server.create_database("sample_test")
    load_folder_into_database(SAMPLE_DATA_DIR, url)
    folder, database = open_source(data_dir=SAMPLE_DATA_DIR), DatabaseSource(url)
    config = load_config()
    checks = [  # (name, tables needed, reduction)
        ("rep_month_activity", ("activities",), rep_month_activity),
        ("rep_month_funnel", ("activities", "deals"), lambda src: rep_month_funnel(src, config)),
        ("rep_churn", ("customers",),
         lambda src: rep_churn(src, window_months=config.compensation.churn_window_months)),
        ("lead_touch_summary", ("leads", "activities"),
         lambda src: lead_touch_summary(src, as_of=data_period(folder)[1])),
        ("lead_engagement", ("lead_events",), lead_engagement),
        ("lead_outcomes", ("deals",), lead_outcomes),
    ]
    compared = 0
    for name, needs, reduce in checks:
        if all(folder.has(t) for t in needs):
            pd.testing.assert_frame_equal(reduce(database), reduce(folder), obj=name)
            compared += 1
    assert compared > 0
    assert data_period(database) == data_period(folder)


def test_missing_binaries_are_reported_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    import pg_server

    monkeypatch.setattr(pg_server.glob, "glob", lambda pattern: [])
    with pytest.raises(pg_server.PgUnavailable, match="apt-get install -y postgresql"):
        pg_server.PgServer()
