"""Notebook 04 in one object: churn by rep and consultant, quartiles, retention, the statement, the plan what-if.

``analysis = analyse(report)`` runs every reduction once (in the engine) and the
statistics on the small results; its methods give the notebook's tables, plots and sentences
(numbers come from here, never typed into the notebook), and :meth:`CompensationAnalysis.record`
writes the results file's headline, figures, findings, caveats and detail tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helpers.analyses.compensation.churn import (DAYS_PER_MONTH, ChurnHeterogeneity, RetentionCurves, churn_rates, customer_cohorts,
                                                retention_durations)
from helpers.core.intervals import rates_differ_p_value
from helpers.core.periods import month_at, month_index
from helpers.analyses.compensation.model import (PLAN_LABELS, PlanComparison, PlanSettings, commission_statement, commitment_payments,
                           rolling_quartiles, statement_lines)
from helpers.analyses.compensation import plots

__all__ = ["CompensationAnalysis", "analyse"]


def _usd(cents: float) -> str:
    return f"${cents / 100:,.2f}"


def _pct(x: float) -> str:
    return "n/a" if x is None or pd.isna(x) else f"{100 * x:.1f}%"


@dataclass
class CompensationAnalysis:
    report: Any
    settings: PlanSettings
    cohorts: pd.DataFrame
    months: list[str]
    multipliers: pd.DataFrame
    ranking: pd.DataFrame
    consultants: pd.DataFrame
    billing: pd.DataFrame
    retention: RetentionCurves | None
    lines: pd.DataFrame
    statement: pd.DataFrame
    comparison: PlanComparison | None
    names: dict[str, str]
    notes: list[str] = field(default_factory=list)
    files: list[Any] = field(default_factory=list)
    heterogeneity: Any = None  # churn.ChurnHeterogeneity over the ranked reps: do they differ beyond chance?

    # ------------------------------------------------------------------ text
    def rules_text(self) -> str:
        s = self.settings
        return (f"Plan on the statement: {s.plan}\n"
                f"Rate: {s.rate:g} per $1 of new MRR; clawback within {s.clawback_months} calendar months, "
                f"deducted the next month\n"
                f"Quartiles: churn within {s.window_months} calendar months, at least {s.min_customers} judged customers, "
                f"{s.min_reps}+ eligible reps, lookback {s.lookback_months or 'all'} months\n"
                f"Multipliers best to worst: {' / '.join(f'{m:g}' for m in s.multipliers)}; "
                f"not ranked: {s.unranked_multiplier:g}")

    def overview_text(self) -> str:
        r = self.ranking
        judged = int(r["customers_judged"].sum())
        churned = int(r["churned_in_window"].sum())
        ranked = int((r["status"] == "ranked").sum())
        waiting = int((r["status"] != "ranked").sum())
        return (f"{int(r['customers'].sum()):,} customers closed by {len(r)} salespeople up to {self.report.as_of}; "
                f"{judged:,} of them started long enough ago to judge (their {self.settings.window_months}-month window "
                f"has closed), and {churned:,} of those ({_pct(churned / judged if judged else np.nan)}) left within "
                f"it. {ranked} salespeople are ranked into quartiles; {waiting} have not enough customers yet.")

    def quartile_text(self) -> str:
        r = self.ranking[self.ranking["status"] == "ranked"]
        if r.empty:
            return ("Nobody is ranked this month: quartiles need at least "
                    f"{self.settings.min_reps} salespeople with {self.settings.min_customers}+ judged customers each. "
                    f"Everyone is paid the unranked multiplier ({self.settings.unranked_multiplier:g}).")
        best = r[r["quartile"] == 1]
        worst = r[r["quartile"] == r["quartile"].max()]
        return (f"The best quartile lost {_pct(best['churned_in_window'].sum() / best['customers_judged'].sum())} of "
                f"its customers within {self.settings.window_months} months, the bottom quartile "
                f"{_pct(worst['churned_in_window'].sum() / worst['customers_judged'].sum())}. Bottom quartile: "
                f"{', '.join(self.names.get(x, x) for x in worst['rep_id'])}.")

    def quartile_table(self) -> pd.DataFrame:
        r = self.ranking.copy()
        shown = pd.DataFrame({
            "Salesperson": [self.names.get(x, x) for x in r["rep_id"]],
            "Customers": r["customers"], "Judged": r["customers_judged"], "Lost in window": r["churned_in_window"],
            "Churn rate": [_pct(v) for v in r["churn_rate"]],
            "95% interval": [("" if pd.isna(lo) else f"{100 * lo:.0f}-{100 * hi:.0f}%") for lo, hi in
                             zip(r["ci_low"], r["ci_high"])],
            "Lost so far (life)": [_pct(v) for v in r["lifetime_churn_share"]],
            "Quartile": [("" if pd.isna(q) else int(q)) for q in r["quartile"]],
            "Multiplier": r["multiplier"], "Status": r["status"]})
        return shown.set_index("Salesperson").rename_axis(None)

    def plot_rep_churn(self, ax=None):
        return plots.plot_rep_churn(self.ranking, names=self.names, ax=ax)

    def plot_retention(self, ax=None):
        if self.retention is None or not self.retention.curves_:
            return plots.plot_message("No ranked quartiles yet: no retention curves by quartile.", ax=ax)
        labels = {q: f"Quartile {q} (x{self.settings.multipliers[q - 1]:g})" for q in self.retention.curves_}
        return self.retention.plot(ax, labels=labels, colours=plots.QUARTILE_COLOURS)

    def retention_text(self) -> str:
        if self.retention is None or not self.retention.curves_:
            return "Retention curves by quartile appear once salespeople are ranked."
        days = 12 * DAYS_PER_MONTH
        at = self.retention.retention_at(days)
        groups = sorted(at.index)
        return (f"A year after the start, {_pct(at[groups[0]])} of the best quartile's customers still pay, against "
                f"{_pct(at[groups[-1]])} of the bottom quartile's (Kaplan-Meier estimate; customers still active are "
                f"counted for as long as they have been followed).")

    def consultant_table(self) -> pd.DataFrame:
        c = self.consultants
        return pd.DataFrame({
            "Consultant": [self.names.get(x, x) for x in c["rep_id"]], "Customers": c["customers"],
            "Judged": c["customers_judged"], "Lost in window": c["churned_in_window"],
            "Churn rate": [_pct(v) for v in c["churn_rate"]],
            "95% interval": [("" if pd.isna(lo) else f"{100 * lo:.0f}-{100 * hi:.0f}%") for lo, hi in
                             zip(c["ci_low"], c["ci_high"])]}).set_index("Consultant").rename_axis(None)

    def consultant_text(self) -> str:
        c = self.consultants[self.consultants["customers_judged"] > 0]
        parts = []
        if len(c) >= 2:
            best, worst = c.loc[c["churn_rate"].idxmin()], c.loc[c["churn_rate"].idxmax()]
            p_differ = rates_differ_p_value(c["churned_in_window"], c["customers_judged"])
            differ = p_differ is not None and p_differ < 1 - self.report.config.confidence_level
            tested = "" if p_differ is None else f" (chi-square test across {len(c)} consultants, p = {p_differ:.2g})"
            parts.append(f"Post-sale consultants: {self.names.get(best['rep_id'], best['rep_id'])} keeps customers best "
                         f"({_pct(best['churn_rate'])} lost), {self.names.get(worst['rep_id'], worst['rep_id'])} worst "
                         f"({_pct(worst['churn_rate'])}); "
                         + (f"consultants differ beyond chance{tested}." if differ else
                            f"consultants do not differ beyond chance{tested}, so the gap may be luck."))
        b = self.billing.set_index("rep_id")
        if {"monthly", "annual_prepay"} <= set(b.index):
            parts.append(f"Customers who prepay a year lost {_pct(b.loc['annual_prepay', 'churn_rate'])} within the "
                         f"window, monthly payers {_pct(b.loc['monthly', 'churn_rate'])}.")
        return " ".join(parts) or "No consultant data: the customers table names no consultants."

    def statement_table(self) -> pd.DataFrame:
        s = self.statement
        s = s[(s["new_lines"] > 0) | (s["clawback_lines"] > 0) | (s["carried_in_cents"] > 0)]
        shown = pd.DataFrame({
            "Salesperson": [self.names.get(x, x) for x in s["rep_id"]], "New lines": s["new_lines"],
            "Commission": [_usd(v) for v in s["earned_cents"]], "Clawbacks": [_usd(v) for v in s["clawback_cents"]],
            "Owed from before": [_usd(v) for v in s["carried_in_cents"]],
            "Payout": [_usd(v) for v in s["payout_cents"]], "Carried forward": [_usd(v) for v in s["carried_out_cents"]]})
        return shown.set_index("Salesperson").rename_axis(None)

    def totals(self) -> dict[str, int]:
        s = self.statement
        return {k: int(s[f"{k}_cents"].sum())
                for k in ("earned", "clawback", "carried_in", "deducted", "payout", "carried_out")}

    def reconciliation_text(self) -> str:
        """How the payout adds up, every term named: earned - clawbacks - owed from before + carried forward."""
        t = self.totals()
        return (f"Payout {_usd(t['payout'])} = commission earned {_usd(t['earned'])} \u2212 clawbacks "
                f"{_usd(t['clawback'])} \u2212 owed from earlier months {_usd(t['carried_in'])} + carried forward to "
                f"next month {_usd(t['carried_out'])} (clawbacks a rep's earnings could not cover this month).")

    def statement_text(self) -> str:
        t = self.totals()
        claw_lines = int(self.statement["clawback_lines"].sum())
        return (f"{self.report.month_label} under the {self.settings.plan.replace('_', '-')} plan: {_usd(t['earned'])} "
                f"commission on {int(self.statement['new_lines'].sum())} lines, {_usd(t['clawback'])} clawed back on "
                f"{claw_lines} customers who left within {self.settings.clawback_months} months. "
                f"{self.reconciliation_text()} Every line names its customer and deal in the payroll file.")

    def export(self, folder: Any) -> str:
        from helpers.analyses.compensation.payroll import export_payroll

        lines = self.lines.assign(name=[self.names.get(x, x) for x in self.lines["rep_id"]])
        self.files = export_payroll(self.statement, lines, folder, month=self.report.month)
        if not self.files:
            return "Payroll files are written by the monthly run (or pass export_dir when running by hand)."
        return "Payroll files: " + ", ".join(p.name for p in self.files) + "."

    def plan_table(self) -> pd.DataFrame:
        s = self.comparison.summary
        return pd.DataFrame({"Plan": s["label"], "Commission earned": s["earned"].map("${:,.0f}".format),
                             "Clawed back": s["clawed_back"].map("${:,.0f}".format),
                             "Paid": s["paid"].map("${:,.0f}".format),
                             "Per $1 new MRR": s["cost_per_new_mrr"].map("${:.2f}".format),
                             "Per $1 MRR still paying": s["cost_per_retained_mrr"].map("${:.2f}".format)}
                            ).set_index("Plan").rename_axis(None)

    def plan_text(self) -> str:
        cmp = self.comparison
        moved = cmp.by_rep_.sort_values(["rank_change", "hunting_rank"])
        down = moved[moved["rank_change"] < 0].head(3)
        rho = cmp.rank_correlation()
        movers = ("falling most under customer success: " + ", ".join(
            f"{self.names.get(r, r)} ({int(row['hunting_rank'])} -> {int(row['customer_success_rank'])})"
            for r, row in down.iterrows())) if len(down) else "nobody's pay rank changes"
        corr = "" if pd.isna(rho) else f" Pay ranks under the hunting and customer-success plans correlate at {rho:.2f};"
        return (cmp.headline() + corr + f" {movers}. History is replayed with the same sales: the plans differ in "
                "what they pay and to whom, not (here) in how people would have sold.")

    def rank_table(self) -> pd.DataFrame:
        b = self.comparison.by_rep_.sort_values("hunting_rank")
        return pd.DataFrame({"Salesperson": [self.names.get(x, x) for x in b.index],
                             "Hunting pay": b["hunting"].map("${:,.0f}".format), "rank": b["hunting_rank"],
                             "Customer-success pay": b["customer_success"].map("${:,.0f}".format),
                             "rank ": b["customer_success_rank"],
                             "Commitment pay": b["commitment"].map("${:,.0f}".format),
                             "rank  ": b["commitment_rank"]}).set_index("Salesperson").rename_axis(None)

    def plot_plans(self, ax=None):
        return self.comparison.plot(ax)

    def training_list(self) -> list[str]:
        """The bottom quartile, named for training only when reps' churn differs beyond chance."""
        if self.heterogeneity is not None and not self.heterogeneity.differ_:
            return []
        r = self.ranking
        return r.loc[(r["status"] == "ranked") & (r["quartile"] == 4), "rep_id"].tolist()

    def training_text(self) -> str:
        reps = self.training_list()
        if self.heterogeneity is not None and not self.heterogeneity.differ_:
            return self.heterogeneity.sentence()
        if not reps:
            return "No salesperson is in the bottom quartile this month."
        return (f"Extra training for the bottom quartile ({len(reps)}): "
                + ", ".join(self.names.get(r, r) for r in reps)
                + ". Look at how they qualify (report 03 shows their funnel): customers who churn early were often "
                  "sold something they did not need."
                + (f" {self.heterogeneity.sentence()}" if self.heterogeneity is not None else ""))

    # ------------------------------------------------------------------ results file
    @property
    def summary(self) -> pd.DataFrame:
        """One row per salesperson: churn rate with its interval, quartile, multiplier and status."""
        return self.ranking

    def record(self, recorder: Any) -> None:
        """Headline, figures, findings, caveats and detail tables into ``recorder`` (``report.results``)."""
        rec = recorder
        small_n = self.report.config.small_sample_n
        level = self.report.config.confidence_level
        t = self.totals()
        r = self.ranking
        ranked = r[r["status"] == "ranked"]
        judged, churned = int(r["customers_judged"].sum()), int(r["churned_in_window"].sum())
        bottom = [self.names.get(x, x) for x in self.training_list()]
        carry = t["carried_out"] - t["carried_in"]  # the headline reconciles: earned - clawbacks + net carry-over
        head = (f"{self.report.month_label}: payout {_usd(t['payout'])} from {_usd(t['earned'])} earned after "
                f"{_usd(t['clawback'])} of clawbacks"
                + (f" and {_usd(abs(carry))} {'carried forward' if carry > 0 else 'of earlier clawbacks recovered'}"
                   if carry else "") + "; "
                f"{len(ranked)} salespeople ranked by churn")
        noise = self.heterogeneity is not None and not self.heterogeneity.differ_ and len(ranked)
        head += (f", bottom quartile (x{self.settings.multipliers[3]:g}, extra training): {', '.join(bottom)}." if bottom
                 else "; churn does not differ between them beyond chance: the quartiles are noise this period."
                 if noise else " (no quartiles yet).")
        rec.headline(head)
        rec.key_figure("commission_payout", f"Commission payout, {self.report.month_label}", t["payout"] / 100, unit="$")
        from helpers.core.intervals import wilson_interval

        lo, hi = wilson_interval(np.array([churned]), np.array([judged]), level=level)
        rec.figure("team_churn_within_window", f"Customers lost within {self.settings.window_months} months",
                   round(100 * churned / judged, 2) if judged else None, unit="%", n=judged,
                   ci=None if not judged else (round(100 * lo[0], 2), round(100 * hi[0], 2)),
                   ci_level=level if judged else None)
        for k, label in (("earned", "Commission earned"), ("clawback", "Clawbacks due"),
                         ("carried_in", "Owed from earlier months"), ("deducted", "Deducted"),
                         ("carried_out", "Carried forward to next month")):
            rec.figure(f"commission_{k}", f"{label}, {self.report.month_label}", t[k] / 100, unit="$")
        rec.figure("reps_ranked", "Salespeople ranked into churn quartiles", len(ranked), unit="reps")
        if self.comparison is not None:
            for plan, row in self.comparison.summary.iterrows():
                rec.figure(f"plan_{plan}_cost_per_retained_mrr", f"{PLAN_LABELS[plan]}: paid per $1 MRR still paying",
                           round(float(row["cost_per_retained_mrr"]), 4), unit="$")
            rec.finding(self.plan_text(), "info")
        if bottom:
            rec.finding(self.training_text(), "action")
        elif self.heterogeneity is not None and len(ranked):
            rec.finding(self.training_text(), "info")
        if self.heterogeneity is not None and np.isfinite(self.heterogeneity.p_value_):
            rec.figure("churn_heterogeneity_p", "Do salespeople's churn rates differ beyond chance? (chi-square "
                       "p-value; below 0.05: yes)", round(self.heterogeneity.p_value_, 4), n=self.heterogeneity.reps_)
            rec.table("churn_shrunk_rates", self.heterogeneity.rates_[["rep_id", "customers_judged", "churned_in_window",
                                                                       "churn_rate", "shrunk_rate"]])
        rec.finding(self.consultant_text(), "info")
        few = ranked[ranked["customers_judged"] < small_n]
        if len(few):
            rec.warn(f"{len(few)} ranked salespeople have fewer than {small_n} judged customers: their churn rate has a "
                     "wide interval and a few customers can move their quartile.")
        waiting = r[r["status"] != "ranked"]
        if len(waiting):
            rec.warn(f"{len(waiting)} salespeople are not ranked ({waiting['status'].iloc[0]}) and are paid the "
                     f"unranked multiplier {self.settings.unranked_multiplier:g}.")
        for note in self.notes:
            rec.warn(note)
        cols = ["rep_id", "customers", "customers_judged", "churned_in_window", "churn_rate", "ci_low", "ci_high",
                "lifetime_churn_share", "quartile", "multiplier", "status"]
        rec.table("quartiles", r[cols])
        rec.table("consultants", self.consultants)
        rec.table("statement", self.statement)
        if self.comparison is not None:
            rec.table("plan_comparison", self.comparison.summary.reset_index())
            rec.table("plan_pay_by_rep", self.comparison.by_rep_)


