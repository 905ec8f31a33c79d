"""Small valid data folders for the validation tests, built in temporary directories.

``valid_tables()`` returns one small, consistent organisation (three reps, a quarter of
activity) as text DataFrames; tests break one thing and write the folder with
``write_folder``. Nothing here depends on ``data/sample``.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.core.contract import TABLES

NOW = pd.Timestamp("2024-06-01T00:00:00Z")
TRAITS = ("coachability", "curiosity")


def valid_tables() -> dict[str, pd.DataFrame]:
    """A consistent organisation; every table of the contract, every value allowed."""
    t: dict[str, pd.DataFrame] = {}
    t["reps"] = pd.DataFrame({
        "rep_id": ["r1", "r2", "m1"],
        "name": ["Ana Silva", "Ben Okafor", "Chloe Martin"],
        "team": ["east", "east", "east"],
        "manager_id": ["m1", "m1", ""],
        "role": ["ae", "sdr", "manager"],
        "segment": ["mid_market", "small_business", ""],
        "hire_date": ["2023-01-02", "2023-03-01", "2022-06-01"],
        "leave_date": ["", "", ""],
    })
    t["quotas"] = pd.DataFrame({
        "rep_id": ["r1", "r1", "r1", "r2", "r2", "r2"],
        "month": ["2024-01", "2024-02", "2024-03"] * 2,
        "quota_mrr": ["5000", "5000", "5500", "2000", "2000", "2000.5"],
    })
    t["hiring_scores"] = pd.DataFrame({
        "candidate_id": ["c1", "c1", "c2", "c2"],
        "interviewer": ["m1", "m1", "m1", "m1"],
        "trait": [TRAITS[0], TRAITS[1], TRAITS[0], TRAITS[1]],
        "score": ["8", "7", "4", "10"],
        "interview_date": ["2022-12-01", "2022-12-01", "2022-12-03", "2022-12-03"],
        "rep_id": ["r1", "r1", "", ""],
    })
    t["training_scores"] = pd.DataFrame({
        "rep_id": ["r1", "r2"],
        "assessment": ["final_exam", "final_exam"],
        "score": ["88.5", "72"],
        "assessed_at": ["2023-02-01", "2023-04-01"],
    })
    t["leads"] = pd.DataFrame({
        "lead_id": ["L1", "L2", "L3", "L4"],
        "created_at": ["2024-01-03T09:00:00Z", "2024-01-20 14:30:00", "2024-02-11T08:00:00+02:00",
                       "2024-03-05T10:00:00Z"],
        "source": ["organic_search", "referral", "outbound", "event"],
        "lead_type": ["net", "seed", "spear", "net"],
        "persona": ["owner_ollie", "", "marketing_mary", ""],
        "journey_stage": ["awareness", "decision", "", "consideration"],
        "segment": ["small_business", "mid_market", "enterprise", "mid_market"],
        "first_offer": ["ebook", "demo_request", "outbound", "webinar"],
        "owner_rep_id": ["r1", "r1", "r2", ""],
    })
    t["lead_events"] = pd.DataFrame({
        "event_id": ["E1", "E2", "E3"],
        "lead_id": ["L1", "L2", "L4"],
        "occurred_at": ["2024-01-03T09:05:00Z", "2024-01-20T14:31:00Z", "2024-03-05T10:01:00Z"],
        "event_type": ["content_download", "demo_request", "webinar_attend"],
    })
    t["activities"] = pd.DataFrame({
        "activity_id": ["A1", "A2", "A3", "A4", "A5", "A6"],
        "rep_id": ["r1", "r1", "r2", "r2", "r1", "r1"],
        "lead_id": ["L1", "L2", "L3", "L3", "L2", "L4"],
        "occurred_at": ["2024-01-03T09:30:00Z", "2024-01-20T15:00:00Z", "2024-02-11T09:00:00Z",
                        "2024-02-12T09:00:00Z", "2024-02-20T16:00:00Z", "2024-03-05T11:00:00Z"],
        "activity_type": ["call", "call", "email", "call", "meeting", "email"],
        "outcome": ["connected", "connected", "sent", "no_answer", "held", "replied"],
        "meeting_kind": ["", "discovery", "", "", "demo", ""],
    })
    t["deals"] = pd.DataFrame({
        "deal_id": ["D1", "D2"],
        "lead_id": ["L2", "L4"],
        "rep_id": ["r1", "r1"],
        "created_at": ["2024-01-21T10:00:00Z", "2024-03-06T10:00:00Z"],
        "closed_at": ["2024-02-25T10:00:00Z", ""],
        "status": ["won", "open"],
        "mrr": ["1200", "800"],
        "qualifying_framework": ["gpct", ""],
    })
    t["customers"] = pd.DataFrame({
        "customer_id": ["K1"],
        "deal_id": ["D1"],
        "closing_rep_id": ["r1"],
        "consultant_id": [""],
        "start_date": ["2024-02-26"],
        "churn_date": [""],
        "mrr": ["1200"],
        "billing_term": ["monthly"],
    })
    t["experiments"] = pd.DataFrame({
        "experiment_id": ["X1"],
        "name": ["Call within 5 minutes"],
        "hypothesis": ["Faster first touch, more connects"],
        "unit": ["lead"],
        "metric": ["connect_rate"],
        "metric_type": ["rate"],
        "success_min_lift": ["0.05"],
        "start_date": ["2024-01-01"],
        "end_date": ["2024-03-31"],
        "owner": ["Ana Silva"],
        "status": ["finished"],
        "assigned_to": ["top_performers"],
    })
    t["experiment_assignments"] = pd.DataFrame({
        "experiment_id": ["X1", "X1", "X1", "X1"],
        "unit_id": ["L1", "L2", "L3", "L4"],
        "arm": ["control", "treatment", "control", "treatment"],
        "outcome": ["0", "1", "1", ""],
        "cluster_id": ["R1", "R2", "R1", "R2"],
    })
    for name, frame in t.items():
        assert list(frame.columns) == TABLES[name].column_names, name
    return t


def _typed_for_parquet(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Native Parquet types (numbers, UTC timestamps, dates) as a careful exporter would write."""
    out = frame.replace("", None)
    for col in TABLES[name].columns:
        if col.dtype == "timestamp":
            out[col.name] = pd.to_datetime(out[col.name], format="ISO8601", utc=True)
        elif col.dtype == "date":
            out[col.name] = pd.to_datetime(out[col.name], format="%Y-%m-%d").dt.date
        elif col.dtype in ("int", "float"):
            out[col.name] = pd.to_numeric(out[col.name]).astype("float64" if col.dtype == "float" else "Int64")
    return out


def write_folder(folder: Path, tables: dict[str, pd.DataFrame] | None = None, *, fmt: str = "csv",
                 typed_parquet: bool = True) -> Path:
    """Write tables as ``<name>.<fmt>`` (csv, csv.gz or parquet) into ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = valid_tables() if tables is None else tables
    for name, frame in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "parquet":
            (_typed_for_parquet(name, frame) if typed_parquet else frame).to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    return folder
