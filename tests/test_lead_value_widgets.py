"""Analyst-only views of notebook 05: one rep's lists and one segment's attempt curve."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.analyses.lead_value import sla
from helpers.core.intervals import wilson_interval
from helpers.analyses.lead_value import speed_to_lead as stl
from helpers.analyses.lead_value.widgets import rep_lists, rep_options, rep_widget, segment_options, segment_view, segment_widget

T = pd.Timestamp("2026-10-20 09:00", tz="UTC")


def _violations() -> pd.DataFrame:
    rows = [("first_touch", "L1", "R1", "never touched", T - pd.Timedelta(hours=3)),
            ("first_touch", "L2", "R1", "touched late", T - pd.Timedelta(hours=5)),  # history: not on the list
            ("follow_up", "L3", "R1", "under attempts", T - pd.Timedelta(days=4)),
            ("first_touch", "L4", "R2", "never touched", T - pd.Timedelta(hours=2)),
            ("first_touch", "L5", None, "never touched", T - pd.Timedelta(hours=2))]
    df = pd.DataFrame(rows, columns=["rule", "lead_id", "owner_rep_id", "status", "created_at"])
    for col, value in {"segment": "mid_market", "first_offer": "demo_request", "first_touch_at": pd.NaT,
                       "last_touch_at": pd.NaT, "touches": 0, "attempts": 0, "calls_in_window": 0, "required": 1.0,
                       "hours_to_first_touch": float("nan"), "age_days": 1.0, "idle_days": 1.0}.items():
        df[col] = value
    return df


def _calls() -> pd.DataFrame:
    return pd.DataFrame({"owner_rep_id": ["R1", "R1", "R3"], "rank": [2, 1, 1], "lead_id": ["L9", "L8", "L7"],
                         "first_offer": ["ebook", "free_trial", "webinar"], "score": [1.0, 5.0, 2.0],
                         "last_event_type": ["page_view", "trial_start", None], "touches": [0, 1, 0],
                         "last_event_at": [T, T, pd.NaT], "created_at": [T, T, T], "segment": ["mid_market"] * 3})


REPS = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "name": ["Zoe", "Adam", "Mia"]})


def test_rep_options_name_every_owner_once_unassigned_last():
    assert rep_options(_violations(), _calls(), REPS) == [("Adam", "R2"), ("Mia", "R3"), ("Zoe", "R1"),
                                                          ("(unassigned)", "(unassigned)")]


def test_rep_lists_hold_only_that_reps_open_breaches_and_calls_in_order():
    breaches, calls = rep_lists(_violations(), _calls(), rep_id="R1", reps=REPS, n=10)
    assert breaches["Lead"].tolist() == ["L1", "L3"]  # newest first; L2 (touched late) is history
    assert calls["Lead"].tolist() == ["L8", "L9"]  # by rank, not by id
    assert set(breaches["Rep"]) == {"Zoe"}
    none_b, none_c = rep_lists(_violations(), _calls(), rep_id="R3", reps=REPS)
    assert none_b.empty and none_c["Lead"].tolist() == ["L7"]
    unassigned, _ = rep_lists(_violations(), _calls(), rep_id=sla.UNASSIGNED, reps=REPS)
    assert unassigned["Lead"].tolist() == ["L5"]
    with pytest.raises(sla.SlaInputError, match="at least one"):
        rep_lists(_violations(), _calls(), rep_id="R1", n=0)


def _analysis() -> stl.AttemptAnalysis:
    curve = pd.DataFrame({"segment": ["enterprise"] * 2 + ["small_business"] * 2, "attempt": [1, 2, 1, 2],
                          "at_risk": [100, 0, 50, 40], "connects": [30, 0, 10, 4], "wins": [6, 0, 2, 1]})
    curve["connect_rate"] = curve["connects"] / curve["at_risk"].where(curve["at_risk"] > 0)
    curve["connect_ci_low"], curve["connect_ci_high"] = wilson_interval(curve["connects"], curve["at_risk"])
    curve["value_per_attempt"] = curve["wins"] / curve["at_risk"].where(curve["at_risk"] > 0) * 1000
    curve["value_ci_low"], curve["value_ci_high"] = curve["value_per_attempt"] * 0.5, curve["value_per_attempt"] * 2
    cutoffs = pd.DataFrame({"segment": ["enterprise", "small_business"], "configured": [12, 5], "cutoff": [None, 1],
                            "stop_at": [None, 2], "reason": ["too few leads", "value below cost"]}
                           ).astype({"cutoff": "Int64", "stop_at": "Int64", "configured": "Int64"})
    return stl.AttemptAnalysis(None, pd.DataFrame(), curve, cutoffs, 150, 0.95, 30)


def test_segment_view_shows_one_segments_curve_and_cutoff():
    a = _analysis()
    assert segment_options(a) == ["enterprise", "small_business"]
    table, text = segment_view(a, "small_business")
    assert table["Attempt"].tolist() == [1, 2] and table["Leads given it, not yet reached"].tolist() == [50, 40]
    assert table["Reached on it"].iloc[0].startswith("20.0% (")
    assert table["Value per attempt"].tolist()[1] == "$25 ($12-$50)"
    assert text == "Small business: stop after 1 attempts (value below cost); the SLA asks for 5."
    table, text = segment_view(a, "enterprise")
    assert table["Reached on it"].iloc[1] == ""  # nobody got a second attempt: no rate shown
    assert text == "Enterprise: no recommended cutoff (too few leads); the SLA asks for 12 attempts."
    with pytest.raises(stl.SpeedToLeadError, match="pick one of enterprise, small_business"):
        segment_view(a, "mid_market")


def test_daily_mode_has_no_segment_to_pick():
    skipped = stl.Skipped(stl.MONTHLY_ONLY)
    table, text = segment_view(skipped, "x")
    assert segment_options(skipped) == [] and table.empty and text == stl.MONTHLY_ONLY


def test_widgets_build_without_a_kernel():
    import matplotlib

    matplotlib.use("Agg")
    assert type(rep_widget(_violations(), _calls(), reps=REPS)).__name__ == "VBox"
    assert type(segment_widget(_analysis())).__name__ == "VBox"
    assert "monthly report" in segment_widget(stl.Skipped(stl.MONTHLY_ONLY)).data
