"""Validation of data folders: every problem names the file, the column and the rows a person sees.

CSV row numbers are file lines (header = line 1, first data row = line 2); Parquet rows are
1-based. Each test breaks one thing in an otherwise valid folder built in a temp dir.
"""
from __future__ import annotations

import dataclasses
import gzip
import json
import os

import pandas as pd
import pytest

import helpers.data.validate as validate_module
from helpers.cli import main as cli_main
from helpers.core.config import load_config
from helpers.data.validate import (
    DataValidationError,
    Problem,
    build_table_schema,
    check_folder,
    validate_folder,
)
from test_validate_fixtures import NOW, TRAITS, valid_tables, write_folder


@pytest.fixture(scope="module")
def config():
    return dataclasses.replace(load_config(), traits=TRAITS)


def run(tmp_path, config, tables=None, fmt="csv", **kw):
    folder = write_folder(tmp_path / "data", tables, fmt=fmt, **kw)
    return validate_folder(folder, config, now=NOW)


def only(report, code, severity=None) -> Problem:
    found = [p for p in report.problems if p.code == code and (severity is None or p.severity == severity)]
    assert len(found) == 1, f"expected one {code!r} problem, got {found}\n{report.format()}"
    return found[0]


def assert_located(problem: Problem, file: str, column: str | None, rows: list[int]):
    text = str(problem)
    assert problem.file == file and file in text
    if column:
        assert problem.column == column and f"column {column}" in text
    assert problem.rows == rows
    for r in rows:
        assert str(r) in problem.where


# ------------------------------------------------------------------------------------------
# a valid folder passes, in every format
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_valid_folder_passes_in_every_format(tmp_path, config, fmt):
    report = run(tmp_path, config, fmt=fmt)
    assert report.ok, report.format()
    assert report.errors == [] and report.warnings == [], report.format()
    assert report.row_counts["activities"] == 6 and report.row_counts["reps"] == 3
    assert report.tables["reps"].name == f"reps.{fmt}"
    assert "OK: 0 errors, 0 warnings" in report.format()


def test_parquet_written_as_text_also_passes(tmp_path, config):
    report = run(tmp_path, config, fmt="parquet", typed_parquet=False)
    assert report.ok and not report.warnings, report.format()


# ------------------------------------------------------------------------------------------
# files
# ------------------------------------------------------------------------------------------
def test_missing_reps_is_an_error_naming_the_expected_files(tmp_path, config):
    tables = valid_tables()
    del tables["reps"]
    report = run(tmp_path, config, tables)
    problem = only(report, "missing_file")
    assert problem.severity == "error" and problem.table == "reps"
    assert "reps.csv" in problem.message and "reps.parquet" in problem.message
    assert not report.ok


def test_misnamed_reps_file_gets_a_rename_hint(tmp_path, config):
    folder = write_folder(tmp_path / "data")
    (folder / "reps.csv").rename(folder / "Sales Reps.csv")
    report = validate_folder(folder, config, now=NOW)
    stray = only(report, "unknown_file")
    assert stray.file == "Sales Reps.csv" and "rename it to reps.csv" in stray.hint
    assert only(report, "missing_file").severity == "error"


def test_optional_tables_missing_is_only_a_note(tmp_path, config):
    tables = {k: v for k, v in valid_tables().items() if k in ("reps", "quotas")}
    report = run(tmp_path, config, tables)
    assert report.ok and not report.warnings, report.format()
    note = only(report, "optional_missing", "info")
    assert "activities" in note.message and "reps" not in note.message.split(":")[1].split(",")[0]


def test_two_files_for_one_table_is_an_error(tmp_path, config):
    folder = write_folder(tmp_path / "data")
    valid_tables()["deals"].to_parquet(folder / "deals.parquet", index=False)
    problem = only(validate_folder(folder, config, now=NOW), "duplicate_file")
    assert problem.severity == "error"
    assert "deals.csv" in problem.message and "deals.parquet" in problem.message


def test_unknown_table_file_is_a_warning_and_excel_workbooks_get_a_save_as_hint(tmp_path, config):
    folder = write_folder(tmp_path / "data")
    (folder / "forecast.csv").write_text("a,b\n1,2\n")
    (folder / "activity.xlsx").write_bytes(b"PK\x03\x04")
    (folder / "README.md").write_text("notes")
    report = validate_folder(folder, config, now=NOW)
    assert report.ok
    stray = {p.file: p for p in report.warnings if p.code == "unknown_file"}
    assert set(stray) == {"forecast.csv", "activity.xlsx"}
    assert "CSV UTF-8" in stray["activity.xlsx"].hint


