"""Issue 20 for daily runs: the day is checked against the data before any kernel starts.

A day before the data, in a month after it, or more than ``DAILY_MAX_DAYS_AFTER_DATA`` days after the
data's last day exits 2 naming the data's period. A core table present but with no row dated on the day
(no activities logged that day) is flagged on the daily index and on the daily page that uses it; the
page still runs (weekends have no rows, and the list of open leads as of the day still holds). A day a
few days after the data's end (the morning run before today's export) says how old the data is.
All of it stops before any kernel starts; most tests call the check itself, without the validation
that a run does first in a fresh interpreter (seconds each on a busy machine).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.cli import main
from helpers.core.config import load_config
from helpers.data.engine import open_source
from helpers.paths import NOTEBOOKS_DIR
from helpers.reporting.pipeline import (DAILY_MAX_DAYS_AFTER_DATA, ReportError, _plan, _write_index, check_month,
                                        scheduled_notebook)
from test_report_support import write_tiny_org

DAILY = "05_lead_value_and_sla"  # the daily notebook; it needs leads, activities and deals
TIME = {"activities": "occurred_at", "leads": "created_at", "deals": "created_at"}


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return write_tiny_org(tmp_path_factory.mktemp("daily") / "data")  # 2026-07-01 to 2026-09-30


def day_notes(data: Path, day: str) -> tuple[str, ...]:
    with open_source(load_config(), data_dir=data) as source:
        return check_month(source, month=day[:7], as_of=day, daily=True).notes


def daily_plan(data: Path, day: str, out: Path):
    return _plan(month=None, as_of=day, config_path=None, data_dir=data, out_dir=out, only=None, daily=True,
                 notebooks_dir=None)


def without_day(data: Path, folder: Path, day: str, table: str) -> Path:
    """A copy of ``data`` whose ``table`` has no row dated on ``day``."""
    shutil.copytree(data, folder)
    frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    assert frame[TIME[table]].str.startswith(day).any(), "the test day must have rows to remove"
    frame[~frame[TIME[table]].str.startswith(day)].to_csv(folder / f"{table}.csv", index=False)
    return folder


def ending_on(data: Path, folder: Path, last_day: str) -> Path:
    """A copy of ``data`` whose activities, leads and deals (created and closed) end on ``last_day``."""
    shutil.copytree(data, folder)
    for table, column in TIME.items():
        frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        keep = frame[column].str[:10] <= last_day
        if table == "deals":
            keep &= frame["closed_at"].str[:10] <= last_day  # empty (open) sorts first
        frame[keep].to_csv(folder / f"{table}.csv", index=False)
    deals = set(pd.read_csv(folder / "deals.csv", dtype=str)["deal_id"])
    customers = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
    customers[customers["deal_id"].isin(deals)].to_csv(folder / "customers.csv", index=False)
    return folder


def test_a_day_with_activities_and_leads_has_no_note(tiny_data):
    assert day_notes(tiny_data, "2026-09-15") == ()  # no deal that day: not a note (many days have none)


def test_a_day_without_activities_is_flagged_on_the_index_and_the_daily_page(tiny_data, tmp_path):
    data = without_day(tiny_data, tmp_path / "data", "2026-09-15", "activities")
    plan = daily_plan(data, "2026-09-15", tmp_path / "out")
    assert plan.mode == "daily" and len(plan.data_notes) == 1
    note = plan.data_notes[0]
    assert note.startswith("No activities are recorded on 2026-09-15 (Tuesday)")
    assert "2026-07-01 to 2026-09-30" in note and "not necessarily because nothing happened" in note
    assert DAILY not in plan.runs and plan.notes[DAILY] == (note,)  # the page runs, with the note
    folder = tmp_path / "index"
    folder.mkdir()
    _write_index(folder, plan, runs=list(plan.runs.values()), wall_seconds=1.0, jobs=1)
    assert "No activities are recorded on 2026-09-15" in (folder / "index.html").read_text()
    assert json.loads((folder / "run.json").read_text())["data_notes"] == [note]
    nb = scheduled_notebook(NOTEBOOKS_DIR / f"{DAILY}.ipynb", plan.notes[DAILY])
    notes = [c for c in nb.cells if "data-note" in c.metadata.get("tags", [])]
    assert len(notes) == 1 and "No activities are recorded on 2026-09-15" in notes[0].source


def test_a_day_without_leads_is_flagged_too(tiny_data, tmp_path):
    data = tmp_path / "data"  # the day's leads dated the day before (their activities still point at them)
    shutil.copytree(tiny_data, data)
    leads = pd.read_csv(data / "leads.csv", dtype=str, keep_default_na=False)
    on_day = leads["created_at"].str.startswith("2026-09-12")
    assert on_day.any()
    leads.loc[on_day, "created_at"] = "2026-09-11T12:00:00Z"
    leads.to_csv(data / "leads.csv", index=False)
    notes = day_notes(data, "2026-09-12")
    assert [n.split(",")[0] for n in notes] == ["No leads are recorded on 2026-09-12 (Saturday)"]
    assert "a weekend or a holiday" in notes[0]
    assert day_notes(data, "2026-09-11") == ()


def test_a_day_shortly_after_the_data_ends_says_how_old_the_data_is(tiny_data, tmp_path):
    data = ending_on(tiny_data, tmp_path / "data", "2026-09-20")
    assert day_notes(data, "2026-09-20") == ()
    (note,) = day_notes(data, "2026-09-23")
    assert note.startswith("The data ends on 2026-09-20, 3 days before 2026-09-23 (Wednesday)")
    assert "may have been contacted already" in note
    assert day_notes(data, f"2026-09-{20 + DAILY_MAX_DAYS_AFTER_DATA}")[0].startswith("The data ends on 2026-09-20")


def test_a_day_long_after_the_data_ends_is_refused(tiny_data, tmp_path):
    data = ending_on(tiny_data, tmp_path / "data", "2026-09-20")
    late = 1 + DAILY_MAX_DAYS_AFTER_DATA  # 2026-09-28: still in the data's last month
    with pytest.raises(ReportError, match=f"the day 2026-09-{20 + late} is {late} days after the data ends") as err:
        day_notes(data, f"2026-09-{20 + late}")
    assert "2026-07-01 to 2026-09-20" in str(err.value) and "--as-of" in str(err.value)


@pytest.mark.parametrize("day, side", [("2026-06-30", "before the data starts"),
                                       ("2026-10-02", "after the data ends")])
def test_a_day_outside_the_data_is_refused(tiny_data, day, side):
    with pytest.raises(ReportError, match=side) as err:
        day_notes(tiny_data, day)
    assert day in str(err.value) and "2026-07-01 to 2026-09-30" in str(err.value)


def test_the_command_exits_2_for_a_day_it_refuses(tiny_data, tmp_path, capsys):
    data = ending_on(tiny_data, tmp_path / "data", "2026-09-20")
    out = tmp_path / "out"
    assert main(["report", "--data", str(data), "--out", str(out), "--daily", "--as-of", "2026-09-29"]) == 2
    err = capsys.readouterr().err
    assert "the day 2026-09-29 is 9 days after the data ends" in err and "2026-07-01 to 2026-09-20" in err
    assert not (out / "daily").exists() or not any((out / "daily").iterdir())
