"""Each event-level reduction three ways on the same files: the workbook's Ibis code on DuckDB,
the same reduction hand-written in DuckDB SQL, and plain pandas.

For each organisation size (multiples of the sample: 1x, 10x, 50x by default, generated with
``helpers.data.sample.generate_org`` into a cache folder and reused), every reduction runs once per
way in this process, after one warm-up run of the Ibis version on the smallest size. The script
checks that the three ways agree (same rows, same sums of every numeric column) before it
reports times, so a fast but wrong hand-written query cannot flatter the comparison, and prints:

    size  reduction            rows_in   ibis_s  sql_s  pandas_s  ibis/sql  pandas/sql

Budget (docs/performance.md): each Ibis reduction within 1.5x of its hand-written SQL, and time
growing no faster than linearly with rows.

    .venv/bin/python benchmarks/reductions_compare.py                     # 1x 10x 50x
    .venv/bin/python benchmarks/reductions_compare.py --scales 1 10 --json out.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.data import reductions as r  # noqa: E402
from helpers.core.config import DEFAULTS_FILE, load_config  # noqa: E402
from helpers.data.engine import FolderSource  # noqa: E402

warnings.filterwarnings("ignore", message=".*inplace keyword.*")  # DuckDB's .df() on pandas 3.1

AS_OF = "2026-10-31"
CUTOFF = pd.Timestamp("2026-10-31T23:59:59.999999", tz="UTC")
WINDOW_MONTHS = 4
DEFAULT_CACHE = Path("/tmp/sales-workbook-bench")


def ensure_org(scale: float, cache: Path) -> Path:
    """The generated org at ``scale`` times the sample's reps (generated once, then reused)."""
    from helpers.data.sample import DEFAULT_REPS, generate_org

    out = cache / f"org_x{scale:g}"
    if not (out / "ground_truth.json").exists():
        print(f"generating the {scale:g}x organisation in {out} ...", flush=True)
        generate_org(out, reps=max(6, int(round(DEFAULT_REPS * scale))))
    return out


# --------------------------------------------------------------------------- hand-written DuckDB SQL
def _sql(con: duckdb.DuckDBPyConnection, data: Path, query: str) -> pd.DataFrame:
    for name in ("activities", "leads", "lead_events", "deals", "customers"):
        query = query.replace(f"{{{name}}}", f"read_parquet('{data / (name + '.parquet')}')")
    return con.execute(query).df()


