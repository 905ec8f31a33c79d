"""The README's main command on the bundled sample: every report is produced, in parallel."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.core.config import load_config
from helpers.data.engine import open_source
from helpers.paths import SAMPLE_DATA_DIR
from helpers.data.reductions import last_complete_month
from helpers.core.results import load_results

pytestmark = pytest.mark.slow
CLI = Path(sys.executable).with_name("sales-workbook")


def test_sample_report_from_the_command_line(tmp_path):
    if not any(SAMPLE_DATA_DIR.glob("reps.*")):
        pytest.fail("data/sample is missing: the sample organisation is committed with the repository")
    with open_source(load_config(), data_dir=SAMPLE_DATA_DIR) as source:
        month = last_complete_month(source)
    proc = subprocess.run([str(CLI), "report", "--data", str(SAMPLE_DATA_DIR), "--out", str(tmp_path), "--jobs", "2"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)  # any cwd works
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = tmp_path / month
    assert f"Index: {folder / 'index.html'}" in proc.stdout
    assert "6 ok, 0 failed, 0 skipped" in proc.stdout
    assert "100%" in proc.stderr  # the progress bar ran to the end
    manifest = json.loads((folder / "run.json").read_text())
    assert manifest["organisation"] == "Northwind Inbound (synthetic sample)" and manifest["jobs"] == 2
    for run in manifest["reports"]:
        assert run["state"] == "ok" and run["seconds"] > 0
        results = load_results(folder / run["files"]["results"])
        assert results.month == month and results.headline and results.key_figure is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == [month]
