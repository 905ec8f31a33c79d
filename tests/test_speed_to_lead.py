"""Speed to lead and optimal attempts: planted hazards and speed effects recovered, intervals pinned."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.analyses.lead_value import speed_to_lead as stl
from helpers.core.config import load_config
from helpers.data.engine import open_source

CFG = load_config()
SETTINGS = stl.AttemptSettings.from_config(CFG)
AS_OF = pd.Timestamp("2026-06-30T23:59:59Z")




def test_bucket_labels():
    assert stl.bucket_labels([5, 30, 60, 240]) == ["within 5 min", "5 min to 30 min", "30 min to 1 h", "1 h to 4 h",
                                                  "over 4 h", "never touched"]


def _write(folder: Path, leads: pd.DataFrame, acts: pd.DataFrame, deals: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    leads.assign(source="organic_search", lead_type="net", owner_rep_id="R1").to_csv(folder / "leads.csv", index=False)
    acts.assign(activity_id=[f"A{i}" for i in range(len(acts))], rep_id="R1").to_csv(folder / "activities.csv",
                                                                                     index=False)
    deals.assign(deal_id=[f"D{i}" for i in range(len(deals))], rep_id="R1").to_csv(folder / "deals.csv", index=False)
    return folder


def _ts(values) -> list[str]:
    return [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in pd.to_datetime(values, utc=True)]


HAZARD = np.array([0.30, 0.30, 0.30, 0.10, 0.10, 0.10, 0.0, 0.0, 0.0])


@pytest.fixture(scope="module")
def planted_attempts(tmp_path_factory):
    """4,000 small-business leads: connect hazard 30% on attempts 1-3, 10% on 4-6, none after; 9 attempts max."""
    rng = np.random.default_rng(2024)
    n = 4000
    created = AS_OF - pd.Timedelta(days=200) + pd.to_timedelta(rng.uniform(0, 50, n), unit="D")
    draws = rng.random((n, len(HAZARD))) < HAZARD
    reached = np.where(draws.any(axis=1), draws.argmax(axis=1) + 1, 0)
    made = np.where(reached > 0, reached, len(HAZARD))
    lead_of = np.repeat(np.arange(n), made)
    k = np.concatenate([np.arange(1, m + 1) for m in made])
    at = created[lead_of] + pd.to_timedelta(10 + (k - 1) * 2 * 1440, unit="min")
    outcome = np.where(k == reached[lead_of], "connected", "no_answer")
    won = (reached > 0) & (rng.random(n) < np.where(reached <= 3, 0.2, 0.1))
    ids = np.array([f"L{i:05d}" for i in range(n)])
    leads = pd.DataFrame({"lead_id": ids, "created_at": _ts(created), "segment": "small_business",
                          "first_offer": "ebook"})
    acts = pd.DataFrame({"lead_id": ids[lead_of], "occurred_at": _ts(at), "activity_type": "call", "outcome": outcome})
    deals = pd.DataFrame({"lead_id": ids[won], "created_at": _ts(created[won] + pd.Timedelta(days=20)),
                          "closed_at": _ts(created[won] + pd.Timedelta(days=40)), "status": "won", "mrr": 100.0})
    folder = _write(tmp_path_factory.mktemp("planted_attempts"), leads, acts, deals)
    counts = stl.attempt_counts(open_source(CFG, data_dir=folder), as_of=AS_OF, settings=SETTINGS)
    return counts, reached, won


def test_connect_rate_by_attempt_recovers_the_planted_hazard(planted_attempts):
    counts, reached, won = planted_attempts
    # nine intervals at once: Bonferroni level so that all cover their truth with 95% probability
    curve = stl.attempt_curve(counts, settings=SETTINGS, level=1 - 0.05 / len(HAZARD))
    assert set(curve["segment"]) == {"small_business"}
    assert (curve.loc[curve["attempt"] == 4, "at_risk"] == ((reached == 0) | (reached >= 4)).sum()).all()
    for k, truth in enumerate(HAZARD, start=1):
        row = curve.loc[curve["attempt"] == k].iloc[0]
        assert row["connects"] == (reached == k).sum()
        assert row["connect_ci_low"] <= truth <= row["connect_ci_high"], (k, row["connect_rate"])
        assert row["wins"] == (won & (reached == k)).sum()
    assert curve.loc[curve["attempt"] > len(HAZARD), "at_risk"].sum() == 0
    assert curve["customer_value"].iloc[0] == pytest.approx(100 * SETTINGS.customer_value_months)


def test_recommended_cutoff_is_where_the_planted_hazard_ends(planted_attempts):
    counts, _, _ = planted_attempts
    curve = stl.attempt_curve(counts, settings=SETTINGS)
    cut = stl.recommended_cutoffs(curve, settings=SETTINGS).set_index("segment").loc["small_business"]
    assert (cut["cutoff"], cut["stop_at"], cut["configured"]) == (6, 7, 5)
    # an attempt costing more than any attempt is worth: never "make 0 attempts" (a degenerate number),
    # no cutoff, and the reason says the first attempt itself looks not worth making
    pricey = replace(SETTINGS, attempt_cost=1e6)
    first = stl.recommended_cutoffs(curve, settings=pricey).iloc[0]
    assert pd.isna(first["cutoff"]) and "even the first attempt looks not worth making" in first["reason"]


def test_too_few_leads_give_no_recommendation(planted_attempts):
    counts, _, _ = planted_attempts
    curve = stl.attempt_curve(counts, settings=SETTINGS)
    few = stl.recommended_cutoffs(curve, settings=SETTINGS, min_n=10**6).iloc[0]
    assert pd.isna(few["cutoff"]) and "too few to judge" in few["reason"]


@pytest.fixture(scope="module")
def planted_speed(tmp_path_factory):
    """Leads touched within 5 minutes win at twice the rate of leads touched at 45 minutes, within each offer."""
    rng = np.random.default_rng(7)
    n = 6000
    created = AS_OF - pd.Timedelta(days=150) + pd.to_timedelta(rng.uniform(0, 30, n), unit="D")
    slow = rng.random(n) < 0.5
    demo = rng.random(n) < np.where(slow, 0.2, 0.5)  # the fast bucket holds more demo requests: a confounder
    p = np.where(demo, 0.30, 0.10) * np.where(slow, 0.5, 1.0)
    won = rng.random(n) < p
    ids = np.array([f"S{i:05d}" for i in range(n)])
    delay = np.where(slow, 45, 2)
    leads = pd.DataFrame({"lead_id": ids, "created_at": _ts(created), "segment": "mid_market",
                          "first_offer": np.where(demo, "demo_request", "ebook")})
    acts = pd.DataFrame({"lead_id": ids, "occurred_at": _ts(created + pd.to_timedelta(delay, unit="min")),
                         "activity_type": "call", "outcome": "connected"})
    deals = pd.DataFrame({"lead_id": ids[won], "created_at": _ts(created[won] + pd.Timedelta(days=10)),
                          "closed_at": _ts(created[won] + pd.Timedelta(days=30)), "status": "won", "mrr": 500.0})
    folder = _write(tmp_path_factory.mktemp("planted_speed"), leads, acts, deals)
    counts = stl.attempt_counts(open_source(CFG, data_dir=folder), as_of=AS_OF, settings=SETTINGS)
    return counts, slow, demo, won


def test_speed_to_lead_recovers_the_planted_effect_adjusted_for_offer(planted_speed):
    counts, slow, demo, won = planted_speed
    table = stl.speed_to_lead(counts, buckets_minutes=SETTINGS.buckets_minutes).set_index("bucket")
    fast, late = table.loc["within 5 min"], table.loc["30 min to 1 h"]
    assert (fast["leads"], fast["won"]) == ((~slow).sum(), (won & ~slow).sum())
    assert late["won"] == (won & slow).sum()
    # true odds ratios within offer: (0.15/0.85)/(0.3/0.7) = 0.41 for demo requests, (0.05/0.95)/(0.1/0.9) = 0.47
    assert late["or_ci_low"] < 0.44 < late["or_ci_high"] < 1
    raw_or = (late["win_rate"] / (1 - late["win_rate"])) / (fast["win_rate"] / (1 - fast["win_rate"]))
    assert raw_or < late["odds_ratio"]  # the raw comparison exaggerates: slow leads hold fewer demo requests
    assert table.loc["never touched", "leads"] == 0 and table.loc["never touched", "small_sample"]


@pytest.fixture(scope="module")
def generated(generated_org):
    return generated_org(seed=11, reps=16, months=6)  # shared, read only (conftest.py)


@pytest.mark.parametrize("which", ["sample", "seed11"])
def test_generated_orgs_nobody_is_reached_after_the_planted_persistence(which, generated):
    """The generator reaches connected leads within the segment's SLA attempts, never later."""
    folder = Path(__file__).resolve().parents[1] / "data" / "sample" if which == "sample" else generated
    truth = json.loads((folder / "ground_truth.json").read_text())
    source = open_source(CFG, data_dir=folder)
    counts = stl.attempt_counts(source, as_of=truth["generator"]["as_of"], settings=SETTINGS)
    curve = stl.attempt_curve(counts, settings=SETTINGS)
    cutoffs = stl.recommended_cutoffs(curve, settings=SETTINGS).set_index("segment")
    for segment, configured in CFG.sla.follow_up_attempts.items():
        seg = curve[curve["segment"] == segment]
        assert seg.loc[seg["attempt"] > configured, "connects"].sum() == 0
        assert seg.loc[seg["attempt"] == 1, "connect_rate"].iloc[0] > 0.1
        cut = cutoffs.loc[segment, "cutoff"]
        assert pd.isna(cut) or cut <= configured
    # no speed effect is planted: the big buckets' offer-adjusted odds ratios include 1
    speed = stl.speed_to_lead(counts, buckets_minutes=SETTINGS.buckets_minutes).set_index("bucket")
    assert speed.loc["5 min to 30 min", "or_ci_low"] < 1 < speed.loc["5 min to 30 min", "or_ci_high"]


def test_daily_mode_skips_the_monthly_analyses():
    report = SimpleNamespace(daily=True)
    skipped = stl.attempt_analysis(report)
    assert skipped == stl.Skipped(stl.MONTHLY_ONLY)
    assert skipped.speed_text() == stl.MONTHLY_ONLY and skipped.cutoff_table() is None
    recorder = SimpleNamespace(warned=[], warn=lambda text: recorder.warned.append(text))
    skipped.record(recorder)
    assert recorder.warned == []  # daily mode is not a caveat; too little history is
    stl.Skipped("no mature lead", caveat=True).record(recorder)
    assert recorder.warned == ["no mature lead"]


def test_bad_buckets_are_a_config_error(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text("[sla]\nspeed_buckets_minutes = [30, 5]\n")
    with pytest.raises(Exception, match="speed_buckets_minutes"):
        stl.AttemptSettings.from_config(load_config(path))
