"""Commission plans of the seeds, the month's commission statement with clawbacks, and a what-if on history.

Three plans (``[compensation]`` in defaults.toml; exact semantics in docs/compensation.md):

* **hunting**: ``upfront_per_mrr`` ($2) per $1 of a new customer's MRR, paid in the month the
  customer starts; clawed back in full when the customer churns within ``clawback_months``
  (the window rule of :mod:`helpers.analyses.compensation.churn`), deducted from the *next* month's earnings;
* **customer_success**: the same, times the rep's churn-quartile multiplier (2 / 1.5 / 1 / 0.5)
  as ranked at the end of the month the customer started (:func:`rolling_quartiles`); a
  clawback takes back exactly what was paid on that customer;
* **commitment**: paid when the customer pays: ``upfront_per_mrr / commitment_months`` per $1 of
  MRR for each of the customer's first ``commitment_months`` monthly payments that happen (a
  payment is due on the start date and each month after it, while the customer has not churned);
  an annual prepay has paid them all on day one, so with ``annual_prepay_paid_upfront`` the rep
  gets the full ``upfront_per_mrr`` at the start. Nothing to claw back.

Deductions: the clawbacks due in a month are taken from that month's earnings; what they exceed
is carried forward to the next month, and so on (:func:`run_ledger`). Money is in whole cents
(int); every amount is rounded half up to the cent once, per statement line (Decimal), and per
rep and month in the history (the same formula on summed cents; equal to the lines' sum whenever
rate x multiplier x cents is a whole number, as with the default numbers).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pandas as pd

from helpers.analyses.compensation.churn import ChurnQuartiles, as_of_date, churn_rates, customer_cohorts
from helpers.core.periods import month_at, month_index
from helpers.core.estimator import Estimator
from helpers.data.engine import DataSource

__all__ = ["PLANS", "PLAN_LABELS", "CompensationError", "PlanComparison", "PlanSettings", "commission_statement",
           "commitment_payments", "plan_amounts", "rolling_quartiles", "run_ledger", "statement_lines", "to_cents"]

PLANS = ("hunting", "customer_success", "commitment")
PLAN_LABELS = {"hunting": "Hunting ($ up front, clawback)", "customer_success": "Customer success (churn quartiles)",
               "commitment": "Commitment (paid as the customer pays)"}


class CompensationError(ValueError):
    """Bad compensation input; the message says which setting or table and how to fix it."""


@dataclass(frozen=True)
class PlanSettings:
    """Every number the plans use, from ``[compensation]`` (see defaults.toml)."""

    plan: str = "customer_success"
    rate: float = 2.0
    clawback_months: int = 4
    window_months: int = 4
    multipliers: tuple[float, float, float, float] = (2.0, 1.5, 1.0, 0.5)
    annual_prepay_paid_upfront: bool = True
    commitment_months: int = 4
    min_customers: int = 10
    min_reps: int = 4
    unranked_multiplier: float = 1.0
    lookback_months: int = 12

    def __post_init__(self) -> None:
        if self.plan not in PLANS:
            raise CompensationError(f"plan {self.plan!r} is not one of {', '.join(PLANS)}")
        if len(self.multipliers) != 4 or any(m < 0 for m in self.multipliers):
            raise CompensationError(f"quartile multipliers must be four non-negative numbers: {self.multipliers!r}")
        for name in ("clawback_months", "window_months", "commitment_months"):
            if int(getattr(self, name)) < 1:
                raise CompensationError(f"{name} must be at least 1, not {getattr(self, name)!r}")
        if self.rate < 0:
            raise CompensationError(f"rate (upfront_per_mrr) must be >= 0, not {self.rate!r}")

    @classmethod
    def from_config(cls, config: Any) -> "PlanSettings":
        comp = config.compensation
        s = config.settings
        return cls(
            plan=s.choice("compensation.plan", PLANS),
            rate=comp.upfront_per_mrr, clawback_months=comp.clawback_months, window_months=comp.churn_window_months,
            multipliers=tuple(comp.quartile_multipliers), annual_prepay_paid_upfront=comp.annual_prepay_paid_upfront,
            commitment_months=int(s.number("compensation.commitment_months", integer=True, minimum=1, maximum=36)),
            min_customers=int(s.number("compensation.min_customers_ranked", integer=True, minimum=1)),
            min_reps=int(s.number("compensation.min_reps_ranked", integer=True, minimum=4)),
            unranked_multiplier=float(s.number("compensation.unranked_multiplier", minimum=0)),
            lookback_months=int(s.number("compensation.ranking_lookback_months", integer=True, minimum=0)),
        )

    def but(self, **changes: Any) -> "PlanSettings":
        """A copy with some settings changed (the what-if sliders)."""
        return replace(self, **changes)

    def quartiles(self) -> ChurnQuartiles:
        return ChurnQuartiles(multipliers=tuple(self.multipliers), min_customers=self.min_customers,
                              min_reps=self.min_reps, unranked_multiplier=self.unranked_multiplier)


def to_cents(factor: float, cents: int, divisor: int = 1) -> int:
    """``factor x cents / divisor`` rounded half up to a whole cent (exact decimal arithmetic)."""
    value = Decimal(str(factor)) * Decimal(int(cents)) / Decimal(int(divisor))
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _cents_column(factors: pd.Series, cents: pd.Series, divisor: int | pd.Series = 1) -> pd.Series:
    div = divisor if isinstance(divisor, pd.Series) else pd.Series(divisor, index=cents.index)
    return pd.Series([to_cents(f, c, d) for f, c, d in zip(factors, cents, div)], index=cents.index, dtype="int64")


# --------------------------------------------------------------------------- ranking through time
def rolling_quartiles(cohorts: pd.DataFrame, settings: PlanSettings, *, months: list[str], as_of_month: str,
                      confidence_level: float = 0.95) -> pd.DataFrame:
    """The churn quartile and multiplier of every rep as ranked at the end of each month of ``months``.

    Each month uses only customers whose window had closed by then (see
    :func:`helpers.analyses.compensation.churn.churn_rates`), so history is replayed without hindsight. One row per
    rep and month: ``quartile`` (nullable), ``multiplier``, ``status``, ``churn_rate``, ``customers_judged``.
    """
    people = sorted(cohorts["rep_id"].unique())
    frames = []
    for month in months:  # one ranking per month of history (a few dozen), each on the small cohort frame
        rates = churn_rates(cohorts, at_month=month, window_months=settings.window_months, as_of_month=as_of_month,
                            lookback_months=settings.lookback_months, confidence_level=confidence_level,
                            people=people)
        ranking = settings.quartiles().fit(rates).ranking_
        frames.append(ranking.assign(month=month))
    columns = ["rep_id", "month", "quartile", "multiplier", "status", "churn_rate", "customers_judged"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


# --------------------------------------------------------------------------- commitment plan payments
def commitment_payments(source: DataSource, *, commitment_months: int, as_of: Any,
                        annual_prepay_paid_upfront: bool = True) -> pd.DataFrame:
    """Customer payments that earn commission under the commitment plan, reduced in the engine.

    Payment k (k = 0 .. commitment_months - 1) is due on ``start_date + k`` calendar months and
    happens when that day is on or before ``as_of`` and the customer had not churned by then
    (``churn_date`` after the due day, or none). With ``annual_prepay_paid_upfront`` an annual
    prepay makes only payment 0, which covers the whole commitment (``full`` true). One row per
    rep, ``month`` of payment, ``billing_term`` and ``full``: ``payments``, ``mrr_cents``.
    """
    cutoff = ibis.literal(as_of_date(as_of).date(), type=dt.Date())
    c = source.table("customers")
    c = c.filter(c.start_date <= cutoff)
    cents = (c.mrr * 100).round().cast("int64")
    parts = []
    for k in range(int(commitment_months)):  # a handful of payments per customer, from the configuration
        due = c.start_date + ibis.interval(months=k) if k else c.start_date
        paying = (due <= cutoff) & (c.churn_date.isnull() | (c.churn_date > due))
        full = (c.billing_term == "annual_prepay") if annual_prepay_paid_upfront else ibis.literal(False)
        if annual_prepay_paid_upfront and k:
            paying = paying & (c.billing_term != "annual_prepay")
        rows = c.filter(paying).mutate(_y=due.year(), _m=due.month(), _full=full, _cents=cents)
        parts.append(rows.select(rep_id=rows.closing_rep_id, _y=rows._y, _m=rows._m,
                                 billing_term=rows.billing_term, full=rows._full, _cents=rows._cents))
    union = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    df = union.group_by(["rep_id", "_y", "_m", "billing_term", "full"]).aggregate(
        payments=union.count(), mrr_cents=union._cents.sum()).to_pandas()
    df["month"] = [f"{int(y):04d}-{int(m):02d}" for y, m in zip(df.pop("_y"), df.pop("_m"))]
    df = df.astype({"rep_id": str, "billing_term": str, "full": bool, "payments": "int64", "mrr_cents": "int64"})
    return df[["rep_id", "month", "billing_term", "full", "payments", "mrr_cents"]].sort_values(
        ["rep_id", "month", "billing_term", "full"], ignore_index=True)


# --------------------------------------------------------------------------- amounts and ledger
def _multiplier_lookup(plan: str, multipliers: pd.DataFrame | None, frame: pd.DataFrame, month_col: str) -> pd.Series:
    if plan == "hunting":
        return pd.Series(1.0, index=frame.index)
    if multipliers is None:
        raise CompensationError("the customer-success plan needs the reps' quartiles: pass rolling_quartiles(...)")
    table = multipliers.set_index(["rep_id", "month"])["multiplier"]
    keys = list(zip(frame["rep_id"], frame[month_col]))
    found = table.reindex(keys).to_numpy()
    return pd.Series(np.where(pd.isna(found), np.nan, found), index=frame.index, dtype=float)


def plan_amounts(plan: str, settings: PlanSettings, *, cohorts: pd.DataFrame, payments: pd.DataFrame | None = None,
                 multipliers: pd.DataFrame | None = None) -> pd.DataFrame:
    """What each rep earns, and the clawbacks due, month by month under ``plan`` (cents).

    One row per rep and month with ``earned_cents`` and ``clawback_cents`` (due, i.e. to be
    deducted that month: churns of the previous month within the clawback window).
    """
    if plan not in PLANS:
        raise CompensationError(f"plan {plan!r} is not one of {', '.join(PLANS)}")
    columns = ["rep_id", "month", "earned_cents", "clawback_cents"]
    if plan == "commitment":
        if payments is None:
            raise CompensationError("the commitment plan needs commitment_payments(...)")
        if payments.empty:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(columns, ["str", "str", "int64", "int64"])})
        grouped = payments.groupby(["rep_id", "month", "full"], as_index=False)["mrr_cents"].sum()
        div = pd.Series(np.where(grouped["full"], 1, settings.commitment_months), index=grouped.index)
        grouped["earned_cents"] = _cents_column(pd.Series(settings.rate, index=grouped.index), grouped["mrr_cents"], div)
        out = grouped.groupby(["rep_id", "month"], as_index=False)["earned_cents"].sum()
        out["clawback_cents"] = 0
        return out[columns].astype({"earned_cents": "int64", "clawback_cents": "int64"})
    new = cohorts.groupby(["rep_id", "start_month"], as_index=False)["mrr_cents"].sum()
    new["factor"] = settings.rate * _multiplier_lookup(plan, multipliers, new, "start_month")
    if new["factor"].isna().any():
        missing = new.loc[new["factor"].isna(), ["rep_id", "start_month"]].head(3).values.tolist()
        raise CompensationError(f"no quartile for {missing}: rolling_quartiles must cover every start month")
    new["earned_cents"] = _cents_column(new["factor"], new["mrr_cents"])
    earned = new.rename(columns={"start_month": "month"})[["rep_id", "month", "earned_cents"]]
    claw = cohorts[cohorts["clawback_month"].notna()]
    claw = claw.groupby(["rep_id", "start_month", "clawback_month"], as_index=False)["mrr_cents"].sum()
    claw = claw.merge(new[["rep_id", "start_month", "factor"]], on=["rep_id", "start_month"], how="left")
    claw["clawback_cents"] = _cents_column(claw["factor"], claw["mrr_cents"])
    claw["month"] = [month_at(month_index(m) + 1) for m in claw["clawback_month"]]  # deducted the next month
    claws = claw.groupby(["rep_id", "month"], as_index=False)["clawback_cents"].sum()
    out = earned.groupby(["rep_id", "month"], as_index=False)["earned_cents"].sum().merge(
        claws, on=["rep_id", "month"], how="outer").fillna(0)
    return out.astype({"earned_cents": "int64", "clawback_cents": "int64"})[columns].sort_values(
        ["rep_id", "month"], ignore_index=True)


def run_ledger(amounts: pd.DataFrame, *, months: list[str], carried_in: dict[str, int] | None = None) -> pd.DataFrame:
    """Pay each month's earnings less the clawbacks due, carrying forward what they exceed.

    For each rep and month (in order): ``due = clawback_cents + carried_in_cents``;
    ``deducted = min(earned, due)``; ``payout = earned - deducted``; ``carried_out = due - deducted``,
    which is the next month's ``carried_in``. A payout is never negative. ``carried_in`` gives
    balances owed before the first month (default none).
    """
    reps = sorted(set(amounts["rep_id"]) | set(carried_in or {}))
    grid = amounts.set_index(["rep_id", "month"]).reindex(pd.MultiIndex.from_product([reps, months],
                                                                                    names=["rep_id", "month"]))
    grid = grid.fillna(0).astype("int64")
    earned = grid["earned_cents"].unstack("month").reindex(columns=months)
    claw = grid["clawback_cents"].unstack("month").reindex(columns=months)
    balance = pd.Series({r: int((carried_in or {}).get(r, 0)) for r in reps}, dtype="int64")
    rows = []
    for month in months:  # months in order: each balance depends on the previous month's
        due = claw[month] + balance
        deducted = np.minimum(earned[month], due)
        payout = earned[month] - deducted
        rows.append(pd.DataFrame({"rep_id": reps, "month": month, "earned_cents": earned[month].to_numpy(),
                                  "clawback_cents": claw[month].to_numpy(), "carried_in_cents": balance.to_numpy(),
                                  "deducted_cents": deducted.to_numpy(), "payout_cents": payout.to_numpy(),
                                  "carried_out_cents": (due - deducted).to_numpy()}))
        balance = due - deducted
    if not rows:
        return pd.DataFrame(columns=["rep_id", "month", "earned_cents", "clawback_cents", "carried_in_cents",
                                     "deducted_cents", "payout_cents", "carried_out_cents"])
    out = pd.concat(rows, ignore_index=True)
    return out.astype({c: "int64" for c in out.columns if c.endswith("_cents")})


# --------------------------------------------------------------------------- the month's statement
LINE_COLUMNS = ["rep_id", "line", "customer_id", "deal_id", "start_date", "churn_date", "billing_term", "mrr",
                "rate", "multiplier", "divisor", "amount_cents", "explanation"]


def statement_lines(source: DataSource, settings: PlanSettings, *, month: str, as_of: Any,
                    multipliers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every line of the month's commission statement under ``settings.plan``, traceable to its customer and deal.

    ``line`` is ``commission`` (a new customer, or under the commitment plan a payment of the
    month) or ``clawback`` (a customer who churned last month within the clawback window:
    minus what was paid on it). ``amount_cents`` = rate x multiplier x MRR cents / divisor,
    rounded half up; negative for clawbacks. Only the month's customers leave the engine.
    """
    cutoff_day = as_of_date(as_of)
    first = pd.Timestamp(month + "-01")
    after = first + pd.DateOffset(months=1)
    prev = first - pd.DateOffset(months=1)
    earliest = first - pd.DateOffset(months=settings.commitment_months if settings.plan == "commitment"
                                     else settings.clawback_months + 1)
    c = source.table("customers")
    lit = lambda ts: ibis.literal(ts.date(), type=dt.Date())  # noqa: E731
    started_here = (c.start_date >= lit(first)) & (c.start_date < lit(after)) & (c.start_date <= lit(cutoff_day))
    churned_prev = c.churn_date.notnull() & (c.churn_date >= lit(prev)) & (c.churn_date < lit(first))
    recent = (c.start_date >= lit(earliest)) & (c.start_date < lit(after)) & (c.start_date <= lit(cutoff_day))
    wanted = recent if settings.plan == "commitment" else (started_here | churned_prev)
    rows = c.filter(wanted).select("customer_id", "deal_id", "closing_rep_id", "start_date", "churn_date", "mrr",
                                   "billing_term").to_pandas()
    rows = rows.rename(columns={"closing_rep_id": "rep_id"})
    rows["start_date"] = pd.to_datetime(rows["start_date"])
    rows["churn_date"] = pd.to_datetime(rows["churn_date"])
    rows.loc[rows["churn_date"] > cutoff_day, "churn_date"] = pd.NaT  # not known at as_of
    rows["cents"] = (rows["mrr"] * 100).round().astype("int64")
    rows["start_month"] = rows["start_date"].dt.strftime("%Y-%m")
    lines = []
    if settings.plan == "commitment":
        for k in range(settings.commitment_months):  # the few payments a recent customer makes
            due = rows["start_date"] + pd.DateOffset(months=k)
            annual_full = (rows["billing_term"] == "annual_prepay") & settings.annual_prepay_paid_upfront
            paying = ((due >= first) & (due < after) & (due <= cutoff_day)
                      & (rows["churn_date"].isna() | (rows["churn_date"] > due)) & ~(annual_full & (k > 0)))
            part = rows[paying].copy()
            full = annual_full[paying]
            part["line"] = "commission"
            part["multiplier"] = 1.0
            part["divisor"] = np.where(full, 1, settings.commitment_months)
            part["explanation"] = np.where(full, "annual prepay: whole commission at once",
                                           f"monthly payment {k + 1} of {settings.commitment_months}")
            lines.append(part)
    else:
        new = rows[rows["start_month"] == month].copy()
        new["line"] = "commission"
        claw = rows[rows["churn_date"].notna() & (rows["churn_date"] >= prev) & (rows["churn_date"] < first)].copy()
        inside = claw["churn_date"] < claw["start_date"] + pd.DateOffset(months=settings.clawback_months)
        claw = claw[inside.to_numpy(bool)]
        claw["line"] = "clawback"
        for part in (new, claw):
            part["multiplier"] = _multiplier_lookup(settings.plan, multipliers, part, "start_month")
            part["divisor"] = 1
        new["explanation"] = f"new customer, {settings.rate:g} per $1 MRR" + (
            " x quartile multiplier" if settings.plan == "customer_success" else "")
        claw["explanation"] = f"churned within {settings.clawback_months} months: commission taken back"
        lines += [new, claw]
    out = pd.concat(lines, ignore_index=True) if lines else rows.iloc[0:0].assign(line="", multiplier=1.0,
                                                                                  divisor=1, explanation="")
    out["rate"] = settings.rate
    sign = np.where(out["line"] == "clawback", -1, 1)
    amount = _cents_column(out["rate"] * out["multiplier"], out["cents"], out["divisor"].astype("int64"))
    out["amount_cents"] = (amount.to_numpy() * sign).astype("int64")
    out["start_date"] = out["start_date"].dt.date
    out["churn_date"] = [None if pd.isna(d) else d.date() for d in out["churn_date"]]
    return out[LINE_COLUMNS].sort_values(["rep_id", "line", "customer_id"], ignore_index=True)


