"""Independent pandas computations used by the sample-organisation tests.

Nothing here imports the generator's internals: every measure is recomputed from the written
tables, the way an analyst would, so that the tests check that the planted truth is really in
the data and not only in ``ground_truth.json``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

STAGES = ("connected", "discovery", "demo", "won")


class SampleData:
    """The tables of one generated folder, read once, plus its ground truth."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.truth = json.loads((self.folder / "ground_truth.json").read_text(encoding="utf-8"))
        self._cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table not in self._cache:
            self._cache[table] = pd.read_parquet(self.folder / f"{table}.parquet")
        return self._cache[table]

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.truth["sla"]["as_of"])


def quota_attainment(data: SampleData) -> pd.Series:
    """Won MRR over quota per rep, over all the rep's quota months."""
    deals = data["deals"]
    won = deals[deals["status"] == "won"].assign(month=lambda d: d["closed_at"].dt.strftime("%Y-%m"))
    booked = won.groupby(["rep_id", "month"])["mrr"].sum()
    quota = data["quotas"].set_index(["rep_id", "month"])["quota_mrr"]
    booked_on_quota = booked.reindex(quota.index).fillna(0.0)
    return booked_on_quota.groupby(level=0).sum() / quota.groupby(level=0).sum()


def hiring_mean_scores(data: SampleData) -> pd.DataFrame:
    """Mean interview score per hired rep and trait (columns = traits)."""
    scores = data["hiring_scores"].dropna(subset=["rep_id"])
    return scores.groupby(["rep_id", "trait"])["score"].mean().unstack()


def established_reps(data: SampleData, min_quota_months: int = 3) -> pd.Index:
    """AEs with at least ``min_quota_months`` quota months (the new hire is judged later)."""
    months = data["quotas"].groupby("rep_id").size()
    return months.index[months >= min_quota_months]


def funnel_counts(data: SampleData) -> pd.DataFrame:
    """Leads reaching each stage, per rep, from activities and deals (the config's stage filters)."""
    acts = data["activities"]
    deals = data["deals"].dropna(subset=["lead_id"])
    counts = pd.DataFrame({
        "attempted": acts[acts["activity_type"].isin(["call", "email"])].groupby("rep_id")["lead_id"].nunique(),
        "connected": acts[(acts["activity_type"] == "call") & (acts["outcome"] == "connected")]
        .groupby("rep_id")["lead_id"].nunique(),
        "discovery": acts[acts["meeting_kind"] == "discovery"].groupby("rep_id")["lead_id"].nunique(),
        "demo": acts[acts["meeting_kind"] == "demo"].groupby("rep_id")["lead_id"].nunique(),
        "won": deals[deals["status"] == "won"].groupby("rep_id")["lead_id"].nunique(),
    })
    return counts.fillna(0)


def stage_rates(counts: pd.DataFrame) -> pd.DataFrame:
    """Conversion from the previous stage, per rep."""
    order = ["attempted", *STAGES]
    return pd.DataFrame({stage: counts[stage] / counts[prev].where(counts[prev] > 0)
                         for prev, stage in zip(order, order[1:])})


def churn_within(data: SampleData, months: int = 4) -> pd.DataFrame:
    """Customers observable for ``months`` months, with whether they churned within them."""
    cust = data["customers"].copy()
    start = pd.to_datetime(cust["start_date"])
    churn = pd.to_datetime(cust["churn_date"])
    horizon = start + pd.DateOffset(months=months)
    observable = horizon <= data.as_of.tz_localize(None)
    cust["churned"] = churn.notna() & (churn < horizon)
    return cust[observable]


def lead_customer_rate_by_offer(data: SampleData, min_age_days: int = 90) -> pd.Series:
    """Share of leads (old enough to have closed) whose deal was won, by first offer."""
    leads = data["leads"]
    won_leads = data["deals"].query("status == 'won'")["lead_id"].dropna().unique()
    old = leads[leads["created_at"] < data.as_of - pd.Timedelta(days=min_age_days)]
    return old["lead_id"].isin(won_leads).groupby(old["first_offer"]).mean()


def sla_breakers(data: SampleData) -> dict[str, set[str]]:
    """Leads breaking each SLA rule as of the end of the data, computed from leads and activities."""
    rules = data.truth["sla"]["rules"]
    leads = data["leads"].set_index("lead_id")
    acts = data["activities"].merge(data["leads"][["lead_id", "created_at"]], on="lead_id")
    as_of = data.as_of
    age = as_of - leads["created_at"]
    first = acts.groupby("lead_id")["occurred_at"].min().reindex(leads.index)
    limit = pd.Timedelta(hours=rules["first_touch_hours"])
    first_touch = (first.isna() & (age > limit)) | ((first - leads["created_at"]) > limit)

    def count(mask: pd.Series) -> pd.Series:
        return acts[mask].groupby("lead_id").size().reindex(leads.index, fill_value=0)

    in_trial_window = acts["occurred_at"] <= acts["created_at"] + pd.Timedelta(days=rules["free_trial_after_days"])
    trial_calls = count((acts["activity_type"] == "call") & in_trial_window)
    free_trial = ((leads["first_offer"] == "free_trial") & (age >= pd.Timedelta(days=rules["free_trial_after_days"]))
                  & (trial_calls < rules["free_trial_min_calls"]))
    in_demo_window = acts["occurred_at"] <= acts["created_at"] + pd.Timedelta(days=rules["demo_request_age_days"])
    demo_touches = count(in_demo_window)
    demo_request = ((leads["first_offer"] == "demo_request")
                    & (age >= pd.Timedelta(days=rules["demo_request_age_days"]))
                    & (demo_touches < rules["demo_request_min_touches"]))
    connected = count((acts["activity_type"] == "call") & (acts["outcome"] == "connected")) > 0
    attempts = count(acts["activity_type"].isin(["call", "email"]))
    last = acts.groupby("lead_id")["occurred_at"].max().reindex(leads.index)
    needed = leads["segment"].map(rules["follow_up_attempts"])
    follow_up = ((~connected) & (attempts > 0) & (attempts < needed)
                 & (last < as_of - pd.Timedelta(days=rules["follow_up_idle_days"])))
    return {name: set(leads.index[mask]) for name, mask in (
        ("first_touch", first_touch), ("free_trial_calls", free_trial),
        ("demo_request_touches", demo_request), ("follow_up_attempts", follow_up))}


def two_proportion_z(assignments: pd.DataFrame, experiment_id: str) -> tuple[float, float]:
    """Observed treatment - control difference of a 0/1 outcome and its z statistic."""
    rows = assignments[(assignments["experiment_id"] == experiment_id) & assignments["outcome"].notna()]
    grouped = rows.groupby("arm")["outcome"].agg(["mean", "count"])
    p1, n1 = grouped.loc["treatment"]
    p0, n0 = grouped.loc["control"]
    pooled = (p1 * n1 + p0 * n0) / (n1 + n0)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return float(p1 - p0), float((p1 - p0) / se)
