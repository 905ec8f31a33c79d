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
    ({"no_effects": True, "revenue_roles": True}, "cannot be combined"),
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


# --------------------------------------------------------------------------- the real analyses on those orgs
NOTEBOOKS = {"hiring": "01_trait_discovery", "training": "02_training_score_correlation",
             "coaching": "03_funnel_coaching", "churn": "04_compensation_churn_quartiles",
             "experiments": "06_experiments"}


@pytest.fixture(scope="session")
def analysed(truth_org, tmp_path_factory: pytest.TempPathFactory):
    """``analysed(kind, org, config="")`` -> (analysis, recorded Results): the report's public entry point
    (``start_report`` + ``analyse`` + ``record``) on a generated org, with the default configuration; run
    once per session."""
    import importlib

    from helpers.reporting.context import start_report

    root = tmp_path_factory.mktemp("truth_results")
    done: dict[tuple[str, str, str], tuple] = {}

    def run(kind: str, org: str, config: str = "") -> tuple:
        key = (kind, org, config)
        if key not in done:
            package = {"hiring": "hiring", "training": "training", "coaching": "coaching", "churn": "compensation",
                       "experiments": "experiments"}[kind]
            analyse = importlib.import_module(f"helpers.analyses.{package}.report").analyse
            report = start_report(NOTEBOOKS[kind], data_dir=str(truth_org(org)), config_path=config,
                                  results_path=str(root / f"{kind}_{org}_{len(done)}.json"))
            analysis = analyse(report)
            analysis.record(report.results)
            done[key] = (analysis, report.results.results)
        return done[key]

    return run


def _coaching_flags(results) -> dict[str, str]:
    """rep -> stage the page tells a manager to coach (the coaching plan's focus stages)."""
    return {row["rep_id"]: row["focus_stage"] for row in results.details["coaching_plan"] if row["focus_stage"]}


@pytest.mark.slow
@pytest.mark.parametrize("family", ["none", "cadence"])
def test_coaching_flags_at_most_5_percent_of_reps_without_a_weakness(analysed, truth_org, family: str) -> None:
    """No planted weakness: ``none`` = no effect anywhere (identical reps); ``cadence`` = enterprise leads
    connect at half the rate with 2.5x the call spacing, mid-market 0.8x and 1.5x, for every rep of the
    segment. Every flag is false. The design promises at most 5% of reps flagged; one org of 40 reps cannot
    show that (5% is 2 reps), so three seeds are pooled: 120 reps, at most 6 flags (5%). The seeds are fixed,
    so the test is deterministic; at the 3.1% rate measured in docs/funnel-coaching.md about 8% of seed
    triples would exceed 6. Measured: none 0 of 120, cadence 5 of 120 (4 before the cohort/lead-mix rework;
    none at connect in enterprise, the issue's failure: 7 of its 9 false flags)."""
    flagged: dict[str, str] = {}
    reps = 0
    segment: dict[str, str] = {}
    for org in [name for name in ORGS if name.startswith(family) and name[len(family):].isdigit()]:
        _, results = analysed("coaching", org)
        truth = SampleData(truth_org(org)).truth
        assert truth["funnel"]["weak_stage_reps"] == {} and "old_weak_stage" not in truth["funnel"]
        flagged.update(_coaching_flags(results))
        reps += len(results.details["coaching_plan"])
        segment.update(SampleData(truth_org(org))["reps"].set_index("rep_id")["segment"].to_dict())
    assert reps == 120
    assert len(flagged) <= 0.05 * reps, flagged
    enterprise_connect = [r for r, s in flagged.items() if s == "connected" and segment[r] == "enterprise"]
    assert len(enterprise_connect) <= 1, enterprise_connect


@pytest.mark.slow
def test_a_whole_team_comparison_would_read_the_segment_cadence_as_weakness(analysed, tmp_path_factory) -> None:
    """The cadence org is a real test: compared with the whole team (``[coaching] peer_groups = "none"``), its
    enterprise reps are flagged at connect (measured: 3 on cadence41), which the default comparison avoids."""
    config = tmp_path_factory.mktemp("whole_team") / "whole_team.toml"
    config.write_text('[coaching]\npeer_groups = "none"\n', encoding="utf-8")
    whole = _coaching_flags(analysed("coaching", "cadence41", str(config))[1])
    default = _coaching_flags(analysed("coaching", "cadence41")[1])
    assert sum(s == "connected" for s in whole.values()) >= 2, whole
    assert len(whole) > len(default), (whole, default)


