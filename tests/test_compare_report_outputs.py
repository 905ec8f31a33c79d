"""The comparison behind benchmarks/compare_report_outputs.py (the proof that a refactor changed no number).

The full proof builds the sample report twice (minutes): run the script by hand. Here its comparison
is checked on tiny folders: what must count as a difference does, what is run-specific does not.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from compare_report_outputs import compare_outputs, json_differences, strip_run_specific  # noqa: E402

RESULTS = {"format": "sales-workbook-results/1", "generated_at": "2026-12-07T14:48:54+00:00", "notebook": "04_x",
           "headline": "3 of 10 lost", "figures": [{"id": "churn", "value": 30.0, "ci": [10.78, 60.32], "n": 10}],
           "tables": {"reps": 40, "leads": None}}


def _folder(root: Path, results: dict, *, payroll: str = "rep_id,payout\nR1,100\n", run: dict | None = None) -> Path:
    month = root / "2026-10"
    month.mkdir(parents=True)
    (month / "04_x.json").write_text(json.dumps(results), encoding="utf-8")
    (month / "04_payroll_2026-10.csv").write_text(payroll, encoding="utf-8")
    (month / "run.json").write_text(json.dumps(run or {"seconds": 1.0}), encoding="utf-8")
    (month / "04_x.html").write_text(f"<p>built {results.get('generated_at')}</p>", encoding="utf-8")
    return root


def test_identical_apart_from_timestamps_and_run_files(tmp_path):
    before = _folder(tmp_path / "a", RESULTS, run={"seconds": 1.0})
    later = {**RESULTS, "generated_at": "2026-12-08T09:00:00+00:00"}
    after = _folder(tmp_path / "b", later, run={"seconds": 99.0})
    assert compare_outputs(before, after) == []


def test_the_output_folder_named_in_a_sentence_is_not_a_difference(tmp_path):
    before, after = tmp_path / "a", tmp_path / "b"
    _folder(before, {**RESULTS, "warnings": [f"No results file from 2026-09 at {before}/2026-09/04_x.json"]})
    _folder(after, {**RESULTS, "warnings": [f"No results file from 2026-09 at {after}/2026-09/04_x.json"]})
    assert compare_outputs(before, after) == []


def test_a_changed_number_a_changed_payroll_and_a_missing_file_are_reported(tmp_path):
    changed = json.loads(json.dumps(RESULTS))
    changed["figures"][0]["ci"][1] = 60.33
    before = _folder(tmp_path / "a", RESULTS)
    after = _folder(tmp_path / "b", changed, payroll="rep_id,payout\nR1,101\n")
    (before / "2026-10" / "05_y.json").write_text("{}", encoding="utf-8")
    diffs = compare_outputs(before, after)
    assert "2026-10/04_x.json: $.figures[0].ci[1]: 60.32 -> 60.33" in diffs
    assert "2026-10/04_payroll_2026-10.csv: bytes differ" in diffs
    assert "2026-10/05_y.json: only before" in diffs
    assert len(diffs) == 3


def test_json_differences_by_path_and_type():
    assert json_differences({"a": 1, "b": [1, 2]}, {"a": 1.0, "b": [1, 2]}) == []  # JSON has one number type
    assert json_differences(float("nan"), float("nan")) == []
    assert json_differences({"a": True}, {"a": 1}) == ["$.a: True -> 1"]
    assert json_differences({"a": [1]}, {"a": [1, 2]}) == ["$.a: 1 items -> 2 items"]
    assert json_differences({"a": 1}, {"b": 1}) == ["$.a: only before", "$.b: only after"]
    assert json_differences("headline", "headline.") == ["$: 'headline' -> 'headline.'"]


def test_strip_run_specific_keys_at_any_depth():
    nested = {"generated_at": 1, "x": [{"seconds": 2, "value": 3}], "y": {"path": "/tmp/a", "n": 4}}
    assert strip_run_specific(nested) == {"x": [{"value": 3}], "y": {"n": 4}}


def test_xlsx_compared_by_cells_not_bytes(tmp_path):
    frame = pd.DataFrame({"rep_id": ["R1"], "payout": [100]})
    for side, value in (("a", 100), ("b", 100), ("c", 101)):
        month = tmp_path / side / "2026-10"
        month.mkdir(parents=True)
        (month / "04_x.json").write_text(json.dumps(RESULTS), encoding="utf-8")
        frame.assign(payout=value).to_excel(month / "04_payroll_2026-10.xlsx", index=False)
    assert compare_outputs(tmp_path / "a", tmp_path / "b") == []
    assert compare_outputs(tmp_path / "a", tmp_path / "c") == ["2026-10/04_payroll_2026-10.xlsx: $.Sheet1[1][1]: 100 -> 101"]