SQL: dict[str, str] = {
    "rep_month_activity": """
        SELECT rep_id, strftime(date_trunc('month', occurred_at), '%Y-%m') AS month, count(*) AS activities,
               count(*) FILTER (activity_type = 'call') AS calls,
               count(*) FILTER (activity_type = 'call' AND outcome = 'connected') AS connects,
               count(*) FILTER (activity_type = 'email') AS emails,
               count(*) FILTER (activity_type = 'email' AND outcome = 'replied') AS replies,
               count(*) FILTER (activity_type = 'meeting') AS meetings,
               count(*) FILTER (activity_type = 'meeting' AND outcome = 'held') AS meetings_held,
               count(*) FILTER (outcome = 'no_show') AS no_shows,
               count(*) FILTER (meeting_kind = 'discovery' AND outcome <> 'no_show') AS discovery_meetings,
               count(*) FILTER (meeting_kind = 'demo' AND outcome <> 'no_show') AS demo_meetings,
               count(DISTINCT lead_id) AS leads_worked
        FROM {activities} GROUP BY rep_id, date_trunc('month', occurred_at) ORDER BY rep_id, month""",
    # the default configuration's five stages, written out by hand
    "rep_month_funnel": """
        WITH a AS (SELECT rep_id, date_trunc('month', occurred_at) AS m, lead_id, activity_type, outcome,
                          meeting_kind FROM {activities}),
        c AS (
            SELECT rep_id, m, 1 AS stage_order, count(DISTINCT lead_id) AS leads FROM a
             WHERE activity_type IN ('call', 'email') GROUP BY ALL
            UNION ALL SELECT rep_id, m, 2, count(DISTINCT lead_id) FROM a
             WHERE activity_type = 'call' AND outcome = 'connected' GROUP BY ALL
            UNION ALL SELECT rep_id, m, 3, count(DISTINCT lead_id) FROM a WHERE meeting_kind = 'discovery' GROUP BY ALL
            UNION ALL SELECT rep_id, m, 4, count(DISTINCT lead_id) FROM a WHERE meeting_kind = 'demo' GROUP BY ALL),
        counts AS (
            SELECT rep_id, strftime(m, '%Y-%m') AS month, stage_order, leads FROM c
            UNION ALL SELECT rep_id, strftime(coalesce(closed_at, created_at), '%Y-%m'), 5,
                             count(DISTINCT coalesce(lead_id, 'deal:' || deal_id))
              FROM {deals} WHERE status = 'won' GROUP BY ALL),
        grid AS (SELECT DISTINCT rep_id, month FROM counts),
        full_grid AS (SELECT g.rep_id, g.month, s.stage_order, coalesce(c.leads, 0) AS leads
                      FROM grid g CROSS JOIN range(1, 6) s(stage_order)
                      LEFT JOIN counts c USING (rep_id, month, stage_order))
        SELECT rep_id, month, stage_order, leads,
               lag(leads) OVER w AS previous_stage_leads,
               leads / nullif(lag(leads) OVER w, 0) AS conversion_rate
        FROM full_grid WINDOW w AS (PARTITION BY rep_id, month ORDER BY stage_order)
        ORDER BY rep_id, month, stage_order""",
    "lead_touch_summary": """
        WITH l AS (SELECT lead_id, created_at, first_offer, segment, owner_rep_id FROM {leads}
                   WHERE created_at <= TIMESTAMPTZ '2026-10-31 23:59:59.999999+00'),
        t AS (SELECT a.lead_id, a.occurred_at, a.activity_type, a.outcome, l.created_at
              FROM {activities} a JOIN l USING (lead_id)
              WHERE a.occurred_at <= TIMESTAMPTZ '2026-10-31 23:59:59.999999+00'),
        f AS (SELECT lead_id, min(occurred_at) FILTER (outcome IN ('connected', 'replied', 'held')) AS fc
              FROM t GROUP BY lead_id),
        p AS (SELECT t.lead_id, min(occurred_at) AS first_touch_at, max(occurred_at) AS last_touch_at,
                     count(*) AS touches, count(*) FILTER (activity_type = 'call') AS calls,
                     count(*) FILTER (activity_type = 'call' AND occurred_at <= created_at + INTERVAL 7 DAY)
                         AS calls_within_window,
                     max(fc) AS first_connect_at,
                     count(*) FILTER (fc IS NULL OR occurred_at < fc) AS attempts_before_first_connect
              FROM t JOIN f USING (lead_id) GROUP BY t.lead_id)
        SELECT l.lead_id, l.created_at, first_offer, segment, owner_rep_id, first_touch_at,
               epoch(first_touch_at - l.created_at) / 3600 AS hours_to_first_touch,
               coalesce(touches, 0) AS touches, coalesce(calls, 0) AS calls,
               coalesce(calls_within_window, 0) AS calls_within_window, first_connect_at IS NOT NULL AS connected,
               first_connect_at, coalesce(attempts_before_first_connect, 0) AS attempts_before_first_connect,
               last_touch_at,
               epoch(TIMESTAMPTZ '2026-10-31 23:59:59.999999+00' - l.created_at) / 3600 AS age_hours,
               epoch(TIMESTAMPTZ '2026-10-31 23:59:59.999999+00' - last_touch_at) / 3600 AS hours_since_last_touch
        FROM l LEFT JOIN p USING (lead_id) ORDER BY l.lead_id""",
    "lead_engagement": """
        WITH e AS (SELECT lead_id, count(*) AS events, min(occurred_at) AS first_event_at,
                          max(occurred_at) AS last_event_at, {event_counts}
                   FROM {lead_events} GROUP BY lead_id)
        SELECT l.lead_id, {event_columns}, coalesce(events, 0) AS events, first_event_at, last_event_at
        FROM (SELECT lead_id FROM {leads}) l LEFT JOIN e USING (lead_id) ORDER BY l.lead_id""",
    "lead_outcomes": """
        WITH d AS (SELECT lead_id, count(*) AS deals, count(*) FILTER (status = 'won') AS won_deals,
                          sum(mrr) FILTER (status = 'won') AS won_mrr,
                          min(closed_at) FILTER (status = 'won') AS first_won_at
                   FROM {deals} WHERE lead_id IS NOT NULL AND lead_id <> '' GROUP BY lead_id)
        SELECT l.lead_id, coalesce(deals, 0) AS deals, coalesce(won_deals, 0) AS won_deals,
               coalesce(won_deals, 0) > 0 AS won, coalesce(won_mrr, 0) AS won_mrr, first_won_at
        FROM (SELECT lead_id FROM {leads}) l LEFT JOIN d USING (lead_id) ORDER BY l.lead_id""",
    "rep_churn": """
        WITH c AS (SELECT *, start_date + INTERVAL 4 MONTH <= DATE '2026-10-31' AS observed,
                          start_date + INTERVAL 4 MONTH <= DATE '2026-10-31' AND churn_date IS NOT NULL
                              AND churn_date < start_date + INTERVAL 4 MONTH AS churned
                   FROM {customers}),
        b AS (SELECT 'closing_rep' AS attribution, closing_rep_id AS rep_id, * EXCLUDE (closing_rep_id) FROM c
              UNION ALL BY NAME
              SELECT 'consultant' AS attribution, consultant_id AS rep_id, * EXCLUDE (consultant_id) FROM c
              WHERE consultant_id IS NOT NULL AND consultant_id <> '')
        SELECT attribution, rep_id, count(*) AS customers, sum(mrr) AS mrr,
               count(*) FILTER (observed) AS customers_observed,
               count(*) FILTER (churned) AS churned_within_window,
               count(*) FILTER (churned) / nullif(count(*) FILTER (observed), 0) AS churn_rate,
               coalesce(sum(mrr) FILTER (churned), 0) AS churned_mrr
        FROM b GROUP BY ALL ORDER BY attribution, rep_id""",
}
SQL["lead_engagement"] = (SQL["lead_engagement"]
                          .replace("{event_counts}", ", ".join(f"count(*) FILTER (event_type = '{e}') AS {e}"
                                                               for e in r.EVENT_TYPES))
                          .replace("{event_columns}", ", ".join(f"coalesce({e}, 0) AS {e}" for e in r.EVENT_TYPES)))


