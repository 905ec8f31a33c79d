"""Run the workbook's reductions on Apache Spark (local mode or a cluster) through Ibis.

The event-level reductions of :mod:`helpers.data.reductions` are written once, as Ibis expressions;
on Spark they compile to Spark SQL and run where a large company's data lives. This module
only wires a :class:`pyspark.sql.SparkSession` to a :class:`~helpers.data.engine.DataSource`:

    from helpers.data.spark import local_session, spark_folder_source
    spark = local_session()                       # local[2], UTC session time zone
    source = spark_folder_source(spark, "data/big")  # every table file registered as a view
    helpers.data.reductions.rep_month_activity(source)

On a cluster whose tables are already in the catalog, wrap the session directly:
``DatabaseSource.from_backend(ibis.pyspark.connect(spark), schema="sales")``.

Spark must compare timestamps in UTC, as every other engine here does: :func:`local_session`
sets ``spark.sql.session.timeZone=UTC``, and :func:`spark_folder_source` refuses a session that
does not (the day a timestamp falls on, and so every monthly count, would otherwise shift).

``pyspark`` and a Java runtime are optional: ``pip install -e ".[spark]"``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.core.contract import TABLES, find_table_files
from helpers.data.engine import DatabaseSource, DataSourceError


class SparkUnavailableError(DataSourceError):
    """pyspark (or Java) is not installed; the message says how to install it."""


def _pyspark() -> Any:
    try:
        import pyspark
        import pyspark.sql  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailableError(
            f"pyspark is not installed ({exc}). Install it with `pip install -e \".[spark]\"`; "
            f"Spark also needs a Java runtime (17 or later)."
        ) from None
    return pyspark


def local_session(*, cores: int = 2, app_name: str = "sales-science-workbook") -> Any:
    """A local-mode SparkSession with UTC timestamps, no web UI and few shuffle partitions."""
    _pyspark()
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(f"local[{cores}]").appName(app_name)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(max(2, 2 * cores)))
            .getOrCreate())


def spark_folder_source(session: Any, data_dir: str | Path) -> DatabaseSource:
    """Register every table file of ``data_dir`` (Parquet or CSV) as a temporary view; return the source.

    The views are named after the contract tables, so the same reductions run unchanged.
    """
    import ibis

    tz = session.conf.get("spark.sql.session.timeZone")
    if tz not in ("UTC", "Etc/UTC", "+00:00", "Z"):
        raise DataSourceError(f"the Spark session's time zone is {tz!r}; set spark.sql.session.timeZone=UTC "
                              f"(helpers.data.spark.local_session does) so that months and days are counted in UTC.")
    data_dir = Path(data_dir).expanduser().resolve()
    files = find_table_files(data_dir)
    if "reps" not in files:
        raise DataSourceError(f"{data_dir} holds no reps file; it is not a data folder "
                              f"(see docs/data-contract.md).")
    for name, paths in files.items():
        path = paths[0]
        if path.name.endswith(".parquet"):
            frame = session.read.parquet(str(path))
        else:  # CSV read as text; DataSource.table casts to the contract's types
            frame = session.read.option("header", True).option("encoding", "UTF-8").csv(str(path))
        frame.createOrReplaceTempView(name)
    assert set(files) <= set(TABLES)
    return DatabaseSource.from_backend(ibis.pyspark.connect(session), description=f"Spark views of {data_dir}")
