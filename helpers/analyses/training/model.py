"""Do training scores predict sales success? (notebook 02, the sales training formula)

Roberge gave every new hire a 100-question exam at the end of training and one certification per
stage of the sales process (connect call, discovery call, presentation, negotiation), then checked
whether those scores predicted later sales performance. They did, and better than the interview
scores. This module answers the same questions on a company's own data:

* **Correlations** of the exam and of each certification with each success metric, Pearson and
  Spearman, each with its confidence interval and ``n`` (:func:`compute_correlations`).
* **Predictive comparison** on the *same* hires: hiring scores only vs training scores only vs
  both, by repeated k-fold cross-validated R², with an interval for the difference
  (:class:`PredictiveComparison`).
* **Certification vs funnel stage**: which certification tracks which stage's conversion rate
  (:func:`compute_certification_stage_correlations`).
* **Exam pass mark**: success by exam-score band and the cut-off the data supports
  (:func:`compute_exam_bands`, :func:`compute_pass_mark`).

Statistics work on plain DataFrames indexed by ``rep_id`` (one row per hire), so they are tested on
numbers with a known answer; the functions that read a :class:`~helpers.data.engine.DataSource` reduce
event tables in the engine (Ibis) and only bring per-rep aggregates into pandas. The exact rules
are written down in ``docs/training-scores.md``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.core import intervals
from helpers.core.estimator import Estimator

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from helpers.core.config import WorkbookConfig
    from helpers.data.engine import DataSource

__all__ = [
    "NotEnoughHiresError",
    "PassMark",
    "PredictiveComparison",
    "TrainingDataError",
    "TrainingSettings",
    "VERDICT_HEADS",
    "certification_pairs",
    "comparison_verdict",
    "compute_certification_stage_correlations",
    "compute_correlations",
    "compute_exam_bands",
    "compute_pass_mark",
    "correlation_ci",
    "hiring_trait_scores",
    "rep_stage_conversion",
    "training_scores_wide",
]


class TrainingDataError(ValueError):
    """The training or success data cannot be analysed as given; the message says how to fix it."""


class NotEnoughHiresError(TrainingDataError):
    """Too few hires with complete data for the requested statistic."""


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class TrainingSettings:
    """The ``[training]`` section of the configuration, validated."""

    exam: str = "final_exam"
    certification_prefix: str = "cert_"
    certification_stages: Mapping[str, str] = field(default_factory=dict)
    score_bands: tuple[float, ...] = (60.0, 70.0, 80.0, 90.0)
    min_band_n: int = 5
    cv_folds: int = 5
    cv_repeats: int = 20
    cv_seed: int = 2024
    min_stage_leads: int = 20

    @classmethod
    def from_config(cls, config: WorkbookConfig) -> "TrainingSettings":
        """Read and check ``[training]`` (errors name the file and the key)."""
        s = config.settings
        pairs = _parse_pairs(s.string_list("training.certification_stages"),
                             lambda v: s.fail("training.certification_stages", v,
                                              'distinct "assessment=stage" pairs, e.g. "cert_connect=connected"'))
        bands = tuple(float(v) for v in _number_list(s, "training.score_bands"))
        return cls(
            exam=s.string("training.exam_assessment", allow_empty=False),
            certification_prefix=s.string("training.certification_prefix"),
            certification_stages=pairs,
            score_bands=bands,
            min_band_n=int(s.number("training.min_band_n", minimum=2, integer=True)),
            cv_folds=int(s.number("training.cv_folds", minimum=2, maximum=50, integer=True)),
            cv_repeats=int(s.number("training.cv_repeats", minimum=1, maximum=500, integer=True)),
            cv_seed=int(s.number("training.cv_seed", minimum=0, integer=True)),
            min_stage_leads=int(s.number("training.min_stage_leads", minimum=1, integer=True)),
        )


def _parse_pairs(values: Sequence[str], fail: Any) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        assessment, sep, stage = (part.strip() for part in value.partition("="))
        if not sep or not assessment or not stage or assessment in pairs:
            fail(value)
        pairs[assessment] = stage
    return pairs


def _number_list(s: Any, dotted: str) -> list[float]:
    value = s.get(dotted)
    ok = (isinstance(value, list) and len(value) >= 1
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 100 for v in value)
          and all(a < b for a, b in zip(value, value[1:])))
    if not ok:
        s.fail(dotted, value, "a non-empty list of increasing scores between 0 and 100")
    return value


# --------------------------------------------------------------------------- data from the source
def training_scores_wide(source: DataSource) -> pd.DataFrame:
    """One row per rep (index ``rep_id``), one column per assessment, the score 0-100.

    ``training_scores`` is small (reps x assessments), so it is read whole. Two rows for the same
    rep and assessment (possible only in unvalidated data) raise :class:`TrainingDataError`.
    """
    scores = source.read("training_scores", columns=["rep_id", "assessment", "score"])
    duplicated = scores[scores.duplicated(["rep_id", "assessment"], keep=False)]
    if not duplicated.empty:
        shown = ", ".join(f"{r}/{a}" for r, a in duplicated[["rep_id", "assessment"]].drop_duplicates()
                          .head(5).itertuples(index=False))
        raise TrainingDataError(f"training_scores has {len(duplicated)} rows that repeat a rep and assessment "
                                f"({shown}); keep one score per rep and assessment (e.g. the first attempt).")
    wide = scores.pivot(index="rep_id", columns="assessment", values="score").astype("float64")
    wide.columns.name = None
    return wide.sort_index()


def hiring_trait_scores(source: DataSource, traits: Sequence[str]) -> pd.DataFrame:
    """Interview score per hired rep and trait: the mean over interviewers (computed in the engine).

    Index ``rep_id`` (only candidates who became reps), one column per configured trait present.
    """
    scores = source.table("hiring_scores")
    hired = scores.filter(scores.rep_id.notnull() & scores.trait.isin(list(traits)))
    per = hired.group_by(["rep_id", "trait"]).aggregate(score=hired.score.mean()).to_pandas()
    if per.empty:
        return pd.DataFrame(index=pd.Index([], name="rep_id", dtype="object"))
    wide = per.pivot(index="rep_id", columns="trait", values="score").astype("float64")
    wide.columns.name = None
    return wide[[t for t in traits if t in wide.columns]].sort_index()


def funnel_tables_missing(source: DataSource, config: WorkbookConfig) -> list[str]:
    """Tables the stage conversion needs that the source lacks (activities, and deals if a stage uses them)."""
    needed = ["activities"]
    if any(stage.deal_statuses for stage in config.funnel_stages):
        needed.append("deals")
    return [t for t in needed if not source.has(t)]


def rep_stage_conversion(source: DataSource, config: WorkbookConfig, *, end: Any = None,
                         min_stage_leads: int = 20) -> pd.DataFrame:
    """Each rep's conversion into every funnel stage, pooled over all months before ``end``.

    Built on :func:`helpers.data.reductions.rep_month_funnel` (reduced in the engine): per rep and
    stage, ``leads`` reaching the stage and ``previous_stage_leads`` summed over months, and
    ``conversion_rate`` = leads / previous_stage_leads. A rate resting on fewer than
    ``min_stage_leads`` leads at the previous stage is left empty (too noisy to rank a rep on).
    """
    from helpers.data.reductions import rep_month_funnel

    long = rep_month_funnel(source, config, end=end)
    long = long[long["stage_order"] > 1]
    pooled = (long.assign(previous_stage_leads=long["previous_stage_leads"].astype("float64"))
              .groupby(["rep_id", "stage_order", "stage", "stage_label"], as_index=False)
              [["leads", "previous_stage_leads"]].sum())
    enough = pooled["previous_stage_leads"] >= min_stage_leads
    pooled["conversion_rate"] = (pooled["leads"] / pooled["previous_stage_leads"]).where(enough)
    pooled["previous_stage_leads"] = pooled["previous_stage_leads"].astype("int64")
    return pooled.sort_values(["rep_id", "stage_order"], ignore_index=True)


def certification_pairs(assessments: Sequence[str], stages: Sequence[str], settings: TrainingSettings) -> dict[str, str]:
    """Which certification covers which funnel stage.

    A certification listed in ``[training] certification_stages`` ("cert_connect=connected") pairs
    with that stage; any other assessment named ``<prefix><stage>`` for a configured stage pairs
    with it automatically. Pairs whose assessment is not in the data or whose stage is not in the
    funnel are left out (the notebook lists the certifications that have no stage).
    """
    pairs: dict[str, str] = {}
    for assessment in assessments:  # a handful of assessment names
        if assessment in settings.certification_stages:
            stage = settings.certification_stages[assessment]
        elif settings.certification_prefix and assessment.startswith(settings.certification_prefix):
            stage = assessment[len(settings.certification_prefix):]
        else:
            continue
        if stage in stages:
            pairs[assessment] = stage
    return pairs


# --------------------------------------------------------------------------- correlations
@dataclass(frozen=True)
class Correlation:
    """A correlation with its confidence interval, p-value and n."""

    r: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    method: str
    level: float


def correlation_ci(x: Any, y: Any, *, method: str = "pearson", level: float = 0.95) -> Correlation:
    """Pearson or Spearman correlation of the complete pairs of ``x`` and ``y``, with a CI.

    Both intervals use Fisher's z = atanh(r). Pearson: standard error 1/sqrt(n-3) (the interval
    scipy's ``pearsonr(...).confidence_interval()`` gives). Spearman: the Bonett-Wright (2000)
    variance (1 + r²/2)/(n-3), which keeps the coverage near nominal for rank correlations.
    With fewer than 4 pairs, or a constant variable, the values are NaN (never a made-up number).
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman', not {method!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level!r}")
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length ({len(x)} vs {len(y)})")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(len(x))
    nan = Correlation(math.nan, math.nan, math.nan, math.nan, n, method, level)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return nan
    if method == "pearson":
        r, p = stats.pearsonr(x, y)
    else:
        r, p = stats.spearmanr(x, y)
    r, p = float(r), float(p)
    if n < 4:
        return Correlation(r, math.nan, math.nan, p, n, method, level)
    variance = 1.0 / (n - 3) if method == "pearson" else (1.0 + r * r / 2.0) / (n - 3)
    z = math.atanh(max(min(r, 1 - 1e-12), -1 + 1e-12))
    half = stats.norm.ppf(0.5 + level / 2) * math.sqrt(variance)
    return Correlation(r, math.tanh(z - half), math.tanh(z + half), p, n, method, level)