# --------------------------------------------------------------------------- plain pandas
def _read(data: Path, name: str, columns: list[str]) -> pd.DataFrame:
    return pd.read_parquet(data / f"{name}.parquet", columns=columns)


def _month(ts: pd.Series) -> pd.Series:
    return ts.dt.tz_convert("UTC").dt.strftime("%Y-%m")


def pandas_rep_month_activity(data: Path) -> pd.DataFrame:
    a = _read(data, "activities", ["rep_id", "lead_id", "occurred_at", "activity_type", "outcome", "meeting_kind"])
    a["month"] = _month(a["occurred_at"])
    call, email, meeting = a.activity_type == "call", a.activity_type == "email", a.activity_type == "meeting"
    took_place = a.outcome != "no_show"
    flags = pd.DataFrame({
        "rep_id": a.rep_id, "month": a.month, "activities": 1, "calls": call,
        "connects": call & (a.outcome == "connected"), "emails": email, "replies": email & (a.outcome == "replied"),
        "meetings": meeting, "meetings_held": meeting & (a.outcome == "held"), "no_shows": a.outcome == "no_show",
        "discovery_meetings": (a.meeting_kind == "discovery") & took_place,
        "demo_meetings": (a.meeting_kind == "demo") & took_place,
    })
    out = flags.groupby(["rep_id", "month"]).sum()
    out["leads_worked"] = a.groupby(["rep_id", "month"])["lead_id"].nunique()
    return out.reset_index()


def pandas_rep_month_funnel(data: Path) -> pd.DataFrame:
    a = _read(data, "activities", ["rep_id", "lead_id", "occurred_at", "activity_type", "outcome", "meeting_kind"])
    a["month"] = _month(a["occurred_at"])
    masks = [a.activity_type.isin(["call", "email"]), (a.activity_type == "call") & (a.outcome == "connected"),
             a.meeting_kind == "discovery", a.meeting_kind == "demo"]
    parts = [a[m].groupby(["rep_id", "month"])["lead_id"].nunique().rename(i) for i, m in enumerate(masks, 1)]
    d = _read(data, "deals", ["deal_id", "lead_id", "rep_id", "created_at", "closed_at", "status"])
    d = d[d.status == "won"].copy()
    d["month"] = _month(d["closed_at"].fillna(d["created_at"]))
    d["key"] = d["lead_id"].fillna("deal:" + d["deal_id"])
    parts.append(d.groupby(["rep_id", "month"])["key"].nunique().rename(5))
    wide = pd.concat(parts, axis=1).fillna(0).astype("int64")
    long = wide.rename_axis(columns="stage_order").stack().rename("leads").reset_index()
    long = long.sort_values(["rep_id", "month", "stage_order"], ignore_index=True)
    prev = long.groupby(["rep_id", "month"])["leads"].shift(1)
    long["previous_stage_leads"] = prev
    long["conversion_rate"] = long["leads"] / prev.where(prev > 0)
    return long


