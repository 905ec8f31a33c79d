"""Notebook 03, second pass: "did last month's coaching move it?" (last month's results file read back,
then vs now, vs the team) and the rep-private page from ``sales-workbook report --rep``."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from helpers.cli import main as cli_main
from helpers.analyses.coaching.followup import focus_review, load_previous_focus, previous_results_file
from helpers.reporting.pipeline import build_report
from helpers.core.results import Results, save_results
from helpers.data.sample import generate_org


def _funnel(rows: list[tuple[str, str, list[int]]], stages=("attempted", "connected", "demo", "won")) -> pd.DataFrame:
    out = []
    for rep, month, counts in rows:
        for i, (stage, leads) in enumerate(zip(stages, counts), start=1):
            prev = counts[i - 2] if i > 1 else None
            out.append({"rep_id": rep, "month": month, "stage_order": i, "stage": stage, "stage_label": stage.title(),
                        "leads": leads, "previous_stage_leads": prev})
    df = pd.DataFrame(out)
    df["previous_stage_leads"] = df["previous_stage_leads"].astype("Int64")
    return df


def _previous_file(root: Path, month: str, plan: list[dict]) -> Path:
    res = Results(notebook="03_funnel_coaching", title="t", month=month, as_of=f"{month}-28", headline="h",
                  details={"coaching_plan": plan})
    return save_results(res, root / month / "03_funnel_coaching.json")


def test_hand_built_results_file_is_followed_up(tmp_path: Path) -> None:
    """Rep a had 'demo' as focus in 2024-01: demos/connects 10/50 then 30/60. The two-proportion z-test is
    pinned to statsmodels' proportions_ztest on the same counts; the team median of % demo moves from
    median(20, 40) = 30 to median(50, 30) = 40 (by hand)."""
    prev = _previous_file(tmp_path, "2024-01", [
        {"rep_id": "a", "focus_stage": "demo", "skill": "Demo no-shows", "evidence": "x"},
        {"rep_id": "b", "focus_stage": "", "skill": "", "evidence": "none"},
        {"rep_id": "c", "focus_stage": "closing", "skill": "", "evidence": "stage renamed since"}])
    assert previous_results_file("2024-02", output_dir=tmp_path) == prev
    assert previous_results_file("2024-02", output_dir="/nowhere", override=str(tmp_path)) == prev
    assert previous_results_file("2024-02", output_dir="/nowhere", override=str(prev.parent)) == prev
    focus, note = load_previous_focus(prev, month="2024-02")
    assert note == "" and list(focus["rep_id"]) == ["a", "b", "c"]
    f = _funnel([("a", "2024-01", [100, 50, 10, 2]), ("a", "2024-02", [100, 60, 30, 3]),
                 ("b", "2024-01", [100, 50, 20, 2]), ("b", "2024-02", [100, 40, 12, 3])])
    r = focus_review(f, focus, month="2024-02").set_index("rep_id")
    assert set(r.index) == {"a", "c"}  # b had no focus
    a = r.loc["a"]
    assert (a["before_pct"], a["after_pct"], a["n_before"], a["n_after"]) == (20.0, 50.0, 50, 60)
    _, p = proportions_ztest([10, 30], [50, 60])
    assert a["p_value"] == pytest.approx(p, rel=1e-9)
    assert a["team_change_points"] == pytest.approx(10.0) and a["vs_team_points"] == pytest.approx(20.0)
    assert a["moved"] == "up" and "improved beyond noise" in a["verdict"]
    assert r.loc["c", "moved"] == "" and "not a funnel stage" in r.loc["c", "verdict"]


def test_absent_or_foreign_previous_file_falls_back(tmp_path: Path) -> None:
    focus, note = load_previous_focus(tmp_path / "2024-01" / "03_funnel_coaching.json", month="2024-02")
    assert focus is None and "first monthly run" in note
    wrong = _previous_file(tmp_path, "2023-11", [{"rep_id": "a", "focus_stage": "demo"}])
    focus, note = load_previous_focus(wrong, month="2024-02")
    assert focus is None and "not of 2024-01" in note
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert load_previous_focus(bad, month="2024-02")[0] is None
    no_plan = save_results(Results(notebook="03", title="t", month="2024-01", as_of="", headline="h"),
                           tmp_path / "np.json")
    assert "no 'coaching_plan'" in load_previous_focus(no_plan, month="2024-02")[1]


def test_a_fall_beyond_noise_and_no_data_are_said() -> None:
    focus = pd.DataFrame({"rep_id": ["a", "b"], "focus_stage": ["connected", "connected"], "skill": ["", ""]})
    f = _funnel([("a", "2024-01", [200, 120, 10, 2]), ("a", "2024-02", [200, 40, 10, 2]),
                 ("b", "2024-02", [100, 40, 12, 3])])
    r = focus_review(f, focus, month="2024-02").set_index("rep_id")
    assert r.loc["a", "moved"] == "down" and r.loc["a", "change_points"] == pytest.approx(-40.0)
    assert r.loc["b", "moved"] == "" and "no leads" in r.loc["b", "verdict"]


@pytest.fixture(scope="module")
def two_months(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A generated org (seed 31, 24 reps, 7 months) reported for M-1 then M into the same reports folder."""
    root = tmp_path_factory.mktemp("followup")
    org = root / "org"
    generate_org(org, seed=31, reps=24, months=7)
    out = root / "reports"
    last = pd.read_parquet(org / "activities.parquet", columns=["occurred_at"])["occurred_at"].max()
    month = str(pd.Period(last, freq="M"))
    prev = str(pd.Period(month, freq="M") - 1)
    for m in (prev, month):
        result = build_report(month=m, data_dir=org, out_dir=out, only=["03"],
                              progress=False)
        assert result.ok, [r.error for r in result.runs]
    return {"org": org, "out": out, "month": month, "prev": prev}