def compute_correlations(data: pd.DataFrame, *, scores: Sequence[str], metrics: Sequence[str],
                         methods: Sequence[str] = ("pearson", "spearman"), level: float = 0.95,
                         small_n: int = 30) -> pd.DataFrame:
    """Correlation of every score column with every metric column, one row per pair and method.

    Columns: ``assessment``, ``metric``, ``method``, ``r``, ``ci_low``, ``ci_high``, ``p_value``,
    ``n`` (complete pairs) and ``small_sample`` (n < ``small_n``: read with care).
    """
    missing = [c for c in [*scores, *metrics] if c not in data.columns]
    if missing:
        raise TrainingDataError(f"columns {', '.join(missing)} are not in the data; available: "
                                f"{', '.join(map(str, data.columns))}")
    rows = [
        {"assessment": s, "metric": m, **vars(correlation_ci(data[s], data[m], method=meth, level=level))}
        for s in scores for m in metrics for meth in methods
    ]
    out = pd.DataFrame(rows, columns=["assessment", "metric", "r", "ci_low", "ci_high", "p_value", "n", "method",
                                      "level"])
    out["small_sample"] = out["n"] < small_n
    return out[["assessment", "metric", "method", "r", "ci_low", "ci_high", "p_value", "n", "small_sample"]]


