"""The monthly (and daily) report: run every numbered notebook, publish HTML, index and results.

``sales-workbook report`` is the workbook's main job. For a month it

1. opens the data (folder or database) once to find the default month (the last complete one),
   the data fingerprint, and which tables are present;
2. runs each ``notebooks/NN_topic.ipynb`` with papermill in its own kernel, passing only simple
   parameters (month, as-of date, config path, data folder, results file name); a notebook whose
   input tables are absent is *skipped* with the table it needs named on its card;
3. renders each executed notebook to a leadership HTML page in-process (no code, offline);
4. writes ``index.html`` with one card per report (headline, key figure, state) and ``run.json``;
5. moves the finished folder into place atomically: ``reports/YYYY-MM/`` is either the previous
   complete month or the new complete month, never half of one. Other months are never touched.

A failing notebook does not stop the others: its card says it failed, with the error and a link
to the executed notebook, and the command exits 1. Ctrl-C or SIGTERM stops the kernels and
removes the temporary folder.

Daily mode (``--daily``) runs only the notebooks that declare ``"daily": true`` in their metadata
(the SLA "do not be on it" list and marketing's lead-value pacing) into ``reports/daily/YYYY-MM-DD/``.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from helpers import __version__
from helpers.core.registry import REPORTS
from helpers.core.periods import is_month, month_name
from helpers.paths import KERNEL_NAME, NOTEBOOKS_DIR
from helpers.reporting.data_support import (ensure_kernel, has_dated_rows, parts_notes, supported_parts,
                                            undated_check)
# the run records and the publishing step live beside this module; their names stay importable from here
from helpers.reporting.publish import FolderLock, _carry_over, _publish, _write_index, clean_stale_temporaries
from helpers.reporting.runs import NotebookRun, NotebookSpec, ReportError, ReportResult

_NOTEBOOK_NAME = re.compile(r"^(\d{2})_[a-z0-9_]+\.ipynb$")
_ERROR_CHARS = 600


# ----------------------------------------------------------------------------- discovery
def read_notebook_spec(path: Path) -> NotebookSpec:
    """A notebook's title, tables needed and daily mode, without a kernel: from the registry of reports
    (:mod:`helpers.core.registry`) for a numbered report, else from its ``metadata["sales_workbook"]``."""
    match = _NOTEBOOK_NAME.match(path.name)
    if not match:
        raise ReportError(f"{path.name}: report notebooks are named NN_topic.ipynb (two digits, lower-case topic)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("sales_workbook", {})
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not a valid notebook ({exc}); restore it from git") from None
    stem = path.stem
    entry = REPORTS.get(stem)
    if entry is not None:  # a numbered report: the registry decides (its metadata repeats the entry)
        return NotebookSpec(path=path, stem=stem, number=match.group(1), title=entry.title, needs=entry.needs,
                            uses=entry.uses, daily=entry.daily)
    return NotebookSpec(path=path, stem=stem, number=match.group(1), title=str(meta.get("title") or stem),
                        needs=tuple(meta.get("needs", ())), uses=tuple(meta.get("uses", ())),
                        daily=bool(meta.get("daily", False)))


def discover_notebooks(notebooks_dir: Path = NOTEBOOKS_DIR, *, only: list[str] | None = None,
                       daily: bool = False) -> list[NotebookSpec]:
    """The numbered notebooks to run, in order; ``only`` selects by number (``"03"``) or name."""
    specs = [read_notebook_spec(p) for p in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))]
    if not specs:
        raise ReportError(f"no numbered notebooks (NN_topic.ipynb) in {notebooks_dir}")
    if only:
        wanted = {w.strip().removesuffix(".ipynb") for w in only}
        known = {s.number for s in specs} | {s.stem for s in specs}
        unknown = sorted(wanted - known)
        if unknown:
            raise ReportError(f"--only {' '.join(unknown)}: no such notebook; choose from "
                              f"{', '.join(s.number for s in specs)}")
        specs = [s for s in specs if s.number in wanted or s.stem in wanted]
    if daily:
        specs = [s for s in specs if s.daily]
        if not specs:
            raise ReportError("no selected notebook declares a daily mode (metadata sales_workbook.daily)")
    return specs


# ----------------------------------------------------------------------------- kernels
_LIVE_KERNELS: set[Any] = set()
_LIVE_LOCK = threading.Lock()
_RENDER_LOCK = threading.Lock()


def _tracked_kernel_manager_class():
    """An AsyncKernelManager that registers itself while its kernel runs, so an interrupt can stop it."""
    from jupyter_client.manager import AsyncKernelManager

    class TrackedKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            # the kernel's own log lines (transport warnings, shutdown notices) would garble the progress
            # bar; errors inside the notebook are recorded in the executed notebook instead
            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            await super().start_kernel(**kw)
            with _LIVE_LOCK:
                _LIVE_KERNELS.add(self)

        async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:  # type: ignore[override]
            try:
                await super().shutdown_kernel(now=now, restart=restart)
            finally:
                with _LIVE_LOCK:
                    _LIVE_KERNELS.discard(self)

    return TrackedKernelManager


def _kill_live_kernels() -> int:
    """Kill the process group of every kernel still running (used on interrupt); returns how many."""
    with _LIVE_LOCK:
        managers = list(_LIVE_KERNELS)
        _LIVE_KERNELS.clear()
    killed = 0
    for km in managers:  # at most --jobs kernels
        process = getattr(getattr(km, "provisioner", None), "process", None)
        pid = getattr(process, "pid", None)
        if pid is None:
            continue
        try:
            os.killpg(pid, signal.SIGKILL)  # kernels run in their own session: kill them and their children
        except (ProcessLookupError, PermissionError, OSError):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
        killed += 1
    return killed


# ----------------------------------------------------------------------------- one notebook
def _error_summary(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:  # papermill.PapermillExecutionError
        evalue = str(getattr(exc, "evalue", "")).strip()
        count = getattr(exc, "exec_count", None)
        where = f" (in cell [{count}])" if count else ""
        text = f"{ename}: {evalue}{where}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = re.sub(r"\x1b\[[0-9;]*m", "", text).strip()  # ANSI colours from tracebacks
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 1] + "\u2026"


def _cells_seconds(nb: Any) -> float | None:
    """Time spent executing cells, from the timestamps nbclient records in cell metadata."""
    total = 0.0
    seen = False
    for cell in nb.cells:  # a notebook's cells
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            total += (datetime.fromisoformat(end.replace("Z", "+00:00"))
                      - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
            seen = True
    return round(total, 3) if seen else None


# A scheduled run must end: a cell still running after this long fails its notebook (the card says
# so) instead of holding the whole report. Generous: the 50x benchmark org's slowest cell takes seconds.
CELL_TIMEOUT_SECONDS = int(os.environ.get("SALES_WORKBOOK_CELL_TIMEOUT", "1800"))


def scheduled_notebook(path: Path, notes: tuple[str, ...] | list[str] = ()) -> Any:
    """The notebook as a scheduled run executes it: without its ``analyst-only`` cells (and with a
    "Data note" under its title for each of ``notes``: a table with no rows in the month, say).

    Those cells are for JupyterLab (widgets, raw tables); the leadership page never shows them,
    and interactive widgets executed headless can leave nbclient waiting for a reply that never
    comes (jupyter/nbclient#312), so the report does not run them at all. Nothing after them may
    depend on them (tests/test_notebooks_conventions.py checks it).
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "analyst-only" not in c.get("metadata", {}).get("tags", [])]
    if notes:  # what the data lacks this month, right under the page's title, before any figure
        at = next((i + 1 for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), 0)
        note = nbformat.v4.new_markdown_cell("\n>\n".join(f"> **Data note:** {n}" for n in notes),
                                             id="data-notes")  # fixed: re-runs publish the same bytes
        note.metadata["tags"] = ["data-note"]
        nb.cells.insert(at, note)
    return nb


