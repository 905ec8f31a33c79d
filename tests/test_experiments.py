"""The experiment review on generated organisations (planted truth) and on hand-built folders (edge cases)."""
from __future__ import annotations

import json
import math
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from helpers.core.config import load_config
from helpers.data.engine import open_source
from helpers.analyses.experiments.model import ExperimentDataError, ExperimentReview
from helpers.paths import SAMPLE_DATA_DIR
from helpers.core.results import ResultsRecorder, load_results

# (seed, reps, months): the committed sample, a big short org, a small one, a mid-sized longer one
ORGS = {"sample": None, "seed7_120reps_4m": (7, 120, 4), "seed11_16reps_6m": (11, 16, 6),
        "seed3_40reps_9m": (3, 40, 9)}


@pytest.fixture(scope="session")
def org_dirs(generated_org) -> dict[str, Path]:
    dirs = {}
    for name, args in ORGS.items():
        if args is None:
            dirs[name] = SAMPLE_DATA_DIR
            continue
        seed, reps, months = args
        dirs[name] = generated_org(seed=seed, reps=reps, months=months)  # shared, read only (conftest.py)
    return dirs


def _review(folder: Path, **settings) -> tuple[ExperimentReview, dict]:
    truth = json.loads((folder / "ground_truth.json").read_text())
    source = open_source(load_config(), data_dir=folder)
    review = ExperimentReview(**settings).fit(source, as_of=truth["generator"]["as_of"][:10])
    return review, truth["experiments"]


@pytest.fixture(scope="session")
def reviews(org_dirs) -> dict[str, tuple[pd.DataFrame, dict]]:
    out = {}
    for name, folder in org_dirs.items():
        review, truth = _review(folder)
        out[name] = (review.summary.set_index("experiment_id"), truth)
    return out


@pytest.mark.parametrize("org", list(ORGS))
def test_planted_real_effect_is_found(reviews, org):
    summary, truth = reviews[org]
    row, true = summary.loc["EXP-01"], truth["EXP-01"]
    assert row["verdict"] == "success", row["verdict_text"]
    assert row["ci_low"] <= true["true_effect"] <= row["ci_high"]
    assert row["ci_low"] > 0 and row["test"] == "two_proportions"


@pytest.mark.parametrize("org", list(ORGS))
def test_planted_null_is_never_a_success(reviews, org):
    summary, truth = reviews[org]
    row = summary.loc["EXP-02"]
    assert truth["EXP-02"]["true_effect"] == 0
    assert row["verdict"] in ("no_effect", "inconclusive")
    assert row["ci_low"] < 0 < row["ci_high"]
    if truth["EXP-02"]["n_units"] >= 7000:  # the sample is powered for the bar: it rules the bar out
        assert row["verdict"] == "no_effect"


@pytest.mark.parametrize("org", list(ORGS))
def test_real_lift_below_its_bar_is_not_a_success(reviews, org):
    summary, truth = reviews[org]
    row = summary.loc["EXP-03"]
    assert truth["EXP-03"]["real_effect"] and not truth["EXP-03"]["meets_success_criterion"]
    assert row["verdict"] == "no_effect" and row["ci_high"] < row["success_min_lift"]
    assert row["test"] == "rank"  # MRR is skewed: the rank test is chosen automatically


def test_real_lift_below_its_bar_with_welch_covers_the_planted_mean_lift(org_dirs):
    review, truth = _review(org_dirs["sample"], mean_test="welch")
    row = review.summary.set_index("experiment_id").loc["EXP-03"]
    assert row["test"] == "welch" and row["verdict"] != "success"
    assert row["ci_low"] <= truth["EXP-03"]["true_effect"] <= row["ci_high"]
    assert row["ci_low"] > 0  # a real lift ...
    assert row["effect"] < row["success_min_lift"]  # ... smaller than the bar