def test_zero_byte_file_is_an_error(tmp_path, config):
    folder = write_folder(tmp_path / "data")
    (folder / "activities.csv").write_bytes(b"")
    problem = only(validate_folder(folder, config, now=NOW), "empty_file")
    assert problem.severity == "error" and problem.file == "activities.csv"
    assert "0 bytes" in problem.message


def test_header_only_file_is_an_error_for_reps_and_a_warning_otherwise(tmp_path, config):
    tables = valid_tables()
    tables["reps"] = tables["reps"].iloc[0:0]
    tables["deals"] = tables["deals"].iloc[0:0]
    report = run(tmp_path, config, tables)
    by_table = {p.table: p for p in report.problems if p.code == "no_rows"}
    assert by_table["reps"].severity == "error" and by_table["reps"].file == "reps.csv"
    assert by_table["deals"].severity == "warning" and by_table["deals"].file == "deals.csv"
    assert report.row_counts["deals"] == 0


def test_missing_data_folder(tmp_path, config):
    report = validate_folder(tmp_path / "nope", config, now=NOW)
    assert not report.ok and only(report, "missing_folder").severity == "error"


# ------------------------------------------------------------------------------------------
# encodings and CSV dialects
# ------------------------------------------------------------------------------------------
def test_utf8_bom_is_accepted(tmp_path, config):
    folder = write_folder(tmp_path / "data")
    path = folder / "reps.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = validate_folder(folder, config, now=NOW)
    assert report.ok and not report.warnings, report.format()
    assert only(report, "bom", "info").file == "reps.csv"
    assert report.row_counts["reps"] == 3


def test_cp1252_file_names_the_line_of_the_first_bad_byte_and_says_save_as_utf8(tmp_path, config):
    tables = valid_tables()
    tables["reps"].loc[1, "name"] = "Jos\u00e9 Garc\u00eda"  # line 3
    folder = write_folder(tmp_path / "data", tables)
    (folder / "reps.csv").write_bytes(tables["reps"].to_csv(index=False).encode("cp1252"))
    report = validate_folder(folder, config, now=NOW)
    problem = only(report, "encoding")
    assert_located(problem, "reps.csv", None, [3])
    assert "line 3" in problem.message and "0xE9" in problem.message
    assert "CSV UTF-8" in problem.hint


def test_cp1252_deep_in_a_gzipped_file_is_located(tmp_path, config, monkeypatch):
    monkeypatch.setattr(validate_module, "CHUNK_ROWS", 7)
    tables = valid_tables()
    acts = pd.concat([tables["activities"]] * 10, ignore_index=True)
    acts["activity_id"] = [f"A{i}" for i in range(len(acts))]
    acts.loc[40, "rep_id"] = "r\u00e9"  # line 42
    tables["activities"] = acts
    folder = write_folder(tmp_path / "data", tables)
    (folder / "activities.csv").unlink()
    with gzip.open(folder / "activities.csv.gz", "wb") as fh:
        fh.write(acts.to_csv(index=False).encode("cp1252"))
    problem = only(validate_folder(folder, config, now=NOW), "encoding")
    assert_located(problem, "activities.csv.gz", None, [42])


def test_semicolon_separated_file_is_explained(tmp_path, config):
    folder = write_folder(tmp_path / "data")
    valid_tables()["reps"].to_csv(folder / "reps.csv", index=False, sep=";")
    problem = only(validate_folder(folder, config, now=NOW), "separator")
    assert problem.file == "reps.csv" and "semicolons" in problem.message


def test_multiline_quoted_cells_keep_line_numbers_right(tmp_path, config):
    tables = valid_tables()
    tables["experiments"] = pd.concat([tables["experiments"]] * 3, ignore_index=True)
    tables["experiments"]["experiment_id"] = ["X1", "X2", "X3"]
    tables["experiments"].loc[0, "hypothesis"] = "first line\nsecond line\nthird line"  # lines 2-4
    tables["experiments"].loc[2, "unit"] = "account"  # third record starts on line 6
    tables["experiment_assignments"]["experiment_id"] = "X1"
    problem = only(run(tmp_path, config, tables), "unknown_value")
    assert_located(problem, "experiments.csv", "unit", [6])


def test_blank_lines_are_ignored_with_a_warning_and_do_not_shift_line_numbers(tmp_path, config):
    folder = write_folder(tmp_path / "data")
    text = (folder / "reps.csv").read_text().splitlines()
    text.insert(2, "")  # blank line 3
    text.append(",,,,,,,")  # Excel's leftover empty row, line 6
    text[3] = text[3].replace("2023-03-01", "soon")  # Ben is now on line 4
    (folder / "reps.csv").write_text("\n".join(text) + "\n")
    report = validate_folder(folder, config, now=NOW)
    assert_located(only(report, "wrong_type"), "reps.csv", "hire_date", [4])
    assert_located(only(report, "empty_rows", "warning"), "reps.csv", None, [3, 6])
    assert report.row_counts["reps"] == 3


