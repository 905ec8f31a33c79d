"""Predictable revenue (notebook 07): lead mix, specialised roles, system-or-people, forecast, capacity.

What a sales leader learns here, part by part (Aaron Ross's *Predictable Revenue* and Roberge's chapters
on pipeline health and forecasts):

* **Lead mix** - how many seeds (referrals), nets (marketing) and spears (outbound) arrive each month, how
  many of each become customers, at what MRR and after how long, and how much of the bookings hang on each.
* **Roles** - the book's bars measured on the team: leads per market-response rep per month against the
  ~400 ceiling (and whether conversion falls as a rep's load rises), SDR connected calls per week (bar 25)
  and meetings held -> qualified opportunities (bar 70-80%), closers' win rate by lead kind.
* **System or people** - share of reps under quota and failing; more than 20% under quota or 10% failing
  points at the system (leads, territory, product, quota), not the people.
* **Forecast** - bookings of the next three months from the open pipeline (by age) plus the deals expected
  to be opened (by lead kind) times their conversion and cycle, with 80% and 95% prediction intervals,
  backtested at every past month end against a naive forecast.
* **Capacity plan** - for a monthly revenue goal: leads by kind, market-response reps and closers needed,
  and the month each hire must start given the org's own ramp.

Compute only: no matplotlib here (figures live in ``plots.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from helpers.core.estimator import Estimator
from helpers.core.intervals import wilson_interval
from helpers.core.periods import month_at as month_label, month_index  # noqa: F401 - month arithmetic, also for report.py

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import WorkbookConfig

__all__ = ["PredictableRevenueSettings", "RevenueForecaster", "backtest", "capacity_plan", "closer_win_rates",
           "lead_load_effect", "lead_mix", "monthly_bookings", "ramp_months", "sdr_bars", "system_or_people"]

KIND_LABELS = {"seed": "Seeds (referrals)", "net": "Nets (marketing)", "spear": "Spears (outbound)",
               "unknown": "Unknown kind"}
ROLE_NAMES = ("market_response", "sdr", "closer", "account_manager")


# ============================================================================ settings
@dataclass(frozen=True)
class PredictableRevenueSettings:
    """``[predictable_revenue]`` of the configuration, checked."""

    source_kinds: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "seed": ("referral", "partner", "direct"), "net": ("organic_search", "paid_search", "social", "email",
                                                           "event", "other"), "spear": ("outbound",)})
    roles: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "market_response": ("market_response", "inbound"), "sdr": ("sdr",), "closer": ("ae", "closer"),
        "account_manager": ("account_manager",)})
    monthly_revenue_goal: float = 0.0
    goal_months_ahead: int = 3
    lead_ceiling: float = 400.0
    sdr_connects_per_week: float = 25.0
    qualified_low: float = 0.70
    qualified_high: float = 0.80
    under_quota_share: float = 0.20
    failing_share: float = 0.10
    failing_attainment: float = 0.50
    quarters: int = 4
    horizon_months: int = 3
    history_months: int = 12
    forecast_history_months: int = 6
    rate_window_months: int = 3
    min_backtest_months: int = 12
    min_train_months: int = 6
    season_min_months: int = 24
    maturity_months: int = 3
    simulations: int = 4000
    seed: int = 7
    improvement: float = 0.10
    ramp_share: float = 0.80
    default_ramp_months: int = 3
    min_won_deals: int = 10

    @classmethod
    def from_config(cls, config: WorkbookConfig) -> PredictableRevenueSettings:
        """Read and check ``[predictable_revenue]`` (errors name the file and the key)."""
        s = config.settings
        raw = config.raw.get("predictable_revenue", {})

        def lists(key: str, keys: tuple[str, ...] | None) -> dict[str, tuple[str, ...]]:
            table = raw.get(key, {})
            if not isinstance(table, dict) or (keys and any(k not in keys for k in table)):
                s.fail(f"predictable_revenue.{key}", table,
                       f"a table of lists{' with keys ' + ', '.join(keys) if keys else ''}")
            return {k: s.string_list(f"predictable_revenue.{key}.{k}") for k in table}

        low = float(s.number("predictable_revenue.qualified_low", minimum=0, maximum=1))
        high = float(s.number("predictable_revenue.qualified_high", minimum=low, maximum=1))
        return cls(
            source_kinds=lists("lead_kinds", ("seed", "net", "spear")),
            roles=lists("roles", ROLE_NAMES),
            monthly_revenue_goal=float(s.number("predictable_revenue.monthly_revenue_goal", minimum=0)),
            goal_months_ahead=int(s.number("predictable_revenue.goal_months_ahead", minimum=1, maximum=24,
                                           integer=True)),
            lead_ceiling=float(s.number("predictable_revenue.lead_ceiling", minimum=1)),
            sdr_connects_per_week=float(s.number("predictable_revenue.sdr_connects_per_week", minimum=0)),
            qualified_low=low, qualified_high=high,
            under_quota_share=float(s.number("predictable_revenue.under_quota_share", minimum=0, maximum=1)),
            failing_share=float(s.number("predictable_revenue.failing_share", minimum=0, maximum=1)),
            failing_attainment=float(s.number("predictable_revenue.failing_attainment", minimum=0, maximum=1)),
            quarters=int(s.number("predictable_revenue.quarters", minimum=1, maximum=12, integer=True)),
            horizon_months=int(s.number("predictable_revenue.horizon_months", minimum=1, maximum=6, integer=True)),
            history_months=int(s.number("predictable_revenue.history_months", minimum=3, maximum=60, integer=True)),
            forecast_history_months=int(s.number("predictable_revenue.forecast_history_months", minimum=2,
                                                 maximum=36, integer=True)),
            rate_window_months=int(s.number("predictable_revenue.rate_window_months", minimum=1, maximum=12,
                                            integer=True)),
            min_backtest_months=int(s.number("predictable_revenue.min_backtest_months", minimum=6, integer=True)),
            min_train_months=int(s.number("predictable_revenue.min_train_months", minimum=3, integer=True)),
            season_min_months=int(s.number("predictable_revenue.season_min_months", minimum=24, integer=True)),
            maturity_months=int(s.number("predictable_revenue.maturity_months", minimum=0, maximum=12,
                                         integer=True)),
            simulations=int(s.number("predictable_revenue.simulations", minimum=200, integer=True)),
            seed=int(s.number("predictable_revenue.seed", minimum=0, integer=True)),
            improvement=float(s.number("predictable_revenue.improvement", minimum=0, maximum=5)),
            ramp_share=float(s.number("predictable_revenue.ramp_share", minimum=0.1, maximum=1)),
            default_ramp_months=int(s.number("predictable_revenue.default_ramp_months", minimum=0, maximum=24,
                                             integer=True)),
            min_won_deals=int(s.number("predictable_revenue.min_won_deals", minimum=1, integer=True)),
        )

    def role_of(self, raw_roles: pd.Series) -> pd.Series:
        """The book's role of each rep (``market_response``, ``sdr``, ``closer``, ``account_manager``) or ''."""
        lookup = {value: role for role, values in self.roles.items() for value in values}
        return raw_roles.astype("string").str.lower().map(lookup).fillna("").astype(str)


