"""Organisations with other truths than the sample's (issue 19), and what the real analyses do on them.

The generator's switches (``generate_org(no_effects=..., hires=..., segment_cadence=..., old_weak_stage=...,
experiment_harm=...)``) plant other truths; the first tests check that each truth is really in the written
tables (recomputed with pandas, as in ``test_sample_truth``), the later ones run the analyses through their
public entry points (``start_report`` + ``analyse``) and assert what a sales leader would read. Each org is
generated once per session (``truth_org``); they are small (24-40 reps) so that each takes a few seconds.
The sample's own planted truths are covered by ``test_sample_truth`` and each analysis's tests.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.data.sample import SampleError, generate_org
from test_sample_support import STAGES, SampleData, funnel_counts, stage_rates, two_proportion_z

#: name -> generate_org arguments; generated lazily, once per session
ORGS: dict[str, dict] = {
    **{f"none{s}": dict(seed=s, reps=40, months=12, no_effects=True) for s in (31, 32, 33)},
    **{f"cadence{s}": dict(seed=s, reps=40, months=12, segment_cadence=True, weak_stages=False) for s in (41, 42, 43)},
    "hires18": dict(seed=51, reps=40, months=12, hires=18),
    "hires18_none": dict(seed=52, reps=40, months=12, hires=18, no_effects=True),
    "old_weak": dict(seed=61, reps=40, months=12, old_weak_stage=True),
    "harm": dict(seed=71, reps=40, months=12, experiment_harm=True),
}


@pytest.fixture(scope="session")
def truth_org(tmp_path_factory: pytest.TempPathFactory):
    """``truth_org(name)`` -> the folder of ``ORGS[name]``, generated on first use."""
    root = tmp_path_factory.mktemp("truth_orgs")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            generate_org(root / name, **ORGS[name])
            made[name] = root / name
        return made[name]

    return get


# --------------------------------------------------------------------------- the switches plant their truth
def test_no_effects_plants_nothing_anywhere(truth_org) -> None:
    org = SampleData(truth_org("none31"))
    t = org.truth
    assert t["generator"]["no_effects"] is True
    assert set(t["hiring"]["true_weights"].values()) == {0.0} and set(t["hiring"]["interviewer_bias"].values()) == {0.0}
    assert t["funnel"]["weak_stage_reps"] == {} and t["churn"]["pressure_sellers"] == []
    assert {m for rep in t["funnel"]["rep_stage_multipliers"].values() for m in rep.values()} == {1.0}
    assert set(t["churn"]["rep_churn_factor"].values()) == {1.0} and set(t["churn"]["consultant_factor"].values()) == {1.0}
    assert len(set(t["churn"]["segment_monthly_hazard"].values())) == 1
    assert all(e["true_effect"] == 0 and not e["real_effect"] for e in t["experiments"].values())
    rates = {o: v["true_customer_rate"] for o, v in t["leads"]["first_offer"].items()}
    assert max(rates.values()) - min(rates.values()) < 1e-3, rates
    # in the data: demo requests no longer convert better than ebooks, GPCT does not raise the close rate
    leads = org["leads"]
    won = set(org["deals"].query("status == 'won'")["lead_id"].dropna())
    old = leads[leads["created_at"] < org.as_of - pd.Timedelta(days=120)]
    by_offer = old.assign(won=old["lead_id"].isin(won)).groupby("first_offer")["won"].agg(["mean", "count"])
    demo, ebook = by_offer.loc["demo_request"], by_offer.loc["ebook"]
    se = np.sqrt(demo["mean"] * (1 - demo["mean"]) / demo["count"] + ebook["mean"] * (1 - ebook["mean"]) / ebook["count"])
    assert abs(demo["mean"] - ebook["mean"]) < 3.5 * se, by_offer
    assert abs(two_proportion_z(org["experiment_assignments"], "EXP-01")[1]) < 3.5


def test_hires_gives_scorecards_to_the_latest_hires_only(truth_org) -> None:
    org = SampleData(truth_org("hires18"))
    scored = set(org["hiring_scores"]["rep_id"].dropna())
    assert len(scored) == 18 == org.truth["hiring"]["n_hired"] and scored == set(org.truth["hiring"]["reps_with_scorecards"])
    aes = org["reps"].query("role == 'ae'").sort_values("hire_date", kind="stable")
    assert len(aes) == 40 and scored == set(aes["rep_id"].iloc[-18:])
    since = pd.Timestamp(org.truth["hiring"]["scorecards_since"])
    assert (pd.to_datetime(org["hiring_scores"]["interview_date"]) >= since).all()
    assert org["hiring_scores"]["candidate_id"].nunique() == org.truth["hiring"]["n_candidates"] > 18


def test_segment_cadence_connects_less_and_later_in_every_enterprise_rep(truth_org) -> None:
    org = SampleData(truth_org("cadence41"))
    cad = org.truth["funnel"]["segment_cadence"]
    assert cad["connect_multiplier"]["enterprise"] < cad["connect_multiplier"]["small_business"]
    assert org.truth["funnel"]["weak_stage_reps"] == {}
    rates = stage_rates(funnel_counts(org))["connected"]
    segment = org["reps"].set_index("rep_id")["segment"]
    by_seg = rates.groupby(segment.reindex(rates.index)).median()
    assert by_seg["enterprise"] < 0.65 * by_seg["small_business"], by_seg
    ent = rates[segment.reindex(rates.index) == "enterprise"]
    assert (ent < rates[segment.reindex(rates.index) == "small_business"].min()).mean() >= 0.8  # a segment, not a few reps
    # unanswered attempts are further apart in enterprise
    acts = org["activities"].query("activity_type != 'meeting'").merge(
        org["leads"][["lead_id", "segment", "first_offer"]], on="lead_id")
    acts = acts[~acts["first_offer"].isin(["free_trial", "demo_request"])].sort_values(["lead_id", "occurred_at"])
    gaps = acts.groupby("lead_id")["occurred_at"].diff().dt.total_seconds().groupby(acts["segment"]).median()
    assert gaps["enterprise"] > 2 * gaps["small_business"], gaps


def test_segment_cadence_keeps_the_planted_sla_breakers_exact(truth_org) -> None:
    """Longer spacing stays under the follow-up idle rule: the planted breakers are still the breakers."""
    from test_sample_support import sla_breakers

    org = SampleData(truth_org("cadence41"))
    found = sla_breakers(org)
    for rule, leads in org.truth["sla"]["breakers"].items():
        assert set(leads) <= found[rule], rule
        assert len(found[rule] - set(leads)) <= 0.01 * len(org["leads"]), rule


def test_old_weak_stage_is_weak_in_old_leads_only(truth_org) -> None:
    org = SampleData(truth_org("old_weak"))
    old = org.truth["funnel"]["old_weak_stage"]
    assert org.truth["funnel"]["weak_stage_reps"] == {} and len(old["reps"]) >= 4
    recent_from = pd.Timestamp(old["recent_from"] + "-01", tz="UTC")
    leads = org["leads"]
    ratios = []
    for part in (leads["created_at"] < recent_from, leads["created_at"] >= recent_from):
        ids = set(leads.loc[part, "lead_id"])

        class Part(SampleData):
            def __getitem__(self, table: str) -> pd.DataFrame:
                frame = org[table]
                return frame[frame["lead_id"].isin(ids)] if "lead_id" in frame else frame

        rates = stage_rates(funnel_counts(Part(org.folder)))
        team = rates.median()
        ratios.append({rep: rates.loc[rep, stage] / team[stage] for rep, stage in old["reps"].items()})
    old_ratio, recent_ratio = (np.median(list(r.values())) for r in ratios)
    assert old_ratio < 0.6 and recent_ratio > 0.8, ratios


def test_experiment_harm_plants_a_treatment_worse_than_control(truth_org) -> None:
    org = SampleData(truth_org("harm"))
    exp = org.truth["experiments"]["EXP-01"]
    assert exp["harm"] and exp["true_effect"] < 0 and exp["real_effect"]
    diff, z = two_proportion_z(org["experiment_assignments"], "EXP-01")
    assert diff < 0 and z < -2, (diff, z)


@pytest.mark.parametrize("kwargs, message", [
    ({"hires": 0}, "--hires 1 to 6"),
    ({"hires": 7}, "--hires 1 to 6"),
    ({"old_weak_stage": True, "months": 6}, "--months 9"),
    ({"no_effects": True, "experiment_harm": True}, "cannot be combined"),
])
def test_contradictory_switches_say_how_to_fix_them(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(SampleError, match=message):
        generate_org(tmp_path, **{"seed": 1, "reps": 6, "months": 9, **kwargs})


def test_command_line_switches_reach_the_generator(tmp_path: Path) -> None:
    from helpers.cli import main

    assert main(["sample", "--seed", "2", "--reps", "8", "--months", "9", "--out", str(tmp_path / "a"),
                 "--no-effects", "--hires", "5", "--segment-cadence"]) == 0
    gen = json.loads((tmp_path / "a" / "ground_truth.json").read_text())["generator"]
    assert gen["no_effects"] and gen["hires"] == 5 and gen["segment_cadence"]
    assert main(["sample", "--seed", "2", "--reps", "8", "--months", "9", "--out", str(tmp_path / "b"),
                 "--old-weak-stage", "--experiment-harm"]) == 0
    gen = json.loads((tmp_path / "b" / "ground_truth.json").read_text())["generator"]
    assert gen["old_weak_stage"] and gen["experiment_harm"] and "no_effects" not in gen
    assert main(["sample", "--reps", "8", "--months", "9", "--out", str(tmp_path / "c"), "--hires", "9"]) == 2