def _notebook_parameters(spec: NotebookSpec, parameters: dict[str, Any], *,
                         reports_dir: Path | None) -> dict[str, Any]:
    """The run's parameters, plus ``previous_results_dir`` (the reports folder this run publishes into,
    which holds the earlier months' folders) for a notebook whose parameters cell declares it: that
    notebook reads last month's results even when ``--out`` overrides the configured folder."""
    if reports_dir is None:
        return parameters
    import nbformat

    cells = nbformat.read(spec.path, as_version=4).cells
    declared = any(c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
                   and re.search(r"^previous_results_dir\s*:", c.source, re.M) for c in cells)
    return {**parameters, "previous_results_dir": str(reports_dir)} if declared else parameters


def _run_one(spec: NotebookSpec, *, folder: Path, parameters: dict[str, Any], kernel_name: str,
             organisation: str, period_text: str, cancelled: threading.Event,
             notes: tuple[str, ...] = ()) -> NotebookRun:
    """Execute, render and read back one notebook. Never raises for a notebook's own failure."""
    import logging

    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.ERROR)  # its per-cell INFO/WARNING lines drown the summary
    run = NotebookRun(notebook=spec.stem, number=spec.number, title=spec.title, state="ok")
    started = time.perf_counter()
    try:
        if cancelled.is_set():
            raise ReportError("cancelled before it started")
        pm.execute_notebook(scheduled_notebook(spec.path, notes), str(folder / f"{spec.stem}.ipynb"),
                            parameters={**parameters, "results_path": f"{spec.stem}.json"}, kernel_name=kernel_name,
                            progress_bar=False, log_output=False, start_timeout=120,
                            execution_timeout=CELL_TIMEOUT_SECONDS,
                            # the kernel starts in `folder`; papermill's own `cwd=` would os.chdir the whole
                            # process, which races when --jobs runs notebooks in threads
                            resources={"metadata": {"path": str(folder)}},
                            kernel_manager_class=_tracked_kernel_manager_class())
    except Exception as exc:  # noqa: BLE001 - isolate: the card reports it, the other notebooks go on
        run.state, run.error = "failed", _error_summary(exc)
    run.execute_seconds = round(time.perf_counter() - started, 3)
    _finish_run(run, spec, folder=folder, organisation=organisation, period_text=period_text)
    run.warnings = list(notes) + [w for w in run.warnings if w not in notes]
    run.seconds = round(time.perf_counter() - started, 3)
    return run