# ------------------------------------------------------------------------------------------
# columns
# ------------------------------------------------------------------------------------------
def test_missing_required_column(tmp_path, config):
    tables = valid_tables()
    tables["activities"] = tables["activities"].drop(columns=["lead_id"])
    problem = only(run(tmp_path, config, tables), "missing_column")
    assert problem.severity == "error"
    assert_located(problem, "activities.csv", "lead_id", [])
    assert "lead_id" in problem.message and "Add the column lead_id" in problem.hint


def test_optional_columns_of_real_exports_may_be_absent(tmp_path, config):
    """Issue 18: no hire dates, segments, amounts, deal dates or experiment dates is a valid export."""
    tables = valid_tables()
    tables["reps"] = tables["reps"].drop(columns=["hire_date", "segment", "role", "name"])
    tables["leads"] = tables["leads"].drop(columns=["segment", "source", "first_offer", "lead_type"])
    tables["deals"] = tables["deals"].drop(columns=["mrr", "created_at", "closed_at"])
    tables["activities"] = tables["activities"].drop(columns=["outcome", "activity_type"])
    tables["experiments"] = tables["experiments"].drop(columns=["start_date", "end_date", "name", "hypothesis"])
    report = run(tmp_path, config, tables)
    assert report.ok, report.format()
    assert not [p for p in report.problems if p.code == "missing_column" and p.severity != "info"], report.format()


def test_header_differing_only_by_case_and_spaces_gets_a_rename_hint(tmp_path, config):
    tables = valid_tables()
    tables["activities"] = tables["activities"].rename(columns={"rep_id": "Rep ID", "meeting_kind": "Meeting Kind"})
    report = run(tmp_path, config, tables)
    required = only(report, "missing_column", "error")
    assert required.column == "rep_id" and "'Rep ID'" in required.hint and "rep_id" in required.hint
    assert "case or spaces" in required.hint
    optional = only(report, "missing_column", "warning")
    assert optional.column == "meeting_kind" and "'Meeting Kind'" in optional.hint
    assert not [p for p in report.problems if p.code == "unknown_column"]


def test_extra_columns_are_a_warning(tmp_path, config):
    tables = valid_tables()
    tables["deals"]["Opportunity Owner Email"] = "x@example.org"
    report = run(tmp_path, config, tables)
    assert report.ok
    problem = only(report, "unknown_column", "warning")
    assert problem.file == "deals.csv" and "Opportunity Owner Email" in problem.message


# ------------------------------------------------------------------------------------------
# cells
# ------------------------------------------------------------------------------------------
def test_text_in_a_numeric_column(tmp_path, config):
    tables = valid_tables()
    tables["quotas"].loc[2, "quota_mrr"] = "five thousand"  # line 4
    problem = only(run(tmp_path, config, tables), "wrong_type")
    assert_located(problem, "quotas.csv", "quota_mrr", [4])
    assert "'five thousand'" in problem.message and "not numbers" in problem.message


def test_currency_and_thousands_separators_get_specific_hints(tmp_path, config):
    tables = valid_tables()
    tables["deals"].loc[0, "mrr"] = "$1,200"
    tables["customers"].loc[0, "mrr"] = "1,200.00"
    report = run(tmp_path, config, tables)
    problems = {p.file: p for p in report.errors if p.code == "wrong_type"}
    assert "currency" in problems["deals.csv"].hint
    assert "thousands separators" in problems["customers.csv"].hint
    assert problems["customers.csv"].rows == [2]


def test_fractional_value_in_an_integer_column(tmp_path, config):
    tables = valid_tables()
    tables["hiring_scores"].loc[3, "score"] = "7.5"  # line 5
    problem = only(run(tmp_path, config, tables), "wrong_type")
    assert_located(problem, "hiring_scores.csv", "score", [5])
    assert "whole numbers" in problem.message


def test_unknown_value_of_a_closed_category_lists_the_allowed_values_and_suggests_the_fix(tmp_path, config):
    tables = valid_tables()
    tables["deals"].loc[0, "status"] = "Won"  # line 2
    tables["deals"].loc[1, "status"] = "Signed"  # line 3
    problem = only(run(tmp_path, config, tables), "unknown_value")
    assert_located(problem, "deals.csv", "status", [2, 3])
    assert "Allowed: open, won, lost" in problem.message
    assert "'Won'" in problem.message and "'Signed'" in problem.message
    assert "Replace 'Won' with 'won'" in problem.hint


