"""Marketing's SLA: a monthly goal in dollars of lead value, tracked day by day against the ideal line.

HubSpot gave marketing a goal in *lead value*, not in number of leads, derived from the sales goal,
and a daily chart of the month's cumulative lead value against the straight line from zero to the
goal. This module computes that chart and an end-of-month projection with an interval, as of any
day (the daily dashboard calls it every morning). Rules are in ``docs/lead-value.md``.

Lead values per day are summed **in the engine**: leads are grouped by day and by the attributes
the at-creation model uses; only those groups (a few thousand rows) come into pandas, where each
group's value per lead is computed once and multiplied by its count.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.analyses.lead_value.model import ATTRIBUTES, LEAD_TYPES, LeadValueModel, value_leads
from helpers.data.reductions import _instant, _ts_literal

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import WorkbookConfig
    from helpers.data.engine import DataSource

__all__ = ["GoalInfo", "MarketingSettings", "Pacing", "goal_for_month", "lead_value_by_day",
           "pacing"]


class MarketingError(ValueError):
    """The marketing goal or pacing cannot be computed as configured; the message says what to change."""


@dataclass(frozen=True)
class MarketingSettings:
    goal: float
    goal_unit: str
    goal_from: str
    monthly_new_mrr_goal: float
    share_of_new_mrr: float
    lead_types: tuple[str, ...]
    window_days: int

    @classmethod
    def from_config(cls, config: "WorkbookConfig") -> "MarketingSettings":
        s = config.settings
        goal_from = s.choice("marketing.goal_from", ("configured", "revenue"))
        mrr_goal = float(s.number("marketing.monthly_new_mrr_goal", minimum=0))
        if goal_from == "revenue" and mrr_goal <= 0:
            s.fail("marketing.monthly_new_mrr_goal", mrr_goal, "a number > 0 when goal_from = \"revenue\"")
        return cls(
            goal=float(config.monthly_lead_value_goal),
            goal_unit=s.choice("marketing.goal_unit", ("new_mrr", "lifetime")),
            goal_from=goal_from,
            monthly_new_mrr_goal=mrr_goal,
            share_of_new_mrr=float(s.number("marketing.marketing_share_of_new_mrr", minimum=0, maximum=1, strict_min=True)),
            lead_types=s.string_list("marketing.lead_types", allowed=LEAD_TYPES),
            window_days=int(s.number("marketing.pacing_window_days", integer=True, minimum=2)),
        )


@dataclass(frozen=True)
class GoalInfo:
    """The month's goal and how it was set."""

    goal: float
    unit: str  # "new_mrr" or "lifetime"
    how: str  # one sentence
    leads_needed: float | None = None


def value_column(unit: str) -> str:
    return "value_mrr" if unit == "new_mrr" else "value"


def goal_for_month(settings: MarketingSettings, valued_mature: pd.DataFrame) -> GoalInfo:
    """The goal: configured, or derived from sales' new-MRR goal through the funnel of marketing's leads.

    Derived: the new MRR marketing must source = ``monthly_new_mrr_goal x marketing_share_of_new_mrr``;
    leads needed = that / (conversion of mature marketing leads x mean MRR of their won deals); goal =
    leads needed x mean value per marketing lead (in the goal's unit). With a calibrated model the goal
    in ``new_mrr`` is about the sourced MRR itself; in ``lifetime`` it is that times the lifetime.
    """
    unit = settings.goal_unit
    label = "expected new MRR" if unit == "new_mrr" else "expected lifetime value"
    if settings.goal_from == "configured":
        if settings.goal <= 0:
            raise MarketingError("no goal set: write marketing's monthly goal in the configuration "
                                 "([marketing] monthly_lead_value_goal, in dollars of lead value) to track its pace")
        return GoalInfo(settings.goal, unit, f"The goal, ${settings.goal:,.0f} of {label}, is set in the "
                                             "configuration ([marketing] monthly_lead_value_goal).")
    mine = valued_mature.loc[valued_mature["lead_type"].isin(settings.lead_types)]
    won = mine.loc[mine["won"]]
    if len(mine) == 0 or len(won) == 0:
        raise MarketingError("the goal cannot be derived from the revenue goal: no mature marketing leads "
                             f"(lead types {', '.join(settings.lead_types)}) became customers yet. Set "
                             "[marketing] goal_from = \"configured\" and monthly_lead_value_goal instead.")
    conversion = len(won) / len(mine)
    mean_mrr = float(won["won_mrr"].mean())
    target = settings.monthly_new_mrr_goal * settings.share_of_new_mrr
    needed = target / (conversion * mean_mrr)
    goal = needed * float(mine[value_column(unit)].mean())
    how = (f"The goal, ${goal:,.0f} of {label}, is derived from sales' goal of ${settings.monthly_new_mrr_goal:,.0f} "
           f"new MRR a month ({settings.share_of_new_mrr:.0%} of it from marketing): at {conversion:.1%} "
           f"lead-to-customer conversion and ${mean_mrr:,.0f} MRR per customer that takes about "
           f"{needed:,.0f} leads a month.")
    return GoalInfo(goal, unit, how, needed)


