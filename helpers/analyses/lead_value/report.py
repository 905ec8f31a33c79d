"""Notebook 05 in one call: lead value and marketing's pace, the sales SLA, speed to lead and attempts.

``analysis = analyse(report)`` reduces the data in the engine, fits the models and keeps the results
in three parts: ``analysis.value`` (:class:`LeadValueSection`: the lead value model, the value tables,
marketing's pacing), ``analysis.sla`` (:class:`SlaSection`: the "Do not be on it" list, breaches per
rep, the call list) and ``analysis.attempts`` (speed to lead and the attempt cutoffs, or why they are
skipped). Each notebook cell shows one piece (a table, a plot, a sentence);
``analysis.record(report.results)`` writes every figure, finding, caveat and table and the one headline.
In daily mode only marketing's pacing and the SLA are computed; the monthly-only pieces return a short
note instead. A missing optional table or too little history never crashes the page: the affected piece
says why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from helpers.analyses.lead_value import model as lv
from helpers.analyses.lead_value import marketing as mk
from helpers.analyses.lead_value import plots
from helpers.analyses.lead_value import sla
from helpers.analyses.lead_value import speed_to_lead as stl
from helpers.core.intervals import rates_differ_p_value, wilson_interval
from helpers.reporting.context import month_bounds
from helpers.reporting.present import label, name_label

MONTHLY_ONLY = "Shown in the monthly report."
#: Columns kept per lead after fitting: what the value tables, buyer matrix, lead types and marketing's goal read.
_VALUED_COLUMNS = ("created_at", *lv.ATTRIBUTES, "won", "won_mrr", "first_won_at")
_MONTH_COLUMNS = ("created_at", *lv.ATTRIBUTES)


def offers_differ_p_value(table: pd.DataFrame) -> float | None:
    """Whether first offers differ in conversion beyond chance (:func:`helpers.core.intervals.rates_differ_p_value`
    on the table's ``won`` and ``leads``)."""
    return rates_differ_p_value(table["won"], table["leads"])


def _persona_shown(persona: str) -> str:
    return "no persona recorded" if persona == lv.MISSING else name_label(persona)


def _stage_shown(stage: str) -> str:
    return "no stage recorded" if stage == lv.MISSING else stage


def buyer_state_words(persona: str, journey_stage: str, *, personas_recorded: bool = True) -> str:
    """A buyer state in a sentence: "Marketing Mary at awareness"; leads whose export left the persona or the
    journey stage empty read "leads with no persona at awareness", never "(missing) at awareness"; with no
    persona recorded on any lead (the column absent), plainly "leads at awareness"."""
    who = ("leads" if not personas_recorded else
           "leads with no persona" if persona == lv.MISSING else name_label(persona))
    where = "with no journey stage recorded" if journey_stage == lv.MISSING else f"at {journey_stage}"
    return f"{who} {where}"


@dataclass
class LeadValueSection:
    report: Any
    settings: lv.LeadValueSettings
    marketing: mk.MarketingSettings
    message: str = ""  # why the model is missing, if it is
    month_leads: pd.DataFrame | None = None  # leads created in the report's month (volume per buyer state)
    economics: pd.DataFrame | None = None
    model: lv.LeadValueModel | None = None  # with behaviours
    at_creation: lv.LeadValueModel | None = None  # attributes only: the value credited to marketing
    valued: pd.DataFrame | None = None  # mature leads valued at creation (the columns later cells use)
    goal: mk.GoalInfo | None = None
    pace: mk.Pacing | None = None
    pace_message: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.at_creation is not None

    # ------------------------------------------------------------------ text and tables
    def _monthly(self) -> bool:
        return not self.report.daily

    def model_text(self) -> str:
        if not self._monthly():
            return MONTHLY_ONLY
        if not self.ok:
            return f"No lead value model this month: {self.message}"
        m, a = self.model, self.at_creation
        s = self.settings
        lvl = f"{self.report.config.confidence_level:.0%}"
        text = (f"The model learned from {m.n_leads_:,} leads at least {s.maturity_days:.0f} days old, of which "
                f"{m.n_won_:,} became customers. ")
        if m.auc_ is not None:
            text += (f"On {m.n_holdout_:,} leads kept aside it ranks a future customer above a non-customer "
                     f"{m.auc_:.0%} of the time (AUC {m.auc_:.2f}, {lvl} interval {m.auc_ci_[0]:.2f} to "
                     f"{m.auc_ci_[1]:.2f}) using the first {s.feature_window_days:.0f} days of engagement, and "
                     f"{a.auc_:.0%} from what is known the moment the lead arrives. ")
        strong = [f for f in m.strong_factors() if f != "behaviour"]
        text += ("Strong factors: " + ", ".join(f.replace("_", " ") for f in strong) + (
            ", and engagement." if "behaviour" in m.strong_factors() else ".") if strong else "No attribute is a strong factor.")
        weak = m.not_strong_factors()
        if weak:
            text += " Not strong factors (no level moves the odds by 1.5 times or more with confidence): " + \
                ", ".join(w.replace("_", " ") for w in weak) + "."
        unjudged = m.unjudged_factors()
        if unjudged:
            text += (" Not judged, because the leads have one value or none: " +
                     ", ".join(w.replace("_", " ") for w in unjudged) + ".")
        return text

    def plot_factors(self):
        if not (self._monthly() and self.ok):
            return None
        return self.model.plot().figure

    def plot_calibration(self):
        if not (self._monthly() and self.ok) or self.at_creation.calibration_ is None:
            return None
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
        plots.plot_calibration(self.at_creation.calibration_, ax=axes[0])
        axes[0].set_title("At arrival (attributes only)", loc="left", fontsize=11)
        if self.model.calibration_ is not None:
            plots.plot_calibration(self.model.calibration_, ax=axes[1])
            axes[1].set_title(f"After {self.settings.feature_window_days:.0f} days of engagement", loc="left",
                              fontsize=11)
        fig.tight_layout()
        return fig

    def calibration_text(self) -> str:
        if not (self._monthly() and self.ok) or self.at_creation.calibration_ is None:
            return MONTHLY_ONLY if not self._monthly() else ""
        parts = []
        for name, m in (("at arrival", self.at_creation), ("with engagement", self.model)):
            c = m.calibration_
            if c is None:
                continue
            inside = int(((c["predicted"] >= c["ci_low"]) & (c["predicted"] <= c["ci_high"])).sum())
            worst = float((c["observed"] - c["predicted"]).abs().max())
            parts.append(f"{name}, the predicted chance falls inside the observed interval in {inside} of "
                         f"{len(c)} deciles (largest gap {worst:.1%} points)")
        return ("Calibration on the leads kept aside: " + "; ".join(parts) + ". Dollar values use the "
                "at-arrival model, so a lead's value is fixed the day it arrives.")

    def value_by(self, column: str) -> pd.DataFrame:
        """Value per lead by ``first_offer``, ``source`` ... (mature leads, at-arrival model)."""
        if not (self._monthly() and self.ok):
            return pd.DataFrame()
        lvl = self.report.config.confidence_level
        v = self.valued
        g = v.groupby(column, dropna=False)
        t = g.agg(leads=("won", "size"), won=("won", "sum"), p=("p_won", "mean"), value_mrr=("value_mrr", "mean"),
                  value=("value", "mean")).reset_index()
        t[column] = t[column].fillna(lv.MISSING)
        t["won"] = t["won"].astype("int64")
        t["observed"] = t["won"] / t["leads"]
        t["ci_low"], t["ci_high"] = wilson_interval(t["won"], t["leads"], level=lvl)
        return t.sort_values("value", ascending=False, ignore_index=True)

    def value_table(self, column: str = "first_offer") -> pd.DataFrame:
        t = self.value_by(column)
        if t.empty:
            return None
        shown = pd.DataFrame({
            column.replace("_", " ").capitalize(): t[column].map(label),
            "Mature leads": t["leads"].map("{:,}".format),
            "Became customers": t.apply(lambda r: f"{r.observed:.1%} ({r.ci_low:.1%}-{r.ci_high:.1%})", axis=1),
            "Predicted": t["p"].map("{:.1%}".format),
            "Value per lead (new MRR)": t["value_mrr"].map("${:,.0f}".format),
            "Value per lead (lifetime)": t["value"].map("${:,.0f}".format),
        })
        return shown.set_index(shown.columns[0]).rename_axis(None)

    def value_text(self) -> str:
        if not (self._monthly() and self.ok):
            return MONTHLY_ONLY if not self._monthly() else f"No lead values: {self.message}"
        t = self.value_by("first_offer")
        if t.empty:
            return "No lead values: no mature lead has a first offer recorded."
        top, low = t.iloc[0], t.iloc[-1]
        e = self.economics.set_index("segment").loc["all"]
        if not (pd.notna(e["mean_mrr"]) and e["mean_mrr"] > 0 and top["value"] > 0):
            # no money known (no deal amounts, or every amount is 0): value is the chance of winning
            t = t.sort_values("p", ascending=False, ignore_index=True)
            top, low = t.iloc[0], t.iloc[-1]
            head = (f"No deal amounts are known, so a lead's value is its chance of becoming a customer: a "
                    f"{top['first_offer'].replace('_', ' ')} lead {top['p']:.1%}")
            if len(t) < 2:
                return head + "."
            if low["p"] > 0 and top["p"] > low["p"]:
                return head + (f", {top['p'] / low['p']:,.1f} times a {low['first_offer'].replace('_', ' ')} lead "
                               f"({low['p']:.1%}).")
            return head + f", a {low['first_offer'].replace('_', ' ')} lead {low['p']:.1%}."
        how = (f"Value = chance of becoming a customer x expected MRR of the segment (${e['mean_mrr']:,.0f} on "
               f"average) x expected lifetime ({e['lifetime_months']:.0f} months on average, from "
               f"{int(e['churned'])} churns in {e['customer_months']:,.0f} customer-months, capped at "
               f"{self.settings.lifetime_cap_months:.0f}).")
        pct = f"{self.report.config.confidence_level:.0%}"
        rates = "; ".join(f"{label(r.first_offer)} {r.observed:.1%} ({pct} CI {r.ci_low:.1%} to {r.ci_high:.1%}, "
                          f"n = {int(r.leads):,})" for r in (top, low))
        p_differ = offers_differ_p_value(t)
        if len(t) >= 2 and (p_differ is None or p_differ >= 1 - self.report.config.confidence_level):
            tested = "" if p_differ is None else f" (chi-square test across {len(t)} first offers, p = {p_differ:.2f})"
            return (f"First offers do not differ in how often their leads become customers beyond chance{tested}: "
                    f"the highest and lowest observed are {rates}. Until they do, value every lead alike: "
                    f"${t['value'].mean():,.0f} over the customer's life on average. " + how)
        if low["value"] <= 0:
            return (f"A {top['first_offer'].replace('_', ' ')} lead is worth ${top['value']:,.0f} over the customer's "
                    f"life; a {low['first_offer'].replace('_', ' ')} lead has shown no value yet. Leads that became customers: {rates}.")
        ratio = top["value"] / low["value"]
        times = f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:,.1f}"
        return (f"A {top['first_offer'].replace('_', ' ')} lead is worth ${top['value']:,.0f} over the customer's "
                f"life, {times} times a {low['first_offer'].replace('_', ' ')} lead (${low['value']:,.0f}). "
                f"Leads that became customers: {rates}. "
                f"Value = chance of becoming a customer x expected MRR of the segment (${e['mean_mrr']:,.0f} on "
                f"average) x expected lifetime ({e['lifetime_months']:.0f} months on average, from "
                f"{int(e['churned'])} churns in {e['customer_months']:,.0f} customer-months, capped at "
                f"{self.settings.lifetime_cap_months:.0f}).")

    def points(self) -> pd.DataFrame:
        if not (self._monthly() and self.ok):
            return pd.DataFrame()
        return lv.points_table(self.model, self.settings.opinion_points)

    def points_shown(self) -> pd.DataFrame:
        p = self.points()
        if p.empty:
            return None
        shown = pd.DataFrame({
            "Item": p["item"].map(label), "Kind": p["kind"],
            "Opinion points": p["opinion_points"].map("{:.0f}".format),
            "Points from the data": p.apply(lambda r: "no data" if pd.isna(r.data_points) else
                                            f"{r.data_points:.0f} ({r.ci_low:.0f} to {r.ci_high:.0f})", axis=1),
        })
        return shown.set_index("Item").rename_axis(None)

    def points_text(self) -> str:
        p = self.points()
        if p.empty:
            return MONTHLY_ONLY if not self._monthly() else ""
        rho = lv.points_agreement(p)
        known = p.dropna(subset=["data_points"])
        over = known.loc[known["opinion_rank"] < known["data_rank"] - 2, "item"].str.replace("_", " ").tolist()
        text = (f"Points from the data are 10 per doubling of the odds of becoming a customer (first offers "
                f"relative to {self.model.reference_.get('first_offer', '?').replace('_', ' ')}, behaviours per "
                f"occurrence). The opinion table and the data agree with a rank correlation of {rho:.2f}.")
        if over:
            text += " The opinion table overrates " + ", ".join(over) + "."
        return text

    def buyer_matrix(self) -> pd.DataFrame:
        if not (self._monthly() and self.ok):
            return pd.DataFrame()
        return lv.buyer_matrix(self.valued, self._month_leads(), target_band=self.settings.target_band,
                               small_n=self.report.config.small_sample_n, level=self.report.config.confidence_level)

    def buyer_matrix_shown(self) -> pd.DataFrame:
        b = self.buyer_matrix()
        if b.empty:
            return None
        shown = pd.DataFrame({
            "Persona": b["persona"].map(_persona_shown), "Journey stage": b["journey_stage"].map(_stage_shown),
            f"Leads in {self.report.month_label}": b["leads_in_month"].map("{:,}".format),
            "Mature leads": b["mature_leads"].map("{:,}".format),
            "Became customers": b.apply(lambda r: f"{r.conversion:.1%} ({r.ci_low:.1%}-{r.ci_high:.1%})", axis=1),
            "Value per lead": b["value_per_lead"].map(lambda v: "" if pd.isna(v) else f"${v:,.0f}"),
            "Recommendation": b["recommendation"],
        })
        return shown.set_index(["Persona", "Journey stage"])

    def buyer_text(self) -> str:
        b = self.buyer_matrix()
        if b.empty:
            return MONTHLY_ONLY if not self._monthly() else ""
        lo, hi = b["target_low"].iloc[0], b["target_high"].iloc[0]
        text = (f"Target band: {lo:.1%} to {hi:.1%} of leads becoming customers "
                f"({self.settings.target_band[0]:g} to {self.settings.target_band[1]:g} times the overall rate). ")
        early = b.loc[b["recommendation"] == "pass earlier"]
        late = b.loc[b["recommendation"] == "pass later"]
        recorded = bool((b["persona"] != lv.MISSING).any())
        name = lambda r: buyer_state_words(r.persona, r.journey_stage, personas_recorded=recorded)  # noqa: E731
        if len(early):
            text += ("Pass to sales as soon as they arrive: " + ", ".join(name(r) for r in early.itertuples())
                     + " (converting far above target). ")
        if len(late):
            text += ("Nurture in marketing before passing to sales: " + ", ".join(name(r) for r in late.itertuples())
                     + " (converting far below target).")
        if not len(early) and not len(late):
            text += "No buyer state converts far outside the band."
        return text

    def movement(self) -> pd.DataFrame | None:
        if not (self._monthly() and self.ok):
            return None
        m = lv.stage_movement(self.report.source, as_of=self.report.as_of,
                              journey_events=self.settings.journey_events)
        shown = m.pivot_table(index="from_stage", columns="to_stage", values="leads", aggfunc="sum", fill_value=0)
        shown.index.name, shown.columns.name = "Stage at arrival", "Stage reached"
        return shown

    def lead_types(self) -> pd.DataFrame:
        if not (self._monthly() and self.ok):
            return pd.DataFrame()
        return lv.lead_type_table(self.valued, self._month_leads(), level=self.report.config.confidence_level)

    def lead_types_shown(self) -> pd.DataFrame:
        t = self.lead_types()
        if t.empty:
            return None
        shown = pd.DataFrame({
            "Lead type": t["lead_type"], f"Leads in {self.report.month_label}": t["leads_in_month"].map("{:,}".format),
            "Became customers": t.apply(lambda r: f"{r.conversion:.1%} ({r.ci_low:.1%}-{r.ci_high:.1%})"
                                        if r.mature_leads else "", axis=1),
            "Days to close (median)": t.apply(lambda r: "" if pd.isna(r.cycle_days_median) else (
                f"{r.cycle_days_median:.0f} ({r.cycle_ci_low:.0f}-{r.cycle_ci_high:.0f})"
                if not pd.isna(r.cycle_ci_low) else f"{r.cycle_days_median:.0f} (too few)"), axis=1),
            "Value per lead": t["value_per_lead"].map(lambda v: "" if pd.isna(v) else f"${v:,.0f}"),
        })
        return shown.set_index("Lead type").rename_axis(None)

    def pacing_text(self) -> str:
        return self.pace.sentence() if self.pace is not None else f"No pacing: {self.pace_message}"

    def goal_text(self) -> str:
        return self.goal.how if self.goal is not None else ""

    def plot_pacing(self):
        if self.pace is None:
            return None
        return plots.plot_pacing(self.pace).figure

    def check_text(self) -> str:
        """Deterministic summary for the notebook's checked output."""
        if not self.ok:
            return f"lead value model: none ({self.message})"
        if not self._monthly():
            return f"pacing: {self.pace is not None}"
        ranking = self.value_by("first_offer")["first_offer"].tolist()
        return (f"mature leads {self.model.n_leads_}, won {self.model.n_won_}\n"
                f"first offers by value: {' > '.join(ranking)}\n"
                f"strong factors: {', '.join(self.model.strong_factors()) or 'none'}")

    def _month_leads(self) -> pd.DataFrame:
        return self.month_leads

    # ------------------------------------------------------------------ results file
    def record(self, recorder: Any) -> None:
        """Figures, findings, caveats and detail tables into ``recorder`` (the headline: :class:`LeadValueAnalysis`)."""
        res = recorder
        lvl = self.report.config.confidence_level
        if self.pace is not None:
            p = self.pace
            res.figure("marketing_lead_value_to_date", f"Marketing lead value to {p.as_of:%d %b}", round(p.to_date),
                       unit="$")
            res.figure("marketing_goal", "Marketing's lead-value goal for the month", round(p.goal), unit="$")
            res.figure("marketing_pct_of_ideal", "Lead value vs the ideal line", round(100 * p.pct_of_ideal, 1),
                       unit="%")
            res.figure("marketing_projection", "Projected lead value at month end", round(p.projection), unit="$",
                       n=p.rate_days, ci_level=lvl,  # a month already over has a total, not an interval
                       ci=None if p.projection_low == p.projection_high else (p.projection_low, p.projection_high))
            res.finding(p.sentence(), "good" if p.status == "ahead" else "action" if p.status == "behind" else "info")
            res.table("marketing_pacing", p.table)
        elif self.pace_message:
            res.warn(f"Marketing pacing not shown: {self.pace_message}")
        if not self._monthly():
            return
        if not self.ok:
            res.warn(f"Lead value model not fitted: {self.message}")
            return
        m, a = self.model, self.at_creation
        if m.auc_ is not None:
            res.figure("lead_model_auc", "Lead model AUC on holdout leads (with engagement)", round(m.auc_, 3),
                       n=m.n_holdout_, ci=m.auc_ci_, ci_level=lvl)
        if a.auc_ is not None:
            res.figure("lead_model_auc_at_arrival", "Lead model AUC on holdout leads (at arrival)", round(a.auc_, 3),
                       n=a.n_holdout_, ci=a.auc_ci_, ci_level=lvl)
            res.table("lead_model_calibration", a.calibration_)
        res.table("lead_model_factors", m.summary)
        for column in ("first_offer", "source"):
            res.table(f"lead_value_by_{column}", self.value_by(column))
        res.table("lead_value_points", self.points())
        res.table("buyer_matrix", self.buyer_matrix())
        res.table("lead_types", self.lead_types())
        res.table("segment_economics", self.economics)
        res.finding(self.value_text(), "info")
        b = self.buyer_matrix()
        if (b["recommendation"].isin(["pass earlier", "pass later"])).any():
            res.finding(self.buyer_text(), "action")
        if m.n_won_ < self.report.config.small_sample_n:
            res.warn(f"The lead value model rests on only {m.n_won_} won leads: treat values as rough.")


