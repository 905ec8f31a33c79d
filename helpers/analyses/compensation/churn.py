"""Whose customers stay: churn by closing rep and by consultant, churn quartiles, retention curves.

The customer-success plan of the seeds pays a salesperson according to how many of their
customers stay. This module measures that, honestly and the same way every month:

* :func:`customer_cohorts` (Ibis, runs in the engine) reduces the customers table to counts and
  MRR per person, start month, billing term and churn outcome. Everything else here works on
  that small frame, so the ranking can be recomputed as of the end of any past month without
  going back to the data (no future information: a customer counts only once its churn window
  has closed by the ranking date).
* :func:`churn_rates` turns cohorts into a churn rate per person as of a month (with a Wilson
  interval and its ``n``), :class:`ChurnQuartiles` ranks salespeople into quartiles with a
  documented, deterministic tie rule and a minimum number of customers.
* :func:`retention_durations` (Ibis) and :class:`RetentionCurves` give Kaplan-Meier retention
  curves per rep and per quartile (statsmodels' product-limit estimator, censored at ``as_of``).

**"Churned within N months"** (the rule the payroll and the ranking share): a customer churned
within N months when ``churn_date < start_date + N calendar months``; the date offset clamps to
the month's last day (31 January + 1 month = 28/29 February). Days are counted with the start
date as day 1, so a 4-month window starting 1 January 2025 holds days 1-120 (up to 30 April);
a churn on day 121 (1 May) is outside it. A window starting 1 March 2024 holds 122 days. Not
30-day months: payroll and customers think in calendar months.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pandas as pd

from helpers.data.engine import DataSource
from helpers.data.reductions import _finish, _instant, fetch
from helpers.core import intervals
from helpers.core.periods import month_index, month_texts
from helpers.core.estimator import Estimator

__all__ = [
    "ATTRIBUTIONS", "ChurnDataError", "ChurnHeterogeneity", "ChurnQuartiles", "RetentionCurves", "as_of_date", "churn_rates",
    "customer_cohorts", "retention_durations", "within_months",
]

#: who a customer is attributed to: the salesperson who closed it, or the post-sale consultant
ATTRIBUTIONS = {"closing_rep": "closing_rep_id", "consultant": "consultant_id"}
DAYS_PER_MONTH = 365.25 / 12  # only for drawing retention curves in months; never for the window rule


class ChurnDataError(ValueError):
    """The churn input is unusable; the message names the table or column and how to fix it."""


# --------------------------------------------------------------------------- months and dates
def as_of_date(as_of: Any) -> pd.Timestamp:
    """The calendar day an analysis is as of (a bare date means the whole of that day)."""
    return pd.Timestamp(_instant(as_of, end_of_day=True).date())


def within_months(start: Any, churn: Any, months: int) -> bool:
    """The window rule in plain Python (the engine applies the same one): churn before start + N months."""
    if churn is None or pd.isna(churn):
        return False
    return pd.Timestamp(churn) < pd.Timestamp(start) + pd.DateOffset(months=int(months))


def _customers_as_of(source: DataSource, *, as_of: Any, attribution: str) -> tuple[Any, str, Any, Any]:
    """Customers started by ``as_of`` with a person in ``attribution``; the column, the cutoff literal and
    the "churn known by as_of" condition (a churn after ``as_of`` is not known yet)."""
    if attribution not in ATTRIBUTIONS:
        raise ValueError(f"attribution must be one of {', '.join(ATTRIBUTIONS)}, not {attribution!r}")
    cutoff = ibis.literal(as_of_date(as_of).date(), type=dt.Date())
    c = source.table("customers")
    person = ATTRIBUTIONS[attribution]
    c = c.filter((c.start_date <= cutoff) & c[person].notnull())
    return c, person, cutoff, c.churn_date.notnull() & (c.churn_date <= cutoff)


def _check_months(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a whole number of months >= 1, not {value!r}")
    return int(value)


# --------------------------------------------------------------------------- engine reductions
def customer_cohorts(source: DataSource, *, window_months: int, clawback_months: int, as_of: Any,
                     attribution: str = "closing_rep") -> pd.DataFrame:
    """Customers reduced in the engine to one row per person, start month, billing term and outcome.

    Only customers who started by ``as_of`` count; a churn after ``as_of`` is not known yet.
    Columns: ``rep_id`` (the closing rep, or the consultant with ``attribution="consultant"``),
    ``start_month`` (``YYYY-MM``), ``billing_term``, ``window_done`` (the customer's first
    ``window_months`` calendar months ended by ``as_of``), ``churned_in_window`` (churned within
    them, see the module's rule), ``clawback_month`` (the month of the churn when it fell within
    ``clawback_months``, else empty), ``churned`` (churned by ``as_of``), and the sums
    ``customers``, ``mrr_cents`` (MRR in whole cents) and ``retained_mrr_cents`` (MRR of those
    still customers at ``as_of``).
    """
    window_months = _check_months("window_months", window_months)
    clawback_months = _check_months("clawback_months", clawback_months)
    c, person, cutoff, known = _customers_as_of(source, as_of=as_of, attribution=attribution)
    window_end = c.start_date + ibis.interval(months=window_months)
    claw_end = c.start_date + ibis.interval(months=clawback_months)
    in_claw = known & (c.churn_date < claw_end)
    cents = (c.mrr * 100).round().cast("int64")
    c = c.mutate(
        _rep=c[person], _sy=c.start_date.year(), _sm=c.start_date.month(),
        _done=window_end <= cutoff, _in_window=known & (c.churn_date < window_end),
        _cy=ibis.ifelse(in_claw, c.churn_date.year(), ibis.null(dt.int32)),
        _cm=ibis.ifelse(in_claw, c.churn_date.month(), ibis.null(dt.int32)),
        _churned=known, _cents=cents, _kept_cents=ibis.ifelse(known, 0, cents).cast("int64"))
    grouped = c.group_by(["_rep", "_sy", "_sm", "billing_term", "_done", "_in_window", "_cy", "_cm",
                          "_churned"]).aggregate(
        customers=c.count(), mrr_cents=c._cents.sum(), retained_mrr_cents=c._kept_cents.sum())
    df = fetch(grouped)
    columns = ["rep_id", "start_month", "billing_term", "window_done", "churned_in_window", "clawback_month",
               "churned", "customers", "mrr_cents", "retained_mrr_cents"]
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(columns, [
            "str", "str", "str", "bool", "bool", "object", "bool", "int64", "int64", "int64"])})
    df["rep_id"] = df.pop("_rep").astype(str)
    df["start_month"] = month_texts(df.pop("_sy"), df.pop("_sm"))
    cy, cm = df.pop("_cy"), df.pop("_cm")
    claimed = cy.notna()
    df["clawback_month"] = pd.Series(None, index=df.index, dtype=object)
    df.loc[claimed, "clawback_month"] = month_texts(cy[claimed], cm[claimed]).astype(object)
    df = df.rename(columns={"_done": "window_done", "_in_window": "churned_in_window", "_churned": "churned"})
    for col in ("window_done", "churned_in_window", "churned"):
        df[col] = df[col].fillna(False).astype(bool)
    for col in ("customers", "mrr_cents", "retained_mrr_cents"):
        df[col] = df[col].fillna(0).astype("int64")
    df["billing_term"] = df["billing_term"].astype(str)
    return df[columns].sort_values(["rep_id", "start_month", "billing_term", "window_done", "churned_in_window",
                                    "churned", "clawback_month"], kind="stable", na_position="first",
                                   ignore_index=True)


def retention_durations(source: DataSource, *, as_of: Any, attribution: str = "closing_rep") -> pd.DataFrame:
    """Days each customer has been followed, reduced in the engine to counts for Kaplan-Meier.

    One row per person, ``days`` and ``churned``: ``customers`` who churned ``days`` after their
    start (``churned`` true), or were still customers ``days`` after it at ``as_of`` (censored).
    A churn after ``as_of`` is censored at ``as_of`` (a report rebuilt for a past date never
    uses later information).
    """
    c, person, cutoff, known = _customers_as_of(source, as_of=as_of, attribution=attribution)
    end = ibis.ifelse(known, c.churn_date, cutoff)
    c = c.mutate(_rep=c[person], _days=end.delta(c.start_date, unit="day"), _churned=known)
    df = fetch(c.group_by(["_rep", "_days", "_churned"]).aggregate(customers=c.count()))
    df = df.rename(columns={"_rep": "rep_id", "_days": "days", "_churned": "churned"})
    return _finish(df, {"rep_id": "str", "days": "int", "churned": "bool", "customers": "int"},
                   keys=("rep_id", "days", "churned"))


# --------------------------------------------------------------------------- rates and ranking
def churn_rates(cohorts: pd.DataFrame, *, at_month: str, window_months: int, as_of_month: str | None = None,
                lookback_months: int = 0, confidence_level: float = 0.95,
                people: list[str] | None = None) -> pd.DataFrame:
    """Churn within the window per person, as known at the end of ``at_month``.

    A customer is *judged* once its window has closed by the ranking date: its start month plus
    ``window_months`` is at most ``at_month`` (in ``as_of_month`` itself, the exact
    ``window_done`` flag of :func:`customer_cohorts` decides). ``lookback_months`` > 0 keeps
    only customers whose window closed in the last ``lookback_months`` months up to
    ``at_month``. Columns: ``rep_id``, ``customers`` (started by then), ``customers_judged``,
    ``churned_in_window``, ``churn_rate`` (NaN when none judged) with its Wilson interval
    ``ci_low``/``ci_high``, ``churned_by_now`` and ``lifetime_churn_share`` (every customer
    started by then and lost by ``as_of``; over the customer's life so far, not a rate of a
    fixed window). ``people`` adds rows (with zero customers) for people without any.
    """
    window_months = _check_months("window_months", window_months)
    at = month_index(at_month)
    as_of_idx = month_index(as_of_month) if as_of_month else at
    frame = cohorts.assign(_start=[month_index(m) for m in cohorts["start_month"]])
    frame = frame[frame["_start"] <= at]
    window_end = frame["_start"] + window_months
    judged = (window_end <= at) if at < as_of_idx else frame["window_done"]
    if lookback_months:
        judged = judged & (window_end > at - lookback_months)
    frame = frame.assign(_judged=judged.astype(bool))
    judged_rows = frame[frame["_judged"]]
    out = pd.DataFrame({
        "customers": frame.groupby("rep_id")["customers"].sum(),
        "customers_judged": judged_rows.groupby("rep_id")["customers"].sum(),
        "churned_in_window": judged_rows[judged_rows["churned_in_window"]].groupby("rep_id")["customers"].sum(),
        "churned_by_now": frame[frame["churned"]].groupby("rep_id")["customers"].sum(),
    })
    if people is not None:
        out = out.reindex(sorted(set(out.index) | set(people)))
    out = out.fillna(0).astype("int64")
    out.index.name = "rep_id"
    out = out.reset_index()
    out["churn_rate"] = out["churned_in_window"] / out["customers_judged"].where(out["customers_judged"] > 0)
    out["ci_low"], out["ci_high"] = intervals.wilson_interval(out["churned_in_window"], out["customers_judged"],
                                                          level=confidence_level)
    out["lifetime_churn_share"] = out["churned_by_now"] / out["customers"].where(out["customers"] > 0)
    return out.sort_values("rep_id", ignore_index=True)


UNRANKED_FEW_CUSTOMERS = "not enough customers yet"
UNRANKED_FEW_REPS = "too few ranked reps for quartiles"


@dataclass
class ChurnQuartiles(Estimator):
    """Rank salespeople into churn quartiles; quartile 1 keeps its customers best.

    Rules (documented in docs/compensation.md, tested in tests/test_churn.py):

    * a rep is *eligible* with at least ``min_customers`` judged customers; the others are
      shown as "not enough customers yet" and paid ``unranked_multiplier``;
    * with fewer than ``min_reps`` eligible reps (at least 4) nobody is ranked (quartiles of
      two or three people say nothing) and everyone is paid ``unranked_multiplier``;
    * eligible reps are ranked by churn rate, lowest first, with *competition ranking*: tied
      reps share the best rank of their group (1, 2, 2, 4), so identical churn is always paid
      the same; quartile = ``floor(4 * (rank - 1) / n) + 1`` with ``n`` eligible reps. Without
      ties every quartile holds n/4 reps (the first quartiles one more when n is not a multiple
      of 4); ties move reps to the better quartile, never the worse;
    * the multiplier of quartile q is ``multipliers[q - 1]``.

    ``fit(rates)`` takes :func:`churn_rates` output and returns self; ``ranking_`` holds one row
    per rep with ``eligible``, ``rank``, ``quartile`` (nullable), ``multiplier`` and ``status``.
    """

    multipliers: tuple[float, float, float, float] = (2.0, 1.5, 1.0, 0.5)
    min_customers: int = 10
    min_reps: int = 4
    unranked_multiplier: float = 1.0

    def __post_init__(self) -> None:
        if len(self.multipliers) != 4 or any(m < 0 for m in self.multipliers):
            raise ValueError(f"multipliers must be four non-negative numbers, best quartile first: {self.multipliers!r}")
        if self.min_reps < 4:
            raise ValueError(f"min_reps must be at least 4 (quartiles need four people), not {self.min_reps}")
        if self.min_customers < 1:
            raise ValueError(f"min_customers must be at least 1, not {self.min_customers}")

    def fit(self, rates: pd.DataFrame) -> "ChurnQuartiles":
        missing = {"rep_id", "customers_judged", "churn_rate"} - set(rates.columns)
        if missing:
            raise ChurnDataError(f"churn rates lack column(s) {', '.join(sorted(missing))}: pass churn_rates(...) output")
        if rates["rep_id"].duplicated().any():
            dup = rates.loc[rates["rep_id"].duplicated(), "rep_id"].tolist()
            raise ChurnDataError(f"churn rates list rep(s) {dup[:5]} twice: one row per rep")
        table = rates.copy()
        table["eligible"] = (table["customers_judged"] >= self.min_customers) & table["churn_rate"].notna()
        n = int(table["eligible"].sum())
        ranked = table["eligible"] & (n >= self.min_reps)
        rank = table.loc[ranked, "churn_rate"].rank(method="min", ascending=True)
        table["rank"] = pd.array([pd.NA] * len(table), dtype="Int64")
        table.loc[ranked, "rank"] = rank.astype("int64")
        quartile = (4 * (rank - 1) // n + 1).astype("int64") if n else rank
        table["quartile"] = pd.array([pd.NA] * len(table), dtype="Int64")
        table.loc[ranked, "quartile"] = quartile
        mult = {q: float(m) for q, m in enumerate(self.multipliers, start=1)}
        table["multiplier"] = [mult[int(q)] if not pd.isna(q) else float(self.unranked_multiplier)
                               for q in table["quartile"]]
        table["status"] = np.where(ranked, "ranked", np.where(table["eligible"], UNRANKED_FEW_REPS,
                                                              UNRANKED_FEW_CUSTOMERS))
        self.ranking_ = table.sort_values(["quartile", "churn_rate", "rep_id"], na_position="last",
                                          kind="stable", ignore_index=True)
        self.n_ranked_ = int(ranked.sum())
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """Per quartile: reps, judged customers, churned, pooled churn rate, multiplier."""
        r = self.ranking_[self.ranking_["status"] == "ranked"]
        g = r.groupby("quartile")
        out = pd.DataFrame({"reps": g.size(), "customers_judged": g["customers_judged"].sum(),
                            "churned_in_window": g["churned_in_window"].sum()})
        out["pooled_churn_rate"] = out["churned_in_window"] / out["customers_judged"].where(out["customers_judged"] > 0)
        out["multiplier"] = [self.multipliers[int(q) - 1] for q in out.index]
        return out

    def plot(self, ax=None, *, names: dict[str, str] | None = None):
        """Churn rate per rep with its interval, coloured by quartile; unranked reps in grey."""
        from helpers.analyses.compensation.plots import plot_rep_churn

        return plot_rep_churn(self.ranking_, names=names, ax=ax)


# --------------------------------------------------------------------------- do reps differ at all?
@dataclass
class ChurnHeterogeneity(Estimator):
    """Do salespeople's churn rates differ beyond chance? Quartiles always exist; skill may not.

    ``fit(ranking)`` takes the ranked reps (``customers_judged``, ``churned_in_window``) and tests
    homogeneity: Pearson's chi-square of the reps' churned counts against the pooled rate p,
    X² = sum (k - n p)² / (n p (1 - p)) on (reps - 1) degrees of freedom (an overdispersion test:
    the dispersion X²/df is about 1 when reps differ only by chance). Fitted: ``statistic_``,
    ``df_``, ``p_value_``, ``dispersion_``, ``differ_`` (p < 1 - confidence_level) and ``rates_``,
    one row per rep with its raw rate and a **shrunken** rate (empirical-Bayes beta-binomial: the
    between-rep variance s2 = variance of k/n minus the mean binomial variance p(1-p)/n; prior
    strength M = p(1-p)/s2 - 1; shrunk rate (k + M p)/(n + M); with s2 <= 0 every rep's shrunk rate
    is the pooled rate). Measured in tests/test_churn.py: on teams whose reps share one rate the
    test says "differ" in about 5% of months.
    """

    confidence_level: float = 0.95

    def fit(self, ranking: pd.DataFrame) -> "ChurnHeterogeneity":
        r = ranking[(ranking["customers_judged"] > 0)].copy() if len(ranking) else ranking.copy()
        n = r["customers_judged"].to_numpy(dtype=float) if len(r) else np.array([])
        k = r["churned_in_window"].to_numpy(dtype=float) if len(r) else np.array([])
        self.reps_ = len(r)
        self.df_ = max(self.reps_ - 1, 0)
        p = float(k.sum() / n.sum()) if n.sum() > 0 else float("nan")
        self.pooled_rate_ = p
        if self.reps_ < 2 or not 0 < p < 1:
            self.statistic_ = self.p_value_ = self.dispersion_ = float("nan")
            self.differ_ = False
            strength = float("inf")
        else:
            from scipy import stats as _stats

            self.statistic_ = float((((k - n * p) ** 2) / (n * p * (1 - p))).sum())
            self.p_value_ = float(_stats.chi2.sf(self.statistic_, self.df_))
            self.dispersion_ = self.statistic_ / self.df_
            self.differ_ = bool(self.p_value_ < 1 - self.confidence_level)
            s2 = float(np.var(k / n, ddof=1) - np.mean(p * (1 - p) / n)) if self.reps_ > 2 else 0.0
            strength = p * (1 - p) / s2 - 1 if s2 > 0 else float("inf")
        r["pooled_rate"] = p
        if np.isinf(strength):
            r["shrunk_rate"] = p
        else:
            r["shrunk_rate"] = (k + max(strength, 0.0) * p) / (n + max(strength, 0.0))
        self.prior_strength_ = strength
        self.rates_ = r
        return self

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"reps": self.reps_, "chi2": self.statistic_, "df": self.df_, "p_value": self.p_value_,
                              "dispersion": self.dispersion_, "pooled_rate": self.pooled_rate_,
                              "reps_differ": self.differ_}])

    def sentence(self) -> str:
        """Plain words: whether the quartiles say anything about skill this period."""
        if not np.isfinite(self.p_value_):
            return "Too few ranked salespeople or churned customers to test whether churn differs between them."
        pv = "p < 0.001" if self.p_value_ < 0.001 else f"p = {self.p_value_:.3f}"
        test = (f"chi-square {self.statistic_:.1f} on {self.df_} degrees of freedom, {pv}; "
                f"{self.reps_} salespeople, pooled churn {self.pooled_rate_:.1%}")
        if self.differ_:
            return f"Churn differs between salespeople beyond chance ({test})."
        return (f"Churn does not differ between salespeople beyond chance this period ({test}): the quartiles are "
                "noise this period. They still set pay, as the plan's mechanics, but say nothing about who needs "
                "training, so nobody is named for it.")

    def plot(self, ax=None):  # pragma: no cover - the quartile chart shows the rates
        raise NotImplementedError("the churn chart (ChurnQuartiles.plot) shows the rates")


# --------------------------------------------------------------------------- Kaplan-Meier
@dataclass
class RetentionCurves(Estimator):
    """Kaplan-Meier retention (share of customers still paying) by group, censored at ``as_of``.

    ``fit(durations, groups=None)`` takes :func:`retention_durations` output (``days``,
    ``churned``, ``customers`` and a grouping column, ``rep_id`` by default); ``groups`` maps
    each ``rep_id`` to a group label (e.g. its quartile), pooling the reps of a group. The
    estimate is statsmodels' ``SurvfuncRight`` (the product-limit estimator) with the counts
    as frequency weights; the pointwise interval is the log(-log) one at ``confidence_level``.
    """

    confidence_level: float = 0.95

    def fit(self, durations: pd.DataFrame, groups: dict[str, Any] | None = None) -> "RetentionCurves":
        from scipy.stats import norm
        from statsmodels.duration.survfunc import SurvfuncRight

        frame = durations.copy()
        if (frame["days"] < 0).any():
            bad = frame.loc[frame["days"] < 0, "rep_id"].unique().tolist()
            raise ChurnDataError(f"customers of {bad[:5]} churned before they started: fix churn_date or start_date "
                                 "in the customers table")
        frame["group"] = frame["rep_id"].map(groups) if groups is not None else frame["rep_id"]
        frame = frame[frame["group"].notna()]
        if groups is not None and all(isinstance(v, (int, np.integer)) for v in groups.values()):
            frame["group"] = frame["group"].astype("int64")  # map() makes whole numbers float when any rep is absent
        z = norm.ppf(0.5 + self.confidence_level / 2)
        self.curves_: dict[Any, pd.DataFrame] = {}
        self.followed_: dict[Any, float] = {}
        rows = []
        for group, part in frame.groupby("group", sort=True):  # one estimate per group (reps or quartiles)
            part = part.groupby(["days", "churned"], as_index=False)["customers"].sum()
            sf = SurvfuncRight(part["days"].to_numpy(float), part["churned"].to_numpy(int),
                               freq_weights=part["customers"].to_numpy(float))
            s, se = np.asarray(sf.surv_prob), np.asarray(sf.surv_prob_se)
            with np.errstate(divide="ignore", invalid="ignore"):
                log_s = np.log(s)
                half = z * se / (s * np.abs(log_s))
                low = np.exp(-np.exp(np.log(-log_s) + half))
                high = np.exp(-np.exp(np.log(-log_s) - half))
            curve = pd.DataFrame({"days": np.asarray(sf.surv_times), "retention": s, "ci_low": low, "ci_high": high,
                                  "at_risk": np.asarray(sf.n_risk), "churned": np.asarray(sf.n_events)})
            self.curves_[group] = curve
            self.followed_[group] = float(part["days"].max())
            rows.append({"group": group, "customers": int(part["customers"].sum()),
                         "churned": int(part.loc[part["churned"], "customers"].sum())})
        self.groups_ = pd.DataFrame(rows, columns=["group", "customers", "churned"])
        return self

    def retention_at(self, days: float) -> pd.Series:
        """Estimated retention ``days`` after the start, per group (NaN beyond the group's longest follow-up)."""
        out = {}
        for group, curve in self.curves_.items():
            reached = curve[curve["days"] <= days]
            value = 1.0 if reached.empty else float(reached["retention"].iloc[-1])
            out[group] = value if days <= self.followed_[group] else np.nan
        return pd.Series(out, name=f"retention_at_{days:g}_days", dtype=float)

    @property
    def summary(self) -> pd.DataFrame:
        return self.groups_

    def plot(self, ax=None, *, labels: dict[Any, str] | None = None, colours: dict[Any, str] | None = None):
        """Retention curves over months since the start (30.44-day months), with intervals."""
        from helpers.analyses.compensation.plots import plot_retention

        return plot_retention(self.curves_, labels=labels, colours=colours, ax=ax)
