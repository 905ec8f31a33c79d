"""The README's main command on the bundled sample: every report is produced, in parallel.

The command runs once per test session (``shared_reports.sample_report``); the browser tests read the same folder.
"""
from __future__ import annotations

import json

import pytest

from helpers.core.results import load_results
from helpers.paths import NOTEBOOKS_DIR

pytest_plugins = ["shared_reports"]
pytestmark = pytest.mark.slow


def test_sample_report_from_the_command_line(sample_report):
    proc, month, folder = sample_report, sample_report.month, sample_report.folder
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Index: {folder / 'index.html'}" in proc.stdout
    notebooks = len(list(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")))
    assert f"{notebooks} ok, 0 failed, 0 skipped" in proc.stdout  # every notebook, on the sample
    assert "100%" in proc.stderr  # the progress bar ran to the end
    manifest = json.loads((folder / "run.json").read_text())
    assert manifest["organisation"] == "Northwind Inbound (synthetic sample)" and manifest["jobs"] == 2
    for run in manifest["reports"]:
        assert run["state"] == "ok" and run["seconds"] > 0
        results = load_results(folder / run["files"]["results"])
        assert results.month == month and results.headline and results.key_figure is not None
    assert sorted(p.name for p in sample_report.out.iterdir()) == [month]
