"""The performance suite, one command: `make bench` (or `.venv/bin/python benchmarks/run.py`).

Speed is measured here, never by timed tests. In order, each part in its own process (so its
peak memory is its own):

1. generation: the organisation at 1x, 10x and 50x the sample (``sample_large.py``), time, peak
   memory and size on disk; the three orgs are then kept in ``--cache`` for the next parts;
2. reductions three ways (``reductions_compare.py``): each event-level reduction of the workbook
   (Ibis on DuckDB), the same reduction hand-written in DuckDB SQL, and plain pandas, checked to
   agree, with the ratios;
3. the monthly report against the same analyses run as one plain Python process
   (``report_overhead.py``): the overhead ratio and the peak memory of the report's process tree;
4. the reductions on Spark local mode against DuckDB on the 10x org (``spark_reductions.py``),
   when pyspark and Java are installed.

With ``--doc docs/performance.md`` the measured tables replace the part of that page between
``<!-- bench:begin -->`` and ``<!-- bench:end -->``; the prose around them is kept.

    .venv/bin/python benchmarks/run.py                    # everything (about 20 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --quick            # 1x and 2x only (a couple of minutes)
    .venv/bin/python benchmarks/run.py --doc docs/performance.md
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _run(script: str, args: list[str], json_out: Path) -> object:
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    start = time.perf_counter()
    code = subprocess.call([sys.executable, str(HERE / script), *args, "--json", str(json_out)])
    print(f"=== {script} finished in {time.perf_counter() - start:.0f} s (exit {code})", flush=True)
    if code != 0:
        raise SystemExit(f"{script} failed (exit {code})")
    return json.loads(json_out.read_text())


def _generation(scales: list[float]) -> list[dict]:
    print(f"\n=== sample_large.py --scales {' '.join(f'{s:g}' for s in scales)}", flush=True)
    out = subprocess.run([sys.executable, str(HERE / "sample_large.py"), "--scales", *[f"{s:g}" for s in scales],
                          "--json"], capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    import os

    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def tables(results: dict) -> str:
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.", ""]
    if results.get("generation"):
        lines += ["### Generating the organisations", "",
                  "| size | reps | leads | activities | lead events | time | peak RSS | on disk |", "|---|---|---|---|---|---|---|---|"]
        for g in results["generation"]:
            r = g["rows"]
            lines.append(f"| {g['scale']:g}x | {g['reps']:,} | {r['leads']:,} | {r['activities']:,} | "
                         f"{r['lead_events']:,} | {g['seconds']:.1f} s | {g['peak_rss_mib']:,.0f} MiB | "
                         f"{g['bytes_on_disk'] / 2**20:,.0f} MiB |")
        lines.append("")
    if results.get("reductions"):
        lines += ["### Reductions: Ibis on DuckDB vs hand-written DuckDB SQL vs pandas", "",
                  "| size | reduction | input rows | Ibis | SQL | pandas | Ibis / SQL | pandas / SQL |",
                  "|---|---|---|---|---|---|---|---|"]
        for size, rows in results["reductions"].items():
            for r in rows:
                lines.append(f"| {size} | {r['reduction']} | {r['rows_in']:,} | {r['ibis_s']:.2f} s | {r['sql_s']:.2f} s | "
                             f"{r['pandas_s']:.2f} s | {r['ibis_over_sql']:.2f} | {r['pandas_over_sql']:.2f} |")
        lines.append("")
    if results.get("report"):
        lines += ["### The monthly report vs the same analyses as one plain Python process", "",
                  "| size | report (jobs 2) | plain Python | report / plain | report peak RSS, all processes | "
                  "largest process | plain peak RSS |", "|---|---|---|---|---|---|---|"]
        for size, r in results["report"].items():
            lines.append(f"| {size} | {r['report_s']:.1f} s | {r['plain_s']:.1f} s | {r['overhead_ratio']:.2f} | "
                         f"{r['report_peak_tree_mb'] / 1000:.2f} GB | {r['report_peak_single_mb'] / 1000:.2f} GB | "
                         f"{r['plain_peak_mb'] / 1000:.2f} GB |")
        lines.append("")
    if results.get("spark"):
        s = results["spark"]
        lines += [f"### Spark local mode vs DuckDB ({s['scale']:g}x org)", "",
                  "| reduction | result rows | identical | Spark | DuckDB |", "|---|---|---|---|---|"]
        for r in s["results"]:
            lines.append(f"| {r['reduction']} | {r['rows_out']:,} | {'yes' if r['identical'] else 'NO'} | "
                         f"{r['spark_s']:.1f} s | {r['duckdb_s']:.2f} s |")
        lines.append("")
    return "\n".join(lines)


def write_doc(doc: Path, text: str) -> None:
    page = doc.read_text(encoding="utf-8")
    if BEGIN not in page or END not in page:
        raise SystemExit(f"{doc} has no {BEGIN} ... {END} markers to replace")
    head, rest = page.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")
    print(f"wrote the tables into {doc}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1x and 2x only")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sales-workbook-bench",
                        help="where the generated orgs are kept between parts and runs")
    parser.add_argument("--doc", type=Path, default=None, help="write the tables into this page (between markers)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["generation", "reductions", "report", "spark"])
    args = parser.parse_args(argv)
    scales = [1.0, 2.0] if args.quick else [1.0, 10.0, 50.0]
    cache = ["--cache", str(args.cache)]
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "part.json"
        if "generation" not in args.skip:
            results["generation"] = _generation(scales)
        size_args = ["--scales", *[f"{s:g}" for s in scales]]
        if "reductions" not in args.skip:
            results["reductions"] = _run("reductions_compare.py", [*size_args, *cache], out)
        if "report" not in args.skip:
            results["report"] = _run("report_overhead.py", [*size_args, *cache], out)
        spark_ready = shutil.which("java") is not None and subprocess.call(
            [sys.executable, "-c", "import pyspark"], stderr=subprocess.DEVNULL) == 0
        if "spark" not in args.skip and spark_ready:
            results["spark"] = _run("spark_reductions.py", ["--scale", f"{scales[1]:g}", *cache], out)
        elif "spark" not in args.skip:
            print("\n=== Spark part skipped: needs pyspark (pip install -e \".[spark]\") and Java 17+", flush=True)
    text = tables(results)
    print("\n" + text)
    if args.doc:
        write_doc(args.doc, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