def _sla_clause(violations: pd.DataFrame | None, first_touch_hours: float) -> str:
    if violations is None:
        return "the sales SLA was not checked"
    if violations.empty:
        return "no lead breaks the sales SLA"
    leads = int(violations["lead_id"].nunique())
    untouched = int((violations["status"] == "never touched").sum())
    hours = "the hour" if first_touch_hours == 1 else f"{first_touch_hours:g} hours"
    text = f"{leads:,} lead{'s' if leads != 1 else ''} break{'' if leads != 1 else 's'} the sales SLA"
    return text + (f" ({untouched:,} untouched past {hours})" if untouched else " (none untouched past the deadline)")


def combined_headline(pace: "mk.Pacing | None", violations: pd.DataFrame | None, *, daily: bool,
                      month_label: str, first_touch_hours: float = 1.0, pace_message: str = "") -> str:
    """ONE sentence for the index card with the state of both halves: marketing's pace and the sales SLA.

    Monthly: value to date as a share of the month's goal when the month is over, else of the ideal line
    to date with the projection. Daily: share of the ideal line to date and the projected share of the
    goal. Then the leads breaking the SLA and those still untouched past the first-touch deadline.
    Without pacing (no goal, no model) the first half says so in a few words.
    """
    if pace is None:
        first = f"Marketing's {month_label} lead-value pace cannot be shown ({pace_message.rstrip('.') or 'no goal'})"
        if len(first) > 140:
            first = f"Marketing's {month_label} lead-value pace cannot be shown"
    elif not daily and pace.days_elapsed >= pace.days_in_month:
        first = f"Marketing reached {pace.to_date / pace.goal:.0%} of its {month_label} lead-value goal" \
            if pace.goal > 0 else f"Marketing has no {month_label} lead-value goal"
    else:
        first = (f"Marketing is at {pace.pct_of_ideal:.0%} of the ideal line to its {month_label} lead-value goal "
                 f"after {pace.days_elapsed} of {pace.days_in_month} days (projected "
                 f"{pace.projected_pct_of_goal:.0%}, {pace.status})")
    return f"{first}; {_sla_clause(violations, first_touch_hours)}."