def _clearly_weak_over_the_window(org: SampleData, z_limit: float = -3.5) -> dict[str, tuple[str, float, float]]:
    """Old-weak reps whose stage is clearly low over the whole 12 months (the evidence window), by an
    independent measure built like the model's question ("below what the rep's other stages predict"):
    g = log(rep's conversion into a stage / the rest of the team's); the weak stage's g minus the mean g of
    the rep's other stages, over its standard error (binomial errors plus the planted rep-to-rep stage
    spread STAGE_NOISE_SD, in quadrature). Returns rep -> (stage, ratio to own level, z) for z <= z_limit."""
    from helpers.data.sample_truth import STAGE_NOISE_SD

    counts = funnel_counts(org)
    order = ["attempted", *STAGES]
    out = {}
    for rep, stage in org.truth["funnel"]["old_weak_stage"]["reps"].items():
        g, var = {}, {}
        for s in STAGES:
            prev = order[order.index(s) - 1]
            k, n = float(counts.loc[rep, s]), float(counts.loc[rep, prev])
            rest_k, rest_n = counts[s].sum() - k, counts[prev].sum() - n
            g[s] = np.log((k / n) / (rest_k / rest_n))
            var[s] = 1 / k - 1 / n + 1 / rest_k - 1 / rest_n + STAGE_NOISE_SD ** 2
        others = [s for s in STAGES if s != stage]
        gap = g[stage] - np.mean([g[s] for s in others])
        z = float(gap / np.sqrt(var[stage] + sum(var[s] for s in others) / len(others) ** 2))
        if z <= z_limit:
            out[rep] = (stage, round(float(np.exp(gap)), 2), round(z, 1))
    return out


@pytest.mark.slow
def test_a_strong_weak_stage_in_old_leads_is_found_with_the_full_evidence_window(analysed, truth_org,
                                                                               tmp_path_factory) -> None:
    """``old_weak_stage``: 8 reps' weak stage (0.3x) holds only in leads older than the last 6 months. The
    default 12-month evidence window holds those months, so each rep whose stage is clearly low over the
    window is flagged at that stage, and no old-weak rep is flagged at another stage. Clearly: z <= -3.5
    below the rep's own level by an independent measure (the model flags at 5% per rep over up to 4 stages,
    about z = -2.5; one more standard error of margin for its estimate of the reps' spread). Measured: R00021
    and R00028 at discovery (0.63x and 0.67x their own level, z -4.3 and -3.8) and R00034 at connect (0.63x,
    z -4.2); the other five are diluted below that (z -2.0 to -3.2: won stages with ~30 wins, reps whose
    other stages are also low) and not required, though the model finds three of them (R00030, R00033,
    R00050; 6 of 8 in all, none at a wrong stage). With only the last 6 months (``evidence_months = 6``)
    the three clear ones are not found."""
    org = SampleData(truth_org("old_weak"))
    clear = _clearly_weak_over_the_window(org)
    assert len(clear) >= 3, clear  # the plant is strong enough to be a real test
    flags = _coaching_flags(analysed("coaching", "old_weak")[1])
    planted = org.truth["funnel"]["old_weak_stage"]["reps"]
    wrong = {r: s for r, s in flags.items() if r in planted and s != planted[r]}
    assert wrong == {}, wrong
    missed = {r: v for r, v in clear.items() if flags.get(r) != v[0]}
    assert missed == {}, (missed, flags)
    config = tmp_path_factory.mktemp("six_months") / "six_months.toml"
    config.write_text("[coaching]\nevidence_months = 6\n", encoding="utf-8")
    recent = _coaching_flags(analysed("coaching", "old_weak", str(config))[1])
    assert sum(recent.get(r) == v[0] for r, v in clear.items()) <= 1, recent


HIRING_ORGS = ["hires18", "hires18_none", "none31", "harm"]


