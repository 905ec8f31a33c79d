"""Unit tests of the report pipeline's parts: results files, offline check, TOC, discovery, publishing."""
from __future__ import annotations

import json

import nbformat
import pytest

from helpers.paths import NOTEBOOKS_DIR
from helpers.reporting.pipeline import ReportError, _error_summary, _publish, discover_notebooks, read_notebook_spec
from helpers.reporting.context import ReportParameterError, month_bounds, parse_as_of, parse_month
from helpers.reporting.html import OfflineViolation, ensure_offline, external_references, table_of_contents
from helpers.core.results import Figure, ResultsError, ResultsRecorder, load_results


# ------------------------------------------------------------------ results files
def test_results_round_trip_with_honest_figures(tmp_path):
    rec = ResultsRecorder(tmp_path / "r.json", notebook="06_experiments", title="T", month="2026-10",
                          as_of="2026-10-31", organisation="Acme")
    rec.headline("  Treatment beat control\n by 4 points. ")
    rec.key_figure("lift", "Lift in close rate", 0.04, unit="%", n=812, ci=(0.01, 0.07), ci_level=0.95)
    rec.figure("p", "p-value", float("nan"))
    rec.finding("Run it for two more weeks", severity="action")
    path = rec.save()
    raw = json.loads(path.read_text())
    assert raw["format"] == "sales-workbook-results/1" and raw["figures"][1]["value"] is None  # NaN -> null
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    back = load_results(path)
    assert back.headline == "Treatment beat control by 4 points."
    assert back.key_figure == Figure("lift", "Lift in close rate", 0.04, "%", 812, 0.01, 0.07, 0.95)
    assert back.findings[0].severity == "action" and back.generated_at and back.package_version


def test_results_refuse_dishonest_or_incomplete_input(tmp_path):
    rec = ResultsRecorder(tmp_path / "r.json", notebook="x", title="T", month="2026-10", as_of="2026-10-31")
    with pytest.raises(ResultsError, match="ci_level"):
        rec.figure("rate", "Rate", 0.3, ci=(0.2, 0.4))
    with pytest.raises(ResultsError, match="n must be"):
        rec.figure("rate", "Rate", 0.3, n=-1)
    with pytest.raises(ResultsError, match="severity"):
        rec.finding("x", severity="urgent")
    with pytest.raises(ResultsError, match="no headline"):
        rec.save()
    assert not (tmp_path / "r.json").exists()
    assert ResultsRecorder("", notebook="x", title="T", month="2026-10", as_of="2026-10-31").path is None


def test_load_results_names_the_problem(tmp_path):
    with pytest.raises(ResultsError, match="did not call save"):
        load_results(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"format": "other/9"}')
    with pytest.raises(ResultsError, match="other/9"):
        load_results(tmp_path / "bad.json")


@pytest.mark.parametrize("figure,text", [
    (Figure("a", "A", 20391), "20,391"), (Figure("a", "A", 0.0412, unit="%"), "0.0412%"),
    (Figure("a", "A", 1500.0, unit="$"), "$1,500"), (Figure("a", "A", None), "n/a"),
    (Figure("a", "A", 12, unit="reps"), "12 reps"),
])
def test_figures_format_for_cards(figure, text):
    assert figure.formatted() == text


# ------------------------------------------------------------------ offline HTML
@pytest.mark.parametrize("snippet", [
    '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>',
    "<link rel=stylesheet href='http://fonts.example.org/x.css'>",
    '<img src="//cdn.example.org/logo.png">',
    "<style>body { background: url( 'https://x.example/bg.png') }</style>",
    "<style>@import 'https://x.example/a.css';</style>",
])
def test_external_references_are_found(snippet):
    page = f"<html><body>{snippet}</body></html>"
    assert external_references(page)
    with pytest.raises(OfflineViolation, match="render offline"):
        ensure_offline(page, what="test page")


def test_embedded_and_relative_references_are_fine():
    page = ('<img src="data:image/png;base64,iVBORw0KGgo="><a href="index.html">back</a><a href="#top">top</a>'
            '<p>See https://example.org in plain text</p><div data-mime-type="text/html"></div>')
    assert external_references(page) == []


def test_table_of_contents_links_every_section():
    page = ('<h1 id="Title">Title<a class="anchor-link" href="#Title">\u00b6</a></h1><h2>Data &amp; scope</h2>'
            '<h2>Data &amp; scope</h2><h3 id="x">Detail</h3>')
    page, nav = table_of_contents(page)
    assert nav.count("<li") == 3 and "Title" not in nav
    assert 'href="#data-scope"' in nav and 'href="#data-scope-2"' in nav and 'href="#x"' in nav
    assert '<h2 id="data-scope">' in page and '<h2 id="data-scope-2">' in page
    assert "Data &amp; scope" in nav
    assert table_of_contents("<h1>Only</h1>")[1] == ""


