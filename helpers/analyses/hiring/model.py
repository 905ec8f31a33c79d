"""Trait discovery: which interview-scorecard traits predict later sales success (notebook 01).

Roberge scored every candidate 1-10 on a set of traits, tracked how the hires did, and after a
year regressed success on the traits; he re-ran it every 6-12 months. This module does that
with a company's own scorecards, honestly:

1. **Interviewer leniency** (:func:`interviewer_leniency`): some interviewers score everyone
   high. With every candidate scored on every trait by several interviewers, a two-way model
   ``score = candidate-trait level + interviewer leniency + noise`` separates the two (least
   squares with the candidate-trait levels absorbed, leniencies centred to average 0), with a
   confidence interval per interviewer. Calibrated scores subtract each interviewer's leniency.
2. **Trait scores per candidate** (:func:`candidate_trait_scores`): the mean over interviewers,
   calibrated or raw (``[hiring] calibrate_interviewers``).
3. **The model** (:class:`TraitModel`): OLS of a success metric on the traits, both standardised
   over the hires (an effect is "SDs of success per SD of trait"), with confidence intervals,
   p-values, adjusted R², repeated k-fold cross-validated R², variance inflation factors, a
   ranking, and the traits with no detectable effect named as such. Few hires give a loud
   warning, tiny or singular data give an explanation instead of a crash.
4. **Recommended weights**: the positive standardised effects, normalised to 100%, with their
   cross-validated predictive value against equal weights (paired, with an interval).
5. **Open candidates** (:func:`open_candidates`): candidates not hired and interviewed within
   ``open_candidate_days`` before ``as_of``, with predicted success and a prediction interval.
6. **Re-run view** (:func:`cohort_effects`): the model on successive hire-date cohorts.
7. **Range restriction** (:func:`score_distributions`): hired vs not-hired score distributions.

:func:`helpers.analyses.hiring.report.analyse` does all of it for a report; notebook 01 displays the result.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from helpers.analyses.success import SUCCESS_METRICS, success_settings
from helpers.core.estimator import Estimator

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import WorkbookConfig
    from helpers.data.engine import DataSource

__all__ = ["HiringDataError", "HiringSettings", "TraitModel", "candidate_trait_scores", "cohort_effects",
           "hires_needed",
           "hire_trait_scores", "hires_table", "interviewer_leniency", "open_candidates", "score_distributions"]


class HiringDataError(ValueError):
    """The scorecards or the hires cannot be analysed as given; the message says what to fix."""


@dataclass(frozen=True)
class HiringSettings:
    """The ``[hiring]`` settings of trait discovery (read by :meth:`from_config`)."""

    traits: tuple[str, ...]
    success_metric: str
    success_metrics: tuple[str, ...]
    ramp_months: int
    min_months_tenure: int
    clv_horizon_months: int
    churn_window_months: int
    min_hires: int
    cv_folds: int
    cv_repeats: int
    calibrate: bool
    open_candidate_days: int
    rerun_cohorts: int
    confidence_level: float
    small_sample_n: int
    detectable_effect: float = 0.5
    reweight_margin: float = 0.02

    @classmethod
    def from_config(cls, config: "WorkbookConfig") -> "HiringSettings":
        """Validated settings (a ConfigError names the file and the key)."""
        s = config.settings
        success = success_settings(config)
        return cls(
            traits=tuple(config.traits),
            success_metric=config.success_metric,
            success_metrics=tuple(success["success_metrics"]),
            ramp_months=success["ramp_months"],
            min_months_tenure=success["min_months_tenure"],
            clv_horizon_months=success["clv_horizon_months"],
            churn_window_months=success["churn_window_months"],
            min_hires=int(s.number("hiring.min_hires", integer=True, minimum=3)),
            cv_folds=int(s.number("hiring.cv_folds", integer=True, minimum=2, maximum=50)),
            cv_repeats=int(s.number("hiring.cv_repeats", integer=True, minimum=1, maximum=500)),
            calibrate=s.boolean("hiring.calibrate_interviewers"),
            open_candidate_days=int(s.number("hiring.open_candidate_days", integer=True, minimum=1)),
            rerun_cohorts=int(s.number("hiring.rerun_cohorts", integer=True, minimum=1, maximum=12)),
            confidence_level=float(config.confidence_level),
            small_sample_n=int(config.small_sample_n),
            detectable_effect=float(s.number("hiring.detectable_effect", minimum=0, maximum=1, strict_min=True)),
            reweight_margin=float(s.number("hiring.reweight_margin", minimum=0, maximum=1)),
        )

    def model_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :class:`TraitModel` these settings fix."""
        return {"confidence_level": self.confidence_level, "cv_folds": self.cv_folds,
                "cv_repeats": self.cv_repeats, "min_hires": self.min_hires, "small_sample_n": self.small_sample_n,
                "detectable_effect": self.detectable_effect, "reweight_margin": self.reweight_margin}


