"""Issue 18, real data first: the five shapes real organisations export validate as exported and yield
the analyses they support, with numbers checked by hand (tests/real_shapes.py describes each shape and the
public dataset it follows). Degenerate data (zero, constant, one row, all missing) gives a sentence, never
a crash or ``inf``."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import real_shapes  # noqa: E402
from helpers.analyses.sales_rates import model as m  # noqa: E402
from helpers.analyses.sales_rates.report import SalesRatesSettings, analyse_source  # noqa: E402
from helpers.core.config import load_config  # noqa: E402
from helpers.data.engine import open_source  # noqa: E402
from helpers.data.validate import validate_folder  # noqa: E402

NOW = pd.Timestamp("2027-01-01", tz="UTC")
SETTINGS = SalesRatesSettings()


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score interval at 95%, written out (z = 1.959964)."""
    z = 1.959964
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def validated(folder: Path):
    report = validate_folder(folder, load_config(), now=NOW)
    assert report.ok, report.format()
    return report


def by(frame: pd.DataFrame, key: str = "group") -> pd.DataFrame:
    return frame.set_index(key)


# ------------------------------------------------------------------------------------ 1. a call log
def test_call_log_validates_as_exported_and_gives_conversion_by_attempt(tmp_path):
    folder = real_shapes.call_log(tmp_path / "dialler")
    report = validated(folder)
    note = [p for p in report.infos if p.code == "open_value"]
    assert len(note) == 1 and note[0].column == "outcome" and "'busy'" in note[0].message
    source = open_source(data_dir=folder)
    a = m.conversion_by_attempt(source, max_attempt=5).set_index("attempt")
    # call 1: all 6 leads unconnected, L2 and L5 connect (L5 won); call 2: L1, L3, L4 reach it, L1 and L4
    # connect (both won); call 3: only L3, no connect
    assert a.loc[1, ["reached", "connected", "won"]].tolist() == [6, 2, 1]
    assert a.loc[2, ["reached", "connected", "won"]].tolist() == [3, 2, 2]
    assert a.loc[3, ["reached", "connected", "won"]].tolist() == [1, 0, 0]
    assert a.loc[4, "reached"] == 0 and np.isnan(a.loc[4, "connect_rate"])
    assert a.loc[1, "connect_rate"] == pytest.approx(2 / 6)
    assert (a.loc[1, "connect_ci_low"], a.loc[1, "connect_ci_high"]) == pytest.approx(wilson(2, 6), abs=1e-6)
    assert a.loc[2, "won_rate"] == 1.0
    assert a.attrs["leads_called"] == 6 and a.attrs["never_connected_won"] == 0


def test_call_log_runs_every_part_it_supports_and_names_the_one_it_cannot(tmp_path):
    source = open_source(data_dir=real_shapes.call_log(tmp_path / "dialler"))
    analysis = analyse_source(source, SETTINGS)
    ran = {p["name"]: p["ran"] for p in analysis.parts}
    assert ran == {"win_rate_by_seller": True, "funnel_by_owner": True, "funnel_by_source": False,
                   "conversion_by_attempt": True, "lead_win_probability": True}
    assert analysis.parts_text() == ("Funnel by lead source: not shown, the data has no leads.source.")
    owner = by(analysis.funnel_owner)
    assert owner.loc["c1", ["leads", "with_deal", "won"]].tolist() == [3, 1, 1]
    assert owner.loc["c2", ["leads", "with_deal", "won"]].tolist() == [3, 2, 2]
    assert owner.loc["all", "lead_win_rate"] == 0.5
    wins = by(analysis.win_rates, "rep_id")
    assert wins.loc["all", ["closed", "won"]].tolist() == [3, 3] and np.isnan(wins.loc["all", "won_mrr"])
    value = analysis.lead_value
    assert value.attrs["money"] is False and np.isnan(value["value_mrr"]).all()
    assert by(value).loc["unknown", ["leads", "won"]].tolist() == [6, 3]  # no source column: one source
    assert "no deal amounts are known" in analysis.lead_value_text()
    assert "6 leads were called; 33% connected on the first call" in analysis.attempt_text()


