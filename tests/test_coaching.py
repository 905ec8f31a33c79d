"""Notebook 03's helpers: conversion maths on hand-built tables, the weak-stage rule on generated
organisations with planted weak stages (and on organisations with none), and the report assembly."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from helpers.analyses.coaching.model import (
    CoachingError,
    CoachingSettings,
    WeakStageModel,
    _robust_tau2,
    anonymise,
    change_test,
    compute_stage_table,
    compute_submetrics,
    evidence_counts,
    fit_weak_stages,
    month_window,
    pooled_counts,
    progress,
    rep_month_submetrics,
    shrink_rates,
)
from helpers.core.config import DEFAULTS_FILE, ConfigError, load_config
from helpers.data.engine import open_source
from helpers.paths import SAMPLE_DATA_DIR
from helpers.data.reductions import last_complete_month, rep_month_funnel
from helpers.data.sample import generate_org

CONFIG = load_config(DEFAULTS_FILE)
SETTINGS = CoachingSettings.from_config(CONFIG)


# --------------------------------------------------------------------------- hand-built tables
def _funnel(rows: list[tuple[str, str, list[int]]], stages=("attempted", "connected", "demo", "won")) -> pd.DataFrame:
    """Long funnel table (as rep_month_funnel returns) from (rep, month, leads per stage)."""
    out = []
    for rep, month, counts in rows:
        for i, (stage, leads) in enumerate(zip(stages, counts), start=1):
            prev = counts[i - 2] if i > 1 else None
            out.append({"rep_id": rep, "month": month, "stage_order": i, "stage": stage, "stage_label": stage.title(),
                        "leads": leads, "previous_stage_leads": prev,
                        "conversion_rate": (leads / prev) if prev else np.nan})
    df = pd.DataFrame(out)
    df["previous_stage_leads"] = df["previous_stage_leads"].astype("Int64")
    return df


def test_stage_table_conversion_maths_by_hand() -> None:
    f = _funnel([("a", "2024-01", [100, 40, 10, 4]), ("a", "2024-02", [100, 60, 20, 2]),
                 ("b", "2024-01", [50, 10, 5, 1]), ("c", "2024-02", [80, 40, 8, 8])])
    t = compute_stage_table(f, months=["2024-01", "2024-02"]).set_index(["rep_id", "stage"])
    # rep a pooled: 200 worked, 100 connects, 30 demos, 6 wins
    assert t.loc[("a", "connected"), "leads"] == 100
    assert t.loc[("a", "connected"), "pct_of_previous"] == pytest.approx(50.0)
    assert t.loc[("a", "demo"), "pct_of_previous"] == pytest.approx(30.0)
    assert t.loc[("a", "won"), "pct_of_previous"] == pytest.approx(20.0)
    assert t.loc[("a", "won"), "pct_of_first"] == pytest.approx(3.0)
    assert np.isnan(t.loc[("a", "attempted"), "pct_of_previous"])
    # team median / quartiles over reps a (50%), b (20%), c (50%) at connected
    assert t.loc[("b", "connected"), "team_pct_of_previous_median"] == pytest.approx(50.0)
    assert t.loc[("b", "connected"), "team_pct_of_previous_q1"] == pytest.approx(35.0)  # numpy linear: 20..50
    # c: 8 wins of 8 demos -> 100%; one month only
    one = compute_stage_table(f, months=["2024-01"]).set_index(["rep_id", "stage"])
    assert "c" not in one.index.get_level_values(0)
    assert one.loc[("b", "won"), "pct_of_previous"] == pytest.approx(20.0)


def test_pooled_counts_cap_flow_ratios_above_one() -> None:
    f = _funnel([("a", "2024-01", [10, 5, 3, 6])])  # 6 wins from 3 demos (older demos converting)
    c = pooled_counts(f, ["2024-01"]).set_index("stage")
    assert c.loc["won", "k_raw"] == 6 and c.loc["won", "n"] == 3 and c.loc["won", "k"] == 3




def test_change_test_matches_statsmodels_two_proportion_z() -> None:
    """Outside reference: statsmodels' proportions_ztest (pooled) on 12/60 vs 24/60."""
    prog = pd.DataFrame({"month": ["2024-01", "2024-02"], "n": [60, 60], "k": [12, 24], "pct": [20.0, 40.0],
                         "team_median_pct": [30.0, 31.0]})
    out = change_test(prog)
    _, p = proportions_ztest([12, 24], [60, 60])
    assert out["p_value"] == pytest.approx(p, rel=1e-9)
    assert out["p_value"] == pytest.approx(0.0164, abs=1e-3)  # by hand: z = 0.2/sqrt(0.3*0.7*2/60) = 2.39
    assert out["team_change"] == pytest.approx(1.0)


