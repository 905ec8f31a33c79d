"""Reductions checked against numbers worked out by hand on tiny tables."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core.config import load_config
from helpers.data.engine import MissingTableError, open_source
from helpers.data.reductions import (
    NoDataError,
    _instant,
    data_period,
    last_complete_month,
    lead_engagement,
    lead_outcomes,
    lead_touch_summary,
    rep_churn,
    rep_month_activity,
    rep_month_funnel,
)

ACT_HEADER = "activity_id,rep_id,lead_id,occurred_at,activity_type,outcome,meeting_kind\n"
LEAD_HEADER = "lead_id,created_at,source,lead_type,segment,first_offer,owner_rep_id\n"
DEAL_HEADER = "deal_id,lead_id,rep_id,created_at,closed_at,status,mrr\n"


def folder(tmp_path: Path, **tables: str) -> Path:
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (data / f"{name}.csv").write_text(text, encoding="utf-8")
    return data


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# --------------------------------------------------------------------------- lead touches
LEADS = LEAD_HEADER + (
    "L1,2024-03-01T09:00:00Z,paid_search,net,small_business,demo_request,R1\n"
    "L2,2024-03-01T09:00:00Z,organic_search,net,enterprise,free_trial,\n"
    "L3,2024-03-01T09:00:00Z,referral,seed,mid_market,ebook,R1\n"
    "L4,2024-03-05T09:00:00Z,outbound,spear,mid_market,outbound,R1\n"
)
TOUCHES = ACT_HEADER + (
    "a1,R1,L1,2024-03-01T09:30:00Z,call,no_answer,\n"      # L1 first touch after 30 minutes
    "a2,R1,L1,2024-03-01T10:00:00Z,call,connected,\n"      # L1 connects on the second attempt
    "a3,R1,L1,2024-03-01T11:00:00Z,email,sent,\n"
    "a4,R1,L2,2024-03-01T11:00:00Z,call,voicemail,\n"      # L2 first touch after 2 hours
    "a5,R1,L2,2024-03-02T11:00:00Z,call,no_answer,\n"      # 26 hours after creation
    "a6,R1,L2,2024-03-09T11:00:00Z,call,connected,\n"      # after the as_of date below
    "a7,R1,L4,2024-03-05T10:00:00Z,call,connected,\n"      # lead created after as_of
)


@pytest.fixture
def touch_source(tmp_path: Path):
    return open_source(data_dir=folder(tmp_path, leads=LEADS, activities=TOUCHES))


def test_speed_to_lead_and_persistence_as_of_a_date(touch_source) -> None:
    summary = lead_touch_summary(touch_source, as_of="2024-03-03").set_index("lead_id")
    assert list(summary.index) == ["L1", "L2", "L3"]  # L4 did not exist yet
    assert summary.loc["L1", "hours_to_first_touch"] == pytest.approx(0.5)
    assert summary.loc["L2", "hours_to_first_touch"] == pytest.approx(2.0)
    assert math.isnan(summary.loc["L3", "hours_to_first_touch"])
    assert summary["touches"].tolist() == [3, 2, 0]
    assert summary["calls"].tolist() == [2, 2, 0]
    assert summary["connected"].tolist() == [True, False, False]  # L2's connect lies in the future
    assert summary["attempts_before_first_connect"].tolist() == [1, 2, 0]
    assert summary.loc["L1", "first_connect_at"] == ts("2024-03-01T10:00:00")
    assert pd.isna(summary.loc["L2", "first_connect_at"])
    assert summary.loc["L2", "last_touch_at"] == ts("2024-03-02T11:00:00")
    assert pd.isna(summary.loc["L2", "owner_rep_id"]) and summary.loc["L1", "owner_rep_id"] == "R1"
    assert summary.loc["L2", "first_offer"] == "free_trial"
    # a bare date means the end of that day: L1 is 63 hours old at midnight after 2024-03-03
    assert summary.loc["L1", "age_hours"] == pytest.approx(63.0, abs=1e-6)
    assert summary.loc["L2", "hours_since_last_touch"] == pytest.approx(37.0, abs=1e-6)


def test_later_as_of_sees_later_connects_and_leads(touch_source) -> None:
    summary = lead_touch_summary(touch_source, as_of="2024-03-10T00:00:00Z").set_index("lead_id")
    assert list(summary.index) == ["L1", "L2", "L3", "L4"]
    assert bool(summary.loc["L2", "connected"]) is True
    assert summary.loc["L2", "attempts_before_first_connect"] == 2
    assert summary.loc["L4", "attempts_before_first_connect"] == 0  # connected at the first touch


def test_call_window_counts_only_early_calls(touch_source) -> None:
    week = lead_touch_summary(touch_source, as_of="2024-03-03").set_index("lead_id")
    day = lead_touch_summary(touch_source, as_of="2024-03-03", call_window_days=1).set_index("lead_id")
    assert week.loc["L2", "calls_within_window"] == 2
    assert day.loc["L2", "calls_within_window"] == 1  # the call 26 hours in falls outside
    assert str(day["calls_within_window"].dtype) == "int64"
    assert str(day["created_at"].dtype) == "datetime64[us, UTC]"


def test_connect_outcomes_are_configurable(touch_source) -> None:
    summary = lead_touch_summary(touch_source, as_of="2024-03-03", connect_outcomes=("sent",))
    assert summary.set_index("lead_id").loc["L1", "attempts_before_first_connect"] == 2


# --------------------------------------------------------------------------- activity
ACTIVITY = ACT_HEADER + (
    "b1,R1,L1,2024-01-10T10:00:00Z,call,connected,\n"
    "b2,R1,L1,2024-01-11T10:00:00Z,call,no_answer,\n"
    "b3,R1,L2,2024-01-12T10:00:00Z,email,replied,\n"
    "b4,R1,L1,2024-01-13T10:00:00Z,meeting,held,discovery\n"
    "b5,R1,L2,2024-01-14T10:00:00Z,meeting,no_show,demo\n"
    "b6,R1,L3,2024-01-15T10:00:00Z,call,connected,discovery\n"  # a connected call that was a discovery call
    "b7,R1,L1,2024-01-31T23:30:00-02:00,email,sent,\n"          # 1 February in UTC
    "b8,R2,L9,2024-01-20T10:00:00Z,call,voicemail,\n"
)


def test_rep_month_activity_counts(tmp_path: Path) -> None:
    result = rep_month_activity(open_source(data_dir=folder(tmp_path, activities=ACTIVITY)))
    assert result[["rep_id", "month"]].values.tolist() == [["R1", "2024-01"], ["R1", "2024-02"], ["R2", "2024-01"]]
    jan = result.iloc[0]
    expected = {"activities": 6, "calls": 3, "connects": 2, "emails": 1, "replies": 1, "meetings": 2,
                "meetings_held": 1, "no_shows": 1, "discovery_meetings": 2, "demo_meetings": 0, "leads_worked": 3}
    assert {k: int(jan[k]) for k in expected} == expected
    feb = result.iloc[1]
    assert (feb["activities"], feb["emails"], feb["calls"], feb["leads_worked"]) == (1, 1, 0, 1)
    assert all(str(result[c].dtype) == "int64" for c in expected)


def test_rep_month_activity_start_inclusive_end_exclusive(tmp_path: Path) -> None:
    source = open_source(data_dir=folder(tmp_path, activities=ACTIVITY))
    assert rep_month_activity(source, start="2024-02")["month"].tolist() == ["2024-02"]
    assert rep_month_activity(source, end="2024-02")["month"].tolist() == ["2024-01", "2024-01"]
    only_b1 = rep_month_activity(source, start="2024-01-10T10:00:00Z", end="2024-01-10T10:00:01Z")
    assert only_b1["activities"].tolist() == [1]


# --------------------------------------------------------------------------- funnel
FUNNEL_TOML = """
[[funnel.stages]]
name = "attempted"
label = "Leads worked"
activity_types = ["call", "email"]

