"""Data folders in the shapes real sales organisations export, renamed to the contract and nothing else.

Each builder writes a small folder whose numbers are checked by hand in tests/test_real_shapes.py.
The shapes follow public datasets (their columns, their category values, what they lack):

* :func:`call_log` - a dialler's call log: leads, calls with an outcome, a won flag; no hire dates, segments,
  amounts or meetings. Modelled on Kaggle's "Car Insurance Cold Calls" (one row per customer with
  ``NoOfContacts``, ``CallStart``/``CallEnd``, ``Outcome`` and the won flag ``CarInsurance``) and the lead list
  with a ``Sale`` TRUE/FALSE column of gormanalysis.com, "Convert More Sales Leads With Machine Learning".
* :func:`leads_and_closed_deals` - leads and only the won deals, with unknown sources: Olist's "Marketing Funnel"
  dataset (kaggle.com/olistbr/marketing-funnel-olist): marketing-qualified leads with ``origin`` values such as
  ``unknown``, ``direct_traffic``, ``display`` or empty, and closed deals with the seller (``sr_id``), the won
  date and a declared monthly revenue that is mostly 0.
* :func:`deals_only` - deals with the seller and the outcome: Maven Analytics' "CRM + Sales + Opportunities"
  ``sales_pipeline.csv`` (``opportunity_id``, ``sales_agent``, ``deal_stage`` Won/Lost/Engaging, ``close_value``).
* :func:`ab_table` - an A/B experiment table with no dates and no registry: Kaggle's "A/B testing" ``ab_data.csv``
  (``user_id``, ``group`` control/treatment, ``converted`` 0/1; the timestamp dropped here).
* :func:`crm_without_scorecards` - a CRM import that lacks interview scorecards and training scores.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd


def _write(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def call_log(folder: Path) -> Path:
    """Six leads, two callers, eleven calls; three leads won.

    Calls per lead (in time order) and whether the lead was won:
    L1 no_answer, connected (won) | L2 connected | L3 no_answer, no_answer, busy |
    L4 voicemail, connected (won) | L5 connected (won) | L6 no_answer
    """
    calls = [("L1", "no_answer"), ("L1", "connected"), ("L2", "connected"), ("L3", "no_answer"),
             ("L3", "no_answer"), ("L3", "busy"), ("L4", "voicemail"), ("L4", "connected"), ("L5", "connected"),
             ("L6", "no_answer")]
    owner = {"L1": "c1", "L2": "c1", "L3": "c1", "L4": "c2", "L5": "c2", "L6": "c2"}
    acts = pd.DataFrame({
        "activity_id": [f"A{i}" for i in range(len(calls))],
        "rep_id": [owner[lead] for lead, _ in calls],
        "lead_id": [lead for lead, _ in calls],
        # ten calls from 3 to 31 March: the export covers the whole of March
        "occurred_at": [f"2025-03-{3 + 3 * i if i < 9 else 31:02d}T10:00:00Z" for i in range(len(calls))],
        "outcome": [outcome for _, outcome in calls],
    })
    return _write(folder, {
        "reps": pd.DataFrame({"rep_id": ["c1", "c2"]}),
        "leads": pd.DataFrame({"lead_id": list(owner), "created_at": [f"2025-03-0{i}" for i in range(1, 7)],
                               "owner_rep_id": list(owner.values())}),
        "activities": acts,
        "deals": pd.DataFrame({"deal_id": ["W1", "W4", "W5"], "lead_id": ["L1", "L4", "L5"],
                               "rep_id": ["c1", "c2", "c2"], "status": ["won", "won", "won"]}),
    })


def leads_and_closed_deals(folder: Path) -> Path:
    """Eight leads, three won deals (amounts all 0, as Olist's declared revenue mostly is).

    organic_search: L1 (won), L2, L3 | direct_traffic: L4 (won), L5 | display: L6 | unknown: L7 (won) | empty: L8
    """
    leads = pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(1, 9)],
        "created_at": ["2025-02-03", "2025-02-10", "2025-02-17", "2025-02-24", "2025-03-03", "2025-03-10",
                       "2025-03-17", "2025-03-24"],  # weekly, February and March
        "source": ["organic_search", "organic_search", "organic_search", "direct_traffic", "direct_traffic",
                   "display", "unknown", ""],
    })
    deals = pd.DataFrame({"deal_id": ["D1", "D4", "D7"], "lead_id": ["L1", "L4", "L7"], "rep_id": ["s1", "s2", "s1"],
                          "closed_at": ["2025-03-01", "2025-03-15", "2025-04-02"], "status": ["won"] * 3,
                          "mrr": [0.0, 0.0, 0.0]})
    return _write(folder, {"reps": pd.DataFrame({"rep_id": ["s1", "s2"]}), "leads": leads, "deals": deals})


def deals_only(folder: Path) -> Path:
    """Seven deals of two sellers: Ana won 2 of 3 closed (one open), Ben won 1 of 3."""
    deals = pd.DataFrame({
        "deal_id": [f"O{i}" for i in range(1, 8)],
        "rep_id": ["ana", "ana", "ana", "ana", "ben", "ben", "ben"],
        "status": ["won", "won", "lost", "open", "lost", "lost", "won"],
        "mrr": [1000.0, 500.0, None, None, None, None, 800.0],
    })
    return _write(folder, {"reps": pd.DataFrame({"rep_id": ["ana", "ben"], "name": ["Ana Silva", "Ben Okafor"]}),
                           "deals": deals})


def ab_table(folder: Path, *, per_arm: int = 40) -> Path:
    """One experiment, ``per_arm`` leads per arm: control converts 8 of 40 (20%), treatment 16 of 40 (40%)."""
    rows = []
    for arm, converted in (("control", 8), ("treatment", 16)):
        for i in range(per_arm):
            rows.append({"experiment_id": "landing_page", "unit_id": f"{arm[0]}{i}", "arm": arm,
                         "outcome": 1.0 if i < converted else 0.0})
    return _write(folder, {"reps": pd.DataFrame({"rep_id": ["owner"]}),
                           "experiment_assignments": pd.DataFrame(rows)})


def crm_without_scorecards(folder: Path, *, seed: int = 7) -> Path:
    """A generated organisation as a CRM exports it: no hiring scorecards, no training scores, no quotas,
    no lead events, and no hire dates or segments on the reps."""
    from helpers.data.sample import generate_org

    generate_org(folder, seed=seed, reps=6, months=7, fmt="csv")
    for name in ("hiring_scores", "training_scores", "quotas", "lead_events"):
        (folder / f"{name}.csv").unlink()
    (folder / "ground_truth.json").unlink(missing_ok=True)
    reps = pd.read_csv(folder / "reps.csv", dtype=str, keep_default_na=False)
    reps.drop(columns=["hire_date", "segment"]).to_csv(folder / "reps.csv", index=False)
    return folder