def test_beta_binomial_shrinkage_by_hand() -> None:
    counts = pd.DataFrame({"rep_id": list("abcd"), "stage_order": 2, "stage": "demo",
                           "k": [10, 30, 50, 2], "n": [100, 100, 100, 4]})
    out = shrink_rates(counts).set_index("rep_id")
    m = 92 / 304
    rates = np.array([0.1, 0.3, 0.5, 0.5])
    s2 = np.var(rates, ddof=1) - np.mean(m * (1 - m) / np.array([100, 100, 100, 4]))
    strength = m * (1 - m) / s2 - 1
    assert out.loc["d", "prior_strength"] == pytest.approx(strength)
    assert out.loc["d", "shrunk_rate"] == pytest.approx((2 + strength * m) / (4 + strength))
    # the rep with 4 leads moves most of the way to the team; the reps with 100 barely move
    assert abs(out.loc["d", "shrunk_rate"] - m) < abs(0.5 - m) / 2
    assert abs(out.loc["c", "shrunk_rate"] - 0.5) < 0.05
    none = shrink_rates(counts, method="none")
    assert (none["shrunk_rate"] == none["rate"]).all()
    with pytest.raises(CoachingError, match="beta_binomial"):
        shrink_rates(counts, method="bayes")


def test_robust_tau2_recovers_known_spread_despite_outliers() -> None:
    rng = np.random.default_rng(0)
    s2 = np.full(4000, 0.01)
    d = rng.normal(0, np.sqrt(0.01 + 0.04), 4000)
    assert _robust_tau2(d, s2) == pytest.approx(0.04, rel=0.1)
    d[:200] = -3.0  # 5% real weaknesses inflate it only a little (a conservative bias: fewer flags)
    assert 0.04 < _robust_tau2(d, s2) < 0.05
    assert _robust_tau2(rng.normal(0, 0.1, 500), np.full(500, 0.01)) < 0.002  # pure noise: ~0


def _team(rng: np.random.Generator, reps: int, weak: dict[str, tuple[str, float]] | None = None,
          leads: int = 600, months: tuple[str, ...] = ("2024-01",)) -> pd.DataFrame:
    """A team whose reps have a general skill scaling every stage, and optional weak stages."""
    base = {"connected": 0.45, "discovery": 0.55, "demo": 0.5, "won": 0.35}
    rows = []
    for i in range(reps):  # a few dozen simulated reps
        rep = f"r{i:02d}"
        skill = np.exp(0.1 * rng.standard_normal())
        for month in months:
            counts = [leads]
            for stage, p in base.items():
                mult = skill * (weak[rep][1] if weak and rep in weak and weak[rep][0] == stage else 1.0)
                counts.append(int(rng.binomial(counts[-1], min(p * mult, 0.97))))
            rows.append((rep, month, counts))
    return _funnel(rows, stages=("attempted", "connected", "discovery", "demo", "won"))


def test_overall_skill_is_not_a_weak_stage() -> None:
    """A rep who is 30% worse at every stage is not flagged; a rep with one halved stage is."""
    rng = np.random.default_rng(3)
    f = _team(rng, 30, weak={"r00": ("demo", 0.5)})
    weak_all = f["rep_id"] == "r01"
    # r01: every stage at 0.7x (a generally weaker rep)
    for stage_order in range(2, 6):
        sel = weak_all & (f["stage_order"] == stage_order)
        prev = f.loc[weak_all & (f["stage_order"] == stage_order - 1), "leads"].to_numpy()
        f.loc[sel, "leads"] = (prev * 0.7 ** 1 * f.loc[sel, "leads"].to_numpy() / np.maximum(
            f.loc[sel, "previous_stage_leads"].astype(float).to_numpy(), 1)).astype(int)
        f.loc[sel, "previous_stage_leads"] = prev
    model = WeakStageModel().fit(f, months=["2024-01"])
    flags = model.flags_.set_index("rep_id")
    assert flags.loc["r00", "weak_stage"] == "demo"
    assert not flags.loc["r01", "flagged"]


