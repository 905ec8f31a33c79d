"""CRM importers on export variants with the quirks of real HubSpot and Salesforce exports
(tests/fixtures/crm/variants/, written by tests/fixtures/crm/make_variants.py; sources in
tests/fixtures/README.md): each variant is imported right or refused with a clear message, never a traceback.
"""
from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pandas as pd
import pytest

from helpers.cli import main
from helpers.data.importers import ImportInputError, ImportValidationError, MappingError, import_export
from helpers.data.importers.common import parse_amounts, salesforce_id18
from helpers.data.importers.mapping import Mapping
from helpers.data.validate import validate_folder

CRM = Path(__file__).parent / "fixtures" / "crm"
VARIANTS = CRM / "variants"
SPEC = json.loads((VARIANTS / "variants.json").read_text(encoding="utf-8"))
NOW = "2026-11-24T00:00:00Z"
CLEAR = (ImportInputError, MappingError, ImportValidationError)


def run(name: str, tmp: Path, *, export: Path | None = None, crm: str | None = None):
    out = tmp / "data"
    report = import_export(crm or SPEC[name]["crm"], export or VARIANTS / name, out, now=NOW)
    return report, out


def table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)


def set_mapping(out: Path, old: str, new: str) -> None:
    path = out.with_name("data.mapping.toml")
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The corpus: every variant through import -> validate, outcome as declared, no traceback
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SPEC))
def test_every_variant_imports_right_or_is_refused_with_a_clear_message(name, tmp_path):
    spec = SPEC[name]
    if spec["outcome"] == "ok":
        report, out = run(name, tmp_path)
        assert validate_folder(out, now=NOW).ok
        assert (out / "import_report.txt").read_text(encoding="utf-8").startswith("Import from")
    else:
        with pytest.raises(CLEAR, match=spec["match"]):
            run(name, tmp_path)
        assert not (tmp_path / "data").exists()


def test_the_corpus_covers_both_crms_and_both_outcomes():
    kinds = {(s["crm"], s["outcome"]) for s in SPEC.values()}
    assert kinds == {("hubspot", "ok"), ("hubspot", "error"), ("salesforce", "ok"), ("salesforce", "error")}
    assert len(SPEC) >= 20