def test_unknown_value_of_an_open_category_is_kept_with_a_note_and_can_be_mapped(tmp_path, config):
    """Issue 18: real CRMs say `Sales Rep`, `direct_traffic`, `none`; never an error, listed in a note."""
    tables = valid_tables()
    tables["reps"].loc[0, "role"] = "AE"  # case and spaces are read away: a known value
    tables["reps"].loc[1, "role"] = "Sales Rep"  # line 3
    tables["leads"]["source"] = "direct_traffic"
    report = run(tmp_path, config, tables)
    assert report.ok, report.format()
    role = [p for p in report.infos if p.code == "open_value" and p.column == "role"]
    assert len(role) == 1 and role[0].rows == [3] and "'sales rep'" in role[0].message
    source = [p for p in report.infos if p.code == "open_value" and p.column == "source"][0]
    assert 'source = {direct_traffic = "direct"}' in source.hint
    mapped = dataclasses.replace(config, raw={**config.raw, "categories": {"source": {"direct_traffic": "direct"}}})
    report = validate_folder(tmp_path / "data", mapped, now=NOW)
    assert not [p for p in report.infos if p.code == "open_value" and p.column == "source"]


def test_empty_cell_in_a_required_column(tmp_path, config):
    tables = valid_tables()
    tables["activities"].loc[4, "occurred_at"] = ""  # line 6
    problem = only(run(tmp_path, config, tables), "missing_value")
    assert_located(problem, "activities.csv", "occurred_at", [6])


def test_score_out_of_range_uses_the_configured_scale(tmp_path, config):
    tables = valid_tables()
    tables["hiring_scores"].loc[1, "score"] = "11"  # line 3
    tables["hiring_scores"].loc[2, "score"] = "0"  # line 4
    problem = only(run(tmp_path, config, tables), "out_of_range")
    assert_located(problem, "hiring_scores.csv", "score", [3, 4])
    assert "between 1 and 10" in problem.message and "score_min" in problem.hint
    wider = dataclasses.replace(config, score_min=0, score_max=20)
    report = validate_folder(tmp_path / "data", wider, now=NOW)
    assert report.ok, report.format()


def test_traits_come_from_the_configuration(tmp_path, config):
    tables = valid_tables()
    tables["hiring_scores"].loc[0, "trait"] = "aggressiveness"  # line 2
    problem = only(run(tmp_path, config, tables), "unknown_value")
    assert_located(problem, "hiring_scores.csv", "trait", [2])
    assert "[hiring] traits" in problem.hint
    with_trait = dataclasses.replace(config, traits=TRAITS + ("aggressiveness",))
    assert validate_folder(tmp_path / "data", with_trait, now=NOW).ok


def test_unparseable_timestamp(tmp_path, config):
    tables = valid_tables()
    tables["leads"].loc[3, "created_at"] = "yesterday"  # line 5
    problem = only(run(tmp_path, config, tables), "wrong_type")
    assert_located(problem, "leads.csv", "created_at", [5])
    assert "ISO 8601" in problem.message and "'yesterday'" in problem.message


def test_locale_dates_are_recognised(tmp_path, config):
    tables = valid_tables()
    tables["reps"].loc[2, "hire_date"] = "06/01/2022"  # line 4
    problem = only(run(tmp_path, config, tables), "date_format")
    assert_located(problem, "reps.csv", "hire_date", [4])
    assert "YYYY-MM-DD" in problem.hint


def test_excel_serial_dates_are_recognised_with_the_fix(tmp_path, config):
    tables = valid_tables()
    tables["customers"].loc[0, "start_date"] = "45291"  # line 2
    problem = only(run(tmp_path, config, tables), "excel_date")
    assert_located(problem, "customers.csv", "start_date", [2])
    assert "Excel serial" in problem.message
    assert "45291 = 2023-12-31" in problem.hint and "yyyy-mm-dd" in problem.hint


def test_excel_serial_numbers_stored_in_a_parquet_date_column(tmp_path, config):
    tables = valid_tables()
    folder = write_folder(tmp_path / "data", tables, fmt="parquet")
    reps = pd.read_parquet(folder / "reps.parquet")
    reps["hire_date"] = [44928, 44986, 44713]  # Excel serials, as numbers
    reps.to_parquet(folder / "reps.parquet", index=False)
    problem = only(validate_folder(folder, config, now=NOW), "excel_date")
    assert_located(problem, "reps.parquet", "hire_date", [1, 2, 3])
    assert "rows 1, 2, 3" in problem.where


