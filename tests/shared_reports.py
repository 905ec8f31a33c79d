"""Reports built once per test session and read by every test file that needs them.

The full monthly report of the bundled sample is the suite's most expensive object (six kernels on
the sample data, minutes on a busy machine). It used to be built twice per ``make test`` (by
``test_report_sample.py`` through the command line and by ``test_browser_report.py``); now the
command line builds it once and both read it. Load with ``pytest_plugins = ["shared_reports"]``.

``other_org_report`` is the same for an organisation unlike the sample (another seed, 16 reps, 13 months of
gzipped CSV ending in March 2026): test_report_sources.py checks it ran whole, test_browser_report.py reads
its pages as a leader would. Each used to build its own.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.core.config import load_config
from helpers.data.sample import generate_org
from helpers.data.engine import open_source
from helpers.data.reductions import last_complete_month
from helpers.paths import SAMPLE_DATA_DIR
from helpers.reporting.pipeline import build_report

CLI = Path(sys.executable).with_name("sales-workbook")


@dataclass(frozen=True)
class SampleReport:
    """``sales-workbook report --data data/sample --out <out> --jobs 2``, run from ``<out>`` (any cwd works)."""

    out: Path
    month: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def folder(self) -> Path:
        return self.out / self.month

    @property
    def runs(self) -> list[SimpleNamespace]:
        manifest = json.loads((self.folder / "run.json").read_text(encoding="utf-8"))
        return [SimpleNamespace(**r) for r in manifest["reports"]]

    @property
    def failed(self) -> list[SimpleNamespace]:
        return [r for r in self.runs if r.state == "failed"]


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory) -> SampleReport:
    if not any(SAMPLE_DATA_DIR.glob("reps.*")):
        pytest.fail("data/sample is missing: the sample organisation is committed with the repository")
    with open_source(load_config(), data_dir=SAMPLE_DATA_DIR) as source:
        month = last_complete_month(source)
    out = tmp_path_factory.mktemp("sample-report")
    proc = subprocess.run([str(CLI), "report", "--data", str(SAMPLE_DATA_DIR), "--out", str(out), "--jobs", "2"],
                          cwd=out, capture_output=True, text=True, timeout=3600)  # cells time out long before
    return SampleReport(out=out, month=month, returncode=proc.returncode, stdout=proc.stdout, stderr=proc.stderr)


#: The other organisation's generator arguments: unlike the sample in seed, size, history, format and end month.
OTHER_ORG = dict(seed=11, reps=16, months=13, fmt="csv.gz", end_month="2026-03")


@dataclass(frozen=True)
class OtherOrgReport:
    out: Path  # the reports folder
    result: object  # helpers.reporting.pipeline.ReportResult

    @property
    def folder(self) -> Path:
        return self.result.folder

    @property
    def failed(self) -> list:
        return self.result.failed


@pytest.fixture(scope="session")
def other_org_report(tmp_path_factory) -> OtherOrgReport:
    """The whole monthly report (``--jobs 2``) of ``OTHER_ORG``, built once per test session."""
    root = tmp_path_factory.mktemp("other-org")
    data, out = root / "data", root / "reports"
    generate_org(data, **OTHER_ORG)
    return OtherOrgReport(out=out, result=build_report(data_dir=data, out_dir=out, jobs=2, progress=False))