# --------------------------------------------------------------------------- predictive comparison
def _ols_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """OLS with an intercept (least squares; a rank-deficient design gets the minimum-norm fit)."""
    a = np.column_stack([np.ones(len(x_train)), x_train])
    coef, *_ = np.linalg.lstsq(a, y_train, rcond=None)
    return np.column_stack([np.ones(len(x_test)), x_test]) @ coef


def _corrected_t_interval(values: np.ndarray, *, test_share: float, level: float) -> tuple[float, float, float]:
    """Mean of per-fold values and the Nadeau-Bengio corrected resampled-t interval.

    Folds overlap in their training sets, so the plain standard error is too small; Nadeau and
    Bengio (2003) inflate the variance to (1/J + n_test/n_train) s² for J folds in all.
    """
    values = np.asarray(values, dtype="float64")
    j = len(values)
    mean = float(values.mean())
    if j < 2:
        return mean, math.nan, math.nan
    s2 = float(values.var(ddof=1))
    se = math.sqrt((1.0 / j + test_share / (1.0 - test_share)) * s2)
    half = float(stats.t.ppf(0.5 + level / 2, j - 1)) * se
    return mean, mean - half, mean + half


#: The training-vs-hiring verdicts (``PredictiveComparison.verdict_code_``) and how each one starts.
VERDICT_HEADS = {
    "training": "Training scores predict sales success better than hiring scores: ",
    "hiring": "Hiring scores predict sales success better than training scores: ",
    "both": "Both training and hiring scores predict sales success, neither clearly better: ",
    "neither": "Neither training nor hiring scores predict sales success (neither beats guessing the average "
               "hire): ",
    "too_few": "Too few people to tell whether training or hiring scores predict sales success: ",
    "undecided": "One kind of score predicts, but the data cannot tell whether training or hiring scores "
                 "predict success better: ",
}


