"""Notebook 05's one headline: both halves (marketing pace, sales SLA) in one sentence, monthly and daily."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from helpers.analyses.lead_value import marketing as mk
from helpers.analyses.lead_value.report import combined_headline


def _pace(*, to_date: float, goal: float = 1000.0, days_elapsed: int = 31, days_in_month: int = 31,
          projection: float | None = None, low: float | None = None, high: float | None = None) -> mk.Pacing:
    ideal = goal * days_elapsed / days_in_month
    projection = to_date if projection is None else projection
    return mk.Pacing(month="2026-10", as_of=date(2026, 10, days_elapsed), goal=goal, unit="new_mrr",
                     days_in_month=days_in_month, days_elapsed=days_elapsed, to_date=to_date, ideal_to_date=ideal,
                     projection=projection, projection_low=projection if low is None else low,
                     projection_high=projection if high is None else high, ci_level=0.95, daily_rate=0.0,
                     rate_days=28, table=pd.DataFrame())


def _violations(untouched: int, other: int) -> pd.DataFrame:
    rows = [("first_touch", i, "never touched") for i in range(untouched)]
    rows += [("follow_up", 1000 + i, "under attempts") for i in range(other)]
    rows += [("free_trial_calls", 0, "too few calls")] if untouched else []  # same lead twice: counted once
    return pd.DataFrame(rows, columns=["rule", "lead_id", "status"])


def test_monthly_headline_after_the_month_reports_share_of_goal_and_breaches():
    text = combined_headline(_pace(to_date=1190.0), _violations(463, 1524), daily=False, month_label="October 2026")
    assert text == ("Marketing reached 119% of its October 2026 lead-value goal; "
                    "1,987 leads break the sales SLA (463 untouched past the hour).")


def test_daily_headline_reports_ideal_line_projection_and_status():
    pace = _pace(to_date=500.0, days_elapsed=20, projection=800.0, low=700.0, high=900.0)  # ideal 645.16
    text = combined_headline(pace, _violations(2, 0), daily=True, month_label="October 2026")
    assert text == ("Marketing is at 78% of the ideal line to its October 2026 lead-value goal after 20 of 31 days "
                    "(projected 80%, behind); 2 leads break the sales SLA (2 untouched past the hour).")


def test_monthly_run_before_the_month_ends_uses_the_ideal_line():
    pace = _pace(to_date=645.16129, days_elapsed=20, projection=1000.0, low=900.0, high=1100.0)
    text = combined_headline(pace, _violations(0, 1), daily=False, month_label="October 2026")
    assert text.startswith("Marketing is at 100% of the ideal line")
    assert text.endswith("on pace); 1 lead breaks the sales SLA (none untouched past the deadline).")


@pytest.mark.parametrize("daily", [False, True])
def test_headline_without_pacing_or_breaches_still_covers_both_halves(daily):
    empty = _violations(0, 0)
    text = combined_headline(None, empty, daily=daily, month_label="October 2026", first_touch_hours=2,
                             pace_message="no won deals with a customer record yet.")
    assert text == ("Marketing's October 2026 lead-value pace cannot be shown (no won deals with a customer "
                    "record yet); no lead breaks the sales SLA.")
    assert text.count(".") == 1  # one sentence
    assert "2 hours" in combined_headline(None, _violations(1, 0), daily=daily, month_label="x", first_touch_hours=2)


def test_offers_differ_only_beyond_chance():
    """One chi-square test across first offers decides whether the page may name a best and a worst offer;
    reference by hand: 10/100 vs 12/100 expects 11 and 89 won/lost per offer, chi-square = 2/11 + 2/89 = 0.204
    on 1 degree of freedom, p = 0.651."""
    import pandas as pd

    from helpers.analyses.lead_value.report import offers_differ_p_value

    same = pd.DataFrame({"leads": [100, 100], "won": [10, 12]})
    assert offers_differ_p_value(same) == pytest.approx(0.6513, abs=1e-3)
    apart = pd.DataFrame({"leads": [1000, 1000, 0], "won": [150, 10, 0]})
    assert offers_differ_p_value(apart) < 1e-6  # an offer with no leads is left out, not a division by zero
    assert offers_differ_p_value(pd.DataFrame({"leads": [50, 60], "won": [0, 0]})) is None  # nobody won
    assert offers_differ_p_value(pd.DataFrame({"leads": [50], "won": [5]})) is None  # one offer