def _papermill_error(nb: Any) -> str:
    """The error summary of a notebook papermill executed and marked as failed (else empty)."""
    if not nb.metadata.get("papermill", {}).get("exception"):
        return ""
    for cell in nb.cells:  # the failing cell carries an error output
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return _error_summary(type("CellError", (Exception,), {
                    "ename": out.get("ename"), "evalue": out.get("evalue"),
                    "exec_count": cell.get("execution_count")})())
    return "the notebook raised an exception (see the executed notebook)"


def _finish_run(run: NotebookRun, spec: NotebookSpec, *, folder: Path, organisation: str, period_text: str) -> None:
    """After execution: read the results file, render the leadership HTML, record files and timings."""
    import nbformat

    from helpers.reporting.html import render_report_html
    from helpers.core.results import ResultsError, load_results

    ipynb_name, results_name, html_name = f"{spec.stem}.ipynb", f"{spec.stem}.json", f"{spec.stem}.html"
    if (folder / ipynb_name).exists():
        run.files["ipynb"] = ipynb_name
    if run.state != "ok":
        return
    try:
        render_started = time.perf_counter()
        nb = nbformat.read(folder / ipynb_name, as_version=4)
        failure = _papermill_error(nb)
        if failure:
            run.state, run.error = "failed", failure
            return
        results = load_results(folder / results_name)
        run.files["results"] = results_name
        run.headline = results.headline
        run.key_figure = asdict(results.key_figure) if results.key_figure else None
        run.warnings = list(results.warnings)
        run.cells_seconds = _cells_seconds(nb)
        with _RENDER_LOCK:  # nbconvert exporters keep state; rendering is CPU-bound anyway
            page = render_report_html(nb, title=spec.title, organisation=organisation, period=period_text,
                                      footer=f"Sales Science Workbook {__version__} \u00b7 {spec.stem}",
                                      results=results)
        (folder / html_name).write_text(page, encoding="utf-8")
        run.files["html"] = html_name
        run.render_seconds = round(time.perf_counter() - render_started, 3)
    except ResultsError as exc:
        run.state, run.error = "failed", f"The notebook ran but its results are unusable: {exc}"
    except Exception as exc:  # noqa: BLE001 - a rendering failure is this report's failure only
        run.state, run.error = "failed", f"Rendering the report failed: {_error_summary(exc)}"


# ----------------------------------------------------------------------------- the whole report
def _resolve_dates(source: Any, *, month: str | None, as_of: str | None, daily: bool,
                   period: Any = None) -> tuple[str, str]:
    """The month and as-of date the report is for (defaults from the data; ``period``: the source's
    ``data_period`` when the caller has it already)."""
    from helpers.reporting.context import ReportParameterError, month_bounds, parse_as_of, parse_month

    try:
        if daily:
            if as_of:
                day = parse_as_of(as_of)
            else:
                from helpers.data.reductions import data_period
                from helpers.reporting.context import _period_bounds

                _, end = _period_bounds(period if period is not None else data_period(source))
                day = min(end, date.today()) if end else date.today()
            return (parse_month(month) if month else day.strftime("%Y-%m")), day.isoformat()
        if month:
            month = parse_month(month)
        else:
            from helpers.data.reductions import last_complete_month

            month = parse_month(str(last_complete_month(source, period=period))[:7])
        _, after = month_bounds(month)
        day = parse_as_of(as_of) if as_of else after - timedelta(days=1)
        return month, day.isoformat()
    except ReportParameterError as exc:
        raise ReportError(str(exc)) from None


def _raise_interrupt(signum: int, frame: Any) -> None:  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt(f"signal {signum}")