def comparison_verdict(*, training_low: float, hiring_low: float, difference_low: float, difference_high: float,
                       small_sample: bool) -> str:
    """Which scores predict success, from the lower ends of the cross-validated R² intervals and the
    interval of their difference (training - hiring).

    ``training`` / ``hiring``: the difference's interval excludes zero. Otherwise: ``both`` when both
    R² intervals lie above zero; ``too_few`` when the hires are fewer than the small-sample size and
    the data show no clear answer; ``neither`` when neither R² interval lies above zero (neither beats
    guessing the average); ``undecided`` when one predicts and the other does not, but not clearly better.
    """
    if difference_low > 0:
        return "training"
    if difference_high < 0:
        return "hiring"
    training, hiring = training_low > 0, hiring_low > 0
    if training and hiring:
        return "both"
    if small_sample:
        return "too_few"
    if not training and not hiring:
        return "neither"
    return "undecided"


class PredictiveComparison(Estimator):
    """Hiring scores only vs training scores only vs both: which predicts success on new hires?

    ``PredictiveComparison(folds=5, repeats=20).fit(data, outcome=..., hiring=[...], training=[...])``
    keeps the hires with every column present (the *same* hires for all three models), fits an OLS
    model per predictor set in repeated k-fold cross-validation and scores each fold by
    R²_fold = 1 - MSE_fold / Var(y) (Var over all the hires, so folds are comparable). The
    cross-validated R² is the mean over folds; it is negative when a model predicts new hires worse
    than the average does. Intervals (for each R² and for each difference between models, computed
    fold by fold on the same splits) use the Nadeau-Bengio corrected resampled t.

    Fitted attributes: ``n_``, ``models_`` (name -> predictors), ``fold_scores_`` (one row per fold
    and model), ``predictions_`` (out-of-fold predictions of the first repeat), ``summary`` (one row
    per model), ``differences_`` (training - hiring, both - hiring, both - training) and
    ``verdict_`` (one sentence), ``verdict_code_`` (``training``, ``hiring``, ``both``, ``neither``,
    ``too_few``, ``undecided``; None when only one kind of score could be fitted; see
    :func:`comparison_verdict`) and ``skipped_`` (models too wide for the hires: name -> predictors;
    each needs two more hires per training fold than it has predictors).
    """

    MODEL_NAMES = {"hiring": "Hiring scores only", "training": "Training scores only", "both": "Both"}

    def __init__(self, *, folds: int = 5, repeats: int = 20, seed: int = 0, level: float = 0.95,
                 small_n: int = 30) -> None:
        if folds < 2:
            raise ValueError(f"folds must be at least 2, not {folds!r}")
        self.folds, self.repeats, self.seed, self.level, self.small_n = folds, repeats, seed, level, small_n

    def fit(self, data: pd.DataFrame, *, outcome: str, hiring: Sequence[str] = (),
            training: Sequence[str] = ()) -> PredictiveComparison:
        models = {k: list(v) for k, v in (("hiring", hiring), ("training", training)) if v}
        if len(models) == 2:
            models["both"] = [*hiring, *training]
        if not models:
            raise TrainingDataError("no predictors given: pass hiring=[trait columns] and/or training=[assessments]")
        columns = [outcome, *dict.fromkeys(c for v in models.values() for c in v)]
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise TrainingDataError(f"columns {', '.join(missing)} are not in the data")
        complete = data[columns].apply(pd.to_numeric, errors="coerce").dropna()
        n = len(complete)
        folds = min(self.folds, n)
        train_n = n - math.ceil(n / folds) if folds >= 2 else 0
        # a model needs at least two more hires per training fold than it has coefficients
        self.skipped_ = {name: len(cols) for name, cols in models.items() if train_n < len(cols) + 2}
        models = {name: cols for name, cols in models.items() if name not in self.skipped_}
        if not models:
            narrowest = min(self.skipped_.values())
            raise NotEnoughHiresError(
                f"{n} hires have {outcome} and every score; the smallest model has {narrowest} predictors and needs "
                f"at least {narrowest + 2} hires in each training fold. Add hires, or compare fewer scores.")
        y = complete[outcome].to_numpy(dtype="float64")
        var_y = float(y.var())
        if var_y == 0:
            raise NotEnoughHiresError(f"every hire has the same {outcome}: nothing to predict")
        rng = np.random.default_rng(self.seed)
        fold_rows = []
        first_predictions = pd.DataFrame(index=complete.index)
        for repeat in range(self.repeats):  # a few dozen splits of a hires-sized table
            assignment = rng.permutation(np.arange(n) % folds)
            for fold in range(folds):
                test = assignment == fold
                row: dict[str, Any] = {"repeat": repeat, "fold": fold, "n_test": int(test.sum())}
                for name, cols in models.items():
                    x = complete[cols].to_numpy(dtype="float64")
                    pred = _ols_predict(x[~test], y[~test], x[test])
                    row[name] = 1.0 - float(np.mean((y[test] - pred) ** 2)) / var_y
                    if repeat == 0:
                        first_predictions.loc[complete.index[test], name] = pred
                fold_rows.append(row)
        self.n_ = n
        self.outcome_ = outcome
        self.models_ = models
        self.fold_scores_ = pd.DataFrame(fold_rows)
        first_predictions.insert(0, "actual", y)
        self.predictions_ = first_predictions
        share = 1.0 / folds
        summary = []
        for name, cols in models.items():
            mean, low, high = _corrected_t_interval(self.fold_scores_[name].to_numpy(), test_share=share,
                                                    level=self.level)
            summary.append({"model": name, "label": self.MODEL_NAMES[name], "predictors": len(cols),
                            "cv_r2": mean, "ci_low": low, "ci_high": high, "n": n})
        self.summary_ = pd.DataFrame(summary)
        diffs = []
        for a, b in (("training", "hiring"), ("both", "hiring"), ("both", "training")):
            if a in models and b in models:
                d = (self.fold_scores_[a] - self.fold_scores_[b]).to_numpy()
                mean, low, high = _corrected_t_interval(d, test_share=share, level=self.level)
                diffs.append({"comparison": f"{a} - {b}", "better": a, "than": b, "difference": mean,
                              "ci_low": low, "ci_high": high, "n": n})
        self.differences_ = pd.DataFrame(diffs, columns=["comparison", "better", "than", "difference", "ci_low",
                                                         "ci_high", "n"])
        self.small_sample_ = n < self.small_n
        self.verdict_ = self._verdict()
        return self

    def _verdict(self) -> str:
        pct = f"{self.level:.0%}"
        r2 = self.summary.set_index("model")
        self.verdict_code_ = None
        if "training" not in r2.index or "hiring" not in r2.index:
            only = r2.index[0]
            row = r2.loc[only]
            return (f"Only {self.MODEL_NAMES[only].lower()} could be assessed: cross-validated R² "
                    f"{row.cv_r2:.2f} ({pct} CI {row.ci_low:.2f} to {row.ci_high:.2f}, n = {self.n_} hires)."
                    + self._skipped_text())
        d = self.differences_.set_index("comparison").loc["training - hiring"]
        both = (f" Using both explains {r2.loc['both', 'cv_r2']:.2f}." if "both" in r2.index else "")
        figures = (f"cross-validated R² {r2.loc['training', 'cv_r2']:.2f} for training scores vs "
                   f"{r2.loc['hiring', 'cv_r2']:.2f} for hiring scores (difference {d.difference:+.2f}, {pct} CI "
                   f"{d.ci_low:+.2f} to {d.ci_high:+.2f}, n = {self.n_} hires).")
        self.verdict_code_ = comparison_verdict(training_low=float(r2.loc["training", "ci_low"]),
                                                hiring_low=float(r2.loc["hiring", "ci_low"]),
                                                difference_low=float(d.ci_low), difference_high=float(d.ci_high),
                                                small_sample=self.small_sample_)
        head = VERDICT_HEADS[self.verdict_code_]
        tail = (" With so few hires this comparison is unstable."
                if self.small_sample_ and self.verdict_code_ != "too_few" else "")
        return head + figures + both + tail + self._skipped_text()

    def _skipped_text(self) -> str:
        if not self.skipped_:
            return ""
        names = ", ".join(f"{self.MODEL_NAMES[m].lower()} ({k} scores)" for m, k in self.skipped_.items())
        return f" Too few hires to fit: {names}."

    def plot(self, ax: Axes | None = None) -> Axes:
        """Bar per model: cross-validated R² with its interval."""
        from helpers.analyses.training.plots import plot_comparison

        return plot_comparison(self, ax=ax)