def test_small_numbers_are_not_judged_or_flagged() -> None:
    """A rep with 6 demos and no win is not flagged: that stage is not judged (n < min_previous_stage)."""
    rng = np.random.default_rng(5)
    f = _team(rng, 25)
    small = _funnel([("tiny", "2024-01", [40, 18, 10, 6, 0])], stages=("attempted", "connected", "discovery", "demo",
                                                                        "won"))
    model = WeakStageModel(min_previous_stage=30).fit(pd.concat([f, small], ignore_index=True), months=["2024-01"])
    s = model.summary.set_index(["rep_id", "stage"])
    assert not s.loc[("tiny", "won"), "judged"] and not s.loc[("tiny", "won"), "flagged"]
    flags = model.flags_.set_index("rep_id")
    # only the connect stage (40 leads worked) is judged; one stage alone has nothing to be weak against
    assert not flags.loc["tiny", "flagged"] and flags.loc["tiny", "stages_judged"] == 1
    assert np.isnan(s.loc[("tiny", "connected"), "z"])


def test_false_positive_rate_on_simulated_null_teams() -> None:
    """Teams with no weak stage: the share of flagged reps stays at the designed 5% (binomial margin)."""
    rng = np.random.default_rng(11)
    flagged = total = 0
    for _ in range(8):  # eight simulated teams of 40 reps
        model = WeakStageModel(false_positive_rate=0.05).fit(_team(rng, 40, leads=400), months=["2024-01"])
        flagged += int(model.flags_["flagged"].sum())
        total += len(model.flags_)
    # expected <= 16 of 320; 28 or more would happen with probability < 0.5% if the rate were 5%
    assert flagged <= 27, f"{flagged} of {total} reps flagged on null teams"


def test_model_rejects_bad_input_with_a_fix() -> None:
    with pytest.raises(CoachingError, match="rep_month_funnel"):
        WeakStageModel().fit(pd.DataFrame({"rep_id": ["a"]}), months=["2024-01"])
    bad = _funnel([("a", "2024-01", [10, -1, 0, 0])])
    with pytest.raises(CoachingError, match="negative"):
        WeakStageModel().fit(bad, months=["2024-01"])
    with pytest.raises(CoachingError, match="probability"):
        WeakStageModel(false_positive_rate=2)


def test_progress_and_month_window() -> None:
    assert month_window("2024-02", 3) == ["2023-12", "2024-01", "2024-02"]
    f = _funnel([("a", "2024-01", [100, 40, 10, 4]), ("b", "2024-01", [100, 20, 10, 5]),
                 ("a", "2024-02", [100, 50, 10, 4])])
    p = progress(f, rep_id="a", stage="connected", months=["2023-12", "2024-01", "2024-02"]).set_index("month")
    assert p.loc["2023-12", "n"] == 0 and np.isnan(p.loc["2023-12", "pct"])
    assert p.loc["2024-01", "pct"] == pytest.approx(40.0)
    assert p.loc["2024-01", "team_median_pct"] == pytest.approx(30.0)
    assert p.loc["2024-02", "team_median_pct"] == pytest.approx(50.0)


def test_anonymise_keeps_only_the_rep() -> None:
    names = {"r1": "Ann", "r2": "Bob", "r3": "Cy"}
    out = anonymise(names, keep="r2", order=["r3", "r2", "r1"])
    assert out == {"r3": "Peer 1", "r2": "Bob", "r1": "Peer 2"}


