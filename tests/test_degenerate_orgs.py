"""Degenerate organisations run every report to a plain sentence, never a traceback (issue 20).

A generated organisation is collapsed to one rep (hence one team and one segment) and cut to its last
month, and the whole monthly report runs on it: every notebook ends ok (its page says what cannot be
estimated) or skipped with its reason, none failed. Slow: a full report per organisation.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.data.sample import generate_org
from helpers.paths import DEFAULT_CONFIG_FILE
from helpers.reporting.pipeline import build_report

pytestmark = pytest.mark.slow

REP_COLUMNS = {"quotas": ["rep_id"], "hiring_scores": ["rep_id"], "training_scores": ["rep_id"],
               "leads": ["owner_rep_id"], "activities": ["rep_id"], "deals": ["rep_id"],
               "customers": ["closing_rep_id", "consultant_id"]}
KEYS = {"quotas": ["rep_id", "month"], "training_scores": ["rep_id", "assessment"]}


def read(folder: Path) -> dict[str, pd.DataFrame]:
    return {p.name.removesuffix(".csv"): pd.read_csv(p, dtype=str, keep_default_na=False)
            for p in sorted(folder.glob("*.csv"))}


def write(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def one_rep(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every rep's work given to one account executive; the others (managers included) removed."""
    reps = tables["reps"]
    keep = reps[(reps["role"] == "ae") & (reps["leave_date"] == "")].iloc[0]["rep_id"]
    out = dict(tables)
    out["reps"] = reps[reps["rep_id"] == keep].assign(manager_id="")
    for name, columns in REP_COLUMNS.items():
        frame = out[name].copy()
        for column in columns:
            if name == "hiring_scores" or column == "consultant_id":  # one hire, no consultant
                frame.loc[frame[column] != keep, column] = ""
            else:
                frame.loc[frame[column] != "", column] = keep
        out[name] = frame.drop_duplicates(KEYS[name]) if name in KEYS else frame
    return out


def last_month_only(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Only the last month's leads, activities, deals and customers (and what refers to them)."""
    month = tables["quotas"]["month"].max()
    out = dict(tables)
    out["quotas"] = tables["quotas"][tables["quotas"]["month"] == month]
    out["leads"] = leads = tables["leads"][tables["leads"]["created_at"].str.startswith(month)]
    ids = set(leads["lead_id"])
    for name in ("lead_events", "activities"):
        frame = tables[name]
        out[name] = frame[frame["lead_id"].isin(ids) | (frame["lead_id"] == "")] if name == "activities" \
            else frame[frame["lead_id"].isin(ids)]
    out["activities"] = out["activities"][out["activities"]["occurred_at"].str.startswith(month)]
    out["deals"] = deals = tables["deals"][tables["deals"]["lead_id"].isin(ids)]
    out["customers"] = tables["customers"][tables["customers"]["deal_id"].isin(set(deals["deal_id"]))]
    return out


@pytest.fixture(scope="module")
def base_org(tmp_path_factory):
    folder = tmp_path_factory.mktemp("degenerate") / "base"
    generate_org(folder, reps=6, months=4, fmt="csv")
    return read(folder)


def one_rep_one_month(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """One rep (so one team and one segment) and one month of sales data: every degenerate shape at once."""
    return one_rep(last_month_only(tables))


@pytest.mark.parametrize("shape, only", [(one_rep_one_month, None)], ids=["one_rep_one_month"])
def test_every_report_runs_to_a_plain_sentence(base_org, tmp_path, shape, only):
    """One full report on the most degenerate org (one rep, one month). Before issue 20, 02 failed on it (and on
    one rep over four months: `-k` with ``(one_rep, ["02", "03"])`` added above, 107 s) with
    KeyError: ('r', 'pearson')."""
    data = write(shape(base_org), tmp_path / "data")
    result = build_report(data_dir=data, out_dir=tmp_path / "reports", jobs=2, progress=False, only=only,
                          config_path=DEFAULT_CONFIG_FILE)  # the configuration the organisation was generated with
    failed = {r.notebook: r.error for r in result.runs if r.state == "failed"}
    assert not failed, failed
    for run in result.runs:
        if only and run.number not in only:
            continue
        if run.state == "ok":
            assert run.headline and "Traceback" not in run.headline
            assert (result.folder / run.files["html"]).exists()
        else:
            assert run.skip_reason