def lead_value_section(report: Any) -> LeadValueSection:
    """Reduce, fit and value once; every later cell reads from the returned section."""
    config = report.config
    settings = lv.LeadValueSettings.from_config(config)
    msettings = mk.MarketingSettings.from_config(config)
    sec = LeadValueSection(report=report, settings=settings, marketing=msettings)
    source = report.source
    as_of = report.as_of
    features = lv.lead_features(source, as_of=as_of, window_days=settings.feature_window_days)
    first, after = month_bounds(report.month)
    day = features["created_at"].dt.tz_convert("UTC").dt.date
    sec.month_leads = features.loc[(day >= first) & (day < after), list(_MONTH_COLUMNS)]
    mature = lv.mature_leads(features, as_of=as_of, maturity_days=settings.maturity_days)
    del features, day  # one per-lead frame at a time: at scale each is hundreds of MB
    sec.economics = lv.segment_economics(source, as_of=as_of, lifetime_cap_months=settings.lifetime_cap_months,
                                         level=config.confidence_level)
    kw = dict(prior_sd=settings.prior_sd, holdout_share=settings.holdout_share,
              confidence_level=config.confidence_level, strong_odds_ratio=settings.strong_odds_ratio)
    fit_kw = dict(min_leads=settings.min_mature_leads, min_won=settings.min_won_leads)
    if sec.economics.set_index("segment").loc["all", "won_deals"] == 0:
        sec.message = "no won deals with a customer record yet, so a lead's dollar value cannot be estimated."
    else:
        try:
            sec.at_creation = lv.LeadValueModel(behaviours=False, **kw).fit(mature, **fit_kw)
            if not report.daily:
                sec.model = lv.LeadValueModel(count_cap=settings.behaviour_count_cap,
                                              behaviour_form=settings.behaviour_form, **kw).fit(mature, **fit_kw)
        except lv.NotEnoughLeadsError as exc:
            sec.at_creation = sec.model = None
            sec.message = str(exc)
    if sec.at_creation is not None:
        mature = mature[list(_VALUED_COLUMNS)]  # the engagement counts and ids are only needed for fitting
        sec.valued = lv.value_leads(mature, sec.at_creation, sec.economics)
        del mature
        try:
            sec.goal = mk.goal_for_month(msettings, sec.valued)
        except mk.MarketingError as exc:
            sec.pace_message = str(exc)
        if sec.goal is not None:
            first, _ = month_bounds(report.month)
            start = min(first, as_of - timedelta(days=msettings.window_days - 1))
            daily = mk.lead_value_by_day(source, sec.at_creation, sec.economics, start=start.isoformat(),
                                         end=as_of.isoformat(), lead_types=msettings.lead_types)
            sec.pace = mk.pacing(daily, month=report.month, as_of=as_of, goal=sec.goal.goal, unit=sec.goal.unit,
                                 window_days=msettings.window_days, data_start=report.period_start,
                                 level=config.confidence_level)
    else:
        sec.pace_message = sec.message
    return sec


