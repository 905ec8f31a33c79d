"""Issue 20: a report never publishes a wrong, partial or lost month.

The month is checked against the data before any kernel starts (a month outside the data exits 2
naming the data's period; a table present but empty in the month is flagged, or the reports that
would read its absence as fact are refused); ``--only`` keeps the month's other files; re-runs keep
the private pages; a lock stops a second run into the same folder; stale temporary folders are
cleaned; every path that executes a notebook strips analyst-only cells and has a per-cell timeout.

Most tests stop before any kernel starts (quick). The one that runs kernels uses two tiny stand-in
notebooks (a few seconds each), not the real analyses.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from helpers.cli import main
from helpers.paths import NOTEBOOKS_DIR
from helpers.reporting.pipeline import (FolderLock, ReportError, _plan, _write_index, build_report,
                                        clean_stale_temporaries, scheduled_notebook)
from test_report_support import write_tiny_org

# the tiny org runs from 2026-07-01 to 2026-09-30


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return write_tiny_org(tmp_path_factory.mktemp("month") / "data")


def without_month(data: Path, folder: Path, month: str, tables: tuple[str, ...]) -> Path:
    """A copy of ``data`` whose ``tables`` have no row dated in ``month``."""
    shutil.copytree(data, folder)
    columns = {"activities": "occurred_at", "leads": "created_at", "deals": "created_at"}
    for table in tables:
        frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        frame[~frame[columns[table]].str.startswith(month)].to_csv(folder / f"{table}.csv", index=False)
    return folder


@pytest.mark.parametrize("month, side", [("2026-10", "after the data ends"), ("2027-03", "after the data ends"),
                                         ("2026-06", "before the data starts"), ("2019-01", "before the data starts")])
def test_a_month_outside_the_data_exits_2_naming_the_datas_period(tiny_data, tmp_path, capsys, month, side):
    assert main(["report", "--data", str(tiny_data), "--out", str(tmp_path / "out"), "--month", month]) == 2
    err = capsys.readouterr().err
    assert side in err and "2026-07-01 to 2026-09-30" in err and "July 2026 to September 2026" in err
    assert not (tmp_path / "out" / month).exists()


def test_a_month_with_no_core_rows_exits_2_and_names_the_gap(tiny_data, tmp_path):
    from helpers.core.config import load_config
    from helpers.data.engine import open_source
    from helpers.reporting.pipeline import check_month

    # (checked on the source: with August's leads gone, September's activities would fail validation first)
    data = without_month(tiny_data, tmp_path / "data", "2026-08", ("activities", "leads", "deals"))
    with open_source(load_config(), data_dir=data) as source:
        with pytest.raises(ReportError, match="August 2026 has no rows in activities, leads, deals") as err:
            check_month(source, month="2026-08", as_of="2026-08-31")
        assert "2026-07-01 to 2026-09-30" in str(err.value) and "gap" in str(err.value)
        assert check_month(source, month="2026-09", as_of="2026-09-30").notes == ()


def test_a_month_without_activities_refuses_the_reports_that_need_them_and_flags_the_others(tiny_data, tmp_path):
    data = without_month(tiny_data, tmp_path / "data", "2026-08", ("activities",))
    plan = _plan(month="2026-08", as_of=None, config_path=None, data_dir=data, out_dir=tmp_path / "out",
                 only=None, daily=False, notebooks_dir=None)
    assert len(plan.data_notes) == 1 and plan.data_notes[0].startswith("No activities are recorded in August 2026")
    for refused in ("03_funnel_coaching", "05_lead_value_and_sla"):  # they need activities: zeros would be "facts"
        run = plan.runs[refused]
        assert run.state == "skipped" and "no activities are recorded in August 2026" in run.skip_reason
    assert plan.notes["04_compensation_churn_quartiles"] == ()  # 04 neither needs nor uses activities
    # the index says it, above the cards
    folder = tmp_path / "index"
    folder.mkdir()
    _write_index(folder, plan, runs=list(plan.runs.values()), wall_seconds=1.0, jobs=1)
    index = (folder / "index.html").read_text()
    assert "No activities are recorded in August 2026" in index and 'class="warn data-note"' in index
    assert json.loads((folder / "run.json").read_text())["data_notes"] == list(plan.data_notes)
    # a page that uses the table carries the note under its title (a markdown cell the run executes)
    nb = scheduled_notebook(NOTEBOOKS_DIR / "03_funnel_coaching.ipynb", plan.data_notes)
    notes = [c for c in nb.cells if "data-note" in c.metadata.get("tags", [])]
    assert len(notes) == 1 and "No activities are recorded in August 2026" in notes[0].source
    assert nb.cells.index(notes[0]) == 1  # right under the title


def test_a_month_without_leads_flags_the_pages_that_use_them(tiny_data, tmp_path):
    data = tmp_path / "data"  # August's leads dated the day before (their activities still point at them)
    shutil.copytree(tiny_data, data)
    leads = pd.read_csv(data / "leads.csv", dtype=str, keep_default_na=False)
    leads.loc[leads["created_at"].str.startswith("2026-08"), "created_at"] = "2026-07-31T12:00:00Z"
    leads.to_csv(data / "leads.csv", index=False)
    plan = _plan(month="2026-08", as_of=None, config_path=None, data_dir=data, out_dir=tmp_path / "out",
                 only=None, daily=False, notebooks_dir=None)
    assert plan.runs["05_lead_value_and_sla"].state == "skipped"  # needs leads
    assert "03_funnel_coaching" not in plan.runs  # only uses leads: runs, with the note on its page and card
    assert any(n.startswith("No leads are recorded in August 2026") for n in plan.notes["03_funnel_coaching"])


def test_a_partial_last_month_is_said_on_every_page(tiny_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    for table, column in (("activities", "occurred_at"), ("leads", "created_at"), ("deals", "created_at")):
        frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
        frame[frame[column] < "2026-09-15"].to_csv(data / f"{table}.csv", index=False)
    deals = set(pd.read_csv(data / "deals.csv", dtype=str)["deal_id"])
    customers = pd.read_csv(data / "customers.csv", dtype=str, keep_default_na=False)
    customers[customers["deal_id"].isin(deals)].to_csv(data / "customers.csv", index=False)
    plan = _plan(month="2026-09", as_of=None, config_path=None, data_dir=data, out_dir=tmp_path / "out",
                 only=["04"], daily=False, notebooks_dir=None)
    assert any("before September 2026 ends" in n for n in plan.data_notes)
    assert any("before September 2026 ends" in n for n in plan.notes["04_compensation_churn_quartiles"])


def test_a_second_run_into_the_same_folder_stops_with_a_clear_message(tiny_data, tmp_path, capsys):
    out = tmp_path / "out"
    with FolderLock(out):
        with pytest.raises(ReportError, match="another report run is writing into"):
            build_report(data_dir=tiny_data, out_dir=out, month="2026-09", only=["04"], progress=False)
        assert main(["report", "--data", str(tiny_data), "--out", str(out), "--month", "2026-09", "--only", "04"]) == 2
        assert "another report run is writing into" in capsys.readouterr().err
        assert list(out.iterdir()) == []
    with FolderLock(out):  # released: the lock goes with the holder
        pass


def test_stale_temporary_folders_are_removed(tmp_path):
    (tmp_path / ".tmp-2026-09-deadbeef" / "x").mkdir(parents=True)
    (tmp_path / ".old-2026-08-cafe").mkdir()
    (tmp_path / ".tmp-private-abc").mkdir()
    (tmp_path / "2026-08").mkdir()
    assert clean_stale_temporaries(tmp_path) == [".tmp-2026-09-deadbeef", ".tmp-private-abc", ".old-2026-08-cafe"]
    assert [p.name for p in tmp_path.iterdir()] == ["2026-08"]


def test_every_executing_path_strips_analyst_cells_and_times_out_cells(tmp_path, monkeypatch):
    """render_private_page (behind ``report --rep``) ran the raw notebook with no timeout: a widget cell
    could hang it forever under load (jupyter/nbclient#312)."""
    import papermill

    from helpers.analyses.coaching.report import render_private_page

    seen = {}

    def fake_execute(nb, output, **kw):
        seen["nb"], seen["kw"] = nb, kw
        raise RuntimeError("stop here")

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    with pytest.raises(RuntimeError, match="stop here"):
        render_private_page("R00021", month="2026-10", out_dir=tmp_path)
    assert not isinstance(seen["nb"], (str, Path))
    assert not [c for c in seen["nb"].cells if "analyst-only" in c.metadata.get("tags", [])]
    assert 0 < seen["kw"]["execution_timeout"] <= 3600 and seen["kw"]["start_timeout"] > 0
    raw = nbformat.read(NOTEBOOKS_DIR / "03_funnel_coaching.ipynb", as_version=4)
    assert [c for c in raw.cells if "analyst-only" in c.metadata.get("tags", [])]  # there was something to strip


def test_a_private_page_for_a_month_outside_the_data_exits_2_before_any_kernel(tiny_data, tmp_path, capsys,
                                                                             monkeypatch):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("a kernel was started"))
    assert main(["report", "--rep", "r01", "--month", "2019-01", "--data", str(tiny_data),
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "January 2019 is before the data starts" in err and "2026-07-01 to 2026-09-30" in err


# ----------------------------------------------------------------------------- with kernels (two stand-ins)
STAND_IN = '''\
from pathlib import Path
from helpers.core.results import ResultsRecorder
rec = ResultsRecorder(results_path or None, notebook="{stem}", title="{title}", month=month, as_of=as_of)
rec.headline("{title} ran for " + month + ".")
rec.key_figure("runs", "Runs", 1)
rec.save()
if results_path:
    Path(results_path).with_name("{number}_side_file_" + month + ".csv").write_text("made by {stem}\\n")
'''


def stand_in_notebooks(folder: Path) -> Path:
    folder.mkdir()
    for number, title in (("01", "First"), ("02", "Second")):
        stem = f"{number}_stand_in"
        params = nbformat.v4.new_code_cell('month = ""\nas_of = ""\nconfig_path = ""\ndata_dir = ""\n'
                                           'results_path = ""')
        params.metadata["tags"] = ["parameters"]
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}"), params,
                                             nbformat.v4.new_code_cell(STAND_IN.format(stem=stem, title=title,
                                                                                       number=number))])
        nb.metadata["kernelspec"] = {"name": "sales-science-workbook", "display_name": "SSW", "language": "python"}
        nb.metadata["sales_workbook"] = {"title": title, "needs": ["reps"], "uses": [], "daily": False}
        nbformat.write(nb, folder / f"{stem}.ipynb")
    return folder


