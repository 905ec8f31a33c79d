"""One way to parse, bound and name months and dates (helpers/core/periods.py)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import pytest

from helpers.core.periods import (ReportParameterError, as_date, is_month, month_at, month_bounds, month_index,
                                  month_name, month_texts, parse_month)


def test_month_is_yyyy_mm_with_a_real_month():
    assert parse_month(" 2026-10 ") == "2026-10" and is_month("2026-12")
    for bad in ("2026-13", "2026-1", "26-10", "October", "2026-10-01"):
        assert not is_month(bad)
        with pytest.raises(ReportParameterError, match="YYYY-MM"):
            parse_month(bad)
    assert not is_month(None)


def test_bounds_are_half_open_and_know_leap_years():
    assert month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 3, 1))
    assert month_bounds("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    assert month_name("2026-10") == "October 2026"


def test_month_index_round_trips_across_years():
    assert month_index("2026-01") - month_index("2025-12") == 1
    assert month_at(month_index("2025-12") + 1) == "2026-01"
    assert month_index(pd.Timestamp("2026-10-31T12:00Z")) == month_index("2026-10")
    assert month_texts(pd.Series([2026, 2026]), pd.Series([3, 12])).tolist() == ["2026-03", "2026-12"]


def test_as_date_reads_every_form_and_gives_none_for_missing():
    assert as_date("2026-10-31") == date(2026, 10, 31)
    assert as_date("2026-10-31T23:00:00+02:00") == date(2026, 10, 31)
    assert as_date("2026-10") == date(2026, 10, 1)
    assert as_date(datetime(2026, 10, 31, 5, tzinfo=timezone.utc)) == date(2026, 10, 31)
    assert as_date(pd.Timestamp("2026-10-31")) == date(2026, 10, 31)
    assert as_date(None) is None and as_date(pd.NaT) is None and as_date("soon") is None