# ------------------------------------------------------------------------------------ 2. leads + closed deals
def test_leads_and_closed_deals_keep_unknown_sources_and_give_the_funnel_by_source(tmp_path):
    folder = real_shapes.leads_and_closed_deals(tmp_path / "funnel")
    report = validated(folder)
    note = [p for p in report.infos if p.code == "open_value" and p.column == "source"]
    assert len(note) == 1 and "'direct_traffic' (2x)" in note[0].message and "'display'" in note[0].message
    assert "'unknown'" not in note[0].message  # unknown / empty read as "unknown", a level of its own
    source = open_source(data_dir=folder)
    f = by(m.funnel_by(source, "source"))
    assert f.loc["all", ["leads", "with_deal", "won"]].tolist() == [8, 3, 3]
    assert f.loc["organic_search", ["leads", "won"]].tolist() == [3, 1]
    assert f.loc["direct_traffic", ["leads", "won"]].tolist() == [2, 1]
    assert f.loc["unknown", ["leads", "won"]].tolist() == [2, 1]  # L7 "unknown" and L8 empty
    assert f.loc["display", ["leads", "won"]].tolist() == [1, 0]
    assert f.loc["organic_search", "lead_win_rate"] == pytest.approx(1 / 3)
    assert (f.loc["all", "lead_win_ci_low"], f.loc["all", "lead_win_ci_high"]) == pytest.approx(wilson(3, 8), abs=1e-6)
    owner = by(m.funnel_by(source, "owner"))  # no owner column: the deal's rep, else unassigned
    assert owner.loc["s1", ["leads", "won"]].tolist() == [2, 2] and owner.loc["unassigned", "leads"] == 5
    # mapped in the configuration: direct_traffic is read as direct, never merged silently otherwise
    source.category_map = {"source": {"direct_traffic": "direct"}}
    source._typed.clear()
    mapped = by(m.funnel_by(source, "source"))
    assert "direct_traffic" not in mapped.index and mapped.loc["direct", ["leads", "won"]].tolist() == [2, 1]


def test_amounts_all_zero_give_counts_not_dollars(tmp_path):
    source = open_source(data_dir=real_shapes.leads_and_closed_deals(tmp_path / "funnel"))
    analysis = analyse_source(source, SETTINGS)
    assert all(p["ran"] for p in analysis.parts if p["name"] != "conversion_by_attempt")
    wins = by(analysis.win_rates, "rep_id")
    assert wins.loc["s1", ["closed", "won"]].tolist() == [2, 2] and np.isnan(wins["won_mrr"]).all()
    text = analysis.win_rate_text() + analysis.lead_value_text()
    assert "no deal amounts" in text.lower() and "$" not in text and "inf" not in text


# ------------------------------------------------------------------------------------ 3. deals only
def test_deals_with_seller_and_outcome_only_give_win_rate_by_seller(tmp_path):
    folder = real_shapes.deals_only(tmp_path / "pipeline")
    validated(folder)
    analysis = analyse_source(open_source(data_dir=folder), SETTINGS)
    assert [p["name"] for p in analysis.parts if p["ran"]] == ["win_rate_by_seller"]
    w = by(analysis.win_rates, "rep_id")
    assert w.loc["ana", ["closed", "won", "open"]].tolist() == [3, 2, 1]
    assert w.loc["ben", ["closed", "won"]].tolist() == [3, 1]
    assert w.loc["all", "win_rate"] == 0.5
    assert (w.loc["all", "ci_low"], w.loc["all", "ci_high"]) == pytest.approx((0.1876, 0.8124), abs=1e-4)
    assert w.loc["ana", "won_mrr"] == 1500.0 and w.loc["all", "won_mrr"] == 2300.0  # dollars where amounts exist
    assert w.loc["ana", "name"] == "Ana Silva"
    text = analysis.win_rate_text()
    assert text.startswith("3 of 6 closed deals were won (50%") and "No seller has 30 closed deals" in text


# ------------------------------------------------------------------------------------ 4. an A/B table
def test_ab_table_without_dates_or_registry_is_analysed_as_finished(tmp_path):
    from helpers.analyses.experiments.model import ExperimentReview

    folder = real_shapes.ab_table(tmp_path / "ab")
    validated(folder)
    review = ExperimentReview.from_config(load_config()).fit(open_source(data_dir=folder), as_of="2026-05-31")
    row = review.summary.iloc[0]
    assert row["experiment_id"] == "landing_page" and row["status"] == "finished"
    assert row["metric_type"] == "rate" and row["n_control"] == 40 and row["n_treatment"] == 40
    assert row["control"] == pytest.approx(0.2) and row["treatment"] == pytest.approx(0.4)
    assert row["effect"] == pytest.approx(0.2)


