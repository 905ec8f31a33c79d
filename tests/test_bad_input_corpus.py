"""A corpus of bad (and odd but valid) inputs: every case ends in a clear message or a correct report.

Each case breaks one thing in the small valid organisation of ``test_validate_fixtures`` (the same
cases ``test_validate.py`` checks one by one, plus the read errors, control characters, money bounds,
hostile names and degenerate shapes of issue 20). Every case runs through

* ``validate_folder``: it returns a report (never raises); a broken case has an error naming the file;
* the report's pre-flight (validation, then the month checked against the data: ``_plan``): it either
  plans the month or stops with a :class:`ReportError` whose message names the file or the period.

Full reports on a handful of these cases are in ``test_degenerate_orgs.py`` (slow).
"""
from __future__ import annotations

import dataclasses
import gzip
import shutil
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

import helpers.data.validate as validate_module
import helpers.reporting.pipeline as pipeline
from helpers.core.config import load_config
from helpers.data.validate import validate_folder
from test_validate_fixtures import NOW, TRAITS, valid_tables, write_folder

Tables = dict[str, pd.DataFrame]


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    change: Callable[[Tables], None] | None = None  # edits the tables before they are written
    damage: Callable[[Path], None] | None = None  # edits the written folder
    fmt: str = "csv"
    expect: str | None = None  # text the validation errors must contain (None: the folder is valid)
    warn: str | None = None  # text a warning must contain


def _set(table: str, column: str, value: str, row: int = 0) -> Callable[[Tables], None]:
    def change(t: Tables) -> None:
        t[table].loc[row, column] = value
    return change


def _drop_column(table: str, column: str) -> Callable[[Tables], None]:
    return lambda t: t.__setitem__(table, t[table].drop(columns=[column]))


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def _cut(name: str, keep: float = 0.5) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        raw = (folder / name).read_bytes()
        (folder / name).write_bytes(raw[: max(1, int(len(raw) * keep))])
    return damage