def test_month_written_as_a_date(tmp_path, config):
    tables = valid_tables()
    tables["quotas"].loc[5, "month"] = "2024-03-01"  # line 7
    problem = only(run(tmp_path, config, tables), "date_format")
    assert_located(problem, "quotas.csv", "month", [7])
    assert "YYYY-MM" in problem.hint


def test_offsets_are_converted_to_utc_and_naive_times_taken_as_utc(tmp_path, config):
    tables = valid_tables()
    # NOW is 2024-06-01T00:00Z: 01:00+02:00 is 23:00Z the day before (fine), naive 01:00 is UTC (future)
    tables["activities"].loc[0, "occurred_at"] = "2024-06-01T01:00:00+02:00"  # line 2
    tables["activities"].loc[1, "occurred_at"] = "2024-06-01 01:00:00"  # line 3
    problem = only(run(tmp_path, config, tables), "future")
    assert_located(problem, "activities.csv", "occurred_at", [3])
    assert "2024-06-01 01:00:00 UTC" in problem.message


def test_future_timestamp(tmp_path, config):
    tables = valid_tables()
    tables["deals"].loc[1, "created_at"] = "2031-03-06T10:00:00Z"  # line 3
    problem = only(run(tmp_path, config, tables), "future")
    assert_located(problem, "deals.csv", "created_at", [3])
    assert "future" in problem.message and "UTC" in problem.hint


def test_deal_closed_before_it_was_created(tmp_path, config):
    tables = valid_tables()
    tables["deals"].loc[0, "closed_at"] = "2024-01-10T10:00:00Z"  # created 2024-01-21, line 2
    problem = only(run(tmp_path, config, tables), "order")
    assert_located(problem, "deals.csv", "closed_at", [2])
    assert "closed_at before created_at" in problem.message
    assert "2024-01-10 10:00 < 2024-01-21 10:00" in problem.message


def test_status_and_close_date_disagree_is_a_warning(tmp_path, config):
    tables = valid_tables()
    tables["deals"].loc[0, "closed_at"] = ""  # won without a close date, line 2
    report = run(tmp_path, config, tables)
    assert report.ok
    assert_located(only(report, "closed_without_date", "warning"), "deals.csv", "closed_at", [2])


def test_parquet_rows_are_one_based_and_called_rows(tmp_path, config):
    tables = valid_tables()
    tables["experiment_assignments"].loc[2, "arm"] = "placebo"
    problem = only(run(tmp_path, config, tables, fmt="parquet"), "unknown_value")
    assert_located(problem, "experiment_assignments.parquet", "arm", [3])
    assert "row 3" in problem.where and "line" not in problem.where


def test_parquet_ids_stored_as_numbers_are_a_warning(tmp_path, config):
    folder = write_folder(tmp_path / "data", fmt="parquet")
    exp = pd.read_parquet(folder / "experiment_assignments.parquet")
    exp["unit_id"] = [1, 2, 3, 4]
    exp.to_parquet(folder / "experiment_assignments.parquet", index=False)
    report = validate_folder(folder, config, now=NOW)
    assert report.ok
    problem = only(report, "parquet_type", "warning")
    assert problem.column == "unit_id" and "int64" in problem.message


def test_long_lists_show_the_first_rows_and_the_total(tmp_path, config):
    tables = valid_tables()
    acts = pd.concat([tables["activities"]] * 5, ignore_index=True)
    acts["activity_id"] = [f"A{i}" for i in range(len(acts))]
    acts["activity_type"] = "Dial"  # an open vocabulary: a note, read as 'dial'
    tables["activities"] = acts
    problem = only(run(tmp_path, config, tables), "open_value", "info")
    assert problem.rows == [2, 3, 4, 5, 6] and problem.count == 30
    assert "lines 2, 3, 4, 5, 6 and 25 more (30 rows)" in problem.where
    assert "'dial' (30x)" in problem.message


# ------------------------------------------------------------------------------------------
# across rows and tables
# ------------------------------------------------------------------------------------------
def test_duplicate_id(tmp_path, config):
    tables = valid_tables()
    tables["activities"].loc[4, "activity_id"] = "A2"  # lines 3 and 6
    problem = only(run(tmp_path, config, tables), "duplicate_key")
    assert_located(problem, "activities.csv", "activity_id", [3, 6])
    assert "'A2'" in problem.message and problem.count == 2


def test_duplicate_composite_key(tmp_path, config):
    tables = valid_tables()
    tables["quotas"].loc[4, "month"] = "2024-01"  # r2 2024-01 twice: lines 5 and 6
    problem = only(run(tmp_path, config, tables), "duplicate_key")
    assert_located(problem, "quotas.csv", "rep_id, month", [5, 6])
    assert "(r2, 2024-01)" in problem.message