def test_settings_errors_name_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "workbook.toml"
    cfg.write_text('[coaching]\nsub_metrics = ["connected:speed_of_light"]\n')
    with pytest.raises(ConfigError, match="coaching.sub_metrics"):
        CoachingSettings.from_config(load_config(cfg))
    cfg.write_text('[coaching]\nfalse_positive_rate = 0\n')
    with pytest.raises(ConfigError, match="coaching.false_positive_rate"):
        CoachingSettings.from_config(load_config(cfg))


# --------------------------------------------------------------------------- hand-built data folder
def _hand_folder(out: Path) -> Path:
    """Two reps, four leads, every sub-metric countable by hand."""
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"rep_id": ["A", "B"], "name": ["Ann", "Bo"], "role": ["ae", "ae"],
                  "hire_date": ["2023-01-01"] * 2}).to_csv(out / "reps.csv", index=False)
    pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"],
                  "created_at": ["2024-03-01T08:00:00Z", "2024-03-02T08:00:00Z", "2024-03-03T08:00:00Z",
                                 "2024-03-04T08:00:00Z"],
                  "source": "referral", "lead_type": "seed", "segment": ["enterprise", "small_business",
                                                                        "enterprise", "mid_market"],
                  "first_offer": "demo_request", "owner_rep_id": ["A", "A", "A", "B"]}).to_csv(out / "leads.csv",
                                                                                               index=False)
    acts = [  # id, rep, lead, time, type, outcome, kind
        ("1", "A", "L1", "2024-03-01T08:30:00Z", "call", "voicemail", ""),
        ("2", "A", "L1", "2024-03-01T14:00:00Z", "call", "connected", ""),
        ("3", "A", "L1", "2024-03-05T10:00:00Z", "meeting", "no_show", "discovery"),
        ("4", "A", "L1", "2024-03-06T10:00:00Z", "meeting", "held", "discovery"),
        ("5", "A", "L1", "2024-03-10T10:00:00Z", "meeting", "held", "demo"),
        ("6", "A", "L2", "2024-03-02T11:00:00Z", "email", "sent", ""),       # 3 h after creation
        ("7", "A", "L2", "2024-03-03T15:00:00Z", "call", "no_answer", ""),
        ("8", "A", "L3", "2024-03-03T08:20:00Z", "call", "voicemail", ""),
        ("9", "B", "L4", "2024-03-04T09:00:00Z", "call", "connected", ""),
        ("10", "B", "L4", "2024-04-02T09:00:00Z", "meeting", "held", "demo"),
    ]
    pd.DataFrame(acts, columns=["activity_id", "rep_id", "lead_id", "occurred_at", "activity_type", "outcome",
                                "meeting_kind"]).to_csv(out / "activities.csv", index=False)
    pd.DataFrame({"deal_id": ["D1", "D2", "D3"], "lead_id": ["L1", "L3", "L4"], "rep_id": ["A", "A", "B"],
                  "created_at": ["2024-03-10T10:00:00Z", "2024-03-11T10:00:00Z", "2024-04-02T09:00:00Z"],
                  "closed_at": ["2024-03-20T10:00:00Z", "2024-03-15T10:00:00Z", ""],
                  "status": ["won", "lost", "open"], "mrr": [500.0, 300.0, 900.0]}).to_csv(out / "deals.csv",
                                                                                         index=False)
    return out


