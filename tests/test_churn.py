"""Churn by rep: the window rule at its boundaries, quartiles and ties, Kaplan-Meier, and the planted truths."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.analyses.compensation.churn import (ChurnDataError, ChurnQuartiles, RetentionCurves, churn_rates, customer_cohorts,
                           retention_durations, within_months)
from helpers.data.engine import open_source
from helpers.paths import SAMPLE_DATA_DIR
from helpers.data.reductions import rep_churn

HEADER = "customer_id,deal_id,closing_rep_id,consultant_id,start_date,churn_date,mrr,billing_term\n"


def folder(tmp_path: Path, customers: str) -> Path:
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "customers.csv").write_text(HEADER + customers, encoding="utf-8")
    return data


# --------------------------------------------------------------------------- the window rule
# (start, churn, inside a 4-month window?) -- start_date is day 1 of the customer's life
BOUNDARIES = [
    ("2025-01-01", "2025-04-30", True),   # day 120 of a 120-day window (Jan-Apr 2025)
    ("2025-01-01", "2025-05-01", False),  # day 121: the first day after it
    ("2024-03-01", "2024-06-30", True),   # day 122: calendar months, so this window holds 122 days
    ("2025-01-31", "2025-05-30", True),   # window ends the same day four months later: 31 May
    ("2025-01-31", "2025-05-31", False),
    ("2024-10-31", "2025-02-27", True),   # 31 October + 4 months clamps to 28 February
    ("2024-10-31", "2025-02-28", False),
    ("2025-01-01", "2025-01-01", True),   # lost on its first day
]


def test_window_rule_day_120_vs_121_and_month_ends_in_python_and_in_the_engine(tmp_path: Path) -> None:
    rows = "".join(f"C{i},D{i},R{i},,{s},{c},100.00,monthly\n" for i, (s, c, _) in enumerate(BOUNDARIES))
    source = open_source(data_dir=folder(tmp_path, rows))
    cohorts = customer_cohorts(source, window_months=4, clawback_months=4, as_of="2025-12-31")
    engine = cohorts.groupby("rep_id")["churned_in_window"].any()
    clawed = cohorts.groupby("rep_id")["clawback_month"].first()
    for i, (start, churn, inside) in enumerate(BOUNDARIES):
        assert within_months(start, churn, 4) is inside, (start, churn)
        assert bool(engine[f"R{i}"]) is inside, (start, churn)
        assert (clawed[f"R{i}"] == churn[:7]) if inside else clawed[f"R{i}"] is None
    # the 30-day-month reading would disagree on the March window: day 122 is past 120 days
    assert (pd.Timestamp("2024-06-30") - pd.Timestamp("2024-03-01")).days + 1 == 122


def test_only_closed_windows_are_judged_and_later_churn_is_unknown(tmp_path: Path) -> None:
    rows = ("A,,R1,,2025-01-01,2025-02-01,100,monthly\n"      # judged, lost
            "B,,R1,,2025-01-15,,200,monthly\n"                # judged, kept
            "C,,R1,,2025-03-15,2025-04-01,50,monthly\n"       # window closes 2025-07-15: not judged on 30 June
            "D,,R1,,2025-02-01,2025-07-10,80,annual_prepay\n")  # churn after as_of: still a customer then
    source = open_source(data_dir=folder(tmp_path, rows))
    cohorts = customer_cohorts(source, window_months=4, clawback_months=4, as_of="2025-06-30")
    rates = churn_rates(cohorts, at_month="2025-06", window_months=4).set_index("rep_id")
    assert rates.loc["R1", ["customers", "customers_judged", "churned_in_window", "churned_by_now"]].tolist() == \
        [4, 3, 1, 2]
    assert rates.loc["R1", "churn_rate"] == pytest.approx(1 / 3)
    assert cohorts["retained_mrr_cents"].sum() == 28000  # B and D still pay on 30 June
    # replayed as of the end of April, only January's customers had a closed window (A: Jan 1 -> May 1, not yet)
    april = churn_rates(cohorts, at_month="2025-04", window_months=4, as_of_month="2025-06").set_index("rep_id")
    assert april.loc["R1", "customers_judged"] == 0 and np.isnan(april.loc["R1", "churn_rate"])


def test_wilson_interval_matches_the_textbook_value() -> None:
    """3 lost of 10 judged: Wilson 95% interval (0.1078, 0.6032), by the closed formula by hand:
    (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = 1.95996."""
    cohorts = pd.DataFrame({"rep_id": ["R1", "R1"], "start_month": ["2025-01", "2025-01"],
                            "billing_term": ["monthly"] * 2, "window_done": [True, True],
                            "churned_in_window": [True, False], "clawback_month": [None, None],
                            "churned": [True, False], "customers": [3, 7], "mrr_cents": [0, 0],
                            "retained_mrr_cents": [0, 0]})
    row = churn_rates(cohorts, at_month="2025-12", window_months=4).iloc[0]
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(0.10779, abs=1e-4), pytest.approx(0.60322, abs=1e-4))


# --------------------------------------------------------------------------- quartiles
def rates(values: list[float], judged: int | list[int] = 20) -> pd.DataFrame:
    n = judged if isinstance(judged, list) else [judged] * len(values)
    return pd.DataFrame({"rep_id": [f"R{i}" for i in range(len(values))], "customers_judged": n,
                         "churned_in_window": [round(v * j) for v, j in zip(values, n)], "churn_rate": values,
                         "ci_low": values, "ci_high": values})


def test_quartiles_without_ties_hold_a_quarter_each_lowest_churn_best() -> None:
    fitted = ChurnQuartiles().fit(rates([0.40, 0.05, 0.30, 0.10, 0.20, 0.15, 0.35, 0.25])).ranking_
    by_rep = fitted.set_index("rep_id")
    order = ["R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7"]  # rates 40, 5, 30, 10, 20, 15, 35, 25 %
    assert by_rep.loc[order, "quartile"].tolist() == [4, 1, 3, 1, 2, 2, 4, 3]
    assert by_rep.loc["R0", "quartile"] == 4 and by_rep.loc["R1", "quartile"] == 1
    assert by_rep.loc["R0", "multiplier"] == 0.5 and by_rep.loc["R1", "multiplier"] == 2.0
    assert (fitted["status"] == "ranked").all()


def test_ties_share_the_better_quartile_and_all_ties_are_all_top() -> None:
    fitted = ChurnQuartiles().fit(rates([0.1, 0.2, 0.2, 0.2, 0.3, 0.4, 0.5, 0.5])).ranking_.set_index("rep_id")
    # ranks 1, 2, 2, 2, 5, 6, 7, 7 of 8 -> quartile floor(4 (rank - 1) / 8) + 1
    assert fitted.loc[[f"R{i}" for i in range(8)], "rank"].tolist() == [1, 2, 2, 2, 5, 6, 7, 7]
    assert fitted.loc[[f"R{i}" for i in range(8)], "quartile"].tolist() == [1, 1, 1, 1, 3, 3, 4, 4]
    same = ChurnQuartiles().fit(rates([0.0] * 6)).ranking_
    assert (same["quartile"] == 1).all() and (same["multiplier"] == 2.0).all()


def test_fewer_than_four_eligible_reps_rank_nobody_and_small_books_wait() -> None:
    fitted = ChurnQuartiles(min_customers=10).fit(rates([0.1, 0.2, 0.3, 0.9], judged=[12, 30, 15, 9])).ranking_
    by_rep = fitted.set_index("rep_id")
    assert by_rep.loc["R3", "status"] == "not enough customers yet"
    assert set(by_rep.loc[["R0", "R1", "R2"], "status"]) == {"too few ranked reps for quartiles"}
    assert by_rep["quartile"].isna().all() and (by_rep["multiplier"] == 1.0).all()
    custom = ChurnQuartiles(multipliers=(3, 2, 1, 0), unranked_multiplier=0.75).fit(rates([0.1, 0.2, 0.3], judged=5))
    assert (custom.ranking_["multiplier"] == 0.75).all()
    with pytest.raises(ValueError, match="min_reps"):
        ChurnQuartiles(min_reps=3)
    with pytest.raises(ChurnDataError, match="twice"):
        ChurnQuartiles().fit(pd.concat([rates([0.1]), rates([0.2])]))


# --------------------------------------------------------------------------- Kaplan-Meier
def test_kaplan_meier_matches_a_hand_computed_product_limit(tmp_path: Path) -> None:
    """Six customers followed 2 (lost), 3 (still paying), 5 (lost), 5 (lost), 8 (still paying), 10 (lost) days.

    By hand: S(2) = 5/6; at day 5 four are at risk and two leave: S(5) = 5/6 x 2/4 = 5/12; at day 10 the one
    left leaves: S(10) = 0. Greenwood's variance at day 2: S^2 x 1/(6 x 5) -> se = 0.15215.
    """
    rows = ("A,,R1,,2025-01-01,2025-01-03,10,monthly\nB,,R1,,2025-01-28,,10,monthly\n"
            "C,,R1,,2025-01-01,2025-01-06,10,monthly\nD,,R1,,2025-01-02,2025-01-07,10,monthly\n"
            "E,,R1,,2025-01-23,,10,monthly\nF,,R1,,2025-01-01,2025-01-11,10,monthly\n"
            "G,,R1,,2025-02-01,2025-03-01,10,monthly\n")  # G starts after as_of: not followed yet
    source = open_source(data_dir=folder(tmp_path, rows))
    durations = retention_durations(source, as_of="2025-01-31")
    assert durations["customers"].sum() == 6
    km = RetentionCurves().fit(durations)
    curve = km.curves_["R1"].set_index("days")
    assert curve["retention"].to_dict() == pytest.approx({2.0: 5 / 6, 5.0: 5 / 12, 10.0: 0.0})
    assert km.retention_at(4).iloc[0] == pytest.approx(5 / 6)
    assert km.retention_at(1).iloc[0] == 1.0 and np.isnan(km.retention_at(11).iloc[0])  # followed 10 days at most
    from statsmodels.duration.survfunc import SurvfuncRight

    se = SurvfuncRight(np.array([2, 3, 5, 5, 8, 10.0]), np.array([1, 0, 1, 1, 0, 1])).surv_prob_se[0]
    assert se == pytest.approx((5 / 6) * np.sqrt(1 / 30), abs=1e-6) == pytest.approx(0.15215, abs=1e-5)
    assert 0 < curve.loc[2.0, "ci_low"] < 5 / 6 < curve.loc[2.0, "ci_high"] < 1


# --------------------------------------------------------------------------- planted truths
ORGS = {"sample": None, "seed3_30reps_12m": (3, 30, 12), "seed5_60reps_10m": (5, 60, 10),
        "seed13_40reps_9m": (13, 40, 9)}


@pytest.fixture(scope="session", params=list(ORGS))
def org(request: pytest.FixtureRequest, generated_org) -> Path:
    args = ORGS[request.param]
    if args is None:
        return SAMPLE_DATA_DIR
    return generated_org(seed=args[0], reps=args[1], months=args[2])  # shared, read only (conftest.py)


def _org_rates(org: Path, attribution: str = "closing_rep") -> tuple[pd.DataFrame, dict, str]:
    truth = json.loads((org / "ground_truth.json").read_text())
    month = truth["generator"]["end_month"]
    cohorts = customer_cohorts(open_source(data_dir=org), window_months=4, clawback_months=4,
                               as_of=truth["generator"]["as_of"][:10], attribution=attribution)
    return cohorts, truth, month


def test_pressure_sellers_land_in_the_bottom_quartile(org: Path) -> None:
    cohorts, truth, month = _org_rates(org)
    rates_ = churn_rates(cohorts, at_month=month, window_months=4, lookback_months=12)
    ranking = ChurnQuartiles().fit(rates_).ranking_.set_index("rep_id")
    pressure = truth["churn"]["pressure_sellers"]
    assert (ranking.loc[pressure, "status"] == "ranked").all()
    assert (ranking.loc[pressure, "quartile"] == 4).all(), ranking.loc[pressure, ["churn_rate", "quartile"]]
    others = ranking.drop(pressure)
    assert (others["quartile"] == 4).sum() <= len(ranking.dropna(subset=["quartile"])) // 4  # not all of q4 by ties


def test_consultants_and_billing_terms_show_their_planted_difference(org: Path) -> None:
    cohorts, truth, month = _org_rates(org, "consultant")
    cons = churn_rates(cohorts, at_month=month, window_months=4).set_index("rep_id")["churn_rate"]
    third = -(-len(cons) // 3)
    assert truth["churn"]["best_consultant"] in cons.nsmallest(third).index
    assert truth["churn"]["worst_consultant"] in cons.nlargest(third).index
    reps, _, _ = _org_rates(org)
    billing = churn_rates(reps.assign(rep_id=reps["billing_term"]), at_month=month, window_months=4)
    billing = billing.set_index("rep_id")
    assert billing.loc["annual_prepay", "churn_rate"] < 0.6 * billing.loc["monthly", "churn_rate"]


def test_churn_rates_agree_with_the_shared_rep_churn_reduction() -> None:
    cohorts, truth, month = _org_rates(SAMPLE_DATA_DIR)
    ours = churn_rates(cohorts, at_month=month, window_months=4).set_index("rep_id")
    shared = rep_churn(open_source(data_dir=SAMPLE_DATA_DIR), window_months=4, as_of=truth["generator"]["as_of"][:10])
    shared = shared[shared["attribution"] == "closing_rep"].set_index("rep_id")
    assert ours["customers_judged"].to_dict() == shared["customers_observed"].to_dict()
    assert ours["churned_in_window"].to_dict() == shared["churned_within_window"].to_dict()
    assert ours["customers"].to_dict() == shared["customers"].to_dict()


# --------------------------------------------------------------------------- do reps differ beyond chance? (issue 19)
def _team(rates: np.ndarray, customers: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = rng.integers(customers // 2, customers * 2, len(rates))
    return pd.DataFrame({"rep_id": [f"R{i:02d}" for i in range(len(rates))], "customers_judged": n,
                         "churned_in_window": rng.binomial(n, rates)})


def test_churn_heterogeneity_worked_by_hand() -> None:
    """Two reps: 10 of 50 and 30 of 50 churned; pooled p = 0.4; X² = (10-20)²/12 + (30-20)²/12 = 16.67 on 1 df."""
    from scipy import stats as st

    from helpers.analyses.compensation.churn import ChurnHeterogeneity

    h = ChurnHeterogeneity().fit(pd.DataFrame({"rep_id": ["a", "b"], "customers_judged": [50, 50],
                                               "churned_in_window": [10, 30]}))
    assert h.statistic_ == pytest.approx(100 / 12 * 2) and h.df_ == 1
    assert h.p_value_ == pytest.approx(st.chi2.sf(100 / 6, 1)) and h.differ_
    assert "differs between salespeople beyond chance" in h.sentence()


def test_churn_heterogeneity_false_alarm_rate_and_power_by_simulation() -> None:
    """400 teams of 30 reps, 15-80 judged customers each. All reps share one churn rate (12%): the test says
    'differ' in about 5% of teams. Reps differ (6% vs 20%, as pressure sellers): it says so almost always.
    Shrunken rates sit between each rep's raw rate and the pooled rate."""
    from helpers.analyses.compensation.churn import ChurnHeterogeneity

    null = [ChurnHeterogeneity().fit(_team(np.full(30, 0.12), 40, seed)).differ_ for seed in range(400)]
    assert np.mean(null) <= 0.075, np.mean(null)
    mixed = np.where(np.arange(30) < 8, 0.20, 0.06)
    real = [ChurnHeterogeneity().fit(_team(mixed, 40, 1000 + seed)) for seed in range(100)]
    assert np.mean([h.differ_ for h in real]) >= 0.9
    r = real[0].rates_
    raw = r["churned_in_window"] / r["customers_judged"]
    assert ((r["shrunk_rate"] - r["pooled_rate"]).abs() <= (raw - r["pooled_rate"]).abs() + 1e-12).all()


def test_quartiles_without_heterogeneity_name_nobody_for_training() -> None:
    """An org where churn does not differ by rep beyond chance: the page says the quartiles are noise this
    period, names no rep for training, and keeps paying by quartile (the plan's mechanics)."""
    from dataclasses import replace

    from helpers.analyses.compensation.churn import ChurnHeterogeneity
    from helpers.analyses.compensation.report import analyse
    from helpers.reporting.context import start_report

    report = start_report("04_compensation_churn_quartiles")
    comp = analyse(report)
    assert comp.heterogeneity.differ_ and comp.training_list()  # the sample plants pressure sellers
    ranked = comp.ranking[comp.ranking["status"] == "ranked"]
    pooled = ranked["churned_in_window"].sum() / ranked["customers_judged"].sum()
    null = ranked.assign(churned_in_window=np.round(ranked["customers_judged"] * pooled).astype(int))
    flat = replace(comp, heterogeneity=ChurnHeterogeneity().fit(null))
    assert not flat.heterogeneity.differ_ and flat.training_list() == []
    flat.record(report.results)
    res = report.results.results
    names = [comp.names.get(r, r) for r in comp.training_list()]
    assert "quartiles are noise this period" in res.headline and not any(n in res.headline for n in names)
    texts = " ".join(f.text for f in res.findings)
    assert "nobody is named" in texts and "sold something they did not need" not in texts