# --------------------------------------------------------------------------- certifications vs stages
def compute_certification_stage_correlations(scores: pd.DataFrame, conversion: pd.DataFrame, *,
                                             pairs: Mapping[str, str], certifications: Sequence[str] | None = None,
                                             method: str = "spearman", level: float = 0.95,
                                             small_n: int = 30) -> pd.DataFrame:
    """Correlation of each certification with each funnel stage's conversion rate, per rep.

    ``scores``: index rep_id, a column per assessment; ``conversion``: :func:`rep_stage_conversion`.
    One row per certification and stage: ``r``, interval, ``n``, ``paired`` (the stage the
    certification covers) and ``best_stage`` (the stage it tracks most closely).
    """
    certs = list(certifications if certifications is not None else pairs)
    if not certs:
        raise TrainingDataError("no certifications to compare: name them in [training] certification_stages "
                                "or call them cert_<stage> after a funnel stage")
    rates = conversion.pivot_table(index="rep_id", columns="stage", values="conversion_rate", aggfunc="first")
    order = conversion.drop_duplicates("stage").sort_values("stage_order")
    stages = [s for s in order["stage"] if s in rates.columns]
    labels = dict(zip(order["stage"], order["stage_label"]))
    joined = scores[certs].join(rates, how="inner")
    rows = []
    for cert in certs:  # certifications x stages: a dozen or so pairs
        for stage in stages:
            c = correlation_ci(joined[cert], joined[stage], method=method, level=level)
            rows.append({"assessment": cert, "stage": stage, "stage_label": labels[stage],
                         "paired": pairs.get(cert) == stage, "r": c.r, "ci_low": c.ci_low, "ci_high": c.ci_high,
                         "p_value": c.p_value, "n": c.n})
    out = pd.DataFrame(rows)
    best = out.loc[out["r"].fillna(-np.inf).groupby(out["assessment"]).idxmax(), ["assessment", "stage"]]
    out["best_stage"] = out["assessment"].map(dict(zip(best["assessment"], best["stage"])))
    out["small_sample"] = out["n"] < small_n
    return out