def commission_statement(lines: pd.DataFrame, *, carried_in: dict[str, int] | None = None,
                         reps: pd.DataFrame | None = None, month: str = "") -> pd.DataFrame:
    """One row per rep: the month's commission, clawbacks, what is deducted, the payout and what carries forward.

    ``carried_in`` is the balance each rep still owed from earlier months (from :func:`run_ledger`).
    ``reps`` (``rep_id``, ``name``) adds names, and reps without a line (a rep with no sales
    this month is listed with zeros).
    """
    commission = lines[lines["line"] == "commission"].groupby("rep_id")["amount_cents"].agg(["sum", "count"])
    claw = lines[lines["line"] == "clawback"].groupby("rep_id")["amount_cents"].agg(["sum", "count"])
    people = set(lines["rep_id"]) | {r for r, v in (carried_in or {}).items() if v}
    if reps is not None:
        people |= set(reps["rep_id"])
    out = pd.DataFrame(index=pd.Index(sorted(people), name="rep_id"))
    out["new_lines"] = commission["count"].reindex(out.index).fillna(0).astype("int64")
    out["earned_cents"] = commission["sum"].reindex(out.index).fillna(0).astype("int64")
    out["clawback_lines"] = claw["count"].reindex(out.index).fillna(0).astype("int64")
    out["clawback_cents"] = (-claw["sum"]).reindex(out.index).fillna(0).astype("int64")
    out["carried_in_cents"] = pd.Series(carried_in or {}, dtype="int64").reindex(out.index).fillna(0).astype("int64")
    due = out["clawback_cents"] + out["carried_in_cents"]
    out["deducted_cents"] = np.minimum(out["earned_cents"], due)
    out["payout_cents"] = out["earned_cents"] - out["deducted_cents"]
    out["carried_out_cents"] = due - out["deducted_cents"]
    out = out.reset_index()
    if reps is not None and "name" in reps:
        out.insert(1, "name", out["rep_id"].map(reps.set_index("rep_id")["name"]).fillna(""))
    if month:
        out.insert(0, "month", month)
    return out


