"""Trait discovery (helpers/analyses/hiring/model.py): outside references, planted truths on several orgs, odd data."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from helpers.reporting.present import label
from helpers.core.config import load_config
from helpers.data.engine import open_source
from helpers.analyses.hiring.model import (HiringDataError, TraitModel, candidate_trait_scores, check_scores,
                                           hires_needed, holm_adjusted, interviewer_leniency, open_candidates)
from helpers.analyses.hiring.report import trait_discovery
from helpers.analyses.success import SUCCESS_METRICS
from helpers.paths import SAMPLE_DATA_DIR
from helpers.core.results import ResultsRecorder

STRONG = {"coachability", "curiosity", "intelligence"}


# --------------------------------------------------------------------------- outside references
def test_standardized_effects_match_statsmodels_and_the_normal_equations() -> None:
    """Reference computed independently of TraitModel: the traits and the outcome z-scored by hand
    (pandas mean/std, ddof=1), then (a) statsmodels OLS on them and (b) numpy's normal equations
    beta = (X'X)^-1 X'y, and (c) the closed-form standardized coefficients of two predictors from their
    Pearson correlations, whose values are pinned below."""
    hires = pd.DataFrame({
        "a": [3, 5, 6, 7, 4, 8, 9, 5, 6, 7],
        "b": [7, 6, 5, 8, 4, 6, 7, 3, 9, 5],
        "quota_attainment": [0.6, 0.9, 1.1, 1.4, 0.7, 1.3, 1.8, 0.8, 1.2, 1.0],
    }, dtype=float)
    z = (hires - hires.mean()) / hires.std()
    X = np.column_stack([np.ones(10), z[["a", "b"]]])
    beta = np.linalg.solve(X.T @ X, X.T @ z["quota_attainment"].to_numpy())
    ref = sm.OLS(z["quota_attainment"], sm.add_constant(z[["a", "b"]])).fit()
    model = TraitModel(metric="quota_attainment", traits=["a", "b"], min_hires=5, cv_repeats=3).fit(hires)
    s = model.summary.loc[["a", "b"]]
    np.testing.assert_allclose(s["effect"], beta[1:], rtol=1e-10)
    np.testing.assert_allclose(s["effect"], ref.params[["a", "b"]], rtol=1e-10)
    np.testing.assert_allclose(s[["ci_low", "ci_high"]], ref.conf_int(0.05).loc[["a", "b"]], rtol=1e-10)
    np.testing.assert_allclose(s["p_value"], ref.pvalues[["a", "b"]], rtol=1e-10)
    assert model.adj_r2_ == pytest.approx(ref.rsquared_adj)
    # textbook two-predictor formula on Pearson correlations (scipy.stats.pearsonr): r_ya = 0.92597,
    # r_yb = 0.48824, r_ab = 0.26667; beta_a = (r_ya - r_yb r_ab) / (1 - r_ab^2) = 0.85670,
    # beta_b = (r_yb - r_ya r_ab) / (1 - r_ab^2) = 0.25979
    assert s.loc["a", "effect"] == pytest.approx(0.85670, abs=1e-5)
    assert s.loc["b", "effect"] == pytest.approx(0.25979, abs=1e-5)
    # 10 hires are below the power-derived 28 (two traits): no trait is named, however clear
    assert model.hires_needed_ == 24 + 2 + 1 and s.loc["a", "verdict"] == "too few hires to tell"
    strong = TraitModel(metric="quota_attainment", traits=["a", "b"], min_hires=5, cv_repeats=3,
                        detectable_effect=0.9).fit(hires)  # a very strong effect needs few hires
    assert strong.hires_needed_ <= 10 and strong.summary.loc["a", "verdict"] == "predicts success"
    assert strong.summary.loc["a", "p_holm"] == pytest.approx(min(1.0, 2 * ref.pvalues["a"]))
    assert model.small_sample_ and any("unstable" in w for w in model.warnings_)


def test_leniency_worked_by_hand() -> None:
    """Two candidates, one trait, two interviewers who both see both: A gives 6 and 8, B gives 4 and 6.
    Candidate levels 5 and 7; A is +1 above the average interviewer, B -1 (exact, no noise)."""
    scores = pd.DataFrame({"candidate_id": ["c1", "c2", "c1", "c2"], "interviewer": ["A", "A", "B", "B"],
                           "trait": "t", "score": [6, 8, 4, 6], "interview_date": "2024-01-01", "rep_id": None})
    len_ = interviewer_leniency(scores).set_index("interviewer")
    assert len_.loc["A", "leniency"] == pytest.approx(1.0) and len_.loc["B", "leniency"] == pytest.approx(-1.0)
    cand = candidate_trait_scores(check_scores(scores), traits=["t"], leniency=len_.reset_index())
    assert cand.set_index("candidate_id")["t"].tolist() == pytest.approx([5.0, 7.0])


def test_interviewers_who_never_share_candidates_are_not_calibrated() -> None:
    scores = pd.DataFrame({"candidate_id": ["c1", "c2"], "interviewer": ["A", "B"], "trait": "t", "score": [6, 4],
                           "interview_date": "2024-01-01", "rep_id": None})
    out = interviewer_leniency(scores)
    assert out["leniency"].isna().all() and not out["identified"].any()


def test_hire_trait_scores_calibrated_by_hand_and_raw() -> None:
    """The leniency example above (A +1, B -1 exactly) plus a hire R3 seen by lenient A alone, who
    gave 9. Worked by hand: calibrated R1 = ((6-1)+(4+1))/2 = 5, R2 = 7, R3 = 9-1 = 8; raw R3 = 9."""
    from helpers.analyses.hiring.model import hire_trait_scores

    scores = pd.DataFrame({"candidate_id": ["c1", "c2", "c1", "c2", "c3", "c4"],
                           "interviewer": ["A", "A", "B", "B", "A", "B"], "trait": "t", "score": [6, 8, 4, 6, 9, 3],
                           "interview_date": "2024-01-01", "rep_id": ["R1", "R2", "R1", "R2", "R3", None]})
    cal = hire_trait_scores(scores, traits=["t", "never_scored"], calibrate=True)
    assert cal.attrs["calibrated"] and list(cal.columns) == ["t"] and list(cal.index) == ["R1", "R2", "R3"]
    assert cal["t"].tolist() == pytest.approx([5.0, 7.0, 8.0])
    raw = hire_trait_scores(scores, traits=["t"], calibrate=False)
    assert not raw.attrs["calibrated"] and raw["t"].tolist() == pytest.approx([5.0, 7.0, 9.0])
    lone = scores.assign(interviewer="A")  # one interviewer: nothing to calibrate, raw means
    out = hire_trait_scores(lone, traits=["t"], calibrate=True)
    assert not out.attrs["calibrated"] and out["t"].tolist() == pytest.approx([5.0, 7.0, 9.0])
    assert hire_trait_scores(scores, traits=["nothing"], calibrate=True).empty


# --------------------------------------------------------------------------- odd and bad data
def _hires(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(6, 1.5, (n, 3))
    y = 1 + 0.3 * X[:, 0] + rng.normal(0, 0.3, n)
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "quota_attainment": y})


def test_tiny_and_singular_data_explain_instead_of_crashing() -> None:
    tiny = TraitModel(traits=["a", "b", "c"]).fit(_hires(5))
    assert not tiny.estimable_ and "at least 8" in tiny.warnings_[-1]
    assert tiny.summary["effect"].isna().all() and tiny.predict(_hires(3)).isna().all().all()
    assert tiny.sentences()[0][1] == "warning" and "No recommended weights" in tiny.weights_sentence()
    data = _hires(40).assign(d=lambda f: f["a"] + f["b"], e=4.0)  # d = a + b exactly, e constant
    m = TraitModel(traits=["a", "b", "c", "d", "e"]).fit(data)
    assert m.estimable_ and set(m.dropped_traits_) == {"e", "d"}
    assert any("exact combination" in w and "d" in w for w in m.warnings_)
    assert any("same score for every hire" in w for w in m.warnings_)
    assert m.summary.loc["a", "verdict"] == "predicts success"
    empty = TraitModel(traits=["a"]).fit(_hires(0))
    assert not empty.estimable_


def test_bad_input_names_the_problem() -> None:
    with pytest.raises(HiringDataError, match="quota_attainment"):
        TraitModel(traits=["a"]).fit(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(ValueError, match="success metric"):
        TraitModel(metric="happiness")
    scores = pd.DataFrame({"candidate_id": ["c1", "c1"], "interviewer": ["A", "B"], "trait": "t", "score": [5, 6],
                           "interview_date": "2024-01-01", "rep_id": ["R1", "R2"]})
    with pytest.raises(HiringDataError, match="c1"):
        check_scores(scores)


def test_open_candidates_are_recent_and_not_hired() -> None:
    hires = _hires(30)
    model = TraitModel(traits=["a", "b", "c"]).fit(hires)
    cands = pd.DataFrame({"candidate_id": ["x", "y", "z", "w"], "hired": [False, False, True, False],
                          "interview_date": pd.to_datetime(["2024-06-20", "2024-01-01", "2024-06-25", "2024-06-29"]),
                          "a": [9.0, 9.0, 9.0, 3.0], "b": 6.0, "c": 6.0})
    out = open_candidates(cands, model, as_of="2024-06-30", days=30)
    assert out["candidate_id"].tolist() == ["x", "w"]  # y is too old, z was hired; best prediction first
    assert (out["pi_low"] < out["predicted"]).all() and (out["predicted"] < out["pi_high"]).all()


# --------------------------------------------------------------------------- planted truth
ORGS = {"sample": None, "seed7_120reps": (7, 120, 6), "seed3_60reps": (3, 60, 8)}


@pytest.fixture(scope="module", params=list(ORGS))
def found(request: pytest.FixtureRequest, generated_org):
    args = ORGS[request.param]
    if args is None:
        folder = SAMPLE_DATA_DIR
    else:
        folder = generated_org(seed=args[0], reps=args[1], months=args[2])  # shared, read only (conftest.py)
    truth = json.loads((folder / "ground_truth.json").read_text())
    truth["_data_dir"] = str(folder)  # not part of the planted truth: where the org was written
    config = load_config().with_data_dir(folder)
    source = open_source(config, data_dir=folder)
    return trait_discovery(source, config, as_of=truth["generator"]["as_of"][:10]), truth


def test_hire_trait_scores_are_the_scores_notebook_01_models(found) -> None:
    """Notebook 02 judges hiring scores through hire_trait_scores: the same numbers as 01's hires."""
    from helpers.analyses.hiring.model import hire_trait_scores

    result, truth = found
    scores = result.candidates[result.candidates["hired"]].set_index("rep_id")[list(result.traits)]
    folder = truth["_data_dir"]
    raw = open_source(load_config().with_data_dir(folder), data_dir=folder).read("hiring_scores")
    ours = hire_trait_scores(raw, traits=list(result.traits), calibrate=True)
    assert ours.attrs["calibrated"]
    pd.testing.assert_frame_equal(ours, scores.sort_index().astype("float64"), check_names=False)


def test_planted_traits_are_recovered_with_sign_and_order(found) -> None:
    """Planted: coachability .50, curiosity .45, intelligence .45, work ethic .22, prior success .10,
    aggressiveness 0, seen through noisy interview scores and a noisy attainment. Order within the
    strong three is not identifiable at these sizes; strong above null is."""
    d, truth = found
    s = d.model.summary
    assert d.model.estimable_ and d.model.n_ >= 35
    assert s.index[0] in STRONG | {"work_ethic"}  # the top trait is a planted driver
    assert (s.loc[list(STRONG), "effect"] > 0).all()  # right sign
    # Holm across six traits (issue 19) costs power: with 59 hires (seed 3) curiosity's p = 0.013 becomes 0.067;
    # at least one strong trait is named, and every named trait is a planted driver
    assert (s.loc[list(STRONG), "verdict"] == "predicts success").sum() >= (2 if d.model.n_ >= 100 else 1)
    named = set(s.index[s["verdict"] == "predicts success"])
    assert named <= {t for t, w in truth["hiring"]["true_weights"].items() if w > 0}
    # the planted null trait is not declared significant, and ranks below the strong ones on average
    assert s.loc["aggressiveness", "verdict"] == "no detectable effect"
    assert s.loc[list(STRONG), "effect"].mean() > s.loc["aggressiveness", "effect"] + 0.15
    assert s.loc[list(STRONG), "effect"].mean() > s.loc[["prior_success", "aggressiveness"], "effect"].mean()
    if d.model.n_ >= 100:  # with ~120 hires the null trait ranks below every strong one
        assert s.loc["aggressiveness", "effect"] < s.loc[list(STRONG), "effect"].min()
        assert d.model.cv_.r2_model > 0.1
    assert truth["hiring"]["true_weights"]["aggressiveness"] == 0


def test_interviewer_leniency_is_recovered(found) -> None:
    d, truth = found
    bias = pd.Series(truth["hiring"]["interviewer_bias"])
    bias -= bias.mean()
    est = d.leniency.set_index("interviewer")["leniency"].reindex(bias.index)
    assert np.corrcoef(est, bias)[0, 1] > 0.95
    assert (est - bias).abs().max() < 0.4  # scores are rounded and clipped to 1-10, which shrinks a little
    inside = ((d.leniency["ci_low"] <= bias.reindex(d.leniency["interviewer"]).to_numpy())
              & (bias.reindex(d.leniency["interviewer"]).to_numpy() <= d.leniency["ci_high"]))
    assert inside.mean() >= 0.5


def test_aggressiveness_is_what_interviewers_hired_on(found) -> None:
    d, _ = found
    dist = d.distributions.set_index("trait")
    assert dist["gap"].idxmax() == "aggressiveness"


def test_twenty_hires_give_the_loud_small_sample_warning(found) -> None:
    d, _ = found
    rng = np.random.default_rng(5)
    few = d.hires.iloc[rng.choice(len(d.hires), 20, replace=False)]
    model = TraitModel(metric="quota_attainment", traits=d.traits).fit(few)
    assert model.n_ == 20 and model.small_sample_
    warning = next(w for w in model.warnings_ if "unstable" in w)
    assert "Only 20 hires" in warning and "standard deviations wide" in warning
    width = (model.summary["ci_high"] - model.summary["ci_low"]).mean()
    assert width > (d.model.summary["ci_high"] - d.model.summary["ci_low"]).mean()


def test_results_file_carries_the_findings(found) -> None:
    d, _ = found
    rec = ResultsRecorder(None, notebook="01_trait_discovery", title="t", month="2026-10", as_of="2026-10-31")
    d.record(rec)
    r = rec.results
    assert r.headline and r.key_figure.n == d.model.n_ and r.key_figure.ci_low is not None
    assert any("No detectable effect" in f.text and "aggressiveness" in f.text for f in r.findings)
    assert any("Recommended scorecard weights" in f.text or "Keep equal weights" in f.text for f in r.findings)
    assert {"trait_effects", "interviewer_leniency", "open_candidates", "cohort_effects"} <= set(r.details)
    assert d.cohorts.groupby("cohort")["n"].first().drop("all hires").sum() == d.model.n_


def test_widget_explorer_refits_for_the_chosen_metric_and_traits(found) -> None:
    d, _ = found
    box = d.explorer()
    metric, traits = box.children[0].children
    assert metric.value == d.settings.success_metric and set(traits.value) == set(d.traits)
    metric.value = "customer_churn_rate"  # re-fits without error
    traits.value = ("coachability", "aggressiveness")
    traits.value = ()


def test_page_tables_have_every_trait_and_readable_values(found) -> None:
    """Issue 23: the effects table showed '<NA> NaN ... NaN' for prior success and work ethic (its index was
    renamed to space-separated names inside the constructor, re-aligning every column); dollars showed as
    '2515.000', attainment as '1.121', and open candidates had negative predicted attainment."""
    result, _ = found
    effects = result.effects_table()
    assert "Prior success" in effects.index and "Work ethic" in effects.index  # every row label capitalised alike
    summary = result.model.summary
    for trait in summary.index:
        row = effects.loc[label(trait)]
        assert row["Effect (SD per SD)"] == pytest.approx(round(summary.loc[trait, "effect"], 2), nan_ok=True)
        if pd.notna(summary.loc[trait, "effect"]):
            assert pd.notna(row["Effect (SD per SD)"]) and pd.notna(row["Rank"])
    metrics = result.metrics_table()
    text = " ".join(metrics.astype(str).to_numpy().ravel())
    assert "$" in text and "%" in text and not any(c.endswith(".000") for c in text.split())
    attainment = metrics.loc[SUCCESS_METRICS["quota_attainment"].label, "Median"]
    assert attainment.endswith("%") and 20 <= float(attainment.rstrip("%").replace(",", "")) <= 400
    shown = result.open_table()
    assert not any(str(v).startswith("-") for v in shown.drop(columns="Interviewed").to_numpy().ravel())


# --------------------------------------------------------------------------- other truths (issue 19)
def _null_hires(n: int, seed: int, traits: int = 5) -> pd.DataFrame:
    """Hires on whom no trait has any effect: success is noise."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(rng.normal(5.5, 1.5, size=(n, traits)), columns=[f"t{i}" for i in range(traits)])
    return data.assign(quota_attainment=rng.normal(1.0, 0.3, n))


def test_hires_needed_from_a_power_calculation() -> None:
    # f² = .25/.75; (1.959964 + 0.841621)² / f² = 23.53 -> 24, + 5 traits + 1
    assert hires_needed(5, effect=0.5) == 30 and hires_needed(6, effect=0.5) == 31
    assert hires_needed(5, effect=0.3) > 80


def test_eighteen_hires_name_no_trait_and_say_what_the_data_need() -> None:
    """18 hires, five traits, no effect anywhere: whatever the p-values, no trait is a finding."""
    for seed in range(20):
        model = TraitModel(traits=[f"t{i}" for i in range(5)], cv_repeats=3, seed=seed).fit(_null_hires(18, seed))
        assert model.underpowered_ and model.hires_needed_ == 30
        assert (model.summary["verdict"] == "too few hires to tell").all()
        sentences = model.sentences()
        assert not any(sev == "good" for _, sev in sentences)
        assert "No trait can be named yet: 18 hires are too few" in sentences[0][0] and "30 hires" in sentences[0][0]
        assert model.weights_sentence().startswith("Keep equal weights")


def test_holm_adjusted_p_values_match_statsmodels() -> None:
    """Our Holm step-down (no garbage collection per call) against statsmodels' multipletests, in the input
    order, with ties, p-values that adjust past 1 and a single test."""
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(4)
    cases = [rng.uniform(size=7), rng.uniform(0, 0.05, size=5), np.array([0.01, 0.04, 0.01, 0.3, 0.04]),
             np.array([0.02]), np.array([0.9, 0.5, 0.6])]
    for p in cases:
        np.testing.assert_allclose(holm_adjusted(p), multipletests(p, method="holm")[1], rtol=1e-12)
    assert holm_adjusted(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx([0.03, 0.06, 0.06])


def test_trait_false_positive_rate_with_holm_on_null_hires() -> None:
    """Simulation: 200 null teams of 60 hires and 5 traits. With Holm a trait is named on at most 5% of teams
    (family-wise); per-trait tests at 5% would name one on about 23%."""
    named = raw = 0
    for seed in range(200):
        model = TraitModel(traits=[f"t{i}" for i in range(5)], cv_repeats=1, cv_folds=2, seed=seed).fit(
            _null_hires(60, 1000 + seed))
        named += bool(model.summary["significant"].any())
        raw += bool((model.summary["p_value"] < 0.05).any())
    assert named / 200 <= 0.06, named
    assert raw > 2 * named


def test_reweighting_that_loses_to_equal_weights_is_not_recommended() -> None:
    model = TraitModel(traits=[f"t{i}" for i in range(5)], cv_repeats=5).fit(_null_hires(60, 3))
    assert not model.recommend_reweighting_
    text = model.weights_sentence()
    assert text.startswith("Keep equal weights") and "Recommended scorecard weights" not in text


def test_negative_cross_validated_r2_is_worse_than_guessing_and_candidates_are_not_ranked() -> None:
    model = TraitModel(traits=[f"t{i}" for i in range(5)], cv_repeats=5).fit(_null_hires(40, 8))
    assert model.cv_.r2_model < 0 and not model.beats_average_
    assert "worse than guessing the average" in model.r2_sentence() and "0%" not in model.r2_sentence().split(";")[1]
    cands = _null_hires(4, 9).drop(columns="quota_attainment").assign(
        candidate_id=list("abcd"), hired=False, interview_date=pd.Timestamp("2024-06-20"))
    out = open_candidates(cands, model, as_of="2024-06-30", days=30)
    assert len(out) == 4 and out["predicted"].isna().all()


def _halo_scores(seed: int, halo_sd: float, *, candidates: int = 120, interviewers: int = 8, per_candidate: int = 3,
                 traits: int = 6, noise_sd: float = 1.2) -> pd.DataFrame:
    """Scorecards where every interviewer is equally lenient; with ``halo_sd`` > 0 an interviewer who liked
    a candidate scores all of that candidate's traits higher (the halo seen in real interviews)."""
    rng = np.random.default_rng(seed)
    picks = np.argsort(rng.random((candidates, interviewers)), axis=1)[:, :per_candidate]
    raw = (6 + rng.normal(0, 1.5, (candidates, 1, traits)) + halo_sd * rng.standard_normal((candidates, per_candidate, 1))
           + noise_sd * rng.standard_normal((candidates, per_candidate, traits)))
    cand = np.repeat(np.arange(candidates), per_candidate * traits)
    return pd.DataFrame({"candidate_id": cand.astype(str), "interviewer": np.repeat(picks.reshape(-1), traits).astype(str),
                         "trait": np.tile(np.arange(traits), candidates * per_candidate).astype(str),
                         "score": np.clip(np.rint(raw), 1, 10).reshape(-1)})


@pytest.mark.parametrize("halo_sd", [0.0, 0.8])
def test_equally_lenient_interviewers_are_rarely_called_lenient_even_with_a_halo(halo_sd) -> None:
    """Issue 19 (measured on generated orgs with no effect): 95% leniency intervals must exclude 0 for about 5%
    of equally lenient interviewers. With a halo (sd 0.8 points per candidate-interviewer), intervals that
    treat a candidate's scores as independent excluded 0 for 22.8% of 1,600 interviewers (200 teams); standard
    errors clustered by candidate give 6.2%, without a halo 5.3%. Here 100 teams x 8 interviewers: the bound
    0.085 is the nominal 5% plus about 4 binomial standard errors (0.0077 each at n = 800)."""
    outside = total = 0
    for seed in range(100):
        out = interviewer_leniency(_halo_scores(seed, halo_sd))
        outside += int(((out["ci_low"] > 0) | (out["ci_high"] < 0)).sum())
        total += len(out)
    assert total == 800 and outside / total <= 0.085, outside / total
