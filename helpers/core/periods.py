"""Months and dates, parsed, bounded and named one way for the whole workbook.

A month is the text ``YYYY-MM`` (as in the data contract and the reports' folders); it covers the
half-open interval from its first day to the first day of the next month. A sales leader reads it
as "October 2026" (:func:`month_name`). For arithmetic on months (a clawback deducted the month
after, a run of months between two labels) a month is also a running number, ``year * 12 + month
- 1`` (:func:`month_index` and its inverse :func:`month_at`).
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MONTH_PATTERN", "ReportParameterError", "as_date", "is_month", "month_at", "month_bounds",
           "month_index", "month_name", "month_texts", "parse_month"]

#: a calendar month written ``YYYY-MM`` (regular expression, anchored)
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


class ReportParameterError(ValueError):
    """A notebook parameter is malformed; the message says what to pass instead."""


def is_month(text: Any) -> bool:
    """Whether ``text`` is a calendar month written ``YYYY-MM`` (``'2026-10'`` yes, ``'2026-13'`` no)."""
    return isinstance(text, str) and _MONTH.match(text) is not None


def parse_month(month: str) -> str:
    """``'2026-10'`` stays as is; anything else raises :class:`ReportParameterError`."""
    month = str(month).strip()
    if not _MONTH.match(month):
        raise ReportParameterError(f"month {month!r} is not a calendar month: pass YYYY-MM, e.g. '2026-10' "
                                   "(or leave it empty for the last complete month in the data)")
    return month


def month_bounds(month: str) -> tuple[date, date]:
    """First day of ``month`` and first day of the next month (half-open interval)."""
    year, mon = (int(p) for p in parse_month(month).split("-"))
    first = date(year, mon, 1)
    return first, first + timedelta(days=calendar.monthrange(year, mon)[1])


def month_name(month: str) -> str:
    """``'2026-10'`` -> ``'October 2026'``: the month as a reader names it."""
    first, _ = month_bounds(month)
    return first.strftime("%B %Y")


def month_index(month: Any) -> int:
    """``'2026-10'`` (or a date or timestamp) -> a running month number (year * 12 + month - 1)."""
    year, mon = str(month)[:7].split("-")
    return int(year) * 12 + int(mon) - 1


def month_at(index: int) -> str:
    """The ``YYYY-MM`` month at a running month number: the inverse of :func:`month_index`."""
    return f"{int(index) // 12:04d}-{int(index) % 12 + 1:02d}"


def month_texts(year: "pd.Series", month: "pd.Series") -> "pd.Series":
    """``YYYY-MM`` from columns of year and month numbers, vectorised."""
    return (year.astype("int64").astype(str) + "-" + month.astype("int64").astype(str).str.zfill(2)).astype("str")


def as_date(value: Any) -> date | None:
    """The calendar day of a date, timestamp, ``YYYY-MM-DD`` text (a time after it is ignored) or
    ``YYYY-MM`` month (its first day); None for a missing value (None, NaT) or text that is none of these."""
    if value is None or value != value:  # None, NaT, NaN
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    text = str(value)
    if _MONTH.match(text):
        return date.fromisoformat(text + "-01")
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
