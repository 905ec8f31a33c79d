"""The benchmark scripts stay correct (their speed is measured by running them, never here)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import reductions_compare  # noqa: E402
import report_overhead  # noqa: E402
import run as bench_run  # noqa: E402


@pytest.fixture(scope="module")
def small_org(tmp_path_factory):
    from helpers.data.sample import generate_org

    out = tmp_path_factory.mktemp("bench_org")
    generate_org(out, seed=4, reps=8, months=3)
    return out


def test_hand_written_sql_and_pandas_agree_with_the_workbook_reductions(small_org):
    """compare() raises when the three versions of a reduction disagree; every reduction must agree."""
    rows = reductions_compare.compare(small_org, list(reductions_compare.SQL))
    assert [r["reduction"] for r in rows] == list(reductions_compare.SQL)
    assert all(r["rows_out"] > 0 and r["ibis_s"] > 0 for r in rows)


def test_a_wrong_hand_written_query_is_caught(small_org, monkeypatch):
    broken = dict(reductions_compare.SQL)
    broken["lead_outcomes"] = broken["lead_outcomes"].replace("status = 'won'", "status = 'lost'", 1)
    monkeypatch.setattr(reductions_compare, "SQL", broken)
    with pytest.raises(SystemExit, match="disagree"):
        reductions_compare.compare(small_org, ["lead_outcomes"])


def test_process_tree_memory_counts_this_process():
    total, largest = report_overhead._tree_rss_mb(os.getpid())
    assert total >= largest > 10  # a Python process with pandas loaded holds well over 10 MB


def test_tables_are_written_between_the_markers_and_the_prose_is_kept(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text(f"intro\n{bench_run.BEGIN}\nold\n{bench_run.END}\noutro\n")
    text = bench_run.tables({"report": {"1x": {"report_s": 17.3, "plain_s": 14.1, "overhead_ratio": 1.23,
                                               "report_peak_tree_mb": 1242, "report_peak_single_mb": 488,
                                               "plain_peak_mb": 534}}})
    bench_run.write_doc(doc, text)
    page = doc.read_text()
    assert page.startswith("intro\n") and page.endswith("outro\n") and "old" not in page
    assert "| 1x | 17.3 s | 14.1 s | 1.23 | 1.24 GB | 0.49 GB | 0.53 GB |" in page
