"""Time the event-level reductions on a large synthetic organisation (DuckDB folder source).

Builds, in a temporary folder, Parquet files for a company with ``--rows`` activities
(10 million by default), a tenth as many leads, and matching deals, customers and lead
events; generated with numpy in chunks of a million rows so generation itself stays small.
Then runs every reduction of :mod:`helpers.data.reductions` once and prints, per reduction, the
wall time, the peak resident memory of the process during that reduction, and the size of
the result. A sales-ops analyst reads it as: "can my laptop run the monthly report on our
CRM export?".

    .venv/bin/python benchmarks/reductions_large.py                 # 10M activities
    .venv/bin/python benchmarks/reductions_large.py --rows 1000000  # a quick run
    .venv/bin/python benchmarks/reductions_large.py --json out.json --keep /tmp/big

Peak memory per step is measured by resetting the kernel's high-water mark
(``/proc/self/clear_refs``) before each step; elsewhere the process-wide peak is shown.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.core.config import DEFAULTS_FILE, load_config  # noqa: E402
from helpers.data.engine import FolderSource  # noqa: E402
from helpers.data import reductions as r  # noqa: E402

CHUNK = 1_000_000
START = np.datetime64("2023-01-01T00:00:00", "s")
SPAN_S = 730 * 86400  # two years of data


def _ids(prefix: str, start: int, stop: int) -> pa.Array:
    return pa.array((prefix + pd.Series(np.arange(start, stop)).astype(str)).to_numpy(dtype=object), pa.string())


def _ts(seconds: np.ndarray) -> pa.Array:
    return pa.array((START + seconds.astype("timedelta64[s]")).astype("datetime64[us]"), pa.timestamp("us", tz="UTC"))


def build(out: Path, rows: int, seed: int = 1) -> dict[str, int]:
    """Write the synthetic organisation; returns row counts per table."""
    rng = np.random.default_rng(seed)
    n_leads = max(rows // 10, 1000)
    n_reps = 400
    rep_ids = np.array([f"R{i:04d}" for i in range(n_reps)], dtype=object)
    pq.write_table(pa.table({
        "rep_id": rep_ids, "name": rep_ids, "role": np.where(np.arange(n_reps) < 300, "ae", "consultant"),
        "hire_date": pa.array(np.full(n_reps, np.datetime64("2022-01-01", "D"))),
    }), out / "reps.parquet")

    lead_created = rng.integers(0, SPAN_S, n_leads)
    pq.write_table(pa.table({
        "lead_id": _ids("L", 0, n_leads),
        "created_at": _ts(lead_created),
        "source": rng.choice(["organic_search", "paid_search", "referral", "outbound"], n_leads),
        "lead_type": rng.choice(["seed", "net", "spear"], n_leads),
        "segment": rng.choice(["small_business", "mid_market", "enterprise"], n_leads),
        "first_offer": rng.choice(["demo_request", "free_trial", "ebook", "contact_us"], n_leads),
        "owner_rep_id": rng.choice(rep_ids[:300], n_leads),
    }), out / "leads.parquet")

    schema = pa.schema([("activity_id", pa.string()), ("rep_id", pa.string()), ("lead_id", pa.string()),
                        ("occurred_at", pa.timestamp("us", tz="UTC")), ("activity_type", pa.string()),
                        ("outcome", pa.string()), ("meeting_kind", pa.string())])
    with pq.ParquetWriter(out / "activities.parquet", schema) as writer:
        for begin in range(0, rows, CHUNK):  # chunks of a million rows, each built vectorised
            n = min(CHUNK, rows - begin)
            lead_idx = rng.integers(0, n_leads, n)
            when = lead_created[lead_idx] + rng.exponential(5 * 86400, n).astype("int64")
            kind = rng.choice(["call", "email", "meeting"], n, p=[0.55, 0.3, 0.15])
            outcome = np.where(kind == "call", rng.choice(["connected", "voicemail", "no_answer"], n, p=[.2, .4, .4]),
                               np.where(kind == "email", rng.choice(["sent", "replied"], n, p=[.85, .15]),
                                        rng.choice(["held", "no_show"], n, p=[.85, .15])))
            mkind = np.where(kind == "meeting", rng.choice(["discovery", "demo"], n), None)
            writer.write_table(pa.table({
                "activity_id": _ids("A", begin, begin + n), "rep_id": rng.choice(rep_ids[:300], n),
                "lead_id": _ids("L", 0, 0) if n == 0 else pa.array(
                    ("L" + pd.Series(lead_idx).astype(str)).to_numpy(dtype=object), pa.string()),
                "occurred_at": _ts(when), "activity_type": kind, "outcome": outcome,
                "meeting_kind": pa.array(mkind, pa.string()),
            }, schema=schema))

    n_events = rows // 2
    with pq.ParquetWriter(out / "lead_events.parquet", pa.schema([
            ("event_id", pa.string()), ("lead_id", pa.string()), ("occurred_at", pa.timestamp("us", tz="UTC")),
            ("event_type", pa.string())])) as writer:
        for begin in range(0, n_events, CHUNK):
            n = min(CHUNK, n_events - begin)
            lead_idx = rng.integers(0, n_leads, n)
            writer.write_table(pa.table({
                "event_id": _ids("E", begin, begin + n),
                "lead_id": pa.array(("L" + pd.Series(lead_idx).astype(str)).to_numpy(dtype=object), pa.string()),
                "occurred_at": _ts(lead_created[lead_idx] + rng.integers(-5 * 86400, 30 * 86400, n)),
                "event_type": rng.choice(["page_view", "content_download", "demo_request", "email_open"], n),
            }))

    n_deals = n_leads // 5
    deal_created = rng.integers(0, SPAN_S, n_deals)
    status = rng.choice(["open", "won", "lost"], n_deals, p=[.2, .35, .45])
    closed = deal_created + rng.integers(86400, 90 * 86400, n_deals)
    closed_ts = pa.array(np.where(status == "open", np.datetime64("NaT"),
                                  (START + closed.astype("timedelta64[s]"))).astype("datetime64[us]"),
                         pa.timestamp("us", tz="UTC"))
    mrr = np.round(rng.gamma(2.0, 300.0, n_deals), 2)
    deal_rep = rng.choice(rep_ids[:300], n_deals)
    pq.write_table(pa.table({
        "deal_id": _ids("D", 0, n_deals),
        "lead_id": pa.array(("L" + pd.Series(rng.choice(n_leads, n_deals, replace=False)).astype(str))
                            .to_numpy(dtype=object), pa.string()),
        "rep_id": deal_rep, "created_at": _ts(deal_created), "closed_at": closed_ts, "status": status, "mrr": mrr,
    }), out / "deals.parquet")

    won = np.flatnonzero(status == "won")
    start_day = (START + closed[won].astype("timedelta64[s]")).astype("datetime64[D]") + 1
    churn_day = start_day + rng.exponential(300, len(won)).astype("int64").astype("timedelta64[D]")
    churned = rng.random(len(won)) < 0.5
    pq.write_table(pa.table({
        "customer_id": _ids("C", 0, len(won)), "closing_rep_id": deal_rep[won],
        "consultant_id": rng.choice(rep_ids[300:], len(won)),
        "start_date": pa.array(start_day), "churn_date": pa.array(np.where(churned, churn_day, np.datetime64("NaT"))),
        "mrr": mrr[won], "billing_term": rng.choice(["monthly", "annual_prepay"], len(won)),
    }), out / "customers.parquet")
    return {"activities": rows, "leads": n_leads, "lead_events": n_events, "deals": n_deals, "customers": len(won)}


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(data: Path, threads: int | None) -> list[dict[str, object]]:
    config = load_config(DEFAULTS_FILE)
    source = FolderSource(data, threads=threads)
    as_of = "2024-12-31"
    steps: list[tuple[str, Callable[[], object]]] = [
        ("fingerprint (sha256 of files)", source.fingerprint),
        ("data_period", lambda: r.data_period(source)),
        ("last_complete_month", lambda: r.last_complete_month(source)),
        ("rep_month_activity", lambda: r.rep_month_activity(source)),
        ("rep_month_funnel", lambda: r.rep_month_funnel(source, config)),
        ("lead_touch_summary", lambda: r.lead_touch_summary(source, as_of=as_of)),
        ("lead_engagement", lambda: r.lead_engagement(source)),
        ("lead_outcomes", lambda: r.lead_outcomes(source)),
        ("rep_churn", lambda: r.rep_churn(source, window_months=4)),
    ]
    results = []
    for name, step in steps:  # a fixed list of reductions, not data
        per_step = _reset_peak()
        t0 = time.perf_counter()
        value = step()
        seconds = time.perf_counter() - t0
        rows = len(value) if isinstance(value, pd.DataFrame) else None
        results.append({"step": name, "seconds": round(seconds, 2), "peak_rss_mb": round(_peak_mb()),
                        "peak_is_per_step": per_step, "result_rows": rows})
        print(f"{name:32s} {seconds:8.2f} s   peak RSS {_peak_mb():8.0f} MB   rows {rows if rows is not None else '-'}",
              flush=True)
    source.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="activities to generate (default 10M)")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    parser.add_argument("--keep", type=Path, default=None, help="build the data here and keep it (reused if present)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    tmp = None
    if args.keep is not None:
        data = args.keep
        data.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="sales-workbook-bench-")
        data = Path(tmp)
    try:
        t0 = time.perf_counter()
        if not (data / "activities.parquet").exists():
            counts = build(data, args.rows)
        else:
            counts = {"activities": pq.ParquetFile(data / "activities.parquet").metadata.num_rows}
        build_s = time.perf_counter() - t0
        size_mb = sum(f.stat().st_size for f in data.glob("*.parquet")) / 1e6
        print(f"data: {counts} in {data} ({size_mb:.0f} MB Parquet), built in {build_s:.1f} s; "
              f"peak RSS while building {_peak_mb():.0f} MB", flush=True)
        results = run(data, args.threads)
        total = sum(float(x["seconds"]) for x in results)
        print(f"{'total':32s} {total:8.2f} s")
        if args.json:
            args.json.write_text(json.dumps({
                "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count(),
                            "platform": platform.platform()},
                "rows": counts, "parquet_mb": round(size_mb), "build_seconds": round(build_s, 1),
                "steps": results, "total_seconds": round(total, 2)}, indent=2))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