def _in_child_process(func: Any, *args: Any) -> Any:
    """Run ``func(*args)`` in a fresh child process and return its result (or raise its exception).

    Validation reads every table (1.7 GB at its peak on 10 million activities); in a child that
    memory goes back to the system when it exits, instead of staying with the report process while
    the notebooks run. See :mod:`helpers.reporting.child` for why it is not a fork.
    """
    from helpers.reporting.child import run_in_child

    return run_in_child(func, *args)


def _validate_before_run(config: Any) -> tuple[str, ...]:
    """The same check as ``sales-workbook validate``, before any kernel starts or anything is written."""
    from helpers.data.validate import DataValidationError, validate_folder

    if not Path(config.data_dir).is_dir():
        raise ReportError(f"data folder {config.data_dir} does not exist; pass --data DIR or set [data] dir")
    validation = _in_child_process(validate_folder, config.data_dir, config)  # a report: pickles, unlike the error
    try:
        if not validation.ok:
            raise DataValidationError(validation)
    except DataValidationError as exc:
        raise ReportError(f"the data in {config.data_dir} failed validation, so no report was written.\n"
                          f"{exc.report.format()}") from None
    for problem in validation.warnings:
        text = str(problem)
        print(text if text.startswith("warning") else f"warning: {text}", file=sys.stderr)
    # rows left out under [data] on_bad_rows = "quarantine": counted and listed on the index and in run.json
    return tuple(f"{p.count:,} row(s) of {p.file} quarantined ({p.where}): {p.message.split(': ', 1)[1]}"
                 for p in validation.warnings if p.message.startswith("Quarantined"))


@dataclass
class _Plan:
    """Everything decided before the first kernel starts."""

    config: Any
    specs: list[NotebookSpec]
    runs: dict[str, NotebookRun]  # pre-filled with the skipped ones
    mode: Literal["monthly", "daily"]
    daily: bool
    month: str
    as_of: str
    label: str
    final: Path
    fingerprint: str
    data_description: str
    parameters: dict[str, Any]
    period_text: str
    selected: frozenset[str] = frozenset()  # the notebooks this run executes (all unless --only)
    data_notes: tuple[str, ...] = ()  # about the whole month (on the index)
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per notebook (on its card and page)
    parts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per notebook: which parts the data supports


#: Tables that place the month's sales work in time: a month with none of their rows is not covered by the data.
CORE_MONTH_TABLES = ("activities", "leads", "deals")
#: Tables without whose rows in the month a report that *needs* them would state zeros as facts: it is skipped.
REFUSED_WHEN_EMPTY = ("activities", "leads")
#: A daily run for a day more than this many days after the data's last day is refused: the export has stopped,
#: and every open lead would read as overdue. Within it (a weekend, a holiday, the morning's run before
#: today's export) the page says how old the data is.
DAILY_MAX_DAYS_AFTER_DATA = 7
#: Tables whose rows on the day the daily pages count (touches and new leads); deals are not: many days have none.
DAILY_CORE_TABLES = ("activities", "leads")


@dataclass(frozen=True)
class MonthCheck:
    """What the data says about the report's month, decided before any notebook starts."""

    data_start: date
    data_end: date
    rows_in_month: dict[str, int]  # present core tables -> rows dated in the month
    notes: tuple[str, ...]  # about the whole month
    empty: tuple[str, ...]  # present core tables with no row in the month