def test_submetric_reduction_counts_by_hand(tmp_path: Path) -> None:
    src = open_source(data_dir=_hand_folder(tmp_path / "hand"))
    sm = rep_month_submetrics(src, sla_hours=1.0).set_index(["rep_id", "month"])
    a = sm.loc[("A", "2024-03")]
    assert (a["attempts"], a["leads_attempted"], a["calls"], a["voicemails"], a["calls_connected"]) == (5, 3, 4, 2, 1)
    assert a["morning_calls"] == 2  # 08:30 and 08:20 UTC
    assert (a["discovery_booked"], a["discovery_no_shows"], a["demo_booked"], a["demo_no_shows"]) == (2, 1, 1, 0)
    # leads: L1 first attempt after 0.5 h, L2 after 3 h, L3 after 1/3 h
    assert (a["leads_created"], a["leads_first_attempted"], a["first_attempts_within_sla"]) == (3, 3, 2)
    assert a["first_attempt_hours_sum"] == pytest.approx(0.5 + 3 + 20 / 60)
    # deals closed in March: D1 won (10 days, $500), D2 lost; both from enterprise leads
    assert (a["closed_deals"], a["won_deals"], a["closed_enterprise"]) == (2, 1, 2)
    assert a["won_mrr_sum"] == 500.0 and a["won_cycle_days_sum"] == pytest.approx(10.0)
    assert sm.loc[("B", "2024-04"), "demo_booked"] == 1
    metrics = compute_submetrics(sm.reset_index(), months=["2024-03"]).set_index(["rep_id", "sub_metric"])
    assert metrics.loc[("A", "voicemail_share"), "value"] == pytest.approx(50.0)
    assert metrics.loc[("A", "attempts_per_lead"), "value"] == pytest.approx(5 / 3)
    assert metrics.loc[("A", "deal_size"), "value"] == pytest.approx(500.0)
    # the funnel reduction on the same folder: A worked 3 leads, connected 1, 1 discovery, 1 demo, 1 win
    f = rep_month_funnel(src, CONFIG, shape="wide").set_index(["rep_id", "month"])
    assert f.loc[("A", "2024-03"), ["attempted", "connected", "discovery", "demo", "won"]].tolist() == [3, 1, 1, 1, 1]
    src.close()


# --------------------------------------------------------------------------- generated organisations
RECOVERY_ORGS = {"sample": None, "seed23": dict(seed=23, reps=40, months=12), "seed5": dict(seed=5, reps=40, months=8)}
NULL_ORGS = {"null17": dict(seed=17, reps=40, months=12), "null23": dict(seed=23, reps=40, months=12),
             "null7": dict(seed=7, reps=60, months=6), "null2": dict(seed=2, reps=24, months=12)}


@pytest.fixture(scope="session")
def coaching_orgs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("coaching_orgs")
    out = {"sample": SAMPLE_DATA_DIR}
    for name, kw in {**RECOVERY_ORGS, **NULL_ORGS}.items():
        if kw is not None:
            generate_org(root / name, weak_stages=not name.startswith("null"), **kw)
            out[name] = root / name
    return out


def _fit(path: Path) -> tuple[WeakStageModel, dict]:
    src = open_source(data_dir=path)
    truth = json.loads((path / "ground_truth.json").read_text())
    month = str(last_complete_month(src))[:7]
    counts = evidence_counts(src, CONFIG, SETTINGS, month=month)
    reps = src.read("reps", columns=["rep_id", "segment"])
    src.close()
    # the defaults: cohort counts (mature leads only), compared with what the other reps convert on the same mix
    assert (SETTINGS.peer_groups, SETTINGS.counts) == ("lead_mix", "cohort")
    model, sentence = fit_weak_stages(counts, months=month_window(month, SETTINGS.evidence_months),
                                      settings=SETTINGS, rep_segments=dict(zip(reps["rep_id"], reps["segment"])))
    assert "same segment and lead source" in sentence
    assert set(model.summary.loc[model.summary["judged"], "peer_group"]) == {"lead mix"}
    return model, truth


@pytest.mark.parametrize("org", sorted(RECOVERY_ORGS))
def test_every_planted_weak_stage_is_flagged_at_its_stage(coaching_orgs, org: str) -> None:
    model, truth = _fit(coaching_orgs[org])
    planted = truth["funnel"]["weak_stage_reps"]
    flags = model.flags_.set_index("rep_id")["weak_stage"]
    found = {r: flags.get(r) for r in planted}
    assert all(not isinstance(s, str) or s == planted[r] for r, s in found.items()), found  # never the wrong stage
    missed = [r for r, s in found.items() if s != planted[r]]
    # the simulation study finds about 95% of planted weak stages: the sample and the 12-month org lose none; the
    # 8-month org (a shorter history than the 12-month window, and only mature leads count: about 7 months of
    # customers) may lose two close stages with about 90 demos (z near -2, the bar is -2.24)
    assert len(missed) <= (2 if org == "seed5" else 0), missed
    false = {r: s for r, s in flags.dropna().items() if planted.get(r) != s}
    assert len(false) <= 2, false  # 5% of 40 reps is 2
    # the new hire (two months, ramping) has too little data to be flagged
    assert not isinstance(flags.get(truth["organisation"]["new_hire"]["rep_id"]), str)