@pytest.mark.parametrize("org", list(ORGS))
def test_cluster_assigned_experiment_gives_wider_intervals_than_a_naive_test(reviews, org):
    summary, truth = reviews[org]
    row, true = summary.loc["EXP-04"], truth["EXP-04"]
    assert row["clustered"] and row["test"] == "cluster_robust"
    assert row["ci_high"] - row["ci_low"] > 1.3 * (row["naive_ci_high"] - row["naive_ci_low"])
    assert row["design_effect"] > 1.5
    assert row["ci_low"] <= true["true_effect"] <= row["ci_high"]
    assert row["clusters_treatment"] + row["clusters_control"] == len(true["reps"]["treatment"]) + len(
        true["reps"]["control"])
    assert row["status"] == "running" and row["verdict"] == "pending" and row["assigned_to"] == "top_performers"


def test_outcomes_computed_from_the_crm_equal_the_given_ones(org_dirs, tmp_path):
    """Blank the given outcomes of EXP-01 (close rate), EXP-02 (connect rate) and EXP-03 (MRR per deal):
    the review computes them from deals and activities and gets the same numbers."""
    for name in ("experiments", "deals", "activities"):
        shutil.copy(SAMPLE_DATA_DIR / f"{name}.parquet", tmp_path)
    assignments = pd.read_parquet(SAMPLE_DATA_DIR / "experiment_assignments.parquet")
    blank = assignments["experiment_id"].isin(["EXP-01", "EXP-02", "EXP-03"])
    assignments.loc[blank, "outcome"] = np.nan
    assignments.to_parquet(tmp_path / "experiment_assignments.parquet", index=False)
    shutil.copy(SAMPLE_DATA_DIR / "ground_truth.json", tmp_path)
    given, _ = _review(SAMPLE_DATA_DIR)
    derived, _ = _review(tmp_path)
    g, d = given.summary.set_index("experiment_id"), derived.summary.set_index("experiment_id")
    for eid in ("EXP-01", "EXP-02", "EXP-03"):
        assert d.loc[eid, "outcome_source"] == "crm" and g.loc[eid, "outcome_source"] == "given"
        for col in ("n_treatment", "n_control", "effect", "ci_low", "ci_high", "verdict"):
            assert d.loc[eid, col] == g.loc[eid, col], (eid, col)
    assert d.loc["EXP-04", "outcome_source"] == "given"  # reply_rate is not a CRM metric: given outcomes only
    only_given, _ = _review(tmp_path, outcome_source="given")
    row = only_given.summary.set_index("experiment_id").loc["EXP-01"]
    assert row["n_treatment"] == 0 and row["verdict"] == "inconclusive"


# ----------------------------------------------------------------------------- hand-built folders
AS_OF = date(2026, 10, 31)