@pytest.mark.slow
@pytest.mark.parametrize("org", ["hires18", "hires18_none"])
def test_no_trait_is_named_with_15_to_20_hires(analysed, org: str) -> None:
    """18 of 40 reps have scorecards (17 judged: the newest hire has no outcome yet), with the sample's
    truths (hires18) or none (hires18_none): below the power-derived hires (about 31 for six traits) no
    trait is a finding, whatever its p-value; the page says how many hires the data would need."""
    analysis, results = analysed("hiring", org)
    model = analysis.model
    assert 15 <= model.n_ <= 20 and model.underpowered_ and model.hires_needed_ > model.n_
    assert (model.summary["verdict"] == "too few hires to tell").all(), model.summary["verdict"]
    assert not model.summary["significant"].any()
    traits = [t.replace("_", " ") for t in model.summary.index]
    assert "to name any trait" in results.headline and not any(t in results.headline.lower() for t in traits)
    assert not any(f.severity == "good" for f in results.findings), results.findings
    assert results.key_figure.name == "hires_judged" and results.key_figure.value == model.n_
    assert any(f"{model.hires_needed_} hires" in f.text for f in results.findings)


@pytest.mark.slow
def test_no_reweighting_that_loses_to_equal_weights_and_no_ranking_worse_than_the_average(analysed) -> None:
    """On every org here (small, null, and a 39-hire org with the sample's traits) the data-derived weights do
    not beat equal weights out of sample by the margin; none may be recommended, and where the cross-validated
    R² is negative the page says 'worse than guessing the average' and ranks no open candidate.
    Measured gains (weights minus equal, CV R²): -0.26, -0.13, -0.13, -0.07."""
    losing = 0
    for org in HIRING_ORGS:
        analysis, results = analysed("hiring", org)
        model = analysis.model
        if model.cv_.gain_ci[0] <= model.reweight_margin:
            assert not model.recommend_reweighting_, org
            assert not any(f.text.startswith("Recommended scorecard weights") for f in results.findings), org
            assert any(f.text.startswith("Keep equal weights") for f in results.findings), org
        losing += model.cv_.gain < 0
        if model.cv_.r2_model < 0:
            assert not model.beats_average_ and "worse than guessing the average" in model.r2_sentence(), org
            assert analysis.open.empty or analysis.open["predicted"].isna().all(), org
            assert "not ranked" in analysis.open_sentence() or analysis.open.empty, org
    assert losing >= 2  # the situation the test is about really occurs


@pytest.mark.slow
def test_training_verdict_is_neither_predicts_when_nothing_has_an_effect(analysed) -> None:
    """no_effects: the final exam and the certifications are noise, as are the scorecards. With 39 hires the
    verdict is 'neither predicts'; with 17 (hires18_none) 'too few people to tell'. Never 'training' or
    'hiring predicts better'."""
    for org in ("none31", "none32", "none33"):
        analysis, results = analysed("training", org)
        assert analysis.comparison.verdict_code_ == "neither", (org, analysis.comparison.verdict_)
        assert results.headline.startswith("Neither training nor hiring scores predict"), results.headline
    small, _ = analysed("training", "hires18_none")
    assert small.comparison.verdict_code_ in ("too_few", "neither"), small.comparison.verdict_


@pytest.mark.slow
def test_churn_quartile_reps_are_named_for_training_only_with_heterogeneity(analysed) -> None:
    """no_effects: every rep's customers churn at one rate. The heterogeneity test says 'differ' on about 5%
    of such orgs by design (measured on 20 more null orgs of 30 reps: 1), so of these three at most one may;
    where it does not, the page says the quartiles are noise and names nobody for training.
    Measured: none31 p = 0.015 (the test's 5% false alarm: 9 reps named), none32 p = 0.77, none33 p = 0.48."""
    differ = 0
    for org in ("none31", "none32", "none33"):
        analysis, results = analysed("churn", org)
        h = analysis.heterogeneity
        differ += h.differ_
        if not h.differ_:
            assert analysis.training_list() == [], org
            assert "quartiles are noise this period" in results.headline, results.headline
            texts = " ".join(f.text for f in results.findings)
            assert "sold something they did not need" not in texts
    assert differ <= 1, differ