def test_duplicates_across_chunks_keep_file_line_numbers(tmp_path, config, monkeypatch):
    monkeypatch.setattr(validate_module, "CHUNK_ROWS", 4)
    tables = valid_tables()
    acts = pd.concat([tables["activities"]] * 3, ignore_index=True)
    acts["activity_id"] = [f"A{i}" for i in range(len(acts))]
    acts.loc[16, "activity_id"] = "A1"  # lines 3 and 18, in different chunks
    acts.loc[13, "outcome"] = "maybe"  # line 15
    tables["activities"] = acts
    report = run(tmp_path, config, tables)
    assert_located(only(report, "duplicate_key"), "activities.csv", "activity_id", [3, 18])
    assert_located(only(report, "open_value", "info"), "activities.csv", "outcome", [15])
    assert report.row_counts["activities"] == 18


def test_activity_for_an_unknown_rep(tmp_path, config):
    tables = valid_tables()
    tables["activities"].loc[3, "rep_id"] = "r9"  # line 5
    problem = only(run(tmp_path, config, tables), "dangling_reference")
    assert_located(problem, "activities.csv", "rep_id", [5])
    assert "'r9'" in problem.message and "reps.csv" in problem.message


def test_reference_to_an_absent_table_is_noted_not_failed(tmp_path, config):
    tables = valid_tables()
    del tables["deals"]
    report = run(tmp_path, config, tables)
    assert report.ok, report.format()
    note = only(report, "reference_unchecked", "info")
    assert note.file == "customers.csv" and note.column == "deal_id"


def test_selling_rep_without_activity_is_a_warning(tmp_path, config):
    tables = valid_tables()
    tables["activities"]["rep_id"] = "r1"
    report = run(tmp_path, config, tables)
    assert report.ok
    problem = only(report, "rep_without_activity", "warning")
    assert_located(problem, "reps.csv", "rep_id", [3])  # r2 (sdr); m1 is a manager
    assert "'r2'" in problem.message


