"""CRM importers: the fixture exports in tests/fixtures/crm/ (written by the project in HubSpot's and
Salesforce's export formats, with their oddities: BOM, quoted commas, empty owners, unmapped
stages and outcomes, decimal amounts) imported, validated and reported on end to end.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.cli import main
from helpers.data.importers import ImportInputError, ImportValidationError, MappingError, import_export
from helpers.data.validate import validate_folder

FIXTURES = Path(__file__).parent / "fixtures" / "crm"
NOW = "2026-11-24T00:00:00Z"


def run(crm: str, tmp: Path, *, mapping: Path | None = None, export: Path | None = None):
    out = tmp / "data"
    report = import_export(crm, export or FIXTURES / crm, out, mapping_path=mapping, now=NOW)
    return report, out


def table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)


def edit_mapping(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def hubspot(tmp_path_factory):
    return run("hubspot", tmp_path_factory.mktemp("hubspot"))


@pytest.fixture(scope="module")
def salesforce(tmp_path_factory):
    return run("salesforce", tmp_path_factory.mktemp("salesforce"))


# --------------------------------------------------------------------------------------------
# HubSpot
# --------------------------------------------------------------------------------------------
def test_hubspot_import_writes_valid_contract_tables_and_a_mapping(hubspot):
    report, out = hubspot
    assert validate_folder(out, now=NOW).ok
    assert sorted(p.name for p in out.glob("*.csv")) == sorted(
        f"{t}.csv" for t in ("reps", "leads", "lead_events", "activities", "deals", "customers"))
    assert report.mapping_created and Path(report.mapping_path) == out.with_name("data.mapping.toml")
    reps = table(out, "reps")
    # owner names in the export resolved to the ids of the owners export
    assert dict(zip(reps["name"], reps["rep_id"])) == {"Ana Silva": "51001", "Ben Okafor": "51002",
                                                        "Chloé Martin": "51003"}


def test_hubspot_report_counts_every_dropped_row_with_its_reason(hubspot):
    report, out = hubspot
    acts = report.tables["activities"]
    # counted by hand from the fixture: calls 4, 34, 46 have no owner; meetings 4 and 10 canceled;
    # call 8 has the custom outcome "Gatekeeper", call 12 none; meeting 90099 is on 2026-12-03
    assert dict(acts.dropped) == {"without an owner": 3, "meetings canceled or rescheduled": 2,
                                  "calls with an outcome not in the mapping": 1, "calls without an outcome": 1,
                                  "scheduled in the future (not done yet)": 1}
    assert acts.read == 60 + 30 + 13 and acts.written == len(table(out, "activities")) == 103 - 8
    assert report.tables["deals"].dropped == {"without an amount": 2}
    assert report.unmapped["call outcome"] == {"Gatekeeper": 1}
    saved = json.loads((out / "import_report.json").read_text())
    assert saved["tables"]["activities"]["dropped"]["without an owner"] == 3
    assert "dropped 3 without an owner" in (out / "import_report.txt").read_text()
    assert any("YYYY-MM-DD HH:MM" in f for f in report.date_formats.values())


def test_hubspot_values_map_to_the_contract(hubspot):
    _, out = hubspot
    deals = table(out, "deals").set_index("deal_id")
    assert deals.loc["60001", "mrr"] == "104.21"  # "1,250.50" in the export, a total over 12 months by default
    assert deals.loc["60002", ["status", "closed_at"]].tolist() == ["won", "2026-08-14T12:00:00Z"]
    assert deals.loc["60001", "closed_at"] == ""  # an open deal's close date is only expected
    acts = table(out, "activities").set_index("activity_id")
    assert acts.loc["call_70007", "outcome"] == "connected"  # the internal GUID of "Connected"
    assert acts.loc["call_70006", "outcome"] == "voicemail"  # "Left live message"
    assert acts.loc["email_80001", "outcome"] == "replied"  # an incoming email
    assert acts.loc["meeting_90002", "meeting_kind"] == "demo"
    leads = table(out, "leads").set_index("lead_id")
    assert leads.loc["1002", ["source", "persona", "segment"]].tolist() == ["paid_search", "marketing_mary",
                                                                         "mid_market"]  # 240 employees
    assert leads.loc["1003", "segment"] == "enterprise"  # "1,800" employees
    assert leads.loc["1006", "owner_rep_id"] == ""  # empty owner in the export
    customers = table(out, "customers")
    assert set(customers["deal_id"]) == set(deals.index[deals["status"] == "won"])


def test_hubspot_timezone_amount_kind_and_unmapped_stage(tmp_path):
    _, out = run("hubspot", tmp_path)
    mapping = out.with_name("data.mapping.toml")
    edit_mapping(mapping, 'timezone = "UTC"', 'timezone = "America/New_York"')
    edit_mapping(mapping, 'amount_kind = "total"', 'amount_kind = "annual"')
    edit_mapping(mapping, '"Verbal Yes" = { status = "open", funnel = "" }\n', "")
    edit_mapping(mapping, 'churn_date_property = ""', 'churn_date_property = "Churn Date"')
    report, out = run("hubspot", tmp_path)
    assert not report.mapping_created
    leads = table(out, "leads").set_index("lead_id")
    # 2026-08-01 08:00 in New York is daylight-saving time (UTC-4): 12:00 UTC, by hand
    assert leads.loc["1001", "created_at"] == "2026-08-01T12:00:00Z"
    deals = table(out, "deals").set_index("deal_id")
    assert float(deals.loc["60001", "mrr"]) == pytest.approx(1250.50 / 12, abs=0.005)
    assert report.unmapped["deal stage"] == {"Verbal Yes": 2}
    assert set(deals.loc[["60006", "60014"], "status"]) == {"open"}
    churned = table(out, "customers").query("churn_date != ''")
    assert churned["churn_date"].tolist() == ["2026-10-20"] * len(churned) and len(churned) >= 1


# --------------------------------------------------------------------------------------------
# Salesforce
# --------------------------------------------------------------------------------------------
def test_salesforce_import_is_valid_and_links_converted_contacts_to_their_lead(salesforce):
    report, out = salesforce
    assert validate_folder(out, now=NOW).ok
    leads = table(out, "leads")
    assert len(leads) == 24 + 4  # every lead, plus the contacts that were never a lead
    assert not leads["lead_id"].str.startswith("0038d00000Ct").any()  # converted contacts are their lead
    acts = table(out, "activities")
    assert acts["lead_id"].isin(set(leads["lead_id"])).all()
    # task 1 was logged on the converted contact of lead 1? no: lead 1 is not converted; task 3 on contact 3
    assert acts.set_index("activity_id").loc["00T8d00000Tk003AAA", "lead_id"] == "00Q8d00000Ld003AAA"
    reps = table(out, "reps").set_index("rep_id")
    assert "00G8d000000QueueAAA" not in reps.index  # a queue, not a person
    assert reps.loc["0058d000001AbCfAAK", "leave_date"] != ""  # IsActive false
    assert reps.loc["0058d000001AbCeAAK", "manager_id"] == "0058d000001AbCfAAK"
    assert report.tables["activities"].dropped["tasks that are not calls, emails or meetings"] == 8


def test_salesforce_status_comes_from_iswon_isclosed_and_times_stay_utc(salesforce):
    _, out = salesforce
    deals = table(out, "deals").set_index("deal_id")
    assert deals.loc["0068d00000Op000AAA", "status"] == "won"
    assert deals.loc["0068d00000Op003AAA", "status"] == "lost"
    assert deals.loc["0068d00000Op009AAA", "mrr"] == "300.05"  # 3600.60, a total over 12 months by default
    leads = table(out, "leads").set_index("lead_id")
    assert leads.loc["00Q8d00000Ld000AAA", "created_at"] == "2026-08-01T13:00:00Z"  # ...Z read as UTC


# --------------------------------------------------------------------------------------------
# Bad input: clear errors, nothing written
# --------------------------------------------------------------------------------------------
def copy_export(crm: str, tmp: Path) -> Path:
    export = tmp / f"{crm}-export"
    shutil.copytree(FIXTURES / crm, export)
    return export


def test_missing_file_and_missing_column_are_named(tmp_path):
    export = copy_export("hubspot", tmp_path)
    deals = next(export.glob("*deals*"))
    deals.write_text(deals.read_text(encoding="utf-8-sig").replace('"Deal Stage"', '"Stage of deal"'),
                     encoding="utf-8")
    with pytest.raises(ImportInputError, match=r"deals-2026-11-20.csv: no column for the deal stage.*'Deal Stage'"):
        run("hubspot", tmp_path, export=export)
    assert not (tmp_path / "data").exists()
    next(export.glob("*contacts*")).unlink()
    with pytest.raises(ImportInputError, match="no contacts export"):
        run("hubspot", tmp_path, export=export)


def test_non_utf8_and_ragged_rows_are_located(tmp_path):
    export = copy_export("salesforce", tmp_path)
    (export / "Task.csv").write_bytes((export / "Task.csv").read_bytes() + "\"x\",\"Caf\xe9\"\n".encode("cp1252"))
    with pytest.raises(ImportInputError, match=r"Task.csv is not UTF-8 \(first bad byte on line 50\)"):
        run("salesforce", tmp_path, export=export)
    (export / "Task.csv").write_bytes((export / "Task.csv").read_bytes()[:-12] + b"\n\"a\",\"b\"\n")
    with pytest.raises(ImportInputError, match="do not have 13 cells"):
        run("salesforce", tmp_path, export=export)


def test_a_failed_validation_or_bad_mapping_leaves_the_previous_import_untouched(tmp_path):
    _, out = run("hubspot", tmp_path)
    before = table(out, "deals")
    mapping = out.with_name("data.mapping.toml")
    text = mapping.read_text(encoding="utf-8")
    edit_mapping(mapping, 'hire_date = "2026-08-01"\nleave_date = ""', 'hire_date = "2026-08-01"\nleave_date = "2020-01-01"')
    with pytest.raises(ImportValidationError, match="leave_date"):
        run("hubspot", tmp_path)
    pd.testing.assert_frame_equal(table(out, "deals"), before)
    mapping.write_text(text.replace('amount_kind = "total"', 'amount_kind = "yearly"'), encoding="utf-8")
    with pytest.raises(MappingError, match=r"deals.amount_kind = 'yearly' is not one of total, monthly, annual"):
        run("hubspot", tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind
    pd.testing.assert_frame_equal(table(out, "deals"), before)


def test_refuses_to_overwrite_a_folder_that_is_not_an_import(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("mine")
    with pytest.raises(ImportInputError, match="not from an import"):
        run("hubspot", tmp_path)
    assert (tmp_path / "data" / "notes.txt").read_text() == "mine"


def test_cli_exit_codes(tmp_path, capsys):
    assert main(["import", "salesforce", str(FIXTURES / "salesforce"), "--out", str(tmp_path / "d")]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert main(["import", "hubspot", str(tmp_path / "nowhere"), "--out", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Nothing was written" in err


# --------------------------------------------------------------------------------------------
# End to end: import -> validate -> report
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_import_then_report_skips_what_the_crm_cannot_provide(tmp_path):
    """The one end-to-end run: a Salesforce report export (labels, owner names, 15-character ids, footer)
    with Data Loader files, imported, then the report built from it."""
    from helpers.reporting.pipeline import build_report

    _, out = run("salesforce", tmp_path, export=FIXTURES / "variants" / "sf-report-export")
    result = build_report(data_dir=out, out_dir=tmp_path / "reports", only=["01", "02", "04", "06"], jobs=2,
                          progress=False)
    states = {r.notebook: r.state for r in result.runs}
    reasons = {r.notebook: r.skip_reason for r in result.runs if r.state == "skipped"}
    assert states["01_trait_discovery"] == states["02_training_score_correlation"] == "skipped"
    assert states["06_experiments"] == "skipped"
    assert re.search(r"needs .*hiring_scores", reasons["01_trait_discovery"])
    assert re.search(r"needs .*experiment", reasons["06_experiments"])
    assert states["04_compensation_churn_quartiles"] == "ok", result.runs
    assert (result.folder / "index.html").exists()
