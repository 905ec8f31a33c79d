"""One month of the sample organisation: leads, their events, activities, deals and customers.

Part of :mod:`helpers.data.sample`: the step of the generator run once per month, vectorised over
the month's leads (a Python loop runs once per month only).
"""
from __future__ import annotations

import numpy as np

from helpers.core.contract import SEGMENTS
from helpers.data.sample_io import TableWriter
from helpers.data.sample_truth import (DAY, DEMO_REQUEST_PLANT_SHARE, ENGAGEMENT_EVENTS, FIRST_TOUCH_PLANT_SHARE,
                                       FOLLOW_UP_PLANT_SHARE, FREE_TRIAL_PLANT_SHARE, HOUR, LEADS_PER_REP_MONTH,
                                       MAX_STAGE_P, MONTH_DAYS, MRR_LOG_SD, NET_SOURCES, OFFERS, OFFER_EVENT,
                                       OFFER_SHARE, OLD_WEAK_STAGE_MULTIPLIER, PERSONAS,
                                       SEED_SOURCES, SEGMENT_ATTEMPT_GAP_MULTIPLIER, SEGMENT_CLOSE_DAYS,
                                       SEGMENT_CONNECT_MULTIPLIER, SEGMENT_CYCLE, SEGMENT_LEAD_VOLUME,
                                       SEGMENT_MRR_MEDIAN, STAGES, _choice, _date, _grouped_cumsum, _ids, _ts,
                                       _within_index)