# ------------------------------------------------------------------ parameters
def test_parameters_are_checked_with_a_fix_in_the_message():
    assert parse_month(" 2026-10 ") == "2026-10"
    assert month_bounds("2026-12")[1].isoformat() == "2027-01-01"
    assert parse_as_of("2026-02-28").isoformat() == "2026-02-28"
    with pytest.raises(ReportParameterError, match="YYYY-MM"):
        parse_month("2026-13")
    with pytest.raises(ReportParameterError, match="YYYY-MM-DD"):
        parse_as_of("31/10/2026")


# ------------------------------------------------------------------ discovery and errors
def test_discovery_selects_by_number_name_and_daily_mode():
    assert [s.number for s in discover_notebooks(NOTEBOOKS_DIR, only=["03", "05_lead_value_and_sla"])] == ["03", "05"]
    assert [s.stem for s in discover_notebooks(NOTEBOOKS_DIR, daily=True)] == ["05_lead_value_and_sla"]
    with pytest.raises(ReportError, match="choose from (00, )?01, 02"):
        discover_notebooks(NOTEBOOKS_DIR, only=["99"])
    with pytest.raises(ReportError, match="daily"):
        discover_notebooks(NOTEBOOKS_DIR, only=["01"], daily=True)


def test_notebook_names_are_checked(tmp_path):
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "Trait Discovery.ipynb")
    with pytest.raises(ReportError, match="NN_topic"):
        read_notebook_spec(tmp_path / "Trait Discovery.ipynb")


def test_error_summary_is_one_readable_line():
    class Fake(Exception):
        ename, evalue, exec_count = "KeyError", "\x1b[31m'rep_id'\x1b[0m", 7

    assert _error_summary(Fake()) == "KeyError: 'rep_id' (in cell [7])"
    long = _error_summary(ValueError("x" * 5000))
    assert len(long) <= 600 and long.endswith("\u2026")


# ------------------------------------------------------------------ publishing
def test_publish_replaces_a_month_whole_and_touches_nothing_else(tmp_path):
    (tmp_path / "2026-09").mkdir()
    (tmp_path / "2026-09" / "index.html").write_text("september")
    (tmp_path / "2026-10").mkdir()
    (tmp_path / "2026-10" / "stale.html").write_text("old run")
    new = tmp_path / ".tmp-2026-10-abcd"
    new.mkdir()
    (new / "index.html").write_text("new run")
    _publish(new, tmp_path / "2026-10")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-09", "2026-10"]
    assert [p.name for p in (tmp_path / "2026-10").iterdir()] == ["index.html"]
    assert (tmp_path / "2026-10" / "index.html").read_text() == "new run"
    assert (tmp_path / "2026-09" / "index.html").read_text() == "september"


def test_a_notebook_papermill_marked_as_failed_is_recognised():
    from helpers.reporting.pipeline import _papermill_error

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1/0", execution_count=3)])
    nb.cells[0].outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                                  traceback=[])]
    assert _papermill_error(nb) == ""  # papermill did not flag it: not our call
    nb.metadata["papermill"] = {"exception": True}
    assert _papermill_error(nb) == "ZeroDivisionError: division by zero (in cell [3])"


def test_a_notebook_run_by_hand_on_incomplete_data_says_which_table_is_missing(tmp_path):
    from helpers.reporting.context import MissingInputError, start_report
    from test_report_support import write_tiny_org

    data = write_tiny_org(tmp_path / "data")
    with pytest.raises(MissingInputError, match="needs the table.*hiring_scores"):
        start_report("01_trait_discovery", data_dir=str(data))
    report = start_report("04_compensation_churn_quartiles", data_dir=str(data))
    assert report.month == "2026-09" and report.as_of.isoformat() == "2026-09-30" and report.results.path is None
    overview = report.table_overview()
    assert overview.set_index("table").loc["customers", "rows_total"] == len(report.source.read("customers"))


def test_results_detail_tables_round_trip_as_json(tmp_path):
    import math

    import pandas as pd

    from helpers.core.results import ResultsRecorder, load_results

    rec = ResultsRecorder(tmp_path / "r.json", notebook="03_funnel_coaching", title="t", month="2026-10",
                          as_of="2026-10-31")
    rec.headline("One sentence.")
    rec.table("reps", pd.DataFrame({"rep_id": ["R1", "R2"], "rate": [0.5, math.nan],
                                    "at": pd.to_datetime(["2026-10-01", None])}))
    rec.save()
    back = load_results(tmp_path / "r.json")
    assert back.details["reps"] == [{"rep_id": "R1", "rate": 0.5, "at": "2026-10-01T00:00:00"},
                                    {"rep_id": "R2", "rate": None, "at": None}]


def test_toc_links_headings_whose_id_holds_an_apostrophe():
    """nbconvert writes id="This-month's-statement" for "## This month's statement"; the link must match."""
    from helpers.reporting.html import table_of_contents

    page, nav = table_of_contents('<h2 id="This-month\'s-statement">This month\'s statement</h2>'
                                  "<h2 id='Say-\"hi\"'>Say \"hi\"</h2>")
    assert 'href="#This-month&#x27;s-statement"' in nav and 'href="#Say-&quot;hi&quot;"' in nav
