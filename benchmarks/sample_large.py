"""How long does ``sales-workbook sample`` take, and how much memory does it need, as the org grows?

Generates the sample organisation at the default size and at a multiple of it (50x the reps by
default: two thousand AEs, millions of leads, about ten million activities) in a temporary folder,
each in a child process, and prints wall time, rows written, size on disk and the child's peak
resident memory (``resource.getrusage``). The generator works one month at a time and appends
each month to the files as Parquet row groups, so peak memory follows one month, not the history.

    .venv/bin/python benchmarks/sample_large.py                  # 1x and 50x
    .venv/bin/python benchmarks/sample_large.py --scales 1 10    # other sizes
    .venv/bin/python benchmarks/sample_large.py --json           # machine-readable

Nothing is written outside the temporary folder, which is removed at the end.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from helpers.data.sample import generate_org
out, reps, months, seed, fmt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
start = time.perf_counter()
summary = generate_org(out, seed=seed, reps=reps, months=months, fmt=fmt)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
size = sum(p.stat().st_size for p in Path(out).iterdir() if p.is_file())
print(json.dumps({"reps": reps, "months": months, "seconds": round(seconds, 2), "peak_rss_mib": round(peak_kib / 1024, 1),
                  "bytes_on_disk": size, "rows": summary["rows"]}))
"""


def run(scale: float, *, months: int, seed: int, fmt: str, workdir: Path) -> dict:
    from helpers.data.sample import DEFAULT_REPS

    reps = max(6, int(round(DEFAULT_REPS * scale)))
    out = workdir / f"x{scale:g}"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(out), str(reps), str(months), str(seed), fmt],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"generation at {scale:g}x failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["scale"] = scale
    return result


def main(argv: list[str] | None = None) -> int:
    from helpers.data.sample import DEFAULT_MONTHS, DEFAULT_SEED

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 50], help="multiples of the default reps")
    parser.add_argument("--months", type=int, default=DEFAULT_MONTHS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--format", default="parquet", choices=("parquet", "csv", "csv.gz"))
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sample-large-") as tmp:
        for scale in args.scales:
            result = run(scale, months=args.months, seed=args.seed, fmt=args.format, workdir=Path(tmp))
            if args.json:
                print(json.dumps(result))
                continue
            rows = result["rows"]
            print(f"{scale:g}x: {result['reps']:,} reps x {result['months']} months -> {rows['leads']:,} leads, "
                  f"{rows['activities']:,} activities, {rows['lead_events']:,} events, {rows['deals']:,} deals | "
                  f"{result['seconds']:.1f} s, peak RSS {result['peak_rss_mib']:,.0f} MiB, "
                  f"{result['bytes_on_disk'] / 2**20:,.1f} MiB on disk ({args.format})")
            shutil_free(Path(tmp) / f"x{scale:g}")
    return 0


def shutil_free(folder: Path) -> None:
    """Remove one size's folder before the next size runs, so disk use stays bounded too."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
