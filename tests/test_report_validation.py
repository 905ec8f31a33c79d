"""The report runs the same check as `sales-workbook validate` first: bad data writes nothing."""
from __future__ import annotations

import pandas as pd

from helpers.cli import main
from test_report_support import write_tiny_org


def test_bad_data_stops_the_report_before_anything_is_written(tmp_path, capsys):
    data = write_tiny_org(tmp_path / "data")
    activities = pd.read_csv(data / "activities.csv", dtype=str, keep_default_na=False)
    activities.loc[3, "rep_id"] = "ghost-rep"  # an activity by a rep who is not in reps.csv
    activities.to_csv(data / "activities.csv", index=False)
    out = tmp_path / "reports"

    code = main(["report", "--data", str(data), "--out", str(out), "--month", "2026-09"])

    err = capsys.readouterr().err
    assert code == 2
    assert "failed validation" in err and "no report was written" in err
    assert "activities.csv" in err and "rep_id" in err and "ghost-rep" in err
    assert "line 5" in err  # header is line 1, so the row at index 3 is line 5 of the file
    assert not out.exists() or not any(out.iterdir()), "a rejected run leaves no report folder behind"


def test_valid_data_with_warnings_still_reports(tmp_path, capsys):
    data = write_tiny_org(tmp_path / "data")
    (data / "notes.txt").write_text("exported by hand")
    out = tmp_path / "reports"
    code = main(["report", "--data", str(data), "--out", str(out), "--month", "2026-09", "--only", "04"])
    assert code == 0
    assert (out / "2026-09" / "index.html").exists()
