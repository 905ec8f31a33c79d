"""The report on other shapes of data: another generated organisation in CSV.gz, and a real
PostgreSQL database chosen through the environment (no data folder at all)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.data.engine import load_folder_into_database
from helpers.core.registry import REPORTS
from helpers.reporting.pipeline import build_report
from helpers.data.sample import generate_org

pytest_plugins = ["conftest_pg", "shared_reports"]


@pytest.fixture(scope="module")
def small_org(tmp_path_factory) -> Path:
    """For the database comparison: another seed, 8 reps, 3 months of gzipped CSV ending in March (small, so
    that loading it into PostgreSQL and running 03 and 04 there stays quick)."""
    data = tmp_path_factory.mktemp("small_org") / "data"
    generate_org(data, seed=5, reps=8, months=3, fmt="csv.gz", end_month="2026-03")
    return data


def key_figures(folder: Path) -> dict[str, object]:
    return {p.stem: json.loads(p.read_text())["key_figure"]["value"] for p in sorted(folder.glob("0*.json"))}


@pytest.mark.slow  # a full report
def test_report_on_another_generated_org_in_csv_gz(other_org_report):
    """The session's other organisation (tests/shared_reports.py: 16 reps, 13 months of gzipped CSV ending in
    March 2026; the browser's leadership-page test reads the same pages)."""
    result, out = other_org_report.result, other_org_report.out
    assert result.month == "2026-03", "the default month is the last complete month of this org's data"
    assert result.ok, [(r.notebook, r.state, r.error) for r in result.runs]
    assert [r.state for r in result.runs] == ["ok"] * len(REPORTS), "every numbered report runs on this org"
    assert (out / "2026-03" / "index.html").exists()


@pytest.mark.postgres
@pytest.mark.slow  # reports 03 and 04 twice
def test_report_reads_a_database_named_only_in_the_environment(small_org, postgres_server, tmp_path, monkeypatch):
    url = postgres_server.create_database("report_source")
    load_folder_into_database(small_org, url)
    config = tmp_path / "workbook.toml"
    config.write_text(f'[workbook]\norganisation = "Warehouse Co"\n[data]\ndir = "{tmp_path / "nowhere"}"\n')
    from_folder = build_report(data_dir=small_org, out_dir=tmp_path / "from_folder", only=["03", "04"], jobs=2,
                               progress=False)

    monkeypatch.setenv("SALES_WORKBOOK_DB_URL", url)
    from_database = build_report(config_path=config, out_dir=tmp_path / "from_db", only=["03", "04"],
                                 progress=False)

    assert from_database.ok and from_folder.ok
    figures = {name: value for name, value in key_figures(from_folder.folder).items() if name[:2] in ("03", "04")}
    assert len(figures) == 2 and all(isinstance(v, (int, float)) for v in figures.values())
    assert key_figures(from_database.folder) == figures
    # every figure, not only the key one (03's key figure can be 0 reps flagged on 8 reps x 3 months): the team's
    # conversion at each stage with its n, the payout, ... read the same from the database as from the folder
    for name in ("03_funnel_coaching", "04_compensation_churn_quartiles"):
        read = [{k: f[k] for k in ("name", "value", "n")} for f in
                json.loads((from_database.folder / f"{name}.json").read_text())["figures"]]
        expected = [{k: f[k] for k in ("name", "value", "n")} for f in
                    json.loads((from_folder.folder / f"{name}.json").read_text())["figures"]]
        assert [(f["name"], f["n"]) for f in read] == [(f["name"], f["n"]) for f in expected], name
        assert [f["value"] for f in read] == pytest.approx([f["value"] for f in expected], rel=1e-9), name
        assert any(f["value"] for f in expected), name
    published = "".join(p.read_text(errors="replace") for p in from_database.folder.rglob("*") if p.is_file())
    assert postgres_server.password not in published, "credentials must never reach a notebook or a page"
    assert "Warehouse Co" in (from_database.folder / "index.html").read_text()
