"""A tiny organisation for the report tests, written with numpy (no loop over rows).

Small on purpose: the tests exercise the pipeline (papermill, HTML, index, atomicity), not the
analyses. One rep carries an HTML-injection name so that escaping is tested end to end. The data
runs from 2026-07-01 to 2026-09-30, so the last complete month is 2026-09.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

EVIL_NAME = "<script>alert(1)</script>"
#: Hostile names for the Markdown, autolink and bidi cases (issue 20): shown as typed, never acting, on every page.
MARKDOWN_NAME = "Md [link](javascript:alert(3)) **bold** ![img](x.png) http://evil.example/x"
BIDI_NAME = "Eve \u202egnp.exe\u202c <b>x</b>"
EVIL_EXPERIMENT = "<img src=x onerror=alert(2)> pricing test"
START = pd.Timestamp("2026-07-01", tz="UTC")
END = pd.Timestamp("2026-09-30 23:00", tz="UTC")
LAST_COMPLETE_MONTH = "2026-09"


def write_tiny_org(folder: Path, *, seed: int = 7, n_reps: int = 6, n_leads: int = 240,
                   tables: tuple[str, ...] | None = None) -> Path:
    """Write reps, quotas, leads, activities, deals and customers (and optionally experiments) as CSV."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rep_ids = np.array([f"r{i:02d}" for i in range(n_reps)])
    names = np.array([f"Rep {i}" for i in range(n_reps)], dtype=object)
    names[1] = EVIL_NAME
    if n_reps > 3:
        names[2], names[3] = MARKDOWN_NAME, BIDI_NAME
    reps = pd.DataFrame({"rep_id": rep_ids, "name": names, "role": "ae", "segment": "small_business",
                         "hire_date": "2025-01-06", "leave_date": ""})
    months = ["2026-07", "2026-08", "2026-09"]
    quotas = pd.DataFrame({"rep_id": np.repeat(rep_ids, len(months)), "month": np.tile(months, n_reps),
                           "quota_mrr": 5000.0})
    span = (END - START).total_seconds()
    created = START + pd.to_timedelta(np.sort(rng.uniform(0, span * 0.95, n_leads)), unit="s")
    lead_ids = np.array([f"l{i:04d}" for i in range(n_leads)])
    owners = rng.choice(rep_ids, n_leads)
    leads = pd.DataFrame({
        "lead_id": lead_ids, "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": rng.choice(["organic_search", "paid_search", "referral"], n_leads),
        "lead_type": rng.choice(["seed", "net", "spear"], n_leads), "persona": "", "journey_stage": "",
        "segment": "small_business", "first_offer": rng.choice(["demo_request", "free_trial", "ebook"], n_leads),
        "owner_rep_id": owners,
    })
    n_acts = n_leads * 3
    which = rng.integers(0, n_leads, n_acts)
    offset = pd.to_timedelta(rng.uniform(60, 3 * 86400, n_acts), unit="s")
    occurred = pd.Series(created[which] + offset).clip(upper=END)
    kind = rng.choice(["call", "email", "meeting"], n_acts, p=[0.6, 0.3, 0.1])
    outcome = np.where(kind == "call", rng.choice(["connected", "voicemail", "no_answer"], n_acts),
                       np.where(kind == "email", "sent", "held"))
    activities = pd.DataFrame({
        "activity_id": [f"a{i:05d}" for i in range(n_acts)], "rep_id": owners[which], "lead_id": lead_ids[which],
        "occurred_at": occurred.dt.strftime("%Y-%m-%dT%H:%M:%SZ"), "activity_type": kind,
        "outcome": outcome, "meeting_kind": np.where(kind == "meeting", "demo", ""),
    })
    n_deals = n_leads // 4
    deal_leads = rng.choice(n_leads, n_deals, replace=False)
    status = rng.choice(["won", "lost", "open"], n_deals, p=[0.4, 0.4, 0.2])
    deal_created = created[deal_leads] + pd.Timedelta(days=1)
    closed_at = pd.Series(deal_created + pd.Timedelta(days=5)).clip(upper=END)
    deals = pd.DataFrame({
        "deal_id": [f"d{i:04d}" for i in range(n_deals)], "lead_id": lead_ids[deal_leads],
        "rep_id": owners[deal_leads], "created_at": pd.DatetimeIndex(deal_created).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "closed_at": np.where(status == "open", "", closed_at.dt.strftime("%Y-%m-%dT%H:%M:%SZ")),
        "status": status, "mrr": rng.choice([200.0, 500.0, 900.0], n_deals), "qualifying_framework": "none",
    })
    won = deals[deals["status"] == "won"].reset_index(drop=True)
    customers = pd.DataFrame({
        "customer_id": [f"c{i:04d}" for i in range(len(won))], "deal_id": won["deal_id"],
        "closing_rep_id": won["rep_id"], "consultant_id": "",
        "start_date": won["closed_at"].str[:10], "churn_date": "", "mrr": won["mrr"], "billing_term": "monthly",
    })
    experiments = pd.DataFrame({
        "experiment_id": ["e1"], "name": [EVIL_EXPERIMENT], "hypothesis": ["cheaper wins"], "unit": ["deal"],
        "metric": ["close_rate"], "metric_type": ["rate"], "success_min_lift": [0.05], "start_date": ["2026-08-01"],
        "end_date": [""],
    })
    assignments = pd.DataFrame({"experiment_id": "e1", "unit_id": deals["deal_id"],
                                "arm": np.where(np.arange(n_deals) % 2, "treatment", "control"),
                                "outcome": (status == "won").astype(float)})
    all_tables = {"reps": reps, "quotas": quotas, "leads": leads, "activities": activities, "deals": deals,
                  "customers": customers, "experiments": experiments, "experiment_assignments": assignments}
    wanted = tables or ("reps", "quotas", "leads", "activities", "deals", "customers")
    for name in wanted:
        all_tables[name].to_csv(folder / f"{name}.csv", index=False)
    return folder
