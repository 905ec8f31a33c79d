"""Notebook 07 put together: gather a report's data, run every part once, write sentences and results.

Each part (lead mix, roles, system or people, forecast and backtest, capacity) copes with missing data
on its own: a missing table, column or short history turns off only that part, with one plain sentence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from helpers.analyses.predictable_revenue import model as M
from helpers.analyses.predictable_revenue import plots
from helpers.analyses.predictable_revenue import reductions as R

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from helpers.reporting.context import ReportContext

__all__ = ["PredictableRevenueAnalysis", "analyse"]


def _usd(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"${x:,.0f}"


def _pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.0%}"


def hiring_sentence(plan: pd.DataFrame, *, month: str, goal_month: str, ramp: int, ramp_how: str,
                    specialised_roles: bool = True) -> str:
    """When the extra reps of a capacity plan must start. A start month that has already come (the goal is
    nearer than the ramp) is said as such: hire at once, and from when those hires are productive; never
    "start them by" a month that is over. Without specialised roles the hires are "reps", not "closers"."""
    hiring = plan["hire_by"].fillna("").astype(str)
    hiring = hiring[hiring != ""]  # one start month for every role (the goal month minus the ramp)
    if hiring.empty:
        return ""
    start = hiring.iloc[0]
    who = (" and ".join(str(item).split(" (")[0].lower() for item in hiring.index) if specialised_roles
           else "reps")
    if M.month_index(start) > M.month_index(month):
        return f" New hires take {ramp} months to ramp ({ramp_how}), so start the extra {who} by {start}."
    first_start = M.month_label(M.month_index(month) + 1)
    productive = M.month_label(M.month_index(first_start) + ramp)
    return (f" New hires take {ramp} months to ramp ({ramp_how}): extra {who} hired now (starting {first_start}) "
            f"are productive from {productive}, after {goal_month}; hire at once, or set the goal for a later month.")


def improvement_sentence(plan: pd.DataFrame, improved: pd.DataFrame, *, improvement: float,
                         specialised_roles: bool = True) -> str:
    """What a coaching lift of every conversion rate changes in a capacity plan (``capacity_plan`` tables, before
    and after): fewer leads a month, and fewer reps only where the plan's reps follow the leads. Closers follow
    the won deals the goal needs, which a better conversion does not change: said so, not "28 closers cover it".
    Without specialised roles every rep both works leads and closes: the reps needed are the larger of the two."""
    before, after = plan.set_index("item")["needed"], improved.set_index("item")["needed"]
    if not specialised_roles:
        reps = [i for i in before.index if not str(i).endswith("per month")]
        before = pd.concat([before.drop(reps), pd.Series({"Reps": before[reps].max()})])
        after = pd.concat([after.drop(reps), pd.Series({"Reps": after[reps].max()})])
    leads = [i for i in before.index if str(i).endswith("leads per month")]
    text = (f" If coaching lifts every conversion rate by {improvement:.0%}, the goal needs "
            f"{after[leads].sum():,.0f} leads a month instead of {before[leads].sum():,.0f}")
    changed = [f"{after[i]:.0f} {str(i).split(' (')[0].lower()} instead of {before[i]:.0f}"
               for i in before.index if not str(i).endswith("per month") and np.isfinite(before[i])
               and np.isfinite(after[i]) and round(after[i]) != round(before[i])]
    return text + (f", and {' and '.join(changed)}." if changed else
                   "; the reps needed stay the same (closers follow the won deals the goal needs).")


@dataclass
class PredictableRevenueAnalysis:
    """Everything notebook 07 shows, computed once from a report's data."""

    month: str
    settings: M.PredictableRevenueSettings
    level: float
    goal: float
    goal_is_configured: bool
    deals: pd.DataFrame
    bookings: pd.DataFrame
    history_months: int
    notes: list[str] = field(default_factory=list)
    mix: pd.DataFrame | None = None
    mix_monthly: pd.DataFrame | None = None
    mix_problem: str = ""
    roles: pd.DataFrame | None = None  # rep_id, name, role (the book's), raw role
    roles_problem: str = ""
    load: dict[str, Any] | None = None
    load_table: pd.DataFrame | None = None
    load_who: str = ""
    sdr: pd.DataFrame | None = None
    sdr_problem: str = ""
    win_rates: pd.DataFrame | None = None
    system: pd.DataFrame | None = None
    system_problem: str = ""
    forecaster: M.RevenueForecaster | None = None
    forecast_problem: str = ""
    backtest: pd.DataFrame | None = None
    backtest_table: pd.DataFrame | None = None
    backtest_problem: str = ""
    ramp: int = 0
    ramp_how: str = ""
    plan: pd.DataFrame | None = None
    plan_improved: pd.DataFrame | None = None
    plan_problem: str = ""
    won_per_closer: float = np.nan
    closers_now: int = 0
    inbound_reps_now: int = 0

    # ------------------------------------------------------------------ sentences
    def mix_text(self) -> str:
        if self.mix is None or self.mix.empty:
            return self.mix_problem or "No leads in the data: the lead mix cannot be shown."
        parts = []
        for r in self.mix.itertuples():
            if r.lead_kind == "unknown" and not r.leads_per_month and np.isfinite(r.bookings_share):
                parts.append(f"deals with no lead behind them: {r.bookings_share:.0%} of bookings "
                             f"(CI {r.share_low:.0%} to {r.share_high:.0%})")
                continue
            conv = ("conversion not yet known" if not np.isfinite(r.conversion) else
                    f"none of {r.mature_leads:,} leads old enough to judge became a customer" if r.won_leads == 0 else
                    f"{r.conversion:.1%} become customers ({self.level:.0%} CI {r.conversion_low:.1%} to "
                    f"{r.conversion_high:.1%}, n = {r.mature_leads:,} leads), {_usd(r.mrr_per_won)} MRR each after "
                    f"{r.cycle_days:.0f} days on average")
            share = "" if not np.isfinite(r.bookings_share) else (
                f"; {r.bookings_share:.0%} of bookings (CI {r.share_low:.0%} to {r.share_high:.0%})")
            parts.append(f"{r.label}: {r.leads_per_month:,.0f} leads a month, {conv}{share}")
        months = min(self.settings.history_months, self.history_months)
        return (f"Over the last {months} months: " + "; ".join(parts) + ". "
                "Conversion counts leads at least {} months old, so their wins are in.".format(
                    self.settings.maturity_months))

    def roles_text(self) -> str:
        if self.roles_problem:
            text = self.roles_problem
        else:
            counts = self.roles["role"].replace("", "other").value_counts()
            text = "Roles on the team: " + ", ".join(f"{n} {r.replace('_', '-')}" for r, n in counts.items()) + "."
        return text

    def load_text(self) -> str:
        c = self.settings.lead_ceiling
        if self.load is None:
            return "No leads have an owner: leads per rep cannot be counted."
        ld = self.load
        text = (f"{self.load_who.capitalize()} handled a median of {ld['median_load']:.0f} leads a month (most: "
                f"{ld['max_load']:.0f}); {ld['share_over_ceiling']:.0%} of rep-months were over the book's ceiling "
                f"of {c:.0f}. ")
        if ld["problem"]:
            return text + ld["problem"]
        word = ("falls" if ld["ci_high"] < 1 else "rises" if ld["ci_low"] > 1 else "shows no clear change")
        return text + (f"Within a rep, conversion {word} as the month's load rises: odds x{ld['odds_ratio_per_100']:.2f} "
                       f"per 100 more leads ({self.level:.0%} CI {ld['ci_low']:.2f} to {ld['ci_high']:.2f}, "
                       f"n = {ld['rep_months']} rep-months of {ld['reps']} reps).")

    def sdr_text(self) -> str:
        if self.sdr is None or self.sdr.empty:
            return self.sdr_problem
        s = self.settings
        t = self.sdr
        below = int((t["connects_per_week"] < s.sdr_connects_per_week).sum())
        met, qual = int(t["leads_met"].sum()), int(t["qualified"].sum())
        from helpers.core.intervals import wilson_interval

        lo, hi = wilson_interval(qual, met, level=self.level)
        rate = qual / met if met else np.nan
        verdict = ("below" if hi < s.qualified_low else "above" if lo > s.qualified_high else "within or unclear")
        return (f"{below} of {len(t)} SDRs average fewer than {s.sdr_connects_per_week:.0f} connected calls a week. "
                f"Meetings held -> qualified opportunities: {_pct(rate)} ({self.level:.0%} CI {_pct(float(lo))} to "
                f"{_pct(float(hi))}, n = {met} leads met), {verdict} the book's {s.qualified_low:.0%}-"
                f"{s.qualified_high:.0%} bar.")

    def win_rate_text(self) -> str:
        if self.win_rates is None or self.win_rates.empty:
            return "No closed deals in the last year: closers' win rates cannot be shown."
        parts = [f"{M.KIND_LABELS.get(r.lead_kind, r.lead_kind).lower()} {r.win_rate:.0%} (CI {r.win_low:.0%} to "
                 f"{r.win_high:.0%}, n = {r.closed})" for r in self.win_rates.itertuples()]
        return "Closers' win rate (won / closed) by lead kind: " + "; ".join(parts) + "."

    def system_text(self) -> str:
        if self.system is None or self.system.empty:
            return self.system_problem
        s = self.settings
        last = self.system.iloc[-1]
        system = last.under_share > s.under_quota_share or last.failing_share > s.failing_share
        verdict = ("points at the system (leads, territories, product or quota), not the people" if system else
                   "is within the rule: look at individual reps rather than the system")
        return (f"In {last.quarter}, {last.under_quota} of {last.reps} reps were under quota ({last.under_share:.0%}, "
                f"{self.level:.0%} CI {last.under_low:.0%} to {last.under_high:.0%}) and {last.failing} under "
                f"{s.failing_attainment:.0%} of it ({last.failing_share:.0%}). By the book's rule of thumb (more than "
                f"{s.under_quota_share:.0%} under quota or {s.failing_share:.0%} failing) this {verdict}.")

    def forecast_text(self) -> str:
        if self.forecaster is None:
            return self.forecast_problem
        f = self.forecaster.forecast_
        parts = [f"{pd.Period(r.month).strftime('%B %Y')}: {_usd(r.forecast)} (80% interval {_usd(r.low_80)} to "
                 f"{_usd(r.high_80)}; 95% {_usd(r.low_95)} to {_usd(r.high_95)})" for r in f.itertuples()]
        return (f"Forecast of new MRR booked, from {self.forecaster.n_open_:,} open deals and the deals expected to be "
                f"opened: " + "; ".join(parts) + ". " + self.season_text())

    def season_text(self) -> str:
        """One sentence on the month-of-year pattern of deals opened: used, not clear, or not estimable."""
        if self.forecaster is None:
            return ""
        season = self.forecaster.season_
        if not season["used"]:
            return season["problem"]
        f = season["factors"]
        names = [pd.Period(f"2000-{i + 1:02d}").strftime("%B") for i in range(12)]
        hi, lo = int(np.argmax(f)), int(np.argmin(f))
        return (f"Deals opened follow the calendar (test over {season['months']} months, p = {season['p_value']:.3f}): "
                f"{names[hi]} brings {f[hi]:.2f}x an average month's deals and {names[lo]} {f[lo]:.2f}x "
                f"(95% CI {season['low'][hi]:.2f}-{season['high'][hi]:.2f} and "
                f"{season['low'][lo]:.2f}-{season['high'][lo]:.2f}, shrunk toward no season); the forecast uses this.")

    def backtest_text(self) -> str:
        if self.backtest_table is None or self.backtest_table.empty:
            return self.backtest_problem or "No forecast, so nothing to backtest."
        r = self.backtest_table.iloc[0]
        beat = r.skill > 0
        text = (f"Backtest: the forecast made at each of the last {int(r.n)} month ends for the next month had its 80% "
                f"interval cover the actual bookings {r.coverage_80:.0%} of the time (CI {r.coverage_80_low:.0%} to "
                f"{r.coverage_80_high:.0%}) and the 95% interval {r.coverage_95:.0%}; its mean error was "
                f"{_usd(r.mae)} against {_usd(r.mae_naive)} for the naive forecast (the last three months' mean).")
        if beat:
            text += f" It beats the naive forecast by {r.skill:.0%}."
        else:
            text += " It does NOT beat the naive forecast: read it as a range, and trust the simple average as much."
        if int(r.n) < 12:
            text += f" Only {int(r.n)} past months could be checked: the coverage is a first indication."
        return text

    def plan_text(self) -> str:
        if self.plan is None:
            return self.plan_problem
        p = self.plan.set_index("item")
        goal = (f"the configured goal of {_usd(self.goal)}" if self.goal_is_configured else
                f"an illustrative goal of {_usd(self.goal)} (25% above the last three months' mean; set "
                "[predictable_revenue] monthly_revenue_goal)")
        closers = p.loc["Closers"]
        mr = p.loc[p.index.str.startswith("Market-response")].iloc[0]
        text = (f"To book {goal} of new MRR a month from {self.goal_month}: "
                + "; ".join(f"{i.lower()}: {r.needed:,.0f} (now {r.now:,.0f})" for i, r in p.iterrows()
                            if i.endswith("leads per month"))
                + (f"; {mr.needed:.0f} market-response reps (now {mr.now:.0f}) and {closers.needed:.0f} closers "
                   f"(now {closers.now:.0f})." if not self.roles_problem else
                   f"; {max(mr.needed, closers.needed):.0f} reps (now {closers.now:.0f}), since every rep here both "
                   f"works leads and closes: {closers.needed:.0f} for the won deals, {mr.needed:.0f} to keep each "
                   f"under {self.settings.lead_ceiling:,.0f} inbound leads a month."))
        roles = not self.roles_problem
        text += hiring_sentence(p, month=self.month, goal_month=self.goal_month, ramp=self.ramp,
                                ramp_how=self.ramp_how, specialised_roles=roles)
        if self.plan_improved is not None:
            text += improvement_sentence(self.plan, self.plan_improved, improvement=self.settings.improvement,
                                         specialised_roles=roles)
        return text

    @property
    def goal_month(self) -> str:
        return M.month_label(M.month_index(self.month) + self.settings.goal_months_ahead)

    def checked_summary(self) -> str:
        """Deterministic lines for the notebook's checked cell (what was computed, no decimals)."""
        kinds = ", ".join(self.mix["lead_kind"]) if self.mix is not None and len(self.mix) else "none"
        return "\n".join([
            f"months of bookings: {self.history_months}",
            f"lead kinds: {kinds}",
            f"specialised roles: {'no' if self.roles_problem else 'yes'}",
            f"system-or-people quarters: {0 if self.system is None else len(self.system)}",
            f"forecast months: {0 if self.forecaster is None else len(self.forecaster.forecast_)}",
            f"backtest: {'yes' if self.backtest_table is not None and len(self.backtest_table) else 'no'}",
            f"capacity plan: {'yes' if self.plan is not None else 'no'}",
        ])

    # ------------------------------------------------------------------ tables and plots
    @property
    def summary(self) -> pd.DataFrame:
        """The forecast: one row per month ahead with its 80% and 95% prediction intervals."""
        if self.forecaster is None:
            return pd.DataFrame(columns=["month", "months_ahead", "forecast", "low_80", "high_80", "low_95",
                                         "high_95"])
        return self.forecaster.forecast_

    def mix_table(self) -> pd.DataFrame:
        if self.mix is None or self.mix.empty:
            return pd.DataFrame()
        m = self.mix
        return pd.DataFrame({
            "Lead kind": m["label"], "Leads a month": m["leads_per_month"].round(0).astype(int),
            "Become customers (CI)": [f"{c:.1%} ({lo:.1%}-{hi:.1%})" if np.isfinite(c) else "n/a"
                                      for c, lo, hi in zip(m["conversion"], m["conversion_low"], m["conversion_high"])],
            "Leads judged": m["mature_leads"], "MRR per customer": m["mrr_per_won"].map(_usd),
            "Days to win": m["cycle_days"].map(lambda v: "n/a" if not np.isfinite(v) else f"{v:.0f}"),
            "Share of bookings (CI)": [f"{s:.0%} ({lo:.0%}-{hi:.0%})" if np.isfinite(s) else "n/a"
                                       for s, lo, hi in zip(m["bookings_share"], m["share_low"], m["share_high"])],
        }).set_index("Lead kind")

    def forecast_table(self) -> pd.DataFrame:
        f = self.summary
        if f.empty:
            return pd.DataFrame()
        return pd.DataFrame({"Month": [pd.Period(m).strftime("%B %Y") for m in f["month"]],
                             "Forecast": f["forecast"].map(_usd),
                             "80% interval": [f"{_usd(a)} to {_usd(b)}" for a, b in zip(f["low_80"], f["high_80"])],
                             "95% interval": [f"{_usd(a)} to {_usd(b)}" for a, b in zip(f["low_95"], f["high_95"])],
                             "From open deals": f["from_pipeline"].map(_usd),
                             "From deals not yet opened": f["from_new_deals"].map(_usd)}).set_index("Month")

    def plan_table(self) -> pd.DataFrame:
        if self.plan is None:
            return pd.DataFrame()
        p = self.plan.copy()
        p["needed"] = p["needed"].map(lambda v: "n/a" if not np.isfinite(v) else f"{v:,.0f}")
        p["now"] = p["now"].map(lambda v: "" if not np.isfinite(v) else f"{v:,.0f}")
        return p.rename(columns={"item": "What", "needed": "Needed", "now": "Now", "hire_by": "Start hires by"}
                        ).set_index("What")

    def plot_mix(self, ax: Axes | None = None) -> Axes | None:
        if self.mix_monthly is None or self.mix_monthly.empty:
            return None
        return plots.plot_lead_mix(self.mix_monthly, ax=ax)

    def plot_load(self, ax: Axes | None = None) -> Axes | None:
        if self.load_table is None or self.load_table.empty:
            return None
        return plots.plot_lead_load(self.load_table, ceiling=self.settings.lead_ceiling, ax=ax)

    def plot_system(self, ax: Axes | None = None) -> Axes | None:
        if self.system is None or self.system.empty:
            return None
        return plots.plot_system_or_people(self.system, under_bar=self.settings.under_quota_share,
                                           failing_bar=self.settings.failing_share, ax=ax)

    def plot_forecast(self, ax: Axes | None = None) -> Axes | None:
        if self.forecaster is None:
            return None
        return plots.plot_forecast({"forecast": self.forecaster.forecast_, "history": self.bookings.tail(12)}, ax=ax)

    def plot_backtest(self, ax: Axes | None = None) -> Axes | None:
        if self.backtest is None or self.backtest.empty:
            return None
        return plots.plot_backtest(self.backtest[self.backtest["months_ahead"] == 1], ax=ax)

    def plot_plan(self, ax: Axes | None = None) -> Axes | None:
        if self.plan is None:
            return None
        return plots.plot_capacity(self.plan, ax=ax)

    # ------------------------------------------------------------------ goal what-if (widget and tests)
    def plan_for(self, goal: float, *, improvement: float = 0.0) -> pd.DataFrame | None:
        """The capacity plan for another monthly MRR ``goal`` (None when no plan can be made)."""
        if self.mix is None or self.plan is None:
            return None
        return M.capacity_plan(goal=goal, mix=self.mix, won_per_closer=self.won_per_closer,
                               closers_now=self.closers_now, inbound_reps_now=self.inbound_reps_now,
                               ceiling=self.settings.lead_ceiling, ramp=self.ramp, goal_month=self.goal_month,
                               improvement=improvement)

    # ------------------------------------------------------------------ results file
    def headline(self) -> str:
        if self.forecaster is None:
            return f"No forecast this month: {self.forecast_problem}"
        r = self.forecaster.forecast_.iloc[0]
        head = (f"{pd.Period(r.month).strftime('%B %Y')} bookings forecast: {_usd(r.forecast)} of new MRR (80% interval "
                f"{_usd(r.low_80)} to {_usd(r.high_80)}).")
        if self.backtest_table is not None and len(self.backtest_table):
            b = self.backtest_table.iloc[0]
            head += (f" Past forecasts: the 80% interval held {b.coverage_80:.0%} of {int(b.n)} months; "
                     + ("better than a naive average." if b.skill > 0 else "no better than a naive average."))
        else:
            head += " Not yet backtested (under {} months of history).".format(self.settings.min_backtest_months)
        return head

    def record(self, recorder: Any) -> None:
        """Headline, key figure (next month's forecast with its 80% interval), findings, caveats and tables."""
        rec = recorder
        for note in self.notes:
            rec.warn(note)
        if self.forecaster is not None:
            f = self.forecaster.forecast_
            for r in f.itertuples():
                rec.figure(f"forecast_{r.months_ahead}m", f"Bookings forecast for {r.month} (new MRR)",
                           round(float(r.forecast), 0), unit="$", ci=(round(float(r.low_80), 0),
                                                                         round(float(r.high_80), 0)),
                           ci_level=0.8, key=r.months_ahead == 1)
            rec.table("forecast", f)
            season = self.forecaster.season_
            if season["used"]:
                rec.table("seasonality", pd.DataFrame({"calendar_month": np.arange(1, 13),
                                                       "factor": season["factors"], "low_95": season["low"],
                                                       "high_95": season["high"], "unshrunk": season["raw"]}))
            rec.finding(self.forecast_text())
        else:
            rec.warn(self.forecast_problem)
        if self.backtest_table is not None and len(self.backtest_table):
            b = self.backtest_table.iloc[0]
            rec.figure("backtest_coverage_80", "Share of past months inside the 80% interval (1 month ahead)",
                       round(float(b.coverage_80), 3), n=int(b.n), ci=(round(float(b.coverage_80_low), 3),
                                                                       round(float(b.coverage_80_high), 3)),
                       ci_level=self.level)
            rec.figure("backtest_mae", "Mean absolute error of past 1-month forecasts", round(float(b.mae), 0),
                       unit="$", n=int(b.n))
            rec.figure("backtest_mae_naive", "Mean absolute error of the naive forecast", round(float(b.mae_naive), 0),
                       unit="$", n=int(b.n))
            rec.table("backtest", self.backtest)
            rec.table("backtest_summary", self.backtest_table)
            rec.finding(self.backtest_text(), "good" if b.skill > 0 else "warning")
        elif self.backtest_problem:
            rec.warn(self.backtest_problem)
        if self.mix is not None and len(self.mix):
            for r in self.mix.itertuples():
                if np.isfinite(r.conversion):
                    rec.figure(f"conversion_{r.lead_kind}", f"{r.label}: leads who become customers",
                               round(float(r.conversion), 4), n=int(r.mature_leads),
                               ci=(round(float(r.conversion_low), 4), round(float(r.conversion_high), 4)),
                               ci_level=self.level)
            rec.table("lead_mix", self.mix)
            rec.finding(self.mix_text())
        elif self.mix_problem:
            rec.warn(self.mix_problem)
        if self.roles_problem:
            rec.finding(self.roles_problem)
        if self.load is not None:
            rec.finding(self.load_text(), "warning" if self.load["share_over_ceiling"] > 0 else "info")
            if np.isfinite(self.load["odds_ratio_per_100"]):
                rec.figure("load_odds_ratio_per_100", "Odds of a lead being won, per 100 more leads a month",
                           round(self.load["odds_ratio_per_100"], 3), n=int(self.load["rep_months"]),
                           ci=(round(self.load["ci_low"], 3), round(self.load["ci_high"], 3)), ci_level=self.level)
        if self.sdr is not None and len(self.sdr):
            rec.table("sdr_bars", self.sdr)
            rec.finding(self.sdr_text())
        if self.win_rates is not None and len(self.win_rates):
            rec.table("closer_win_rates", self.win_rates)
            rec.finding(self.win_rate_text())
        if self.system is not None and len(self.system):
            last = self.system.iloc[-1]
            rec.figure("share_under_quota", f"Reps under quota in {last.quarter}", round(float(last.under_share), 3),
                       n=int(last.reps), ci=(round(float(last.under_low), 3), round(float(last.under_high), 3)),
                       ci_level=self.level)
            rec.table("system_or_people", self.system)
            s = self.settings
            system = last.under_share > s.under_quota_share or last.failing_share > s.failing_share
            rec.finding(self.system_text(), "action" if system else "info")
        elif self.system_problem:
            rec.warn(self.system_problem)
        if self.plan is not None:
            rec.table("capacity_plan", self.plan)
            rec.finding(self.plan_text(), "action")
        elif self.plan_problem:
            rec.warn(self.plan_problem)
        rec.headline(self.headline())