def _write(folder: Path, experiments: list[dict], assignments: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    base = {"hypothesis": "h", "unit": "lead", "metric": "reply_rate", "metric_type": "rate", "success_min_lift": 0.05,
            "end_date": "", "owner": "", "status": "", "assigned_to": ""}
    pd.DataFrame([{**base, **e} for e in experiments]).to_csv(folder / "experiments.csv", index=False)
    assignments.to_csv(folder / "experiment_assignments.csv", index=False)
    return folder


def _units(eid: str, n_t: int, n_c: int, p_t: float, p_c: float, seed: int = 0, cluster: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.array(["treatment"] * n_t + ["control"] * n_c)
    outcome = (rng.random(n_t + n_c) < np.where(arm == "treatment", p_t, p_c)).astype(float)
    return pd.DataFrame({"experiment_id": eid, "unit_id": [f"{eid}-{i}" for i in range(n_t + n_c)], "arm": arm,
                         "outcome": outcome, "cluster_id": "" if not cluster else [f"r{i % 7}" for i in range(n_t + n_c)]})


def test_pipeline_statuses_and_the_expected_decision_date(tmp_path):
    """A running experiment measured 20 units a day for 10 days: its decision date is as_of + the days the
    missing units take at that pace; the units needed come from statsmodels' own solver."""
    start = AS_OF - timedelta(days=9)
    folder = _write(tmp_path / "d", [
        {"experiment_id": "R1", "name": "running", "start_date": start.isoformat(), "owner": "Ana"},
        {"experiment_id": "P1", "name": "planned", "start_date": (AS_OF + timedelta(days=10)).isoformat()},
        {"experiment_id": "F1", "name": "one arm", "start_date": "2026-01-01", "end_date": "2026-03-31"},
    ], pd.concat([_units("R1", 100, 100, 0.3, 0.2, seed=1), _units("F1", 80, 0, 0.5, 0.5)]))
    review = ExperimentReview().fit(open_source(load_config(), data_dir=folder), as_of=AS_OF)
    s = review.summary.set_index("experiment_id")
    running = s.loc["R1"]
    p_c = running["control"]
    n_t = NormalIndPower().solve_power(proportion_effectsize(p_c + 0.05, p_c), nobs1=None, alpha=0.05, power=0.8,
                                       ratio=1.0)
    assert running["units_needed"] == math.ceil(2 * n_t)
    assert running["units_per_day"] == pytest.approx(20.0)
    assert running["decision_date"] == AS_OF + timedelta(days=math.ceil((2 * n_t - 200) / 20))
    assert running["verdict"] == "pending" and running["owner"] == "Ana"
    assert s.loc["P1", "status"] == "planned" and s.loc["P1", "verdict"] == "not_started"
    assert s.loc["P1", "owner"] == "(no owner)"
    assert s.loc["F1", "verdict"] == "inconclusive" and s.loc["F1", "status"] == "finished"
    table = review.pipeline_table()
    assert list(table.index) == ["one arm", "running", "planned"]
    assert "Decision expected" in table.loc["running", "Next step"]
    assert "Starts 2026-11-10" in table.loc["planned", "Next step"]
    assert "planned" in review.headline() and "\u201crunning\u201d is still running" in review.headline()


def test_small_samples_and_few_reps_give_no_verdict_and_a_warning(tmp_path):
    folder = _write(tmp_path / "s", [
        {"experiment_id": "S1", "name": "tiny", "start_date": "2026-01-01", "end_date": "2026-03-31"},
        {"experiment_id": "C1", "name": "few reps", "start_date": "2026-01-01", "end_date": "2026-03-31"},
    ], pd.concat([_units("S1", 12, 15, 0.9, 0.1), _units("C1", 400, 400, 0.9, 0.1, cluster=True)]))
    review = ExperimentReview().fit(open_source(load_config(), data_dir=folder), as_of=AS_OF)
    s = review.summary.set_index("experiment_id")
    # huge observed differences, but too few units (S1) or too few reps (C1, 7 reps in all) for a verdict
    assert s.loc["S1", "verdict"] == "inconclusive" and s.loc["S1", "ci_low"] > 0
    assert s.loc["C1", "verdict"] == "inconclusive" and s.loc["C1", "clustered"]
    caveats = " ".join(review.caveats())
    assert "tiny: small sample" in caveats and "few reps: small sample" in caveats and "reps (clusters)" in caveats


def test_rate_outcomes_that_are_not_zero_or_one_are_named(tmp_path):
    units = _units("B1", 40, 40, 0.5, 0.5)
    units.loc[[3, 7], "outcome"] = 2.0
    folder = _write(tmp_path / "b", [{"experiment_id": "B1", "name": "bad", "start_date": "2026-01-01",
                                      "end_date": "2026-02-01"}], units)
    source = open_source(load_config(), data_dir=folder)
    with pytest.raises(ExperimentDataError, match=r"bad \(B1\) is a rate experiment but 2 outcomes are not 0 or 1"):
        ExperimentReview().fit(source, as_of=AS_OF, strict=True)
    review = ExperimentReview().fit(source, as_of=AS_OF)
    assert review.summary.loc[0, "verdict"] == "invalid" and "metric_type 'mean'" in review.warnings_[0]


def test_settings_come_from_the_config_and_bad_values_are_named(tmp_path):
    from helpers.core.config import ConfigError

    cfg = tmp_path / "w.toml"
    cfg.write_text('[experiments]\nmean_test = "rank"\nmin_units_per_arm = 50\n')
    review = ExperimentReview.from_config(load_config(cfg))
    assert review.settings.mean_test == "rank" and review.settings.min_units_per_arm == 50
    cfg.write_text('[experiments]\nmean_test = "median"\n')
    with pytest.raises(ConfigError, match="experiments.mean_test"):
        ExperimentReview.from_config(load_config(cfg))


def test_results_file_carries_effect_ci_p_power_and_verdict_per_experiment(org_dirs, tmp_path):
    review, _ = _review(org_dirs["sample"])
    recorder = ResultsRecorder(tmp_path / "06.json", notebook="06_experiments", title="t", month="2026-10",
                               as_of="2026-10-31")
    review.record(recorder)
    recorder.save()
    results = load_results(tmp_path / "06.json")
    assert "GPCT qualifying" in results.headline and "met its pre-registered bar" in results.headline
    assert results.key_figure.value == 1 and results.key_figure.n == 3
    figures = {f.name: f for f in results.figures}
    gpct = figures["effect_exp_01"]
    assert gpct.ci_low < gpct.value < gpct.ci_high and gpct.ci_level == 0.95 and gpct.n > 3000
    rows = {r["experiment_id"]: r for r in results.details["experiments"]}
    assert {k for k in ("effect", "ci_low", "ci_high", "p_value", "power", "verdict")} <= set(rows["EXP-02"])
    assert rows["EXP-01"]["verdict"] == "success" and rows["EXP-04"]["decision_date"] is None
    assert any(f.severity == "action" and "GPCT" in f.text for f in results.findings)


def test_plot_draws_each_measured_experiment(org_dirs):
    import matplotlib

    matplotlib.use("Agg", force=False)
    review, _ = _review(org_dirs["sample"])
    ax = review.plot()
    assert len(ax.get_yticklabels()) == 4 and "bar" in ax.get_xlabel()


def test_text_from_the_data_is_escaped_in_the_page_tables(tmp_path):
    evil = "<img src=x onerror=alert(3)> test"
    folder = _write(tmp_path / "e", [{"experiment_id": "E1", "name": evil, "start_date": "2026-01-01",
                                      "end_date": "2026-03-31", "owner": "<b>boss</b>"}],
                    _units("E1", 50, 50, 0.4, 0.3))
    review = ExperimentReview().fit(open_source(load_config(), data_dir=folder), as_of=AS_OF)
    for view in (review.pipeline_view(), review.detail_view()):
        page = view.to_html()
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(3)&gt; test" in page
    assert "<b>boss</b>" not in review.pipeline_view().to_html()
    assert evil in review.headline()  # raw in the results file; the page escapes it


def test_a_decision_more_than_two_years_away_is_said_plainly(tmp_path):
    folder = _write(tmp_path / "slow", [{"experiment_id": "L1", "name": "slow", "start_date": "2026-10-22",
                                         "success_min_lift": 0.01}], _units("L1", 10, 10, 0.3, 0.3))
    review = ExperimentReview().fit(open_source(load_config(), data_dir=folder), as_of=AS_OF)
    row = review.summary.iloc[0]
    assert row["verdict"] == "pending" and row["decision_date"] is None and row["too_slow"]
    assert "more than two years" in review.pipeline_table().iloc[0]["Next step"]


def test_odd_shapes_do_not_crash_and_give_no_confident_verdict(tmp_path):
    unmeasured = _units("U1", 20, 20, 0.5, 0.5)
    unmeasured["outcome"] = np.nan
    ties = _units("T1", 40, 40, 0.5, 0.5)
    ties["outcome"] = 100.0
    folder = _write(tmp_path / "odd", [
        {"experiment_id": "U1", "name": "unmeasured", "start_date": "2026-10-01"},
        {"experiment_id": "T1", "name": "ties", "start_date": "2026-01-01", "end_date": "2026-02-01",
         "metric_type": "mean", "metric": "mrr_x", "success_min_lift": 50},
        {"experiment_id": "O1", "name": "one each", "start_date": "2026-01-01", "end_date": "2026-02-01"},
        {"experiment_id": "N1", "name": "no units", "start_date": "2026-01-01", "end_date": "2026-02-01"},
    ], pd.concat([unmeasured, ties, _units("O1", 1, 1, 0.5, 0.5)]))
    review = ExperimentReview().fit(open_source(load_config(), data_dir=folder), as_of=AS_OF)
    s = review.summary.set_index("name")
    assert s.loc["unmeasured", "verdict"] == "pending" and s.loc["unmeasured", "decision_date"] is None
    assert s.loc["one each", "verdict"] == "inconclusive" and s.loc["no units", "verdict"] == "inconclusive"
    assert s.loc["ties", "effect"] == 0 and s.loc["ties", "p_value"] == 1.0  # all ties: nothing to see, stated
    recorder = ResultsRecorder(None, notebook="06_experiments", title="t", month="2026-10", as_of="2026-10-31")
    review.record(recorder)
    assert recorder.results.key_figure.n == 3 and "no units: small sample" in " ".join(recorder.results.warnings)
    assert review.plot() is not None and review.detail_view().to_html()
    empty = _write(tmp_path / "empty", [], pd.DataFrame(columns=["experiment_id", "unit_id", "arm", "outcome"]))
    pd.DataFrame(columns=["experiment_id", "name", "hypothesis", "unit", "metric", "metric_type", "success_min_lift",
                          "start_date"]).to_csv(empty / "experiments.csv", index=False)
    none = ExperimentReview().fit(open_source(load_config(), data_dir=empty), as_of=AS_OF)
    assert none.summary.empty and none.headline() == "No experiments are registered yet."


# --------------------------------------------------------------------------- one experiment: detail, power curve, widget
def test_power_curve_passes_through_the_reviews_own_power_and_reaches_the_target(org_dirs):
    from helpers.analyses.experiments.model import power_curve

    review, _ = _review(org_dirs["sample"])
    measured = 0
    for _, r in review.summary.iterrows():
        if r["n_treatment"] < 2 or r["n_control"] < 2:
            continue
        measured += 1
        here = float(r["n_treatment"] + r["n_control"])
        at = power_curve(r, alpha=0.05, power=0.8, units=[here])["power"].iloc[0]
        assert at == pytest.approx(r["power"], rel=1e-6), r["experiment_id"]  # rates, means and per-rep alike
        curve = review.power_curve(r["experiment_id"])
        assert curve["power"].is_monotonic_increasing and curve["units"].is_monotonic_increasing
        if not r["clustered"] and r["units_needed"]:  # independent units: the target is met at units_needed
            top = power_curve(r, units=[float(r["units_needed"])])["power"].iloc[0]
            assert top >= 0.8 - 0.01, r["experiment_id"]
    assert measured == 4


def test_power_curve_of_a_rate_matches_statsmodels():
    """20% control, bar +5 pts, units split 1:1: statsmodels' NormalIndPower on Cohen's h
    (proportion_effectsize(0.25, 0.20)) at nobs1 = units / 2 gives the same power; with a design
    effect of 2 the power is that of half the units."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    from helpers.analyses.experiments.model import power_curve

    row = {"n_treatment": 100, "n_control": 100, "success_min_lift": 0.05, "metric_type": "rate", "control": 0.2,
           "design_effect": 1.0, "units_needed": None}
    got = power_curve(row, units=[400, 2000])["power"].to_numpy()
    h = proportion_effectsize(0.25, 0.20)
    want = [NormalIndPower().power(effect_size=h, nobs1=u / 2, alpha=0.05, ratio=1.0) for u in (400, 2000)]
    assert got == pytest.approx(want, rel=1e-4)
    halved = power_curve({**row, "design_effect": 2.0}, units=[800, 4000])["power"].to_numpy()
    assert halved == pytest.approx(got, rel=1e-9)
    assert power_curve({**row, "n_control": 0}).empty and power_curve({**row, "success_min_lift": 0}).empty


def test_experiment_detail_and_the_widget(org_dirs):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from helpers.analyses.experiments.model import ExperimentDataError

    review, _ = _review(org_dirs["sample"])
    first = str(review.summary["experiment_id"].iloc[0])
    detail = review.experiment_detail(first)
    assert {"Units (treatment / control)", "Units still needed", "Verdict", "Power at the bar"} <= set(detail.index)
    assert detail.columns[0] == review.summary["name"].iloc[0]
    ax = review.plot_power_curve(first)
    assert "Power" in ax.get_ylabel() and len(ax.lines) >= 3
    with pytest.raises(ExperimentDataError, match="no experiment 'NOPE'"):
        review.experiment_detail("NOPE")
    widget = review.explorer()
    pick = widget.children[0]
    assert [v for _, v in pick.options] == [str(e) for e in review.summary["experiment_id"]]
    pick.value = pick.options[-1][1]  # choosing another experiment redraws without error
    matplotlib.pyplot.close("all")


def test_a_significant_harm_is_worse_than_control_not_no_effect(tmp_path: Path) -> None:
    """An org with another truth: EXP-01's arms swapped, so treatment measurably lowers the outcome."""
    folder = tmp_path / "harm"
    shutil.copytree(SAMPLE_DATA_DIR, folder)
    path = folder / "experiment_assignments.parquet"
    table = pd.read_parquet(path)
    swap = table["experiment_id"] == "EXP-01"
    table.loc[swap, "arm"] = table.loc[swap, "arm"].map({"control": "treatment", "treatment": "control"})
    table.to_parquet(path, index=False)
    review, _ = _review(folder)
    row = review.summary.set_index("experiment_id").loc["EXP-01"]
    assert row["verdict"] == "worse" and row["ci_high"] < 0, row["verdict_text"]
    stop = [(text, sev) for text, sev in review.findings() if "EXP-01" in text or row["name"] in text]
    assert len(stop) == 1 and stop[0][1] == "action"
    assert "did worse than control" in stop[0][0] and "no effect" not in stop[0][0]
    assert f"\u2212{abs(100 * row['effect']):.1f} pts (\u2212{abs(100 * row['ci_low']):.1f}" in stop[0][0]  # the estimate
    assert "did worse than control" in review.headline()
    assert "worse than control" in review.verdict_lines()


def test_a_rank_test_lift_is_not_read_as_the_difference_of_medians() -> None:
    """Issue 23: '06 says median $720 vs control $620 ... lift +$40': the rank test's effect is the typical gap
    between a treatment and a control unit (Hodges-Lehmann), so the page names it that way."""
    import pandas as pd

    from helpers.analyses.experiments.model import ExperimentSettings
    from helpers.analyses.experiments.wording import _note

    row = pd.Series({"name": "Bigger deals", "owner": "Ana", "unit": "deal", "metric": "mrr_per_deal",
                     "status": "finished", "success_min_lift": 50.0, "verdict": "no_effect", "effect": 40.0,
                     "treatment": 720.0, "control": 620.0, "n_treatment": 80, "n_control": 82, "ci_low": -10.0,
                     "ci_high": 90.0, "p_value": 0.12, "test": "rank", "power": 0.4, "mde": 95.0,
                     "verdict_text": "Not shown to work.", "metric_type": "mean", "next_step": ""})
    from helpers.core.config import load_config

    note = _note(row, ExperimentSettings.from_config(load_config()))
    assert "median" in note and "typical gap between a treatment and a control deal" in note
    assert "lift +$40" not in note
