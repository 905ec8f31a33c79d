"""Marketing pacing: projection and interval checked by hand."""
from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import pytest
from scipy import stats

from helpers.analyses.lead_value import marketing as mk


def _daily(start: date, values: list[float]) -> pd.DataFrame:
    days = [start + timedelta(days=i) for i in range(len(values))]
    return pd.DataFrame({"day": days, "leads": 1, "value_mrr": values, "value": [10 * v for v in values]})


def test_projection_and_interval_by_hand():
    """Sept 2026 (30 days), as of the 10th: values 100, 200 alternating over the 10 days before and the
    10 days of the month. To date 1500; window 10 days: mean 150, sd 52.70; remaining 20 days:
    projection 1500 + 20 * 150 = 4500, half width t(9) * sd * sqrt(20 + 400 / 10)."""
    vals = [100.0, 200.0] * 10
    p = mk.pacing(_daily(date(2026, 8, 22), vals), month="2026-09", as_of="2026-09-10", goal=3000,
                  window_days=10)
    assert p.days_elapsed == 10 and p.to_date == 1500 and p.ideal_to_date == pytest.approx(1000)
    assert p.projection == pytest.approx(4500)
    sd = pd.Series([100.0, 200.0] * 5).std()
    half = stats.t.ppf(0.975, 9) * sd * math.sqrt(20 + 400 / 10)
    assert (p.projection_low, p.projection_high) == pytest.approx((4500 - half, 4500 + half))
    assert p.status == "ahead" and "ahead" in p.sentence()
    lifetime = mk.pacing(_daily(date(2026, 8, 22), vals), month="2026-09", as_of="2026-09-10", goal=3000,
                         unit="lifetime", window_days=10)
    assert lifetime.to_date == 15000


def test_finished_month_has_no_remaining_days_and_missing_days_count_zero():
    p = mk.pacing(_daily(date(2026, 9, 1), [50.0] * 5), month="2026-09", as_of="2026-10-03", goal=1000)
    assert p.days_elapsed == 30 and p.to_date == 250
    assert p.projection == p.projection_low == p.projection_high == 250
    assert p.status == "behind"
    # issue 23: the page said "95% interval $179,094 to $179,094"; a finished month is a known total
    sentence = p.sentence()
    assert "interval" not in sentence and "$250 to $250" not in sentence
    assert "complete" in sentence and "$250" in sentence and "25%" in sentence and "goal missed" in sentence


def test_as_of_before_the_month_is_an_error():
    with pytest.raises(mk.MarketingError, match="before the month"):
        mk.pacing(_daily(date(2026, 9, 1), [1.0]), month="2026-09", as_of="2026-08-31", goal=1)