# --------------------------------------------------------------------------- exam bands and pass mark
def _band_labels(edges: Sequence[float]) -> list[str]:
    fmt = lambda v: f"{v:g}"  # noqa: E731
    labels = [f"below {fmt(edges[0])}"]
    labels += [f"{fmt(a)}-{fmt(b)}" for a, b in zip(edges, edges[1:])]
    return labels + [f"{fmt(edges[-1])} and above"]


def compute_exam_bands(data: pd.DataFrame, *, score: str, metric: str, edges: Sequence[float],
                       level: float = 0.95, min_n: int = 5, higher_is_better: bool = True) -> pd.DataFrame:
    """Success by exam-score band.

    Bands are [edge_i, edge_i+1) with an open band below the first edge and above the last. Per
    band: ``n`` hires, ``mean`` of the metric with its t interval, ``reached_median`` (hires at least
    as good as the median of all hires: at or above it, or at or below it when lower is better) and
    their ``share`` with a Wilson interval; ``judged`` is False for bands with fewer than ``min_n``
    hires (shown, but not used for the pass mark). ``attrs["median"]`` holds the median.
    """
    missing = [c for c in (score, metric) if c not in data.columns]
    if missing:
        raise TrainingDataError(f"columns {', '.join(missing)} are not in the data")
    if not len(edges) or any(a >= b for a, b in zip(edges, edges[1:])):
        raise ValueError(f"band edges must be a non-empty increasing list, not {list(edges)!r}")
    frame = data[[score, metric]].apply(pd.to_numeric, errors="coerce").dropna()
    if frame.empty:
        raise NotEnoughHiresError(f"no hire has both {score} and {metric}")
    median = float(frame[metric].median())
    good = frame[metric] >= median if higher_is_better else frame[metric] <= median
    bins = [-np.inf, *edges, np.inf]
    labels = _band_labels(edges)
    band = pd.cut(frame[score], bins=bins, right=False, labels=labels)
    rows = []
    for i, label in enumerate(labels):  # a handful of bands
        inside = (band == label).to_numpy()
        values = frame.loc[inside, metric].to_numpy()
        n = len(values)
        mean = float(values.mean()) if n else math.nan
        half = (float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
                if n >= 2 else math.nan)
        reached = int(good[inside].sum())
        low, high = intervals.wilson_interval(reached, n, level=level)
        rows.append({"band": label, "low": bins[i], "high": bins[i + 1], "n": n, "mean": mean,
                     "mean_ci_low": mean - half, "mean_ci_high": mean + half, "reached_median": reached,
                     "share": reached / n if n else math.nan, "share_ci_low": low, "share_ci_high": high,
                     "judged": n >= min_n})
    out = pd.DataFrame(rows)
    out.attrs.update(median=median, metric=metric, n=len(frame), level=level)
    return out