def pandas_lead_touch_summary(data: Path) -> pd.DataFrame:
    leads = _read(data, "leads", ["lead_id", "created_at", "first_offer", "segment", "owner_rep_id"])
    leads = leads[leads.created_at <= CUTOFF]
    a = _read(data, "activities", ["lead_id", "occurred_at", "activity_type", "outcome"])
    a = a[a.occurred_at <= CUTOFF].merge(leads[["lead_id", "created_at"]], on="lead_id")
    a["is_connect"] = a.outcome.isin(r.CONNECT_OUTCOMES)
    fc = a.loc[a.is_connect].groupby("lead_id")["occurred_at"].min().rename("first_connect_at")
    a = a.merge(fc, on="lead_id", how="left")
    a["call"] = a.activity_type == "call"
    a["call_in_window"] = a.call & (a.occurred_at <= a.created_at + pd.Timedelta(days=7))
    a["before_connect"] = a.first_connect_at.isna() | (a.occurred_at < a.first_connect_at)
    g = a.groupby("lead_id")
    per = pd.DataFrame({"first_touch_at": g.occurred_at.min(), "last_touch_at": g.occurred_at.max(),
                        "touches": g.size(), "calls": g.call.sum(), "calls_within_window": g.call_in_window.sum(),
                        "first_connect_at": g.first_connect_at.max(),
                        "attempts_before_first_connect": g.before_connect.sum()})
    out = leads.merge(per, left_on="lead_id", right_index=True, how="left")
    out["hours_to_first_touch"] = (out.first_touch_at - out.created_at) / pd.Timedelta(hours=1)
    out["connected"] = out.first_connect_at.notna()
    out["age_hours"] = (CUTOFF - out.created_at) / pd.Timedelta(hours=1)
    out["hours_since_last_touch"] = (CUTOFF - out.last_touch_at) / pd.Timedelta(hours=1)
    for col in ("touches", "calls", "calls_within_window", "attempts_before_first_connect"):
        out[col] = out[col].fillna(0).astype("int64")
    return out


def pandas_lead_engagement(data: Path) -> pd.DataFrame:
    e = _read(data, "lead_events", ["lead_id", "occurred_at", "event_type"])
    counts = pd.crosstab(e.lead_id, e.event_type).reindex(columns=list(r.EVENT_TYPES), fill_value=0)
    g = e.groupby("lead_id")["occurred_at"]
    per = counts.assign(events=counts.sum(axis=1), first_event_at=g.min(), last_event_at=g.max())
    leads = _read(data, "leads", ["lead_id"])
    out = leads.merge(per, left_on="lead_id", right_index=True, how="left")
    cols = [*r.EVENT_TYPES, "events"]
    out[cols] = out[cols].fillna(0).astype("int64")
    return out


def pandas_lead_outcomes(data: Path) -> pd.DataFrame:
    d = _read(data, "deals", ["lead_id", "status", "mrr", "closed_at"])
    d = d[d.lead_id.notna() & (d.lead_id != "")]
    won = d.status == "won"
    per = pd.DataFrame({"deals": d.groupby("lead_id").size(), "won_deals": won.groupby(d.lead_id).sum(),
                        "won_mrr": d.mrr.where(won, 0.0).groupby(d.lead_id).sum(),
                        "first_won_at": d.closed_at.where(won).groupby(d.lead_id).min()})
    out = _read(data, "leads", ["lead_id"]).merge(per, left_on="lead_id", right_index=True, how="left")
    out[["deals", "won_deals"]] = out[["deals", "won_deals"]].fillna(0).astype("int64")
    out["won_mrr"] = out["won_mrr"].fillna(0.0)
    out["won"] = out["won_deals"] > 0
    return out


def pandas_rep_churn(data: Path) -> pd.DataFrame:
    c = _read(data, "customers", ["closing_rep_id", "consultant_id", "start_date", "churn_date", "mrr"])
    start = pd.to_datetime(c.start_date)
    end = start + pd.DateOffset(months=WINDOW_MONTHS)
    c["observed"] = end <= pd.Timestamp(AS_OF)
    c["churned"] = c.observed & c.churn_date.notna() & (pd.to_datetime(c.churn_date) < end)
    c["churned_mrr"] = c.mrr.where(c.churned, 0.0)
    parts = []
    for label, person in (("closing_rep", "closing_rep_id"), ("consultant", "consultant_id")):  # two attributions
        rows = c[c[person].notna() & (c[person] != "")]
        g = rows.groupby(person)
        parts.append(pd.DataFrame({"customers": g.size(), "mrr": g.mrr.sum(), "customers_observed": g["observed"].sum(),
                                   "churned_within_window": g["churned"].sum(), "churned_mrr": g["churned_mrr"].sum()})
                     .rename_axis("rep_id").reset_index().assign(attribution=label))
    out = pd.concat(parts, ignore_index=True)
    out["churn_rate"] = out.churned_within_window / out.customers_observed.where(out.customers_observed > 0)
    return out