def check_month(source: Any, *, month: str, as_of: str, daily: bool = False, period: Any = None) -> MonthCheck:
    """Refuse a month the data does not cover; name what the data lacks in a month it does cover.

    Raises :class:`ReportError` (exit 2) when ``month`` lies before the data's first or after its last
    day, or when none of activities, leads and deals has a row dated in it. Returns the month's notes:
    a table present but empty in the month, or data that starts or ends inside the month. For a daily
    run (``daily``) the day itself is checked as well (:func:`check_day`). ``period``: the source's
    ``data_period`` when the caller has it already (it costs a query per table).
    """
    from helpers.data.reductions import data_period
    from helpers.reporting.context import _period_bounds, compute_table_overview, month_bounds

    try:
        start, end = _period_bounds(period if period is not None else data_period(source))
    except Exception as exc:  # noqa: BLE001 - no dated rows at all: nothing to report on
        raise ReportError(f"the data has no dated activities, leads or deals, so no month can be reported: {exc}") \
            from None
    if start is None or end is None:
        raise ReportError("the data has no dated activities, leads or deals, so no month can be reported")
    first, after = month_bounds(month)
    label = month_name(month)
    covered = (f"the data runs from {start.isoformat()} to {end.isoformat()} "
               f"({month_name(start.strftime('%Y-%m'))} to {month_name(end.strftime('%Y-%m'))})")
    what = f"the day {as_of}" if daily else label
    if after <= start or first > end:
        side = "before the data starts" if after <= start else "after the data ends"
        raise ReportError(f"{what} is {side}: {covered}. Choose a month in that period "
                          "(or leave --month out for the last complete one), or export data that covers it.")
    if daily and date.fromisoformat(as_of) < start:
        raise ReportError(f"the day {as_of} is before the data starts: {covered}. Choose a day in that period.")
    # a table with no date at all (deals exported without created_at) places nothing in time: not counted
    present = [t for t in CORE_MONTH_TABLES if source.has(t) and has_dated_rows(source, t)]
    if daily:  # the day's lists are about open leads as of the day: the day's rows are checked, not the month's
        return check_day(source, day=date.fromisoformat(as_of), start=start, end=end, present=present,
                         covered=covered)
    overview = compute_table_overview(source, present, month=month)
    rows = {t: int(n) for t, n in zip(overview["table"], overview["rows_in_month"].fillna(0))}
    if present and not any(rows.values()):
        raise ReportError(f"{label} has no rows in {', '.join(present)}, although {covered}: the data has a gap "
                          "there. Choose another month, or export the missing rows.")
    notes = []
    if first < start:
        notes.append(f"The data starts on {start.isoformat()}, after {label} begins: this month's figures "
                     "cover only part of it.")
    if end < after - timedelta(days=1):
        notes.append(f"The data ends on {end.isoformat()}, before {label} ends: this month's figures "
                     "cover only part of it.")
    empty = tuple(t for t in present if rows[t] == 0)
    for table in empty:
        notes.append(f"No {table} are recorded in {label}, although {covered}. Figures that count {table} "
                     f"this month read zero because nothing was logged, not because nothing happened.")
    return MonthCheck(data_start=start, data_end=end, rows_in_month=rows, notes=tuple(notes), empty=empty)


def rows_on_day(source: Any, tables: list[str] | tuple[str, ...], day: date) -> dict[str, int]:
    """Rows of each table whose time column (``context.TIME_COLUMNS``) falls on ``day`` (UTC), counted in
    the engine: one aggregate query per table."""
    from helpers.reporting.context import rows_dated_between

    return {name: rows_dated_between(source, name, day, day + timedelta(days=1)) for name in tables}


def check_day(source: Any, *, day: date, start: date, end: date, present: list[str], covered: str) -> MonthCheck:
    """A daily run's day against the data (``start`` <= ``day`` is already checked).

    Refused (exit 2) when ``day`` is more than :data:`DAILY_MAX_DAYS_AFTER_DATA` days after the data's last
    day: the export has stopped and the dashboard would list every open lead as overdue. Otherwise its
    notes say what the day lacks, for the index and the daily pages that use the table: the data ends
    before the day (what was logged since is missing), or a core table is present but has no row dated
    on the day (no activities logged that day: a lead looks untouched because nothing was recorded; no
    leads: the day's pace reads zero); deals are not checked, as many days close or open none.
    Never refused for a day without rows: weekends and holidays have none, and the list of open leads
    still holds.
    """
    label = f"{day.isoformat()} ({day:%A})"
    late = (day - end).days
    if late > DAILY_MAX_DAYS_AFTER_DATA:
        raise ReportError(f"the day {day.isoformat()} is {late} days after the data ends: {covered}. A daily "
                          f"dashboard needs data up to at most {DAILY_MAX_DAYS_AFTER_DATA} days before its day, "
                          "or every open lead reads as overdue. Export newer data, or choose a day up to "
                          f"{end.isoformat()} with --as-of.")
    if late > 0:
        note = (f"The data ends on {end.isoformat()}, {late} day{'s' if late > 1 else ''} before {label}: "
                "anything logged since is not in this dashboard, so a lead listed as waiting may have been "
                "contacted already. Export newer data for an up-to-date list.")
        return MonthCheck(data_start=start, data_end=end, rows_in_month={}, notes=(note,), empty=())
    present = [t for t in present if t in DAILY_CORE_TABLES]
    rows = rows_on_day(source, present, day)
    notes = tuple(f"No {table} are recorded on {label}, although {covered}. Figures that count {table} on that "
                  "day read zero because nothing was logged, not necessarily because nothing happened"
                  + (" (a weekend or a holiday?)." if day.weekday() >= 5 else
                     ": check that the export includes that day.")
                  for table in present if rows[table] == 0)
    # ``empty`` stays empty: one day without rows is common (weekends), so no daily page is refused for it
    return MonthCheck(data_start=start, data_end=end, rows_in_month=rows, notes=notes, empty=())