@pytest.mark.slow
def test_a_planted_harm_gets_the_worse_than_control_verdict(analysed) -> None:
    """experiment_harm: GPCT multiplies the close probability by 0.6 (true effect about -10 points). The page
    says stop, with the estimate (measured -10.3 points, 95% CI -13.2 to -7.4), not 'no effect'."""
    analysis, results = analysed("experiments", "harm")
    row = analysis.summary.set_index("experiment_id").loc["EXP-01"]
    assert row["verdict"] == "worse" and row["ci_high"] < 0, row["verdict"]
    stop = [f for f in results.findings if "did worse than control" in f.text]
    assert len(stop) == 1 and stop[0].severity == "action" and "no effect" not in stop[0].text


@pytest.mark.slow
def test_experiments_with_no_effect_get_at_most_the_designed_false_verdicts(analysed) -> None:
    """no_effects: every treatment equals its control. Each finished experiment's decisive verdict ('success'
    or 'worse than control') is a 5% two-sided false alarm at most (less for 'success', which also needs the
    pre-registered bar), so over the three orgs' nine finished experiments at most one may be decisive
    (two or more: probability about 7% at exactly 5% each), and a decisive one has p < 0.05.
    Measured: one, none32's EXP-02 'success' (+3.3 points against a bar of 3, 95% CI +0.9 to +5.6,
    p = 0.006): a chance result (EXP-02's z over 30 further null orgs of 40 reps: mean 0.02, sd 0.98,
    2 of 30 beyond 1.96)."""
    decisive = 0
    for org in ("none31", "none32", "none33"):
        analysis, _ = analysed("experiments", org)
        table = analysis.summary.set_index("experiment_id")
        finished = table[table["status"] == "finished"]
        assert len(finished) == 3, org
        hit = finished[finished["verdict"].isin(["success", "worse"])]
        assert (hit["p_value"] < 0.05).all(), hit
        decisive += len(hit)
    assert decisive <= 1, decisive


@pytest.mark.slow
def test_lead_value_does_not_rank_first_offers_that_are_equal(truth_org, tmp_path: Path) -> None:
    """no_effects: every first offer converts at the team's average rate (ground truth: true customer rates
    equal). The page's one sentence on lead value must not present the best and the worst offer as different
    by chance alone: it says they do not differ beyond chance, or gives the interval of the difference.
    (This test first found 'A blog subscribe lead is worth $944 ..., 1 times a other lead ($678)'; now the
    page says the offers do not differ beyond chance, chi-square p = 0.51.)"""
    import re

    from helpers.analyses.lead_value.report import analyse as analyse_lead_value
    from helpers.reporting.context import start_report

    folder = truth_org("none31")
    rates = [v["true_customer_rate"] for v in SampleData(folder).truth["leads"]["first_offer"].values()]
    assert max(rates) - min(rates) < 1e-3
    report = start_report("05_lead_value_and_sla", data_dir=str(folder), results_path=str(tmp_path / "05.json"))
    text = analyse_lead_value(report).value.value_text()
    assert not re.search(r"\b1 times\b", text), text
    assert any(word in text for word in ("interval", "CI", "beyond chance", "do not differ")), text


def test_sla_list_is_exactly_the_planted_breakers_with_segment_cadence(truth_org) -> None:
    """Enterprise calls 2.5x further apart (still within the 14-day idle rule): the "Do not be on it" list with
    the generator's rules (grace period on) is exactly the planted breakers, rule by rule. Boundary times
    (exactly 60 minutes, exactly 72 hours, a 16:00 dashboard) are in tests/test_sla.py."""
    import dataclasses

    from helpers.analyses.lead_value import sla
    from helpers.core.config import load_config
    from helpers.data.engine import open_source

    folder = truth_org("cadence41")
    config = load_config()
    truth = json.loads((folder / "ground_truth.json").read_text())["sla"]
    rules = dataclasses.replace(config.sla, free_trial_grace=True)
    got = sla.sla_violations(open_source(config, data_dir=folder), as_of=truth["as_of"], rules=rules)
    for rule in sla.RULES:
        assert set(got.loc[got["rule"] == rule, "lead_id"]) == set(truth["breakers"][rule]), rule