def _recode(name: str, encoding: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_bytes(text.encode(encoding))
    return damage


def _edit_text(name: str, old: str, new: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return damage


def _remove(*names: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        for name in names:
            (folder / name).unlink()
    return damage


def _keep_rows(table: str, rows: list[int]) -> Callable[[Tables], None]:
    return lambda t: t.__setitem__(table, t[table].iloc[rows].reset_index(drop=True))


def _one_rep(t: Tables) -> None:
    """Only r1 (and the manager): every table restricted to what r1 did."""
    t["reps"] = t["reps"][t["reps"]["rep_id"].isin(["r1", "m1"])].reset_index(drop=True)
    for name, column in (("quotas", "rep_id"), ("activities", "rep_id"), ("deals", "rep_id"),
                         ("training_scores", "rep_id")):
        t[name] = t[name][t[name][column] == "r1"].reset_index(drop=True)
    t["leads"].loc[t["leads"]["owner_rep_id"] == "r2", "owner_rep_id"] = "r1"


def _gzip_garbage() -> bytes:
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes(range(256)) * 4


HOSTILE = {
    "markdown_link_name": "Md [link](javascript:alert(3)) **bold**",
    "markdown_image_name": "![x](http://evil.example/p.png)",
    "html_name": "<script>alert(1)</script>",
    "bidi_name": "Eve \u202egnp.exe\u202c",
    "emoji_name": "Zoë \U0001F680 李",
    "long_name": "A" * 5000,
}

CASES: list[Case] = [
    # ---- files and reading
    Case("missing_reps", damage=_remove("reps.csv"), expect="reps"),
    Case("empty_folder", damage=lambda f: [p.unlink() for p in f.iterdir()], expect="reps"),
    Case("zero_byte_reps", damage=_write("reps.csv", b""), expect="reps.csv"),
    Case("zero_byte_deals", damage=_write("deals.csv", b""), expect="deals.csv"),
    Case("header_only_reps", damage=_write("reps.csv", b"rep_id,name,team,manager_id,role,segment,hire_date,"
                                                       b"leave_date\n"), expect="reps.csv"),
    Case("two_files_one_table", damage=lambda f: shutil.copy(f / "deals.csv", f / "deals.csv.gz"), expect="deals"),
    Case("corrupt_gzip", fmt="csv.gz", damage=_write("deals.csv.gz", _gzip_garbage()), expect="deals.csv.gz"),
    Case("truncated_gzip", fmt="csv.gz", damage=_cut("activities.csv.gz"), expect="activities.csv.gz"),
    Case("gzip_header_only_bytes", fmt="csv.gz", damage=_write("leads.csv.gz", b"\x1f\x8b"), expect="leads.csv.gz"),
    Case("not_gzip_named_gz", fmt="csv.gz", damage=_write("deals.csv.gz", b"deal_id,lead_id\nD1,L2\n"),
         expect="deals.csv.gz"),
    Case("gzip_of_cp1252", fmt="csv.gz",
         damage=lambda f: (f / "reps.csv.gz").write_bytes(gzip.compress(
             gzip.decompress((f / "reps.csv.gz").read_bytes()).decode().replace("Chloe", "Chlo\u00e9")
             .encode("cp1252"))), expect="reps.csv.gz"),
    Case("corrupt_parquet", fmt="parquet", damage=_write("deals.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1"),
         expect="deals.parquet"),
    Case("truncated_parquet", fmt="parquet", damage=_cut("customers.parquet"), expect="customers.parquet"),
    Case("csv_named_parquet", fmt="parquet", damage=_write("reps.parquet", b"rep_id,name\nr1,Ana\n"),
         expect="reps.parquet"),
    Case("truncated_csv_mid_quote", damage=_write("experiments.csv", b"experiment_id,name\nX1,\"Call within"),
         expect="experiments.csv"),
    Case("utf16_csv", damage=_recode("reps.csv", "utf-16"), expect="reps.csv"),
    Case("cp1252_csv", change=_set("reps", "name", "Chlo\u00e9 Martin", 2), damage=_recode("reps.csv", "cp1252"),
         expect="reps.csv"),
    Case("binary_junk_csv", damage=_write("leads.csv", bytes(range(256)) * 8), expect="leads.csv"),
    Case("xlsx_bytes_named_csv", damage=_write("deals.csv", b"PK\x03\x04" + b"\x00" * 200), expect="deals.csv"),
    Case("semicolon_separated", damage=lambda f: (f / "deals.csv").write_text(
        (f / "deals.csv").read_text().replace(",", ";")), expect="deals.csv"),
    Case("unclosed_quote", damage=_edit_text("leads.csv", "L2,", '"L2,'), expect="leads.csv"),
    Case("row_with_too_many_cells", damage=_edit_text("deals.csv", "gpct", "gpct,extra,cells"), expect="deals.csv"),
    Case("utf8_bom", damage=lambda f: (f / "reps.csv").write_bytes(b"\xef\xbb\xbf" + (f / "reps.csv").read_bytes())),
    Case("crlf_line_endings", damage=lambda f: (f / "deals.csv").write_bytes(
        (f / "deals.csv").read_bytes().replace(b"\n", b"\r\n"))),
    Case("blank_lines", damage=lambda f: (f / "deals.csv").write_bytes((f / "deals.csv").read_bytes() + b"\n\n,,,\n"),
         warn="deals.csv"),
    Case("unknown_extra_file", damage=_write("notes.csv", b"a,b\n1,2\n"), warn="notes.csv"),
    # ---- headers and columns
    Case("missing_required_column", change=_drop_column("deals", "status"), expect="deals.csv"),
    Case("header_case_and_spaces", damage=_edit_text("deals.csv", "deal_id,", "Deal ID,"), expect="deals.csv"),
    Case("extra_column", change=lambda t: t["deals"].insert(1, "notes", "x"), warn="deals.csv"),
    Case("duplicate_header", damage=_edit_text("deals.csv", "deal_id,lead_id", "deal_id,deal_id"),
         expect="deals.csv"),
    # ---- cells
    Case("text_in_numeric", change=_set("deals", "mrr", "twelve hundred"), expect="deals.csv"),
    Case("currency_in_numeric", change=_set("deals", "mrr", "$1,200"), expect="deals.csv"),
    Case("money_1e300", change=_set("deals", "mrr", "1e300"), expect="max_monthly_amount"),
    Case("money_inf", change=_set("customers", "mrr", "inf"), expect="customers.csv"),
    Case("money_nan_text", change=_set("customers", "mrr", "NaN"), expect="customers.csv"),
    Case("money_negative", change=_set("quotas", "quota_mrr", "-5000"), expect="quotas.csv"),
    Case("quota_in_cents_too_big", change=_set("quotas", "quota_mrr", "50000000000"), expect="max_monthly_amount"),
    Case("unknown_category_closed", change=_set("deals", "status", "maybe"), expect="deals.csv"),
    Case("empty_required_cell", change=_set("deals", "rep_id", ""), expect="deals.csv"),
    Case("score_out_of_range", change=_set("hiring_scores", "score", "42"), expect="hiring_scores.csv"),
    Case("unknown_trait", change=_set("hiring_scores", "trait", "charisma"), expect="hiring_scores.csv"),
    Case("unparseable_timestamp", change=_set("activities", "occurred_at", "yesterday"), expect="activities.csv"),
    Case("future_timestamp", change=_set("activities", "occurred_at", "2031-01-01T00:00:00Z"),
         expect="activities.csv"),
    Case("closed_before_created", change=_set("deals", "closed_at", "2024-01-01T00:00:00Z"), expect="deals.csv"),
    Case("excel_serial_dates", change=_set("reps", "hire_date", "44927"), expect="reps.csv"),
    Case("month_as_a_date", change=_set("quotas", "month", "2024-01-01"), expect="quotas.csv"),
    Case("duplicate_id", change=_set("activities", "activity_id", "A1", 1), expect="activities.csv"),
    Case("activity_for_unknown_rep", change=_set("activities", "rep_id", "ghost"), expect="activities.csv"),
    Case("customer_for_unknown_deal", change=_set("customers", "deal_id", "D404"), expect="customers.csv"),
    Case("unit_in_both_arms", change=_set("experiment_assignments", "unit_id", "L1", 1),
         expect="experiment_assignments.csv"),
    Case("nul_byte_in_name", change=_set("reps", "name", "Ana\x00Silva"), expect="control characters"),
    Case("escape_code_in_name", change=_set("reps", "name", "Ana \x1b[31mSilva"), expect="control characters"),
    Case("bell_in_lead_source", change=_set("leads", "persona", "x\x07y"), expect="control characters"),
    # ---- hostile but valid text: kept, escaped on the pages (bidi overrides: a warning)
    *[Case(f"hostile_{key}", change=_set("reps", "name", value, 1),
           warn="bidirectional" if key == "bidi_name" else None) for key, value in HOSTILE.items()],
    Case("hostile_experiment_name", change=_set("experiments", "name", "<img src=x onerror=alert(2)> [a](b)")),
    # ---- degenerate shapes
    Case("optional_tables_absent", damage=_remove("hiring_scores.csv", "training_scores.csv", "lead_events.csv",
                                                  "experiments.csv", "experiment_assignments.csv")),
    Case("one_rep", change=_one_rep),
    Case("one_team_one_segment", change=lambda t: t["reps"].__setitem__("segment", "mid_market")),
    Case("parquet_everything", fmt="parquet"),
    Case("csv_gz_everything", fmt="csv.gz"),
]


#: Cases validation passes with a warning but the data engine cannot read: the report stops naming the file.
ENGINE_REFUSES = {"blank_lines": "deals.csv"}  # a row of bare commas (DuckDB's strict CSV mode)


@pytest.fixture(scope="module")
def config():
    return dataclasses.replace(load_config(), traits=TRAITS)


@pytest.fixture(scope="module")
def config_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "workbook.toml"
    path.write_text(f"[hiring]\ntraits = {list(TRAITS)!r}\n".replace("'", '"'), encoding="utf-8")
    return path


def build(case: Case, folder: Path) -> Path:
    tables = valid_tables()
    if case.change:
        case.change(tables)
    write_folder(folder, tables, fmt=case.fmt)
    if case.damage:
        case.damage(folder)
    return folder


def test_the_corpus_is_large_and_its_ids_unique():
    assert len(CASES) >= 50
    assert len({c.id for c in CASES}) == len(CASES)


_VALIDATED: dict[str, tuple[Path, object]] = {}  # case id -> (folder, validation report), shared by the two tests


def validated(case: Case, tmp_path_factory, config):
    if case.id not in _VALIDATED:
        folder = build(case, tmp_path_factory.mktemp(case.id) / "data")
        _VALIDATED[case.id] = folder, validate_folder(folder, config, now=NOW)  # never raises
    return _VALIDATED[case.id]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_case_through_validate(case, tmp_path_factory, config):
    _, report = validated(case, tmp_path_factory, config)  # every read error is a problem, never an exception
    text = report.format()
    assert "Traceback" not in text
    if case.expect is None:
        assert report.ok, text
    else:
        assert not report.ok and any(case.expect in str(p) for p in report.errors), text
    if case.warn:
        assert any(case.warn in str(p) for p in report.warnings), text
    for problem in report.problems:  # each names its file (or the folder)
        assert problem.file or problem.severity == "info" or "reps" in str(problem), problem


@pytest.mark.slow  # about 1 s a case on an idle machine (the engine opens the data for the month check)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_case_through_the_reports_preflight(case, tmp_path, tmp_path_factory, config, config_file,
                                                 monkeypatch):
    """``sales-workbook report``'s pre-flight: validation (in-process here; its result is the one the test
    above checked, reused rather than computed twice), then the month against the data."""
    folder, report = validated(case, tmp_path_factory, config)
    monkeypatch.setattr(pipeline, "_in_child_process", lambda func, *args: func(*args))
    monkeypatch.setattr(validate_module, "validate_folder", lambda *args, **kwargs: report)
    try:
        plan = pipeline._plan(month=None, as_of=None, config_path=config_file, data_dir=folder,
                              out_dir=tmp_path / "reports", only=None, daily=False, notebooks_dir=None)
    except pipeline.ReportError as exc:
        message = str(exc)
        if case.id in ENGINE_REFUSES:  # validation lets it through with a warning; the engine names the file
            assert "could not read" in message and ENGINE_REFUSES[case.id] in message, message
            return
        assert case.expect is not None or "data runs from" in message, message
        if case.expect is not None:
            assert "failed validation, so no report was written" in message and case.expect in message, message
    else:
        assert case.expect is None, f"{case.id}: the report would have run on data that failed validation"
        assert plan.month == "2024-02" and len(plan.specs) >= 6
    assert not any((tmp_path / "reports").glob("*/index.html"))  # nothing published by a pre-flight