def _plan(*, month: str | None, as_of: str | None, config_path: str | Path | None, data_dir: str | Path | None,
          out_dir: str | Path | None, only: list[str] | None, daily: bool,
          notebooks_dir: str | Path | None) -> _Plan:
    from helpers.core.config import load_config_for_data
    from helpers.data.engine import DataSourceError, open_source

    config = load_config_for_data(config_path, data_dir)  # --data without --config: never the sample's name or goal
    out_root = Path(out_dir).resolve() if out_dir is not None else config.output_dir
    notebooks_path = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    selected = frozenset(s.stem for s in discover_notebooks(notebooks_path, only=only, daily=daily))
    specs = discover_notebooks(notebooks_path, daily=daily)  # all of them: the index lists every report
    quarantined: tuple[str, ...] = ()
    if data_dir is not None or config.database_url is None:
        quarantined = _validate_before_run(config)
    try:
        source = open_source(config, data_dir=config.data_dir if data_dir is not None else None)
    except DataSourceError as exc:
        raise ReportError(str(exc)) from None
    try:
        from helpers.data.reductions import data_period

        try:  # once: each call queries every core table
            period = data_period(source)
        except Exception:  # noqa: BLE001 - no core table or no dated row: undated_check and check_month say it
            period = None
        undated = undated_check(source, month=month, as_of=as_of, daily=daily, period=period)
        if undated is not None:  # an export without any date (deals with seller and outcome, an A/B table)
            month, as_of_day, checked = undated
        else:
            month, as_of_day = _resolve_dates(source, month=month, as_of=as_of, daily=daily, period=period)
            checked = check_month(source, month=month, as_of=as_of_day, daily=daily, period=period)
        fingerprint = source.fingerprint()
        missing = {s.stem: [t for t in s.needs if not source.has(t)] for s in specs}
        parts = {s.stem: supported_parts(source, s.stem) for s in specs}
        data_description = getattr(source, "description", "") if getattr(source, "kind", "") == "folder" else \
            "database (URL from the environment)"
    except DataSourceError as exc:
        raise ReportError(str(exc)) from None
    except ReportError:
        raise
    except Exception as exc:  # noqa: BLE001 - the engine's own error (a row validation let through): named, not a traceback
        text = " ".join(str(exc).split())
        where = re.search(r"file = (\S+)", str(exc))
        raise ReportError(f"the data engine could not read {where.group(1) if where else 'the data'}: "
                          f"{text[:300]}. Run `sales-workbook validate` and correct the rows it names.") from None
    finally:
        source.close()
    runs = {s.stem: NotebookRun(notebook=s.stem, number=s.number, title=s.title, state="skipped",
                                skip_reason="needs " + ", ".join(missing[s.stem]))
            for s in specs if missing[s.stem]}
    for spec in specs:  # a report none of whose parts the data supports is skipped, saying what each lacks
        if spec.stem not in runs and parts[spec.stem] and not any(p["ran"] for p in parts[spec.stem]):
            runs[spec.stem] = NotebookRun(notebook=spec.stem, number=spec.number, title=spec.title, state="skipped",
                                          skip_reason="Not produced: " + parts_notes(parts[spec.stem])[0])
    month_text = f"the day {as_of_day}" if daily else month_name(month)
    notes: dict[str, tuple[str, ...]] = {}
    for spec in specs:  # a handful of notebooks
        if spec.stem in runs:
            continue
        refused = [t for t in spec.needs if t in checked.empty and t in REFUSED_WHEN_EMPTY]
        if refused:
            runs[spec.stem] = NotebookRun(
                notebook=spec.stem, number=spec.number, title=spec.title, state="skipped",
                skip_reason=f"Not produced: no {' and no '.join(refused)} are recorded in {month_text}, and this "
                            f"report would read that as fact. Export the month's {', '.join(refused)} to get it.",
                warnings=[n for n in checked.notes if any(f"No {t} " in n for t in refused)])
            continue
        used = set(spec.needs) | set(spec.uses)
        notes[spec.stem] = tuple(n for n in checked.notes
                                 if not n.startswith("No ") or any(n.startswith(f"No {t} ") for t in used))
        notes[spec.stem] += parts_notes(parts[spec.stem])  # a part whose data is absent: one line
    label = as_of_day if daily else month
    parent = out_root / "daily" if daily else out_root
    parent.mkdir(parents=True, exist_ok=True)
    parameters: dict[str, Any] = {
        "month": month, "as_of": str(as_of).strip() if as_of else as_of_day,  # a date and time reaches the notebooks
        "config_path": str(config.source_file) if config.source_file else "",
        "data_dir": str(config.data_dir) if data_dir is not None else "",
    }
    if daily:
        parameters["daily"] = True
    return _Plan(config=config, specs=specs, runs=runs, mode="daily" if daily else "monthly", daily=daily,
                 month=month, as_of=as_of_day, label=label, final=parent / label, fingerprint=fingerprint,
                 data_description=data_description, parameters=parameters,
                 period_text=f"Daily, as of {as_of_day}" if daily else f"{month_name(month)} (as of {as_of_day})",
                 selected=selected, data_notes=checked.notes + quarantined, notes=notes, parts=parts)


