"""Training-score analysis (notebook 02): statistics on numbers with a known answer, then the planted
truths of generated organisations (training beats hiring, each certification tracks its own stage)."""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.core.config import ConfigError, load_config
from helpers.paths import PROJECT_ROOT, SAMPLE_DATA_DIR
from helpers.data.sample import generate_org
from helpers.analyses.training.model import (
    NotEnoughHiresError,
    PredictiveComparison,
    TrainingDataError,
    TrainingSettings,
    _corrected_t_interval,
    certification_pairs,
    compute_certification_stage_correlations,
    compute_correlations,
    compute_exam_bands,
    compute_pass_mark,
    correlation_ci,
)

WORKBOOK = str(PROJECT_ROOT / "workbook.toml")


# --------------------------------------------------------------------------- correlations
def test_pearson_interval_matches_scipy_on_the_same_numbers() -> None:
    """Outside reference: scipy.stats.pearsonr(x, y).confidence_interval(0.95), which implements the
    Fisher-z interval independently of our code, on 25 fixed pseudo-random pairs."""
    rng = np.random.default_rng(42)
    x = rng.normal(size=25)
    y = 0.6 * x + rng.normal(size=25)
    ours = correlation_ci(x, y, method="pearson", level=0.95)
    ref = stats.pearsonr(x, y)
    ci = ref.confidence_interval(0.95)
    assert ours.r == pytest.approx(ref.statistic, abs=1e-12)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert ours.p_value == pytest.approx(ref.pvalue) and ours.n == 25


def test_fisher_z_intervals_worked_by_hand() -> None:
    """r = 0.5, n = 28: z = atanh(0.5) = 0.549306; Pearson se = 1/sqrt(25) = 0.2, so the interval is
    tanh(0.549306 -+ 1.959964 x 0.2) = tanh(0.157313), tanh(0.941299) = (0.1560, 0.7358), worked by hand.
    Spearman uses the Bonett-Wright se sqrt((1 + rs²/2)/(n-3)), checked with the formula written out."""
    # x, y with Pearson r exactly 0.5: y = 0.5 x + sqrt(0.75) e with x, e orthonormal
    rng = np.random.default_rng(0)
    a = rng.normal(size=(28, 2))
    a -= a.mean(axis=0)
    q, _ = np.linalg.qr(a)
    x, e = q[:, 0], q[:, 1]
    y = 0.5 * x + math.sqrt(0.75) * e
    p = correlation_ci(x, y, method="pearson")
    assert p.r == pytest.approx(0.5, abs=1e-12)
    assert (p.ci_low, p.ci_high) == pytest.approx((0.1560, 0.7358), abs=1e-4)
    s = correlation_ci(x, y, method="spearman")
    rs = stats.spearmanr(x, y).statistic
    z, half = math.atanh(rs), 1.959964 * math.sqrt((1 + rs * rs / 2) / 25)
    assert (s.ci_low, s.ci_high) == pytest.approx((math.tanh(z - half), math.tanh(z + half)), abs=1e-6)
    assert (s.ci_high - s.ci_low) > (p.ci_high - p.ci_low) * 0.99  # the rank interval is the wider one


def test_correlation_is_not_invented_for_tiny_or_constant_data() -> None:
    assert math.isnan(correlation_ci([1, 2], [2, 1]).r)
    three = correlation_ci([1, 2, 3], [1, 3, 2])
    assert math.isfinite(three.r) and math.isnan(three.ci_low)  # no interval with n < 4
    assert math.isnan(correlation_ci([1, 1, 1, 1, 1], [1, 2, 3, 4, 5]).r)
    missing = correlation_ci([1, 2, np.nan, 4, 5, 6], [2, 1, 3, np.nan, 5, 7])
    assert missing.n == 4
    with pytest.raises(ValueError, match="method"):
        correlation_ci([1, 2, 3, 4], [1, 2, 3, 4], method="kendall")


