"""Reliability of the report command: interrupts leave nothing, re-runs are idempotent, daily mode."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

import helpers.reporting.pipeline as report_module
from helpers.cli import main
from helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from helpers.reporting.pipeline import CELL_TIMEOUT_SECONDS, build_report, scheduled_notebook
from helpers.core.results import load_results
from test_report_support import write_tiny_org

PYTHON = Path(sys.executable)
pytestmark = pytest.mark.slow  # every test here starts kernels


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return write_tiny_org(tmp_path_factory.mktemp("reliability") / "data")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_interrupt_while_publishing_leaves_the_previous_month_intact(tiny_data, tmp_path, monkeypatch):
    out = tmp_path / "reports"
    (out / "2026-09").mkdir(parents=True)
    (out / "2026-09" / "index.html").write_text("the complete previous run of September")
    (out / "2026-08").mkdir()
    (out / "2026-08" / "index.html").write_text("August")
    before = snapshot(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "_write_index", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_report(data_dir=tiny_data, out_dir=out, only=["04"], progress=False)
    assert snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["2026-08", "2026-09"]  # no .tmp-* folder left


SLEEPY = """
import os, pathlib, time
pathlib.Path(os.environ["SSW_TEST_MARKER"]).write_text(str(os.getpid()))
time.sleep(900)
"""


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie awaiting its parent's reaping counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def test_sigterm_stops_the_kernels_and_writes_nothing(tiny_data, tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(NOTEBOOKS_DIR / "04_compensation_churn_quartiles.ipynb", notebooks)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SLEEPY)])
    nb.metadata["kernelspec"] = {"name": "sales-science-workbook", "display_name": "SSW", "language": "python"}
    nb.metadata["sales_workbook"] = {"title": "Slow", "needs": ["reps"], "uses": [], "daily": False}
    nbformat.write(nb, notebooks / "09_slow.ipynb")
    out, marker = tmp_path / "reports", tmp_path / "kernel.pid"
    script = textwrap.dedent(f"""
        from helpers.reporting.pipeline import build_report
        build_report(data_dir={str(tiny_data)!r}, out_dir={str(out)!r}, notebooks_dir={str(notebooks)!r},
                     jobs=2, progress=False)
    """)
    proc = subprocess.Popen([str(PYTHON), "-c", script], cwd=PROJECT_ROOT,
                            env={**os.environ, "SSW_TEST_MARKER": str(marker)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 600  # a kernel starts slowly on a busy machine: wait, not fail
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert marker.exists(), proc.stderr.read().decode() if proc.poll() is not None else "kernel never started"
        assert any(p.name.startswith(".tmp-2026-09") for p in out.iterdir())  # the run is under way
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert list(out.iterdir()) == [], "an interrupted run leaves no month and no temporary folder"
    kernel_pid = int(marker.read_text())
    deadline = time.monotonic() + 120  # the killed kernel is reaped by init: poll, do not bet on a fixed delay
    while time.monotonic() < deadline and _alive(kernel_pid):
        time.sleep(0.2)
    assert not _alive(kernel_pid), "the kernel survived the interrupted run"


def test_rerunning_a_month_is_idempotent(tiny_data, tmp_path, capsys):
    out = tmp_path / "reports"
    args = ["report", "--data", str(tiny_data), "--out", str(out), "--only", "04", "--month", "2026-08"]
    assert main(args) == 0
    first = snapshot(out / "2026-08")
    assert main(args) == 0
    second = snapshot(out / "2026-08")
    assert sorted(first) == sorted(second) == [
        "04_compensation_churn_quartiles.html", "04_compensation_churn_quartiles.ipynb",
        "04_compensation_churn_quartiles.json", "04_payroll_2026-08.csv", "04_payroll_2026-08.xlsx",
        "04_payroll_lines_2026-08.csv", "index.html", "run.json"]  # 04 publishes the month's payroll files
    assert first["04_payroll_2026-08.csv"] == second["04_payroll_2026-08.csv"]
    a = load_results(out / "2026-08" / "04_compensation_churn_quartiles.json")
    b = load_results(out / "2026-08" / "04_compensation_churn_quartiles.json")
    assert (a.headline, a.key_figure, a.tables) == (b.headline, b.key_figure, b.tables)
    assert first["04_compensation_churn_quartiles.html"] == second["04_compensation_churn_quartiles.html"]
    assert sorted(p.name for p in out.iterdir()) == ["2026-08"]
    assert "Index: " in capsys.readouterr().out


def test_daily_mode_runs_only_daily_notebooks_into_the_days_folder(tiny_data, tmp_path):
    out = tmp_path / "reports"
    result = build_report(data_dir=tiny_data, out_dir=out, daily=True, as_of="2026-09-30", progress=False)
    assert result.folder == out / "daily" / "2026-09-30" and result.ok
    assert [r.notebook for r in result.runs] == ["05_lead_value_and_sla"]
    res = load_results(result.folder / "05_lead_value_and_sla.json")
    assert res.mode == "daily" and res.as_of == "2026-09-30" and res.month == "2026-09"
    manifest = json.loads((result.folder / "run.json").read_text())
    assert manifest["mode"] == "daily"
    assert "Daily dashboard, 2026-09-30" in (result.folder / "index.html").read_text()


def test_bad_requests_exit_2_with_a_fix(tiny_data, tmp_path, capsys):
    assert main(["report", "--data", str(tiny_data), "--out", str(tmp_path), "--month", "Oct 2026"]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
    assert main(["report", "--data", str(tiny_data), "--out", str(tmp_path), "--only", "42"]) == 2
    assert "choose from" in capsys.readouterr().err
    assert main(["report", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_notebooks_executed_elsewhere_are_published_like_our_own(tiny_data, tmp_path):
    """The Airflow path: papermill runs a notebook (as PapermillOperator does), then publish_executed."""
    import papermill as pm

    from helpers.reporting.pipeline import publish_executed

    staging, out = tmp_path / "staging", tmp_path / "reports"
    staging.mkdir()
    pm.execute_notebook(scheduled_notebook(NOTEBOOKS_DIR / "04_compensation_churn_quartiles.ipynb"),
                        str(staging / "04_compensation_churn_quartiles.ipynb"), kernel_name="sales-science-workbook",
                        parameters={"month": "2026-09", "as_of": "2026-09-30", "data_dir": str(tiny_data),
                                    "results_path": str(staging / "04_compensation_churn_quartiles.json")},
                        progress_bar=False, execution_timeout=CELL_TIMEOUT_SECONDS, start_timeout=120)
    result = publish_executed(staging, month="2026-09", data_dir=tiny_data, out_dir=out)
    states = {r.notebook: r.state for r in result.runs}
    assert states["04_compensation_churn_quartiles"] == "ok"
    assert states["01_trait_discovery"] == "skipped"  # tables absent: skipped, not "not executed"
    assert states["03_funnel_coaching"] == "failed"
    assert "not executed" in next(r.error for r in result.runs if r.notebook == "03_funnel_coaching")
    assert (result.folder / "04_compensation_churn_quartiles.html").exists()
    assert sorted(p.name for p in out.iterdir()) == ["2026-09"]
    assert (staging / "04_compensation_churn_quartiles.ipynb").exists()  # staging left as it was


def test_parallel_runs_never_change_the_process_working_directory(tiny_data, tmp_path, monkeypatch):
    """os.chdir is process-wide: with --jobs 2 one notebook's chdir (or its undo) would move the other's kernel,
    which then wrote its results file elsewhere and failed now and then. Kernels get their folder instead."""
    start_dir, real_chdir = os.getcwd(), os.chdir

    def only_stay_put(path):  # papermill's file I/O "changes" to the current folder and back: harmless
        if os.path.realpath(path) != os.path.realpath(start_dir):
            raise AssertionError(f"the report changed the process working directory to {path}")
        real_chdir(path)

    monkeypatch.setattr(os, "chdir", only_stay_put)
    result = build_report(data_dir=tiny_data, out_dir=tmp_path / "reports", month="2026-09", jobs=2,
                          only=["03", "04"], progress=False)
    assert result.ok, [(r.notebook, r.error) for r in result.runs]
    assert (result.folder / "03_funnel_coaching.json").exists() and (result.folder / "04_compensation_churn_quartiles.json").exists()