[[funnel.stages]]
name = "connected"
label = "Connects"
activity_types = ["call"]
outcomes = ["connected"]

[[funnel.stages]]
name = "demo"
label = "Demos held"
meeting_kinds = ["demo"]
outcomes = ["held"]

[[funnel.stages]]
name = "won"
label = "Customers"
deal_statuses = ["won"]
"""
FUNNEL_ACTS = ACT_HEADER + (
    "f1,R1,L1,2024-01-02T10:00:00Z,call,no_answer,\n"
    "f2,R1,L1,2024-01-03T10:00:00Z,call,connected,\n"
    "f3,R1,L2,2024-01-04T10:00:00Z,email,sent,\n"
    "f4,R1,L2,2024-01-05T10:00:00Z,email,sent,\n"      # same lead again: counted once
    "f5,R1,L3,2024-01-06T10:00:00Z,call,connected,\n"
    "f6,R1,L1,2024-01-07T10:00:00Z,meeting,held,demo\n"
    "f7,R1,L2,2024-01-08T10:00:00Z,meeting,no_show,demo\n"  # a no-show is not a demo held
    "f8,R1,L4,2024-02-02T10:00:00Z,call,no_answer,\n"
    "f9,R2,L5,2024-01-09T10:00:00Z,call,connected,\n"
)
FUNNEL_DEALS = DEAL_HEADER + (
    "D1,L1,R1,2024-01-05T00:00:00Z,2024-02-10T00:00:00Z,won,100\n"  # won in February
    "D2,L2,R1,2024-01-06T00:00:00Z,2024-01-20T00:00:00Z,lost,80\n"
    "D3,,R3,2024-01-07T00:00:00Z,2024-01-25T00:00:00Z,won,60\n"     # a deal without a lead still counts
)


@pytest.fixture
def funnel_case(tmp_path: Path):
    toml = tmp_path / "workbook.toml"
    toml.write_text(FUNNEL_TOML, encoding="utf-8")
    source = open_source(data_dir=folder(tmp_path, activities=FUNNEL_ACTS, deals=FUNNEL_DEALS))
    return source, load_config(toml)


def test_funnel_counts_distinct_leads_per_stage(funnel_case) -> None:
    source, config = funnel_case
    long = rep_month_funnel(source, config)
    counts = long.pivot_table(index=["rep_id", "month"], columns="stage", values="leads")[
        ["attempted", "connected", "demo", "won"]]
    assert counts.loc[("R1", "2024-01")].tolist() == [3, 2, 1, 0]
    assert counts.loc[("R1", "2024-02")].tolist() == [1, 0, 0, 1]
    assert counts.loc[("R2", "2024-01")].tolist() == [1, 1, 0, 0]
    assert counts.loc[("R3", "2024-01")].tolist() == [0, 0, 0, 1]
    assert len(long) == 4 * 4  # every stage present for every rep-month, zeros included


def test_funnel_conversion_rates(funnel_case) -> None:
    source, config = funnel_case
    long = rep_month_funnel(source, config)
    r1_jan = long[(long.rep_id == "R1") & (long.month == "2024-01")]
    assert r1_jan["stage"].tolist() == ["attempted", "connected", "demo", "won"]
    assert r1_jan["stage_label"].tolist() == ["Leads worked", "Connects", "Demos held", "Customers"]
    assert r1_jan["previous_stage_leads"].tolist()[1:] == [3, 2, 1]
    assert pd.isna(r1_jan["previous_stage_leads"].iloc[0])
    np.testing.assert_allclose(r1_jan["conversion_rate"], [np.nan, 2 / 3, 1 / 2, 0.0])
    r1_feb = long[(long.rep_id == "R1") & (long.month == "2024-02")]
    np.testing.assert_allclose(r1_feb["conversion_rate"], [np.nan, 0.0, np.nan, np.nan])  # 0 before: no rate


def test_funnel_wide_shape(funnel_case) -> None:
    source, config = funnel_case
    wide = rep_month_funnel(source, config, shape="wide")
    assert list(wide.columns) == ["rep_id", "month", "attempted", "connected", "demo", "won",
                                  "connected_rate", "demo_rate", "won_rate"]
    row = wide[(wide.rep_id == "R2")].iloc[0]
    assert (row["attempted"], row["connected"], row["connected_rate"], row["demo_rate"]) == (1, 1, 1.0, 0.0)
    assert math.isnan(row["won_rate"])
    with pytest.raises(ValueError, match="shape"):
        rep_month_funnel(source, config, shape="tall")


# --------------------------------------------------------------------------- churn
CUSTOMERS = (
    "customer_id,deal_id,closing_rep_id,consultant_id,start_date,churn_date,mrr,billing_term\n"
    "C1,,R1,K1,2024-01-15,2024-04-10,100,monthly\n"        # churned inside 4 months
    "C2,,R1,K1,2024-01-15,2024-05-15,200,monthly\n"        # churned exactly at 4 months: survived the window
    "C3,,R1,,2024-02-01,,300,annual_prepay\n"              # still a customer; no consultant
    "C4,,R1,K2,2024-10-01,2024-11-01,50,monthly\n"         # too recent to judge at the as_of date
    "C5,,R2,K2,2024-03-01,2024-03-20,70,monthly\n"
)


def test_churn_within_window_by_rep_and_consultant(tmp_path: Path) -> None:
    source = open_source(data_dir=folder(tmp_path, customers=CUSTOMERS))
    churn = rep_churn(source, window_months=4, as_of="2024-12-31").set_index(["attribution", "rep_id"])
    assert list(churn.index) == [("closing_rep", "R1"), ("closing_rep", "R2"), ("consultant", "K1"),
                                 ("consultant", "K2")]
    r1 = churn.loc[("closing_rep", "R1")]
    assert (r1["customers"], r1["mrr"], r1["customers_observed"], r1["churned_within_window"]) == (4, 650.0, 3, 1)
    assert r1["churn_rate"] == pytest.approx(1 / 3)
    assert r1["churned_mrr"] == 100.0
    assert churn.loc[("closing_rep", "R2"), "churn_rate"] == 1.0
    k1 = churn.loc[("consultant", "K1")]
    assert (k1["customers"], k1["customers_observed"], k1["churned_within_window"], k1["churn_rate"]) == (2, 2, 1, 0.5)
    k2 = churn.loc[("consultant", "K2")]
    assert (k2["customers"], k2["customers_observed"], k2["churned_within_window"]) == (2, 1, 1)


def test_churn_window_length_and_default_as_of(tmp_path: Path) -> None:
    source = open_source(data_dir=folder(tmp_path, customers=CUSTOMERS))
    one_month = rep_churn(source, window_months=1, as_of="2024-12-31").set_index(["attribution", "rep_id"])
    assert one_month.loc[("closing_rep", "R1"), "customers_observed"] == 4
    assert one_month.loc[("closing_rep", "R1"), "churned_within_window"] == 0
    assert one_month.loc[("closing_rep", "R2"), "churned_within_window"] == 1
    # with no sales tables the last date of the customers table (2024-11-01) is the as_of date
    default = rep_churn(source, window_months=4).set_index(["attribution", "rep_id"])
    assert default.loc[("closing_rep", "R1"), "customers_observed"] == 3
    with pytest.raises(ValueError, match="window_months"):
        rep_churn(source, window_months=0)


# --------------------------------------------------------------------------- engagement and outcomes
def test_lead_engagement_counts_each_event_type(tmp_path: Path) -> None:
    events = ("event_id,lead_id,occurred_at,event_type\n"
              "e1,L1,2024-03-01T10:00:00Z,page_view\ne2,L1,2024-03-02T10:00:00Z,page_view\n"
              "e3,L1,2024-03-03T10:00:00Z,demo_request\n")
    data = folder(tmp_path, lead_events=events)
    only_events = lead_engagement(open_source(data_dir=data))
    assert only_events["lead_id"].tolist() == ["L1"]
    (data / "leads.csv").write_text(LEADS, encoding="utf-8")
    result = lead_engagement(open_source(data_dir=data)).set_index("lead_id")
    assert list(result.index) == ["L1", "L2", "L3", "L4"]
    assert (result.loc["L1", "page_view"], result.loc["L1", "demo_request"], result.loc["L1", "events"]) == (2, 1, 3)
    assert result.loc["L1", "last_event_at"] == ts("2024-03-03T10:00:00")
    assert result.loc["L2"].drop(["first_event_at", "last_event_at"]).sum() == 0
    assert str(result["trial_start"].dtype) == "int64"


def test_lead_outcomes_won_and_mrr(tmp_path: Path) -> None:
    deals = DEAL_HEADER + (
        "D1,L1,R1,2024-01-05T00:00:00Z,2024-02-10T00:00:00Z,won,100\n"
        "D2,L1,R1,2024-01-06T00:00:00Z,2024-01-20T00:00:00Z,won,50\n"
        "D3,L2,R1,2024-01-06T00:00:00Z,2024-01-20T00:00:00Z,lost,80\n"
        "D4,,R1,2024-01-06T00:00:00Z,2024-01-20T00:00:00Z,won,999\n"
    )
    result = lead_outcomes(open_source(data_dir=folder(tmp_path, leads=LEADS, deals=deals))).set_index("lead_id")
    assert result["deals"].tolist() == [2, 1, 0, 0]
    assert result["won"].tolist() == [True, False, False, False]
    assert result["won_mrr"].tolist() == [150.0, 0.0, 0.0, 0.0]
    assert result.loc["L1", "first_won_at"] == ts("2024-01-20")


# --------------------------------------------------------------------------- period
def test_data_period_and_last_complete_month(tmp_path: Path) -> None:
    acts = ACT_HEADER + ("x1,R1,L1,2024-03-01T10:00:00Z,call,connected,\n"
                         "x2,R1,L1,2024-06-14T10:00:00Z,call,connected,\n")
    data = folder(tmp_path, activities=acts)
    source = open_source(data_dir=data)
    assert data_period(source) == (ts("2024-03-01T10:00:00"), ts("2024-06-14T10:00:00"))
    assert last_complete_month(source) == "2024-05"  # June ends mid-month
    deals = DEAL_HEADER + "D1,L1,R1,2024-02-20T08:00:00Z,2024-06-30T18:00:00Z,won,10\n"
    (data / "deals.csv").write_text(deals, encoding="utf-8")
    source = open_source(data_dir=data)
    assert data_period(source) == (ts("2024-02-20T08:00:00"), ts("2024-06-30T18:00:00"))
    assert last_complete_month(source) == "2024-06"  # the data reaches June's last day


def test_period_errors(tmp_path: Path) -> None:
    short = ACT_HEADER + "x1,R1,L1,2024-03-05T10:00:00Z,call,connected,\n"
    with pytest.raises(NoDataError, match="no complete calendar month"):
        last_complete_month(open_source(data_dir=folder(tmp_path, activities=short)))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "activities.csv").write_text(ACT_HEADER, encoding="utf-8")
    with pytest.raises(NoDataError):
        data_period(open_source(data_dir=empty))
    with pytest.raises(MissingTableError):
        data_period(open_source(data_dir=folder(tmp_path / "c", customers=CUSTOMERS)))


def test_time_bounds_parse_months_dates_and_offsets() -> None:
    assert _instant("2024-05") == ts("2024-05-01")
    assert _instant("2024-05-31", end_of_day=True) == ts("2024-06-01") - pd.Timedelta(microseconds=1)
    assert _instant("2024-05-31T12:00:00+02:00") == ts("2024-05-31T10:00:00")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        _instant("last tuesday")