def test_flags_stay_at_the_designed_false_positive_rate_without_planted_weaknesses(coaching_orgs) -> None:
    flagged = reps = 0
    for org in NULL_ORGS:  # four organisations with no weak stage planted
        model, truth = _fit(coaching_orgs[org])
        assert truth["funnel"]["weak_stage_reps"] == {}
        judged = model.flags_[model.flags_["stages_judged"] >= 2]
        flagged += int(judged["flagged"].sum())
        reps += len(judged)
    # designed: at most 5% of reps; with ~160 reps, 15 or more flags would have probability 1.5% at 5%
    assert flagged <= 14, f"{flagged} of {reps} reps flagged"


# --------------------------------------------------------------------------- report assembly
def _report(data_dir: Path, results: Path, month: str = ""):
    from helpers.reporting.context import start_report

    return start_report("03_funnel_coaching", month=month, as_of="", config_path=str(DEFAULTS_FILE),
                        data_dir=str(data_dir), results_path=str(results))


def test_analysis_records_results_and_private_view_hides_peers(tmp_path: Path) -> None:
    from helpers.analyses.coaching.report import analyse

    report = _report(SAMPLE_DATA_DIR, tmp_path / "team.json")
    team = analyse(report)
    assert "same segment and lead source" in team.comparison_text
    assert team.counting_text.startswith("Conversion counts each lead once its outcome is known")
    assert "Customers " in team.counting_text and " days" in team.counting_text
    team.record(report.results)
    report.record_inputs()
    saved = json.loads(report.save().read_text())
    planted = set(json.loads((SAMPLE_DATA_DIR / "ground_truth.json").read_text())["funnel"]["weak_stage_reps"])
    focus = {r["rep_id"] for r in saved["details"]["coaching_plan"] if r["focus_stage"]}
    # every planted weak rep, and at most 5% of the other reps (the sample: one, at connect, z = -2.5)
    assert planted <= focus and len(focus - planted) <= 2, focus - planted
    assert saved["key_figure"]["name"] == "reps_flagged" and saved["key_figure"]["value"] == len(focus)
    assert len(saved["findings"]) == len(focus) and all(f["severity"] == "action" for f in saved["findings"])
    conv = [f for f in saved["figures"] if f["name"].startswith("team_conversion_")]
    assert conv and all(f["ci_level"] == 0.95 and f["n"] > 0 for f in conv)
    # issue 23: the plan had 30 of 38 rows saying "No stage is weak ..."; those reps are one row, names kept
    plan = team.plan_table()
    assert len(plan) == len(focus) + 1 and plan.index[-1].startswith("The other ")
    assert (plan["Evidence"].str.startswith("No stage is weak")).sum() == 1
    steady_names = [team.name(r) for r in set(team.plan["rep_id"]) - focus]
    assert all(name in plan["Evidence"].iloc[-1] for name in steady_names)

    report = _report(SAMPLE_DATA_DIR, tmp_path / "private.json")
    private = analyse(report, rep_id="R00021")
    private.record(report.results)
    report.record_inputs()
    text = report.save().read_text()
    others = set(report.source.read("reps")["name"]) - {private.name("R00021")}
    assert not [n for n in others if n in text]
    assert not [n for n in others if n in private.heatmap_named().to_string() + private.leaderboards().to_string()]
    data = json.loads(text)
    assert {r["rep_id"] for r in data["details"]["stage_conversions"]} == {"R00021"}
    assert data["key_figure"]["value"] == "Customers"
    with pytest.raises(CoachingError, match="not in the reps table"):
        analyse(report, rep_id="nobody")


