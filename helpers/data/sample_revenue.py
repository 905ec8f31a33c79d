"""Opt-in predictable-revenue plants of the sample organisation (``generate_org(revenue_roles=True)``).

Part of :mod:`helpers.data.sample`: specialised roles (market-response reps for inbound leads, SDRs for
outbound prospecting, closers, account managers), lead kinds with different conversion and cycle (seeds =
referrals, nets = marketing, spears = outbound), a lead-load effect (a market-response rep converts less
in a month with more leads) and monthly seasonality of lead arrivals. Every draw here comes from its own
random stream (``REVENUE_STREAM``), and nothing here runs without the option, so organisations made without
it keep every byte. Deals stay with the rep who owned the lead (no hand-off between roles is simulated).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from helpers.data.sample_truth import (KIND_CYCLE_MULTIPLIER, KIND_WIN_MULTIPLIER, LEADS_PER_REP_MONTH,
                                       LOAD_LOG_EFFECT_PER_100, MR_LOAD_LOG_SD, OFFER_SHARE, OFFERS,
                                       REVENUE_ROLE_SHARES, REVENUE_STREAM, ROLE_LEAD_VOLUME, SEASON_MULTIPLIER,
                                       SEED_SHARE_OF_INBOUND, _r)

KINDS = ("seed", "net", "spear")


class _RevenueSteps:
    """Mixed into ``sample._Generator``; used only when ``revenue_roles`` is on."""

    def plant_revenue_roles(self) -> None:
        """Relabel the quota-carrying reps market_response / sdr / ae (closers), consultants account_manager."""
        self.rng_rev = np.random.default_rng([self.seed, REVENUE_STREAM])
        org = self.org
        n = len(org.ae)
        order = org.ae[self.rng_rev.permutation(n)]
        n_mr = max(2, int(round(REVENUE_ROLE_SHARES[0][1] * n)))
        n_sdr = max(2, int(round(REVENUE_ROLE_SHARES[1][1] * n)))
        org.role[order[:n_mr]] = "market_response"
        org.role[order[n_mr:n_mr + n_sdr]] = "sdr"
        org.role[org.consultants] = "account_manager"
        self.rev_acc = {"load": [], "leads": {k: 0 for k in KINDS}}

    def revenue_lead_volume(self, mi: int, ae: np.ndarray) -> np.ndarray:
        """Multiplier of each active rep's lead volume this month: role x season x (market-response) load swing."""
        org = self.org
        month_of_year = int((self.start_month + mi).astype(int) % 12)
        role = org.role[ae]
        vol = np.where(role == "market_response", ROLE_LEAD_VOLUME["market_response"],
                       np.where(role == "sdr", ROLE_LEAD_VOLUME["sdr"], ROLE_LEAD_VOLUME["ae"]))
        swing = np.exp(MR_LOAD_LOG_SD * self.rng_rev.standard_normal(len(ae)) - MR_LOAD_LOG_SD ** 2 / 2)
        vol = vol * np.where(role == "market_response", swing, 1.0)
        return vol * SEASON_MULTIPLIER[month_of_year]

    def revenue_offers(self, owner: np.ndarray) -> np.ndarray:
        """First offer of each lead: SDRs' leads are outbound; market-response reps get only inbound offers."""
        role = self.org.role[owner]
        o_out = OFFERS.index("outbound")
        inbound_share = np.where(np.arange(len(OFFERS)) == o_out, 0.0, OFFER_SHARE)
        offer = self.rng_rev.choice(len(OFFERS), size=len(owner), p=OFFER_SHARE)
        inbound = self.rng_rev.choice(len(OFFERS), size=len(owner), p=inbound_share / inbound_share.sum())
        offer = np.where(role == "market_response", inbound, offer)
        return np.where(role == "sdr", o_out, offer)

    def revenue_kinds(self, offer: np.ndarray) -> np.ndarray:
        """Seed / net / spear of each lead: outbound offers are spears; a share of the rest are referrals."""
        seed = self.rng_rev.random(len(offer)) < SEED_SHARE_OF_INBOUND
        return np.where(offer == OFFERS.index("outbound"), "spear", np.where(seed, "seed", "net")).astype(object)

    def revenue_win_multiplier(self, kind: np.ndarray, owner: np.ndarray, n_per_rep: np.ndarray,
                               ae: np.ndarray, warm: bool) -> np.ndarray:
        """Multiplier of the close-stage probability: lead kind x (market-response reps) the month's lead load."""
        kind_mult = np.select([kind == k for k in KINDS], [KIND_WIN_MULTIPLIER[k] for k in KINDS], 1.0)
        load_of_rep = np.zeros(len(self.org.rep_id))
        load_of_rep[ae] = n_per_rep
        load = load_of_rep[owner]
        is_mr = self.org.role[owner] == "market_response"
        load_mult = np.where(is_mr, np.exp(LOAD_LOG_EFFECT_PER_100 * (load - 100.0) / 100.0), 1.0)
        if not warm:
            mr = self.org.role[ae] == "market_response"
            self.rev_acc["load"].append(n_per_rep[mr])
            for k in KINDS:
                self.rev_acc["leads"][k] += int((kind == k).sum())
        return kind_mult * load_mult

    @staticmethod
    def revenue_cycle_multiplier(kind: np.ndarray) -> np.ndarray:
        return np.select([kind == k for k in KINDS], [KIND_CYCLE_MULTIPLIER[k] for k in KINDS], 1.0)

    def revenue_truth(self) -> dict[str, Any]:
        org = self.org
        loads = np.concatenate(self.rev_acc["load"]) if self.rev_acc["load"] else np.zeros(0)
        by_role = {role: [str(r) for r in org.rep_id[org.ae][org.role[org.ae] == role]]
                   for role in ("market_response", "sdr", "ae")}
        return {
            "description": ("Opt-in plants for notebook 07 (generate_org(revenue_roles=True)). Roles: market_response "
                            "reps get inbound offers only, sdr reps only outbound (spears), ae reps are closers with "
                            "their own leads; consultants are account_manager. Deals stay with the lead's owner. "
                            "Lead kind multiplies the close-stage probability (win_multiplier) and the days from "
                            "demo to close (cycle_multiplier). A market-response rep's close-stage probability is "
                            "multiplied by exp(load_log_effect_per_100 * (leads that month - 100) / 100). Lead "
                            "arrivals are multiplied by season_multiplier of their calendar month (January first)."),
            "roles": by_role, "account_managers": [str(r) for r in org.rep_id[org.consultants]],
            "lead_kinds": {k: {"win_multiplier": KIND_WIN_MULTIPLIER[k], "cycle_multiplier": KIND_CYCLE_MULTIPLIER[k],
                               "n_leads": int(self.rev_acc["leads"][k])} for k in KINDS},
            "conversion_order": sorted(KINDS, key=lambda k: -KIND_WIN_MULTIPLIER[k]),
            "cycle_order": sorted(KINDS, key=lambda k: KIND_CYCLE_MULTIPLIER[k]),
            "seed_share_of_inbound": SEED_SHARE_OF_INBOUND,
            "lead_load": {"load_log_effect_per_100": LOAD_LOG_EFFECT_PER_100,
                          "odds_ratio_per_100_approx": _r(np.exp(LOAD_LOG_EFFECT_PER_100)),
                          "base_leads_per_month": LEADS_PER_REP_MONTH,
                          "market_response_median_load": _r(float(np.median(loads))) if loads.size else None,
                          "market_response_max_load": int(loads.max()) if loads.size else None},
            "season_multiplier": list(SEASON_MULTIPLIER),
        }