def test_compute_correlations_table_and_bad_columns() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"exam": rng.normal(size=40)})
    df["win"] = df["exam"] + rng.normal(size=40)
    df["noise"] = rng.normal(size=40)
    out = compute_correlations(df, scores=["exam", "noise"], metrics=["win"], small_n=30)
    assert len(out) == 4 and set(out["method"]) == {"pearson", "spearman"}
    exam = out[(out["assessment"] == "exam") & (out["method"] == "pearson")].iloc[0]
    assert exam.ci_low > 0 and not exam.small_sample
    with pytest.raises(TrainingDataError, match="nope"):
        compute_correlations(df, scores=["nope"], metrics=["win"])


def test_correlation_chart_is_sized_for_the_rows_it_draws() -> None:
    """Issue 23: the chart was sized for every row of the table (5 scores x 4 metrics x 2 methods = 40) and drew
    5: about 2,500 px of blank page. Its height now follows the rows drawn, and codes read as words."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.analyses.training.plots import plot_correlations

    rng = np.random.default_rng(2)
    scores = ["final_exam", "cert_connect", "cert_discovery", "cert_demo", "cert_close"]
    metrics = ["quota_attainment", "mrr_per_month", "customer_churn_rate", "customer_lifetime_value"]
    df = pd.DataFrame({c: rng.normal(size=40) for c in scores + metrics})
    corr = compute_correlations(df, scores=scores, metrics=metrics, small_n=30)
    assert len(corr) == 40
    ax = plot_correlations(corr, metric="quota_attainment")
    width, height = ax.figure.get_size_inches()
    assert len(ax.get_yticks()) == 5 and height <= 4.0  # 5 rows: a few inches, not 21
    assert height < width
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert any(t.startswith("Final exam") for t in ticks) and not any("_" in t for t in ticks)
    plt.close(ax.figure)


# --------------------------------------------------------------------------- predictive comparison
def _hires(n: int, seed: int, training_effect: float = 1.0, hiring_effect: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"t1": rng.normal(size=n), "t2": rng.normal(size=n), "h1": rng.normal(size=n),
                       "h2": rng.normal(size=n), "h3": rng.normal(size=n)})
    df["success"] = training_effect * df["t1"] + hiring_effect * df["h1"] + rng.normal(scale=0.6, size=n)
    return df


def test_corrected_resampled_t_interval_worked_by_hand() -> None:
    """values 0.1, 0.3, 0.2, 0.4 with test share 1/4: mean 0.25, s² = 0.016667, corrected variance
    (1/4 + 1/3) s² = 0.0097222, se = 0.098601, t(0.975, 3) = 3.182446 -> 0.25 -+ 0.313790."""
    mean, low, high = _corrected_t_interval(np.array([0.1, 0.3, 0.2, 0.4]), test_share=0.25, level=0.95)
    assert mean == pytest.approx(0.25)
    assert (low, high) == pytest.approx((0.25 - 0.313790, 0.25 + 0.313790), abs=1e-5)


def test_training_beats_hiring_when_planted_in_a_frame() -> None:
    cmp = PredictiveComparison(folds=5, repeats=10, seed=3).fit(_hires(80, 1), outcome="success",
                                                                 hiring=["h1", "h2", "h3"], training=["t1", "t2"])
    s = cmp.summary.set_index("model")
    assert s.loc["training", "cv_r2"] > 0.5 > s.loc["hiring", "cv_r2"]
    d = cmp.differences_.set_index("comparison").loc["training - hiring"]
    assert d.ci_low > 0
    assert cmp.verdict_.startswith("Training scores predict sales success better")
    assert set(cmp.fold_scores_["repeat"]) == set(range(10)) and len(cmp.fold_scores_) == 50
    assert cmp.predictions_["training"].notna().all()
    # the same seed gives the same report
    again = PredictiveComparison(folds=5, repeats=10, seed=3).fit(_hires(80, 1), outcome="success",
                                                                   hiring=["h1", "h2", "h3"], training=["t1", "t2"])
    pd.testing.assert_frame_equal(cmp.summary, again.summary)


def test_hiring_beats_training_and_no_difference_are_said_as_such() -> None:
    hiring = PredictiveComparison(repeats=10, seed=1).fit(_hires(80, 2, training_effect=0, hiring_effect=1),
                                                          outcome="success", hiring=["h1", "h2"], training=["t1"])
    assert hiring.verdict_.startswith("Hiring scores predict")
    neither = PredictiveComparison(repeats=10, seed=1).fit(_hires(60, 3, training_effect=0), outcome="success",
                                                           hiring=["h1", "h2"], training=["t1", "t2"])
    d = neither.differences_.set_index("comparison").loc["training - hiring"]
    assert d.ci_low < 0 < d.ci_high
    assert neither.verdict_.startswith("Neither training nor hiring scores predict") and neither.verdict_code_ == "neither"


@pytest.mark.parametrize("n,training_effect,hiring_effect,code,words", [
    (80, 1.0, 0.0, "training", "Training scores predict sales success better"),
    (80, 0.0, 1.0, "hiring", "Hiring scores predict sales success better"),
    (80, 1.0, 1.0, "both", "Both training and hiring scores predict"),
    (80, 0.0, 0.0, "neither", "Neither training nor hiring scores predict"),  # an org where nothing has any effect
    (18, 0.0, 0.0, "too_few", "Too few people to tell"),  # 18 hires, no effect
])
def test_each_training_vs_hiring_verdict_is_stated_plainly(n, training_effect, hiring_effect, code, words) -> None:
    cmp = PredictiveComparison(repeats=10, seed=5).fit(_hires(n, 11, training_effect=training_effect,
                                                              hiring_effect=hiring_effect),
                                                       outcome="success", hiring=["h1"], training=["t1"])
    assert cmp.verdict_code_ == code, cmp.verdict_
    assert cmp.verdict_.startswith(words)


def test_too_few_hires_skip_wide_models_then_refuse() -> None:
    small = _hires(7, 4)
    cmp = PredictiveComparison(folds=5, repeats=3).fit(small, outcome="success", hiring=["h1", "h2", "h3"],
                                                       training=["t1", "t2"])
    assert "both" in cmp.skipped_ and "Too few hires to fit" in cmp.verdict_
    assert cmp.small_sample_ and list(cmp.summary["model"]) == ["hiring", "training"]
    assert cmp.verdict_.startswith("Too few people to tell") and cmp.verdict_code_ == "too_few"
    with pytest.raises(NotEnoughHiresError, match="Add hires"):
        PredictiveComparison().fit(small.head(4), outcome="success", hiring=["h1", "h2", "h3"], training=["t1", "t2"])
    with pytest.raises(NotEnoughHiresError, match="same"):
        PredictiveComparison().fit(small.assign(success=1.0), outcome="success", training=["t1"])


# --------------------------------------------------------------------------- pass mark


def _exam_frame(n: int, seed: int, step: float | None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    exam = rng.uniform(45, 100, size=n)
    success = rng.normal(1.0, 0.3, size=n)
    if step is not None:
        success = np.where(exam < step, success - 0.8, success)
    return pd.DataFrame({"exam": exam, "att": success})


def test_pass_mark_found_where_success_drops() -> None:
    bands = compute_exam_bands(_exam_frame(150, 5, step=65), score="exam", metric="att", edges=[55, 65, 75, 85])
    assert bands["n"].sum() == 150 and bands["judged"].all()
    mark = compute_pass_mark(bands, metric_label="attainment")
    assert mark.cutoff == 65 and mark.band == "55-65"
    assert mark.sentence.startswith("The data support an exam pass mark of 65")


def test_no_pass_mark_without_an_effect_and_lower_is_better() -> None:
    bands = compute_exam_bands(_exam_frame(150, 6, step=None), score="exam", metric="att", edges=[55, 65, 75, 85])
    assert compute_pass_mark(bands).cutoff is None
    # churn: lower is better; low scorers churn more -> they "fall short" of the median
    frame = _exam_frame(150, 7, step=65)
    frame["churn"] = -frame["att"]
    bands = compute_exam_bands(frame, score="exam", metric="churn", edges=[55, 65, 75, 85], higher_is_better=False)
    assert compute_pass_mark(bands).cutoff == 65
    tiny = compute_exam_bands(_exam_frame(8, 8, step=65), score="exam", metric="att", edges=[55, 65, 75, 85])
    assert not tiny["judged"].any() and compute_pass_mark(tiny).cutoff is None


# --------------------------------------------------------------------------- settings and pairing
def test_certification_pairs_from_the_list_and_the_prefix() -> None:
    s = TrainingSettings(certification_stages={"cert_connect": "connected", "cert_closing": "closed"})
    stages = ["attempted", "connected", "discovery", "demo", "won"]
    pairs = certification_pairs(["final_exam", "cert_connect", "cert_discovery", "cert_closing", "cert_other"],
                                stages, s)
    assert pairs == {"cert_connect": "connected", "cert_discovery": "discovery"}


def test_bad_training_settings_name_the_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "workbook.toml"
    cfg.write_text('[training]\ncertification_stages = ["cert_connect"]\n')
    with pytest.raises(ConfigError, match="training.certification_stages"):
        TrainingSettings.from_config(load_config(cfg))
    cfg.write_text("[training]\nscore_bands = [70, 60]\n")
    with pytest.raises(ConfigError, match="training.score_bands"):
        TrainingSettings.from_config(load_config(cfg))
    cfg.write_text("[training]\ncv_folds = 1\n")
    with pytest.raises(ConfigError, match="training.cv_folds"):
        TrainingSettings.from_config(load_config(cfg))
    assert TrainingSettings.from_config(load_config(None)).exam == "final_exam"


def test_certification_stage_table_from_frames() -> None:
    rng = np.random.default_rng(9)
    reps = [f"R{i}" for i in range(50)]
    skill = pd.DataFrame(rng.normal(size=(50, 2)), index=reps, columns=["connected", "demo"])
    scores = pd.DataFrame({"cert_connect": skill["connected"] + 0.3 * rng.normal(size=50),
                           "cert_demo": skill["demo"] + 0.3 * rng.normal(size=50)}, index=reps)
    conversion = skill.stack().rename("conversion_rate").reset_index()
    conversion.columns = ["rep_id", "stage", "conversion_rate"]
    conversion["stage_order"] = conversion["stage"].map({"connected": 2, "demo": 3})
    conversion["stage_label"] = conversion["stage"].str.title()
    table = compute_certification_stage_correlations(scores, conversion,
                                                     pairs={"cert_connect": "connected", "cert_demo": "demo"})
    paired = table[table["paired"]]
    assert len(table) == 4 and (paired["best_stage"] == paired["stage"]).all() and (paired["r"] > 0.8).all()
    with pytest.raises(TrainingDataError, match="no certifications"):
        compute_certification_stage_correlations(scores, conversion, pairs={})


# --------------------------------------------------------------------------- generated organisations
# (seed, reps, months): the committed sample plus three other seeds and sizes
ORGS = {"sample": None, "seed3_60reps": (3, 60, 8), "seed21_80reps": (21, 80, 6), "seed5_40reps": (5, 40, 9)}


def _analyse(data_dir: Path):
    from helpers.reporting.context import start_report
    from helpers.analyses.training.report import analyse

    report = start_report("02_training_score_correlation", config_path=WORKBOOK, data_dir=str(data_dir))
    return analyse(report)


@pytest.fixture(scope="session")
def org_dirs(generated_org) -> dict[str, Path]:
    dirs = {}
    for name, args in ORGS.items():
        if args is None:
            dirs[name] = SAMPLE_DATA_DIR
            continue
        dirs[name] = generated_org(seed=args[0], reps=args[1], months=args[2])  # shared, read only (conftest.py)
    return dirs


@pytest.fixture(scope="session")
def analyses(org_dirs: dict[str, Path]) -> dict:
    return {name: _analyse(path) for name, path in org_dirs.items()}


@pytest.mark.parametrize("name", list(ORGS))
def test_planted_training_beats_hiring(analyses: dict, name: str) -> None:
    a = analyses[name]
    assert a.n >= 35 and len(a.traits) == 6
    s = a.comparison.summary.set_index("model")["cv_r2"]
    d = a.comparison.differences_.set_index("comparison").loc["training - hiring"]
    assert s["training"] > s["hiring"] and d.difference > 0.1
    if a.n >= 50:  # enough hires for the interval to exclude no difference
        assert d.ci_low > 0, a.comparison.verdict_
    exam = a.correlations[(a.correlations["assessment"] == "final_exam") & (a.correlations["method"] == "pearson")
                          & (a.correlations["metric"] == "quota_attainment")].iloc[0]
    assert exam.ci_low > 0.3  # the exam loads 0.92 on ability; attainment is ability plus luck


@pytest.mark.parametrize("name", list(ORGS))
def test_each_certification_tracks_the_stage_it_covers(analyses: dict, org_dirs: dict, name: str) -> None:
    import json

    truth = json.loads((org_dirs[name] / "ground_truth.json").read_text())["training"]["certification_stage"]
    a = analyses[name]
    assert a.pairs == truth
    table = a.stage_table
    paired = table[table["paired"]]
    own_best = int((paired["best_stage"] == paired["stage"]).sum())
    assert own_best >= (4 if a.n >= 50 else 3), paired
    assert paired["r"].mean() > table.loc[~table["paired"], "r"].mean() + 0.15
    assert (paired["ci_low"] > 0).sum() >= 3


def test_sample_report_records_verdict_pass_mark_and_no_small_sample_warning(analyses: dict) -> None:
    a = analyses["sample"]
    a.report.record_inputs()
    a.record(a.report.results)
    res = a.report.results.results
    assert res.headline.startswith("Training scores predict quota attainment after ramp better")
    assert res.key_figure.name == "r_final_exam_quota_attainment" and res.key_figure.n == a.n
    assert {"cv_r2_training_minus_hiring", "exam_pass_mark"} <= {f.name for f in res.figures}
    assert {"correlations", "predictive_comparison", "certification_stages", "exam_bands"} <= set(res.details)
    assert not any("fewer than" in w for w in res.warnings)
    assert a.pass_mark.cutoff is not None and "pass mark" in a.pass_mark_text()


def test_twenty_hires_get_the_small_sample_warning(tmp_path: Path) -> None:
    generate_org(tmp_path, seed=8, reps=20, months=8)
    a = _analyse(tmp_path)
    assert 15 <= a.n < 30 and a.small
    assert "WARNING" in a.hires_text()
    a.report.record_inputs()
    a.record(a.report.results)
    res = a.report.results.results
    assert any("fewer than 30" in w for w in res.warnings)
    assert "Few hires" in res.headline


def test_missing_optional_tables_are_said_not_crashed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    for table in ("hiring_scores", "activities"):
        for f in data.glob(f"{table}.*"):
            f.unlink()
    a = _analyse(data)
    assert a.traits == [] and "no hiring_scores" in " ".join(a.notes)
    assert a.comparison.verdict_.startswith("Only training scores only could be assessed")
    assert a.stage_table is None and "activities" in a.stage_text()
    a.report.record_inputs()
    a.record(a.report.results)
    warnings = " ".join(a.report.results.results.warnings)
    assert "hiring_scores" in warnings and "activities" in warnings


def test_duplicated_training_rows_are_named(tmp_path: Path) -> None:
    from helpers.data.engine import FolderSource
    from helpers.analyses.training.model import training_scores_wide

    (tmp_path / "reps.csv").write_text("rep_id,name,role,hire_date\nR1,Ana,ae,2024-01-01\n")
    (tmp_path / "training_scores.csv").write_text(
        "rep_id,assessment,score,assessed_at\nR1,final_exam,80,2024-01-15\nR1,final_exam,70,2024-01-16\n")
    with FolderSource(tmp_path) as source, pytest.raises(TrainingDataError, match="R1/final_exam"):
        training_scores_wide(source)


def test_hiring_trait_scores_in_the_engine_match_pandas() -> None:
    from helpers.data.engine import FolderSource
    from helpers.analyses.training.model import hiring_trait_scores

    with FolderSource(SAMPLE_DATA_DIR) as source:
        ours = hiring_trait_scores(source, ["coachability", "aggressiveness", "not_a_trait"])
        raw = source.read("hiring_scores")
    hired = raw.dropna(subset=["rep_id"])
    expected = hired.groupby(["rep_id", "trait"])["score"].mean().unstack()[["coachability", "aggressiveness"]]
    expected.columns.name = None
    pd.testing.assert_frame_equal(ours, expected.astype("float64"), check_names=False)


@pytest.mark.parametrize("name", ["sample", "seed5_40reps"])
def test_hiring_scores_are_calibrated_as_in_notebook_01(analyses: dict, org_dirs: dict, name: str) -> None:
    """[hiring] calibrate_interviewers (true by default) makes 02 compare the leniency-calibrated trait
    scores of notebook 01 (helpers.analyses.hiring.model.hire_trait_scores), not raw interview means."""
    from helpers.data.engine import FolderSource
    from helpers.analyses.hiring.model import hire_trait_scores
    from helpers.analyses.training.model import hiring_trait_scores

    a = analyses[name]
    assert a.hiring_calibrated and "leniency" in a.comparison_text()
    with FolderSource(org_dirs[name]) as source:
        raw_scores = source.read("hiring_scores")
        raw_means = hiring_trait_scores(source, a.traits)
    calibrated = hire_trait_scores(raw_scores, traits=a.traits, calibrate=True)
    ours = a.data[a.traits]
    pd.testing.assert_frame_equal(ours, calibrated.loc[ours.index], check_names=False, check_index_type=False)
    # the planted interviewer leniency is real: calibration moves the scores
    assert (ours - raw_means.loc[ours.index]).abs().to_numpy().max() > 0.1


def test_calibration_off_uses_raw_interview_means(tmp_path: Path) -> None:
    from helpers.data.engine import FolderSource
    from helpers.analyses.training.model import hiring_trait_scores

    cfg = tmp_path / "workbook.toml"
    cfg.write_text((PROJECT_ROOT / "workbook.toml").read_text().replace(
        "[hiring]\n", "[hiring]\ncalibrate_interviewers = false\n", 1).replace(
        'dir = "data/sample"', f'dir = "{SAMPLE_DATA_DIR.as_posix()}"'))
    from helpers.reporting.context import start_report
    from helpers.analyses.training.report import analyse

    a = analyse(start_report("02_training_score_correlation", config_path=str(cfg),
                             data_dir=str(SAMPLE_DATA_DIR)))
    assert not a.hiring_calibrated and "raw trait scores" in a.comparison_text()
    with FolderSource(SAMPLE_DATA_DIR) as source:
        raw_means = hiring_trait_scores(source, a.traits)
    pd.testing.assert_frame_equal(a.data[a.traits], raw_means.loc[a.data.index], check_names=False,
                                  check_index_type=False)


def test_explorer_widget_recomputes_for_the_chosen_scores(analyses: dict) -> None:
    a = analyses["sample"]
    box = a.explorer()
    metric, scores = box.children[:2]
    assert metric.value == a.primary and scores.value == tuple(a.assessments)
    scores.value = (a.settings.exam,)  # re-computes the correlations and the comparison without error
    metric.value = a.metrics[-1]
    assert box.kwargs == {"metric": a.metrics[-1], "scores": (a.settings.exam,)}