# =========================================================================== scorecards
def check_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """The scorecard rows, checked: required columns, one rep per candidate. Returns a clean copy."""
    need = ["candidate_id", "interviewer", "trait", "score", "interview_date", "rep_id"]
    missing = [c for c in need if c not in scores.columns]
    if missing:
        raise HiringDataError(f"hiring_scores lacks column(s) {', '.join(missing)}; see docs/data-contract.md")
    scores = scores[need].copy()
    scores["interview_date"] = pd.to_datetime(scores["interview_date"])
    reps_per = scores.dropna(subset=["rep_id"]).groupby("candidate_id")["rep_id"].nunique()
    bad = reps_per[reps_per > 1].index.tolist()
    if bad:
        raise HiringDataError(f"hiring_scores: candidate(s) {', '.join(map(str, bad[:5]))} carry more than one rep_id; "
                              "a candidate becomes at most one rep: fix the rep_id of those rows")
    hired = scores.groupby("candidate_id")["rep_id"].transform(lambda s: s.dropna().iloc[0] if s.notna().any() else None)
    scores["rep_id"] = hired
    return scores


def interviewer_leniency(scores: pd.DataFrame, *, confidence_level: float = 0.95) -> pd.DataFrame:
    """Each interviewer's leniency: how many points above the average interviewer they score the same candidate.

    Model: ``score[c, t, i] = level[c, t] + leniency[i] + noise`` (least squares, the candidate x
    trait levels absorbed by demeaning within each candidate-trait, leniencies centred so that
    their plain average is 0). One row per interviewer, most lenient first: ``leniency``,
    ``ci_low``, ``ci_high`` (t interval; standard errors clustered by candidate, so a halo (an interviewer
    scoring every trait of a candidate they liked higher) does not narrow them; candidates - 1 df), ``scores`` and
    ``candidates`` (n), ``identified`` (False when the interviewer never shares a candidate with
    the others, so leniency cannot be told from candidate quality; leniency is then NaN).
    """
    cols = ["interviewer", "leniency", "ci_low", "ci_high", "scores", "candidates", "identified"]
    interviewers = sorted(scores["interviewer"].astype(str).unique())
    counts = scores.groupby("interviewer").agg(scores=("score", "size"), candidates=("candidate_id", "nunique"))
    k = len(interviewers)
    if k < 2:
        out = counts.reset_index().assign(leniency=np.nan, ci_low=np.nan, ci_high=np.nan, identified=False)
        return out[cols]
    group = scores.groupby(["candidate_id", "trait"], sort=False).ngroup().to_numpy()
    n_groups = int(group.max()) + 1
    y = scores["score"].to_numpy(float)
    idx = pd.Categorical(scores["interviewer"].astype(str), categories=interviewers).codes
    # Sparse one-hot design, demeaned within each candidate-trait: a dense n x k matrix would hold
    # 360,000 scores x 400 interviewers (1 GB, three times over) for a large hiring team.
    rows = np.arange(len(y))
    X = sparse.csr_matrix((np.ones(len(y)), (rows, idx)), shape=(len(y), k))
    G = sparse.csr_matrix((np.ones(len(y)), (rows, group)), shape=(len(y), n_groups))
    sizes = np.bincount(group, minlength=n_groups).astype(float)
    demeaned = (X - G @ (sparse.diags(1.0 / sizes) @ (G.T @ X))).tocsc()
    Xd = demeaned[:, 1:]  # first interviewer is the reference
    yd = y - (np.bincount(group, weights=y, minlength=n_groups) / sizes)[group]
    xtx = (Xd.T @ Xd).toarray()
    rank = np.linalg.matrix_rank(xtx) if len(xtx) else 0
    identified = np.ones(k, dtype=bool)
    if rank < k - 1:  # some interviewers never share a candidate with the rest
        identified = np.asarray(abs(demeaned).sum(axis=0)).ravel() > 1e-9
    xtx_inv = np.linalg.pinv(xtx)
    beta = xtx_inv @ (Xd.T @ yd)
    resid = yd - Xd @ beta
    df = len(y) - n_groups - rank
    full = np.r_[0.0, beta]
    centre = np.eye(k) - 1.0 / k
    lenient = centre @ full
    # Standard errors clustered by candidate: an interviewer who liked a candidate tends to score every trait
    # of that candidate higher (a halo), so a candidate's scores are not independent pieces of evidence;
    # treating them as independent makes intervals too narrow and names lenient interviewers by chance.
    cand = pd.factorize(scores["candidate_id"].astype(str))[0]
    n_clusters = int(cand.max()) + 1 if len(cand) else 0
    if df > 0 and n_clusters > 1:
        Gc = sparse.csr_matrix((np.ones(len(y)), (rows, cand)), shape=(len(y), n_clusters))
        per_cluster = np.asarray((Gc.T @ sparse.csr_matrix(Xd.multiply(resid[:, None]))).todense())
        meat = per_cluster.T @ per_cluster * (n_clusters / (n_clusters - 1))
        cov_full = np.zeros((k, k))
        cov_full[1:, 1:] = xtx_inv @ meat @ xtx_inv
        se = np.sqrt(np.clip(np.diag(centre @ cov_full @ centre.T), 0, None))
        half = stats.t.ppf(0.5 + confidence_level / 2, n_clusters - 1) * se
    else:
        half = np.full(k, np.nan)
    out = pd.DataFrame({"interviewer": interviewers, "leniency": lenient, "ci_low": lenient - half,
                        "ci_high": lenient + half, "identified": identified})
    if rank < k - 1:
        out.loc[:, ["leniency", "ci_low", "ci_high"]] = np.nan
    out = out.join(counts, on="interviewer")
    return out[cols].sort_values(["leniency", "interviewer"], ascending=[False, True], ignore_index=True)