@pytest.mark.slow  # report runs (kernels)
def test_two_consecutive_monthly_runs_follow_up_last_months_focus(two_months: dict) -> None:
    out, month, prev = two_months["out"], two_months["month"], two_months["prev"]
    first = json.loads((out / prev / "03_funnel_coaching.json").read_text())
    second = json.loads((out / month / "03_funnel_coaching.json").read_text())
    assert any("first monthly run" in w for w in first["warnings"])
    assert not any("first monthly run" in w for w in second["warnings"])
    focus = {r["rep_id"]: r["focus_stage"] for r in first["details"]["coaching_plan"] if r["focus_stage"]}
    assert focus, "the planted weak stages give last month at least one focus"
    follow = {r["rep_id"]: r for r in second["details"]["focus_follow_up"]}
    assert {r: v["focus_stage"] for r, v in follow.items()} == focus
    assert all(v["n_after"] > 0 and np.isfinite(v["p_value"]) for v in follow.values())
    html = (out / month / "03_funnel_coaching.html").read_text(encoding="utf-8")
    assert "Did last month" in html and "first monthly run" not in html


@pytest.mark.slow  # report runs (kernels)
def test_rep_private_page_from_the_cli(two_months: dict, capsys: pytest.CaptureFixture) -> None:
    out, month, org = two_months["out"], two_months["month"], two_months["org"]
    published = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (out / month).iterdir() if p.is_file()}
    reps = pd.read_parquet(org / "reps.parquet")
    rep = sorted(two_months_focus := {r["rep_id"] for r in json.loads(
        (out / two_months["prev"] / "03_funnel_coaching.json").read_text())["details"]["coaching_plan"]
        if r["focus_stage"]})[0]
    assert cli_main(["report", "--rep", rep, "--month", month, "--data", str(org), "--out", str(out),
                     ]) == 0
    page_path = out / month / "private" / f"{rep}.html"
    assert capsys.readouterr().out.strip() == str(page_path)
    page = page_path.read_text(encoding="utf-8")
    mine = reps.loc[reps["rep_id"] == rep, "name"].item()
    assert mine in page and "Peer 1" in page and "Did last month" in page
    assert not [n for n in reps.loc[reps["rep_id"] != rep, "name"] if n in page]
    assert set(re.findall(r"(?<![A-Za-z0-9+/])R\d{5}(?![A-Za-z0-9+/])", page)) <= {rep}
    private = json.loads((out / month / "private" / f"{rep}.json").read_text())
    assert [r["rep_id"] for r in private["details"]["focus_follow_up"]] == [rep] and rep in two_months_focus
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (out / month).iterdir() if p.is_file()} \
        == published  # the month's published files are untouched
    assert not list(out.glob(".tmp-*"))
    assert cli_main(["report", "--rep", rep, "--only", "03"]) == 2
    assert cli_main(["report", "--rep", "NOPE", "--month", month, "--data", str(org), "--out", str(out),
                     ]) != 0
