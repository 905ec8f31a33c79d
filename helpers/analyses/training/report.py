"""Notebook 02 put together: the training-score analysis of one report, its sentences and its results.

The statistics live in :mod:`helpers.analyses.training.model`; this module gathers the data of a running report
(success metrics from :mod:`helpers.analyses.success`, training and interview scores, stage conversion),
runs every analysis once, keeps the notebook thin (each cell calls one method) and writes the
results file. Every section copes with missing optional data by saying so instead of failing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from helpers.analyses.training import model as T
from helpers.analyses.training import plots

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from helpers.reporting.context import ReportContext

__all__ = ["TrainingAnalysis", "analyse"]


def _fmt_ci(low: float, high: float) -> str:
    return "n/a" if not (np.isfinite(low) and np.isfinite(high)) else f"{low:+.2f} to {high:+.2f}"


@dataclass
class TrainingAnalysis:
    """Everything notebook 02 shows, computed once from a report's data."""

    report: ReportContext
    settings: T.TrainingSettings
    data: pd.DataFrame  # one row per judged hire with training scores: metrics, assessments, traits
    metrics: list[str]
    primary: str
    assessments: list[str]
    traits: list[str]
    level: float
    small_n: int
    trained_reps: int = 0
    hiring_calibrated: bool = False  # hiring scores net of interviewer leniency, as in notebook 01
    notes: list[str] = field(default_factory=list)  # caveats collected while gathering the data
    correlations: pd.DataFrame | None = None
    comparison: T.PredictiveComparison | None = None
    comparison_problem: str = ""
    stage_table: pd.DataFrame | None = None
    stage_problem: str = ""
    pairs: dict[str, str] = field(default_factory=dict)
    bands: pd.DataFrame | None = None
    pass_mark: T.PassMark | None = None
    pass_mark_problem: str = ""

    # ------------------------------------------------------------------ labels
    def label(self, metric: str) -> str:
        from helpers.analyses.success import SUCCESS_METRICS

        text = SUCCESS_METRICS[metric].label if metric in SUCCESS_METRICS else metric
        return text[:1].lower() + text[1:]

    def higher_is_better(self, metric: str) -> bool:
        from helpers.analyses.success import SUCCESS_METRICS

        return SUCCESS_METRICS[metric].higher_is_better if metric in SUCCESS_METRICS else True

    @property
    def n(self) -> int:
        return int(len(self.data))

    @property
    def small(self) -> bool:
        return self.n < self.small_n

    @property
    def certifications(self) -> list[str]:
        return [a for a in self.assessments if a != self.settings.exam]

    # ------------------------------------------------------------------ the analyses
    def run(self) -> TrainingAnalysis:
        level, s = self.level, self.settings
        if self.assessments and self.metrics:
            self.correlations = T.compute_correlations(self.data, scores=self.assessments, metrics=self.metrics,
                                                       level=level, small_n=self.small_n)
        self._compare()
        self._stages()
        if s.exam not in self.assessments:
            self.pass_mark_problem = (f"The training scores hold no {s.exam!r} assessment, so there is no exam pass "
                                      "mark to study (set [training] exam_assessment to your exam's name).")
        elif self.data[[s.exam, self.primary]].dropna().empty:
            self.pass_mark_problem = "No hire has both an exam score and a success figure yet."
        else:
            self.bands = T.compute_exam_bands(self.data, score=s.exam, metric=self.primary, edges=s.score_bands,
                                              level=level, min_n=s.min_band_n,
                                              higher_is_better=self.higher_is_better(self.primary))
            self.pass_mark = T.compute_pass_mark(self.bands, metric_label=self.label(self.primary))
        return self

    def _compare(self, training: list[str] | None = None, metric: str | None = None) -> None:
        training = self.assessments if training is None else training
        metric = metric or self.primary
        if not training:
            self.comparison, self.comparison_problem = None, "No training scores to compare."
            return
        try:
            self.comparison = T.PredictiveComparison(
                folds=self.settings.cv_folds, repeats=self.settings.cv_repeats, seed=self.settings.cv_seed,
                level=self.level, small_n=self.small_n).fit(self.data, outcome=metric, hiring=self.traits,
                                                            training=training)
            self.comparison_problem = ""
        except T.NotEnoughHiresError as exc:
            self.comparison, self.comparison_problem = None, f"The predictive comparison cannot be made: {exc}"

    def _stages(self) -> None:
        source, config = self.report.source, self.report.config
        missing = T.funnel_tables_missing(source, config)
        if missing:
            self.stage_problem = (f"The export has no {' or '.join(missing)} table, so certification scores cannot be "
                                  "compared with each stage's conversion rate.")
            return
        self.pairs = T.certification_pairs(self.certifications, [st.name for st in config.funnel_stages],
                                           self.settings)
        if not self.pairs:
            self.stage_problem = ("No certification is paired with a funnel stage: name them cert_<stage> after a "
                                  "stage of [[funnel.stages]] or list them in [training] certification_stages.")
            return
        end = pd.Timestamp(self.report.as_of) + pd.Timedelta(days=1)
        conversion = T.rep_stage_conversion(source, config, end=end.date().isoformat(),
                                            min_stage_leads=self.settings.min_stage_leads)
        scores = self.data[list(self.pairs)]
        if conversion.empty or scores.empty:
            self.stage_problem = "No hire with certification scores has funnel activity yet."
            return
        self.stage_table = T.compute_certification_stage_correlations(
            scores, conversion, pairs=self.pairs, level=self.level, small_n=self.small_n)

    # ------------------------------------------------------------------ sentences
    def hires_text(self) -> str:
        if self.n == 0:
            return ("No hire has both training scores and a judged success figure yet (hires are judged after "
                    f"{self.report.config.min_months_tenure} months on quota past the ramp), so nothing can be "
                    "concluded.")
        text = (f"This report follows {self.n} hires who have training scores and have been on quota long enough to "
                f"be judged ({self.trained_reps} reps have training scores in all). Success is measured as "
                f"{', '.join(self.label(m) for m in self.metrics)}; the main measure is {self.label(self.primary)}.")
        if self.small:
            text += (f" WARNING: with fewer than {self.small_n} hires every estimate below is unstable; read the "
                     "intervals, not the point values, and re-run when more hires have been judged.")
        return text

    def correlation_text(self) -> str:
        if self.correlations is None or self.n < 4:
            return "Too few hires to estimate any correlation."
        rows = self.correlations[(self.correlations["metric"] == self.primary)
                                 & (self.correlations["method"] == "pearson")].dropna(subset=["r"])
        if rows.empty:
            return "No correlation could be estimated (scores or success do not vary)."
        best = rows.loc[rows["r"].abs().idxmax()]
        pct = f"{self.level:.0%}"
        clear = rows[(rows["ci_low"] > 0) | (rows["ci_high"] < 0)]["assessment"].tolist()
        unclear = [score_words(a) for a in rows["assessment"] if a not in clear]
        clear = [score_words(a) for a in clear]
        text = (f"{score_words(best.assessment, start=True)} tracks {self.label(self.primary)} most closely: Pearson r = {best.r:.2f} "
                f"({pct} CI {best.ci_low:.2f} to {best.ci_high:.2f}, n = {best.n} hires).")
        if clear:
            text += f" Clearly related to it: {', '.join(clear)}."
        if unclear:
            text += f" No detectable relation for {', '.join(unclear)} (their intervals include zero)."
        if not self.higher_is_better(self.primary):
            text += " Lower is better for this measure, so a negative correlation is good news."
        return text

    def comparison_text(self) -> str:
        if self.comparison is None:
            return self.comparison_problem
        text = self.comparison.verdict_
        if not self.traits:
            text += " (Interview scores of the hires are not in the export, so hiring scores could not be compared.)"
        elif self.hiring_calibrated:
            text += (" Hiring scores are each hire's trait scores after removing every interviewer's measured "
                     "leniency, as in the trait-discovery report.")
        else:
            text += " Hiring scores are each hire's raw trait scores averaged over interviewers."
        return text

    def stage_text(self) -> str:
        if self.stage_table is None:
            return self.stage_problem
        paired = self.stage_table[self.stage_table["paired"]]
        own_best = paired[paired["best_stage"] == paired["stage"]]
        parts = [f"{score_words(r.assessment, start=True)} vs conversion into {r.stage_label.lower()}: r = {r.r:.2f} "
                 f"(CI {r.ci_low:.2f} to {r.ci_high:.2f}, n = {r.n})" for r in paired.itertuples()]
        return (f"{len(own_best)} of {len(paired)} certifications track the conversion rate of the stage they "
                f"cover more closely than any other stage (Spearman correlations): " + "; ".join(parts) + ". "
                "A low score on a certification points to the stage where a new hire needs coaching first.")

    def pass_mark_text(self) -> str:
        if self.pass_mark is None:
            return self.pass_mark_problem
        return self.pass_mark.sentence

    def checked_summary(self) -> str:
        """Deterministic lines for the notebook's checked cell (counts and verdicts, no decimals)."""
        lines = [f"hires analysed: {self.n}", f"assessments: {', '.join(self.assessments) or 'none'}",
                 f"traits compared: {len(self.traits)}", f"main success measure: {self.primary}"]
        if self.comparison is not None:
            d = self.comparison.differences_.set_index("comparison")
            if "training - hiring" in d.index:
                row = d.loc["training - hiring"]
                word = {"training": "training better", "hiring": "hiring better"}.get(
                    self.comparison.verdict_code_, self.comparison.verdict_code_ or "undecided")
                lines.append(f"training vs hiring: {word}")
        if self.stage_table is not None:
            paired = self.stage_table[self.stage_table["paired"]]
            lines.append(f"certifications tracking their own stage best: "
                         f"{int((paired['best_stage'] == paired['stage']).sum())} of {len(paired)}")
        lines.append(f"exam pass mark supported: {'none' if not self.pass_mark or self.pass_mark.cutoff is None else f'{self.pass_mark.cutoff:g}'}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ tables and plots
    def correlation_table(self) -> pd.DataFrame:
        if self.correlations is None:
            return pd.DataFrame()
        c = self.correlations
        wide = c.pivot_table(index=["assessment", "metric"], columns="method", values=["r", "ci_low", "ci_high"],
                             aggfunc="first", dropna=False)
        # a correlation that cannot be estimated (one hire, constant scores) is NaN: keep its columns ("n/a")
        wide = wide.reindex(columns=pd.MultiIndex.from_product([["r", "ci_low", "ci_high"], ["pearson", "spearman"]]))
        out = pd.DataFrame(index=wide.index)
        for method in ("pearson", "spearman"):  # two columns
            out[f"{method.capitalize()} r (CI)"] = [
                "n/a" if not np.isfinite(r) else f"{r:+.2f} ({_fmt_ci(lo, hi)})" for r, lo, hi in
                zip(wide[("r", method)], wide[("ci_low", method)], wide[("ci_high", method)])]
        out["Hires"] = c[c["method"] == "pearson"].set_index(["assessment", "metric"])["n"]
        order = {m: i for i, m in enumerate(self.metrics)}
        out = out.reset_index().sort_values(["assessment", "metric"], key=lambda col: col.map(
            lambda v: (self.assessments.index(v) if v in self.assessments else order.get(v, 99))), kind="stable")
        out["metric"] = out["metric"].map(self.label)
        return out.rename(columns={"assessment": "Assessment", "metric": "Success measure"}).set_index(
            ["Assessment", "Success measure"])

    def plot_correlations(self) -> Axes | None:
        if self.correlations is None or self.n < 4:
            return None
        return plots.plot_correlations(self.correlations, metric=self.primary, labels={self.primary: self.label(self.primary)})

    def plot_comparison(self) -> Axes | None:
        return None if self.comparison is None else self.comparison.plot()

    def plot_predicted_vs_actual(self, ax: Axes | None = None) -> Axes | None:
        """Out-of-fold predictions (hires the model had not seen) against what each hire achieved."""
        if self.comparison is None:
            return None
        return plots.plot_predicted_vs_actual(self.comparison.predictions_, label=self.label(self.primary), ax=ax)

    def plot_stages(self) -> Axes | None:
        return None if self.stage_table is None else plots.plot_certification_stages(self.stage_table)

    def stage_detail(self) -> pd.DataFrame:
        if self.stage_table is None:
            return pd.DataFrame()
        t = self.stage_table[self.stage_table["paired"]]
        return pd.DataFrame({"Certification": t["assessment"], "Stage it covers": t["stage_label"],
                             "Spearman r (CI)": [f"{r:+.2f} ({_fmt_ci(lo, hi)})" for r, lo, hi in
                                                 zip(t["r"], t["ci_low"], t["ci_high"])],
                             "Hires": t["n"], "Stage it tracks best": t["best_stage"]}).set_index("Certification")

    def plot_pass_mark(self) -> Axes | None:
        if self.bands is None:
            return None
        return plots.plot_exam_bands(self.bands, cutoff=self.pass_mark.cutoff if self.pass_mark else None,
                                     metric_label=self.label(self.primary))

    def plot_exam_vs_success(self, ax: Axes | None = None) -> Axes | None:
        """Each hire's exam score against their success, with the median and the pass mark."""
        if self.bands is None:
            return None
        frame = self.data[[self.settings.exam, self.primary]].dropna()
        return plots.plot_exam_vs_success(frame, score=self.settings.exam, metric=self.primary,
                                          median=self.bands.attrs["median"],
                                          cutoff=self.pass_mark.cutoff if self.pass_mark else None,
                                          label=self.label(self.primary), ax=ax)

    # ------------------------------------------------------------------ results file
    @property
    def summary(self) -> pd.DataFrame:
        """Every correlation of a training score with a success metric (empty when none could be computed)."""
        return self.correlations if self.correlations is not None else pd.DataFrame()

    def record(self, recorder: Any) -> None:
        """Headline, figures, findings, caveats and detail tables into ``recorder`` (``report.results``)."""
        res, pct = recorder, self.level
        for note in self.notes:
            res.warn(note)
        if self.small and self.n:
            res.warn(f"Only {self.n} hires could be judged (fewer than {self.small_n}): every estimate is unstable; "
                     "read the intervals.")
        primary = self.label(self.primary)
        exam_row = None
        if self.correlations is not None:
            rows = self.correlations[(self.correlations["metric"] == self.primary)
                                     & (self.correlations["method"] == "pearson")]
            for r in rows.itertuples():  # one figure per assessment
                ci = (r.ci_low, r.ci_high) if np.isfinite(r.ci_low) else None
                res.figure(f"r_{r.assessment}_{self.primary}", f"Correlation of {score_words(r.assessment)} with {primary}",
                           None if not np.isfinite(r.r) else round(float(r.r), 3), n=int(r.n), ci=ci,
                           ci_level=pct if ci else None, key=r.assessment == self.settings.exam)
                if r.assessment == self.settings.exam:
                    exam_row = r
            res.table("correlations", self.correlations)
            res.finding(self.correlation_text())
        if self.comparison is not None:
            for r in self.comparison.summary.itertuples():
                res.figure(f"cv_r2_{r.model}", f"Cross-validated R² of {r.label.lower()} for {primary}",
                           round(float(r.cv_r2), 3), n=int(r.n), ci=(r.ci_low, r.ci_high), ci_level=pct)
            for r in self.comparison.differences_.itertuples():
                res.figure(f"cv_r2_{r.better}_minus_{r.than}", f"Cross-validated R²: {r.better} minus {r.than}",
                           round(float(r.difference), 3), n=int(r.n), ci=(r.ci_low, r.ci_high), ci_level=pct)
            res.table("predictive_comparison", self.comparison.summary)
            res.table("predictive_differences", self.comparison.differences_)
            better = "training - hiring" in set(self.comparison.differences_["comparison"]) and \
                self.comparison.differences_.set_index("comparison").loc["training - hiring", "ci_low"] > 0
            res.finding(self.comparison_text(), "good" if better else "info")
        elif self.comparison_problem:
            res.warn(self.comparison_problem)
        if self.stage_table is not None:
            res.table("certification_stages", self.stage_table)
            res.finding(self.stage_text())
        elif self.stage_problem:
            res.warn(self.stage_problem)
        if self.pass_mark is not None:
            res.figure("exam_pass_mark", "Exam pass mark the data support", self.pass_mark.cutoff,
                       n=self.pass_mark.n)
            res.table("exam_bands", self.bands)
            res.finding(self.pass_mark.sentence, "action" if self.pass_mark.cutoff is not None else "info")
        elif self.pass_mark_problem:
            res.warn(self.pass_mark_problem)
        res.headline(self.headline(exam_row))

    def headline(self, exam_row: Any = None) -> str:
        if self.n == 0:
            return "No hire has both training scores and a judged success figure yet: nothing to conclude."
        head = ""
        if self.comparison is not None and "training - hiring" in set(self.comparison.differences_["comparison"]):
            s = self.comparison.summary.set_index("model")["cv_r2"]
            d = self.comparison.differences_.set_index("comparison").loc["training - hiring"]
            verdict = {"training": "Training scores predict {} better than hiring scores",
                       "hiring": "Hiring scores predict {} better than training scores",
                       "both": "Both training and hiring scores predict {}, neither clearly better",
                       "neither": "Neither training nor hiring scores predict {}",
                       "too_few": "Too few people to tell whether training or hiring scores predict {}",
                       }.get(self.comparison.verdict_code_,
                             "The data cannot tell whether training or hiring scores predict {} better")
            head = (f"{verdict.format(self.label(self.primary))} (cross-validated R² {s['training']:.2f} for "
                    f"training vs {s['hiring']:.2f} for hiring scores, n = {self.n} hires).")
        if exam_row is not None and np.isfinite(exam_row.r):
            head += (f" The final exam alone correlates {exam_row.r:.2f} with it ({self.level:.0%} CI "
                     f"{exam_row.ci_low:.2f} to {exam_row.ci_high:.2f}).")
        if not head:
            head = f"{self.n} hires with training scores analysed; see the findings."
        if self.small:
            head += " Few hires: treat as a first indication."
        return head.strip()

    # ------------------------------------------------------------------ analyst widget
    def explorer(self) -> Any:
        """JupyterLab widget: choose the success measure and the training scores; see their correlations
        and the comparison with hiring scores for that choice (:func:`helpers.analyses.training.widgets.explorer`)."""
        from helpers.analyses.training.widgets import explorer

        return explorer(self)


def score_words(assessment: str, *, start: bool = False) -> str:
    """A score column as words: ``final_exam`` -> "the final exam", ``cert_demo`` -> "certification: demo"."""
    from helpers.reporting.present import words

    text = "the final exam" if assessment == "final_exam" else words(assessment)
    return text[:1].upper() + text[1:] if start else text


def analyse(report: ReportContext) -> TrainingAnalysis:
    """Gather the data of ``report`` and run every analysis of notebook 02."""
    from helpers.analyses.success import compute_success_metrics, success_settings

    config = report.config
    settings = T.TrainingSettings.from_config(config)
    metrics = list(success_settings(config)["success_metrics"])
    primary = config.success_metric if config.success_metric in metrics else metrics[0]
    notes: list[str] = []
    success = compute_success_metrics(report.source, config, as_of=report.as_of.isoformat())
    if success.attrs.get("hire_date_note"):  # reps without hire dates: tenure from the first quota month
        notes.append(success.attrs["hire_date_note"])
    judged = success[success["judged"]].set_index("rep_id")[metrics]
    scores = T.training_scores_wide(report.source)
    assessments = sorted(scores.columns, key=lambda a: (a != settings.exam, a))
    data = judged.join(scores[assessments], how="inner")
    traits: list[str] = []
    calibrated = False
    if report.source.has("hiring_scores"):
        from helpers.analyses.hiring.model import hire_trait_scores

        calibrate = config.settings.boolean("hiring.calibrate_interviewers")
        hiring = hire_trait_scores(report.source.read("hiring_scores"), traits=config.traits, calibrate=calibrate,
                                   confidence_level=float(config.confidence_level))
        traits, calibrated = list(hiring.columns), bool(hiring.attrs.get("calibrated"))
        if calibrate and not calibrated and traits:
            notes.append("Interviewer calibration is on but leniency cannot be measured (interviewers never share "
                         "candidates): raw interview scores are used.")
        data = data.join(hiring, how="left")
        if traits and data[traits].dropna().empty:
            notes.append("None of the judged hires has interview scores (hiring_scores.rep_id), so hiring scores "
                         "could not be compared with training scores.")
            data, traits = data.drop(columns=traits), []
    else:
        notes.append("The export has no hiring_scores table, so training scores are not compared with hiring scores.")
    analysis = TrainingAnalysis(report=report, settings=settings, data=data, metrics=metrics, primary=primary,
                                assessments=list(assessments), traits=traits,
                                level=float(config.confidence_level), small_n=int(config.small_sample_n),
                                trained_reps=int(len(scores)), hiring_calibrated=calibrated and bool(traits),
                                notes=notes)
    return analysis.run()
