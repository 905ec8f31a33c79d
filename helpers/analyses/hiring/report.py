"""Notebook 01, trait discovery: ``analyse(report)`` runs the whole analysis once; the notebook shows it.

:func:`analyse` reads the scorecards and the success metrics of the report's data, fits the trait
model for every configured success metric, ranks the open candidates and re-runs the model on
hire cohorts (see :mod:`helpers.analyses.hiring.model` for the statistics). The returned
:class:`HiringAnalysis` has the notebook's sentences and tables, the data its plots draw
(:mod:`helpers.analyses.hiring.plots`), and :meth:`HiringAnalysis.record` writes the results file.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from helpers.analyses.hiring.model import (HiringDataError, HiringSettings, TraitModel, candidate_trait_scores,
                                           check_scores, cohort_effects, hires_table, interviewer_leniency,
                                           open_candidates, score_distributions)
from helpers.analyses.success import SUCCESS_METRICS, compute_success_metrics
from helpers.reporting.present import label

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import WorkbookConfig
    from helpers.data.engine import DataSource
    from helpers.reporting.context import ReportContext

__all__ = ["HiringAnalysis", "analyse", "trait_discovery"]

#: How a success metric's values are shown on the page, by its unit.
_VALUE_KIND = {"$": "money", "x quota": "share", "share": "share"}


@dataclass
class HiringAnalysis:
    """Everything notebook 01 shows, computed once (see :func:`analyse`)."""

    settings: HiringSettings
    traits: list[str]
    leniency: pd.DataFrame
    candidates: pd.DataFrame
    distributions: pd.DataFrame
    metrics: pd.DataFrame
    hires: pd.DataFrame
    models: dict[str, TraitModel]
    open: pd.DataFrame
    cohorts: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def model(self) -> TraitModel:
        """The model of the configured success metric."""
        return self.models[self.settings.success_metric]

    def effects_by_metric(self) -> pd.DataFrame:
        """Trait x success metric: standardised effect and interval as text (side by side)."""
        cols = {}
        for metric, m in self.models.items():  # a few metrics
            s = m.summary.reindex(self.traits)
            cols[SUCCESS_METRICS[metric].label] = [
                "not estimated" if pd.isna(r.effect) else f"{r.effect:+.2f} ({r.ci_low:+.2f} to {r.ci_high:+.2f})"
                + (" *" if r.significant else "") for r in s.itertuples()]
        return pd.DataFrame(cols, index=[label(t) for t in self.traits])

    def metrics_table(self) -> pd.DataFrame:
        """Per success metric: hires with a value, median and middle half (what the metrics look like)."""
        rows = []
        judged = self.metrics[self.metrics["judged"]]
        from helpers.reporting.present import format_value

        for metric in self.settings.success_metrics:  # a few metrics
            col = judged[metric].dropna()
            kind = _VALUE_KIND.get(SUCCESS_METRICS[metric].unit, "ratio")  # "$2,515", "112%", not 2515.000 or 1.121
            rows.append({"Success metric": SUCCESS_METRICS[metric].label, "Hires with a value": len(col),
                         "Median": format_value(col.median(), kind),
                         "25th percentile": format_value(col.quantile(0.25), kind),
                         "75th percentile": format_value(col.quantile(0.75), kind),
                         "Better when": "higher" if SUCCESS_METRICS[metric].higher_is_better else "lower"})
        return pd.DataFrame(rows).set_index("Success metric")

    def model_text(self) -> str:
        """The model's findings as paragraphs (numbers from the fit)."""
        return "\n\n".join(s for s, _ in self.model.sentences())

    def caveats_text(self) -> str:
        """Every caveat of the analysis, loud; empty when there is none."""
        warnings = [*self.notes, *self.model.warnings_]
        return "\n\n".join(f"Caution: {w}" for w in warnings)

    def counts_text(self) -> str:
        """Deterministic counts: candidates, hires judged, interviewers, traits."""
        return (f"candidates scored: {len(self.candidates)}\n"
                f"hired candidates: {int(self.candidates['hired'].sum())}\n"
                f"hires judged (with scores and {self.settings.min_months_tenure}+ months after ramp): "
                f"{len(self.hires)}\n"
                f"interviewers: {len(self.leniency)}\n"
                f"traits: {', '.join(self.traits)}")

    def effects_table(self) -> pd.DataFrame:
        """The model's traits as a leader reads them: rank, effect, interval, verdict, weight."""
        s = self.model.summary
        level = f"{self.model.confidence_level:.0%}"
        table = pd.DataFrame({
            "Rank": s["rank"].astype("Int64"),
            "Effect (SD per SD)": s["effect"].round(2),
            f"{level} interval": [("" if pd.isna(a) else f"{a:+.2f} to {b:+.2f}") for a, b in zip(s["ci_low"],
                                                                                             s["ci_high"])],
            "p-value": s["p_value"].round(3),
            "Overlap with other traits (VIF)": s["vif"].round(1),
            "Verdict": s["verdict"],
            "Recommended weight": (s["weight"] * 100).round(0),
        }, index=s.index)
        # relabel after building: an index of new names given to the constructor would re-align every column
        # to names the summary does not have ("prior success" vs prior_success) and fill the rows with NaN
        return table.set_axis([label(t) for t in s.index], axis=0)

    def open_table(self, top: int = 15) -> pd.DataFrame:
        """The best open candidates with predicted success and prediction interval."""
        from helpers.reporting.present import format_value

        o = self.open.head(top)
        metric = SUCCESS_METRICS[self.model.metric]
        kind = _VALUE_KIND.get(metric.unit, "ratio")
        # attainment, MRR and shares cannot be negative: a linear prediction below zero is shown as zero
        floor = 0.0 if metric.unit in _VALUE_KIND else None

        def shown(values: pd.Series) -> list[str]:
            return [format_value(v if floor is None or pd.isna(v) else max(floor, v), kind) for v in values]

        return pd.DataFrame({"Interviewed": o["interview_date"].dt.strftime("%Y-%m-%d").to_numpy(),
                             f"Predicted {metric.label.lower()}": shown(o["predicted"]),
                             "Likely low": shown(o["pi_low"]),
                             "Likely high": shown(o["pi_high"])},
                            index=pd.Index(o["candidate_id"].to_numpy(), name="Candidate"))

    def leniency_sentence(self) -> str:
        lin = self.leniency.dropna(subset=["leniency"])
        if lin.empty:
            return "Interviewer leniency cannot be measured: the interviewers never score the same candidates."
        top, low = lin.iloc[0], lin.iloc[-1]
        state = ("Scores below are calibrated: each interviewer's leniency is removed before averaging."
                 if self.settings.calibrate else "Scores below are raw averages (calibration is switched off).")
        return (f"The most lenient interviewer, {top.interviewer}, scores {top.leniency:+.1f} points above the average "
                f"interviewer (CI {top.ci_low:+.1f} to {top.ci_high:+.1f}); the strictest, {low.interviewer}, "
                f"{low.leniency:+.1f} (CI {low.ci_low:+.1f} to {low.ci_high:+.1f}). {state}")

    def range_sentence(self) -> str:
        d = self.distributions.sort_values("gap", ascending=False)
        top = d.iloc[0]
        n_h, n_all = int(self.candidates["hired"].sum()), len(self.candidates)
        return (f"Only the {n_h} hires of {n_all} candidates have outcomes, so the model sees a restricted range: "
                f"hires scored {top.gap:+.1f} points higher than the others on {top.trait.replace('_', ' ')}, and "
                f"their scores spread {1 - d['sd_ratio'].mean():.0%} less on average. Effects among hires "
                "understate what a trait does across all applicants.")

    def open_sentence(self) -> str:
        o = self.open.dropna(subset=["predicted"])
        days = self.settings.open_candidate_days
        if not self.model.estimable_:
            return f"{len(self.open)} open candidate(s) in the last {days} days; no prediction without a model."
        if not self.model.beats_average_:
            return (f"{len(self.open)} open candidate(s) in the last {days} days, not ranked: the trait model predicts "
                    f"hires it was not fitted on no better than guessing the average (cross-validated R² "
                    f"{self.model.cv_.r2_model:.2f}), so a ranking would be noise.")
        if o.empty:
            return f"No open candidates (not hired, interviewed in the last {days} days) to rank."
        best = o.iloc[0]
        unit = SUCCESS_METRICS[self.settings.success_metric].label.lower()
        return (f"{len(o)} open candidate(s) interviewed in the last {days} days. The best, {best.candidate_id}, "
                f"is predicted at {best.predicted:.2f} {unit} (prediction interval {best.pi_low:.2f} to "
                f"{best.pi_high:.2f}): a single hire's outcome is uncertain, so use the ranking, not the number.")

    def cohort_sentence(self) -> str:
        c = self.cohorts[self.cohorts["cohort"] != "all hires"]
        if c.empty:
            return "Re-run view: one cohort only (set [hiring] rerun_cohorts to 2 or more)."
        if c["effect"].isna().all():
            return "Re-run view: each hire-date cohort is too small to estimate on its own."
        c = c.dropna(subset=["effect"])  # a cohort too small to estimate has no strongest trait (idxmax raises)
        top = c.loc[c.groupby("cohort")["effect"].idxmax()]
        same = top["trait"].nunique() == 1
        return ("Re-run on successive hire cohorts, the strongest trait is "
                + ", ".join(f"{r.trait.replace('_', ' ')} ({r.cohort}, n = {r.n})" for r in top.itertuples())
                + (": the formula looks stable." if same else
                   ": the top trait changes between cohorts, so keep re-running the analysis every 6-12 months."))

    def headline(self) -> str:
        m = self.model
        label = SUCCESS_METRICS[m.metric].label.lower()
        if not m.estimable_:
            return f"Too few hires ({m.n_}) with a {label} to learn which traits predict success yet."
        if m.underpowered_:
            return (f"Too few hires ({m.n_}) with a {label} to name any trait: about {m.hires_needed_} are needed "
                    f"to find a strong one.")
        pos = m.summary[m.summary["verdict"] == "predicts success"]
        null = m.summary[m.summary["verdict"] == "no detectable effect"]
        lead = (f"{pos.index[0].replace('_', ' ').capitalize()} predicts {label} most strongly "
                f"({pos['effect'].iloc[0]:+.2f} SD per SD)" if len(pos) else
                f"No scorecard trait has a detectable effect on {label}")
        tail = f"; {', '.join(t.replace('_', ' ') for t in null.index)} show no detectable effect" if len(null) else ""
        return f"{lead}{tail} (n = {m.n_} hires{', a small sample' if m.small_sample_ else ''})."

    def record(self, recorder: Any) -> None:
        """Put headline, figures, findings, caveats and detail tables into ``recorder`` (``report.results``)."""
        results = recorder
        m = self.model
        results.headline(self.headline())
        level = m.confidence_level
        if m.estimable_ and m.underpowered_:
            results.key_figure("hires_judged", f"Hires with outcomes and scores (about {m.hires_needed_} needed to "
                               "name a trait)", m.n_, unit="hires", n=m.n_)
        if m.estimable_:
            top = m.summary.iloc[0]
            if not m.underpowered_:
                results.key_figure("top_trait_effect", f"Effect of {top.name.replace('_', ' ')} (SD of success per SD)",
                                   round(float(top.effect), 3), n=m.n_, ci=(float(top.ci_low), float(top.ci_high)),
                                   ci_level=level)
            results.figure("adjusted_r2", "Adjusted R² of the trait model", round(m.adj_r2_, 3), n=m.n_)
            results.figure("cv_r2", "Cross-validated R² of the trait model", round(m.cv_.r2_model, 3), n=m.n_)
            results.figure("weights_gain_r2", "Recommended weights vs equal weights (cross-validated R² gain)",
                           round(m.cv_.gain, 3), n=m.n_, ci=m.cv_.gain_ci, ci_level=level)
            for sentence, severity in m.sentences():
                results.finding(sentence, severity)
            results.finding(m.weights_sentence(), "action" if m.recommend_reweighting_ else "info")
        else:
            results.key_figure("hires_judged", "Hires with outcomes and scores", m.n_, unit="hires", n=m.n_)
        results.figure("hires_judged", "Hires with outcomes and scores", m.n_, unit="hires", n=m.n_)
        results.finding(self.leniency_sentence(), "info")
        results.finding(self.range_sentence(), "info")
        results.finding(self.open_sentence(), "info")
        results.finding(self.cohort_sentence(), "info")
        for w in [*self.notes, *m.warnings_]:
            results.warn(w)
        results.table("trait_effects", m.summary.reset_index())
        results.table("interviewer_leniency", self.leniency)
        results.table("open_candidates", self.open)
        results.table("cohort_effects", self.cohorts)
        results.table("success_metrics", self.metrics)

    @property
    def summary(self) -> pd.DataFrame:
        """The trait model of the configured success metric, one row per trait."""
        return self.model.summary

    def explorer(self):
        """ipywidgets: choose the success metric and the traits, re-fit and redraw (JupyterLab only)."""
        from helpers.analyses.hiring.widgets import trait_explorer

        return trait_explorer(self)