# ------------------------------------------------------------------------------------ 5. a CRM without scorecards
def test_crm_without_scorecards_validates_and_counts_tenure_from_the_first_quota_month(tmp_path):
    folder = real_shapes.crm_without_scorecards(tmp_path / "crm")
    validated(folder)
    source = open_source(data_dir=folder)
    assert not source.has("hiring_scores") and source.read("reps")["hire_date"].isna().all()
    analysis = analyse_source(source, SETTINGS)
    assert all(p["ran"] for p in analysis.parts)


def test_tenure_from_the_first_quota_month_without_hire_dates(tmp_path):
    from helpers.analyses.success import compute_success_metrics

    folder = tmp_path / "org"
    from helpers.data.sample import generate_org

    generate_org(folder, seed=3, reps=6, months=8, fmt="csv")
    reps = pd.read_csv(folder / "reps.csv", dtype=str, keep_default_na=False)
    reps.drop(columns=["hire_date"]).to_csv(folder / "reps.csv", index=False)
    quotas = pd.read_csv(folder / "quotas.csv", dtype=str)
    first = quotas.groupby("rep_id")["month"].min()
    metrics = compute_success_metrics(open_source(data_dir=folder), load_config(), as_of="2026-10-31")
    sellers = metrics[metrics["rep_id"].isin(first.index)].set_index("rep_id")
    assert (sellers["hire_date"].dt.strftime("%Y-%m") == first.reindex(sellers.index)).all()
    assert "have no hire date: their tenure counts from their first quota month" in metrics.attrs["hire_date_note"]