def test_missing_leads_table_is_a_caveat_not_a_crash(coaching_orgs, tmp_path: Path) -> None:
    from helpers.analyses.coaching.report import analyse

    data = tmp_path / "noleads"
    shutil.copytree(coaching_orgs["seed5"], data)
    for f in data.glob("leads.*"):
        f.unlink()
    for f in data.glob("lead_events.*"):
        f.unlink()
    report = _report(data, tmp_path / "r.json")
    analysis = analyse(report)
    assert any("leads table is absent" in n for n in analysis.notes)
    assert "the rep's own segment; the leads carry no segment or lead source" in analysis.comparison_text
    assert analysis.submetrics.query("sub_metric == 'first_attempt_within_sla'")["value"].isna().all()
    assert analysis.model.flags_["flagged"].sum() >= 6


@pytest.mark.slow  # a kernel on the sample data
def test_private_page_renders_without_peer_names(tmp_path: Path) -> None:
    """The rep-private leadership page (papermill + the report's HTML renderer) names only that rep."""
    from helpers.analyses.coaching.report import render_private_page

    html = render_private_page("R00021", month="2026-10", config_path=str(DEFAULTS_FILE),
                               data_dir=str(SAMPLE_DATA_DIR), out_dir=tmp_path)
    page = html.read_text(encoding="utf-8")
    reps = pd.read_parquet(SAMPLE_DATA_DIR / "reps.parquet")
    mine = reps.loc[reps["rep_id"] == "R00021", "name"].item()
    assert mine in page and "Peer 1" in page
    leaked = [n for n in reps.loc[reps["rep_id"] != "R00021", "name"] if n in page]
    assert not leaked
    assert set(re.findall(r"(?<![A-Za-z0-9+/])R\d{5}(?![A-Za-z0-9+/])", page)) <= {"R00021"}  # not in base64 images
    assert not (tmp_path / "03_funnel_coaching_R00021.ipynb").exists()
    assert json.loads((tmp_path / "03_funnel_coaching_R00021.json").read_text())["details"]["coaching_plan"][0][
        "rep_id"] == "R00021"
    with pytest.raises(CoachingError):
        render_private_page("../etc", out_dir=tmp_path)


def test_simulation_study_small_version_false_flags_and_recall() -> None:
    """A small version of benchmarks/coaching_simulation.py (the full study's figures are in
    docs/funnel-coaching.md): two seeds, null and planted orgs; the default (segment peers, 12 months)
    keeps false flags at or under 5% of reps and finds the planted weak stages, which the old default
    (whole team, 6 months) did less well."""
    import sys
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from coaching_simulation import VARIANTS, org_funnels, study

    with tempfile.TemporaryDirectory() as tmp:
        table = study(org_funnels(Path(tmp), seeds=(31, 41), sizes=(30,), months=14)).set_index("variant")
    default = table.loc[VARIANTS[-1][0]]
    assert default["null_reps"] >= 40 and default["planted"] >= 6
    no_weakness = (default["null_flagged"] + default["other_flagged"]) / (default["null_reps"] + default["other_reps"])
    assert no_weakness <= 0.05, table  # reps with no planted weak stage, in null and planted orgs
    assert default["recall"] >= 0.8, table
    assert default["recall"] >= table.loc[VARIANTS[0][0], "recall"]


@pytest.mark.slow  # generates four organisations with the generator's other truths
def test_simulation_on_other_truths_segment_cadences_and_old_weak_stages() -> None:
    """A small version of the study's other truths (issue 19; figures in docs/funnel-coaching.md): segments
    whose reps connect less and call further apart with nobody weak (flagged at most at the designed 5%, fewer
    than against the whole team), and weak stages planted only in leads older than the last 6 months (found
    with the default 12-month window of cohorts)."""
    import sys
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from coaching_simulation import VARIANTS, org_funnels, study

    with tempfile.TemporaryDirectory() as tmp:
        cadence = study(org_funnels(Path(tmp), seeds=(2, 7), sizes=(30,), months=14,
                                    kinds=(("null_cadence", {"segment_cadence": True}),))).set_index("variant")
        old = study(org_funnels(Path(tmp), seeds=(2, 7), sizes=(30,), months=14,
                                kinds=(("planted_oldweak", {"old_weak_stage": True}),))).set_index("variant")
    default, team = cadence.loc[VARIANTS[-1][0]], cadence.loc["cohorts, whole team, 12 months"]
    found, six_months = old.loc[VARIANTS[-1][0]], old.loc[VARIANTS[0][0]]
    print(cadence.to_string(), old.to_string(), sep="\n")
    # reps without a planted weakness in both kinds of org (about 100): at most the designed 5% flagged
    assert default["null_reps"] >= 50 and found["other_reps"] >= 40
    unweak = (default["null_flagged"] + found["other_flagged"]) / (default["null_reps"] + found["other_reps"])
    assert unweak <= 0.05, (cadence, old)
    assert team["null_flagged"] > default["null_flagged"], cadence  # the whole team reads the segment as weakness
    # the full study finds 61% of stages weak only in old leads (0.4x in 8 of 14 months) with the default, 1%
    # with the old default's last 6 months of flows
    assert found["planted"] >= 10 and found["recall"] >= 0.4, old
    assert found["recall"] >= six_months["recall"] + 0.3, old


