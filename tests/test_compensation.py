"""Commission plans with exact money: clawbacks carried forward, quartile multipliers, commitment, payroll files."""
from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from helpers.analyses.compensation.churn import customer_cohorts
from helpers.analyses.compensation.model import (PLANS, PlanComparison, PlanSettings, commission_statement, commitment_payments,
                                  plan_amounts, rolling_quartiles, run_ledger, statement_lines, to_cents)
from helpers.core.config import ConfigError, load_config
from helpers.data.engine import open_source
from helpers.paths import SAMPLE_DATA_DIR
from helpers.analyses.compensation.payroll import export_folder, export_payroll, safe_text
from helpers.data.sample import generate_org

HEADER = "customer_id,deal_id,closing_rep_id,consultant_id,start_date,churn_date,mrr,billing_term\n"
CUSTOMERS = HEADER + (
    "C1,D1,R1,K1,2025-01-10,2025-02-15,100.00,monthly\n"        # lost within 4 months: clawed back in March
    "C2,D2,R1,K1,2025-02-03,,333.33,monthly\n"
    "C3,D3,R1,K1,2025-04-05,,50.00,monthly\n"
    "C5,D5,R1,K1,2025-05-02,,200.00,monthly\n"
    "C6,D6,R3,K1,2025-01-20,2025-05-19,120.00,annual_prepay\n"  # day 120 of its window: clawed back in June
    "C7,D7,R3,K1,2025-01-20,2025-05-20,120.00,annual_prepay\n"  # day 121: outside, kept
)
REPS = ("rep_id,name,role,hire_date\nR1,Ann,ae,2024-01-01\nR2,\"=HYPERLINK(\"\"http://x\"\",\"\"pay me\"\")\",ae,"
        "2024-01-01\nR3,Cy,ae,2024-01-01\nK1,Kim,consultant,2023-01-01\n")
MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]


