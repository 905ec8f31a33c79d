"""What every report notebook does first: check its parameters, open the data, and know its month.

A notebook's second cell is one call::

    report = start_report("03_funnel_coaching", month=month, as_of=as_of, config_path=config_path,
                          data_dir=data_dir, results_path=results_path)

papermill only warns about a misspelt parameter, so the checks live here: a month that is not
``YYYY-MM`` or a date that is not ``YYYY-MM-DD`` stops the notebook with a message saying what to
pass. Empty parameters mean "the defaults": the configured data folder, the last complete month
in the data, and the month's last day as the as-of date.

The context also carries the placeholder summaries every report shows until its analysis lands:
which tables are there, how many rows each has in the month, and the monthly trend of the main
table. They are honest counts (with n and the period covered), not findings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from helpers.core.contract import TABLES
from helpers.core.registry import REPORT_TITLES, REPORTS
from helpers.core.periods import ReportParameterError, as_date, month_bounds, month_name, parse_month
from helpers.core.results import ResultsRecorder

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from helpers.core.config import WorkbookConfig


#: The column that places a row of each table in time (used for "rows this month" and trends).
TIME_COLUMNS: dict[str, str] = {
    "quotas": "month",
    "hiring_scores": "interview_date",
    "training_scores": "assessed_at",
    "leads": "created_at",
    "lead_events": "occurred_at",
    "activities": "occurred_at",
    "deals": "created_at",
    "customers": "start_date",
    "experiments": "start_date",
}

class MissingInputError(RuntimeError):
    """The data lacks a table this report needs (the pipeline skips such a report instead of running it)."""


def parse_as_of(as_of: str | date) -> date:
    """``'2026-10-31'`` -> date; a date and time (``'2026-10-31T16:00:00+02:00'``) -> the UTC day of
    that instant; anything else raises :class:`ReportParameterError`."""
    if isinstance(as_of, (str, datetime)) and not _is_bare_date(as_of):
        return parse_as_of_time(as_of).date()
    if isinstance(as_of, date):
        return as_of
    try:
        return date.fromisoformat(str(as_of).strip())
    except ValueError:
        raise ReportParameterError(f"as_of {as_of!r} is not a date: pass YYYY-MM-DD, e.g. '2026-10-31' "
                                   "(or leave it empty for the last day of the month)") from None


def _is_bare_date(value: Any) -> bool:
    if isinstance(value, datetime):
        return False
    return isinstance(value, date) or re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", str(value)) is not None


def parse_as_of_time(as_of: str | date | datetime) -> datetime:
    """The UTC instant a report is as of (docs/sla.md, "As of").

    A date and time in ISO 8601 (``'2026-10-31T16:00:00Z'``, ``'2026-10-31T18:00+02:00'``) is that
    instant; one written without a zone is taken as UTC, like the data's timestamps. A bare date
    (``'2026-10-31'``) means the end of that day, 23:59:59.999999 UTC. Anything else raises
    :class:`ReportParameterError`.
    """
    if _is_bare_date(as_of):
        day = as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of).strip())
        return datetime.combine(day, datetime.max.time(), tzinfo=timezone.utc)
    if isinstance(as_of, datetime):
        moment = as_of
    else:
        try:
            moment = datetime.fromisoformat(str(as_of).strip())
        except ValueError:
            raise ReportParameterError(
                f"as_of {as_of!r} is not a date or a date and time: pass YYYY-MM-DD (the end of that day) or "
                f"ISO 8601 with a zone, e.g. '2026-10-31T16:00:00Z' or '2026-10-31T18:00:00+02:00'") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def default_as_of_time(day: date, *, daily: bool, now: datetime | None = None) -> datetime:
    """When no as-of is given: a daily dashboard is as of the moment it runs (``now``, UTC) when
    ``day`` is today; otherwise (a month's report, or data that end before today) the end of ``day``."""
    now = now or datetime.now(timezone.utc)
    if daily and day == now.date():
        return now
    return parse_as_of_time(day)


def _period_bounds(period: Any) -> tuple[date | None, date | None]:
    """``data_period`` may return a (start, end) pair or an object with start/end attributes."""
    if period is None:
        return None, None
    for first, last in (("start", "end"), ("first", "last"), ("min", "max")):
        if hasattr(period, first) and hasattr(period, last):
            return as_date(getattr(period, first)), as_date(getattr(period, last))
        if isinstance(period, dict) and first in period:
            return as_date(period.get(first)), as_date(period.get(last))
    start, end = period
    return as_date(start), as_date(end)


@dataclass
class ReportContext:
    """A running report: its configuration, data source, month, as-of date and results recorder."""

    notebook: str
    title: str
    config: "WorkbookConfig"
    source: Any  # helpers.data.engine.DataSource
    month: str
    as_of: date
    daily: bool
    period_start: date | None
    period_end: date | None
    results: ResultsRecorder
    needs: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    _overview: "pd.DataFrame | None" = field(default=None, repr=False)
    as_of_instant: datetime | None = None

    @property
    def as_of_time(self) -> datetime:
        """The UTC instant the report is as of: the ``as_of`` date and time given, the moment a daily
        dashboard for today runs, or the end of the ``as_of`` day. The SLA lists are judged at it."""
        return self.as_of_instant or parse_as_of_time(self.as_of)

    # ----------------------------------------------------------------- text for the page
    @property
    def month_label(self) -> str:
        """``'October 2026'``."""
        return month_name(self.month)

    def period_text(self) -> str:
        """One sentence: what the report covers and what the data covers."""
        if self.daily:
            what = f"This dashboard is as of {self.as_of:%A %d %B %Y}."
        else:
            what = f"This report covers {self.month_label} (as of {self.as_of.isoformat()})."
        if self.period_start and self.period_end:
            what += f" The data runs from {self.period_start.isoformat()} to {self.period_end.isoformat()}."
        return what

    def tables_present_text(self) -> str:
        """Deterministic list of the tables this report needs and uses, and whether each is there."""
        lines = []
        for name in self.needs:
            lines.append(f"needs {name}: {'present' if self.source.has(name) else 'MISSING'}")
        for name in self.uses:
            lines.append(f"uses  {name}: {'present' if self.source.has(name) else 'absent (optional)'}")
        return "\n".join(lines)

    def say(self, text: str):
        """Display ``text`` as a paragraph. Text from the data in it shows as typed: no HTML (a rep named
        ``<b>``), Markdown link or image, autolink or bidi override can act (the analysis's own ``**bold**``
        still works; see :mod:`helpers.core.text`)."""
        from IPython.display import Markdown

        return Markdown(escape_markdown(text))

    # ----------------------------------------------------------------- placeholder summaries
    def overview_table(self) -> "pd.DataFrame":
        """:meth:`table_overview` with headings a reader understands."""
        overview = self.table_overview()
        shown = overview.astype(object)
        for column in ("rows_total", "rows_in_month"):  # thousands separators; a dash where a count does not apply
            shown[column] = overview[column].map(lambda v: "\u2013" if pd_isna(v) else f"{int(v):,}")
        shown["present"] = overview["present"].map({True: "yes", False: "no"})
        shown = shown.rename(columns={"table": "Table", "present": "In the data", "rows_total": "Rows in all the data",
                                      "rows_in_month": f"Rows in {self.month_label}"})
        return shown.set_index("Table").rename_axis(None)

    def table_overview(self) -> "pd.DataFrame":
        """Rows per table in total and in the report's month (counted in the engine, not in Python)."""
        if self._overview is None:
            self._overview = compute_table_overview(self.source, self.needs + self.uses, month=self.month)
        return self._overview

    def record_inputs(self) -> None:
        """Put the tables read (rows per table, None if absent) and the data period in the results file,
        and a caveat naming the optional tables that are absent. Every analysis notebook calls it once."""
        overview = self.table_overview()
        self.results.results.tables = {t: (None if pd_isna(r) else int(r))
                                       for t, r in zip(overview["table"], overview["rows_total"])}
        self.results.results.data_period = {
            "start": self.period_start.isoformat() if self.period_start else None,
            "end": self.period_end.isoformat() if self.period_end else None,
        }
        missing = overview.loc[~overview["present"], "table"].tolist()
        if missing:
            self.results.warn(f"Optional tables absent: {', '.join(missing)}.")

    def conclusion(self):
        """The recorded headline and findings, as the page shows them."""
        from IPython.display import Markdown

        res = self.results.results
        from helpers.core.text import escape_markdown as literal

        lines = [f"**{literal(res.headline)}**"] if res.headline else []
        lines += [f"- {literal(f.text)}" for f in res.findings]
        lines += [f"- *Caveat:* {literal(w)}" for w in res.warnings]
        return Markdown("\n".join(lines))

    def save(self):
        """Write the results file the report pipeline asked for (nothing when run by hand)."""
        return self.results.save()


def escape_markdown(text: str) -> str:
    """A sentence holding text from the data made safe for a Markdown cell (kept for the analyses that
    import it from here): :func:`helpers.core.text.neutralise_markdown`."""
    from helpers.core.text import neutralise_markdown

    return neutralise_markdown(text)


def pd_isna(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def rows_dated_between(source: Any, name: str, first: Any, after: Any) -> int:
    """Rows of table ``name`` whose time column (:data:`TIME_COLUMNS`) falls on a day from ``first`` to
    before ``after`` (UTC dates), counted in the engine."""
    table = source.table(name)
    day = table[TIME_COLUMNS[name]].cast("date")
    return int(table.filter((day >= first) & (day < after)).count().execute())


def compute_table_overview(source: Any, tables: tuple[str, ...] | list[str], *, month: str) -> "pd.DataFrame":
    """One row per table: present or not, rows in total, rows whose time column falls in ``month``.

    The counts run in the data engine (one aggregate query per table), so this costs the same on a
    warehouse with millions of activities as on the sample.
    """
    import pandas as pd

    first, after = month_bounds(month)
    records = []
    for name in dict.fromkeys(tables):  # a handful of tables, not events
        if not source.has(name):
            records.append({"table": name, "present": False, "rows_total": pd.NA, "rows_in_month": pd.NA})
            continue
        table = source.table(name)
        total = int(table.count().execute())
        column = TIME_COLUMNS.get(name)
        in_month: Any = pd.NA
        if column is not None and column in table.columns:
            if TABLES[name].column(column).dtype == "month":
                in_month = int(table.filter(table[column].cast("string") == month).count().execute())
            else:
                in_month = rows_dated_between(source, name, first, after)
        records.append({"table": name, "present": True, "rows_total": total, "rows_in_month": in_month})
    overview = pd.DataFrame.from_records(records, columns=["table", "present", "rows_total", "rows_in_month"])
    return overview.astype({"rows_total": "Int64", "rows_in_month": "Int64"})


def start_report(notebook: str, *, month: str = "", as_of: str = "", config_path: str = "", data_dir: str = "",
                 results_path: str = "", daily: bool = False) -> ReportContext:
    """Check the notebook's parameters, open its data and return the running report's context.

    Raises :class:`ReportParameterError` for a malformed month or date, or an unknown notebook.
    """
    if notebook not in REPORTS:
        raise ReportParameterError(f"unknown report {notebook!r}: expected one of {', '.join(REPORTS)}")
    from helpers.core.config import load_config_for_data
    from helpers.data.engine import open_source

    config = load_config_for_data(config_path or None, data_dir or None)  # as the report pipeline decides
    # an explicit data folder wins; otherwise a database URL in the environment, then the configured folder
    source = open_source(config, data_dir=config.data_dir if data_dir else None)
    _page_display_options()
    return _context(notebook, config, source, month=month, as_of=as_of, results_path=results_path, daily=daily)


def _page_display_options() -> None:
    """Tables on a page show every word of a cell (no "..." where a manager needs the sentence), every
    column, and missing values as a dash; the analyst sees the same in JupyterLab."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_columns", None)
    pd.set_option("display.width", None)


def _context(notebook: str, config: "WorkbookConfig", source: Any, *, month: str, as_of: str,
             results_path: str, daily: bool) -> ReportContext:
    from helpers.data.reductions import data_period, last_complete_month

    try:
        period_start, period_end = _period_bounds(data_period(source))
    except Exception:  # noqa: BLE001 - a table-less folder has no period; the page says so
        period_start = period_end = None
    if daily:
        as_of_day = parse_as_of(as_of) if as_of else (period_end or date.today())
        month = month and parse_month(month) or as_of_day.strftime("%Y-%m")
    else:
        month = parse_month(month) if month else parse_month(str(last_complete_month(source))[:7])
        first, after = month_bounds(month)
        as_of_day = parse_as_of(as_of) if as_of else after - timedelta(days=1)
    as_of_instant = parse_as_of_time(as_of) if as_of else default_as_of_time(as_of_day, daily=daily)
    entry = REPORTS[notebook]
    absent = [t for t in entry.needs if not source.has(t)]
    if absent:
        raise MissingInputError(f"{notebook} needs the table(s) {', '.join(absent)}, absent from {source!r}. Add them to "
                                "the export (columns in docs/data-contract.md), or leave this report out.")
    recorder = ResultsRecorder(results_path or None, notebook=notebook, title=entry.title, month=month,
                               as_of=as_of_day.isoformat(), mode="daily" if daily else "monthly",
                               organisation=config.organisation)
    return ReportContext(notebook=notebook, title=entry.title, config=config, source=source, month=month,
                         as_of=as_of_day, daily=daily, period_start=period_start, period_end=period_end,
                         results=recorder, needs=entry.needs, uses=entry.uses,
                         as_of_instant=as_of_instant)


__all__ = ["MissingInputError", "ReportContext", "ReportParameterError", "REPORT_TITLES",
           "compute_table_overview", "default_as_of_time", "month_bounds", "parse_as_of", "parse_as_of_time", "parse_month",
           "start_report"]