@dataclass(frozen=True)
class PassMark:
    """The exam pass mark the data support (None: none), the band that justifies it, one sentence."""

    cutoff: float | None
    band: str | None
    median: float
    n: int
    sentence: str


def compute_pass_mark(bands: pd.DataFrame, *, metric_label: str | None = None) -> PassMark:
    """The exam pass mark the bands of :func:`compute_exam_bands` support.

    Half of all hires reach the median success by definition, so a band whose Wilson interval of
    the share reaching it lies wholly below 50% clearly falls short. The supported pass mark is the
    upper edge of the *highest* judged band (at least ``min_n`` hires) that clearly falls short:
    hires just below it do worse than the team, not only the very lowest scorers. No such band: the
    data support no pass mark, and the sentence says so.
    """
    median, n, level = bands.attrs["median"], int(bands.attrs["n"]), bands.attrs.get("level", 0.95)
    what = metric_label or bands.attrs.get("metric", "success")
    short = bands[bands["judged"] & (bands["share_ci_high"] < 0.5) & np.isfinite(bands["high"])]
    if short.empty:
        judged = int(bands["judged"].sum())
        sentence = (f"The data support no exam pass mark: in none of the {judged} exam-score bands with enough hires "
                    f"do hires clearly fall short of the median {what} (n = {n} hires).")
        return PassMark(cutoff=None, band=None, median=median, n=n, sentence=sentence)
    row = short.iloc[-1]
    above = bands[bands["low"] >= row.high]
    above_share = above["reached_median"].sum() / max(int(above["n"].sum()), 1)
    sentence = (f"The data support an exam pass mark of {row.high:g}: of the {row.n} hires who scored {row.band}, "
                f"only {row.reached_median} reached the median {what} ({row.share:.0%}, {level:.0%} CI "
                f"{row.share_ci_low:.0%} to {row.share_ci_high:.0%}), against {above_share:.0%} of the "
                f"{int(above['n'].sum())} hires who scored {row.high:g} or more.")
    return PassMark(cutoff=float(row.high), band=str(row.band), median=median, n=n, sentence=sentence)

