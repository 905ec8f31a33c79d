"""What does the report machinery cost on top of the analyses themselves?

For each organisation size (multiples of the sample, generated once into a cache folder):

1. **report**: ``sales-workbook report --data ORG --month M --jobs J`` in a child process, timed
   wall clock, with the peak resident memory of the whole process tree (the command and every
   notebook kernel, summed, sampled every 50 ms from /proc) and of its largest single process;
2. **plain**: the same analyses as one plain Python process: every code cell of every notebook
   that the report runs (not the analyst-only cells), with the same parameters, executed in
   order in one IPython shell (so each figure is rendered to PNG and each table formatted, as
   the report needs them; the formatted outputs are discarded), timed the same way.

The overhead ratio report / plain is what kernel start-up, papermill, validation and HTML
rendering add. Budget (docs/performance.md): at most 1.5, and a report's peak memory at 50x
the sample at most 4 GB.

    .venv/bin/python benchmarks/report_overhead.py --scales 1 10 50 [--jobs 2] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

PLAIN_CHILD = r"""
import json, sys, time
from pathlib import Path
import nbformat
from IPython.core.interactiveshell import InteractiveShell

data_dir, month, out_dir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from helpers.paths import NOTEBOOKS_DIR
from helpers.reporting.pipeline import scheduled_notebook

# One IPython shell in this one process: cells run as in a notebook, the value of a cell's last
# expression and every figure are formatted (PNG, HTML tables) as the report needs them; the
# formatted outputs are then thrown away instead of travelling to a front end.
shell = InteractiveShell.instance()
shell.enable_gui = lambda gui=None: None  # no event loop to hook: figures are rendered at the end of each cell
shell.enable_matplotlib("inline")
timings = {}
for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
    nb = scheduled_notebook(path)  # what a scheduled run executes (no analyst-only cells)
    shell.reset(new_session=False)
    params = {"month": month, "as_of": "", "config_path": "", "data_dir": data_dir,
              "results_path": str(out_dir / f"{path.stem}.json")}
    t0 = time.perf_counter()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        result = shell.run_cell(cell.source, store_history=False, silent=False)
        if not result.success:
            raise SystemExit(f"{path.stem} cell {cell.get('id')} failed: {result.error_in_exec!r}")
        if "parameters" in cell.metadata.get("tags", []):
            shell.user_ns.update(params)
    timings[path.stem] = round(time.perf_counter() - t0, 3)
sys.__stdout__.write(json.dumps(timings) + "\n")
"""


def _tree_rss_mb(root_pid: int) -> tuple[float, float]:
    """(sum of RSS over the process tree, largest single RSS), in MB, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    total, largest, stack = 0.0, 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0.0)
        largest = max(largest, rss.get(pid, 0.0))
        stack.extend(children.get(pid, []))
    return total, largest


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None) -> dict[str, object]:
    """Run ``cmd``; wall time and peak tree / single-process RSS (sampled every 50 ms)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    peak = {"tree": 0.0, "single": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            tree, single = _tree_rss_mb(proc.pid)
            peak["tree"] = max(peak["tree"], tree)
            peak["single"] = max(peak["single"], single)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{stderr[-3000:]}")
    return {"seconds": round(seconds, 2), "peak_tree_mb": round(peak["tree"]), "peak_single_mb": round(peak["single"]),
            "stdout": stdout}


def measure(data: Path, month: str, jobs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        report = run_measured([str(ROOT / ".venv/bin/sales-workbook"), "report", "--data", str(data), "--month", month,
                               "--out", str(Path(tmp) / "reports"), "--jobs", str(jobs)])
        run_json = json.loads((Path(tmp) / "reports" / month / "run.json").read_text())
        plain_out = Path(tmp) / "plain"
        plain_out.mkdir()
        plain = run_measured([sys.executable, "-c", PLAIN_CHILD, str(data), month, str(plain_out), str(ROOT)])
    statuses = {nb["notebook"]: nb["state"] for nb in run_json["reports"]}
    kernel_s = {nb["notebook"]: {k: nb.get(k) for k in ("seconds", "execute_seconds", "cells_seconds", "render_seconds")}
                for nb in run_json["reports"]}
    return {
        "report_s": report["seconds"], "plain_s": plain["seconds"],
        "overhead_ratio": round(report["seconds"] / plain["seconds"], 2),
        "report_peak_tree_mb": report["peak_tree_mb"], "report_peak_single_mb": report["peak_single_mb"],
        "plain_peak_mb": plain["peak_single_mb"], "plain_per_notebook_s": json.loads(plain["stdout"].strip().splitlines()[-1]),
        "statuses": statuses, "report_per_notebook": kernel_s, "report_wall_inside_s": run_json.get("wall_seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    from reductions_compare import DEFAULT_CACHE, ensure_org  # noqa: PLC0415 - sibling script

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10, 50])
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    out = {}
    for scale in args.scales:  # a handful of sizes
        data = ensure_org(scale, args.cache)
        result = measure(data, args.month, args.jobs)
        out[f"{scale:g}x"] = result
        print(f"{scale:g}x: report {result['report_s']} s (peak {result['report_peak_tree_mb']} MB over all processes, "
              f"{result['report_peak_single_mb']} MB largest), plain {result['plain_s']} s "
              f"(peak {result['plain_peak_mb']} MB): overhead x{result['overhead_ratio']}; "
              f"per notebook {result['plain_per_notebook_s']}; {result['statuses']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