def build_report(*, month: str | None = None, as_of: str | None = None, config_path: str | Path | None = None,
                 data_dir: str | Path | None = None, out_dir: str | Path | None = None,
                 only: list[str] | None = None, jobs: int = 1, daily: bool = False,
                 notebooks_dir: str | Path | None = None, kernel_name: str = KERNEL_NAME,
                 progress: bool = True, remove_private: bool = False) -> ReportResult:
    """Run the notebooks and publish ``<out>/YYYY-MM/`` (or ``<out>/daily/YYYY-MM-DD/``) atomically.

    Raises :class:`ReportError` for a request that cannot be honoured (bad month, a month the data does
    not cover, unknown notebook, missing data folder, another run writing into the same folder); a
    notebook's own failure is reported in the result instead. With ``only`` the other reports of the
    month already published are kept (the index lists them all); the month's private pages are kept
    unless ``remove_private``.
    """
    wall_started = time.perf_counter()
    if jobs < 1:
        raise ReportError(f"--jobs {jobs}: give a positive number of notebooks to run in parallel")
    plan = _plan(month=month, as_of=as_of, config_path=config_path, data_dir=data_dir, out_dir=out_dir, only=only,
                 daily=daily, notebooks_dir=notebooks_dir)
    specs, runs, label, daily = plan.specs, plan.runs, plan.label, plan.daily
    config, month, as_of_day = plan.config, plan.month, plan.as_of
    tmp = plan.final.parent / f".tmp-{label}-{secrets.token_hex(4)}"
    to_run = [s for s in specs if s.stem in plan.selected and s.stem not in runs]
    period_text = plan.period_text
    lock = FolderLock(plan.final.parent).__enter__()  # stops here if another run writes into the folder
    clean_stale_temporaries(plan.final.parent)
    if to_run:
        ensure_kernel(kernel_name)

    cancelled = threading.Event()
    in_main = threading.current_thread() is threading.main_thread()
    previous_handler = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main else None
    pool = ThreadPoolExecutor(max_workers=min(jobs, max(1, len(to_run))), thread_name_prefix="notebook")
    futures: dict[Future[NotebookRun], NotebookSpec] = {}
    bar = None
    try:
        tmp.mkdir()
        from tqdm import tqdm

        bar = tqdm(total=len(specs), desc=f"report {label}", unit="notebook", file=sys.stderr,
                   disable=not progress, leave=True, dynamic_ncols=True)
        for skipped in runs.values():
            bar.update(1)
            if progress:
                bar.write(f"  skipped  {skipped.notebook}  ({skipped.skip_reason})", file=sys.stderr)
        for spec in to_run:
            params = _notebook_parameters(spec, plan.parameters, reports_dir=None if daily else plan.final.parent)
            futures[pool.submit(_run_one, spec, folder=tmp, parameters=params, kernel_name=kernel_name,
                                organisation=config.organisation, period_text=period_text,
                                cancelled=cancelled, notes=plan.notes.get(spec.stem, ()))] = spec
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                run = future.result()
                runs[run.notebook] = run
                bar.update(1)
                if progress:
                    timing = f"{run.seconds:5.1f} s"
                    if run.render_seconds is not None:
                        timing += f" (run {run.execute_seconds:.1f} s, html {run.render_seconds:.1f} s)"
                    bar.write(f"  {run.state:<7}  {run.notebook:<34} {timing}"
                              + (f"\n           {run.error}" if run.error else ""), file=sys.stderr)
        partial = plan.selected != {s.stem for s in specs}
        kept = _carry_over(plan.final, tmp, rerun={s.stem for s in specs if s.stem in plan.selected or s.stem in runs},
                           keep_private=not remove_private, keep_others=partial)
        for spec in specs:
            if spec.stem not in runs:
                runs[spec.stem] = kept.get(spec.stem) or NotebookRun(
                    notebook=spec.stem, number=spec.number, title=spec.title, state="skipped",
                    skip_reason="Not run yet this month (the last run was limited with --only); run "
                                f"`sales-workbook report --month {month} --only {spec.number}` to add it.")
        ordered = [runs[s.stem] for s in specs]
        wall = time.perf_counter() - wall_started
        _write_index(tmp, plan, runs=ordered, wall_seconds=wall, jobs=jobs)
        _publish(tmp, plan.final)
    except BaseException:
        cancelled.set()
        pool.shutdown(wait=False, cancel_futures=True)
        _kill_live_kernels()
        wait(set(futures), timeout=15)  # running notebooks fail fast once their kernel is gone
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        pool.shutdown(wait=True)
        if bar is not None:
            bar.close()
        if in_main and previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
        lock.__exit__()
    return ReportResult(folder=plan.final, mode=plan.mode, label=label, month=month, as_of=as_of_day, runs=ordered,
                        wall_seconds=round(time.perf_counter() - wall_started, 3), fingerprint=plan.fingerprint)


