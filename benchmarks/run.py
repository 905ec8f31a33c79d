"""Run every benchmark once at a size that fits this machine (2 cores, 24 GiB): `make bench`.

Speed is measured here, never by timed tests. Each benchmark runs in its own process so that
its peak memory is its own. Pass --quick for a smaller, faster pass.

    .venv/bin/python benchmarks/run.py [--quick]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute in all)")
    args = parser.parse_args()
    runs = [
        ("sample generation (1x and 50x the sample)", "sample_large.py", ["--scales", "1", "10" if args.quick else "50"]),
        ("validation of a large activities table", "validate_large.py",
         ["--rows", "1000000" if args.quick else "10000000"]),
        ("event-level reductions on DuckDB", "reductions_large.py",
         ["--rows", "1000000" if args.quick else "10000000"]),
    ]
    failed = 0
    for title, script, extra in runs:
        print(f"\n=== {title}: {script} {' '.join(extra)}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(HERE / script), *extra])
        print(f"=== {script} finished in {time.perf_counter() - start:.1f} s (exit {code})", flush=True)
        failed += code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