def _simulated_funnel(seed: int, *, reps: int = 30, months: int = 12, enterprise: int = 10,
                      enterprise_connect: float = 0.22, weak: dict[str, tuple[str, int]] | None = None):
    """Monthly funnel counts for a team whose enterprise reps connect less (a longer cadence) and otherwise
    work like everyone else; ``weak`` = {rep: (stage, months)} halves that stage in the rep's oldest months."""
    rng = np.random.default_rng(seed)
    rows, segments = [], {}
    month_names = [str(pd.Period("2025-11", freq="M") + i) for i in range(months)]
    for r in range(reps):
        rep = f"r{r:02d}"
        seg = "enterprise" if r < enterprise else "small_business"
        segments[rep] = seg
        skill = np.exp(rng.normal(0, 0.08))
        p = {"connected": (enterprise_connect if seg == "enterprise" else 0.40) * skill, "demo": 0.45 * skill,
             "won": 0.30 * skill}
        for i, month in enumerate(month_names):
            counts = [int(rng.poisson(160 if seg != "enterprise" else 110))]
            for stage in ("connected", "demo", "won"):
                rate = p[stage]
                if weak and rep in weak and weak[rep][0] == stage and i < weak[rep][1]:
                    rate *= 0.5
                counts.append(int(rng.binomial(counts[-1], min(rate, 0.95))))
            rows.append((rep, month, counts))
    return _funnel(rows, stages=("attempted", "connected", "demo", "won")), segments, month_names


def test_segments_with_different_cadences_are_not_personal_weaknesses() -> None:
    """Another truth than the sample: enterprise reps connect at 22% against 40% for the rest, nobody is weak.
    Against segment peers (the default) at most 5% of reps are flagged (here 2 of 120); the whole-team
    comparison flags more (5), even with the per-stage tau^2 absorbing part of the segment gap."""
    flagged_team = flagged_peers = judged = 0
    for seed in range(4):
        funnel, segments, months = _simulated_funnel(seed)
        team = WeakStageModel().fit(funnel, months=months)
        peers = WeakStageModel().fit(funnel, months=months, peer_groups=segments)
        flagged_team += int(team.flags_["flagged"].sum())
        flagged_peers += int(peers.flags_["flagged"].sum())
        judged += int((peers.flags_["stages_judged"] >= 2).sum())
    assert judged == 120
    assert flagged_peers <= 0.05 * judged, flagged_peers
    assert flagged_team > flagged_peers  # the whole-team comparison reads part of the segment as a weakness


def test_a_strong_weak_stage_in_older_leads_is_found_with_the_default_window() -> None:
    """A rep whose demo stage was halved for the first 7 of 12 months (the recent months normal): the default
    12-month window flags it at demo; the last 6 months alone do not show it."""
    funnel, segments, months = _simulated_funnel(3, weak={"r15": ("demo", 7)})
    assert SETTINGS.evidence_months == 12
    full = WeakStageModel.from_settings(SETTINGS).fit(funnel, months=months, peer_groups=segments)
    recent = WeakStageModel.from_settings(SETTINGS).fit(funnel, months=months[-6:], peer_groups=segments)
    assert full.flags_.set_index("rep_id").loc["r15", "weak_stage"] == "demo"
    assert recent.flags_.set_index("rep_id").loc["r15", "weak_stage"] != "demo"