PANDAS: dict[str, Callable[[Path], pd.DataFrame]] = {
    "rep_month_activity": pandas_rep_month_activity,
    "rep_month_funnel": pandas_rep_month_funnel,
    "lead_touch_summary": pandas_lead_touch_summary,
    "lead_engagement": pandas_lead_engagement,
    "lead_outcomes": pandas_lead_outcomes,
    "rep_churn": pandas_rep_churn,
}


def ibis_runner(name: str, source: FolderSource) -> Callable[[], pd.DataFrame]:
    config = load_config(DEFAULTS_FILE)
    return {
        "rep_month_activity": lambda: r.rep_month_activity(source),
        "rep_month_funnel": lambda: r.rep_month_funnel(source, config),
        "lead_touch_summary": lambda: r.lead_touch_summary(source, as_of=AS_OF),
        "lead_engagement": lambda: r.lead_engagement(source),
        "lead_outcomes": lambda: r.lead_outcomes(source),
        "rep_churn": lambda: r.rep_churn(source, window_months=WINDOW_MONTHS, as_of=AS_OF),
    }[name]


def checksum(df: pd.DataFrame) -> tuple[int, tuple[float, ...]]:
    """Rows and the sum of every numeric (or boolean) column, rounded: equal for equal results."""
    sums = []
    for col in sorted(df.columns):
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            sums.append(round(float(pd.to_numeric(s, errors="coerce").astype("float64").sum()), 3))
    return len(df), tuple(sums)


def _timed(fn: Callable[[], pd.DataFrame]) -> tuple[float, pd.DataFrame]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def compare(data: Path, names: list[str]) -> list[dict[str, object]]:
    rows_in = {name: len(pd.read_parquet(data / f"{name}.parquet", columns=[]))
               for name in ("activities", "leads", "lead_events", "deals", "customers")}
    main_table = {"rep_month_activity": "activities", "rep_month_funnel": "activities",
                  "lead_touch_summary": "activities", "lead_engagement": "lead_events",
                  "lead_outcomes": "deals", "rep_churn": "customers"}
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    source = FolderSource(data)
    results = []
    for name in names:  # the fixed list of reductions
        ibis_s, by_ibis = _timed(ibis_runner(name, source))
        sql_s, by_sql = _timed(lambda: _sql(con, data, SQL[name]))
        pandas_s, by_pandas = _timed(lambda: PANDAS[name](data))
        ibis_sum = checksum(by_ibis.drop(columns=[c for c in ("stage", "stage_label") if c in by_ibis]))
        agree = {"sql": checksum(by_sql) == ibis_sum, "pandas": checksum(by_pandas) == ibis_sum}
        if not all(agree.values()):
            raise SystemExit(f"{name}: the three versions disagree on {data}: ibis {ibis_sum}, "
                             f"sql {checksum(by_sql)}, pandas {checksum(by_pandas)}")
        row = {"reduction": name, "rows_in": rows_in[main_table[name]], "rows_out": len(by_ibis),
               "ibis_s": round(ibis_s, 3), "sql_s": round(sql_s, 3), "pandas_s": round(pandas_s, 3),
               "ibis_over_sql": round(ibis_s / sql_s, 2), "pandas_over_sql": round(pandas_s / sql_s, 2)}
        results.append(row)
        print(f"  {name:20s} {row['rows_in']:>11,} rows  ibis {ibis_s:7.2f} s  sql {sql_s:7.2f} s  "
              f"pandas {pandas_s:7.2f} s  ibis/sql {row['ibis_over_sql']:5.2f}  pandas/sql {row['pandas_over_sql']:5.2f}",
              flush=True)
    source.close()
    con.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10, 50])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where generated orgs are kept")
    parser.add_argument("--only", nargs="*", default=list(SQL), choices=list(SQL))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    orgs = {scale: ensure_org(scale, args.cache) for scale in args.scales}
    # warm-up: imports, Ibis compilation caches and the OS file cache are not what is measured
    compare(orgs[min(args.scales)], args.only[:1])
    out = {}
    for scale, data in orgs.items():  # a handful of sizes
        print(f"\n{scale:g}x the sample ({data})", flush=True)
        out[f"{scale:g}x"] = compare(data, args.only)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
