"""Metrics-driven coaching: each rep's funnel against the team, and the one skill to coach this month.

Roberge's sales-management formula, as the seeds describe it: measure every rep at each stage of
the sales process (activity per stage, conversion from stage to stage, overall conversion to a
customer) against the team; find the stage where the rep falls behind; *peel the onion* into
finer metrics that explain it; agree on ONE skill to work on this month; track that metric month
over month to see whether the coaching moved it.

The statistics here work on small per-rep-month tables. The event-level counting happens in the
data engine: :func:`helpers.data.reductions.rep_cohort_funnel` (what the weak-stage rule judges: per rep,
stage and cohort month, mature leads at the previous stage and those that made the step),
:func:`helpers.data.reductions.rep_month_funnel` (leads reaching each configured stage per month, for the
page's one-month charts) and
:func:`rep_month_submetrics` below (attempts, voicemails, speed to first attempt, no-shows, deal
size, cycle length, segment mix), both Ibis expressions that run on DuckDB or the company's
database.

**The weak-stage rule** (:class:`WeakStageModel`; exact semantics in ``docs/funnel-coaching.md``).
A rep's rates at every stage move together with the rep's general skill, so a weak stage is a stage
far below what the rep's *own other stages* predict, relative to the team:

* ``g`` = log(rep's rate / comparison rate) at each stage, pooled over ``evidence_months`` months; the
  comparison rate is by default what the other reps convert on the rep's own lead mix
  (:func:`mix_expected_rates`, see :func:`fit_weak_stages`);
* ``d`` = ``g`` minus the precision-weighted mean of ``g`` over the rep's other judged stages;
* ``z`` = ``d`` / sqrt(sampling variance + tau^2), where tau^2 is the normal stage-to-stage
  variation between reps, estimated robustly (median absolute deviation) from the whole team;
* a stage is flagged when its one-sided p-value is below ``false_positive_rate`` divided by the
  number of the rep's judged stages (Bonferroni within the rep, so a rep with no real weakness is
  flagged with probability at most ``false_positive_rate``) and the estimated ratio is at most
  ``max_flag_ratio``. Stages whose previous stage had fewer than ``min_previous_stage`` leads are
  not judged.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.data.reductions import rep_cohort_funnel, rep_month_funnel
from helpers.core import intervals
from helpers.core.estimator import Estimator
from helpers.analyses.coaching.submetrics import SUB_METRICS, compute_submetrics, peel, rep_month_submetrics

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import WorkbookConfig
    from helpers.data.engine import DataSource

__all__ = [
    "CoachingError",
    "CoachingSettings",
    "SUB_METRICS",
    "WeakStageModel",
    "anonymise",
    "coaching_plan",
    "compute_stage_table",
    "evidence_counts",
    "fit_weak_stages",
    "compute_submetrics",
    "mix_expected_rates",
    "month_window",
    "peel",
    "progress",
    "rep_month_submetrics",
    "shrink_rates",
    "team_heatmap",
]


class CoachingError(ValueError):
    """The funnel data cannot be analysed as given; the message says which table/column and how to fix it."""


# --------------------------------------------------------------------------- settings
#: ``[coaching] peer_groups``: whom each rep is compared with (docs/funnel-coaching.md).
PEER_GROUPS = ("lead_mix", "segment", "none")


@dataclass(frozen=True)
class CoachingSettings:
    """The ``[coaching]`` section of the configuration, validated."""

    evidence_months: int = 12
    min_previous_stage: int = 30
    false_positive_rate: float = 0.05
    max_flag_ratio: float = 0.85
    shrinkage: str = "beta_binomial"
    peer_groups: str = "lead_mix"
    counts: str = "cohort"
    maturity_days: float = 0.0
    maturity_quantile: float = 0.9
    progress_months: int = 6
    sub_metrics: tuple[tuple[str, str], ...] = ()
    confidence_level: float = 0.95

    @classmethod
    def from_config(cls, config: WorkbookConfig) -> "CoachingSettings":
        """Read ``[coaching]`` through ``config.settings`` (a bad value raises ConfigError naming file and key)."""
        s = config.settings
        pairs = []
        for item in s.string_list("coaching.sub_metrics"):
            stage, _, metric = item.partition(":")
            if not stage or metric not in SUB_METRICS:
                s.fail("coaching.sub_metrics", item,
                       f"'stage:metric' pairs with a metric from {', '.join(SUB_METRICS)}")
            pairs.append((stage, metric))
        return cls(
            evidence_months=int(s.number("coaching.evidence_months", integer=True, minimum=1)),
            min_previous_stage=int(s.number("coaching.min_previous_stage", integer=True, minimum=1)),
            false_positive_rate=float(s.number("coaching.false_positive_rate", minimum=0, maximum=0.5, strict_min=True)),
            max_flag_ratio=float(s.number("coaching.max_flag_ratio", minimum=0, maximum=1, strict_min=True)),
            shrinkage=s.choice("coaching.shrinkage", ("beta_binomial", "none")),
            peer_groups=s.choice("coaching.peer_groups", PEER_GROUPS),
            counts=s.choice("coaching.counts", ("cohort", "flow")),
            maturity_days=float(s.number("coaching.maturity_days", minimum=0)),
            maturity_quantile=float(s.number("coaching.maturity_quantile", minimum=0, maximum=1, strict_min=True)),
            progress_months=int(s.number("coaching.progress_months", integer=True, minimum=2)),
            sub_metrics=tuple(pairs),
            confidence_level=float(config.confidence_level),
        )


def month_window(month: str, months: int) -> list[str]:
    """The ``months`` calendar months ending with ``month``, oldest first (``'YYYY-MM'``)."""
    end = pd.Period(month, freq="M")
    return [str(end - i) for i in range(months - 1, -1, -1)]


# --------------------------------------------------------------------------- small statistics
def _check_funnel(funnel: pd.DataFrame) -> None:
    needed = {"rep_id", "month", "stage_order", "stage", "leads", "previous_stage_leads"}
    missing = needed - set(funnel.columns)
    if missing:
        raise CoachingError(f"the funnel table lacks column(s) {', '.join(sorted(missing))}: pass the long "
                            f"table of helpers.data.reductions.rep_month_funnel(source, config)")
    bad = funnel[funnel["leads"] < 0]
    if len(bad):
        raise CoachingError(f"the funnel table has negative lead counts for rep(s) "
                            f"{', '.join(map(str, bad['rep_id'].unique()[:5]))}; counts must be >= 0")


def pooled_counts(funnel: pd.DataFrame, months: Sequence[str]) -> pd.DataFrame:
    """Per rep and stage after the first: ``k`` (leads reaching the stage) and ``n`` (leads at the
    previous stage), summed over ``months``.

    ``funnel`` is either the cohort table of :func:`helpers.data.reductions.rep_cohort_funnel` (columns
    ``n`` and ``k``: mature leads of each cohort month, the default) or the flow table of
    ``rep_month_funnel`` (``leads`` and ``previous_stage_leads``), whose ``k`` is capped at ``n`` (flow
    ratios can exceed 1 when leads from before the window convert); ``k_raw`` keeps the uncapped count."""
    if {"n", "k"} <= set(funnel.columns) and "leads" not in funnel.columns:
        return _pooled_cohort_counts(funnel, months)
    _check_funnel(funnel)
    part = funnel[funnel["month"].isin(list(months)) & (funnel["stage_order"] > 1)]
    if part.empty:
        return pd.DataFrame({"rep_id": pd.Series(dtype=str), "stage_order": pd.Series(dtype="int64"),
                             "stage": pd.Series(dtype=str), "k_raw": pd.Series(dtype="int64"),
                             "n": pd.Series(dtype="int64"), "k": pd.Series(dtype="int64")})
    out = (part.assign(previous_stage_leads=part["previous_stage_leads"].fillna(0).astype("int64"))
           .groupby(["rep_id", "stage_order", "stage"], as_index=False)
           .agg(k_raw=("leads", "sum"), n=("previous_stage_leads", "sum")))
    out["k"] = np.minimum(out["k_raw"], out["n"]).astype("int64")
    return out.sort_values(["rep_id", "stage_order"], ignore_index=True)


def _pooled_cohort_counts(cohort: pd.DataFrame, months: Sequence[str]) -> pd.DataFrame:
    needed = {"rep_id", "month", "stage_order", "stage", "n", "k"}
    missing = needed - set(cohort.columns)
    if missing:
        raise CoachingError(f"the cohort funnel table lacks column(s) {', '.join(sorted(missing))}: pass the table "
                            f"of helpers.data.reductions.rep_cohort_funnel(source, config, end=...)")
    if (cohort["n"] < 0).any() or (cohort["k"] > cohort["n"]).any() or (cohort["k"] < 0).any():
        raise CoachingError("the cohort funnel table has counts with k > n or below 0; counts must be 0 <= k <= n")
    part = cohort[cohort["month"].isin(list(months)) & (cohort["stage_order"] > 1)]
    if part.empty:  # no mature lead in the window: the typed empty table, so the model says "too little data"
        return pd.DataFrame({"rep_id": pd.Series(dtype=str), "stage_order": pd.Series(dtype="int64"),
                             "stage": pd.Series(dtype=str), "k_raw": pd.Series(dtype="int64"),
                             "n": pd.Series(dtype="int64"), "k": pd.Series(dtype="int64")})
    out = (part.groupby(["rep_id", "stage_order", "stage"], as_index=False)[["k", "n"]].sum()
           .astype({"k": "int64", "n": "int64"}))
    out.insert(3, "k_raw", out["k"])
    return out[["rep_id", "stage_order", "stage", "k_raw", "n", "k"]].sort_values(
        ["rep_id", "stage_order"], ignore_index=True)


def mix_expected_rates(cohort: pd.DataFrame, months: Sequence[str], *,
                       cells: Sequence[str] = ("segment", "lead_source"), prior_leads: float = 20.0) -> pd.DataFrame:
    """What each rep would convert at each stage if they converted like the rest of the team on the same
    kind of leads (indirect standardisation over the lead mix).

    Per rep and stage: ``expected_rate`` = sum over cells of (rep's leads in the cell x the other reps'
    rate in the cell) / rep's leads, where a cell is a combination of the ``cells`` columns (e.g. the
    lead's segment x lead source). The other reps' rate leaves the rep out (so a rep who dominates a cell
    is not their own yardstick) and is pulled toward the coarser level's rate with ``prior_leads`` leads
    of weight (lead source within segment toward the segment, the segment toward the whole team), so
    a thin cell borrows from its neighbours. Missing cell values are a cell of their own. Columns absent
    or entirely empty are dropped; with none left it is the team's rate without the rep.
    ``expected_var_log``: the sampling variance of log(expected_rate) (the other reps' rates are estimates
    too; the model adds it to the rep's own sampling variance).
    """
    part = cohort[cohort["month"].isin(list(months)) & (cohort["stage_order"] > 1)]
    used = [c for c in cells if c in part.columns and part[c].notna().any()]
    part = part.assign(**{c: part[c].astype("object").where(part[c].notna(), "(unknown)") for c in used})
    cell = part.groupby(["rep_id", "stage", *used], as_index=False)[["n", "k"]].sum()
    rate = None
    for level in range(len(used) + 1):  # team, then segment, then segment x source: a few levels
        keys = ["stage", *used[:level]]
        team = cell.groupby(keys)[["n", "k"]].transform("sum")
        mine = cell.groupby(["rep_id", *keys])[["n", "k"]].transform("sum")
        other_n, other_k = team["n"] - mine["n"], team["k"] - mine["k"]
        if rate is None:
            rate = (other_k + 0.5) / (other_n + 1.0)
        else:
            rate = (other_k + prior_leads * rate) / (other_n + prior_leads)
    cell["_expected_k"] = cell["n"] * rate
    # sampling variance of the other reps' cell rate (binomial, with the prior's weight), times n^2
    cell["_var_k"] = cell["n"] ** 2 * rate * (1 - rate) / (other_n + (prior_leads if used else 1.0))
    out = cell.groupby(["rep_id", "stage"], as_index=False)[["n", "_expected_k", "_var_k"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["expected_rate"] = out["_expected_k"] / out["n"].where(out["n"] > 0)
        out["expected_var_log"] = out["_var_k"] / out["_expected_k"].where(out["_expected_k"] > 0) ** 2
    return out[["rep_id", "stage", "expected_rate", "expected_var_log"]]


def shrink_rates(counts: pd.DataFrame, *, method: str = "beta_binomial") -> pd.DataFrame:
    """Empirical-Bayes rates per rep and stage: each rep's k/n pulled toward the team's rate.

    Beta-binomial method of moments per stage: the team rate ``m`` = sum k / sum n; the spread of
    true rates between reps ``s2`` = observed variance of k/n across reps minus the average binomial
    variance ``m(1-m)/n``; prior strength ``M = m(1-m)/s2 - 1``; shrunk rate ``(k + M m)/(n + M)``.
    A rep with 6 demos moves most of the way to the team; a rep with 600 barely moves. With
    ``method="none"`` the shrunk rate is the raw rate. Adds ``rate``, ``team_rate``, ``prior_strength``
    and ``shrunk_rate``.
    """
    if method not in ("beta_binomial", "none"):
        raise CoachingError(f"shrinkage method {method!r} is unknown: use 'beta_binomial' or 'none'")
    out = counts.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate"] = out["k"] / out["n"].where(out["n"] > 0)
    totals = out.groupby("stage")[["k", "n"]].transform("sum")
    out["team_rate"] = totals["k"] / totals["n"].where(totals["n"] > 0)
    strength = {}
    for stage, grp in out[out["n"] > 0].groupby("stage"):  # a handful of stages
        m = float(grp["k"].sum() / grp["n"].sum())
        if method == "none" or len(grp) < 3 or m <= 0 or m >= 1:
            strength[stage] = 0.0
            continue
        s2 = float(np.var(grp["rate"], ddof=1) - np.mean(m * (1 - m) / grp["n"]))
        strength[stage] = float(m * (1 - m) / s2 - 1) if s2 > 0 else 1e6
    out["prior_strength"] = out["stage"].map(strength).fillna(0.0).clip(lower=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        shrunk = (out["k"] + out["prior_strength"] * out["team_rate"]) / (out["n"] + out["prior_strength"])
    out["shrunk_rate"] = shrunk.where((out["n"] + out["prior_strength"]) > 0)
    return out


# --------------------------------------------------------------------------- the weak-stage model
CHI2_1_MEDIAN = float(stats.chi2.ppf(0.5, 1))  # 0.4549: median of z^2 when z is standard normal


def _robust_tau2(d: np.ndarray, s2: np.ndarray) -> float:
    """Between-rep variance of true stage gaps beyond sampling noise, robust to the weak stages.

    The tau^2 >= 0 that makes the median of d^2 / (s^2 + tau^2) equal the median of a chi-square with
    one degree of freedom (0.455), i.e. the middle of the z distribution is standard normal; the
    tails, where real weaknesses sit, do not move it. Solved by bisection (the median decreases in
    tau^2); 0 when the data are no more spread than sampling noise explains.
    """
    d, s2 = np.asarray(d, float), np.asarray(s2, float)
    ok = np.isfinite(d) & np.isfinite(s2)
    d, s2 = d[ok], s2[ok]
    if len(d) < 5 or np.median(d * d / s2) <= CHI2_1_MEDIAN:
        return 0.0
    lo, hi = 0.0, float(np.max(d * d)) + 1.0
    for _ in range(60):  # bisection steps, not data rows
        mid = (lo + hi) / 2
        if np.median(d * d / (s2 + mid)) > CHI2_1_MEDIAN:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class WeakStageModel(Estimator):
    """Flags the stage where a rep converts far below what the rep's own other stages predict.

    lifelines-style: ``WeakStageModel(...).fit(funnel, months=[...])`` returns self; fitted
    attributes end in ``_``: ``summary`` (one row per rep and judged stage with counts, rates,
    the gap, its interval, z, p and ``flagged``), ``flags_`` (one row per rep: the weakest flagged
    stage or none, with its evidence), ``tau2_`` and ``team_rates_``.
    """

    def __init__(self, *, min_previous_stage: int = 30, false_positive_rate: float = 0.05,
                 max_flag_ratio: float = 0.85, confidence_level: float = 0.95, min_group_reps: int = 4):
        if not 0 < false_positive_rate < 1:
            raise CoachingError(f"false_positive_rate={false_positive_rate!r}: pass a probability such as 0.05")
        if min_previous_stage < 1:
            raise CoachingError(f"min_previous_stage={min_previous_stage!r}: pass a whole number >= 1")
        self.min_previous_stage = int(min_previous_stage)
        self.false_positive_rate = float(false_positive_rate)
        self.max_flag_ratio = float(max_flag_ratio)
        self.confidence_level = float(confidence_level)
        self.min_group_reps = int(min_group_reps)

    @classmethod
    def from_settings(cls, settings: CoachingSettings) -> WeakStageModel:
        return cls(min_previous_stage=settings.min_previous_stage, false_positive_rate=settings.false_positive_rate,
                   max_flag_ratio=settings.max_flag_ratio, confidence_level=settings.confidence_level)

    def fit(self, funnel: pd.DataFrame, *, months: Sequence[str],
            peer_groups: dict[str, str] | None = None, expected: pd.DataFrame | None = None) -> WeakStageModel:
        """Judge every rep's stages over ``months``.

        ``funnel``: the cohort table of ``rep_cohort_funnel`` (default) or the flow table of
        ``rep_month_funnel`` (see :func:`pooled_counts`).
        ``expected`` (rep_id, stage, expected_rate; e.g. :func:`mix_expected_rates`) replaces each rep's
        team rate by the rate expected for the rep's own lead mix. Otherwise ``peer_groups`` (rep -> group,
        e.g. the rep's segment) makes each rep's team rate that of the reps in the same group, when the
        group has at least ``min_group_reps`` reps with leads; other reps (and reps without a group) are
        held against the whole team.
        """
        counts = pooled_counts(funnel, months)
        self.months_ = list(months)
        totals = counts.groupby("stage")[["k", "n"]].sum()
        self.team_rates_ = (totals["k"] / totals["n"].where(totals["n"] > 0)).rename("team_rate")
        df = counts.merge(self.team_rates_, left_on="stage", right_index=True, how="left")
        df["peer_group"] = "team"
        expected_var = np.zeros(len(df))
        if expected is not None:
            exp = df[["rep_id", "stage"]].merge(expected[["rep_id", "stage", "expected_rate"]],
                                                on=["rep_id", "stage"], how="left")["expected_rate"].to_numpy()
            ok = np.isfinite(exp) & (exp > 0)
            df.loc[ok, "team_rate"] = exp[ok]
            df.loc[ok, "peer_group"] = "lead mix"
            if "expected_var_log" in expected.columns:
                extra = df[["rep_id", "stage"]].merge(expected[["rep_id", "stage", "expected_var_log"]],
                                                      on=["rep_id", "stage"], how="left")["expected_var_log"]
                expected_var = np.where(ok, extra.fillna(0.0).to_numpy(float), 0.0)
        elif peer_groups:
            group = df["rep_id"].map(peer_groups)
            size = df[df["n"] > 0].assign(_g=group).groupby("_g")["rep_id"].nunique()
            big = size[size >= self.min_group_reps].index
            df["peer_group"] = group.where(group.isin(big), "team")
            grp = df[df["peer_group"] != "team"].groupby(["peer_group", "stage"])[["k", "n"]].transform("sum")
            rate = grp["k"] / grp["n"].where(grp["n"] > 0)
            df.loc[rate.index, "team_rate"] = rate.where(rate > 0, df.loc[rate.index, "team_rate"])
        df["judged"] = (df["n"] >= self.min_previous_stage) & (df["team_rate"] > 0)
        k, n = df["k"].to_numpy(float) + 0.5, df["n"].to_numpy(float) + 0.5
        with np.errstate(invalid="ignore", divide="ignore"):
            df["g"] = np.log(k / n) - np.log(df["team_rate"].to_numpy(float))
            df["v"] = 1.0 / k - 1.0 / n + expected_var
        judged = df[df["judged"]].copy()
        tau2 = pd.Series(0.0, index=judged.index)
        for _ in range(3):  # tau^2 enters the weights; a few rounds settle it
            judged = self._gaps(judged, tau2)
            tau2 = self._tau2(judged)
        judged = self._gaps(judged, tau2)
        self.tau2_ = float(tau2.min()) if len(tau2) else 0.0
        self.stage_tau2_ = judged.assign(_t=tau2).groupby("stage")["_t"].first() if len(tau2) else pd.Series(dtype=float)
        zc = stats.norm.ppf(0.5 + self.confidence_level / 2)
        total_sd = np.sqrt(judged["s2"] + tau2)
        judged["z"] = judged["d"] / total_sd
        judged["p_value"] = stats.norm.cdf(judged["z"])
        judged["stages_judged"] = judged.groupby("rep_id")["d"].transform("count")
        judged["threshold"] = self.false_positive_rate / judged["stages_judged"].where(judged["stages_judged"] > 0)
        judged["ratio"] = np.exp(judged["d"])
        judged["ratio_low"] = np.exp(judged["d"] - zc * np.sqrt(judged["s2"]))
        judged["ratio_high"] = np.exp(judged["d"] + zc * np.sqrt(judged["s2"]))
        judged["flagged"] = ((judged["p_value"] < judged["threshold"]) & (judged["ratio"] <= self.max_flag_ratio)
                             ).fillna(False).astype(bool)
        out = df.merge(judged[["rep_id", "stage", "d", "s2", "z", "p_value", "threshold", "ratio", "ratio_low",
                               "ratio_high", "flagged"]], on=["rep_id", "stage"], how="left")
        out["flagged"] = out["flagged"].fillna(False).astype(bool)
        lo, hi = intervals.wilson_interval(out["k"], out["n"], level=self.confidence_level)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["rate"] = out["k"] / out["n"].where(out["n"] > 0)
        out["rate_low"], out["rate_high"] = lo, hi
        self.summary_ = out[["rep_id", "stage_order", "stage", "peer_group", "n", "k", "rate", "rate_low", "rate_high", "team_rate",
                            "judged", "ratio", "ratio_low", "ratio_high", "z", "p_value", "threshold",
                            "flagged"]].sort_values(["rep_id", "stage_order"], ignore_index=True)
        self.flags_ = self._flags(self.summary)
        return self

    @staticmethod
    def _tau2(judged: pd.DataFrame) -> pd.Series:
        """tau^2 per stage: the team-wide estimate, raised to the stage's own robust estimate where that
        stage varies more between reps (closing can vary more than connecting; a per-stage estimate
        alone, from a few dozen reps, is too noisy to lower it). Raising only keeps the false-flag rate
        under its design on every stage (simulation study, docs/funnel-coaching.md: 3.1% of reps on
        null orgs against 4.3% with one tau^2, recall 97.5%)."""
        ok = judged["d"].notna()
        pooled = _robust_tau2(judged.loc[ok, "d"].to_numpy(), judged.loc[ok, "s2"].to_numpy())
        out = pd.Series(pooled, index=judged.index, dtype=float)
        for _stage, rows in judged[ok].groupby("stage"):  # a handful of stages
            own = _robust_tau2(rows["d"].to_numpy(), rows["s2"].to_numpy())
            out.loc[rows.index] = max(pooled, own)
        return out

    @staticmethod
    def _gaps(judged: pd.DataFrame, tau2: pd.Series) -> pd.DataFrame:
        """Leave-one-out gap of each stage from the rep's other judged stages."""
        judged = judged.copy()
        w = 1.0 / (judged["v"] + tau2)
        grp = judged.assign(_w=w, _wg=w * judged["g"]).groupby("rep_id")
        sw, swg = grp["_w"].transform("sum"), grp["_wg"].transform("sum")
        others_w = sw - w
        with np.errstate(invalid="ignore", divide="ignore"):
            level = (swg - w * judged["g"]) / others_w.where(others_w > 0)
            judged["d"] = judged["g"] - level
            judged["s2"] = judged["v"] + 1.0 / others_w.where(others_w > 0)
        return judged

    @staticmethod
    def _flags(summary: pd.DataFrame) -> pd.DataFrame:
        """One row per rep: the flagged stage with the strongest evidence, or none."""
        reps = pd.DataFrame({"rep_id": summary["rep_id"].drop_duplicates().to_numpy()})
        judged = summary.groupby("rep_id")["judged"].sum().rename("stages_judged")
        flagged = summary[summary["flagged"]].sort_values(["rep_id", "p_value", "stage_order"])
        top = flagged.drop_duplicates("rep_id")[["rep_id", "stage", "rate", "team_rate", "ratio", "ratio_low",
                                                  "ratio_high", "z", "p_value", "n", "k"]]
        top = top.rename(columns={"stage": "weak_stage"})
        out = reps.merge(judged, left_on="rep_id", right_index=True, how="left").merge(top, on="rep_id", how="left")
        out["stages_judged"] = out["stages_judged"].fillna(0).astype("int64")
        out["flagged"] = out["weak_stage"].notna()
        return out.sort_values("rep_id", ignore_index=True)

    def plot(self, ax: Any = None) -> Any:
        """Each rep's gap per stage (ratio to what the rep's other stages predict), flags in red."""
        from helpers.analyses.coaching.plots import plot_gaps

        return plot_gaps(self.summary, ax=ax)


def evidence_counts(source: DataSource, config: WorkbookConfig, settings: CoachingSettings, *,
                    month: str) -> pd.DataFrame:
    """The counts the weak-stage model judges for the report ``month``: the cohort table of
    ``rep_cohort_funnel`` over the evidence window, outcomes as known at the end of ``month`` (default,
    ``counts = "cohort"``), or the monthly flows of ``rep_month_funnel`` (``counts = "flow"``)."""
    months = month_window(month, settings.evidence_months)
    after = str(pd.Period(month, freq="M") + 1)
    if settings.counts == "flow":
        return rep_month_funnel(source, config, start=months[0], end=after)
    return rep_cohort_funnel(source, config, end=after, start=months[0], maturity_days=settings.maturity_days or None,
                             maturity_quantile=settings.maturity_quantile)


def fit_weak_stages(counts: pd.DataFrame, *, months: Sequence[str], settings: CoachingSettings,
                    rep_segments: dict[str, Any] | None = None) -> tuple[WeakStageModel, str]:
    """Fit :class:`WeakStageModel` with the comparison ``settings.peer_groups`` asks for, falling back
    when the data lack what it needs; returns the model and one plain sentence saying whom each rep was
    compared with (for the page).

    * ``"lead_mix"`` (default): the rate the other reps reach on the same mix of leads
      (:func:`mix_expected_rates` over the lead's segment, the rep's segment where the lead has none, x
      lead source), when ``counts`` is the cohort table and carries either; else as ``"segment"``;
    * ``"segment"``: the reps of the same ``reps.segment`` (``rep_segments``); else the whole team;
    * ``"none"``: the whole team.
    """
    segs = {r: v for r, v in (rep_segments or {}).items() if isinstance(v, str) and v.strip()}
    model = WeakStageModel.from_settings(settings)
    choice = settings.peer_groups
    if choice == "lead_mix" and {"segment", "lead_source"} <= set(counts.columns):
        cells = counts.assign(segment=counts["segment"].where(counts["segment"].notna(),
                                                              counts["rep_id"].map(segs)))
        expected = mix_expected_rates(cells, months)
        window = counts["month"].isin(list(months))
        lead_seg = bool(counts.loc[window, "segment"].notna().any())
        used = [c for c in ("segment", "lead_source") if cells.loc[window, c].notna().any()]
        if used:
            what = {("segment", "lead_source"): "the same segment and lead source" if lead_seg else
                    "the rep's segment and the same lead source; the leads carry no segment",
                    ("segment",): "the same segment (the leads carry no lead source)" if lead_seg else
                    "the rep's own segment; the leads carry no segment or lead source",
                    ("lead_source",): "the same lead source (the leads carry no segment)"}[tuple(used)]
            model.fit(counts, months=months, expected=expected)
            return model, (f"Each rep is compared with what the other reps convert on the same kind of leads "
                           f"({what}), weighted by the rep's own mix of leads at each stage.")
    if choice in ("lead_mix", "segment") and segs:
        model.fit(counts, months=months, peer_groups=segs)
        why = "" if choice == "segment" else " (the leads carry no segment or lead source to weigh by)"
        return model, (f"Each rep is compared with the reps of their own segment{why}; a segment with fewer "
                       f"than {model.min_group_reps} reps is compared with the whole team.")
    model.fit(counts, months=months)
    why = ("" if choice == "none" else
           " (the data carry no lead segment, lead source or rep segment to find peers who work the same kind "
           "of leads)")
    return model, f"Each rep is compared with the whole team{why}."


# --------------------------------------------------------------------------- per-month stage table
def compute_stage_table(funnel: pd.DataFrame, *, months: Sequence[str]) -> pd.DataFrame:
    """Per rep and stage over ``months``: leads at the stage, % of the previous stage and % of the first
    stage, with the team median and quartiles (over reps with leads at the first stage) of each."""
    _check_funnel(funnel)
    part = funnel[funnel["month"].isin(list(months))]
    if part.empty:
        return pd.DataFrame(columns=["rep_id", "stage_order", "stage", "stage_label", "leads", "previous_stage_leads",
                                     "pct_of_previous", "first_stage_leads", "pct_of_first"])
    agg = (part.assign(previous_stage_leads=part["previous_stage_leads"].astype("float64"))
           .groupby(["rep_id", "stage_order", "stage", "stage_label"], as_index=False)
           .agg(leads=("leads", "sum"), previous_stage_leads=("previous_stage_leads", "sum")))
    first = agg[agg["stage_order"] == agg["stage_order"].min()].set_index("rep_id")["leads"]
    agg["first_stage_leads"] = agg["rep_id"].map(first).fillna(0).astype("int64")
    agg.loc[agg["stage_order"] == agg["stage_order"].min(), "previous_stage_leads"] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        agg["pct_of_previous"] = 100 * agg["leads"] / agg["previous_stage_leads"].where(agg["previous_stage_leads"] > 0)
        agg["pct_of_first"] = 100 * agg["leads"] / agg["first_stage_leads"].where(agg["first_stage_leads"] > 0)
    active = agg[agg["first_stage_leads"] > 0]
    for col in ("leads", "pct_of_previous", "pct_of_first"):
        q = active.groupby("stage")[col].quantile([0.25, 0.5, 0.75]).unstack()
        agg[f"team_{col}_q1"] = agg["stage"].map(q[0.25]) if len(q) else np.nan
        agg[f"team_{col}_median"] = agg["stage"].map(q[0.5]) if len(q) else np.nan
        agg[f"team_{col}_q3"] = agg["stage"].map(q[0.75]) if len(q) else np.nan
    return agg.sort_values(["rep_id", "stage_order"], ignore_index=True)


def to_won_table(funnel: pd.DataFrame, *, months: Sequence[str]) -> pd.DataFrame:
    """Overall conversion to the last stage from every earlier stage (the book's third chart):
    per rep and stage, ``won`` (leads reaching the last stage) / leads at that stage, pooled over
    ``months``, with the team's pooled rate and a Wilson interval."""
    table = compute_stage_table(funnel, months=months)
    if table.empty:
        return table
    last = table["stage_order"].max()
    won = table[table["stage_order"] == last].set_index("rep_id")["leads"]
    out = table[table["stage_order"] < last][["rep_id", "stage_order", "stage", "stage_label", "leads"]].copy()
    out["won"] = out["rep_id"].map(won).fillna(0).astype("int64")
    out["won_capped"] = np.minimum(out["won"], out["leads"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct_to_won"] = 100 * out["won"] / out["leads"].where(out["leads"] > 0)
    lo, hi = intervals.wilson_interval(out["won_capped"], out["leads"])
    out["pct_low"], out["pct_high"] = 100 * lo, 100 * hi
    team = out.groupby("stage")[["won", "leads"]].sum()
    out["team_pct_to_won"] = out["stage"].map(100 * team["won"] / team["leads"].where(team["leads"] > 0))
    return out.sort_values(["rep_id", "stage_order"], ignore_index=True)


def team_heatmap(model: WeakStageModel, *, names: dict[str, str] | None = None,
                 method: str = "beta_binomial") -> pd.DataFrame:
    """Reps x stage: shrunk conversion rate divided by the team's (1.0 = team rate), stack-ranked by
    the product over stages (best first). Reps named by ``names`` where given."""
    counts = model.summary[["rep_id", "stage_order", "stage", "k", "n"]]
    if counts.empty:  # nothing judged (e.g. no lead mature yet): an empty grid, not an error
        return pd.DataFrame()
    shrunk = shrink_rates(counts, method=method)
    shrunk["index"] = shrunk["shrunk_rate"] / shrunk["team_rate"]
    grid = shrunk.pivot(index="rep_id", columns="stage", values="index")
    order = shrunk.drop_duplicates("stage").sort_values("stage_order")["stage"].tolist()
    grid = grid.reindex(columns=order)
    grid = grid.loc[np.log(grid.clip(lower=1e-6)).mean(axis=1).sort_values(ascending=False).index]
    if names:
        grid.index = [names.get(r, r) for r in grid.index]
    grid.columns.name = None
    return grid


def leaderboard(stage_table: pd.DataFrame, *, stage: str, metric: str = "pct_of_previous",
                names: dict[str, str] | None = None, min_previous: int = 0) -> pd.DataFrame:
    """Reps ranked on one metric at one stage (best first), with the counts behind it."""
    rows = stage_table[stage_table["stage"] == stage].copy()
    if metric == "pct_of_previous":
        rows = rows[rows["previous_stage_leads"].fillna(0) >= min_previous]
    rows = rows.dropna(subset=[metric]).sort_values([metric, "rep_id"], ascending=[False, True])
    rows["rank"] = np.arange(1, len(rows) + 1)
    rows["rep"] = rows["rep_id"].map(names or {}).fillna(rows["rep_id"])
    return rows[["rank", "rep", "rep_id", metric, "leads", "previous_stage_leads"]].reset_index(drop=True)


# --------------------------------------------------------------------------- progress and plan
def progress(funnel: pd.DataFrame, *, rep_id: str, stage: str, months: Sequence[str],
             confidence_level: float = 0.95) -> pd.DataFrame:
    """Month by month at ``stage``: the rep's conversion (% of previous stage) with its n and Wilson
    interval, and the team's median across reps with at least one lead at the previous stage."""
    rows = funnel[(funnel["stage"] == stage) & funnel["month"].isin(list(months))].copy()
    rows["n"] = rows["previous_stage_leads"].fillna(0).astype("int64")
    rows["k"] = np.minimum(rows["leads"], rows["n"])
    with np.errstate(invalid="ignore", divide="ignore"):
        rows["pct"] = 100 * rows["leads"] / rows["n"].where(rows["n"] > 0)
    team = rows[rows["n"] > 0].groupby("month")["pct"].median().rename("team_median_pct")
    rep = rows[rows["rep_id"] == rep_id].set_index("month")[["n", "k", "pct"]]
    out = pd.DataFrame(index=pd.Index(list(months), name="month")).join(rep).join(team).reset_index()
    out["n"] = out["n"].fillna(0).astype("int64")
    out["k"] = out["k"].fillna(0).astype("int64")
    lo, hi = intervals.wilson_interval(out["k"], out["n"], level=confidence_level)
    out["pct_low"], out["pct_high"] = 100 * lo, 100 * hi
    return out


def change_test(prog: pd.DataFrame) -> dict[str, Any]:
    """Did the metric move from the previous month to the last one, beyond noise and beyond the team?

    Two-proportion z-test (pooled) on the rep's last two months; returns the two rates, their n, the
    team's median change and the two-sided p-value (NaN when either month has no leads)."""
    if len(prog) < 2:
        return {"before": np.nan, "after": np.nan, "n_before": 0, "n_after": 0, "team_change": np.nan, "p_value": np.nan}
    b, a = prog.iloc[-2], prog.iloc[-1]
    out = {"before": b["pct"], "after": a["pct"], "n_before": int(b["n"]), "n_after": int(a["n"]),
           "team_change": a["team_median_pct"] - b["team_median_pct"], "p_value": np.nan}
    if b["n"] > 0 and a["n"] > 0:
        p1, p2 = b["k"] / b["n"], a["k"] / a["n"]
        pooled = (b["k"] + a["k"]) / (b["n"] + a["n"])
        se = math.sqrt(pooled * (1 - pooled) * (1 / b["n"] + 1 / a["n"]))
        out["p_value"] = float(2 * stats.norm.sf(abs(p2 - p1) / se)) if se > 0 else 1.0
    return out


def coaching_plan(model: WeakStageModel, submetrics: pd.DataFrame, funnel: pd.DataFrame, *,
                  settings: CoachingSettings, month: str, names: dict[str, str] | None = None,
                  labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The table a manager takes into the monthly one-on-one: one row per rep.

    ``focus_stage``: the flagged weak stage (or empty: no stage is weak beyond noise); ``evidence``: the
    rate, the team's, the ratio to what the rep's other stages predict with its interval and p; ``skill``:
    the sub-metric of that stage where the rep sits lowest against the team; ``progress``: the stage's
    conversion last month and this month and whether the change is beyond noise.
    """
    names, labels = names or {}, labels or {}
    months = month_window(month, 2)
    rows = []
    for rec in model.flags_.itertuples(index=False):  # one row per rep (tens), not per event
        row: dict[str, Any] = {"rep_id": rec.rep_id, "rep": names.get(rec.rep_id, rec.rep_id),
                               "stages_judged": rec.stages_judged, "focus_stage": "", "evidence": "", "skill": "",
                               "skill_detail": "", "progress": ""}
        if rec.stages_judged < 2:
            row["evidence"] = (f"Too little data: fewer than two stages had {settings.min_previous_stage} leads at "
                               f"the previous stage, so no stage can be held against the others.")
        elif not rec.flagged:
            row["evidence"] = "No stage is weak beyond normal variation: keep the current plan."
        else:
            label = labels.get(rec.weak_stage, rec.weak_stage)
            row["focus_stage"] = rec.weak_stage
            row["evidence"] = (f"{label}: {100 * rec.rate:.0f}% of {int(rec.n)} leads at the previous stage vs "
                               f"team {100 * rec.team_rate:.0f}%; "
                               f"{rec.ratio:.2f}x what the rep's other stages predict "
                               f"({settings.confidence_level:.0%} CI {rec.ratio_low:.2f}-{rec.ratio_high:.2f}), "
                               f"p={rec.p_value:.1g}")
            pe = peel(submetrics, rep_id=rec.rep_id, stage=rec.weak_stage, pairs=settings.sub_metrics)
            pe = pe.dropna(subset=["value"])
            if len(pe) and pe.iloc[0]["percentile"] <= 50:
                top = pe.iloc[0]
                row["skill"] = top["label"]
                row["skill_detail"] = (f"{top['value']:.1f} vs team median {top['team_median']:.1f} "
                                       f"(percentile {top['percentile']:.0f}, n={int(top['n'])})")
            else:
                row["skill"] = f"{label} itself"
                row["skill_detail"] = ("no measured sub-metric lags the team: review recordings of these "
                                       "conversations together")
            ch = change_test(progress(funnel, rep_id=rec.rep_id, stage=rec.weak_stage, months=months,
                                      confidence_level=settings.confidence_level))
            if ch["n_before"] and ch["n_after"]:
                moved = "beyond noise" if ch["p_value"] < 1 - settings.confidence_level else "within noise"
                row["progress"] = (f"{ch['before']:.0f}% (n={ch['n_before']}) -> {ch['after']:.0f}% "
                                   f"(n={ch['n_after']}), {moved} (p={ch['p_value']:.2f}); team median "
                                   f"{ch['team_change']:+.0f} points")
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- rep-private view
def anonymise(names: dict[str, str], *, keep: str, order: Sequence[str] | None = None) -> dict[str, str]:
    """Names for a rep-private page: ``keep`` keeps their name, every other rep becomes "Peer 1",
    "Peer 2" ... in the given ``order`` (e.g. the heatmap's rank), so no peer can be identified."""
    ids = list(order) if order is not None else sorted(names)
    out, i = {}, 0
    for rid in ids:  # reps, not events
        if rid == keep:
            out[rid] = names.get(rid, rid)
        else:
            i += 1
            out[rid] = f"Peer {i}"
    return out
