"""Prove a refactor changed no number: build the sample report at two commits and compare what it writes.

Usage (from the repository root; takes a few minutes, one report build per commit)::

    .venv/bin/python benchmarks/compare_report_outputs.py 4e8fed2            # baseline vs the working tree
    .venv/bin/python benchmarks/compare_report_outputs.py 4e8fed2 HEAD       # baseline vs a commit
    .venv/bin/python benchmarks/compare_report_outputs.py --compare DIR_A DIR_B   # two finished builds

Each commit is checked out with ``git worktree add`` into a temporary folder and its report is built
with this virtual environment's Python (``python -m helpers.cli report``) and ``PYTHONPATH`` pointing
at that checkout, so both builds use the same packages and only the project's code differs. ``current``
(the default second side) means this working tree as it is, uncommitted edits included. Both builds read
the same data folder (default: the baseline commit's ``data/sample``).

What is compared, per month folder: the six results files (``NN_topic.json``) as parsed JSON with
run-specific fields removed (times, durations, paths, the kernel's versions; the output folder named in
a sentence reads ``<out>`` on both sides), and the payroll files
(``04_payroll_*.csv`` byte for byte, the ``.xlsx`` cell by cell, since XLSX carries its write time).
The exit code is 0 when nothing differs, 1 otherwise; every difference is printed with its JSON path.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: keys whose values differ from one run to the next (clock, machine, paths), at any depth of a results file
RUN_SPECIFIC_KEYS = frozenset({
    "generated_at", "created_at", "started_at", "finished_at", "run_at", "timestamp", "seconds", "elapsed",
    "duration", "duration_seconds", "path", "paths", "files", "results_path", "out_dir", "output_path",
    "python", "versions", "kernel", "host", "hostname", "pid",
})
#: relative tolerance for floats (JSON round trip of the same double is exact; this only absorbs -0.0 vs 0.0)
FLOAT_RTOL = 0.0


def strip_run_specific(value: Any, ignored: frozenset[str] = RUN_SPECIFIC_KEYS) -> Any:
    """``value`` (parsed JSON) without the keys in ``ignored`` at any depth."""
    if isinstance(value, dict):
        return {k: strip_run_specific(v, ignored) for k, v in value.items() if k not in ignored}
    if isinstance(value, list):
        return [strip_run_specific(v, ignored) for v in value]
    return value


def json_differences(before: Any, after: Any, where: str = "$") -> list[str]:
    """Every place where two parsed JSON values differ, as ``path: before -> after`` lines (empty: equal).

    Floats compare exactly (NaN equals NaN); an int and a float of the same value are equal, as JSON
    does not tell them apart.
    """
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            if key not in after:
                out.append(f"{where}.{key}: only before")
            elif key not in before:
                out.append(f"{where}.{key}: only after")
            else:
                out += json_differences(before[key], after[key], f"{where}.{key}")
        return out
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return [f"{where}: {len(before)} items -> {len(after)} items"]
        return [d for i, (b, a) in enumerate(zip(before, after)) for d in json_differences(b, a, f"{where}[{i}]")]
    numbers = (int, float)
    if isinstance(before, numbers) and isinstance(after, numbers) and not isinstance(before, bool) \
            and not isinstance(after, bool):
        if (isinstance(before, float) and math.isnan(before)) and (isinstance(after, float) and math.isnan(after)):
            return []
        if before == after or (FLOAT_RTOL and math.isclose(before, after, rel_tol=FLOAT_RTOL)):
            return []
        return [f"{where}: {before!r} -> {after!r}"]
    if type(before) is not type(after) or before != after:
        return [f"{where}: {_short(before)} -> {_short(after)}"]
    return []


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _xlsx_cells(path: Path) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook  # only when an XLSX is compared

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}
    finally:
        book.close()


def compare_outputs(before: Path, after: Path) -> list[str]:
    """Differences between two report output folders (``--out`` of ``sales-workbook report``).

    Looks at every ``NN_topic.json`` results file and every ``04_payroll*`` file under each month
    folder; a file present on one side only is a difference. Returns readable lines, empty when equal.
    """
    before, after = Path(before), Path(after)
    wanted = lambda p: (p.suffix == ".json" and p.name[:2].isdigit() and p.name[2:3] == "_") \
        or p.name.startswith("04_payroll")  # noqa: E731
    files_before = {p.relative_to(before): p for p in before.rglob("*") if p.is_file() and wanted(p)}
    files_after = {p.relative_to(after): p for p in after.rglob("*") if p.is_file() and wanted(p)}
    out: list[str] = []
    if not files_before:
        out.append(f"{before}: no results files")
    for rel in sorted(set(files_before) | set(files_after)):
        if rel not in files_after:
            out.append(f"{rel}: only before")
            continue
        if rel not in files_before:
            out.append(f"{rel}: only after")
            continue
        a, b = files_before[rel], files_after[rel]
        if rel.suffix == ".json":  # a sentence naming the output folder names it the same way on both sides
            diffs = json_differences(
                strip_run_specific(json.loads(a.read_text(encoding="utf-8").replace(str(before), "<out>"))),
                strip_run_specific(json.loads(b.read_text(encoding="utf-8").replace(str(after), "<out>"))))
        elif rel.suffix == ".xlsx":
            diffs = json_differences(_xlsx_cells(a), _xlsx_cells(b))
        else:
            diffs = [] if a.read_bytes() == b.read_bytes() else ["bytes differ"]
        out += [f"{rel}: {d}" for d in diffs]
    return out


def build_report(code_dir: Path, data_dir: Path, out_dir: Path, *, jobs: int = 1) -> None:
    """``sales-workbook report`` with the project code in ``code_dir`` (this interpreter, PYTHONPATH=code_dir)
    and that checkout's ``workbook.toml`` (named explicitly: a report on a folder other than ``data/sample``
    otherwise looks for the folder's own configuration)."""
    env = {**os.environ, "PYTHONPATH": str(code_dir)}
    cmd = [sys.executable, "-m", "helpers.cli", "report", "--data", str(data_dir), "--out", str(out_dir),
           "--jobs", str(jobs), "--config", str(code_dir / "workbook.toml")]  # the sample's own settings
    proc = subprocess.run(cmd, cwd=code_dir, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"report at {code_dir} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "(no output)", file=sys.stderr)


def checkout(commit: str, where: Path) -> Path:
    """A detached worktree of ``commit`` at ``where`` (the repository's own git, nothing fetched)."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(where), commit],
                   check=True, capture_output=True, text=True)
    return where


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", nargs="?", default="4e8fed2", help="commit before the change")
    parser.add_argument("candidate", nargs="?", default="current",
                        help="commit after the change, or 'current' for this working tree (default)")
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: the baseline's data/sample)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="keep both builds under this folder")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"),
                        help="only compare two finished output folders")
    args = parser.parse_args(argv)
    if args.compare:
        diffs = compare_outputs(*args.compare)
    else:
        work = Path(tempfile.mkdtemp(prefix="compare-report-"))
        worktrees: list[Path] = []
        try:
            base_code = checkout(args.baseline, work / "baseline")
            worktrees.append(base_code)
            if args.candidate == "current":
                cand_code = ROOT
            else:
                cand_code = checkout(args.candidate, work / "candidate")
                worktrees.append(cand_code)
            data = (args.data or base_code / "data" / "sample").resolve()
            out = args.keep or work
            build_report(base_code, data, out / "before", jobs=args.jobs)
            build_report(cand_code, data, out / "after", jobs=args.jobs)
            diffs = compare_outputs(out / "before", out / "after")
        finally:
            for tree in worktrees:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                               capture_output=True)
            shutil.rmtree(work, ignore_errors=True)
    for line in diffs:
        print(line)
    print(f"{len(diffs)} difference(s)" if diffs else "identical apart from run-specific fields")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