@dataclass
class SlaSection:
    """The sales SLA half of notebook 05: the "Do not be on it" list, breaches per rep and the call list."""

    rules: Any  # helpers.core.config.SlaRules
    daily: bool
    violations: pd.DataFrame  # every breach of every rule as of the cutoff
    window: pd.DataFrame  # leads created in the period (day or month) and first touched late
    reps: pd.DataFrame  # rep_id, name
    counts: pd.DataFrame  # breaches per rep and rule, with a Total row
    breaches_per_rep: int  # newest breaches listed per rep on the page
    call_settings: sla.CallListSettings
    calls: pd.DataFrame  # open leads on the reps' call lists

    def summary_text(self) -> str:
        return sla.summary_text(self.violations, self.window, rules=self.rules, daily=self.daily)

    def counts_text(self) -> str:
        return sla.counts_text(self.counts)

    def plot_violations(self, ax: Any = None) -> Any:
        return plots.plot_violations_by_rep(self.counts, ax=ax)

    def counts_table(self) -> pd.DataFrame:
        return sla.counts_for_page(self.counts)

    def breaches_table(self) -> pd.DataFrame:
        return sla.breaches_for_page(self.violations, n=self.breaches_per_rep, reps=self.reps)

    def call_list_table(self) -> pd.DataFrame:
        return sla.call_list_for_page(self.calls, per_rep=self.call_settings.per_rep, reps=self.reps)

    def record(self, recorder: Any) -> None:
        sla.record_sla(recorder, self.violations, self.counts, self.window)
        recorder.table("call_list", self.calls)
        recorder.figure("call_list_leads", "Open leads on the reps' call lists", len(self.calls), unit="leads")


