"""The event-level reductions on Apache Spark (local mode) vs DuckDB, on the 10x organisation.

Shows that the same Ibis code runs on a distributed engine and gives the same numbers: every
reduction runs on both engines and the results are compared column by column (exactly for
counts and ids, to 1e-9 relatively for rates and money) before times are printed. Needs the
optional Spark extra and Java 17+ (``pip install -e ".[spark]"``).

    .venv/bin/python benchmarks/spark_reductions.py [--scale 10] [--cores 2] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from helpers.data import reductions as r  # noqa: E402
from helpers.core.config import DEFAULTS_FILE, load_config  # noqa: E402
from helpers.data.engine import FolderSource  # noqa: E402
from helpers.data.spark import local_session, spark_folder_source  # noqa: E402
from reductions_compare import AS_OF, DEFAULT_CACHE, WINDOW_MONTHS, ensure_org  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    data = ensure_org(args.scale, args.cache)
    config = load_config(DEFAULTS_FILE)
    t0 = time.perf_counter()
    spark = local_session(cores=args.cores)
    spark.sparkContext.setLogLevel("ERROR")
    sources = {"spark": spark_folder_source(spark, data), "duckdb": FolderSource(data)}
    print(f"Spark session and views ready in {time.perf_counter() - t0:.1f} s", flush=True)
    steps = {
        "rep_month_activity": lambda s: r.rep_month_activity(s),
        "rep_month_funnel": lambda s: r.rep_month_funnel(s, config),
        "lead_touch_summary": lambda s: r.lead_touch_summary(s, as_of=AS_OF),
        "lead_engagement": lambda s: r.lead_engagement(s),
        "lead_outcomes": lambda s: r.lead_outcomes(s),
        "rep_churn": lambda s: r.rep_churn(s, window_months=WINDOW_MONTHS, as_of=AS_OF),
    }
    rows = []
    for name, step in steps.items():  # the fixed list of reductions
        timings, frames = {}, {}
        for engine, source in sources.items():
            start = time.perf_counter()
            frames[engine] = step(source)
            timings[engine] = time.perf_counter() - start
        pd.testing.assert_frame_equal(frames["spark"], frames["duckdb"], check_dtype=False, rtol=1e-9)
        rows.append({"reduction": name, "rows_out": len(frames["duckdb"]), "identical": True,
                     "spark_s": round(timings["spark"], 2), "duckdb_s": round(timings["duckdb"], 2)})
        print(f"  {name:20s} {len(frames['duckdb']):>10,} rows  identical  spark {timings['spark']:6.2f} s  "
              f"duckdb {timings['duckdb']:6.2f} s", flush=True)
    spark.stop()
    if args.json:
        args.json.write_text(json.dumps({"scale": args.scale, "data": str(data), "results": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