# ------------------------------------------------------------------------------------ degenerate data
def test_zero_one_row_and_all_missing_give_sentences_not_crashes(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    pd.DataFrame({"rep_id": ["r1"]}).to_csv(folder / "reps.csv", index=False)
    pd.DataFrame({"deal_id": ["d1"], "lead_id": ["l1"], "rep_id": ["r1"], "status": ["open"]}).to_csv(folder / "deals.csv", index=False)
    pd.DataFrame({"lead_id": ["l1"], "created_at": ["2025-01-01"]}).to_csv(folder / "leads.csv", index=False)
    pd.DataFrame({"activity_id": ["a1"], "rep_id": ["r1"], "lead_id": ["l1"], "occurred_at": ["2025-01-02"],
                  "outcome": ["no_answer"]}).to_csv(folder / "activities.csv", index=False)
    validated(folder)
    analysis = analyse_source(open_source(data_dir=folder), SETTINGS)
    assert analysis.win_rate_text() == "No deal is won or lost yet, so there is no win rate to show."
    assert analysis.attempt_text().startswith("1 leads were called, and none connected")
    assert analysis.lead_value_text() == "No lead has become a customer yet, so a lead's value cannot be estimated."
    assert analysis.funnel_text("owner").endswith("Every lead has the same owner, so there is nothing to compare.")
    for text in (analysis.win_rate_text(), analysis.funnel_text("owner"), analysis.attempt_text()):
        assert "inf" not in text and "nan" not in text.lower()
    analysis.summary  # noqa: B018 - builds without error


def test_attempt_cutoff_never_recommends_zero_attempts():
    from helpers.analyses.lead_value.speed_to_lead import recommended_cutoffs

    class S:
        min_connect_rate, attempt_cost, follow_up_attempts = 0.005, 15.0, {"all": 5}

    curve = pd.DataFrame({"segment": "all", "attempt": [1, 2], "at_risk": [500, 400], "connect_rate": [0.0, 0.0],
                          "connect_ci_high": [0.004, 0.004], "value_ci_high": [0.0, 0.0]})
    cut = recommended_cutoffs(curve, settings=S())
    assert pd.isna(cut.loc[0, "cutoff"]) and "even the first attempt" in cut.loc[0, "reason"]


def test_plan_costs_with_no_retained_mrr_give_a_sentence():
    from helpers.analyses.compensation.model import PlanComparison

    comp = PlanComparison.__new__(PlanComparison)
    comp.summary_ = pd.DataFrame({"cost_per_retained_mrr": [np.nan, np.nan, np.nan]},
                                 index=["hunting", "customer_success", "commitment"])
    comp.months_ = ["2025-01", "2025-06"]
    assert "no MRR is still paying" in comp.headline()


# ------------------------------------------------------------------------------------ whole reports
@pytest.mark.slow
@pytest.mark.parametrize("shape, ran", [
    ("call_log", {"00_sales_rates", "03_funnel_coaching"}),
    ("leads_and_closed_deals", {"00_sales_rates"}),
    ("deals_only", {"00_sales_rates"}),
    ("ab_table", {"06_experiments"}),
])
def test_reports_on_real_shapes_run_without_a_crash_and_name_the_folders_organisation(tmp_path, shape, ran):
    """No notebook fails on a real export shape; the pages name the folder's organisation, never the sample's."""
    import json

    from helpers.reporting.pipeline import build_report

    folder = getattr(real_shapes, shape)(tmp_path / "acme_sales")
    result = build_report(data_dir=folder, out_dir=tmp_path / "reports", jobs=2, progress=False)
    states = {r.notebook: r.state for r in result.runs}
    assert not [n for n, s in states.items() if s == "failed"], {r.notebook: r.error[-400:] for r in result.runs}
    assert ran <= {n for n, s in states.items() if s == "ok"}, states
    run = json.loads((result.folder / "run.json").read_text())
    assert run["organisation"] == "Acme Sales"
    for name in ran:
        page = (result.folder / f"{name}.html").read_text()
        assert "Acme Sales" in page and "Northwind" not in page and "150,000" not in page
    parts = {r["notebook"]: r["parts"] for r in run["reports"]}
    if "00_sales_rates" in ran:
        assert any(p["ran"] for p in parts["00_sales_rates"])
    else:  # none of its parts has data: skipped, saying what each lacks
        assert not any(p["ran"] for p in parts["00_sales_rates"])
        assert states["00_sales_rates"] == "skipped"


# ------------------------------------------------------------------------------------ quarantine
def test_a_deal_closed_before_it_was_created_blocks_by_default_and_can_be_quarantined(tmp_path, monkeypatch):
    folder = real_shapes.deals_only(tmp_path / "pipeline")
    deals = pd.read_csv(folder / "deals.csv", dtype=str, keep_default_na=False)
    deals["created_at"] = "2025-03-10"
    deals["closed_at"] = ["2025-03-20", "2025-03-21", "2025-03-05", "", "2025-03-22", "2025-03-23", "2025-03-24"]
    deals.to_csv(folder / "deals.csv", index=False)  # O3 (line 4): lost, closed before it was created
    report = validate_folder(folder, load_config(), now=NOW)
    assert not report.ok and [p.code for p in report.errors] == ["order"] and report.errors[0].rows == [4]
    monkeypatch.setenv("SALES_WORKBOOK_ON_BAD_ROWS", "quarantine")
    report = validate_folder(folder, load_config(), now=NOW)
    assert report.ok, report.format()
    held = [p for p in report.warnings if p.message.startswith("Quarantined")]
    assert len(held) == 1 and held[0].rows == [4] and held[0].count == 1
    source = open_source(load_config(), data_dir=folder)
    assert source.quarantine and "O3" not in set(source.read("deals")["deal_id"])
    wins = by(m.win_rate_by_seller(source), "rep_id")
    assert wins.loc["ana", ["closed", "won"]].tolist() == [2, 2]  # the quarantined lost deal is left out


# ------------------------------------------------------------------------------------ init and the folder's config
def test_init_writes_a_commented_config_the_report_then_reads(tmp_path):
    from helpers.core.config import load_config_for_data
    from helpers.data.init_config import init_folder

    folder = real_shapes.leads_and_closed_deals(tmp_path / "acme_funnel")
    assert load_config_for_data(None, folder).organisation == "Acme Funnel"  # before init: named after the folder
    assert load_config_for_data(None, folder).monthly_lead_value_goal == 0.0  # never the sample's goal
    written = init_folder(folder)
    assert written == tmp_path / "acme_funnel.workbook.toml"
    text = written.read_text()
    assert 'organisation = "Acme Funnel"' in text and "monthly_lead_value_goal = 0.0" in text
    assert "# leads.source: unknown direct_traffic (2 rows), display (1 rows)" in text
    assert '"leads.source" = {direct_traffic = "direct", display = "other"}' in text
    assert "no activities table" in text and "no hiring scorecards" in text
    config = load_config_for_data(None, folder)
    assert config.source_file == written and config.data_dir == folder.resolve()
    with pytest.raises(FileExistsError):
        init_folder(folder)