def analyse(report: "ReportContext", *, metric: str | None = None,
            traits: list[str] | None = None) -> HiringAnalysis:
    """Trait discovery on the report's data as of its cutoff (``metric``/``traits`` override the config)."""
    return trait_discovery(report.source, report.config, as_of=report.as_of, metric=metric, traits=traits)


def trait_discovery(source: "DataSource", config: "WorkbookConfig", *, as_of: Any,
                    metric: str | None = None, traits: list[str] | None = None) -> HiringAnalysis:
    """The whole analysis of notebook 01 from a data source (see the module docstring)."""
    settings = HiringSettings.from_config(config)
    if metric is not None:
        settings = replace(settings, success_metric=metric)
    notes: list[str] = []
    scores = check_scores(source.read("hiring_scores"))
    scored = [t for t in (traits or settings.traits) if t in set(scores["trait"])]
    unscored = [t for t in (traits or settings.traits) if t not in scored]
    if unscored:
        notes.append(f"Trait(s) {', '.join(unscored)} are configured but never scored in hiring_scores.")
    if len(scored) < 1:
        raise HiringDataError("hiring_scores has no scores for the configured traits ([hiring] traits); "
                              "check that the trait names match")
    scores = scores[scores["trait"].isin(scored)]
    leniency = interviewer_leniency(scores, confidence_level=settings.confidence_level)
    if settings.calibrate and leniency["leniency"].isna().all():
        notes.append("Interviewer calibration is on but leniency cannot be measured (interviewers never share "
                     "candidates): raw scores are used.")
    candidates = candidate_trait_scores(scores, traits=scored, leniency=leniency if settings.calibrate else None)
    metrics = compute_success_metrics(source, config, as_of=as_of)
    if metrics.attrs.get("hire_date_note"):  # reps without hire dates: tenure from the first quota month
        notes.append(metrics.attrs["hire_date_note"])
    hires = hires_table(candidates, metrics, traits=scored)
    kw = settings.model_kwargs()
    shown = list(dict.fromkeys([settings.success_metric, *settings.success_metrics]))
    models = {m: TraitModel(metric=m, traits=scored, **kw).fit(hires) for m in shown}
    primary = models[settings.success_metric]
    opened = open_candidates(candidates, primary, as_of=as_of, days=settings.open_candidate_days)
    cohorts = cohort_effects(hires, cohorts=settings.rerun_cohorts, metric=settings.success_metric,
                             traits=scored, **kw)
    return HiringAnalysis(settings=settings, traits=scored, leniency=leniency, candidates=candidates,
                          distributions=score_distributions(candidates, traits=scored), metrics=metrics,
                          hires=hires, models=models, open=opened, cohorts=cohorts, notes=notes)