# ============================================================================ months
def _month_of(ts: pd.Series) -> pd.Series:
    """Month index of each timestamp (NaN where missing)."""
    out = ts.dt.year * 12 + ts.dt.month - 1
    return out.astype("float64")


def monthly_bookings(deals: pd.DataFrame, *, first: str, last: str) -> pd.DataFrame:
    """Won MRR and won deals per calendar month from ``first`` to ``last`` (months without a win: 0)."""
    lo, hi = month_index(first), month_index(last)
    won = deals[(deals["status"] == "won") & deals["closed_at"].notna()]
    m = _month_of(won["closed_at"])
    grouped = won.assign(_m=m).groupby("_m").agg(bookings=("mrr", "sum"), won_deals=("deal_id", "count"))
    idx = pd.Index(np.arange(lo, hi + 1, dtype=float), name="_m")
    out = grouped.reindex(idx, fill_value=0).reset_index()
    out.insert(0, "month", [month_label(int(i)) for i in out.pop("_m")])
    return out.astype({"bookings": "float64", "won_deals": "int64"})


# ============================================================================ lead mix
def lead_mix(kind_months: pd.DataFrame, deals: pd.DataFrame, *, as_of_month: str, maturity_months: int,
             history_months: int, level: float = 0.95, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeds, nets and spears: (per kind summary, per month and kind table).

    The summary has, per kind, leads per month, conversion lead -> won over cohorts at least
    ``maturity_months`` old (Wilson interval), MRR per won lead, mean cycle days, and the share of the
    last ``history_months`` of bookings that came from it (interval by resampling months).
    """
    end = month_index(as_of_month)
    lo = end - history_months + 1
    km = kind_months.assign(_m=[month_index(m) for m in kind_months["month"]]) if len(kind_months) else \
        kind_months.assign(_m=pd.Series(dtype=float))
    recent = km[(km["_m"] >= lo) & (km["_m"] <= end)]
    mature = recent[recent["_m"] <= end - maturity_months]
    months_seen = max(1, recent["_m"].nunique())
    won = deals[(deals["status"] == "won") & deals["closed_at"].notna()].copy()
    won["_m"] = _month_of(won["closed_at"])
    won = won[(won["_m"] >= lo) & (won["_m"] <= end)]
    by_month_kind = won.pivot_table(index="_m", columns="lead_kind", values="mrr", aggfunc="sum", fill_value=0.0)
    rng = np.random.default_rng(seed)
    rows = []
    kinds = sorted(set(recent["lead_kind"]) | set(by_month_kind.columns),
                   key=lambda k: (["seed", "net", "spear", "unknown"] + [k]).index(k))
    total = by_month_kind.to_numpy().sum()
    draws = rng.integers(0, max(1, len(by_month_kind)), size=(1000, max(1, len(by_month_kind))))
    for kind in kinds:
        r, mt = recent[recent["lead_kind"] == kind], mature[mature["lead_kind"] == kind]
        n, k = int(mt["leads"].sum()), int(mt["won"].sum())
        low, high = wilson_interval(k, n, level=level)
        share = low_s = high_s = np.nan
        if total > 0 and kind in by_month_kind.columns:
            col = by_month_kind[kind].to_numpy()
            tot = by_month_kind.to_numpy().sum(axis=1)
            share = col.sum() / total
            boot = col[draws].sum(axis=1) / np.maximum(tot[draws].sum(axis=1), 1e-9)
            low_s, high_s = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
        elif total > 0:
            share = low_s = high_s = 0.0
        rows.append({"lead_kind": kind, "label": KIND_LABELS.get(kind, kind),
                     "leads_per_month": r["leads"].sum() / months_seen, "mature_leads": n, "won_leads": k,
                     "conversion": k / n if n else np.nan, "conversion_low": float(low), "conversion_high": float(high),
                     "mrr_per_won": mt["won_mrr"].sum() / k if k else np.nan,
                     "cycle_days": mt["cycle_days"].sum() / k if k else np.nan,
                     "bookings_share": share, "share_low": low_s, "share_high": high_s})
    summary = pd.DataFrame(rows, columns=["lead_kind", "label", "leads_per_month", "mature_leads", "won_leads",
                                          "conversion", "conversion_low", "conversion_high", "mrr_per_won",
                                          "cycle_days", "bookings_share", "share_low", "share_high"])
    monthly = recent.drop(columns="_m").copy()
    monthly["conversion"] = monthly["won"] / monthly["leads"].where(monthly["leads"] > 0)
    monthly["mature"] = recent["_m"] <= end - maturity_months
    return summary, monthly.reset_index(drop=True)


# ============================================================================ roles
def lead_load_effect(rep_months: pd.DataFrame, *, as_of_month: str, maturity_months: int, ceiling: float,
                     level: float = 0.95, min_rows: int = 20) -> dict[str, Any]:
    """Does a rep's conversion (lead -> won) fall as their monthly lead load rises?

    Binomial GLM of won leads on the month's load (per 100 leads) with one intercept per rep, so the
    effect is within a rep (a busy month vs a quiet one), not between strong and weak reps. Rep-months
    younger than ``maturity_months`` are left out (their wins are not in yet). Returns the odds ratio
    per +100 leads with its interval, n, and the load figures against ``ceiling``.
    """
    end = month_index(as_of_month)
    rm = rep_months[rep_months["leads"] > 0].copy()
    rm["_m"] = [month_index(m) for m in rm["month"]]
    out: dict[str, Any] = {"rep_months": 0, "reps": 0, "odds_ratio_per_100": np.nan, "ci_low": np.nan,
                           "ci_high": np.nan, "p_value": np.nan, "problem": "",
                           "median_load": float(rm["leads"].median()) if len(rm) else np.nan,
                           "max_load": float(rm["leads"].max()) if len(rm) else np.nan,
                           "share_over_ceiling": float((rm["leads"] > ceiling).mean()) if len(rm) else np.nan}
    fit = rm[rm["_m"] <= end - maturity_months]
    out["rep_months"], out["reps"] = int(len(fit)), int(fit["rep_id"].nunique())
    if len(fit) < min_rows or fit["rep_id"].nunique() < 2:
        out["problem"] = (f"Only {len(fit)} rep-months old enough to judge (at least {min_rows} needed): "
                          "the effect of lead load on conversion is not estimated.")
        return out
    within = fit["leads"] - fit.groupby("rep_id")["leads"].transform("mean")
    if float(within.std()) < 1e-9 or fit["won"].sum() == 0:
        out["problem"] = "Lead load does not vary within reps (or no lead was won): no load effect can be estimated."
        return out
    import statsmodels.api as sm
    from scipy import stats

    dummies = pd.get_dummies(fit["rep_id"], dtype=float)
    x = pd.concat([(fit["leads"] / 100.0).rename("load").reset_index(drop=True),
                   dummies.reset_index(drop=True)], axis=1)
    y = np.column_stack([fit["won"].to_numpy(float), (fit["leads"] - fit["won"]).to_numpy(float)])
    try:
        res = sm.GLM(y, x.to_numpy(), family=sm.families.Binomial()).fit()
    except Exception as exc:  # noqa: BLE001 - separation or singular design: say so
        out["problem"] = f"The load model could not be fitted ({type(exc).__name__}): no load effect estimated."
        return out
    beta, se = float(res.params[0]), float(res.bse[0])
    z = stats.norm.ppf(0.5 + level / 2)
    out.update(odds_ratio_per_100=float(np.exp(beta)), ci_low=float(np.exp(beta - z * se)),
               ci_high=float(np.exp(beta + z * se)), p_value=float(res.pvalues[0]))
    return out


def sdr_bars(connects: pd.DataFrame, meetings: pd.DataFrame, sdrs: list[str], *, level: float = 0.95) -> pd.DataFrame:
    """One row per SDR: connected calls per active week and meetings held -> qualified opportunities."""
    c = connects[connects["rep_id"].isin(sdrs)].groupby("rep_id").agg(weeks=("week", "nunique"),
                                                                      connects=("connects", "sum"))
    m = meetings[meetings["rep_id"].isin(sdrs)].set_index("rep_id")[["leads_met", "qualified"]]
    table = c.join(m, how="outer").reindex(sorted(sdrs)).fillna(0)
    table["connects_per_week"] = table["connects"] / table["weeks"].where(table["weeks"] > 0)
    low, high = wilson_interval(table["qualified"], table["leads_met"], level=level)
    table["qualified_rate"] = table["qualified"] / table["leads_met"].where(table["leads_met"] > 0)
    table["qualified_low"], table["qualified_high"] = low, high
    return table.reset_index().rename(columns={"index": "rep_id"}).astype(
        {"weeks": "int64", "connects": "int64", "leads_met": "int64", "qualified": "int64"})


def closer_win_rates(deals: pd.DataFrame, closers: list[str] | None, *, as_of_month: str, history_months: int,
                     level: float = 0.95) -> pd.DataFrame:
    """Win rate of closed deals (won / won + lost) by lead kind, over the last ``history_months``."""
    end = month_index(as_of_month)
    closed = deals[deals["status"].isin(["won", "lost"]) & deals["closed_at"].notna()].copy()
    closed["_m"] = _month_of(closed["closed_at"])
    closed = closed[(closed["_m"] > end - history_months) & (closed["_m"] <= end)]
    if closers is not None:
        closed = closed[closed["rep_id"].isin(closers)]
    closed["_won"] = (closed["status"] == "won").astype("int64")
    g = closed.groupby("lead_kind").agg(closed=("deal_id", "count"), won=("_won", "sum")).astype("int64")
    low, high = wilson_interval(g["won"], g["closed"], level=level)
    g["win_rate"] = g["won"] / g["closed"]
    g["win_low"], g["win_high"] = low, high
    return g.reset_index()


# ============================================================================ system or people
def system_or_people(quotas: pd.DataFrame, deals: pd.DataFrame, *, as_of_month: str, quarters: int,
                     failing_attainment: float, level: float = 0.95) -> pd.DataFrame:
    """Share of reps under quota and failing, per complete quarter up to ``as_of_month``.

    A rep-quarter counts when the rep carried a quota in all three months; attainment = won MRR the rep
    closed in the quarter / the quarter's quota. "Failing" = attainment under ``failing_attainment``.
    """
    end = month_index(as_of_month)
    last_q_end = end - ((end % 12) + 1) % 3  # last month of the latest complete calendar quarter
    q = quotas.copy()
    q["_m"] = [month_index(m) for m in q["month"].astype(str)]
    q = q[(q["_m"] <= last_q_end) & (q["_m"] > last_q_end - 3 * quarters)]
    cols = ["quarter", "reps", "under_quota", "failing", "under_share", "under_low", "under_high", "failing_share",
            "failing_low", "failing_high", "median_attainment"]
    if q.empty:
        return pd.DataFrame(columns=cols)
    q["_q"] = (last_q_end - q["_m"]) // 3
    won = deals[(deals["status"] == "won") & deals["closed_at"].notna()].copy()
    won["_m"] = _month_of(won["closed_at"])
    won = won[(won["_m"] <= last_q_end) & (won["_m"] > last_q_end - 3 * quarters)]
    won["_q"] = (last_q_end - won["_m"]) // 3
    booked = won.groupby(["rep_id", "_q"])["mrr"].sum()
    per = q.groupby(["rep_id", "_q"]).agg(quota=("quota_mrr", "sum"), months=("_m", "nunique"))
    per = per[(per["months"] == 3) & (per["quota"] > 0)]
    per["booked"] = booked.reindex(per.index).fillna(0.0)
    per["attainment"] = per["booked"] / per["quota"]
    rows = []
    for qi, grp in per.groupby(level="_q"):
        n = len(grp)
        under, failing = int((grp["attainment"] < 1).sum()), int((grp["attainment"] < failing_attainment).sum())
        ul, uh = wilson_interval(under, n, level=level)
        fl, fh = wilson_interval(failing, n, level=level)
        q_end = last_q_end - 3 * int(qi)
        rows.append({"quarter": f"{q_end // 12}-Q{(q_end % 12) // 3 + 1}", "reps": n, "under_quota": under,
                     "failing": failing, "under_share": under / n, "under_low": float(ul), "under_high": float(uh),
                     "failing_share": failing / n, "failing_low": float(fl), "failing_high": float(fh),
                     "median_attainment": float(grp["attainment"].median())})
    return pd.DataFrame(rows, columns=cols).sort_values("quarter", ignore_index=True)


# ============================================================================ seasonality
def seasonal_factors(counts: pd.Series, *, min_months: int = 24, alpha: float = 0.05,
                     level: float = 0.95) -> dict[str, Any]:
    """Month-of-year factors of monthly arrivals, shrunk toward no seasonality; used only when they pass a test.

    ``counts``: arrivals (leads or deals opened) per month, indexed by month index (``month_index``).
    A quasi-Poisson regression of the counts on a log-linear trend and twelve calendar-month effects
    (summing to zero) gives each month's effect and its standard error (over-dispersion included). The
    eleven seasonal terms are tested together (F test on the deviance, quasi-Poisson dispersion); only when
    ``p < alpha`` are they used. Each effect is then shrunk toward zero by empirical Bayes (partial pooling:
    the spread of true effects tau^2 is the spread of the estimates less their sampling variance), so a
    noisy month moves less than a well-measured one. Returns ``factors`` (12, January first, mean 1; all
    ones when not used), ``low``/``high`` (their ``level`` interval), ``raw`` (unshrunk), ``p_value``,
    ``used``, ``months`` and ``problem`` (a sentence when not estimated).
    """
    ones = np.ones(12)
    out: dict[str, Any] = {"factors": ones, "low": ones.copy(), "high": ones.copy(), "raw": ones.copy(),
                           "p_value": np.nan, "used": False, "months": int(len(counts)), "shrinkage": np.nan,
                           "problem": ""}
    c = counts.dropna().astype(float)
    if len(c) < min_months:
        out["problem"] = (f"Seasonality cannot be estimated from {len(c)} months of history (it needs at least "
                          f"{min_months}: two of each calendar month).")
        return out
    if c.sum() <= 0 or c.nunique() < 2:
        out["problem"] = "Arrivals do not vary from month to month: no seasonality to estimate."
        return out
    import statsmodels.api as sm
    from scipy import stats

    m = np.asarray(c.index, dtype=float)
    moy = (m.astype(int) % 12)
    contrast = np.vstack([np.eye(11), -np.ones((1, 11))])  # 12 effects summing to zero
    season_x = contrast[moy]
    trend = (m - m.mean()) / 12.0
    x0 = np.column_stack([np.ones_like(m), trend])
    x1 = np.column_stack([x0, season_x])
    y = c.to_numpy()
    try:
        full = sm.GLM(y, x1, family=sm.families.Poisson()).fit(scale="X2")
        reduced = sm.GLM(y, x0, family=sm.families.Poisson()).fit()
    except Exception as exc:  # noqa: BLE001 - a degenerate history: say so
        out["problem"] = f"The seasonal model could not be fitted ({type(exc).__name__}): seasonality not used."
        return out
    df_resid = len(y) - x1.shape[1]
    phi = max(float(full.scale), 1.0)  # no under-dispersion credit
    f_stat = (reduced.deviance - full.deviance) / 11 / phi
    p = float(stats.f.sf(f_stat, 11, df_resid)) if df_resid > 0 else np.nan
    beta = np.asarray(full.params)[2:]
    cov = np.asarray(full.cov_params())[2:, 2:] * phi / max(float(full.scale), 1e-12)
    effect = contrast @ beta
    var = np.einsum("ij,jk,ik->i", contrast, cov, contrast)
    tau2 = max(0.0, float(np.mean(effect ** 2) - np.mean(var)))
    shrink = tau2 / (tau2 + var) if tau2 > 0 else np.zeros(12)
    post, post_sd = shrink * effect, np.sqrt(shrink * var)
    z = stats.norm.ppf(0.5 + level / 2)
    norm = np.exp(post).mean()
    out.update(raw=np.exp(effect) / np.exp(effect).mean(), p_value=p, shrinkage=float(np.mean(1 - shrink)))
    if not (np.isfinite(p) and p < alpha) or tau2 == 0:
        out["problem"] = (f"No clear seasonality in {len(c)} months (test of the calendar months p = {p:.2f}): "
                          "none is used.")
        return out
    out.update(factors=np.exp(post) / norm, low=np.exp(post - z * post_sd) / norm,
               high=np.exp(post + z * post_sd) / norm, used=True)
    return out


def pace_drift(counts: pd.Series, *, max_lag: int = 6) -> float:
    """Variance per month of a random-walk drift in the log pace of monthly arrivals (0 when none shows).

    The variogram of log counts, V(k) = mean of (x[m + k] - x[m])^2 over month pairs k apart, is 2r + k q
    when the log pace is a random walk with monthly variance q seen through month-to-month noise of
    variance r (Poisson and any over-dispersion); the slope of V over k = 1..``max_lag`` (least squares,
    weighted by the number of pairs) estimates q. Arrivals that only scatter around a steady pace give
    a flat variogram and q = 0; a pace that wanders (a trend, an unmodelled season, hiring) gives q > 0.
    """
    x = np.log(counts.to_numpy(float) + 0.5)
    lags = np.arange(1, min(max_lag, len(x) // 3) + 1)
    if lags.size < 3:
        return 0.0
    v = np.array([np.mean((x[k:] - x[:-k]) ** 2) for k in lags])
    w = np.array([len(x) - k for k in lags], dtype=float)
    slope = np.polyfit(lags, v, 1, w=np.sqrt(w))[0]
    return float(max(slope, 0.0))


# ============================================================================ forecast
AGE_EDGES_DAYS = (0, 30, 60, 90, 180, np.inf)


def _age_bucket(age_days: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(AGE_EDGES_DAYS, age_days, side="right") - 1, 0, len(AGE_EDGES_DAYS) - 2)


def _start_of(month: int) -> pd.Timestamp:
    return pd.Timestamp(month_label(month) + "-01", tz="UTC")


class RevenueForecaster(Estimator):
    """Bookings (won MRR) of the next ``horizon`` months, as a distribution, from what was known at a month end.

    ``fit(deals, origin=...)`` uses only deals as they stood at the end of month ``origin``:

    * open pipeline: each open deal by age (0-30, 30-60, 60-90, 90-180, 180+ days); the chance that a deal
      of that age is won in each of the next months is the share of past open deals of that age (at each
      of the last ``history`` month ends) won then, with a Beta posterior for its uncertainty;
    * new deals: deals opened per month by lead kind (mean of the last ``rate_window`` months, spread from
      their month-to-month variation), each won after 0, 1, 2 ... months with the rates of past deals; the
      pace is uncertain (one draw per simulation for all months ahead), may drift (a random walk whose
      monthly variance comes from the variogram of past monthly counts, :func:`pace_drift`), and follows
      the calendar when ``season_min_months`` of history show a month-of-year pattern
      (:func:`seasonal_factors`, shrunk toward none);
    * the MRR of each win is drawn from past wins with the same time to close (big deals close slower):
      open deals from past wins of their age won that many months later, new deals from their kind's
      wins at that lag (fewer than 5 such wins: the wider pool).

    ``simulations`` Monte Carlo draws give the point forecast (mean) and the 80% and 95% intervals.
    Fitted: ``forecast_`` (one row per month ahead), ``draws_`` (simulations x months), ``n_open_``,
    ``season_`` (the month-of-year factors and their test), ``pace_drift_`` (monthly drift variance).
    """

    def __init__(self, *, horizon: int = 3, history: int = 12, rate_window: int = 3, simulations: int = 4000,
                 seed: int = 7, season_min_months: int = 24):
        self.horizon, self.history, self.rate_window = int(horizon), int(history), int(rate_window)
        self.simulations, self.seed = int(simulations), int(seed)
        self.season_min_months = int(season_min_months)

    def fit(self, deals: pd.DataFrame, *, origin: str) -> RevenueForecaster:
        rng = np.random.default_rng(self.seed)
        H, S = self.horizon, self.simulations
        t = month_index(origin)
        cut = _start_of(t + 1)  # the first instant after the origin month
        d = deals[deals["created_at"].notna() & (deals["created_at"] < cut)].copy()
        closed = d["closed_at"].notna() & (d["closed_at"] < cut) & d["status"].isin(["won", "lost"])
        d["_cm"] = _month_of(d["closed_at"].where(closed))  # close month, known by the origin
        d["_om"] = _month_of(d["created_at"])
        won_known = closed & (d["status"] == "won")
        draws = np.zeros((S, H))

        # MRR of a win: recent won deals (bootstrap); fall back on all won deals, then on open deals' MRR
        recent_won = d.loc[won_known & (d["_cm"] > t - self.history), "mrr"].to_numpy(float)
        if recent_won.size == 0:
            recent_won = d.loc[won_known, "mrr"].to_numpy(float)
        if recent_won.size == 0:
            recent_won = d["mrr"].dropna().to_numpy(float)
        mrr_mean = float(recent_won.mean()) if recent_won.size else 0.0
        # month-to-month swing of the win rate beyond chance (a good or bad month for everyone): the
        # over-dispersion of monthly won-deal counts, as a log-normal factor shared by every deal of a draw
        counts = d[won_known].groupby("_cm").size().reindex(np.arange(t - self.history + 1, t + 1), fill_value=0)
        counts = counts.to_numpy(float)
        mean_won = counts.mean() if counts.size else 0.0
        excess = (counts.var(ddof=1) - mean_won) / mean_won ** 2 if counts.size > 2 and mean_won > 0 else 0.0
        self.month_sd_ = float(np.sqrt(np.log1p(max(excess, 0.0))))
        # that variance is itself estimated from a few months: each draw takes one from its posterior
        # (scaled inverse chi-square with n - 1 degrees of freedom), so a calm half-year does not rule out swings
        if counts.size > 2 and mean_won > 0:
            var_draw = (counts.size - 1) * max(counts.var(ddof=1), 1e-9) / rng.chisquare(counts.size - 1, size=S)
            sd_draw = np.sqrt(np.log1p(np.maximum(var_draw - mean_won, 0.0) / mean_won ** 2))
        else:
            sd_draw = np.zeros(S)
        factor = np.exp(rng.normal(-sd_draw ** 2 / 2, sd_draw))

        def value(counts: np.ndarray, pool: np.ndarray) -> np.ndarray:
            """Sum of ``counts`` MRR values drawn from ``pool`` (the skew of deal sizes kept), per cell."""
            counts = counts.astype(np.int64)
            if pool.size == 0 or counts.sum() == 0:
                return np.zeros(counts.shape)
            cell = np.repeat(np.arange(counts.size), counts.ravel())
            return np.bincount(cell, weights=rng.choice(pool, size=cell.size), minlength=counts.size).reshape(
                counts.shape)

        # ---- open pipeline at the origin, by age
        open_now = d[~closed]
        age_now = (cut - open_now["created_at"]).dt.total_seconds().to_numpy() / 86400.0
        bucket_now = _age_bucket(age_now)
        n_b = len(AGE_EDGES_DAYS) - 1
        won_b = np.zeros((n_b, H))
        seen_b = np.zeros((n_b, H))
        # MRR of past wins by age at the snapshot and months until the win: deal size goes with time to close
        # (big deals close slower), so a win two months out is valued from past wins two months out
        won_pool: list[list[list[np.ndarray]]] = [[[] for _ in range(H)] for _ in range(n_b)]
        for k in range(1, self.history + 1):  # past snapshots (a dozen month ends, not a loop over deals)
            s = t - k
            s_cut = _start_of(s + 1)
            was_open = (d["created_at"] < s_cut) & ~(d["_cm"] <= s)
            snap = d[was_open]
            if snap.empty:
                continue
            b = _age_bucket((s_cut - snap["created_at"]).dt.total_seconds().to_numpy() / 86400.0)
            for h in range(1, min(H, k) + 1):  # outcome known only up to the origin
                hit = (snap["_cm"] == s + h) & (snap["status"] == "won") & closed[was_open]
                won_b[:, h - 1] += np.bincount(b, weights=hit.to_numpy(float), minlength=n_b)
                hit_mrr = snap["mrr"].to_numpy(float)
                for bb in np.unique(b[hit.to_numpy()]):  # five age buckets at most
                    won_pool[bb][h - 1].append(hit_mrr[hit.to_numpy() & (b == bb)])
                seen_b[:, h - 1] += np.bincount(b, minlength=n_b)
        p_draw = rng.beta(0.5 + won_b[None, :, :], 0.5 + np.maximum(seen_b - won_b, 0)[None, :, :],
                          size=(S, n_b, H))
        p_draw = p_draw * factor[:, None, None]
        p_draw = p_draw / np.maximum(p_draw.sum(axis=2, keepdims=True), 1.0)  # at most one win per deal
        open_mrr = open_now["mrr"].fillna(mrr_mean).to_numpy(float)
        pipe_mean = np.zeros(H)
        for b in range(n_b):
            in_b = bucket_now == b
            n_open = int(in_b.sum())
            if n_open == 0:
                continue
            probs = np.concatenate([p_draw[:, b, :], 1 - p_draw[:, b, :].sum(axis=1, keepdims=True)], axis=1)
            probs = np.clip(probs, 0, 1)
            counts = rng.multinomial(n_open, probs / probs.sum(axis=1, keepdims=True))[:, :H]
            # a win's MRR: past wins of deals of that age won that many months later (not the open deals' own
            # MRR); with fewer than 5 such wins, past wins of that age, then all recent wins
            age_pool = [x for per_h in won_pool[b] for x in per_h]
            age_pool = np.concatenate(age_pool) if age_pool else np.zeros(0)
            age_pool = age_pool[np.isfinite(age_pool)] if age_pool.size >= 5 else recent_won
            for h in range(H):
                pool = np.concatenate(won_pool[b][h]) if won_pool[b][h] else np.zeros(0)
                pool = pool[np.isfinite(pool)] if pool.size >= 5 else age_pool
                draws[:, h] += value(counts[:, h], pool)
                bm = float(pool.mean()) if pool.size else mrr_mean
                pipe_mean[h] += n_open * bm * (won_b[b, h] / max(seen_b[b, h], 1))

        # ---- deals still to be opened: by kind, opened per month and won after lag months
        # month-of-year factor of deals opened (all kinds together), from at least season_min_months full months
        first_m = int(d["_om"].min()) + 1 if len(d) else t  # the first month of the data may be partial
        opened_all = d[(d["_om"] >= first_m) & (d["_om"] <= t)].groupby("_om").size().reindex(
            np.arange(first_m, t + 1), fill_value=0).astype(float)
        self.season_ = seasonal_factors(opened_all.iloc[-48:], min_months=self.season_min_months)
        season = self.season_["factors"]
        # drift of the pace of deals opened (after the season): a random walk in the log pace, from the
        # variogram of the last 24 months; the pace is the mean of the last rate_window months (centred
        # (rate_window - 1) / 2 months back), so month j ahead has drifted by (rate_window - 1) / 2 + j steps
        deseason = opened_all / season[opened_all.index.to_numpy().astype(int) % 12]
        self.pace_drift_ = pace_drift(deseason.iloc[-24:])
        steps = (self.rate_window - 1) / 2 + np.arange(1, H + 1)
        walk = np.concatenate([rng.normal(0, np.sqrt(self.pace_drift_ * steps[0]), size=(S, 1)),
                               rng.normal(0, np.sqrt(self.pace_drift_), size=(S, H - 1))], axis=1).cumsum(axis=1)
        drift = np.exp(walk - self.pace_drift_ * steps[None, :] / 2)  # mean 1: wider, not shifted
        new_mean = np.zeros(H)
        window = d[(d["_om"] > t - self.rate_window) & (d["_om"] <= t)]
        kinds = sorted(set(window["lead_kind"]))
        base = d[(d["_om"] > t - self.history) & (d["_om"] <= t)]
        ahead = season[np.arange(t + 1, t + H + 1) % 12]  # the calendar months ahead
        for kind in kinds:
            monthly = window[window["lead_kind"] == kind].groupby("_om").size().reindex(
                np.arange(t - self.rate_window + 1, t + 1), fill_value=0).to_numpy(float)
            monthly = monthly / season[np.arange(t - self.rate_window + 1, t + 1) % 12]  # de-seasonalised
            cohort = base[base["lead_kind"] == kind]
            # pace: the last rate_window months; spread: month-to-month variance over the longer history
            longer = cohort.groupby("_om").size().reindex(np.arange(t - self.history + 1, t + 1),
                                                          fill_value=0).to_numpy(float)
            longer = longer / season[np.arange(t - self.history + 1, t + 1) % 12]
            lam = monthly.mean()
            var = longer.var(ddof=1) if longer.size > 2 else lam
            # lag rates: deals opened in month c won in c + lag (known when c + lag <= t)
            q = np.zeros(H)
            q_draw = np.zeros((S, H))  # each lag's rate with its uncertainty (Beta posterior)
            for lag in range(H):
                eligible = cohort[cohort["_om"] <= t - lag]
                n_el = len(eligible)
                hits = int(((eligible["_cm"] == eligible["_om"] + lag) & (eligible["status"] == "won")
                            & closed.loc[eligible.index]).sum())
                q[lag] = (0.5 + hits) / (1 + n_el)
                q_draw[:, lag] = rng.beta(0.5 + hits, 0.5 + max(n_el - hits, 0), size=S)
            # opened counts: gamma-Poisson with the observed over-dispersion, around a pace that is itself
            # uncertain (the mean of rate_window over-dispersed months: variance var / rate_window), one pace per
            # draw for all the months ahead (an unknown constant, not a fresh one each month), times the season
            shape = max(lam, 0.5) ** 2 / max(var - lam, 0.0) if var > lam else 1e6
            mean_var = max(var, lam, 0.5) / max(self.rate_window, 1)
            lam_draw = rng.gamma(lam ** 2 / mean_var, mean_var / lam, size=(S, 1)) if lam > 0 else np.zeros((S, 1))
            opened = rng.poisson(rng.gamma(shape, np.maximum(lam_draw * ahead[None, :] * drift, 1e-12) / shape))
            cohort_won = cohort[won_known.loc[cohort.index]]
            won_mrr_kind = cohort_won["mrr"].to_numpy(float)
            if won_mrr_kind.size < 5:
                won_mrr_kind = recent_won
            # a win's MRR from past wins of that kind won after the same lag (slow deals are the big ones)
            lag_of_win = (cohort_won["_cm"] - cohort_won["_om"]).to_numpy()
            lag_pools = []
            for lag in range(H):
                pool = cohort_won["mrr"].to_numpy(float)[lag_of_win == lag]
                pool = pool[np.isfinite(pool)]
                lag_pools.append(pool if pool.size >= 5 else won_mrr_kind)
            for j in range(H):  # opened in month t+1+j, won in t+1+j+lag
                for lag in range(H - j):
                    wins = rng.binomial(opened[:, j], np.clip(q_draw[:, lag] * factor, 0, 1))
                    draws[:, j + lag] += value(wins, lag_pools[lag])
                    lag_mrr = float(np.nanmean(lag_pools[lag])) if lag_pools[lag].size else 0.0
                    new_mean[j + lag] += lam * ahead[j] * q[lag] * lag_mrr

        months = [month_label(t + h) for h in range(1, H + 1)]
        qs = np.quantile(draws, [0.025, 0.10, 0.90, 0.975], axis=0)
        self.draws_ = draws
        self.n_open_ = int(len(open_now))
        self.open_mrr_ = float(open_mrr.sum())
        self.origin_ = month_label(t)
        self.forecast_ = pd.DataFrame({"month": months, "months_ahead": np.arange(1, H + 1),
                                       "forecast": draws.mean(axis=0), "from_pipeline": pipe_mean,
                                       "from_new_deals": new_mean, "low_95": qs[0], "low_80": qs[1],
                                       "high_80": qs[2], "high_95": qs[3]})
        self.summary_ = self.forecast_
        return self

    def plot(self, ax: Any = None, history: pd.DataFrame | None = None) -> Any:
        from helpers.analyses.predictable_revenue.plots import plot_forecast

        return plot_forecast({"forecast": self.summary, "history": history}, ax=ax)


def naive_forecast(bookings: pd.DataFrame, origin: str, *, window: int = 3) -> float:
    """The naive forecast: mean bookings of the ``window`` months up to ``origin``."""
    t = month_index(origin)
    idx = [month_index(m) for m in bookings["month"]]
    vals = bookings["bookings"].to_numpy(float)
    keep = [v for i, v in zip(idx, vals) if t - window < i <= t]
    return float(np.mean(keep)) if keep else np.nan


def backtest(deals: pd.DataFrame, bookings: pd.DataFrame, *, first_origin: str, last_month: str,
             horizon: int = 3, history: int = 12, rate_window: int = 3, simulations: int = 2000,
             seed: int = 7, season_min_months: int = 24) -> pd.DataFrame:
    """The forecast made at each past month end from ``first_origin``, against what happened.

    One row per origin and month ahead whose outcome is known (target month <= ``last_month``):
    forecast, intervals, actual, naive forecast, and whether the 80% / 95% intervals covered it.
    """
    actual = dict(zip(bookings["month"], bookings["bookings"]))
    rows = []
    lo, hi = month_index(first_origin), month_index(last_month)
    for t in range(lo, hi):  # one fit per past month end (a dozen or two)
        origin = month_label(t)
        f = RevenueForecaster(horizon=horizon, history=history, rate_window=rate_window, simulations=simulations,
                              seed=seed + t, season_min_months=season_min_months).fit(deals, origin=origin).forecast_
        naive = naive_forecast(bookings, origin)
        for r in f.itertuples():
            if month_index(r.month) > hi:
                continue
            a = float(actual.get(r.month, 0.0))
            rows.append({"origin": origin, "month": r.month, "months_ahead": int(r.months_ahead),
                         "forecast": r.forecast, "low_80": r.low_80, "high_80": r.high_80, "low_95": r.low_95,
                         "high_95": r.high_95, "actual": a, "naive": naive,
                         "in_80": bool(r.low_80 <= a <= r.high_80), "in_95": bool(r.low_95 <= a <= r.high_95)})
    return pd.DataFrame(rows, columns=["origin", "month", "months_ahead", "forecast", "low_80", "high_80", "low_95",
                                       "high_95", "actual", "naive", "in_80", "in_95"])


def backtest_summary(bt: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Per months ahead: n, 80% and 95% coverage (Wilson interval), mean absolute error, naive's, skill."""
    rows = []
    for h, g in bt.groupby("months_ahead"):
        n = len(g)
        c80, c95 = int(g["in_80"].sum()), int(g["in_95"].sum())
        l80, h80 = wilson_interval(c80, n, level=level)
        mae = float((g["forecast"] - g["actual"]).abs().mean())
        mae_naive = float((g["naive"] - g["actual"]).abs().mean())
        rows.append({"months_ahead": int(h), "n": n, "coverage_80": c80 / n, "coverage_80_low": float(l80),
                     "coverage_80_high": float(h80), "coverage_95": c95 / n, "mae": mae, "mae_naive": mae_naive,
                     "mape": float(((g["forecast"] - g["actual"]).abs() / g["actual"].where(g["actual"] > 0)).mean()),
                     "skill": 1 - mae / mae_naive if mae_naive > 0 else np.nan})
    return pd.DataFrame(rows, columns=["months_ahead", "n", "coverage_80", "coverage_80_low", "coverage_80_high",
                                       "coverage_95", "mae", "mae_naive", "mape", "skill"])


# ============================================================================ capacity
def ramp_months(deals: pd.DataFrame, reps: pd.DataFrame, *, as_of_month: str, share: float,
                default: int) -> tuple[int, str]:
    """Months a new closer takes to book ``share`` of a ramped closer's monthly MRR, from the org's own hires.

    Mean won MRR per rep-month by months since hire (1st, 2nd ...) over hires seen from their first month,
    compared with reps past 12 months; returns (months, how it was found).
    """
    if "hire_date" not in reps or reps["hire_date"].isna().all():
        return default, f"no hire dates: the configured ramp of {default} months is used"
    end = month_index(as_of_month)
    hires = reps.dropna(subset=["hire_date"]).copy()
    hired = pd.to_datetime(hires["hire_date"])
    hires["hire_m"] = (hired.dt.year * 12 + hired.dt.month - 1).astype("int64")
    hires = hires[hires["rep_id"].isin(set(deals["rep_id"]))]
    won = deals[(deals["status"] == "won") & deals["closed_at"].notna()].copy()
    won["_m"] = _month_of(won["closed_at"])
    first_deal = _month_of(deals["created_at"]).min()
    if hires.empty or not np.isfinite(first_deal):
        return default, f"no seller with a hire date: the configured {default} months are used"
    per = won.groupby(["rep_id", "_m"])["mrr"].sum()
    starts = np.maximum(hires["hire_m"].to_numpy(), int(first_deal))
    lengths = np.maximum(end + 1 - starts, 0)
    rep = np.repeat(hires["rep_id"].to_numpy(), lengths)
    m = np.repeat(starts, lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    tenure = m - np.repeat(hires["hire_m"].to_numpy(), lengths)
    booked = per.reindex(pd.MultiIndex.from_arrays([rep, m.astype(float)])).fillna(0.0).to_numpy()
    table = pd.DataFrame({"rep_id": rep, "tenure": tenure, "mrr": booked})
    ramped = table[table["tenure"] >= 12]["mrr"]
    early = table[table["tenure"] < 12].groupby("tenure")["mrr"].agg(["mean", "count"])
    early = early[early["count"] >= 3]
    if ramped.empty or ramped.mean() <= 0 or early.empty:
        return default, f"too few new hires to measure a ramp: the configured {default} months are used"
    reached = early.index[early["mean"] >= share * ramped.mean()]
    if len(reached) == 0:
        return default, f"new hires never reached {share:.0%} of a ramped rep's bookings in the data: the configured {default} months are used"
    months = int(reached.min()) + 1
    return months, (f"measured: new hires book {share:.0%} of a ramped rep's monthly MRR in their month {months} "
                    f"({int(early['count'].sum())} new-hire months)")


def capacity_plan(*, goal: float, mix: pd.DataFrame, won_per_closer: float, closers_now: int,
                  inbound_reps_now: int, ceiling: float, ramp: int, goal_month: str,
                  improvement: float = 0.0) -> pd.DataFrame:
    """What the monthly MRR ``goal`` needs: leads by kind, market-response reps, closers, and hire dates.

    The mix of bookings by kind stays as it is; each kind's leads needed = its share of the goal / (its
    conversion x MRR per won lead), with conversion raised by ``improvement`` (e.g. 0.1 = 10% better).
    """
    rows = []
    m = mix.dropna(subset=["conversion", "mrr_per_won"])
    m = m[(m["conversion"] > 0) & (m["mrr_per_won"] > 0)]
    share = m["bookings_share"].fillna(0).to_numpy(float)
    share = share / share.sum() if share.sum() > 0 else np.full(len(m), 1 / max(len(m), 1))
    total_won = 0.0
    inbound = 0.0
    for s, r in zip(share, m.itertuples()):
        conv = min(1.0, r.conversion * (1 + improvement))
        won = goal * s / r.mrr_per_won
        leads = won / conv
        total_won += won
        if r.lead_kind in ("seed", "net"):
            inbound += leads
        rows.append({"item": f"{r.label} leads per month", "needed": leads, "now": r.leads_per_month})
    mr_needed = int(np.ceil(inbound / ceiling)) if inbound > 0 else 0
    closers_needed = int(np.ceil(total_won / won_per_closer)) if won_per_closer > 0 else np.nan
    start = month_label(month_index(goal_month) - ramp)
    rows.append({"item": "Won deals per month", "needed": total_won, "now": np.nan})
    rows.append({"item": f"Market-response reps (at most {ceiling:.0f} inbound leads each)", "needed": mr_needed,
                 "now": inbound_reps_now, "hire_by": start if mr_needed > inbound_reps_now else ""})
    rows.append({"item": "Closers", "needed": closers_needed, "now": closers_now,
                 "hire_by": start if np.isfinite(closers_needed) and closers_needed > closers_now else ""})
    out = pd.DataFrame(rows, columns=["item", "needed", "now", "hire_by"])
    out["hire_by"] = out["hire_by"].fillna("")
    return out