@pytest.mark.slow
def test_only_keeps_the_months_other_files_and_reruns_keep_private_pages(tiny_data, tmp_path):
    notebooks, out = stand_in_notebooks(tmp_path / "notebooks"), tmp_path / "reports"
    first = build_report(data_dir=tiny_data, out_dir=out, month="2026-09", notebooks_dir=notebooks, jobs=2,
                         progress=False)
    assert first.ok and [r.state for r in first.runs] == ["ok", "ok"]
    month = out / "2026-09"
    (month / "private").mkdir()
    (month / "private" / "r01.html").write_text("private page")
    (out / ".tmp-2026-09-killed").mkdir()  # a run killed earlier left this behind
    before = {p.name: p.read_bytes() for p in month.iterdir() if p.is_file()}

    again = build_report(data_dir=tiny_data, out_dir=out, month="2026-09", notebooks_dir=notebooks, only=["02"],
                         progress=False)
    after = {p.name: p.read_bytes() for p in month.iterdir() if p.is_file()}
    assert sorted(after) == sorted(before)  # nothing of the month lost
    for name in ("01_stand_in.html", "01_stand_in.ipynb", "01_stand_in.json", "01_side_file_2026-09.csv"):
        assert after[name] == before[name]  # 01 was not re-run: its files are the same bytes
    assert [(r.notebook, r.state) for r in again.runs] == [("01_stand_in", "ok"), ("02_stand_in", "ok")]
    index = (month / "index.html").read_text()
    assert 'href="01_stand_in.html"' in index and 'href="02_stand_in.html"' in index  # rebuilt from all
    assert (month / "private" / "r01.html").read_text() == "private page"
    assert sorted(p.name for p in out.iterdir()) == ["2026-09"]  # the stale temporary folder is gone

    assert main(["report", "--data", str(tiny_data), "--out", str(out), "--month", "2026-09", "--only", "01",
                 "--remove-private"]) in (0, 1)  # the real notebooks dir: asked to remove the private pages
    assert not (month / "private").exists()