def sla_section(report: Any) -> SlaSection:
    """The SLA lists of ``report`` as of its cutoff instant (``report.as_of_time``: the end of the month's last
    day, or the moment today's daily dashboard runs); the window is the day in daily mode, else the month."""
    rules, cutoff = report.config.sla, report.as_of_time
    violations = sla.sla_violations(report.source, as_of=cutoff, rules=rules)
    window = sla.late_first_touches(violations, start=sla.window_start(report), end=cutoff)
    reps = report.source.read("reps", columns=["rep_id", "name"])
    per_rep = int(report.config.settings.number("sla.violations_per_rep", integer=True, minimum=1))
    call_settings = sla.CallListSettings.from_config(report.config)
    calls = sla.call_list(report.source, as_of=cutoff, settings=call_settings)
    return SlaSection(rules=rules, daily=report.daily, violations=violations, window=window, reps=reps,
                      counts=sla.violation_counts(violations, reps=reps), breaches_per_rep=per_rep,
                      call_settings=call_settings, calls=calls)


@dataclass
class LeadValueAnalysis:
    """Everything notebook 05 shows: ``value`` (lead value and pacing), ``sla`` and ``attempts``."""

    value: LeadValueSection
    sla: SlaSection
    attempts: "stl.AttemptAnalysis | stl.Skipped"
    daily: bool
    month_label: str

    @property
    def summary(self) -> pd.DataFrame:
        """Breaches of the sales SLA per rep and rule (with a Total row): the page's action list in numbers."""
        return self.sla.counts

    def headline(self) -> str:
        """ONE sentence with the state of both halves: marketing's pace and the sales SLA."""
        return combined_headline(self.value.pace, self.sla.violations, daily=self.daily, month_label=self.month_label,
                                 first_touch_hours=self.sla.rules.first_touch_hours,
                                 pace_message=self.value.pace_message)

    def plot_speed(self, ax: Any = None) -> Any:
        """Conversion by speed of first touch, or nothing when speed to lead is skipped (daily mode)."""
        if isinstance(self.attempts, stl.Skipped):
            return None
        return plots.plot_speed_to_lead(self.attempts.speed, ax=ax).figure

    def plot_attempts(self, ax: Any = None) -> Any:
        """Connect rate by attempt with the recommended cutoffs, or nothing when skipped."""
        if isinstance(self.attempts, stl.Skipped):
            return None
        a = self.attempts
        return plots.plot_attempt_curve(a.curve[a.curve["at_risk"] >= a.min_n], cutoffs=a.cutoffs, ax=ax).figure

    def record(self, recorder: Any) -> None:
        """Figures, findings, caveats and tables of the three parts, then the one headline, into ``recorder``."""
        self.value.record(recorder)
        self.sla.record(recorder)
        self.attempts.record(recorder)
        recorder.headline(self.headline())


def analyse(report: Any) -> LeadValueAnalysis:
    """Reduce, fit and value once; every cell of notebook 05 reads from the returned analysis."""
    return LeadValueAnalysis(value=lead_value_section(report), sla=sla_section(report),
                             attempts=stl.attempt_analysis(report), daily=report.daily,
                             month_label=report.month_label)


__all__ = ["LeadValueAnalysis", "LeadValueSection", "MONTHLY_ONLY", "SlaSection", "analyse", "combined_headline",
           "lead_value_section", "sla_section"]