def lead_value_by_day(source: "DataSource", model: LeadValueModel, economics: pd.DataFrame, *, start: Any,
                      end: Any, lead_types: tuple[str, ...]) -> pd.DataFrame:
    """Leads and their value per UTC calendar day in [start, end] (both dates inclusive).

    ``model`` must be an at-creation model (``behaviours=False``): a lead's value is fixed when it is
    created, so a day's total does not change later. Grouped in the engine by day and attributes.
    Returns ``day`` (date), ``leads``, ``value_mrr``, ``value``; days without leads are present with 0.
    """
    if model.behaviour_columns_:
        raise MarketingError("pacing needs the at-creation model (LeadValueModel(behaviours=False)): a lead's "
                             "value must not change after the day it is credited")
    lo = _ts_literal(_instant(start))
    hi = _ts_literal(_instant(end, end_of_day=True))
    leads = source.table("leads")
    leads = leads.filter((leads.created_at >= lo) & (leads.created_at <= hi) & leads.lead_type.isin(list(lead_types)))
    grouped = leads.group_by([leads.created_at.date().name("day"), *ATTRIBUTES]).aggregate(leads=leads.count())
    df = grouped.to_pandas()
    days = pd.date_range(pd.Timestamp(_instant(start).date()), pd.Timestamp(_instant(end).date()), freq="D")
    if df.empty:
        return pd.DataFrame({"day": days.date, "leads": 0, "value_mrr": 0.0, "value": 0.0})
    valued = value_leads(df, model, economics)
    valued["value_mrr"] *= valued["leads"]
    valued["value"] *= valued["leads"]
    valued["day"] = pd.to_datetime(valued["day"]).dt.date
    per_day = valued.groupby("day")[["leads", "value_mrr", "value"]].sum()
    per_day = per_day.reindex(days.date, fill_value=0).rename_axis("day").reset_index()
    per_day["leads"] = per_day["leads"].astype("int64")
    return per_day


@dataclass
class Pacing:
    """Marketing's month so far: the daily table and the projection."""

    month: str
    as_of: date
    goal: float
    unit: str
    days_in_month: int
    days_elapsed: int
    to_date: float
    ideal_to_date: float
    projection: float
    projection_low: float
    projection_high: float
    ci_level: float
    daily_rate: float
    rate_days: int
    table: pd.DataFrame  # day, value, cumulative, ideal (days of the month up to as_of)

    @property
    def pct_of_ideal(self) -> float:
        return self.to_date / self.ideal_to_date if self.ideal_to_date > 0 else float("nan")

    @property
    def projected_pct_of_goal(self) -> float:
        return self.projection / self.goal if self.goal > 0 else float("nan")

    @property
    def status(self) -> str:
        """``ahead`` / ``behind`` when the whole projection interval is above / below the goal, else ``on pace``."""
        if self.projection_low >= self.goal:
            return "ahead"
        if self.projection_high < self.goal:
            return "behind"
        return "on pace"

    def sentence(self) -> str:
        unit = "expected new MRR" if self.unit == "new_mrr" else "expected lifetime value"
        pct = self.to_date / self.ideal_to_date if self.ideal_to_date else float("nan")
        lvl = f"{self.ci_level:.0%}"
        if self.days_elapsed >= self.days_in_month or self.projection_low == self.projection_high:
            # the month is over: the total is known, not projected (never "interval $179,094 to $179,094")
            return (f"The month is complete: marketing's leads carry ${self.to_date:,.0f} of {unit} against a goal of "
                    f"${self.goal:,.0f} ({self.to_date / self.goal:.0%} of it): "
                    f"{'goal met' if self.to_date >= self.goal else 'goal missed'}." if self.goal > 0 else
                    f"The month is complete: marketing's leads carry ${self.to_date:,.0f} of {unit}.")
        return (f"By {self.as_of:%d %B} marketing's leads carry ${self.to_date:,.0f} of {unit}, "
                f"{pct:.0%} of the ideal line (${self.ideal_to_date:,.0f} after {self.days_elapsed} of "
                f"{self.days_in_month} days). At the pace of the last {self.rate_days} days the month ends near "
                f"${self.projection:,.0f} ({lvl} interval ${self.projection_low:,.0f} to ${self.projection_high:,.0f}) "
                f"against a goal of ${self.goal:,.0f}: {self.status}.")


