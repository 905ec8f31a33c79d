"""What "sales success" means for a hire: the per-rep success metrics notebooks 01 and 02 explain.

Roberge traced each hire's interview (01) and training (02) scores to how the hire went on to
perform. Performance is not one number: a rep who books a lot by pressuring customers who then
cancel is not a success. So every hire gets several metrics, shown side by side:

==========================  ================================================================  ======
column                      meaning                                                           better
==========================  ================================================================  ======
``quota_attainment``        new MRR won / quota, summed over the months after the ramp        higher
``mrr_per_month``           new MRR won per month after the ramp (bookings)                   higher
``customer_churn_rate``     share of the rep's customers lost within the churn window         lower
``customer_lifetime_value`` expected MRR collected per customer sold, over a fixed horizon    higher
==========================  ================================================================  ======

Stable API (notebook 02 imports it)::

    from helpers.analyses.success import SUCCESS_METRICS, compute_success_metrics

    metrics = compute_success_metrics(source, config, as_of="2026-10-31")
    metrics.set_index("rep_id")["quota_attainment"]
    SUCCESS_METRICS["customer_churn_rate"].label, SUCCESS_METRICS["customer_churn_rate"].higher_is_better

``compute_success_metrics(source, config, *, as_of) -> DataFrame``: one row per quota-carrying rep
(role ``ae`` or ``sdr``, or anyone with a quota row), sorted by ``rep_id``, with columns
``rep_id, name, role, hire_date, leave_date, months_observed, quota_mrr, won_mrr, quota_attainment,
mrr_per_month, customers, customers_observed, customers_churned, customer_churn_rate,
customer_months, customer_lifetime_value, judged``. Metrics a rep has no data for are NaN (never 0).

Exact rules (settings in ``[hiring]`` of ``defaults.toml``):

* **Counted months**: calendar months of the ``quotas`` table whose first day is at least
  ``ramp_months`` months after ``hire_date`` and whose last day is on or before ``as_of``.
  ``months_observed`` is how many there are. ``judged`` is ``months_observed >= min_months_tenure``.
* **Won MRR** of a month: the ``mrr`` of the customers the rep closed (``customers.closing_rep_id``)
  whose ``start_date`` falls in that month (the customers table holds exactly the won deals).
* ``quota_attainment`` = won MRR of the counted months / their quota (a ratio of sums, so a month
  with a tiny prorated quota cannot dominate); NaN when the quota sum is 0.
* ``mrr_per_month`` = won MRR of the counted months / ``months_observed``.
* ``customer_churn_rate``: of all customers the rep closed (ramp included) whose first
  ``[compensation] churn_window_months`` months have passed by ``as_of``, the share that churned
  within them (the same rule as the compensation plan's clawback, ``reductions.rep_churn``).
* ``customer_lifetime_value``: the rep's customers' monthly churn hazard is estimated as
  churns / customer-months observed (start to churn or ``as_of``, constant-hazard model); a
  customer of average MRR ``m`` is then expected to pay ``m * (1 - (1-h)^H) / h`` over
  ``H = clv_horizon_months`` months (``m * H`` when no customer churned).

Customers and quota months are reduced in the engine (Ibis); only per-rep-month rows reach pandas.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pandas as pd

from helpers.core.periods import as_date
from helpers.data.reductions import rep_churn

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import WorkbookConfig
    from helpers.data.engine import DataSource

__all__ = ["SUCCESS_METRICS", "SuccessMetric", "compute_success_metrics", "success_settings"]

MONTH_DAYS = 30.4375


class SuccessMetric(NamedTuple):
    """How a success metric reads: a plain-language label, its direction, its unit."""

    label: str
    higher_is_better: bool
    unit: str


#: Every success metric: column -> (label, higher_is_better, unit).
SUCCESS_METRICS: dict[str, SuccessMetric] = {
    "quota_attainment": SuccessMetric("Quota attainment after ramp", True, "x quota"),
    "mrr_per_month": SuccessMetric("New MRR won per month after ramp", True, "$"),
    "customer_churn_rate": SuccessMetric("Share of their customers who churned early", False, "share"),
    "customer_lifetime_value": SuccessMetric("Expected revenue per customer they sold", True, "$"),
}

SELLING_ROLES = ("ae", "sdr")

COLUMNS = ["rep_id", "name", "role", "hire_date", "leave_date", "months_observed", "quota_mrr", "won_mrr",
           "quota_attainment", "mrr_per_month", "customers", "customers_observed", "customers_churned",
           "customer_churn_rate", "customer_months", "customer_lifetime_value", "judged"]


def success_settings(config: "WorkbookConfig") -> dict[str, Any]:
    """The ``[hiring]`` settings the success metrics use, validated (ConfigError names file and key)."""
    s = config.settings
    metrics = s.string_list("hiring.success_metrics", allowed=tuple(SUCCESS_METRICS))
    if not metrics:
        s.fail("hiring.success_metrics", [], f"at least one of {list(SUCCESS_METRICS)}")
    return {
        "ramp_months": int(s.number("hiring.ramp_months", integer=True, minimum=0, maximum=36)),
        "min_months_tenure": int(config.min_months_tenure),
        "clv_horizon_months": int(s.number("hiring.clv_horizon_months", integer=True, minimum=1, maximum=240)),
        "churn_window_months": int(config.compensation.churn_window_months),
        "success_metrics": metrics,
    }


def _as_of_day(as_of: Any) -> date:
    day = as_date(as_of)
    if day is None:
        raise ValueError(f"as_of {as_of!r} is not a date: pass YYYY-MM-DD, e.g. '2026-10-31'")
    return day


def _won_by_rep_month(source: "DataSource", as_of: date) -> pd.DataFrame:
    """MRR won (customers started) per closing rep and calendar month, reduced in the engine."""
    cust = source.table("customers")
    cust = cust.filter(cust.start_date <= ibis.literal(as_of, type=dt.Date()))
    reduced = cust.group_by(rep_id=cust.closing_rep_id, _y=cust.start_date.year(),
                            _m=cust.start_date.month()).aggregate(won_mrr=cust.mrr.sum(), won_customers=cust.count())
    df = reduced.to_pandas()
    df["month"] = (df.pop("_y").astype("int64").astype(str) + "-"
                   + df.pop("_m").astype("int64").astype(str).str.zfill(2))
    return df.astype({"rep_id": "str", "won_mrr": "float64", "won_customers": "int64"})


def _customer_exposure(source: "DataSource", as_of: date) -> pd.DataFrame:
    """Per closing rep: customers, churns by ``as_of``, customer-days observed and MRR, in the engine."""
    cust = source.table("customers")
    cutoff = ibis.literal(as_of, type=dt.Date())
    cust = cust.filter(cust.start_date <= cutoff)
    churned = cust.churn_date.notnull() & (cust.churn_date <= cutoff)
    end = ibis.ifelse(churned, cust.churn_date, cutoff)
    days = end.delta(cust.start_date, unit="day")
    reduced = cust.group_by(rep_id=cust.closing_rep_id).aggregate(
        customers=cust.count(), churns=cust.count(where=churned), customer_days=days.sum(),
        mean_mrr=cust.mrr.mean())
    return reduced.to_pandas().astype({"rep_id": "str", "customers": "int64", "churns": "int64",
                                       "customer_days": "float64", "mean_mrr": "float64"})


def _lifetime_value(mean_mrr: pd.Series, hazard: pd.Series, horizon: int) -> pd.Series:
    h = hazard.clip(lower=0.0, upper=1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = mean_mrr * (1 - (1 - h) ** horizon) / h
    return value.where(h > 0, mean_mrr * horizon)


def compute_success_metrics(source: "DataSource", config: "WorkbookConfig", *, as_of: Any) -> pd.DataFrame:
    """Success metrics per quota-carrying rep as of ``as_of`` (see the module docstring for every rule).

    Needs the tables ``reps``, ``quotas`` and ``customers`` (a missing one raises the engine's
    ``MissingTableError``, which says which file to add).
    """
    opts = success_settings(config)
    as_of_day = _as_of_day(as_of)
    reps = source.read("reps", columns=["rep_id", "name", "role", "hire_date", "leave_date"])
    quotas = source.read("quotas", columns=["rep_id", "month", "quota_mrr"])
    sellers = reps[reps["role"].isin(SELLING_ROLES) | reps["rep_id"].isin(quotas["rep_id"])].copy()
    sellers["hire_date"] = pd.to_datetime(sellers["hire_date"]).astype("datetime64[s]")
    sellers["leave_date"] = pd.to_datetime(sellers["leave_date"]).astype("datetime64[s]")
    no_hire_date = sellers["hire_date"].isna()
    if no_hire_date.any():  # tenure from the first quota month (the contract's fallback), said in a note
        first_quota = pd.to_datetime(quotas.groupby("rep_id")["month"].min() + "-01").astype("datetime64[s]")
        sellers.loc[no_hire_date, "hire_date"] = sellers.loc[no_hire_date, "rep_id"].map(first_quota)
    hire_date_note = (f"{int(no_hire_date.sum())} of {len(sellers)} reps have no hire date: their tenure counts "
                      "from their first quota month." if no_hire_date.any() else "")

    # ---- counted quota months: after the ramp, complete by as_of
    q = quotas.merge(sellers[["rep_id", "hire_date"]], on="rep_id", how="inner")
    month_start = pd.to_datetime(q["month"] + "-01")
    month_end = month_start + pd.offsets.MonthEnd(0)
    ramp_end = q["hire_date"] + pd.DateOffset(months=opts["ramp_months"]) if opts["ramp_months"] else q["hire_date"]
    q = q[(month_start >= ramp_end) & (month_end <= pd.Timestamp(as_of_day))]
    won = _won_by_rep_month(source, as_of_day)
    q = q.merge(won[["rep_id", "month", "won_mrr"]], on=["rep_id", "month"], how="left")
    q["won_mrr"] = q["won_mrr"].fillna(0.0)
    per_rep = q.groupby("rep_id").agg(months_observed=("month", "nunique"), quota_mrr=("quota_mrr", "sum"),
                                      won_mrr=("won_mrr", "sum"))

    out = sellers.set_index("rep_id").join(per_rep, how="left")
    out["months_observed"] = out["months_observed"].fillna(0).astype("int64")
    observed = out["months_observed"] > 0
    out["quota_attainment"] = (out["won_mrr"] / out["quota_mrr"].where(out["quota_mrr"] > 0)).where(observed)
    out["mrr_per_month"] = (out["won_mrr"] / out["months_observed"].where(observed)).astype("float64")

    # ---- the customers they sold: early churn and lifetime value
    churn = rep_churn(source, window_months=opts["churn_window_months"], as_of=as_of_day.isoformat())
    churn = churn[churn["attribution"] == "closing_rep"].set_index("rep_id")
    out["customers_observed"] = churn["customers_observed"].reindex(out.index).fillna(0).astype("int64")
    out["customers_churned"] = churn["churned_within_window"].reindex(out.index).fillna(0).astype("int64")
    out["customer_churn_rate"] = (out["customers_churned"]
                                  / out["customers_observed"].where(out["customers_observed"] > 0)).astype("float64")
    exposure = _customer_exposure(source, as_of_day).set_index("rep_id").reindex(out.index)
    out["customers"] = exposure["customers"].fillna(0).astype("int64")
    out["customer_months"] = (exposure["customer_days"] / MONTH_DAYS).astype("float64")
    hazard = exposure["churns"] / out["customer_months"].where(out["customer_months"] > 0)
    out["customer_lifetime_value"] = _lifetime_value(exposure["mean_mrr"], hazard,
                                                     opts["clv_horizon_months"]).where(out["customers"] > 0)
    out["judged"] = out["months_observed"] >= opts["min_months_tenure"]
    out = out.reset_index()
    for col in ("quota_mrr", "won_mrr", "quota_attainment", "mrr_per_month", "customer_lifetime_value"):
        out[col] = out[col].astype("float64")
    out = out[COLUMNS].sort_values("rep_id", ignore_index=True)
    out.attrs["hire_date_note"] = hire_date_note  # shown by the analyses that judge tenure
    return out
