"""Fixtures for the data-engine tests: a synthetic organisation and a real PostgreSQL server.

Load with ``pytest_plugins = ["conftest_pg"]`` in a test module. ``postgres_server`` is
session-scoped: one server for the whole run, stopped and deleted at the end. When the
PostgreSQL binaries are missing the tests skip locally but fail under CI (``CI`` set),
where ``.ci/run`` installs the Debian package.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pg_server import PgServer, PgUnavailable

ORG_START = pd.Timestamp("2024-01-01", tz="UTC")


def make_org(out: Path, *, seed: int = 7, n_leads: int = 1500, acts_per_lead: float = 8.0) -> Path:
    """Write a small synthetic organisation (vectorised numpy, no loops over rows) to ``out``.

    Mixes the three file formats and awkward cases on purpose: CSV timestamps with offsets and
    without, a gzipped CSV, Parquet with naive timestamps, an optional column left out, empty
    cells, deals without a lead, open deals, customers without a consultant.
    """
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    n_reps = 12
    roles = np.array(["sdr"] * 4 + ["ae"] * 5 + ["consultant"] * 3)
    reps = pd.DataFrame({
        "rep_id": [f"R{i:03d}" for i in range(n_reps)],
        "name": [f"Rep {i}" for i in range(n_reps)],
        "role": roles,
        "segment": rng.choice(["small_business", "mid_market", "enterprise"], n_reps),
        "hire_date": pd.date_range("2022-01-01", periods=n_reps, freq="17D").strftime("%Y-%m-%d"),
        "leave_date": [""] * (n_reps - 1) + ["2024-05-31"],
    })
    reps.to_csv(out / "reps.csv", index=False)  # no team/manager_id columns: optional, left out

    span_s = 181 * 86400
    lead_ids = np.array([f"L{i:05d}" for i in range(n_leads)])
    created = ORG_START + pd.to_timedelta(rng.integers(0, span_s, n_leads), unit="s")
    sellers = reps.rep_id.to_numpy()[:9]
    owner = rng.choice(sellers, n_leads).astype(object)
    owner[rng.random(n_leads) < 0.05] = None
    leads = pd.DataFrame({
        "lead_id": lead_ids,
        "created_at": created,
        "source": rng.choice(["organic_search", "paid_search", "referral", "outbound"], n_leads),
        "lead_type": rng.choice(["seed", "net", "spear"], n_leads),
        "segment": rng.choice(["small_business", "mid_market", "enterprise"], n_leads),
        "first_offer": rng.choice(["demo_request", "free_trial", "ebook", "contact_us"], n_leads),
        "owner_rep_id": owner,
    })
    # Parquet with naive timestamps: the engine must take them as UTC.
    leads.assign(created_at=leads.created_at.dt.tz_localize(None)).to_parquet(out / "leads.parquet", index=False)

    n_acts = int(n_leads * acts_per_lead)
    lead_idx = rng.integers(0, n_leads, n_acts)
    delay_s = rng.exponential(3 * 86400, n_acts).astype("int64")
    occurred = created[lead_idx] + pd.to_timedelta(delay_s, unit="s")
    kind = rng.choice(["call", "email", "meeting"], n_acts, p=[0.55, 0.3, 0.15])
    call_out = rng.choice(["connected", "voicemail", "no_answer", "wrong_number"], n_acts, p=[0.2, 0.4, 0.35, 0.05])
    email_out = rng.choice(["sent", "replied", "bounced"], n_acts, p=[0.8, 0.15, 0.05])
    meet_out = rng.choice(["held", "no_show"], n_acts, p=[0.85, 0.15])
    outcome = np.where(kind == "call", call_out, np.where(kind == "email", email_out, meet_out))
    mkind = rng.choice(["discovery", "demo"], n_acts).astype(object)
    has_kind = (kind == "meeting") | ((kind == "call") & (outcome == "connected") & (rng.random(n_acts) < 0.3))
    mkind[~has_kind] = None
    acts = pd.DataFrame({
        "activity_id": [f"A{i:07d}" for i in range(n_acts)],
        "rep_id": rng.choice(sellers, n_acts),
        "lead_id": lead_ids[lead_idx],
        "occurred_at": occurred,
        "activity_type": kind,
        "outcome": outcome,
        "meeting_kind": mkind,
    })
    # CSV timestamps in three spellings: Z, +02:00 offset (same instant), and naive (UTC).
    ts = acts.occurred_at
    text = ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy().astype(object)
    shifted = (ts + pd.Timedelta(hours=2)).dt.strftime("%Y-%m-%dT%H:%M:%S+02:00").to_numpy()
    naive = ts.dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    pick = rng.integers(0, 3, n_acts)
    text[pick == 1] = shifted[pick == 1]
    text[pick == 2] = naive[pick == 2]
    acts.assign(occurred_at=text).to_csv(out / "activities.csv.gz", index=False, compression="gzip")

    n_deals = n_leads // 4
    deal_lead = rng.choice(lead_ids, n_deals, replace=False).astype(object)
    deal_lead[rng.random(n_deals) < 0.05] = None
    d_created = ORG_START + pd.to_timedelta(rng.integers(0, span_s, n_deals), unit="s")
    status = rng.choice(["open", "won", "lost"], n_deals, p=[0.2, 0.35, 0.45])
    closed = (d_created + pd.to_timedelta(rng.integers(86400, 60 * 86400, n_deals), unit="s")).to_series()
    closed[status == "open"] = pd.NaT
    deals = pd.DataFrame({
        "deal_id": [f"D{i:05d}" for i in range(n_deals)],
        "lead_id": deal_lead,
        "rep_id": rng.choice(reps.rep_id.to_numpy()[4:9], n_deals),
        "created_at": d_created,
        "closed_at": closed.to_numpy(),
        "status": status,
        "mrr": np.round(rng.gamma(2.0, 300.0, n_deals), 2),
    })
    deals.to_parquet(out / "deals.parquet", index=False)  # tz-aware timestamps; qualifying_framework left out

    won = deals[deals.status == "won"].reset_index(drop=True)
    start = won.closed_at.dt.tz_convert(None).dt.normalize() + pd.Timedelta(days=1)
    lifetime = pd.to_timedelta(rng.exponential(200, len(won)).astype("int64"), unit="D")
    churn = (start + lifetime).where(rng.random(len(won)) < 0.6)
    consultant = rng.choice(reps.rep_id.to_numpy()[9:], len(won)).astype(object)
    consultant[rng.random(len(won)) < 0.1] = None
    customers = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(len(won))],
        "deal_id": won.deal_id,
        "closing_rep_id": won.rep_id,
        "consultant_id": consultant,
        "start_date": start.dt.strftime("%Y-%m-%d"),
        "churn_date": churn.dt.strftime("%Y-%m-%d"),
        "mrr": won.mrr,
        "billing_term": rng.choice(["monthly", "annual_prepay"], len(won)),
    })
    customers.to_csv(out / "customers.csv", index=False)

    n_events = n_leads * 5
    ev_lead = rng.integers(0, n_leads // 2, n_events)  # half the leads never engage
    events = pd.DataFrame({
        "event_id": [f"E{i:07d}" for i in range(n_events)],
        "lead_id": lead_ids[ev_lead],
        "occurred_at": (created[ev_lead] + pd.to_timedelta(rng.integers(-86400 * 5, 86400 * 30, n_events), unit="s"))
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "event_type": rng.choice(["page_view", "content_download", "demo_request", "email_open", "email_click"],
                                 n_events),
    })
    events.to_csv(out / "lead_events.csv", index=False)
    return out


@pytest.fixture(scope="session")
def synthetic_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with a small synthetic organisation (all formats mixed)."""
    return make_org(tmp_path_factory.mktemp("org") / "data")


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the session; skipped locally, failed under CI, if unavailable."""
    try:
        server = PgServer()
    except PgUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test the PostgreSQL path, but: {exc}")
        pytest.skip(f"no PostgreSQL server available: {exc}")
    server.start()
    try:
        yield server
    finally:
        server.stop()