# ============================================================================ gathering
def analyse(report: ReportContext, **params: Any) -> PredictableRevenueAnalysis:
    """Run notebook 07's whole analysis for ``report``.

    ``params``: ``monthly_revenue_goal`` (overrides the configured goal; 0 or absent: the configured one,
    else an illustrative goal 25% above recent bookings), ``backtest`` (False skips the backtest).
    """
    config, source = report.config, report.source
    settings = M.PredictableRevenueSettings.from_config(config)
    level = config.confidence_level
    month = report.month
    end = M.month_index(month)
    after = M.month_label(end + 1)
    kinds = settings.source_kinds
    notes: list[str] = []

    deals = R.deal_book(source, kinds)
    deals = deals[deals["created_at"].isna() | (deals["created_at"] < pd.Timestamp(after + "-01", tz="UTC"))]
    # a deal closed after the report month is still open at its end
    late = deals["closed_at"] >= pd.Timestamp(after + "-01", tz="UTC")
    deals = deals.assign(closed_at=deals["closed_at"].mask(late), status=deals["status"].mask(late, "open"))
    first_month = (M.month_label(int(min(M._month_of(deals["created_at"]).min(), end)))
                   if deals["created_at"].notna().any() else month)
    bookings = M.monthly_bookings(deals, first=first_month, last=month)
    history = len(bookings)
    goal_param = float(params.get("monthly_revenue_goal") or 0)
    goal = goal_param or settings.monthly_revenue_goal
    configured = goal > 0
    if not configured:
        recent = bookings["bookings"].tail(3)
        goal = float(recent.mean() * 1.25) if len(recent) else 0.0

    a = PredictableRevenueAnalysis(month=month, settings=settings, level=level, goal=goal,
                                   goal_is_configured=configured, deals=deals, bookings=bookings,
                                   history_months=history, notes=notes)
    # ---- lead mix
    if source.has("leads"):
        km = R.lead_kind_months(source, kinds, end=after)
        if km.empty:
            a.mix_problem = "The leads table has no lead before the end of the month: no lead mix."
        else:
            a.mix, a.mix_monthly = M.lead_mix(km, deals, as_of_month=month, maturity_months=settings.maturity_months,
                                              history_months=settings.history_months, level=level, seed=settings.seed)
            unknown = a.mix[a.mix["lead_kind"] == "unknown"]
            if len(unknown) and unknown["leads_per_month"].iloc[0] > 0:
                notes.append("Some leads have no lead_type and a source not listed in [predictable_revenue.lead_kinds]:"
                             " they are shown as 'unknown kind' (map their sources to seed, net or spear).")
    else:
        a.mix_problem = "The export has no leads table: the lead mix (seeds, nets, spears) cannot be shown."

    # ---- roles
    reps = source.read("reps")
    reps["book_role"] = settings.role_of(reps["role"]) if "role" in reps else ""
    a.roles = reps
    specialised = {"market_response", "sdr", "account_manager"} & set(reps["book_role"])
    if not specialised:
        a.roles_problem = ("The reps table names no specialised roles (market-response, SDR, account manager): every "
                           "seller is taken as a closer, so the role bars are shown for lead owners only. Name roles "
                           "in reps.role and map them in [predictable_revenue.roles] to see each bar.")
    market = reps.loc[reps["book_role"] == "market_response", "rep_id"].tolist()
    closers = reps.loc[reps["book_role"] == "closer", "rep_id"].tolist()
    sdrs = reps.loc[reps["book_role"] == "sdr", "rep_id"].tolist()
    if source.has("leads"):
        rm = R.rep_month_leads(source, kinds, end=after)
        if market:
            rm, a.load_who = rm[rm["rep_id"].isin(market)], "market-response reps"
        else:
            a.load_who = "lead owners"
        if len(rm):
            a.load_table = rm
            a.load = M.lead_load_effect(rm, as_of_month=month, maturity_months=settings.maturity_months,
                                        ceiling=settings.lead_ceiling, level=level)
    if sdrs and source.has("activities"):
        start = M.month_label(end - 2)
        a.sdr = M.sdr_bars(R.rep_week_connects(source, start=start, end=after),
                           R.rep_meeting_opportunities(source, start=start, end=after), sdrs, level=level)
    elif sdrs:
        a.sdr_problem = "The export has no activities table: SDR connects and meetings cannot be counted."
    else:
        a.sdr_problem = "No rep has the SDR role: the SDR bars (25 connects a week, 70-80% qualified) are not shown."
    a.win_rates = M.closer_win_rates(deals, closers or None, as_of_month=month,
                                     history_months=settings.history_months, level=level)

    # ---- system or people
    if source.has("quotas"):
        a.system = M.system_or_people(source.read("quotas"), deals, as_of_month=month, quarters=settings.quarters,
                                      failing_attainment=settings.failing_attainment, level=level)
        if a.system.empty:
            a.system_problem = "No rep carried a quota for a whole complete quarter: no system-or-people check."
    else:
        a.system_problem = "The export has no quotas table: the share of reps under quota cannot be measured."

    # ---- forecast and backtest
    n_won = int((deals["status"] == "won").sum())
    if n_won < settings.min_won_deals or history < 3:
        a.forecast_problem = (f"{history} months of deals with {n_won} won: a forecast needs at least 3 months and "
                              f"{settings.min_won_deals} won deals.")
    else:
        a.forecaster = M.RevenueForecaster(horizon=settings.horizon_months, history=settings.forecast_history_months,
                                           rate_window=settings.rate_window_months, simulations=settings.simulations,
                                           seed=settings.seed,
                                           season_min_months=settings.season_min_months).fit(deals, origin=month)
        if history < settings.min_backtest_months:
            a.backtest_problem = (f"Only {history} months of history (under {settings.min_backtest_months}): the "
                                  "forecast is not backtested yet, so how often it is right is unknown.")
        elif params.get("backtest", True):
            first_origin = M.month_label(M.month_index(first_month) + settings.min_train_months)
            a.backtest = M.backtest(deals, bookings, first_origin=first_origin, last_month=month,
                                    horizon=settings.horizon_months, history=settings.forecast_history_months,
                                    rate_window=settings.rate_window_months,
                                    simulations=max(500, settings.simulations // 2), seed=settings.seed,
                                    season_min_months=settings.season_min_months)
            a.backtest_table = M.backtest_summary(a.backtest, level=level)

    # ---- capacity
    if a.mix is None or a.mix["conversion"].notna().sum() == 0:
        a.plan_problem = "No lead kind has a measured conversion yet: no capacity plan."
    else:
        a.ramp, a.ramp_how = M.ramp_months(deals, reps, as_of_month=month, share=settings.ramp_share,
                                           default=settings.default_ramp_months)
        sellers = closers or sorted(set(deals["rep_id"]))
        won = deals[(deals["status"] == "won") & deals["closed_at"].notna()]
        won = won[(M._month_of(won["closed_at"]) > end - 6) & won["rep_id"].isin(sellers)]
        per_rep = won.groupby("rep_id").size() / 6.0
        # the team's won deals a month per closer (the mean, not the median: with a few top sellers the median
        # rep wins 3 a month where the team wins 4.7 a head, and a goal 25% above today's asked for 28 closers
        # instead of 15): a goal at today's bookings needs today's closers
        a.won_per_closer = float(per_rep.sum() / len(per_rep)) if len(per_rep) else np.nan
        a.closers_now = int(len(per_rep))
        a.inbound_reps_now = len(market) if market else int(
            (a.load_table["month"] == month).sum()) if a.load_table is not None else 0
        if goal <= 0 or not np.isfinite(a.won_per_closer):
            a.plan_problem = "No bookings yet and no goal configured: no capacity plan."
        else:
            a.plan = M.capacity_plan(
                goal=goal, mix=a.mix, won_per_closer=a.won_per_closer, closers_now=a.closers_now,
                inbound_reps_now=a.inbound_reps_now, ceiling=settings.lead_ceiling, ramp=a.ramp,
                goal_month=a.goal_month)
            a.plan_improved = a.plan_for(goal, improvement=settings.improvement)
    return a
