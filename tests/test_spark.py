"""The same reductions on Apache Spark (local mode) give the same numbers as on DuckDB.

Optional: runs when pyspark and a Java runtime are installed (`pip install -e ".[spark]"`;
`.ci/run` installs pyspark when the machine has Java), skipped otherwise. The 10x-org run of
the same comparison is in benchmarks/spark_reductions.py.
"""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

import os  # noqa: E402

if os.environ.get("CI"):  # .ci/run installs both: a missing one there is a defect, not a skip
    import pyspark  # noqa: F401

    assert shutil.which("java"), "CI must install a Java runtime for the Spark test (see .ci/run)"
pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime", allow_module_level=True)

from helpers.data import reductions as r  # noqa: E402
from helpers.core.config import load_config  # noqa: E402
from helpers.data.engine import DataSourceError, FolderSource  # noqa: E402
from helpers.data.sample import generate_org  # noqa: E402
from helpers.data.spark import local_session, spark_folder_source  # noqa: E402


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    out = tmp_path_factory.mktemp("spark_org")
    generate_org(out, seed=5, reps=12, months=4)
    return out


@pytest.fixture(scope="module")
def sources(org, spark_session):
    """The org's tables as views of the session's one Spark session (the root conftest.py), and on DuckDB."""
    duck = FolderSource(org)
    yield spark_folder_source(spark_session, org), duck
    duck.close()


CASES = {
    "rep_month_activity": lambda s, cfg: r.rep_month_activity(s),
    "rep_month_funnel": lambda s, cfg: r.rep_month_funnel(s, cfg),
    "lead_touch_summary": lambda s, cfg: r.lead_touch_summary(s, as_of="2026-10-20"),
    "lead_engagement": lambda s, cfg: r.lead_engagement(s),
    "lead_outcomes": lambda s, cfg: r.lead_outcomes(s),
    "rep_churn": lambda s, cfg: r.rep_churn(s, window_months=2, as_of="2026-10-31"),
    "data_period": lambda s, cfg: pd.DataFrame({"t": list(r.data_period(s))}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_reduction_is_identical_on_spark_and_duckdb(sources, name):
    spark_source, duck_source = sources
    cfg = load_config()
    on_spark = CASES[name](spark_source, cfg)
    on_duck = CASES[name](duck_source, cfg)
    assert len(on_duck) > 0
    pd.testing.assert_frame_equal(on_spark.reset_index(drop=True), on_duck.reset_index(drop=True),
                                  check_dtype=False)


def test_a_session_outside_utc_is_refused(org, spark_session):
    spark = local_session()  # getOrCreate: the session's one Spark session
    assert spark is spark_session
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        with pytest.raises(DataSourceError, match="timeZone=UTC"):
            spark_folder_source(spark, org)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_open_category_values_are_trimmed_alike_on_spark_and_duckdb(org, tmp_path, spark_session):
    """Open vocabularies are trimmed and lower-cased in the engine. Spark SQL once read the form feed of
    Ibis' strip() as a plain "f" and cut "free_trial" to "ree_trial" (every free trial lost on Spark)."""
    import shutil

    folder = tmp_path / "org"
    shutil.copytree(org, folder)
    leads = pd.read_parquet(folder / "leads.parquet")
    edited = leads["lead_id"].head(3).tolist()
    leads.loc[leads.index[:3], "first_offer"] = [" Free_Trial ", "\tebook\n", "fax_form"]
    leads.to_parquet(folder / "leads.parquet", index=False)
    on_spark = r.fetch(spark_folder_source(spark_session, folder).table("leads").select("lead_id", "first_offer"))
    duck = FolderSource(folder)
    on_duck = r.fetch(duck.table("leads").select("lead_id", "first_offer"))
    duck.close()
    on_spark, on_duck = (f.sort_values("lead_id").reset_index(drop=True) for f in (on_spark, on_duck))
    assert on_duck.set_index("lead_id").loc[edited, "first_offer"].tolist() == ["free_trial", "ebook", "fax_form"]
    assert (on_duck["first_offer"] == "free_trial").sum() > 3
    pd.testing.assert_frame_equal(on_spark, on_duck, check_dtype=False)