def test_cli_turns_an_unforeseen_error_into_a_message(tmp_path, capsys, monkeypatch):
    import helpers.data.importers.pipeline as pipeline

    def boom(*args, **kwargs):
        raise KeyError("Deal owner")
    monkeypatch.setattr(pipeline, "run_import", boom)
    assert main(["import", "hubspot", str(CRM / "hubspot"), "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "could not be imported (KeyError: 'Deal owner')" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------------
# No deal survives; links
# --------------------------------------------------------------------------------------------
def test_deals_export_without_owner_gives_no_deals_and_a_warning_not_a_crash(tmp_path):
    report, out = run("hs-no-deal-owner", tmp_path)
    assert len(table(out, "deals")) == 0 and len(table(out, "customers")) == 0
    assert report.tables["deals"].dropped == {"without an owner": 16}
    assert any("No deal could be imported" in w and "no owner column" in w for w in report.warnings)
    assert "WARNINGS" in (out / "import_report.txt").read_text(encoding="utf-8")


def test_deals_without_association_column_are_flagged(tmp_path):
    report, out = run("hs-no-associations", tmp_path)
    assert report.links["deals with a lead"] == {"linked": 0, "total": 14, "share": 0.0}
    assert any(w.startswith("No deals with a lead: 0 of 14") for w in report.warnings)
    assert (table(out, "deals")["lead_id"] == "").all()


def test_base_exports_link_well_and_raise_no_link_warning(tmp_path):
    report = import_export("hubspot", CRM / "hubspot", tmp_path / "data", now=NOW)
    deals = report.links["deals with a lead"]
    assert deals["total"] == 14 and deals["share"] >= 0.5
    assert not any("with a lead" in w for w in report.warnings)


# --------------------------------------------------------------------------------------------
# Numbers and amount kinds
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("values, expected", [
    (["375.000,00", "1.250,50"], [375000.0, 1250.5]),
    (["1,250.50", "480"], [1250.5, 480.0]),
    (["480", "12000", ""], [480.0, 12000.0, None]),
    (["USD 1,000.00", "(20.00)", "€ 3.5"], [1000.0, -20.0, 3.5]),
    (["1 250,50", "3,5"], [1250.5, 3.5]),
    (["1.250", "1,5"], [1250.0, 1.5]),
])
def test_number_format_is_detected_per_column(values, expected):
    got = parse_amounts(pd.Series(values, index=range(2, 2 + len(values))), label="f.csv: Amount")
    assert [None if pd.isna(v) else v for v in got] == expected


@pytest.mark.parametrize("values, message", [
    (["1.250", "480"], r"f.csv: Amount, line 2: '1.250' could be read as 1.25 .* or as 1250"),
    (["1,250.50", "2,5", "9.99"], r"f.csv: Amount, line 3: '2,5' is written 1.234,56"),
    (["12", "n/a"], r"f.csv: Amount, line 3: 1 value\(s\) are not numbers"),
])
def test_unreadable_or_ambiguous_number_names_file_column_and_line(values, message):
    with pytest.raises(ImportInputError, match=message):
        parse_amounts(pd.Series(values, index=range(2, 2 + len(values))), label="f.csv: Amount")


def test_number_format_from_the_mapping_decides_an_ambiguous_column():
    got = parse_amounts(pd.Series(["1.250", "480"]), label="x", number_format="1.234,56")
    assert got.tolist() == [1250.0, 480.0]
    assert parse_amounts(pd.Series(["1.250"]), label="x", number_format="1,234.56").tolist() == [1.25]


def test_european_export_reads_amounts_and_dates_and_says_so(tmp_path):
    report, out = run("hs-european-semicolon", tmp_path)
    deals = table(out, "deals").set_index("deal_id")
    assert deals.loc["60001", "mrr"] == "31250.00"  # 375.000,00 over 12 months, not 375.00
    assert deals.loc["60002", ["mrr", "closed_at"]].tolist() == ["40.00", "2026-08-14T12:00:00Z"]  # 480,00
    assert report.number_formats["hubspot-crm-exports-all-deals-2026-11-20.csv: Amount"] == "1.234,56 (detected)"
    assert "Amount: 1.234,56 (detected)" in report.format()


@pytest.mark.slow  # two or more imports (about 10 s or more on a shared machine)
def test_ambiguous_export_is_refused_then_imported_with_number_format(tmp_path):
    with pytest.raises(ImportInputError, match=r"Amount, line 2: '1.250'"):
        run("hs-ambiguous-amounts", tmp_path)
    mapping = tmp_path / "data.mapping.toml"
    assert not mapping.exists()  # nothing written, not even the mapping
    report, out = run("hubspot", tmp_path, export=CRM / "hubspot", crm="hubspot")  # writes a mapping
    set_mapping(out, 'number_format = "auto"', 'number_format = "1.234,56"')
    report, out = run("hs-ambiguous-amounts", tmp_path)
    assert table(out, "deals").set_index("deal_id").loc["60001", "mrr"] == "104.17"  # 1250 / 12


@pytest.mark.slow  # two or more imports (about 10 s or more on a shared machine)
def test_amount_kind_defaults_to_total_and_is_shown(tmp_path):
    report, out = run("sf-report-export", tmp_path)
    assert "read as the whole contract value (deals.amount_kind = 'total'): MRR = amount / 12" in report.format()
    assert table(out, "deals").set_index("deal_id")["mrr"].tolist()[0] == "1000.00"  # 12,000.00 / 12
    set_mapping(out, 'amount_kind = "total"', 'amount_kind = "monthly"')
    report, out = run("sf-report-export", tmp_path)
    assert table(out, "deals")["mrr"].tolist()[0] == "12000.00"
    assert "read as monthly recurring revenue" in report.amounts


# --------------------------------------------------------------------------------------------
# Mapping values
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("table_", [{"Organic Search": "organic_search", "Organic search": ""},
                                    {"Organic search": "", "Organic Search": "organic_search"}])
def test_an_empty_guess_never_overrides_a_known_value(table_, tmp_path):
    mapping = Mapping(tmp_path / "m.toml", {"leads": {"source_values": table_}})
    assert mapping.values("leads.source_values")["organicsearch"] == "organic_search"


@pytest.mark.slow  # two or more imports (about 10 s or more on a shared machine)
def test_source_spellings_keep_their_known_value_on_the_second_run(tmp_path):
    contacts = pd.read_csv(next((VARIANTS / "hs-sources-case").glob("*contacts*")), dtype=str,
                           keep_default_na=False, encoding="utf-8-sig").set_index("Record ID")
    lower = contacts.index[contacts["Original Source"] == "Organic search"]
    assert len(lower) >= 2
    for _ in range(2):  # the first run writes the mapping, the second reads it
        report, out = run("hs-sources-case", tmp_path)
        leads = table(out, "leads").set_index("lead_id")
        assert (leads.loc[lower, "source"] == "organic_search").all()
        assert "Organic search" not in report.unmapped.get("lead source", {})


@pytest.mark.slow  # two or more imports (about 10 s or more on a shared machine)
def test_values_mapped_to_empty_are_listed_with_counts(tmp_path):
    report, out = run("hubspot", tmp_path, export=CRM / "hubspot", crm="hubspot")
    set_mapping(out, '"Paid Search" = "paid_search"', '"Paid Search" = ""')
    set_mapping(out, 'PAID_SEARCH = "paid_search"', 'PAID_SEARCH = ""')
    report, out = run("hubspot", tmp_path, export=CRM / "hubspot", crm="hubspot")
    contacts = pd.read_csv(next((CRM / "hubspot").glob("*contacts*")), dtype=str, keep_default_na=False,
                           encoding="utf-8-sig")
    n = int((contacts["Original Source"] == "Paid Search").sum())
    assert n >= 1 and report.unmapped["lead source"]["Paid Search"] == n
    assert f"'Paid Search' ({n})" in report.format()


# --------------------------------------------------------------------------------------------
# Salesforce ids, report exports, Weekly Data Export, deleted rows
# --------------------------------------------------------------------------------------------
def test_salesforce_id18_matches_the_published_examples():
    # examples published with the algorithm (codegolf.stackexchange.com question 69127)
    pairs = {"a01M00000062mPg": "a01M00000062mPgIAI", "001M000000qfPyS": "001M000000qfPySIAU",
             "a0FE000000D6r3F": "a0FE000000D6r3FMAR", "0F9E000000092w2": "0F9E000000092w2KAA",
             "a0RE000000IJmcN": "a0RE000000IJmcNMAT"}
    got, n = salesforce_id18(pd.Series([*pairs, "0068d00000Op000AAA", "Dana Reyes", ""]))
    assert got.tolist() == [*pairs.values(), "0068d00000Op000AAA", "Dana Reyes", ""] and n == 5


def test_salesforce_id18_agrees_with_a_plain_loop():
    import sys

    sys.path.insert(0, str(CRM))
    from make_variants import id18

    rng = random.Random(7)
    ids = ["0" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(14)) for _ in range(300)]
    assert salesforce_id18(pd.Series(ids))[0].tolist() == [id18(i) for i in ids]


def test_report_export_with_owner_names_and_15_character_ids_links_to_data_loader_files(tmp_path):
    report, out = run("sf-report-export", tmp_path)
    reps = table(out, "reps")
    assert len(reps) == 3 and reps["rep_id"].str.len().eq(18).all()  # names joined to the User ids: no doubles
    deals = table(out, "deals")
    assert len(deals) == 7 and deals["rep_id"].isin(set(reps["rep_id"])).all()
    assert deals["deal_id"].str.len().eq(18).all()
    assert report.links["deals with a lead"]["share"] > 0.5
    assert report.links["activities with a lead (of those with an owner and a date)"]["share"] == 1.0
    assert any("of 15 characters (report exports) normalised" in n for n in report.notes)
    assert any("report footer" in n and "Grand Totals (8 records)" in n for n in report.notes)
    assert report.files["opportunities"] == "report1763630040000.csv"  # found by its heading
    assert not report.warnings


def test_report_export_without_users_warns_of_double_counted_reps(tmp_path):
    report, out = run("sf-report-no-users", tmp_path)
    assert any("both as user ids" in w and "User.csv" in w for w in report.warnings)
    assert "Dana Reyes" in set(table(out, "reps")["name"])


@pytest.mark.slow  # two or more imports (about 10 s or more on a shared machine)
@pytest.mark.parametrize("variant, base", [("sf-report-xlsx", "sf-report-export"),
                                           ("sf-report-european", "sf-report-export"),
                                           ("hs-xlsx", None), ("hs-zip", None), ("sf-weekly-zip", "sf-weekly-export")])
def test_xlsx_zip_and_european_saves_give_the_same_tables(variant, base, tmp_path):
    _, out = run(variant, tmp_path / "a")
    if base:
        _, expected = run(base, tmp_path / "b")
    else:
        _, expected = run("hubspot", tmp_path / "b", export=CRM / "hubspot", crm="hubspot")
    for name in ("deals", "leads", "activities", "reps", "customers"):
        pd.testing.assert_frame_equal(table(out, name), table(expected, name), obj=name)


def test_weekly_data_export_drops_deleted_rows_and_lists_unused_files_once(tmp_path):
    report, out = run("sf-weekly-export", tmp_path)
    deleted = "deleted in the CRM (IsDeleted = true)"
    # every 5th row written with IsDeleted = true by make_variants: Lead 24 rows -> 4, Opportunity 8 -> 1, Task 48 -> 9
    assert report.tables["leads"].dropped[deleted] == 4
    assert report.tables["deals"].dropped[deleted] == 1
    assert report.tables["activities"].dropped[deleted] == 9
    assert report.files["opportunity_history"] == "OpportunityHistory.csv"
    assert sorted(report.unused_files) == sorted([
        "LeadHistory.csv", "OpportunityContactRole.csv", "OpportunityFieldHistory.csv", "OpportunityStage.csv",
        "TaskStatus.csv", "UserRole.csv"])
    assert sum("Files not used" in n for n in report.notes) == 1
    lead_ids = set(table(out, "leads")["lead_id"])
    lead = pd.read_csv(VARIANTS / "sf-weekly-export" / "Lead.csv", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")
    assert not lead_ids & set(lead.loc[lead["IsDeleted"] == "true", "Id"])


def test_field_history_is_not_taken_for_the_stage_history(tmp_path):
    report, _ = run("sf-field-history-not-stage-history", tmp_path)
    assert "opportunity_history" not in report.files and "opportunity_history" in report.missing_files
    assert report.unused_files == ["OpportunityFieldHistory.csv"]


# --------------------------------------------------------------------------------------------
# Keeping rows the defaults drop
# --------------------------------------------------------------------------------------------
@pytest.mark.slow  # two or more imports (about 10 s or more on a shared machine)
def test_keep_settings_keep_deals_without_amount_calls_without_outcome_and_deal_only_calls(tmp_path):
    report, out = run("hs-deal-only-calls", tmp_path)
    only_deal = [r for r in report.tables["activities"].dropped if r.startswith("linked only to a deal")]
    assert [report.tables["activities"].dropped[r] for r in only_deal] == [3]
    assert report.tables["deals"].dropped["without an amount"] == 2
    for key in ("keep_deal_only", "keep_calls_without_outcome", "keep_without_amount"):
        set_mapping(out, f"{key} = false", f"{key} = true")
    report, out = run("hs-deal-only-calls", tmp_path)
    assert validate_folder(out, now=NOW).ok
    acts = table(out, "activities").set_index("activity_id")
    deals = table(out, "deals").set_index("deal_id")
    for call, deal in (("call_70001", "60001"), ("call_70002", "60002"), ("call_70003", "60003")):
        assert acts.loc[call, "lead_id"] == deals.loc[deal, "lead_id"] != ""
    assert acts.loc["call_70012", "outcome"] == ""  # the call without an outcome, kept
    assert len(deals) == 16 and (deals["mrr"] == "").sum() == 2
    assert not any(r.startswith("linked only to a deal") for r in report.tables["activities"].dropped)


def test_report_exports_alone_are_a_first_class_input(tmp_path):
    report, out = run("sf-reports-only", tmp_path)
    assert report.files == {"opportunities": "Opportunities with Leads-2026-11-20-09-14-00.csv",
                            "leads": "report1763630100000.csv"}
    assert len(table(out, "leads")) == 24 and len(table(out, "deals")) == 7
    assert report.links["deals with a lead"] == {"linked": 7, "total": 7, "share": 1.0}  # via 15-char ids
    assert "Gus Former" in set(table(out, "reps")["name"])  # an owner name no longer a user is still a rep
    assert sum("report footer" in n for n in report.notes) == 2


@pytest.mark.slow  # two or more imports (about 10 s or more on a shared machine)
def test_internal_names_with_numeric_owner_ids_join_the_owners_export(tmp_path):
    report, out = run("hs-internal-names", tmp_path)
    _, base = run("hubspot", tmp_path / "base", export=CRM / "hubspot", crm="hubspot")
    for name in ("deals", "activities", "reps"):  # same people, deals and touches as the label export
        pd.testing.assert_frame_equal(table(out, name), table(base, name), obj=name)
    report, out = run("hs-internal-names-no-owners", tmp_path / "no-owners")
    assert sorted(table(out, "reps")["rep_id"]) == ["51001", "51002", "51003"]
    assert any("only as numeric ids" in w and "owners export" in w for w in report.warnings)


@pytest.mark.slow  # two or more imports (about 10 s or more on a shared machine)
def test_an_object_split_over_two_weekly_export_zips_is_read_as_one_file(tmp_path):
    import zipfile

    base = CRM / "salesforce"
    lines = (base / "Task.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    export = tmp_path / "export"
    export.mkdir()
    with zipfile.ZipFile(export / "WE_00D8d000000AbcdEAC_1.ZIP", "w") as zf:
        for p in base.iterdir():
            if p.name != "Task.csv":
                zf.write(p, p.name)
        zf.writestr("Task.csv", "".join(lines[:20]))
    with zipfile.ZipFile(export / "WE_00D8d000000AbcdEAC_2.ZIP", "w") as zf:
        zf.writestr("Task.csv", "".join(lines[:1] + lines[20:]))
    report, out = run("salesforce", tmp_path, export=export, crm="salesforce")
    _, expected = run("salesforce", tmp_path / "base", export=base, crm="salesforce")
    pd.testing.assert_frame_equal(table(out, "activities"), table(expected, "activities"))
    assert any("Task.csv were split over several ZIP files" in n for n in report.notes)


@pytest.mark.slow  # two or more imports (about 10 s or more on a shared machine)
def test_an_activities_report_gives_the_same_activities_as_the_task_export(tmp_path):
    report, out = run("sf-activity-report", tmp_path)
    assert report.files["tasks"] == "report1763630200000.csv"  # recognised by its heading, not taken for leads
    _, expected = run("sf-report-export", tmp_path / "b")
    cols = ["activity_id", "rep_id", "lead_id", "activity_type", "outcome"]
    pd.testing.assert_frame_equal(table(out, "activities")[cols], table(expected, "activities")[cols])


def test_report_footer_is_removed_and_its_record_count_checked(tmp_path):
    from helpers.data.importers.common import ExportFile, ImportReport, footer_check, read_export_csv

    path = tmp_path / "report1763630040000.csv"
    path.write_text('"Opportunity ID","Amount"\n"0068d00000Op000","12,000.00"\n"0068d00000Op003","6,000.00"\n'
                    '""\n"Grand Totals (3 records)"\n""\n"Copyright (c) 2000-2026 salesforce.com, inc. All rights '
                    'reserved."\n"Confidential Information - Do Not Distribute"\n', encoding="utf-8")
    frame = read_export_csv(path)
    assert len(frame) == 2 and frame.index.tolist() == [2, 3] and frame.attrs["footer_records"] == 3
    report = ImportReport(crm="salesforce", export_dir=str(tmp_path))
    footer_check(ExportFile("opportunities", path, frame), report)
    assert report.warnings == ["report1763630040000.csv: the report's footer says 3 records but the file holds 2 "
                               "rows: export the report again as 'Details Only', unedited."]
    path.write_text('"Id","Notes"\n"1","first line\nTotals (3 records)"\n', encoding="utf-8")  # a value, not a footer
    assert read_export_csv(path)["Notes"].tolist() == ["first line\nTotals (3 records)"]


def test_a_mapping_started_by_hand_keeps_its_settings_and_gets_the_rest_written(tmp_path):
    with pytest.raises(ImportInputError, match=r"create .*data.mapping.toml with the two lines crm = \"hubspot\""):
        run("hs-ambiguous-amounts", tmp_path)
    mapping = tmp_path / "data.mapping.toml"
    mapping.write_text('crm = "hubspot"\nnumber_format = "1.234,56"\n', encoding="utf-8")
    report, out = run("hs-ambiguous-amounts", tmp_path)
    assert report.mapping_created and "[[reps]]" in mapping.read_text(encoding="utf-8")
    assert 'number_format = "1.234,56"' in mapping.read_text(encoding="utf-8")
    assert table(out, "deals").set_index("deal_id").loc["60001", "mrr"] == "104.17"  # "1.250" = 1250, / 12
