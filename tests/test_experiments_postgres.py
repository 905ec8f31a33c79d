"""The experiment review gives the same numbers on PostgreSQL as on DuckDB (outcomes computed in the database)."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from helpers.data.engine import DatabaseSource, load_folder_into_database, open_source
from helpers.analyses.experiments.model import ExperimentReview
from helpers.paths import SAMPLE_DATA_DIR

pytest_plugins = ["conftest_pg"]
pytestmark = pytest.mark.postgres


def test_review_identical_on_postgres_with_crm_outcomes(postgres_server, tmp_path):
    for name in ("experiments", "deals", "activities"):
        shutil.copy(SAMPLE_DATA_DIR / f"{name}.parquet", tmp_path)
    assignments = pd.read_parquet(SAMPLE_DATA_DIR / "experiment_assignments.parquet")
    blank = assignments["experiment_id"].isin(["EXP-01", "EXP-02"])  # computed from deals and activities
    assignments.loc[blank, "outcome"] = np.nan
    assignments.to_parquet(tmp_path / "experiment_assignments.parquet", index=False)
    url = postgres_server.create_database("experiments_test")
    load_folder_into_database(tmp_path, url)
    folder, database = open_source(data_dir=tmp_path), DatabaseSource(url)
    try:
        on_duckdb = ExperimentReview().fit(folder, as_of="2026-10-31").summary
        on_postgres = ExperimentReview().fit(database, as_of="2026-10-31").summary
    finally:
        folder.close()
        database.close()
    assert (on_duckdb["outcome_source"].tolist()[:2] == ["crm", "crm"])  # EXP-02 and EXP-01 start first
    pd.testing.assert_frame_equal(on_postgres, on_duckdb, check_exact=False, rtol=1e-9)