class _MonthSteps:
    """The per-month simulation (mixed into ``sample._Generator``)."""

    # ------------------------------------------------------------------ one month of leads and everything after
    def simulate_month(self, mi: int, w: dict[str, TableWriter]) -> None:
        rng, org, sla = self.rng, self.org, self.sla
        warm = mi < 0
        ae, lo, hi, capacity = self._active(mi)
        revenue = self.revenue_roles  # opt-in plants of notebook 07 (own random stream; off: same bytes)
        if revenue:
            capacity = capacity * self.revenue_lead_volume(mi, ae)
        n_per_rep = rng.poisson(LEADS_PER_REP_MONTH * SEGMENT_LEAD_VOLUME[org.seg_idx[ae]] * capacity)
        owner = np.repeat(ae, n_per_rep)
        created = np.repeat(lo, n_per_rep) + (rng.random(len(owner)) * np.repeat(hi - lo, n_per_rep)).astype(np.int64)
        order = np.argsort(created, kind="stable")
        owner, created = owner[order], created[order]
        n = len(owner)
        if n == 0:
            return
        seg = org.seg_idx[owner]
        offer = rng.choice(len(OFFERS), size=n, p=OFFER_SHARE)
        if revenue:
            offer = self.revenue_offers(owner)
            kind = self.revenue_kinds(offer)
        o_trial, o_demo = OFFERS.index("free_trial"), OFFERS.index("demo_request")
        is_trial, is_demo = offer == o_trial, offer == o_demo

        # ---------------- SLA plants (recorded in ground truth)
        u = rng.random(n)
        plant = np.zeros(n, dtype=np.int8)  # 1 first touch, 2 free trial calls, 3 demo touches, 4 follow-up
        if not warm:
            other_offer = ~is_trial & ~is_demo
            old_enough = created < self.as_of_excl - sla.first_touch_hours * HOUR - 60
            plant[(u < FIRST_TOUCH_PLANT_SHARE) & other_offer & old_enough] = 1
            band = (u >= FIRST_TOUCH_PLANT_SHARE)
            trial_old = created < self.as_of_excl - sla.free_trial_after_days * DAY - HOUR
            demo_old = created < self.as_of_excl - sla.demo_request_age_days * DAY - HOUR
            plant[band & is_trial & trial_old & (u < FIRST_TOUCH_PLANT_SHARE + FREE_TRIAL_PLANT_SHARE)] = 2
            plant[band & is_demo & demo_old & (u < FIRST_TOUCH_PLANT_SHARE + DEMO_REQUEST_PLANT_SHARE)] = 3
            follow_ok = (created < self.as_of_excl - 60 * DAY) & (self.attempts_by_seg[seg] >= 2) & other_offer
            plant[band & follow_ok & (u < FIRST_TOUCH_PLANT_SHARE + FOLLOW_UP_PLANT_SHARE)] = 4
            if sla.free_trial_min_calls < 2:
                plant[plant == 2] = 0
            if sla.demo_request_min_touches < 2:
                plant[plant == 3] = 0
        untouched = (plant == 1) & (created >= self.as_of_excl - 3 * DAY)

        # ---------------- funnel outcome per lead
        plants = self.plants
        p = plants.offer_stage_p[offer] * np.exp(org.stage_log_mult[owner])
        if self.segment_cadence:  # every rep of a segment connects less: the segment's leads, not a weakness
            p[:, 0] = p[:, 0] * SEGMENT_CONNECT_MULTIPLIER[seg]
        if org.old_weak_stage:  # a weak stage only in leads created before the recent months
            stage_of = np.full(len(org.rep_id), -1)
            stage_of[list(org.old_weak_stage)] = [STAGES.index(s) for s in org.old_weak_stage.values()]
            old = np.flatnonzero((stage_of[owner] >= 0) & (created < self.old_weak_before_s))
            p[old, stage_of[owner[old]]] *= OLD_WEAK_STAGE_MULTIPLIER
        p = np.minimum(p, MAX_STAGE_P)
        if revenue:
            p[:, 3] = np.minimum(p[:, 3] * self.revenue_win_multiplier(kind, owner, n_per_rep, ae, warm), MAX_STAGE_P)
        draw = rng.random((n, 4))
        connected = draw[:, 0] < p[:, 0]
        connected[(plant == 4) | untouched] = False
        connected[(plant == 2) | (plant == 3)] = True
        disc = connected & (draw[:, 1] < p[:, 1]) & (plant != 3)
        demo = disc & (draw[:, 2] < p[:, 2])

        # ---------------- attempts (calls and emails until connect or give up)
        n_seg = self.attempts_by_seg[seg]
        min_calls, min_touch = sla.free_trial_min_calls, sla.demo_request_min_touches
        floor_unconnected = np.maximum(n_seg, np.where(is_trial, min_calls, np.where(is_demo, min_touch, 1)))
        k = np.where(connected, np.minimum(rng.geometric(0.45, n), n_seg),
                     floor_unconnected + rng.poisson(0.5, n))
        k = np.where(plant == 2, rng.integers(1, max(min_calls, 2), n), k)
        k = np.where(plant == 3, rng.integers(1, max(min_touch, 2), n), k)
        k = np.where(plant == 4, rng.integers(1, np.maximum(n_seg, 2)), k)
        k = np.where(untouched, 0, k)
        ft = sla.first_touch_hours * HOUR
        delay = np.minimum(rng.exponential(0.2 * ft, n), 0.9 * ft) + 30
        delay = np.where(plant == 1, rng.uniform(1.3 * ft, 72 * HOUR + ft, n), delay)
        fast = (is_trial | is_demo)
        fast_gap = min(20 * HOUR, 0.8 * (min(sla.free_trial_after_days, sla.demo_request_age_days) * DAY - ft)
                       / max(min_calls, min_touch, 1))
        fast_gap = max(fast_gap, 1.5 * HOUR)
        slow_gap = min(3.5 * DAY, sla.follow_up_idle_days * DAY / 3)

        lead_of = np.repeat(np.arange(n), k)
        j = _within_index(k)
        fast_draw = rng.uniform(HOUR, fast_gap, len(lead_of))  # drawn in this order: the sample's bytes
        slow = rng.uniform(0.3 * DAY, slow_gap, len(lead_of))
        if self.segment_cadence:  # the segment's unanswered calls and emails are further apart (below the idle rule)
            slow = slow * SEGMENT_ATTEMPT_GAP_MULTIPLIER[seg[lead_of]]
        gap = np.where(fast[lead_of], fast_draw, slow)
        gap = np.where(j == 0, delay[lead_of], gap)
        t_att = created[lead_of] + _grouped_cumsum(gap, k).astype(np.int64)
        last_of = j == (k[lead_of] - 1)
        is_connect = connected[lead_of] & last_of
        is_call = is_connect | (is_trial[lead_of] & (j < min_calls)) | (rng.random(len(lead_of)) < 0.65)
        call_out = np.array(["voicemail", "no_answer", "wrong_number"], dtype=object)[
            rng.choice(3, len(lead_of), p=[0.55, 0.40, 0.05])]
        email_out = np.where(rng.random(len(lead_of)) < 0.93, "sent", "bounced").astype(object)
        replied = connected[lead_of] & (j == k[lead_of] - 2) & (rng.random(len(lead_of)) < 0.5)
        email_out[replied] = "replied"
        att_out = np.where(is_call, np.where(is_connect, "connected", call_out), email_out)
        att_type = np.where(is_call, "call", "email").astype(object)
        connect_time = np.zeros(n, dtype=np.int64)
        connect_time[lead_of[is_connect]] = t_att[is_connect]

        # extra touches so that natural free trials and demo requests meet the SLA
        natural = plant == 0
        extra = (np.where(natural & is_trial & connected, np.maximum(min_calls - k, 0), 0)
                 + np.where(natural & is_demo & connected, np.maximum(min_touch - k, 0), 0))
        x_lead = np.repeat(np.arange(n), extra)
        x_time = connect_time[x_lead] + _grouped_cumsum(rng.uniform(HOUR, fast_gap, len(x_lead)), extra).astype(np.int64)
        x_type = np.where(is_trial[x_lead], "call", "email").astype(object)
        x_out = np.where(is_trial[x_lead], "connected", "sent").astype(object)

        # meetings: discovery, demo (a few no-shows first)
        cyc = SEGMENT_CYCLE[seg] * DAY
        disc_sched = connect_time + (rng.uniform(0.5, 5, n) * cyc).astype(np.int64)
        ns_disc = rng.random(n) < 0.12
        disc_held = disc_sched + np.where(ns_disc, rng.uniform(1, 4, n) * DAY, 0).astype(np.int64)
        demo_sched = disc_held + (rng.uniform(1, 8, n) * cyc).astype(np.int64)
        ns_demo = rng.random(n) < 0.08
        demo_held = demo_sched + np.where(ns_demo, rng.uniform(1, 4, n) * DAY, 0).astype(np.int64)
        close_days = SEGMENT_CLOSE_DAYS[seg]
        close_wait = rng.uniform(close_days[:, 0], close_days[:, 1])
        if revenue:
            close_wait = close_wait * self.revenue_cycle_multiplier(kind)
        close_time = demo_held + (close_wait * DAY).astype(np.int64)
        m_lead = np.concatenate([np.flatnonzero(disc & ns_disc), np.flatnonzero(disc),
                                 np.flatnonzero(demo & ns_demo), np.flatnonzero(demo)])
        m_time = np.concatenate([disc_sched[disc & ns_disc], disc_held[disc], demo_sched[demo & ns_demo],
                                 demo_held[demo]])
        m_kind = np.repeat(np.array(["discovery", "discovery", "demo", "demo"], dtype=object),
                           [(disc & ns_disc).sum(), disc.sum(), (demo & ns_demo).sum(), demo.sum()])
        m_out = np.repeat(np.array(["no_show", "held", "no_show", "held"], dtype=object),
                          [(disc & ns_disc).sum(), disc.sum(), (demo & ns_demo).sum(), demo.sum()])

        # ---------------- deals: qualifying framework (GPCT experiment), close, MRR
        fw = np.full(n, None, dtype=object)
        pre_lo, pre_hi = self.exp_windows["EXP-01"]
        before = demo_held < pre_lo * DAY
        after = demo_held >= (pre_hi + 1) * DAY
        in_gpct = self._in_window("EXP-01", demo_held)
        fw_pre = _choice(rng, (("bant", 0.45), ("none", 0.25), (None, 0.30)), n)
        fw_post = _choice(rng, (("gpct", 0.55), ("bant", 0.2), ("none", 0.1), (None, 0.15)), n)
        gpct_treat = rng.random(n) < 0.5
        fw = np.where(before, fw_pre, np.where(after, fw_post, np.where(gpct_treat, "gpct", "bant")))
        gpct_mult = plants.gpct_close_multiplier
        p_won = np.minimum(p[:, 3] * np.where(fw == "gpct", gpct_mult, 1.0), MAX_STAGE_P)
        won_draw = draw[:, 3] < p_won
        mean_mrr = SEGMENT_MRR_MEDIAN[seg] * np.exp(MRR_LOG_SD ** 2 / 2) * org.mrr_mult[owner]
        mrr_raw = SEGMENT_MRR_MEDIAN[seg] * np.exp(MRR_LOG_SD * rng.standard_normal(n)) * org.mrr_mult[owner]
        in_price = self._in_window("EXP-03", demo_held)
        price_treat = rng.random(n) < 0.5
        mrr = np.maximum(np.round(mrr_raw * np.where(in_price & price_treat, plants.pricing_mrr_multiplier, 1.0), -1),
                         10.0)

        is_deal = demo & (demo_held < self.as_of_excl)
        closed = is_deal & (close_time < self.as_of_excl)
        won = closed & won_draw
        successor = org.successor
        leave_s = org.leave_s

        def rep_at(rep: np.ndarray, t: np.ndarray) -> np.ndarray:
            return np.where(t > leave_s[rep], successor[rep], rep)

        d_idx = np.flatnonzero(is_deal)
        deal_ids = _ids("D", self.counters["deal"], len(d_idx), 7)
        self.counters["deal"] += len(d_idx)
        lead_ids_all = None
        if not warm:
            lead_ids_all = _ids("L", self.counters["lead"], n, 8)
            self.counters["lead"] += n
        status = np.where(won[d_idx], "won", np.where(closed[d_idx], "lost", "open")).astype(object)
        deal_rep = rep_at(owner[d_idx], demo_held[d_idx])
        w["deals"].write({
            "deal_id": deal_ids,
            "lead_id": lead_ids_all[d_idx] if lead_ids_all is not None else np.full(len(d_idx), None, dtype=object),
            "rep_id": org.rep_id[deal_rep], "created_at": _ts(demo_held[d_idx]),
            "closed_at": np.where(closed[d_idx], _ts(close_time[d_idx]), np.datetime64("NaT", "us")),
            "status": status, "mrr": mrr[d_idx], "qualifying_framework": fw[d_idx],
        })

        # experiment units that are deals
        for exp_id, in_win, treat, pc_, pt_, outcome in (
            ("EXP-01", in_gpct, gpct_treat, p[:, 3], np.minimum(p[:, 3] * gpct_mult, MAX_STAGE_P),
             np.where(closed, won.astype(float), np.nan)),
            ("EXP-03", in_price, price_treat, mean_mrr, mean_mrr * plants.pricing_mrr_multiplier, mrr),
        ):
            sel = in_win[d_idx]
            units = d_idx[sel]
            if len(units):
                w["experiment_assignments"].write({
                    "experiment_id": np.full(len(units), exp_id, dtype=object), "unit_id": deal_ids[sel],
                    "arm": np.where(treat[units], "treatment", "control").astype(object),
                    "outcome": outcome[units], "cluster_id": np.full(len(units), None, dtype=object)})
                self._exp_accumulate(exp_id, treat[units], pc_[units], pt_[units])

        # ---------------- customers and churn
        c_idx = np.flatnonzero(won)
        c_deal = np.searchsorted(d_idx, c_idx)
        closer = rep_at(owner[c_idx], close_time[c_idx])
        start_day = close_time[c_idx] // DAY
        annual = rng.random(len(c_idx)) < np.where(np.isin(owner[c_idx], org.pressure), 0.10, 0.30)
        consultant = org.consultants[rng.integers(0, len(org.consultants), len(c_idx))]
        hazard = (plants.segment_monthly_churn[seg[c_idx]] * org.churn_factor[owner[c_idx]]
                  * org.consultant_factor[consultant] * np.where(annual, plants.annual_prepay_churn_multiplier, 1.0))
        churn_day = start_day + 1 + (rng.exponential(1.0, len(c_idx)) / hazard * MONTH_DAYS).astype(np.int64)
        churned = churn_day <= self.as_of_day
        w["customers"].write({
            "customer_id": _ids("C", self.counters["customer"], len(c_idx), 7),
            "deal_id": deal_ids[c_deal], "closing_rep_id": org.rep_id[closer],
            "consultant_id": org.rep_id[consultant], "start_date": _date(start_day),
            "churn_date": np.where(churned, _date(churn_day), np.datetime64("NaT", "D")),
            "mrr": mrr[c_idx], "billing_term": np.where(annual, "annual_prepay", "monthly").astype(object),
        })
        self.counters["customer"] += len(c_idx)
        p4 = 1 - np.exp(-4 * hazard)
        acc = self.churn_acc
        np.add.at(acc["rep_n"], owner[c_idx], 1)
        np.add.at(acc["rep_p4"], owner[c_idx], p4)
        np.add.at(acc["cons_n"], consultant, 1)
        np.add.at(acc["cons_p4"], consultant, p4)
        acc["billing_n"] += np.bincount(annual.astype(int), minlength=2)
        acc["billing_p4"] += np.bincount(annual.astype(int), weights=p4, minlength=2)

        if warm:
            return
        assert lead_ids_all is not None
        lead_ids = lead_ids_all

        # ---------------- leads
        lead_type = np.where(offer == OFFERS.index("outbound"), "spear",
                             np.where(rng.random(n) < np.where(np.isin(offer, [0, 1, 2]), 0.3, 0.1), "seed", "net"))
        if revenue:
            lead_type = kind
        source = np.where(lead_type == "spear", "outbound",
                          np.where(lead_type == "seed", _choice(rng, SEED_SOURCES, n), _choice(rng, NET_SOURCES, n)))
        journey_by_offer = np.array([
            [0.0, 0.2, 0.8], [0.0, 0.3, 0.7], [0.05, 0.25, 0.7], [0.3, 0.7, 0.0],
            [0.75, 0.25, 0.0], [0.85, 0.15, 0.0], [0.7, 0.3, 0.0], [0.3, 0.5, 0.2]])
        cum = journey_by_offer[offer].cumsum(axis=1)
        journey = np.array(["awareness", "consideration", "decision"], dtype=object)[
            (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 2)]
        journey = np.where((offer == OFFERS.index("outbound")) & (rng.random(n) < 0.6), None, journey)
        final_owner = np.where(leave_s[owner] < self.as_of_excl, successor[owner], owner)
        w["leads"].write({
            "lead_id": lead_ids, "created_at": _ts(created), "source": source.astype(object),
            "lead_type": lead_type.astype(object), "persona": _choice(rng, PERSONAS, n), "journey_stage": journey,
            "segment": np.array(SEGMENTS, dtype=object)[seg], "first_offer": np.array(OFFERS, dtype=object)[offer],
            "owner_rep_id": org.rep_id[final_owner],
        })

        # ---------------- activities
        a_lead = np.concatenate([lead_of, x_lead, m_lead])
        a_time = np.concatenate([t_att, x_time, m_time])
        a_type = np.concatenate([att_type, x_type, np.full(len(m_lead), "meeting", dtype=object)])
        a_out = np.concatenate([att_out, x_out, m_out])
        a_kind = np.concatenate([np.full(len(lead_of) + len(x_lead), None, dtype=object), m_kind])
        keep = a_time < self.as_of_excl
        order = np.lexsort((a_time[keep], a_lead[keep]))
        a_lead, a_time = a_lead[keep][order], a_time[keep][order]
        a_type, a_out, a_kind = a_type[keep][order], a_out[keep][order], a_kind[keep][order]
        w["activities"].write({
            "activity_id": _ids("A", self.counters["activity"], len(a_lead), 9),
            "rep_id": org.rep_id[rep_at(owner[a_lead], a_time)], "lead_id": lead_ids[a_lead],
            "occurred_at": _ts(a_time), "activity_type": a_type, "outcome": a_out, "meeting_kind": a_kind,
        })
        self.counters["activity"] += len(a_lead)

        # ---------------- lead events (engagement grows with progress)
        first_event = np.array(OFFER_EVENT, dtype=object)[offer]
        has_first = first_event != None  # noqa: E711 - elementwise on an object array
        lam = 0.8 + 1.5 * connected + 1.5 * disc + 1.0 * demo
        n_more = rng.poisson(lam)
        e_lead_more = np.repeat(np.arange(n), n_more)
        e_time_more = created[e_lead_more] + 60 + rng.exponential(8 * DAY, len(e_lead_more)).astype(np.int64)
        web = offer == OFFERS.index("webinar")
        attend = web & (rng.random(n) < 0.45)
        e_lead = np.concatenate([np.flatnonzero(has_first), np.flatnonzero(attend), e_lead_more])
        e_time = np.concatenate([created[has_first],
                                 created[attend] + (rng.uniform(1, 10, attend.sum()) * DAY).astype(np.int64),
                                 e_time_more])
        e_type = np.concatenate([first_event[has_first], np.full(attend.sum(), "webinar_attend", dtype=object),
                                 _choice(rng, ENGAGEMENT_EVENTS, len(e_lead_more))])
        keep = e_time < self.as_of_excl
        order = np.lexsort((e_time[keep], e_lead[keep]))
        e_lead, e_time, e_type = e_lead[keep][order], e_time[keep][order], e_type[keep][order]
        w["lead_events"].write({
            "event_id": _ids("E", self.counters["event"], len(e_lead), 9), "lead_id": lead_ids[e_lead],
            "occurred_at": _ts(e_time), "event_type": e_type,
        })
        self.counters["event"] += len(e_lead)

        # ---------------- EXP-04 units: leads of the pilot reps created since it started (outcomes drawn at the end)
        e4 = self.exp4
        in_pilot = np.isin(owner, e4["reps"]) & (created >= e4["start_day"] * DAY)
        if in_pilot.any():
            pos_of = {int(r): i for i, r in enumerate(e4["reps"])}
            e4["units"].append((lead_ids[in_pilot], np.array([pos_of[int(o)] for o in owner[in_pilot]], dtype=np.int64),
                                created[in_pilot]))

        # ---------------- null experiment: voicemail script on ebook leads (no effect on anything)
        vm_units = np.flatnonzero((offer == OFFERS.index("ebook")) & self._in_window("EXP-02", created)
                                  & (plant == 0))
        if len(vm_units):
            treat = rng.random(len(vm_units)) < 0.5
            w["experiment_assignments"].write({
                "experiment_id": np.full(len(vm_units), "EXP-02", dtype=object), "unit_id": lead_ids[vm_units],
                "arm": np.where(treat, "treatment", "control").astype(object),
                "outcome": (connected[vm_units] & (connect_time[vm_units] < self.as_of_excl)).astype(float),
                "cluster_id": np.full(len(vm_units), None, dtype=object)})
            self._exp_accumulate("EXP-02", treat, p[vm_units, 0], p[vm_units, 0])

        # ---------------- truth accumulators
        p_customer = p[:, 0] * p[:, 1] * p[:, 2] * p_won
        oa = self.offer_acc
        oa["n"] += np.bincount(offer, minlength=len(OFFERS))
        oa["p"] += np.bincount(offer, weights=p_customer, minlength=len(OFFERS))
        oa["mrr"] += np.bincount(offer, weights=p_customer * mean_mrr, minlength=len(OFFERS))
        for code, key in ((1, "first_touch"), (2, "free_trial_calls"), (3, "demo_request_touches"),
                          (4, "follow_up_attempts")):
            self.sla_plants[key].append(lead_ids[plant == code])
        self.sla_untouched.append(lead_ids[untouched])

