"""The sales SLA ("Do not be on it") and the call list: boundaries, planted breakers, an independent check."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from helpers.analyses.lead_value import sla
from helpers.core.config import ConfigError, load_config
from helpers.data.engine import open_source
from helpers.paths import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "data" / "sample"
CFG = load_config()
RULES = CFG.sla
AS_OF = "2026-03-10T12:00:00Z"
T0 = pd.Timestamp(AS_OF)


def iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_folder(folder: Path, leads: list[dict], acts: list[dict], deals: list[dict] | None = None,
                 events: list[dict] | None = None) -> Path:
    """A tiny CSV export with only the columns the SLA needs (the contract fills the optional ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = {"source": "organic_search", "lead_type": "net", "segment": "small_business", "first_offer": "ebook",
            "owner_rep_id": "R1"}
    pd.DataFrame([{**base, **lead} for lead in leads]).to_csv(folder / "leads.csv", index=False)
    rows = [{"activity_id": f"A{i}", "rep_id": "R1", "activity_type": "call", "outcome": "no_answer", **a}
            for i, a in enumerate(acts)]
    pd.DataFrame(rows, columns=["activity_id", "rep_id", "lead_id", "occurred_at", "activity_type", "outcome"]
                 ).to_csv(folder / "activities.csv", index=False)
    pd.DataFrame([{"rep_id": "R1", "name": "Ana", "role": "ae", "hire_date": "2025-01-01"}]).to_csv(
        folder / "reps.csv", index=False)
    if deals is not None:
        pd.DataFrame(deals, columns=["deal_id", "lead_id", "rep_id", "created_at", "status", "mrr"]).to_csv(
            folder / "deals.csv", index=False)
    if events is not None:
        pd.DataFrame(events, columns=["event_id", "lead_id", "occurred_at", "event_type"]).to_csv(
            folder / "lead_events.csv", index=False)
    return folder


def lead(lead_id: str, created: pd.Timestamp | str, **kw) -> dict:
    return {"lead_id": lead_id, "created_at": created if isinstance(created, str) else iso(created), **kw}


def act(lead_id: str, at: pd.Timestamp, **kw) -> dict:
    return {"lead_id": lead_id, "occurred_at": iso(at), **kw}


H, D, S = pd.Timedelta(hours=1), pd.Timedelta(days=1), pd.Timedelta(seconds=1)


RULES_GRACE = dataclasses.replace(RULES, free_trial_grace=True)  # the optional grace period (the generator's truth)


@pytest.fixture(scope="module")
def boundary_violations(boundary_source):
    return sla.sla_violations(boundary_source, as_of=AS_OF, rules=RULES)


@pytest.fixture(scope="module")
def boundary_source(tmp_path_factory):
    """Hand-built timelines at every boundary, evaluated at 2026-03-10 12:00:00 UTC."""
    trial, demo = {"first_offer": "free_trial"}, {"first_offer": "demo_request"}
    c_trial = T0 - 9 * D
    leads = [
        lead("A_touch_at_60min", T0 - 2 * H), lead("B_touch_at_60min_1s", T0 - 2 * H),
        lead("C_untouched_exactly_1h", T0 - H), lead("D_untouched_59min59s", T0 - H + S),
        lead("E_trial_third_call_at_7d", c_trial, **trial), lead("F_trial_third_call_after_7d", c_trial, **trial),
        lead("G_trial_exactly_7d_two_calls", T0 - 7 * D, **trial),
        lead("G2_trial_under_7d_two_calls", T0 - 7 * D + S, **trial),
        lead("H_demo_exactly_3d_one_touch", T0 - 3 * D, **demo), lead("I_demo_under_3d_one_touch", T0 - 3 * D + S, **demo),
        lead("J_demo_two_touches", T0 - 5 * D, **demo),
        lead("K_follow_idle_exactly_14d", T0 - 40 * D), lead("L_follow_idle_under_14d", T0 - 40 * D),
        lead("M_follow_five_attempts", T0 - 40 * D), lead("N_follow_replied", T0 - 40 * D),
        lead("O_offset_+02", "2026-03-10T12:30:00+02:00"),  # 10:30 UTC: 90 minutes old, untouched
        lead("P_unassigned_untouched", T0 - 5 * H, owner_rep_id=""),
        lead("Q_created_after_as_of", T0 + S),
    ]
    acts = [
        act("A_touch_at_60min", T0 - 2 * H + H),
        act("B_touch_at_60min_1s", T0 - 2 * H + H + S),
        *[act(name, c_trial + dt) for name in ("E_trial_third_call_at_7d", "F_trial_third_call_after_7d")
          for dt in (10 * pd.Timedelta(minutes=1), D)],
        act("E_trial_third_call_at_7d", c_trial + 7 * D), act("F_trial_third_call_after_7d", c_trial + 7 * D + S),
        *[act(name, created + dt) for name, created in (("G_trial_exactly_7d_two_calls", T0 - 7 * D),
                                                         ("G2_trial_under_7d_two_calls", T0 - 7 * D + S))
          for dt in (pd.Timedelta(minutes=5), D)],
        act("H_demo_exactly_3d_one_touch", T0 - 3 * D + 10 * pd.Timedelta(minutes=1), activity_type="email", outcome="sent"),
        act("I_demo_under_3d_one_touch", T0 - 3 * D + 10 * pd.Timedelta(minutes=1)),
        act("J_demo_two_touches", T0 - 5 * D + 10 * pd.Timedelta(minutes=1), activity_type="email", outcome="sent"),
        act("J_demo_two_touches", T0 - 4 * D, activity_type="meeting", outcome="no_show"),
        # follow-up: small business needs 5 attempts; K stops at 4 and has been idle exactly 14 days
        *[act("K_follow_idle_exactly_14d", T0 - 40 * D + 20 * pd.Timedelta(minutes=1) + i * D) for i in range(3)],
        act("K_follow_idle_exactly_14d", T0 - 14 * D),
        *[act("L_follow_idle_under_14d", T0 - 40 * D + 20 * pd.Timedelta(minutes=1) + i * D) for i in range(3)],
        act("L_follow_idle_under_14d", T0 - 14 * D + S),
        *[act("M_follow_five_attempts", T0 - 40 * D + 20 * pd.Timedelta(minutes=1) + i * D) for i in range(5)],
        *[act("N_follow_replied", T0 - 40 * D + 20 * pd.Timedelta(minutes=1) + i * D) for i in range(2)],
        act("N_follow_replied", T0 - 30 * D, activity_type="email", outcome="replied"),
        act("Q_created_after_as_of", T0 + 2 * S),
    ]
    folder = write_folder(tmp_path_factory.mktemp("sla_boundaries"), leads, acts)
    return open_source(CFG, data_dir=folder)


def ids(violations: pd.DataFrame, rule: str) -> set[str]:
    return set(violations.loc[violations["rule"] == rule, "lead_id"])


def test_first_touch_at_exactly_the_hour_is_on_time_and_an_untouched_lead_is_late_at_the_hour(boundary_violations):
    assert ids(boundary_violations, "first_touch") == {
        "B_touch_at_60min_1s", "C_untouched_exactly_1h", "O_offset_+02", "P_unassigned_untouched"}
    status = boundary_violations.set_index("lead_id")["status"]
    assert status["B_touch_at_60min_1s"] == "touched late" and status["C_untouched_exactly_1h"] == "never touched"


def test_time_zones_are_compared_in_utc(boundary_violations):
    row = boundary_violations.set_index("lead_id").loc["O_offset_+02"]
    assert row["created_at"] == pd.Timestamp("2026-03-10T10:30:00Z")
    assert row["age_days"] == pytest.approx(1.5 / 24)


def test_a_free_trial_is_listed_from_the_start_until_it_has_three_calls(boundary_violations):
    """The book's rule (the default, no grace period): every free trial with fewer than 3 calls by as_of."""
    assert not RULES.free_trial_grace
    assert ids(boundary_violations, "free_trial_calls") == {"G_trial_exactly_7d_two_calls", "G2_trial_under_7d_two_calls"}
    assert boundary_violations.set_index("lead_id").loc["G2_trial_under_7d_two_calls", "calls_in_window"] == 2


def test_with_the_optional_grace_the_third_trial_call_counts_up_to_exactly_seven_days(boundary_source):
    grace = sla.sla_violations(boundary_source, as_of=AS_OF, rules=RULES_GRACE)
    assert ids(grace, "free_trial_calls") == {"F_trial_third_call_after_7d", "G_trial_exactly_7d_two_calls"}
    assert grace.set_index("lead_id").loc["F_trial_third_call_after_7d", "calls_in_window"] == 2


def test_a_demo_request_exactly_three_days_old_touched_once_is_in_breach(boundary_violations):
    assert ids(boundary_violations, "demo_request_touches") == {"H_demo_exactly_3d_one_touch"}


def test_follow_up_counts_attempts_by_segment_and_idle_time_from_the_last_touch(boundary_violations):
    assert ids(boundary_violations, "follow_up_attempts") == {"K_follow_idle_exactly_14d"}
    row = boundary_violations.set_index("lead_id").loc["K_follow_idle_exactly_14d"]
    assert (row["attempts"], row["required"], row["idle_days"]) == (4, 5, 14)


def test_future_leads_and_activities_are_invisible(boundary_violations):
    assert "Q_created_after_as_of" not in set(boundary_violations["lead_id"])


def test_counts_per_rep_and_unassigned(boundary_violations):
    counts = sla.violation_counts(boundary_violations, reps=pd.DataFrame({"rep_id": ["R1"], "name": ["Ana"]}))
    total = counts.set_index("rep").loc["Total"]
    assert total["total"] == len(boundary_violations) == 8
    assert counts.set_index("rep").loc[sla.UNASSIGNED, "first_touch"] == 1
    assert counts.set_index("rep").loc["Ana", "total"] == 7


def test_late_first_touches_in_a_window(boundary_violations):
    window = sla.late_first_touches(boundary_violations, start="2026-03-10", end="2026-03-10")
    assert set(window["lead_id"]) == {"B_touch_at_60min_1s", "C_untouched_exactly_1h", "O_offset_+02",
                                      "P_unassigned_untouched"}
    assert sla.late_first_touches(boundary_violations, start="2026-03-11", end="2026-03-12").empty


def test_bad_as_of_names_the_problem(tmp_path):
    folder = write_folder(tmp_path / "x", [lead("A", T0 - H)], [])
    with pytest.raises(sla.SlaInputError, match="as_of"):
        sla.sla_violations(open_source(CFG, data_dir=folder), as_of="end of October", rules=RULES)


# ------------------------------------------------------------------ planted breakers in generated orgs
@pytest.fixture(scope="module")
def other_org(generated_org):
    return generated_org(seed=11, reps=16, months=6)  # shared, read only (conftest.py)


@pytest.mark.parametrize("which", ["sample", "seed11"])
def test_the_list_is_exactly_the_planted_breakers(which, other_org):
    folder = SAMPLE if which == "sample" else other_org
    truth = json.loads((folder / "ground_truth.json").read_text())["sla"]
    violations = sla.sla_violations(open_source(CFG, data_dir=folder), as_of=truth["as_of"], rules=RULES_GRACE)
    for rule in sla.RULES:
        assert ids(violations, rule) == set(truth["breakers"][rule]), rule
    # the book's rule (default) lists the same breakers plus the free trials still short of 3 calls
    book = sla.sla_violations(open_source(CFG, data_dir=folder), as_of=truth["as_of"], rules=RULES)
    young = book[(book["rule"] == "free_trial_calls") & ~book["lead_id"].isin(truth["breakers"]["free_trial_calls"])]
    assert (young["age_days"] < RULES.free_trial_after_days).all() and (young["calls_in_window"] < 3).all()
    for rule in ("first_touch", "demo_request_touches", "follow_up_attempts"):
        assert ids(book, rule) == set(truth["breakers"][rule]), rule
    never = violations[violations["status"] == "never touched"]
    assert set(never["lead_id"]) == set(truth["never_touched"])
    # sorted: rule order, then owner, newest lead first
    order = violations["rule"].map(sla.RULES.index)
    assert order.is_monotonic_increasing


def _brute_force(folder: Path, as_of: pd.Timestamp, rules=RULES) -> dict[str, set[str]]:
    """The rules re-implemented lead by lead in plain pandas, from the raw files (an independent reference)."""
    leads = pd.read_parquet(folder / "leads.parquet")
    acts = pd.read_parquet(folder / "activities.parquet")
    leads["created_at"] = pd.to_datetime(leads["created_at"], utc=True)
    acts["occurred_at"] = pd.to_datetime(acts["occurred_at"], utc=True)
    leads = leads[leads["created_at"] <= as_of]
    acts = acts[acts["occurred_at"] <= as_of]
    by_lead = dict(tuple(acts.groupby("lead_id")))
    out: dict[str, set[str]] = {r: set() for r in sla.RULES}
    empty = acts.iloc[:0]
    for row in leads.itertuples():
        a = by_lead.get(row.lead_id, empty)
        created = row.created_at
        if as_of >= created + pd.Timedelta(hours=RULES.first_touch_hours) and (
                a.empty or a["occurred_at"].min() > created + pd.Timedelta(hours=RULES.first_touch_hours)):
            out["first_touch"].add(row.lead_id)
        window = created + pd.Timedelta(days=RULES.free_trial_after_days) if rules.free_trial_grace else as_of
        if row.first_offer == "free_trial" and as_of >= window and (
                ((a["activity_type"] == "call") & (a["occurred_at"] <= window)).sum() < RULES.free_trial_min_calls):
            out["free_trial_calls"].add(row.lead_id)
        if (row.first_offer == "demo_request" and as_of >= created + pd.Timedelta(days=RULES.demo_request_age_days)
                and len(a) < RULES.demo_request_min_touches):
            out["demo_request_touches"].add(row.lead_id)
        if (len(a) and not a["outcome"].isin(["connected", "replied", "held"]).any()
                and a["activity_type"].isin(["call", "email"]).sum() < RULES.follow_up_attempts[row.segment]
                and as_of - a["occurred_at"].max() >= pd.Timedelta(days=RULES.follow_up_idle_days)):
            out["follow_up_attempts"].add(row.lead_id)
    return out


@pytest.mark.parametrize("grace", [False, True])
def test_as_of_a_past_date_matches_a_lead_by_lead_reimplementation(other_org, grace):
    """Mid-history, many leads are still in their windows: the engine's list equals plain pandas'."""
    as_of = pd.Timestamp("2026-08-14T09:30:00Z")
    rules = RULES_GRACE if grace else RULES
    violations = sla.sla_violations(open_source(CFG, data_dir=other_org), as_of=as_of, rules=rules)
    expected = _brute_force(other_org, as_of, rules)
    assert sum(map(len, expected.values())) > 50
    for rule in sla.RULES:
        assert ids(violations, rule) == expected[rule], rule


def test_top_violations_per_rep_shows_at_most_n_newest(other_org):
    violations = sla.sla_violations(open_source(CFG, data_dir=other_org), as_of="2026-10-31", rules=RULES)
    top = sla.top_violations_per_rep(violations, n=3)
    assert top.groupby("Rep").size().max() <= 3
    assert set(top["Rep"]) == set(violations["owner_rep_id"].fillna(sla.UNASSIGNED))
    first = top.groupby("Rep").head(1).set_index("Rep")["Created (UTC)"]
    newest = violations.groupby(violations["owner_rep_id"].fillna(sla.UNASSIGNED))["created_at"].max()
    assert all(first[r] == newest[r].strftime("%Y-%m-%d %H:%M") for r in first.index)
    assert "touched late" not in set(sla.top_violations_per_rep(violations, n=3, open_only=True)["What happened"])


def test_headline_counts_leads_and_untouched():
    empty = pd.DataFrame(columns=["lead_id", "status"])
    assert sla.sla_headline(empty, as_of="2026-10-31") == "No lead breaks the sales SLA as of 31 October 2026."
    rows = pd.DataFrame({"lead_id": ["a", "a", "b"], "status": ["never touched", "open", "open"]})
    assert sla.sla_headline(rows, as_of="2026-10-31").startswith(
        "2 leads break the sales SLA as of 31 October 2026, 1 of them still untouched")


# ------------------------------------------------------------------ the call list
def test_call_list_orders_by_recent_strong_interest_and_skips_leads_with_deals(tmp_path):
    leads = [lead("OLD_EBOOK", T0 - 20 * D), lead("NEW_DEMO", T0 - 2 * D), lead("HAS_DEAL", T0 - 2 * D),
             lead("QUIET", T0 - 1 * D), lead("TOO_OLD", T0 - 60 * D), lead("OTHER_REP", T0 - D, owner_rep_id="R2")]
    events = [
        {"event_id": "E1", "lead_id": "OLD_EBOOK", "occurred_at": iso(T0 - 20 * D), "event_type": "content_download"},
        *[{"event_id": f"E1{i}", "lead_id": "OLD_EBOOK", "occurred_at": iso(T0 - 19 * D), "event_type": "page_view"}
          for i in range(5)],
        {"event_id": "E2", "lead_id": "NEW_DEMO", "occurred_at": iso(T0 - D), "event_type": "demo_request"},
        {"event_id": "E3", "lead_id": "HAS_DEAL", "occurred_at": iso(T0 - D), "event_type": "demo_request"},
        {"event_id": "E4", "lead_id": "TOO_OLD", "occurred_at": iso(T0 - D), "event_type": "demo_request"},
        {"event_id": "E5", "lead_id": "NEW_DEMO", "occurred_at": iso(T0 + D), "event_type": "trial_start"},
    ]
    deals = [{"deal_id": "D1", "lead_id": "HAS_DEAL", "rep_id": "R1", "created_at": iso(T0 - D), "status": "open",
              "mrr": 100}]
    folder = write_folder(tmp_path / "calls", leads, [act("QUIET", T0 - D + H)], deals=deals, events=events)
    calls = sla.call_list(open_source(CFG, data_dir=folder), as_of=AS_OF, settings=sla.CallListSettings.from_config(CFG))
    r1 = calls[calls["owner_rep_id"] == "R1"]
    assert list(r1["lead_id"]) == ["NEW_DEMO", "OLD_EBOOK", "QUIET"]
    assert list(r1["rank"]) == [1, 2, 3]
    # score by hand: demo request 1 day ago = 10 x 0.5^(1/3); the future trial start is not seen
    assert r1.iloc[0]["score"] == pytest.approx(10 * 0.5 ** (1 / 3), abs=1e-6)
    old = 3 * 0.5 ** (20 / 3) + 5 * 1 * 0.5 ** (19 / 3)
    assert r1.iloc[1]["score"] == pytest.approx(old, abs=1e-6)  # scores are rounded to 6 decimals
    assert r1.iloc[2]["score"] == 0 and r1.iloc[2]["touches"] == 1
    assert list(calls.loc[calls["owner_rep_id"] == "R2", "rank"]) == [1]
    compact = sla.compact_call_list(calls, per_rep=2, reps=pd.DataFrame({"rep_id": ["R1"], "name": ["Ana"]}))
    assert list(compact.loc[compact["Rep"] == "Ana", "Lead"]) == ["NEW_DEMO", "OLD_EBOOK"]


def test_call_list_without_lead_events_is_newest_first(tmp_path):
    folder = write_folder(tmp_path / "noevents", [lead("A", T0 - 3 * D), lead("B", T0 - D)], [])
    calls = sla.call_list(open_source(CFG, data_dir=folder), as_of=AS_OF, settings=sla.CallListSettings.from_config(CFG))
    assert list(calls["lead_id"]) == ["B", "A"] and (calls["score"] == 0).all()


def test_engagement_weights_must_name_contract_event_types(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text("[sla.engagement_weights]\npage_view = -1\n")
    with pytest.raises(ConfigError, match="engagement_weights.page_view"):
        sla.CallListSettings.from_config(load_config(path))


# ------------------------------------------------------------------ as of a date and time (issue 19)
def test_a_dashboard_at_16_00_judges_leads_at_16_00_not_at_the_end_of_the_day(tmp_path):
    """Built at 16:00 UTC: a lead created at 15:40 is not yet late; a demo request 71 h old is not 3 days old;
    one exactly 72 h old touched once is; an untouched lead exactly 60 minutes old is late."""
    now = pd.Timestamp("2026-03-10T16:00:00Z")
    demo = {"first_offer": "demo_request"}
    leads = [lead("new_1540", now - pd.Timedelta(minutes=20)), lead("exactly_60min", now - H),
             lead("demo_71h", now - 71 * H, **demo), lead("demo_72h", now - 72 * H, **demo)]
    acts = [act("demo_71h", now - 70 * H), act("demo_72h", now - 71 * H)]
    source = open_source(CFG, data_dir=write_folder(tmp_path / "x", leads, acts))
    for as_of in ("2026-03-10T16:00:00Z", "2026-03-10T18:00:00+02:00", now, now.to_pydatetime()):
        got = sla.sla_violations(source, as_of=as_of, rules=RULES)
        assert ids(got, "first_touch") == {"exactly_60min"}, as_of
        assert ids(got, "demo_request_touches") == {"demo_72h"}, as_of
        assert got.set_index("lead_id").loc["demo_72h", "age_days"] == pytest.approx(3.0)
    # a bare date is the end of that day: then every one of them is late
    day = sla.sla_violations(source, as_of="2026-03-10", rules=RULES)
    assert ids(day, "first_touch") == {"new_1540", "exactly_60min"}
    assert ids(day, "demo_request_touches") == {"demo_71h", "demo_72h"}


def test_report_as_of_accepts_a_date_and_time_with_a_zone_and_daily_defaults_to_now():
    from datetime import date, datetime, timezone

    from helpers.reporting.context import (ReportParameterError, default_as_of_time, parse_as_of,
                                           parse_as_of_time)

    assert parse_as_of_time("2026-10-31T18:00:00+02:00") == datetime(2026, 10, 31, 16, tzinfo=timezone.utc)
    assert parse_as_of_time("2026-10-31T16:00:00Z") == datetime(2026, 10, 31, 16, tzinfo=timezone.utc)
    assert parse_as_of_time("2026-10-31T16:00") == datetime(2026, 10, 31, 16, tzinfo=timezone.utc)  # no zone: UTC
    assert parse_as_of_time("2026-10-31") == datetime(2026, 10, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    assert parse_as_of("2026-11-01T01:00:00+02:00") == date(2026, 10, 31)  # the UTC day of the instant
    assert parse_as_of("2026-10-31") == date(2026, 10, 31)
    with pytest.raises(ReportParameterError, match="ISO 8601"):
        parse_as_of_time("31/10/2026 16:00")
    now = datetime(2026, 12, 7, 16, 0, tzinfo=timezone.utc)
    assert default_as_of_time(date(2026, 12, 7), daily=True, now=now) == now  # today's dashboard: the run time
    assert default_as_of_time(date(2026, 12, 6), daily=True, now=now).hour == 23  # a past day: its end
    assert default_as_of_time(date(2026, 12, 7), daily=False, now=now).hour == 23  # a month's report: the day's end
    # the pipeline files a dashboard under the instant's UTC day and hands the instant itself to the notebooks
    from helpers.reporting.pipeline import _resolve_dates

    assert _resolve_dates(None, month=None, as_of="2026-10-31T18:00:00+02:00", daily=True) == ("2026-10", "2026-10-31")
