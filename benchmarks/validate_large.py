"""How long does validation take on a big company's data, and how much memory does it need?

Builds a valid data folder in a temporary directory (a few thousand reps, a million leads and
an ``activities`` table of ``--rows`` rows, generated vectorised with numpy/pyarrow and written
in row groups so that building it is memory-bounded too), then validates it in a child process
and prints wall time, rows per second and the child's peak resident memory.

    .venv/bin/python benchmarks/validate_large.py --rows 5000000
    .venv/bin/python benchmarks/validate_large.py --rows 2000000 --format csv

Nothing is written outside the temporary directory, which is removed at the end.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

BLOCK = 1_000_000
START = np.datetime64("2023-01-01T00:00:00", "us").astype(np.int64)
SPAN_US = np.int64(365 * 2 * 86_400 * 1_000_000)  # two years of history


def _ids(prefix: str, start: int, n: int) -> pa.Array:
    numbers = pc.cast(pa.array(np.arange(start, start + n, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), numbers, "")


def _pick(rng: np.random.Generator, values: tuple[str, ...], n: int, p=None) -> pa.Array:
    return pc.take(pa.array(values), pa.array(rng.choice(len(values), size=n, p=p)))


def _writer(path: Path, schema: pa.Schema, fmt: str):
    if fmt == "parquet":
        return pq.ParquetWriter(path, schema)
    sink = pa.CompressedOutputStream(str(path), "gzip") if fmt == "csv.gz" else pa.OSFile(str(path), "wb")
    return pacsv.CSVWriter(sink, schema)


def build_folder(folder: Path, *, rows: int, reps: int, leads: int, fmt: str, seed: int = 7,
                 bad_fraction: float = 0.0) -> dict[str, int]:
    """Write reps, leads and activities (``rows`` rows) into ``folder``; returns the row counts.

    ``bad_fraction`` of the activities get an unknown ``activity_type`` ("Call") and an unknown
    ``rep_id``, to time the path where many rows fail.
    """
    rng = np.random.default_rng(seed)
    suffix = f".{fmt}"

    rep_ids = _ids("r", 0, reps)
    reps_table = pa.table({
        "rep_id": rep_ids,
        "name": pc.binary_join_element_wise(pa.scalar("Rep "), rep_ids, ""),
        "role": _pick(rng, ("sdr", "ae"), reps),
        "hire_date": pa.array(np.datetime64("2022-01-03") + rng.integers(0, 365, reps).astype("timedelta64[D]")),
    })
    if fmt == "parquet":
        pq.write_table(reps_table, folder / f"reps{suffix}")
    else:
        with _writer(folder / f"reps{suffix}", reps_table.schema, fmt) as w:
            w.write_table(reps_table)

    leads_writer = None
    for start in range(0, leads, BLOCK):
        n = min(BLOCK, leads - start)
        batch = pa.table({
            "lead_id": _ids("L", start, n),
            "created_at": pa.array(START + rng.integers(0, SPAN_US, n), pa.timestamp("us", tz="UTC")),
            "source": _pick(rng, ("organic_search", "paid_search", "referral", "outbound", "event"), n),
            "lead_type": _pick(rng, ("seed", "net", "spear"), n),
            "segment": _pick(rng, ("small_business", "mid_market", "enterprise"), n),
            "first_offer": _pick(rng, ("demo_request", "free_trial", "ebook", "outbound"), n),
            "owner_rep_id": pc.take(rep_ids, pa.array(rng.integers(0, reps, n))),
        })
        if leads_writer is None:
            leads_writer = _writer(folder / f"leads{suffix}", batch.schema, fmt)
        leads_writer.write_table(batch)
    leads_writer.close()

    writer = None
    for start in range(0, rows, BLOCK):
        n = min(BLOCK, rows - start)
        kind = rng.choice(3, size=n, p=[0.55, 0.35, 0.10])  # call, email, meeting
        outcome_call = rng.choice(["connected", "voicemail", "no_answer"], size=n)
        outcome_email = rng.choice(["sent", "replied"], size=n)
        outcome_meeting = rng.choice(["held", "no_show"], size=n)
        outcome = np.where(kind == 0, outcome_call, np.where(kind == 1, outcome_email, outcome_meeting))
        meeting_kind = np.where(kind == 2, rng.choice(["discovery", "demo"], size=n), None)
        bad = pa.array(rng.random(n) < bad_fraction)
        batch = pa.table({
            "activity_id": _ids("A", start, n),
            "rep_id": pc.if_else(bad, "r_unknown", pc.take(rep_ids, pa.array(rng.integers(0, reps, n)))),
            "lead_id": _ids("L", 0, leads).take(pa.array(rng.integers(0, leads, n))),
            "occurred_at": pa.array(START + rng.integers(0, SPAN_US, n), pa.timestamp("us", tz="UTC")),
            "activity_type": pc.if_else(bad, "Call", pc.take(pa.array(["call", "email", "meeting"]), pa.array(kind))),
            "outcome": pa.array(outcome, pa.string()),
            "meeting_kind": pa.array(meeting_kind, pa.string()),
        })
        if writer is None:
            writer = _writer(folder / f"activities{suffix}", batch.schema, fmt)
        writer.write_table(batch)
    writer.close()
    return {"reps": reps, "leads": leads, "activities": rows}


def _validate_child(folder: str) -> None:
    """Run in the child process: validate and print the timing as JSON."""
    from helpers.core.config import load_config
    from helpers.data.validate import validate_folder

    config = load_config()
    started = time.perf_counter()
    report = validate_folder(folder, config, now="2030-01-01")
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "ok": report.ok, "errors": len(report.errors),
                      "warnings": len(report.warnings), "row_counts": report.row_counts,
                      "summary": report.summary()}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows in activities (default 5,000,000)")
    parser.add_argument("--reps", type=int, default=2_000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("parquet", "csv", "csv.gz"), default="parquet")
    parser.add_argument("--bad-fraction", dest="bad_fraction", type=float, default=0.0,
                        help="share of activities with an unknown activity_type and rep_id (default 0)")
    parser.add_argument("--validate-only", dest="validate_only", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.validate_only:
        _validate_child(args.validate_only)
        return 0

    with tempfile.TemporaryDirectory(prefix="validate-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        counts = build_folder(folder, rows=args.rows, reps=args.reps, leads=args.leads, fmt=args.format,
                              bad_fraction=args.bad_fraction)
        built = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print(f"built {counts} as {args.format} ({size_mb:,.0f} MB) in {built:.1f} s")
        t0 = time.perf_counter()
        child = subprocess.run([sys.executable, __file__, "--validate-only", str(folder)],
                               capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
            return 1
        result = json.loads(child.stdout.strip().splitlines()[-1])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        total_rows = sum(result["row_counts"].values())
        print(result["summary"])
        print(f"validate_folder: {result['seconds']:.1f} s ({total_rows / result['seconds']:,.0f} rows/s); "
              f"child process wall {wall:.1f} s incl. imports; peak RSS {peak_mb:,.0f} MiB; "
              f"errors {result['errors']}, warnings {result['warnings']}")
        return 0 if result["ok"] == (args.bad_fraction == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