def candidate_trait_scores(scores: pd.DataFrame, *, traits: tuple[str, ...] | list[str],
                           leniency: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per candidate: mean score per trait over interviewers (minus their leniency when given).

    Columns: ``candidate_id``, ``rep_id`` (empty when not hired), ``hired``, ``interview_date``
    (the last interview), ``interviewers``, then one column per trait (NaN when nobody scored it).
    """
    s = scores[scores["trait"].isin(traits)].copy()
    if leniency is not None and leniency["leniency"].notna().any():
        shift = leniency.set_index("interviewer")["leniency"].fillna(0.0)
        s["score"] = s["score"] - s["interviewer"].astype(str).map(shift).fillna(0.0)
    wide = s.pivot_table(index="candidate_id", columns="trait", values="score", aggfunc="mean")
    wide = wide.reindex(columns=list(traits))
    wide.columns.name = None
    info = s.groupby("candidate_id").agg(rep_id=("rep_id", "first"), interview_date=("interview_date", "max"),
                                         interviewers=("interviewer", "nunique"))
    out = info.join(wide).reset_index()
    out.insert(2, "hired", out["rep_id"].notna())
    return out.sort_values("candidate_id", ignore_index=True)


def hire_trait_scores(scores: pd.DataFrame, *, traits: tuple[str, ...] | list[str], calibrate: bool,
                      confidence_level: float = 0.95) -> pd.DataFrame:
    """Trait score per hired rep, judged exactly as notebook 01 judges it.

    ``scores`` are the raw ``hiring_scores`` rows (all candidates: leniency is measured on every
    scorecard, hired or not, as in :func:`helpers.analyses.hiring.report.trait_discovery`). With ``calibrate`` (the
    ``[hiring] calibrate_interviewers`` setting) each interviewer's measured leniency is removed
    before averaging over interviewers; when leniency cannot be measured (interviewers never share
    a candidate) raw means are used. Returns one row per hired rep (index ``rep_id``), one column
    per trait that was scored, in the order of ``traits``; ``attrs["calibrated"]`` says whether the
    scores were calibrated.
    """
    scores = check_scores(scores)
    scored = [t for t in traits if t in set(scores["trait"])]
    scores = scores[scores["trait"].isin(scored)]
    leniency = interviewer_leniency(scores, confidence_level=confidence_level) if scored else None
    calibrated = bool(calibrate and leniency is not None and leniency["leniency"].notna().any())
    if not scored:
        out = pd.DataFrame(index=pd.Index([], name="rep_id", dtype="object"))
    else:
        candidates = candidate_trait_scores(scores, traits=scored, leniency=leniency if calibrated else None)
        out = candidates[candidates["hired"]].set_index("rep_id")[scored].astype("float64").sort_index()
        out.columns.name = None
    out.attrs["calibrated"] = calibrated
    return out


def score_distributions(candidates: pd.DataFrame, *, traits: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """Range restriction: per trait, the mean and SD of the hired and of everyone interviewed.

    ``sd_ratio`` = SD among hires / SD among all candidates; below 1 the hires cover a narrower
    range, which shrinks the effect the model can see for that trait.
    """
    rows = []
    hired = candidates["hired"]
    for trait in traits:  # a handful of configured traits
        col = candidates[trait]
        rows.append({"trait": trait, "mean_hired": col[hired].mean(), "mean_not_hired": col[~hired].mean(),
                     "sd_hired": col[hired].std(), "sd_all": col.std(),
                     "n_hired": int(col[hired].notna().sum()), "n_not_hired": int(col[~hired].notna().sum())})
    out = pd.DataFrame(rows)
    out["gap"] = out["mean_hired"] - out["mean_not_hired"]
    out["sd_ratio"] = out["sd_hired"] / out["sd_all"]
    return out


# =========================================================================== the model
def _zscore(frame: pd.DataFrame, mean: pd.Series, sd: pd.Series) -> pd.DataFrame:
    return (frame - mean) / sd.replace(0, np.nan)


def _ols(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    A = np.column_stack([np.ones(len(X)), X])
    return np.linalg.lstsq(A, y, rcond=None)[0]


def _predict(beta: np.ndarray, X: np.ndarray) -> np.ndarray:
    return beta[0] + X @ beta[1:]


def holm_adjusted(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the input order: the k-th smallest of m is multiplied by
    m - k + 1, made non-decreasing along the sorted order and capped at 1 (as statsmodels'
    ``multipletests(method="holm")``, which the tests compare against; that function also runs a full
    garbage collection on every call, which made one fit ten times slower inside a large process)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1)))
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def hires_needed(n_traits: int, *, effect: float = 0.5, alpha: float = 0.05, power: float = 0.8) -> int:
    """Hires needed before any trait can be named as a finding: the sample size at which a trait with
    a standardised effect ``effect`` (SD of success per SD of trait; 0.5 is a strong trait), alone
    among ``n_traits`` traits, is found with probability ``power`` by a two-sided test at ``alpha``.

    For one coefficient of an OLS with k predictors, Cohen's f² = effect² / (1 - effect²) and
    n = (z(1 - alpha/2) + z(power))² / f² + k + 1 (the normal approximation). 5 traits: 30 hires;
    6 traits: 31. Below it the page names no trait and says how many hires the data would need.
    """
    f2 = effect ** 2 / (1.0 - effect ** 2)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return int(math.ceil(z * z / f2)) + int(n_traits) + 1


def recommended_weights(effects: pd.Series) -> pd.Series:
    """Scorecard weights (sum 1) from standardised effects: negative or missing effects weigh 0.

    With no positive effect at all the weights are equal (the data give no reason to re-weight).
    """
    w = effects.fillna(0.0).clip(lower=0.0)
    if w.sum() <= 0:
        return pd.Series(1.0 / len(effects), index=effects.index)
    return w / w.sum()


@dataclass
class CrossValidation:
    """Out-of-fold predictions of three rules, averaged over repeats (standardised success units)."""

    folds: int
    repeats: int
    r2_model: float
    r2_weights: float
    r2_equal: float
    gain: float  # r2_weights - r2_equal
    gain_ci: tuple[float, float]
    predictions: pd.DataFrame  # per hire: actual, model, weights, equal (z units)


def cross_validate(Xz: np.ndarray, yz: np.ndarray, *, folds: int, repeats: int, confidence_level: float,
                   seed: int = 0) -> CrossValidation:
    """Repeated k-fold (leave-one-out when n < 2 k): OLS, recommended weights and equal weights.

    In every fold the traits and success are standardised with the training part only, the rules
    are fitted on it (weights: the clipped OLS effects; both composites get an intercept and a
    slope), and the held-out hires are predicted. CV R² = 1 - sum of squared out-of-fold errors /
    sum of squares around the mean of all hires. ``gain`` is the recommended weights' CV R² minus
    equal weights', with a t interval over hires of the per-hire difference in squared error.
    """
    n = len(yz)
    loo = n < 2 * folds
    k, reps = (n, 1) if loo else (folds, repeats)
    rng = np.random.default_rng(seed)
    preds = np.zeros((3, n))
    for _ in range(reps):  # a few dozen small least-squares fits
        order = np.arange(n) if loo else rng.permutation(n)
        part = np.array_split(order, k)
        for test in part:
            train = np.setdiff1d(order, test)
            mu, sd = Xz[train].mean(axis=0), Xz[train].std(axis=0, ddof=1)
            sd[sd == 0] = 1.0
            Xtr, Xte = (Xz[train] - mu) / sd, (Xz[test] - mu) / sd
            beta = _ols(Xtr, yz[train])
            preds[0, test] += _predict(beta, Xte)
            w = recommended_weights(pd.Series(beta[1:])).to_numpy()
            for j, weights in ((1, w), (2, np.full(Xz.shape[1], 1.0 / Xz.shape[1]))):
                comp_tr, comp_te = Xtr @ weights, Xte @ weights
                b = _ols(comp_tr[:, None], yz[train])
                preds[j, test] += _predict(b, comp_te[:, None])
    preds /= reps
    sst = float(((yz - yz.mean()) ** 2).sum())
    err = (preds - yz) ** 2
    r2 = 1 - err.sum(axis=1) / sst
    d = (err[2] - err[1]) / (sst / n)  # mean(d) = r2_weights - r2_equal
    half = stats.t.ppf(0.5 + confidence_level / 2, n - 1) * d.std(ddof=1) / np.sqrt(n) if n > 2 else np.nan
    table = pd.DataFrame({"actual": yz, "model": preds[0], "weights": preds[1], "equal": preds[2]})
    return CrossValidation(folds=k, repeats=reps, r2_model=float(r2[0]), r2_weights=float(r2[1]),
                           r2_equal=float(r2[2]), gain=float(d.mean()), gain_ci=(d.mean() - half, d.mean() + half),
                           predictions=table)


class TraitModel(Estimator):
    """Regression of one success metric on the scorecard traits, over the hires (statsmodels OLS).

    ``TraitModel(metric="quota_attainment").fit(hires)`` with one row per hire, a column per trait
    and the metric column. Traits and metric are standardised over the hires. Fitted attributes
    end in ``_``; :attr:`summary` has one row per trait. Never raises on tiny or collinear data:
    ``estimable_`` is False and ``warnings_`` says why (traits without variation, or that are an
    exact combination of others, are dropped and named).
    """

    def __init__(self, *, metric: str = "quota_attainment", traits: tuple[str, ...] | list[str] | None = None,
                 confidence_level: float = 0.95, cv_folds: int = 5, cv_repeats: int = 20, min_hires: int = 8,
                 small_sample_n: int = 30, seed: int = 0, detectable_effect: float = 0.5,
                 reweight_margin: float = 0.02):
        if metric not in SUCCESS_METRICS:
            raise ValueError(f"metric {metric!r} is not a success metric: use one of {', '.join(SUCCESS_METRICS)}")
        self.metric, self.traits = metric, None if traits is None else list(traits)
        self.confidence_level, self.cv_folds, self.cv_repeats = confidence_level, cv_folds, cv_repeats
        self.min_hires, self.small_sample_n, self.seed = min_hires, small_sample_n, seed
        self.detectable_effect, self.reweight_margin = detectable_effect, reweight_margin

    # ------------------------------------------------------------------ fitting
    def fit(self, hires: pd.DataFrame) -> "TraitModel":
        import statsmodels.api as sm

        traits = self.traits if self.traits is not None else [c for c in hires.columns if c not in SUCCESS_METRICS]
        missing = [c for c in [*traits, self.metric] if c not in hires.columns]
        if missing:
            raise HiringDataError(f"the hires table lacks column(s) {', '.join(missing)}: pass one row per hire "
                                  f"with a column per trait and the success metric {self.metric!r}")
        if not traits:
            raise HiringDataError("no traits to model: pass at least one trait column")
        self.traits_in_ = list(traits)
        data = hires[[*traits, self.metric]].apply(pd.to_numeric, errors="coerce").dropna()
        self.n_dropped_ = int(len(hires) - len(data))
        self.n_ = len(data)
        self.warnings_: list[str] = []
        label = SUCCESS_METRICS[self.metric].label.lower()
        if self.n_dropped_:
            self.warnings_.append(f"{self.n_dropped_} hire(s) left out: no {label} yet or a trait not scored.")
        sd = data.std()
        flat = [t for t in traits if not sd[t] > 0] if self.n_ >= 2 else []
        if flat:
            self.warnings_.append(f"Trait(s) {', '.join(flat)} have the same score for every hire and cannot be "
                                  "judged.")
        usable = [t for t in traits if t not in flat]
        usable, collinear = _independent(data, usable)
        if collinear:
            self.warnings_.append(f"Trait(s) {', '.join(collinear)} are an exact combination of other traits' scores "
                                  "and were left out.")
        self.traits_ = usable
        self.dropped_traits_ = flat + collinear
        self.mean_, self.sd_ = data.mean(), data.std()
        self.estimable_ = bool(usable) and self.n_ >= max(self.min_hires, len(usable) + 3) and sd[self.metric] > 0
        self.small_sample_ = self.n_ < self.small_sample_n
        rows = pd.DataFrame(index=pd.Index(traits, name="trait"),
                            columns=["effect", "ci_low", "ci_high", "p_value", "vif"], dtype=float)
        self.r2_ = self.adj_r2_ = np.nan
        self.cv_ = None
        self.result_ = None
        if not self.estimable_:
            n_traits = len(usable) or len(traits)
            need = max(self.min_hires, n_traits + 3)
            self.warnings_.append(
                f"Only {self.n_} hire(s) with a {label} and scores: at least {need} are needed to estimate "
                f"{n_traits} trait effects. No model is shown; collect more hires and re-run.")
        else:
            Xz = _zscore(data[usable], self.mean_[usable], self.sd_[usable]).to_numpy()
            yz = ((data[self.metric] - self.mean_[self.metric]) / self.sd_[self.metric]).to_numpy()
            res = sm.OLS(yz, sm.add_constant(Xz, has_constant="add")).fit()
            alpha = 1 - self.confidence_level
            ci = res.conf_int(alpha)
            rows.loc[usable, "effect"] = res.params[1:]
            rows.loc[usable, "ci_low"], rows.loc[usable, "ci_high"] = ci[1:, 0], ci[1:, 1]
            rows.loc[usable, "p_value"] = res.pvalues[1:]
            corr = np.corrcoef(Xz, rowvar=False) if len(usable) > 1 else np.ones((1, 1))
            rows.loc[usable, "vif"] = np.diag(np.linalg.pinv(np.atleast_2d(corr)))
            self.result_ = res
            self.r2_, self.adj_r2_ = float(res.rsquared), float(res.rsquared_adj)
            self.cv_ = cross_validate(Xz, yz, folds=self.cv_folds, repeats=self.cv_repeats,
                                      confidence_level=self.confidence_level, seed=self.seed)
            self.cv_.predictions.index = data.index
            if self.small_sample_:
                widest = float((rows["ci_high"] - rows["ci_low"]).max())
                self.warnings_.append(
                    f"Only {self.n_} hires (fewer than {self.small_sample_n}): the estimates are unstable. The "
                    f"{self.confidence_level:.0%} intervals are up to {widest:.1f} standard deviations wide; treat "
                    "the ranking as a hypothesis to re-check with the next hires, not as a verdict.")
            high_vif = rows.index[rows["vif"] > 5].tolist()
            if high_vif:
                self.warnings_.append(f"Trait(s) {', '.join(high_vif)} overlap strongly with other traits (variance "
                                      "inflation factor above 5): their separate effects are uncertain.")
        # Holm across the traits: the chance that any trait with no effect is named stays at 1 - level
        rows["p_holm"] = np.nan
        estimated = rows["p_value"].notna()
        if estimated.any():
            rows.loc[estimated, "p_holm"] = holm_adjusted(rows.loc[estimated, "p_value"].to_numpy())
        self.hires_needed_ = hires_needed(len(usable) or len(traits), effect=self.detectable_effect,
                                          alpha=1 - self.confidence_level)
        self.underpowered_ = bool(self.estimable_ and self.n_ < self.hires_needed_)
        rows["significant"] = (rows["p_holm"] < 1 - self.confidence_level) & ~self.underpowered_
        rows["verdict"] = np.where(rows["effect"].isna(), "not estimated",
                                   np.where(self.underpowered_, "too few hires to tell",
                                            np.where(rows["significant"],
                                                     np.where(rows["effect"] > 0, "predicts success",
                                                              "predicts worse success"),
                                                     "no detectable effect")))
        rows["weight"] = recommended_weights(rows["effect"]) if self.estimable_ else np.nan
        rows = rows.sort_values("effect", ascending=False, na_position="last")
        rows.insert(0, "rank", np.arange(1, len(rows) + 1))
        rows.loc[rows["effect"].isna(), "rank"] = np.nan
        self.summary_ = rows
        return self

    # ------------------------------------------------------------------ use
    def predict(self, candidates: pd.DataFrame) -> pd.DataFrame:
        """Predicted success (metric units) with a prediction interval, for rows with every trait scored."""
        out = pd.DataFrame(index=candidates.index, columns=["predicted", "pi_low", "pi_high"], dtype=float)
        if not self.estimable_:
            return out
        X = candidates[self.traits_].apply(pd.to_numeric, errors="coerce")
        ok = X.notna().all(axis=1)
        if ok.any():
            import statsmodels.api as sm

            Xz = _zscore(X[ok], self.mean_[self.traits_], self.sd_[self.traits_]).to_numpy()
            pred = self.result_.get_prediction(sm.add_constant(Xz, has_constant="add"))
            frame = pred.summary_frame(alpha=1 - self.confidence_level)
            scale, centre = self.sd_[self.metric], self.mean_[self.metric]
            out.loc[ok, "predicted"] = centre + scale * frame["mean"].to_numpy()
            out.loc[ok, "pi_low"] = centre + scale * frame["obs_ci_lower"].to_numpy()
            out.loc[ok, "pi_high"] = centre + scale * frame["obs_ci_upper"].to_numpy()
        return out

    def plot(self, ax=None):
        """Coefficient plot: each trait's standardised effect with its interval."""
        from helpers.analyses.hiring.plots import plot_effects

        return plot_effects(self.summary, ax=ax, title=SUCCESS_METRICS[self.metric].label,
                            level=self.confidence_level)

    # ------------------------------------------------------------------ words
    def sentences(self) -> list[tuple[str, str]]:
        """Findings as (sentence, severity), numbers from the fit."""
        label = SUCCESS_METRICS[self.metric].label.lower()
        if not self.estimable_:
            return [(self.warnings_[-1], "warning")]
        s = self.summary
        level = f"{self.confidence_level:.0%}"
        if self.underpowered_:
            return [(self.underpowered_sentence(), "warning"), (self.r2_sentence(), "info")]
        out = []
        pos = s[s["verdict"] == "predicts success"]
        if len(pos):
            parts = [f"{t.replace('_', ' ')} ({r.effect:+.2f} SD, {level} CI {r.ci_low:+.2f} to {r.ci_high:+.2f})"
                     for t, r in pos.iterrows()]
            out.append((f"Traits that predict {label}, strongest first: {'; '.join(parts)} "
                        f"(n = {self.n_} hires; judged with Holm's correction across the {len(self.traits_)} "
                        f"traits).", "good"))
        else:
            out.append((f"No trait has a detectable effect on {label} with {self.n_} hires.", "warning"))
        neg = s[s["verdict"] == "predicts worse success"]
        if len(neg):
            out.append((f"Higher scores on {', '.join(t.replace('_', ' ') for t in neg.index)} go with lower "
                        f"{label}.", "action"))
        null = s[s["verdict"] == "no detectable effect"]
        if len(null):
            parts = [f"{t.replace('_', ' ')} ({r.effect:+.2f}, CI {r.ci_low:+.2f} to {r.ci_high:+.2f})"
                     for t, r in null.iterrows()]
            out.append((f"No detectable effect: {'; '.join(parts)}; scoring them does not help predict {label}.",
                        "action"))
        out.append((self.r2_sentence(), "info"))
        return out

    @property
    def beats_average_(self) -> bool:
        """True when the model predicts hires it was not fitted on better than guessing the average
        (cross-validated R² above 0); only then are open candidates ranked."""
        return bool(self.estimable_ and self.cv_ is not None and self.cv_.r2_model > 0)

    def r2_sentence(self) -> str:
        """In-sample and cross-validated R²; a negative cross-validated R² said as such."""
        label = SUCCESS_METRICS[self.metric].label.lower()
        cv = self.cv_
        held_out = (f"{cv.r2_model:.0%}" if cv.r2_model > 0 else
                    f"worse than guessing the average (cross-validated R² {cv.r2_model:.2f})" if cv.r2_model < 0
                    else "no better than guessing the average")
        return (f"The model explains {self.adj_r2_:.0%} of the differences in {label} between hires "
                f"(adjusted R²); on hires it was not fitted on, {held_out} ({cv.folds}-fold cross-validation).")

    def underpowered_sentence(self) -> str:
        """Below the power-derived sample size: no trait named, and what the data would need."""
        label = SUCCESS_METRICS[self.metric].label.lower()
        k = len(self.traits_)
        return (f"No trait can be named yet: {self.n_} hires are too few. Finding a strong trait (one that moves "
                f"{label} by {self.detectable_effect:.1f} SD per SD of score) among {k} traits with 80% power "
                f"needs about {self.hires_needed_} hires with a {label}; {self.hires_needed_ - self.n_} more. "
                "The effects in the table are first estimates, not findings.")

    def weights_sentence(self) -> str:
        """Recommended weights and whether they beat equal weights out of sample."""
        if not self.estimable_:
            return "No recommended weights: too few hires to estimate the traits' effects."
        w = self.summary["weight"].dropna().sort_values(ascending=False)
        parts = ", ".join(f"{t.replace('_', ' ')} {v:.0%}" for t, v in w.items() if v > 0)
        cv = self.cv_
        lo, hi = cv.gain_ci
        level = f"{self.confidence_level:.0%}"

        def r2(v: float) -> str:
            return f"{v:.0%}" if v >= 0 else f"{v:.0%} (worse than guessing the average)"

        figures = (f"on hires not used to set them, weights from the data explain {r2(cv.r2_weights)} of the "
                   f"differences against {r2(cv.r2_equal)} for equal weights (difference {cv.gain:+.0%}, {level} "
                   f"CI {lo:+.0%} to {hi:+.0%})")
        if self.recommend_reweighting_:
            return (f"Recommended scorecard weights: {parts}; {figures}: re-weighting predicts better than equal "
                    f"weights by more than the {self.reweight_margin:.0%} margin.")
        why = ("equal weights predict better" if hi < 0 else
               f"re-weighting does not beat equal weights by the {self.reweight_margin:.0%} margin out of sample")
        return f"Keep equal weights on the scorecard: {figures}; {why}."

    @property
    def recommend_reweighting_(self) -> bool:
        """Re-weight only when data-derived weights beat equal weights out of sample by more than
        ``reweight_margin`` of R² (the lower end of the interval of the gain), with enough hires to
        name traits at all."""
        return bool(self.estimable_ and not self.underpowered_ and self.cv_ is not None
                    and self.cv_.gain_ci[0] > self.reweight_margin)


def _independent(data: pd.DataFrame, traits: list[str]) -> tuple[list[str], list[str]]:
    """Traits whose scores are linearly independent (with an intercept), and the ones left out.

    Traits are taken in order; one that adds nothing to the rank of those kept before it is an
    exact combination of them and is left out (so the later, redundant trait is the one named).
    """
    if not traits or len(data) < 2:
        return traits, []
    X = (data[traits] - data[traits].mean()).to_numpy(float)
    keep: list[int] = []
    for i in range(len(traits)):  # a handful of configured traits
        cols = X[:, keep + [i]]
        if np.linalg.matrix_rank(cols, tol=1e-9 * max(1.0, np.abs(cols).max())) == len(keep) + 1:
            keep.append(i)
    return [traits[i] for i in keep], [t for i, t in enumerate(traits) if i not in keep]


# =========================================================================== candidates and cohorts
def open_candidates(candidates: pd.DataFrame, model: TraitModel, *, as_of: Any, days: int) -> pd.DataFrame:
    """Candidates not hired whose last interview is within ``days`` before ``as_of``, best prediction first.

    The export has no "rejected" flag, so every such scorecard counts as open (documented choice).
    Ranked only when the model predicts new hires better than guessing the average
    (``model.beats_average_``); otherwise the candidates come without predictions, by id.
    """
    as_of_ts = pd.Timestamp(str(as_of)[:10])
    recent = candidates[~candidates["hired"] & (candidates["interview_date"] <= as_of_ts)
                        & (candidates["interview_date"] > as_of_ts - pd.Timedelta(days=days))]
    pred = model.predict(recent)
    if not model.beats_average_:
        pred.loc[:, :] = np.nan  # a model worse than the average ranks nobody
    out = recent[["candidate_id", "interview_date", *model.traits_in_]].join(pred)
    return out.sort_values(["predicted", "candidate_id"], ascending=[False, True], na_position="last",
                           ignore_index=True)


def cohort_effects(hires: pd.DataFrame, *, cohorts: int, **model_kw: Any) -> pd.DataFrame:
    """The model re-run on successive hire-date cohorts (and on all hires): is the formula stable?

    Hires are sorted by hire date and cut into ``cohorts`` groups of (nearly) equal size. One row
    per cohort and trait: ``cohort``, ``first_hire``, ``last_hire``, ``n``, ``effect``, ``ci_low``,
    ``ci_high`` (NaN where the cohort is too small to estimate).
    """
    ordered = hires.sort_values(["hire_date", "rep_id"])
    groups = [("all hires", ordered)]
    if cohorts > 1:
        for i, rows in enumerate(np.array_split(np.arange(len(ordered)), cohorts)):  # a few cohorts
            groups.append((f"cohort {i + 1}", ordered.iloc[rows]))
    rows = []
    for name, part in groups:  # a few cohorts
        model = TraitModel(**model_kw).fit(part)
        s = model.summary
        rows.append(pd.DataFrame({"cohort": name, "first_hire": part["hire_date"].min(),
                                  "last_hire": part["hire_date"].max(), "n": model.n_, "trait": s.index,
                                  "effect": s["effect"].to_numpy(float), "ci_low": s["ci_low"].to_numpy(float),
                                  "ci_high": s["ci_high"].to_numpy(float)}))
    return pd.concat(rows, ignore_index=True)


def hires_table(candidates: pd.DataFrame, metrics: pd.DataFrame, *, traits: list[str]) -> pd.DataFrame:
    """One row per judged hire: rep, hire date, trait scores and every success metric.

    A rep scored as several candidates (re-applied) keeps the latest interview.
    """
    hired = candidates[candidates["hired"]].sort_values("interview_date").drop_duplicates("rep_id", keep="last")
    judged = metrics[metrics["judged"]]
    table = hired[["rep_id", "candidate_id", *traits]].merge(
        judged[["rep_id", "name", "hire_date", "months_observed", *SUCCESS_METRICS]], on="rep_id", how="inner")
    return table.sort_values("rep_id", ignore_index=True)