# --------------------------------------------------------------------------- plan comparison
@dataclass
class PlanComparison(Estimator):
    """Replay history under each plan: cost, cost per retained MRR, and how rep rankings change.

    Behaviour is held fixed (the same customers, closed and lost as they were), so the
    comparison shows what each plan would have paid for the same results and whom it would
    have rewarded, not how people would have sold under it; that is what the seeds' own
    plan changes showed.
    """

    settings: PlanSettings

    def fit(self, cohorts: pd.DataFrame, payments: pd.DataFrame, multipliers: pd.DataFrame,
            months: list[str]) -> "PlanComparison":
        self.months_ = list(months)
        ledgers = {}
        for plan in PLANS:  # three plans
            amounts = plan_amounts(plan, self.settings, cohorts=cohorts, payments=payments, multipliers=multipliers)
            amounts = amounts[amounts["month"].isin(self.months_)]
            ledgers[plan] = run_ledger(amounts, months=self.months_)
        self.ledgers_ = ledgers
        in_period = cohorts[cohorts["start_month"].isin(self.months_)]
        new_mrr = in_period["mrr_cents"].sum() / 100
        retained = in_period["retained_mrr_cents"].sum() / 100
        rows = []
        for plan, ledger in ledgers.items():
            paid = ledger["payout_cents"].sum() / 100
            rows.append({"plan": plan, "label": PLAN_LABELS[plan], "earned": ledger["earned_cents"].sum() / 100,
                         "clawed_back": ledger["deducted_cents"].sum() / 100, "paid": paid,
                         "still_owed_by_reps": (ledger.groupby("rep_id")["carried_out_cents"].last().sum() / 100
                                                if len(ledger) else 0.0),
                         "new_mrr": new_mrr, "retained_mrr": retained,
                         "cost_per_new_mrr": paid / new_mrr if new_mrr else np.nan,
                         "cost_per_retained_mrr": paid / retained if retained else np.nan})
        self.summary_ = pd.DataFrame(rows).set_index("plan")
        per_rep = pd.DataFrame({plan: ledger.groupby("rep_id")["payout_cents"].sum() / 100
                                for plan, ledger in ledgers.items()}).fillna(0.0)
        ranks = per_rep.rank(ascending=False, method="min").astype("int64").add_suffix("_rank")
        self.by_rep_ = per_rep.join(ranks)
        self.by_rep_["rank_change"] = self.by_rep_["hunting_rank"] - self.by_rep_["customer_success_rank"]
        return self

    @property
    def summary(self) -> pd.DataFrame:
        return self.summary_

    def rank_correlation(self, a: str = "hunting", b: str = "customer_success") -> float:
        """Spearman correlation of the reps' pay ranks under two plans (1: nobody moves)."""
        from scipy.stats import spearmanr

        if len(self.by_rep_) < 3:
            return float("nan")
        return float(spearmanr(self.by_rep_[a], self.by_rep_[b]).statistic)

    def headline(self) -> str:
        s = self.summary_
        cost = pd.to_numeric(s["cost_per_retained_mrr"], errors="coerce").replace([np.inf, -np.inf], np.nan)
        if cost.isna().all():  # no MRR still paying (every MRR 0, or every customer lost): no cost to compare
            return (f"Replaying {self.months_[0]} to {self.months_[-1]}: no MRR is still paying at the as-of date, "
                    "so the plans' cost per $1 of retained MRR cannot be compared.")
        cheapest = cost.idxmin()
        parts = [f"{PLAN_LABELS[p].split(' (')[0]} ${s.loc[p, 'cost_per_retained_mrr']:.2f}" for p in PLANS]
        return (f"Replaying {self.months_[0]} to {self.months_[-1]}, commission per $1 of MRR still paying: "
                f"{', '.join(parts)}; the {PLAN_LABELS[cheapest].split(' (')[0].lower()} plan costs least.")

    def plot(self, ax=None):
        """Commission paid per $1 of retained MRR under each plan."""
        from helpers.analyses.compensation.plots import plot_plan_costs

        return plot_plan_costs(self.summary_, ax=ax)