def _deal_check(report: Any, lines: pd.DataFrame) -> list[str]:
    """Statement lines whose deal is missing from the deals table or owned by another rep (a warning each)."""
    if not report.source.has("deals"):
        return ["The deals table is absent: statement lines are traced to customers only."]
    ids = sorted({d for d in lines["deal_id"].dropna()})
    if not ids:
        return []
    deals = report.source.table("deals")
    found = deals.filter(deals.deal_id.isin(ids)).select("deal_id", "rep_id", "status").to_pandas()
    merged = lines.dropna(subset=["deal_id"]).merge(found, on="deal_id", how="left", suffixes=("", "_deal"))
    notes = []
    missing = merged[merged["rep_id_deal"].isna()]["deal_id"].unique().tolist()
    if missing:
        notes.append(f"{len(missing)} statement lines name deals absent from the deals table (e.g. {missing[0]}); "
                     "check them before paying.")
    other = merged[merged["rep_id_deal"].notna() & (merged["rep_id_deal"] != merged["rep_id"])]
    if len(other):
        notes.append(f"{len(other)} statement lines credit a rep other than the deal's owner (e.g. customer "
                     f"{other['customer_id'].iloc[0]}): customers.closing_rep_id decides who is paid.")
    return notes


def analyse(report: Any, settings: PlanSettings | None = None) -> CompensationAnalysis:
    """Run notebook 04's whole analysis for ``report`` (a :class:`helpers.reporting.context.ReportContext`)."""
    settings = settings or PlanSettings.from_config(report.config)
    as_of = report.as_of.isoformat()
    level = report.config.confidence_level
    source = report.source
    cohorts = customer_cohorts(source, window_months=settings.window_months, clawback_months=settings.clawback_months,
                               as_of=as_of)
    last = month_index(report.month)
    first = month_index(cohorts["start_month"].min()) if len(cohorts) else last
    months = [month_at(i) for i in range(min(first, last), last + 1)]
    multipliers = rolling_quartiles(cohorts, settings, months=months, as_of_month=report.month,
                                    confidence_level=level)
    reps = source.read("reps", columns=["rep_id", "name", "role"])
    names = dict(zip(reps["rep_id"], reps["name"].astype(str)))
    rates = churn_rates(cohorts, at_month=report.month, window_months=settings.window_months,
                        as_of_month=report.month, lookback_months=settings.lookback_months, confidence_level=level)
    ranking = settings.quartiles().fit(rates).ranking_
    heterogeneity = ChurnHeterogeneity(confidence_level=level).fit(ranking[ranking["status"] == "ranked"])
    cons_cohorts = customer_cohorts(source, window_months=settings.window_months,
                                    clawback_months=settings.clawback_months, as_of=as_of, attribution="consultant")
    consultants = churn_rates(cons_cohorts, at_month=report.month, window_months=settings.window_months,
                              as_of_month=report.month, lookback_months=settings.lookback_months,
                              confidence_level=level)
    billing = churn_rates(cohorts.assign(rep_id=cohorts["billing_term"]), at_month=report.month,
                          window_months=settings.window_months, as_of_month=report.month,
                          lookback_months=settings.lookback_months, confidence_level=level)
    quartile_of = {r: int(q) for r, q in zip(ranking["rep_id"], ranking["quartile"]) if not pd.isna(q)}
    retention = None
    if quartile_of:
        retention = RetentionCurves(confidence_level=level).fit(retention_durations(source, as_of=as_of),
                                                                groups=quartile_of)
    payments = commitment_payments(source, commitment_months=settings.commitment_months, as_of=as_of,
                                   annual_prepay_paid_upfront=settings.annual_prepay_paid_upfront)
    comparison = PlanComparison(settings).fit(cohorts, payments, multipliers, months) if len(cohorts) else None
    lines = statement_lines(source, settings, month=report.month, as_of=as_of, multipliers=multipliers)
    carried: dict[str, int] = {}
    if comparison is not None and len(months) > 1:
        ledger = comparison.ledgers_[settings.plan]
        prior = ledger[ledger["month"] == months[-2]]
        carried = dict(zip(prior["rep_id"], prior["carried_out_cents"].astype(int)))
    sellers = reps[reps["role"].isin(["ae", "sdr"])][["rep_id", "name"]]
    statement = commission_statement(lines, carried_in=carried, reps=sellers, month=report.month)
    return CompensationAnalysis(report=report, settings=settings, cohorts=cohorts, months=months,
                                multipliers=multipliers, ranking=ranking, consultants=consultants, billing=billing,
                                retention=retention, lines=lines, statement=statement, comparison=comparison,
                                names=names, notes=_deal_check(report, lines), heterogeneity=heterogeneity)