def pacing(daily: pd.DataFrame, *, month: str, as_of: Any, goal: float, unit: str = "new_mrr",
           window_days: int = 28, data_start: Any = None, level: float = 0.95) -> Pacing:
    """Cumulative lead value by day against the uniform ideal line, and the end-of-month projection.

    ``daily``: :func:`lead_value_by_day` covering the month's days up to ``as_of`` and the
    ``window_days`` before ``as_of``. Days count in UTC; ``as_of`` is a complete day. Ideal line on day
    d = goal x d / days in month. Projection = value to date + remaining days x mean daily value of the
    last ``window_days`` days (fewer if the data starts later, at least 2); its interval is the
    t prediction interval of a sum of the remaining days, treating days as independent draws:
    remaining x mean +- t(k-1) x sd x sqrt(remaining + remaining^2 / k). A month already over has
    no remaining days and a zero-width interval.
    """
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    n_days = calendar.monthrange(year, mon)[1]
    as_of_d = _instant(as_of).date()
    if as_of_d < first:
        raise MarketingError(f"as_of {as_of_d} is before the month {month}: pass a date inside or after it")
    last = min(as_of_d, first + timedelta(days=n_days - 1))
    elapsed = (last - first).days + 1
    col = value_column(unit)
    d = daily.assign(day=pd.to_datetime(daily["day"]).dt.date).set_index("day")[col]
    month_days = [first + timedelta(days=i) for i in range(elapsed)]
    values = d.reindex(month_days, fill_value=0.0).astype(float)
    table = pd.DataFrame({"day": month_days, "value": values.to_numpy()})
    table["cumulative"] = table["value"].cumsum()
    table["ideal"] = goal * np.arange(1, elapsed + 1) / n_days
    to_date = float(table["cumulative"].iloc[-1])
    win_start = as_of_d - timedelta(days=window_days - 1)
    if data_start is not None:
        win_start = max(win_start, _instant(data_start).date())
    window = [win_start + timedelta(days=i) for i in range((as_of_d - win_start).days + 1)]
    rates = d.reindex(window, fill_value=0.0).astype(float).to_numpy()
    k = len(rates)
    remaining = n_days - elapsed
    mean = float(rates.mean()) if k else 0.0
    if remaining == 0:
        low = high = projection = to_date
    else:
        projection = to_date + remaining * mean
        if k >= 2:
            sd = float(rates.std(ddof=1))
            half = stats.t.ppf(0.5 + level / 2, k - 1) * sd * np.sqrt(remaining + remaining ** 2 / k)
        else:
            half = float("inf")
        low, high = max(to_date, projection - half), projection + half
    return Pacing(month=month, as_of=as_of_d, goal=float(goal), unit=unit, days_in_month=n_days, days_elapsed=elapsed,
                  to_date=to_date, ideal_to_date=float(table["ideal"].iloc[-1]), projection=float(projection),
                  projection_low=float(low), projection_high=float(high), ci_level=level, daily_rate=mean,
                  rate_days=k, table=table)