def test_month_without_rows_inside_the_span_is_a_warning(tmp_path, config):
    tables = valid_tables()
    n = 60  # 12 a month over the span: an empty month is suspicious
    months = ["2024-01", "2024-02", "2024-04", "2024-05"]
    tables["activities"] = pd.DataFrame({
        "activity_id": [f"A{i}" for i in range(n)],
        "rep_id": ["r1", "r2"] * (n // 2),
        "lead_id": ["L1"] * n,
        "occurred_at": [f"{months[i % 4]}-10T10:00:00Z" for i in range(n)],
        "activity_type": ["call"] * n,
        "outcome": ["connected"] * n,
        "meeting_kind": [""] * n,
    })
    report = run(tmp_path, config, tables)
    assert report.ok
    problem = only(report, "month_gap", "warning")
    assert problem.file == "activities.csv" and problem.column == "occurred_at"
    assert "2024-03" in problem.message and "2024-01 to 2024-05" in problem.message


# ------------------------------------------------------------------------------------------
# report objects, exceptions, the command
# ------------------------------------------------------------------------------------------
def test_report_format_groups_by_file_errors_first(tmp_path, config):
    tables = valid_tables()
    tables["reps"].loc[0, "hire_date"] = "soon"
    tables["deals"]["extra"] = "x"
    text = run(tmp_path, config, tables).format()
    assert text.index("Errors (1)") < text.index("reps.csv") < text.index("Warnings (1)") < text.index("deals.csv")
    assert text.splitlines()[-1].startswith("NOT OK: 1 error, 1 warning.")
    assert "reps (3 rows)" in text.splitlines()[-1]


def test_to_dict_is_json_ready(tmp_path, config):
    tables = valid_tables()
    tables["reps"].loc[0, "hire_date"] = "soon"
    data = json.loads(json.dumps(run(tmp_path, config, tables).to_dict()))
    assert data["ok"] is False and data["errors"][0]["rows"] == [2]
    assert data["errors"][0]["column"] == "hire_date" and data["tables"]["reps"].endswith("reps.csv")


def test_check_folder_raises_with_the_report(tmp_path, config):
    tables = valid_tables()
    tables["activities"].loc[3, "rep_id"] = "r9"
    folder = write_folder(tmp_path / "data", tables)
    with pytest.raises(DataValidationError) as info:
        check_folder(folder, config, now=NOW)
    assert info.value.report.errors[0].code == "dangling_reference"
    assert "activities.csv" in str(info.value) and "sales-workbook validate" in str(info.value)
    good = write_folder(tmp_path / "good")
    assert check_folder(good, config, now=NOW).ok


def test_validation_writes_nothing(tmp_path, config, monkeypatch):
    folder = write_folder(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    validate_folder(folder, config, now=NOW)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_schema_is_built_from_the_contract_and_config(config):
    schema = build_table_schema("hiring_scores", config)
    checks = {str(c) for c in schema.columns["trait"].checks}
    assert any("coachability" in c and "aggressiveness" not in c for c in checks)
    assert schema.columns["rep_id"].nullable and not schema.columns["score"].nullable
    assert str(schema.columns["score"].dtype) == "Int64"


def _write_config(tmp_path):
    path = tmp_path / "workbook.toml"
    path.write_text(f"[hiring]\ntraits = {json.dumps(list(TRAITS))}\n")
    return path


def test_cli_accepts_a_valid_folder(tmp_path, capsys):
    folder = write_folder(tmp_path / "data")
    code = cli_main(["validate", str(folder), "--config", str(_write_config(tmp_path))])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "OK: 0 errors" in out and "activities (6 rows)" in out


def test_cli_rejects_a_bad_folder_with_exit_1(tmp_path, capsys):
    tables = valid_tables()
    tables["activities"].loc[3, "rep_id"] = "r9"
    folder = write_folder(tmp_path / "data", tables)
    code = cli_main(["validate", str(folder), "--config", str(_write_config(tmp_path))])
    out = capsys.readouterr().out
    assert code == 1
    assert "activities.csv" in out and "column rep_id, line 5" in out and "'r9'" in out
    assert "NOT OK: 1 error" in out


def test_cli_uses_the_configured_folder_by_default(tmp_path, capsys):
    write_folder(tmp_path / "data")
    cfg = _write_config(tmp_path)
    cfg.write_text(cfg.read_text() + '\n[data]\ndir = "data"\n')
    assert cli_main(["validate", "--config", str(cfg)]) == 0
    assert str(tmp_path / "data") in capsys.readouterr().out


def test_cli_exit_code_with_only_warnings_is_zero(tmp_path, capsys):
    tables = valid_tables()
    tables["deals"]["Owner Email"] = "x@example.org"
    folder = write_folder(tmp_path / "data", tables)
    assert cli_main(["validate", str(folder), "--config", str(_write_config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "Warnings (1)" in out and "Owner Email" in out and "OK: 0 errors, 1 warning" in out


def test_no_problem_is_reported_twice_for_one_cell(tmp_path, config):
    """An unreadable required cell is reported as unreadable, not also as empty."""
    tables = valid_tables()
    tables["reps"].loc[0, "hire_date"] = "soon"
    report = run(tmp_path, config, tables)
    assert [p.code for p in report.errors] == ["wrong_type"], report.format()
    assert os.path.basename(str(report.tables["reps"])) == "reps.csv"


# ------------------------------------------------------------------------------------------
# broken CSV syntax and file names
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk_rows", [3, 500_000])
def test_row_with_too_many_cells_names_its_line(tmp_path, config, monkeypatch, chunk_rows):
    monkeypatch.setattr(validate_module, "CHUNK_ROWS", chunk_rows)
    tables = valid_tables()
    acts = pd.concat([tables["activities"]] * 2, ignore_index=True)
    acts["activity_id"] = [f"A{i}" for i in range(len(acts))]
    tables["activities"] = acts
    folder = write_folder(tmp_path / "data", tables)
    path = folder / "activities.csv"
    lines = path.read_text().splitlines()
    lines[8] += ",Acme, Inc."  # line 9
    path.write_text("\n".join(lines) + "\n")
    report = validate_folder(folder, config, now=NOW)
    problem = only(report, "csv_syntax")
    assert_located(problem, "activities.csv", None, [9])
    assert "9 cells but the header has 7" in problem.message and "quote" in problem.hint
    assert "activities (unreadable)" in report.summary()


def test_unclosed_quote_names_its_line(tmp_path, config):
    folder = write_folder(tmp_path / "data")
    path = folder / "leads.csv"
    lines = path.read_text().splitlines()
    lines[2] = 'L2,"2024-01-20'  # line 3
    path.write_text("\n".join(lines) + "\n")
    problem = only(validate_folder(folder, config, now=NOW), "csv_syntax")
    assert_located(problem, "leads.csv", None, [3])
    assert "never closed" in problem.message


def test_upper_case_suffix_is_not_taken_for_a_table(tmp_path, config):
    folder = write_folder(tmp_path / "data")
    (folder / "deals.csv").rename(folder / "deals.CSV")
    report = validate_folder(folder, config, now=NOW)
    assert "deals" not in report.tables
    assert "rename it to deals.csv" in only(report, "unknown_file").hint
    note = only(report, "reference_unchecked", "info")
    assert note.file == "customers.csv" and "deals" in note.message


@pytest.mark.parametrize("block", [1, 2, 3, 5, 64])
def test_first_bad_byte_is_found_across_read_blocks(tmp_path, monkeypatch, block):
    """Multi-byte UTF-8 characters split between reads are not mistaken for bad bytes."""
    monkeypatch.setattr(validate_module, "_SCAN_BLOCK_BYTES", block)
    path = tmp_path / "reps.csv"
    good = "rep_id,name\nr1,Zoë Ødegård 日本\nr2,Łukasz\n".encode()
    path.write_bytes(good + "r3,Ren\u00e9e\n".encode("cp1252") + b"r4,x\n")
    line, offset, text = validate_module._first_bad_utf8(path)
    assert line == 4 and text == "r3,Ren\u00e9e".encode("cp1252") and offset == len(good) + 6
    path.write_bytes(good)
    assert validate_module._first_bad_utf8(path) is None


def test_excel_serial_with_a_time_of_day_in_a_timestamp_column(tmp_path, config):
    tables = valid_tables()
    tables["lead_events"].loc[2, "occurred_at"] = "45291.75"  # line 4
    problem = only(run(tmp_path, config, tables), "excel_date")
    assert_located(problem, "lead_events.csv", "occurred_at", [4])
    assert "45291.75 = 2023-12-31 18:00" in problem.hint


# ------------------------------------------------------------------------------------------
# experiments: arms, references and dates
# ------------------------------------------------------------------------------------------
def test_unit_in_both_arms_of_one_experiment_is_an_error_naming_the_rows(tmp_path, config):
    tables = valid_tables()
    extra = tables["experiment_assignments"].iloc[[0]].assign(arm="treatment", cluster_id="")  # L1 again, line 6
    tables["experiment_assignments"] = pd.concat([tables["experiment_assignments"], extra], ignore_index=True)
    report = run(tmp_path, config, tables)
    assert not report.ok
    problem = only(report, "unit_in_both_arms", "error")
    assert_located(problem, "experiment_assignments.csv", "unit_id", [2, 6])
    assert "'L1' in 'X1'" in problem.message and "both arms" in problem.message
    assert not [p for p in report.problems if p.code == "cluster_in_both_arms"]  # the stray row has no cluster


def test_same_unit_id_in_two_experiments_is_fine(tmp_path, config):
    tables = valid_tables()
    tables["experiments"] = pd.concat([tables["experiments"]] * 2, ignore_index=True)
    tables["experiments"]["experiment_id"] = ["X1", "X2"]
    second = tables["experiment_assignments"].assign(experiment_id="X2", arm=["treatment", "control"] * 2,
                                                     cluster_id=["R2", "R1", "R2", "R1"])
    tables["experiment_assignments"] = pd.concat([tables["experiment_assignments"], second], ignore_index=True)
    report = run(tmp_path, config, tables)
    assert report.ok, report.format()
    assert not [p for p in report.problems if p.code in ("unit_in_both_arms", "cluster_in_both_arms")]


def test_cluster_split_across_arms_is_a_warning(tmp_path, config):
    tables = valid_tables()
    tables["experiment_assignments"].loc[3, "cluster_id"] = "R1"  # treatment unit L4 (line 5) in control's rep R1
    report = run(tmp_path, config, tables)
    assert report.ok  # the analysis can still run, but the design is broken
    problem = only(report, "cluster_in_both_arms", "warning")
    assert_located(problem, "experiment_assignments.csv", "cluster_id", [2, 4, 5])
    assert "'R1' in 'X1'" in problem.message and "cluster design is broken" in problem.message


def test_assignment_to_an_unknown_experiment_is_a_reference_error(tmp_path, config):
    tables = valid_tables()
    tables["experiment_assignments"].loc[1, "experiment_id"] = "X9"  # line 3
    problem = only(run(tmp_path, config, tables), "dangling_reference", "error")
    assert_located(problem, "experiment_assignments.csv", "experiment_id", [3])
    assert "'X9'" in problem.message and "experiments.csv" in problem.message


def test_experiment_ending_before_it_starts_is_an_order_error(tmp_path, config):
    tables = valid_tables()
    tables["experiments"].loc[0, "end_date"] = "2023-12-01"  # starts 2024-01-01, line 2
    problem = only(run(tmp_path, config, tables), "order")
    assert_located(problem, "experiments.csv", "end_date", [2])
    assert "end_date before start_date" in problem.message
