"""What a report can say from the data it was given (issue 18, real data first).

* :func:`undated_check` - an export without any date (deals with a seller and an outcome, an A/B table)
  still gets a month: the one asked for, else the last complete calendar month before today, with a note.
* :func:`supported_parts` / :func:`parts_notes` - which parts of a report the data supports
  (:data:`helpers.core.contract.ANALYSIS_PARTS`) and the one line each unsupported part shows.
* :func:`ensure_kernel` - the notebooks' kernel, registered on first use after a plain ``pip install``.
"""
from __future__ import annotations

import sys
from datetime import date, timedelta
from typing import Any

from helpers.core.contract import ANALYSIS_PARTS, part_note, part_status
from helpers.paths import KERNEL_NAME

#: Tables that place sales work in time (as the report pipeline's CORE_MONTH_TABLES).
CORE_MONTH_TABLES = ("activities", "leads", "deals")


def supported_parts(source: Any, notebook: str) -> list[dict[str, Any]]:
    """The parts of ``notebook`` and whether ``source`` holds what each needs."""
    return part_status(ANALYSIS_PARTS.get(notebook, ()), source.has, source.present_columns)


def parts_notes(parts: list[dict[str, Any]]) -> tuple[str, ...]:
    """One note naming the parts shown and, for each part not shown, what the data lacks (empty if all ran)."""
    off = [p for p in parts if not p["ran"]]
    if not off:
        return ()
    shown = [str(p["label"]) for p in parts if p["ran"]]
    return (("Shown: " + "; ".join(shown) + ". " if shown else "") + " ".join(part_note(p) for p in off),)


def ensure_kernel(kernel_name: str = KERNEL_NAME) -> str:
    """The kernel the notebooks run in, registered on first use: no separate step after ``pip install``.

    When no kernel spec of that name is found, one running this very Python is written into this
    environment's prefix (``<prefix>/share/jupyter/kernels/<name>``, on Jupyter's search path), or into
    the user's Jupyter folder when the prefix is read-only. Returns the spec's folder.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return KernelSpecManager().get_kernel_spec(kernel_name).resource_dir
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    try:
        return install(kernel_name=kernel_name, display_name="Sales Science Workbook", prefix=sys.prefix)
    except OSError:  # a read-only (system) prefix
        return install(kernel_name=kernel_name, display_name="Sales Science Workbook", user=True)


def undated_check(source: Any, *, month: str | None, as_of: str | None,
                  daily: bool, period: Any = None) -> tuple[str, str, Any] | None:
    """For data with no dated activity, lead or deal at all: the month (given, else the last complete
    calendar month before today), its as-of day and a note that every row counts. None for dated data
    (at once when the caller passes the source's ``data_period`` as ``period``)."""
    from helpers.data.reductions import data_period

    if period is not None:
        return None
    from helpers.reporting.context import ReportParameterError, month_bounds, parse_as_of, parse_month

    present = [t for t in CORE_MONTH_TABLES if source.has(t)]
    try:
        data_period(source)
        return None
    except Exception:  # noqa: BLE001 - no core table, or no dated row in them
        if any(source.has(t) and has_dated_rows(source, t) for t in present):
            return None  # a real error of dated data: check_month says it
    try:
        if daily:
            day = parse_as_of(as_of) if as_of else date.today()
            month = parse_month(month) if month else day.strftime("%Y-%m")
        else:
            this_month = date.today().replace(day=1)
            month = parse_month(month) if month else (this_month - timedelta(days=1)).strftime("%Y-%m")
            _, after = month_bounds(month)
            day = parse_as_of(as_of) if as_of else after - timedelta(days=1)
    except ReportParameterError as exc:
        from helpers.reporting.pipeline import ReportError

        raise ReportError(str(exc)) from None
    note = ("The data holds no dates (no dated activities, leads or deals): every row counts, as of "
            f"{day.isoformat()}, whatever the month.")
    from helpers.reporting.pipeline import MonthCheck

    return month, day.isoformat(), MonthCheck(data_start=day, data_end=day, rows_in_month={}, notes=(note,),
                                              empty=())


def has_dated_rows(source: Any, table: str) -> bool:
    from helpers.data.reductions import _PERIOD_COLUMNS

    t = source.table(table)
    counts = t.aggregate(**{f"n_{c}": t[c].count() for c in _PERIOD_COLUMNS.get(table, ())}).to_pandas()
    return bool(len(counts.columns) and counts.iloc[0].sum() > 0)