def publish_executed(staging: str | Path, *, month: str | None = None, as_of: str | None = None,
                     config_path: str | Path | None = None, data_dir: str | Path | None = None,
                     out_dir: str | Path | None = None, daily: bool = False,
                     notebooks_dir: str | Path | None = None) -> ReportResult:
    """Publish notebooks another scheduler already executed (e.g. Airflow's PapermillOperator).

    ``staging`` holds ``NN_topic.ipynb`` executed with papermill and the ``NN_topic.json`` results
    they wrote. This renders the HTML, writes the index and moves the month into place exactly as
    :func:`build_report` does; a notebook missing from ``staging`` is marked failed ("not executed")
    unless its tables are absent (skipped). ``staging`` itself is left as it is.
    """
    wall_started = time.perf_counter()
    staging = Path(staging)
    if not staging.is_dir():
        raise ReportError(f"staging folder {staging} does not exist: point it at the executed notebooks")
    plan = _plan(month=month, as_of=as_of, config_path=config_path, data_dir=data_dir, out_dir=out_dir, only=None,
                 daily=daily, notebooks_dir=notebooks_dir)
    tmp = plan.final.parent / f".tmp-{plan.label}-{secrets.token_hex(4)}"
    lock = FolderLock(plan.final.parent).__enter__()
    clean_stale_temporaries(plan.final.parent)
    try:
        tmp.mkdir()
        runs = dict(plan.runs)
        for spec in plan.specs:  # six notebooks, not events
            if spec.stem in runs:
                continue
            run = NotebookRun(notebook=spec.stem, number=spec.number, title=spec.title, state="ok")
            for suffix in (".ipynb", ".json"):
                if (staging / f"{spec.stem}{suffix}").exists():
                    shutil.copy2(staging / f"{spec.stem}{suffix}", tmp / f"{spec.stem}{suffix}")
            if not (tmp / f"{spec.stem}.ipynb").exists():
                run.state, run.error = "failed", f"not executed: {spec.stem}.ipynb is not in {staging}"
            _finish_run(run, spec, folder=tmp, organisation=plan.config.organisation, period_text=plan.period_text)
            runs[spec.stem] = run
        _carry_over(plan.final, tmp, rerun=set(), keep_private=True, keep_others=False)
        ordered = [runs[s.stem] for s in plan.specs]
        wall = time.perf_counter() - wall_started
        _write_index(tmp, plan, runs=ordered, wall_seconds=wall, jobs=0)
        _publish(tmp, plan.final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        lock.__exit__()
    return ReportResult(folder=plan.final, mode=plan.mode, label=plan.label, month=plan.month, as_of=plan.as_of,
                        runs=ordered, wall_seconds=round(time.perf_counter() - wall_started, 3),
                        fingerprint=plan.fingerprint)


def format_summary(result: ReportResult) -> str:
    """The closing lines of the command: what succeeded, what failed, where the index is."""
    counts = {s: sum(r.state == s for r in result.runs) for s in ("ok", "failed", "skipped")}
    what = f"day {result.label}" if result.mode == "daily" else month_name(result.month)
    lines = [f"Report for {what}: {counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped "
             f"in {result.wall_seconds:.1f} s"]
    for run in result.runs:
        if run.state == "failed":
            lines.append(f"  FAILED  {run.notebook}: {run.error}")
            if run.files.get("ipynb"):
                lines.append(f"          see {result.folder / run.files['ipynb']}")
        elif run.state == "skipped":
            lines.append(f"  skipped {run.notebook}: {run.skip_reason}")
    lines.append(f"Index: {result.index_path}")
    return "\n".join(lines)


def cli_report(month: str | None, as_of: str | None, config_path: Path | None, data_dir: Path | None,
               out_dir: Path | None, only: list[str] | None, jobs: int, daily: bool,
               remove_private: bool = False) -> int:
    """``sales-workbook report``: 0 when every report ran (or was skipped for lack of data), 1 if one failed."""
    if month is not None and not is_month(month):
        print(f"sales-workbook report: --month {month!r} is not YYYY-MM (e.g. 2026-10)", file=sys.stderr)
        return 2
    try:
        result = build_report(month=month, as_of=as_of, config_path=config_path, data_dir=data_dir, out_dir=out_dir,
                              only=only, jobs=jobs, daily=daily, progress=True, remove_private=remove_private)
    except ReportError as exc:
        print(f"sales-workbook report: {exc}", file=sys.stderr)
        return 2
    print(format_summary(result))
    return 0 if result.ok else 1