@pytest.fixture()
def hand_org(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (data / "reps.csv").write_text(REPS, encoding="utf-8")
    return data


def _setup(data: Path, plan: str = "hunting", **kw):
    settings = PlanSettings(plan=plan, **kw)
    source = open_source(data_dir=data)
    cohorts = customer_cohorts(source, window_months=4, clawback_months=4, as_of="2025-06-30")
    return settings, source, cohorts


def test_rounding_is_half_up_to_the_cent() -> None:
    assert to_cents(2.0, 33333, 4) == 16667  # 166.665 -> 166.67
    assert to_cents(1.5, 1) == 2 and to_cents(1.5, 3) == 5 and to_cents(2.0, 33333) == 66666
    assert to_cents(0.1, 3) == 0  # 0.3 cents


def test_hunting_clawback_larger_than_next_month_is_carried_forward(hand_org: Path) -> None:
    settings, _, cohorts = _setup(hand_org)
    amounts = plan_amounts("hunting", settings, cohorts=cohorts)
    ledger = run_ledger(amounts, months=MONTHS).set_index(["rep_id", "month"])
    r1 = ledger.loc["R1"]
    assert r1["earned_cents"].tolist() == [20000, 66666, 0, 10000, 40000, 0]
    assert r1["clawback_cents"].tolist() == [0, 0, 20000, 0, 0, 0]      # C1 lost in Feb -> deducted in March
    assert r1["payout_cents"].tolist() == [20000, 66666, 0, 0, 30000, 0]
    assert r1["carried_out_cents"].tolist() == [0, 0, 20000, 10000, 0, 0]
    assert r1["carried_in_cents"].tolist() == [0, 0, 0, 20000, 10000, 0]
    r3 = ledger.loc["R3"]  # C6 lost on day 120 (May) -> 240.00 back in June; C7 on day 121 stays paid
    assert r3["earned_cents"].tolist() == [48000, 0, 0, 0, 0, 0]
    assert r3["clawback_cents"].tolist() == [0, 0, 0, 0, 0, 24000]
    assert r3["carried_out_cents"].iloc[-1] == 24000 and r3["payout_cents"].iloc[-1] == 0


def test_statement_lines_trace_every_amount_and_list_reps_without_sales(hand_org: Path) -> None:
    settings, source, cohorts = _setup(hand_org)
    reps = source.read("reps", columns=["rep_id", "name"])
    march = statement_lines(source, settings, month="2025-03", as_of="2025-03-31")
    assert march[["rep_id", "line", "customer_id", "deal_id", "amount_cents"]].values.tolist() == \
        [["R1", "clawback", "C1", "D1", -20000]]
    statement = commission_statement(march, reps=reps, month="2025-03").set_index("rep_id")
    assert statement.loc["R1", ["earned_cents", "clawback_cents", "payout_cents", "carried_out_cents"]].tolist() == \
        [0, 20000, 0, 20000]
    assert statement.loc["R2", ["new_lines", "earned_cents", "payout_cents", "carried_out_cents"]].tolist() == \
        [0, 0, 0, 0]
    april = statement_lines(source, settings, month="2025-04", as_of="2025-04-30")
    april_statement = commission_statement(april, carried_in={"R1": 20000}, month="2025-04").set_index("rep_id")
    assert april_statement.loc["R1", ["earned_cents", "deducted_cents", "payout_cents", "carried_out_cents"]].tolist() \
        == [10000, 10000, 0, 10000]
    june = statement_lines(source, settings, month="2025-06", as_of="2025-06-30")
    assert june[["customer_id", "amount_cents"]].values.tolist() == [["C6", -24000]]


def test_customer_success_pays_the_start_months_multiplier_and_claws_back_exactly_that(hand_org: Path) -> None:
    settings, source, cohorts = _setup(hand_org, plan="customer_success")
    multipliers = pd.DataFrame({"rep_id": ["R1"] * 6 + ["R3"] * 6, "month": MONTHS * 2,
                                "multiplier": [2.0, 1.5, 1.0, 0.5, 1.0, 1.0] + [0.5] * 6})
    ledger = run_ledger(plan_amounts("customer_success", settings, cohorts=cohorts, multipliers=multipliers),
                        months=MONTHS).set_index(["rep_id", "month"])
    assert ledger.loc["R1", "earned_cents"].tolist() == [40000, 99999, 0, 5000, 40000, 0]
    assert ledger.loc["R1", "clawback_cents"].tolist() == [0, 0, 40000, 0, 0, 0]  # January's x2, not March's x1
    assert ledger.loc["R1", "payout_cents"].tolist() == [40000, 99999, 0, 0, 5000, 0]
    lines = statement_lines(source, settings, month="2025-03", as_of="2025-03-31", multipliers=multipliers)
    assert lines[["customer_id", "multiplier", "amount_cents"]].values.tolist() == [["C1", 2.0, -40000]]


def test_commitment_pays_as_the_customer_pays_and_annual_prepay_at_once(hand_org: Path) -> None:
    settings, source, cohorts = _setup(hand_org, plan="commitment")
    payments = commitment_payments(source, commitment_months=4, as_of="2025-06-30")
    ledger = run_ledger(plan_amounts("commitment", settings, cohorts=cohorts, payments=payments),
                        months=MONTHS).set_index(["rep_id", "month"])
    # C1 pays on 10 Jan and 10 Feb (lost 15 Feb); C2 four times from 3 Feb at 166.665 -> 166.67; C3 Apr-Jun; C5 May-Jun
    assert ledger.loc["R1", "earned_cents"].tolist() == [5000, 5000 + 16667, 16667, 16667 + 2500, 16667 + 2500 + 10000,
                                                         2500 + 10000]
    assert ledger.loc["R3", "earned_cents"].tolist() == [48000, 0, 0, 0, 0, 0]  # two annual prepays, paid in full
    assert ledger["clawback_cents"].sum() == 0
    monthly = commitment_payments(source, commitment_months=4, as_of="2025-06-30", annual_prepay_paid_upfront=False)
    spread = run_ledger(plan_amounts("commitment", settings.but(annual_prepay_paid_upfront=False), cohorts=cohorts,
                                     payments=monthly), months=MONTHS).set_index(["rep_id", "month"])
    assert spread.loc["R3", "earned_cents"].tolist() == [12000, 12000, 12000, 12000, 0, 0]
    lines = statement_lines(source, settings, month="2025-02", as_of="2025-06-30")
    assert sorted(lines[["customer_id", "amount_cents"]].values.tolist()) == [["C1", 5000], ["C2", 16667]]


def test_payroll_files_neutralise_formulas(hand_org: Path, tmp_path: Path) -> None:
    settings, source, _ = _setup(hand_org)
    reps = source.read("reps", columns=["rep_id", "name"])
    lines = statement_lines(source, settings, month="2025-03", as_of="2025-03-31")
    statement = commission_statement(lines, reps=reps, month="2025-03")
    files = export_payroll(statement, lines, tmp_path / "out", month="2025-03")
    assert [p.name for p in files] == ["04_payroll_2025-03.csv", "04_payroll_lines_2025-03.csv",
                                       "04_payroll_2025-03.xlsx"]
    with files[0].open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["rep_id"]: r for r in csv.DictReader(fh)}
    assert rows["R2"]["name"] == "'=HYPERLINK(\"http://x\",\"pay me\")"
    assert rows["R1"]["carried_out_usd"] == "200.00" and rows["R1"]["payout_usd"] == "0.00"
    with files[1].open(encoding="utf-8-sig", newline="") as fh:
        assert [r["amount_usd"] for r in csv.DictReader(fh)] == ["-200.00"]  # our numbers keep their sign
    from openpyxl import load_workbook

    sheet = load_workbook(files[2])["Statement"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert len(cells) == 1 and cells[0].data_type == "s" and cells[0].value.startswith("=")
    xml = zipfile.ZipFile(files[2]).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "HYPERLINK" in xml
    assert [safe_text(v) for v in ("+1", "-x", "@a", "\tb", "\rc", "ok", 5)] == ["'+1", "'-x", "'@a", "'\tb",
                                                                                "'\rc", "ok", 5]
    assert export_folder("", "") is None and export_payroll(statement, lines, None, month="2025-03") == []
    assert export_folder(str(tmp_path / "run" / "04.json")) == (tmp_path / "run").resolve()


def test_the_notebook_analysis_on_a_small_export_without_deals(hand_org: Path, tmp_path: Path) -> None:
    from helpers.analyses.compensation.report import analyse
    from helpers.reporting.context import start_report

    results = tmp_path / "run" / "04_compensation_churn_quartiles.json"
    report = start_report("04_compensation_churn_quartiles", month="2025-06", as_of="2025-06-30",
                          data_dir=str(hand_org), results_path=str(results))
    comp = analyse(report)
    assert comp.ranking["status"].eq("not enough customers yet").all()  # two reps with a few customers each
    statement = comp.statement.set_index("rep_id")
    assert statement.loc["R2", "payout_cents"] == 0 and "K1" not in statement.index
    assert statement.loc["R3", "clawback_cents"] == 24000 and statement.loc["R3", "carried_out_cents"] == 24000
    assert any("deals table is absent" in n for n in comp.notes)
    assert "Payroll files" in comp.export(results.parent) and len(comp.files) == 3
    comp.record(report.results)
    report.record_inputs()
    report.save()
    saved = json.loads(results.read_text())
    assert saved["key_figure"]["name"] == "commission_payout" and saved["key_figure"]["value"] == 0.0
    figures = {f["name"]: f["value"] for f in saved["figures"]}
    assert figures["commission_clawback"] == 240.0 and figures["commission_carried_out"] == 240.0
    assert {"quartiles", "statement", "plan_comparison", "consultants"} <= set(saved["details"])
    assert any("not ranked" in w for w in saved["warnings"])


def test_plan_settings_come_from_the_config_and_bad_ones_name_the_key(tmp_path: Path) -> None:
    settings = PlanSettings.from_config(load_config())
    assert (settings.plan, settings.rate, settings.clawback_months, settings.multipliers) == \
        ("customer_success", 2.0, 4, (2.0, 1.5, 1.0, 0.5))
    bad = tmp_path / "workbook.toml"
    bad.write_text('[compensation]\nplan = "bonus"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="compensation.plan"):
        PlanSettings.from_config(load_config(bad))
    bad.write_text("[compensation]\nmin_reps_ranked = 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="min_reps_ranked"):
        PlanSettings.from_config(load_config(bad))


# --------------------------------------------------------------------------- the sample and other orgs
def _history(data: Path, month: str, as_of: str, settings: PlanSettings):
    source = open_source(data_dir=data)
    cohorts = customer_cohorts(source, window_months=4, clawback_months=4, as_of=as_of)
    months = pd.period_range(cohorts["start_month"].min(), month, freq="M").strftime("%Y-%m").tolist()
    multipliers = rolling_quartiles(cohorts, settings, months=months, as_of_month=month)
    payments = commitment_payments(source, commitment_months=4, as_of=as_of)
    return source, cohorts, months, multipliers, payments


def test_statement_lines_add_up_to_the_history_ledger_for_every_plan() -> None:
    settings = PlanSettings()
    source, cohorts, months, multipliers, payments = _history(SAMPLE_DATA_DIR, "2026-10", "2026-10-31", settings)
    for plan in PLANS:
        amounts = plan_amounts(plan, settings, cohorts=cohorts, payments=payments, multipliers=multipliers)
        month = amounts[amounts["month"] == "2026-10"].set_index("rep_id")
        lines = statement_lines(source, settings.but(plan=plan), month="2026-10", as_of="2026-10-31",
                                multipliers=multipliers)
        commission = lines[lines["line"] == "commission"].groupby("rep_id")["amount_cents"].sum()
        claws = -lines[lines["line"] == "clawback"].groupby("rep_id")["amount_cents"].sum()
        assert commission.reindex(month.index).fillna(0).astype(int).tolist() == month["earned_cents"].tolist(), plan
        assert claws.reindex(month.index).fillna(0).astype(int).tolist() == month["clawback_cents"].tolist(), plan
        assert lines["customer_id"].notna().all() and lines["deal_id"].notna().all()


@pytest.fixture(scope="session", params=["sample", "seed5_60reps_10m"])
def history_org(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if request.param == "sample":
        return SAMPLE_DATA_DIR
    out = tmp_path_factory.mktemp(request.param)
    generate_org(out, seed=5, reps=60, months=10)
    return out


def test_customer_success_plan_moves_pressure_sellers_down_the_pay_ranking(history_org: Path) -> None:
    truth = json.loads((history_org / "ground_truth.json").read_text())
    month, as_of = truth["generator"]["end_month"], truth["generator"]["as_of"][:10]
    settings = PlanSettings()
    _, cohorts, months, multipliers, payments = _history(history_org, month, as_of, settings)
    comparison = PlanComparison(settings).fit(cohorts, payments, multipliers, months)
    pressure = comparison.by_rep_.loc[truth["churn"]["pressure_sellers"]]
    assert (pressure["rank_change"] < 0).all(), pressure  # each one falls in the pay ranking
    share = comparison.by_rep_[["hunting", "customer_success"]] / comparison.by_rep_[
        ["hunting", "customer_success"]].sum()
    assert (share.loc[pressure.index, "customer_success"] < 0.75 * share.loc[pressure.index, "hunting"]).all()
    summary = comparison.summary
    assert summary.loc["commitment", "clawed_back"] == 0 and summary.loc["hunting", "clawed_back"] > 0
    assert summary["new_mrr"].nunique() == 1 and (summary["paid"] <= summary["earned"]).all()


def test_a_two_month_org_ranks_nobody_yet_and_still_pays(tmp_path: Path) -> None:
    """Odd shape: no customer's window has closed, so no quartiles; the statement and what-if still work."""
    from helpers.analyses.compensation.report import analyse
    from helpers.reporting.context import start_report

    generate_org(tmp_path / "org", seed=2, reps=8, months=2)
    report = start_report("04_compensation_churn_quartiles", data_dir=str(tmp_path / "org"))
    comp = analyse(report)
    assert (comp.ranking["status"] == "not enough customers yet").all() and comp.retention is None
    assert "Nobody is ranked" in comp.quartile_text() and comp.training_list() == []
    assert comp.totals()["earned"] > 0 and "nobody's pay rank changes" in comp.plan_text()
    comp.record(report.results)
    report.record_inputs()
    assert "no quartiles yet" in report.results.results.headline


@pytest.mark.parametrize("month", ["2025-06", "2025-07"])
def test_headline_payout_reconciles_with_earned_clawbacks_and_carry_over(hand_org: Path, tmp_path: Path,
                                                                       month: str) -> None:
    """Issue 23: the headline said 'payout $X after $Y of clawbacks' and X != earned - Y: the carry-over (clawbacks
    a rep's earnings could not cover, carried forward or recovered from earlier months) was not said."""
    import re

    from helpers.analyses.compensation.report import analyse
    from helpers.reporting.context import start_report

    report = start_report("04_compensation_churn_quartiles", month=month, data_dir=str(hand_org))
    comp = analyse(report)
    t = comp.totals()
    assert t["payout"] == t["earned"] - t["clawback"] - t["carried_in"] + t["carried_out"]
    comp.record(report.results)
    head = report.results.results.headline

    def dollars(text: str) -> list[float]:
        return [float(x.replace(",", "")) for x in re.findall(r"\$([\d,]+(?:\.\d+)?)", text)]

    payout, earned, clawback, *carry = dollars(head.split(";")[0])
    net_carry = (t["carried_out"] - t["carried_in"]) / 100
    assert payout == t["payout"] / 100 and earned == t["earned"] / 100 and clawback == t["clawback"] / 100
    assert payout == pytest.approx(earned - clawback + net_carry)
    assert (carry == [abs(net_carry)]) if net_carry else carry == []
    text = comp.reconciliation_text()
    for amount in (t["payout"], t["earned"], t["clawback"], t["carried_in"], t["carried_out"]):
        assert f"${amount / 100:,.2f}".replace(".00", "") in text or f"${amount / 100:,.2f}" in text
