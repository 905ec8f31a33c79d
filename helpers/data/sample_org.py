"""The sample organisation's people and their yearly facts: reps, hiring, skills, training, quotas,
experiments, and the ground truth written to ``ground_truth.json``.

Part of :mod:`helpers.data.sample`: the steps of the generator that run once per organisation
(the per-month simulation is in :mod:`helpers.data.sample_month`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from helpers.core.contract import SEGMENTS
from helpers.data.sample_io import TableWriter
from helpers.data.sample_truth import (CANDIDATES_PER_HIRE, CERTIFICATIONS, DAY, EXP4_BASE_REPLY, EXP4_PENDING_DAYS,
                                       EXP4_REP_LOG_SD, EXP4_STREAM, FIRST_NAMES, GENERATOR_VERSION,
                                       INTERVIEWERS_PER_CANDIDATE, INTERVIEWER_BELIEF, LAST_NAMES,
                                       LEADS_PER_REP_MONTH, MONTH_DAYS, MRR_LOG_SD, OFFERS, OFFER_SHARE,
                                       OLD_WEAK_STAGE_MULTIPLIER, OLD_WEAK_STAGE_RECENT_MONTHS, PERFORMANCE_NOISE_SD,
                                       PRESSURE_CHURN_MULTIPLIER, PRESSURE_MRR_MULTIPLIER, PRESSURE_WON_MULTIPLIER,
                                       PRICING_MRR_MULTIPLIER, SCORE_CENTRE, SCORE_NOISE_SD, SCORE_SLOPE,
                                       SEGMENT_ATTEMPT_GAP_MULTIPLIER, SEGMENT_CONNECT_MULTIPLIER,
                                       SEGMENT_LEAD_VOLUME, SEGMENT_MRR_MEDIAN, STAGES, WARMUP_MONTHS,
                                       WEAK_STAGE_MULTIPLIER, _date, _ids, _r, _ts, _within_index)


@dataclass
class _Org:
    rep_id: np.ndarray
    name: np.ndarray
    team: np.ndarray
    manager_id: np.ndarray
    role: np.ndarray
    segment: np.ndarray  # object: segment name or None
    seg_idx: np.ndarray  # -1 when no segment
    hire_day: np.ndarray
    leave_day: np.ndarray  # -1 while employed
    ae: np.ndarray  # indices of quota-carrying AEs
    consultants: np.ndarray  # indices of consultants
    interviewers: np.ndarray  # names of people who interview candidates
    perf_index: np.ndarray  # performance index per rep (nan for non-AEs)
    stage_log_mult: np.ndarray  # n_reps x 4
    mrr_mult: np.ndarray
    churn_factor: np.ndarray
    consultant_factor: np.ndarray  # per rep (1 for non-consultants)
    successor: np.ndarray  # who takes over a leaver's leads (self otherwise)
    weak_stage: dict[int, str]
    pressure: np.ndarray  # indices
    leaver: int
    new_hire: int
    old_weak_stage: dict[int, str] = field(default_factory=dict)  # weak only in old leads (old_weak_stage=True)

    @property
    def leave_s(self) -> np.ndarray:
        """Last second employed (a very large number while employed)."""
        return np.where(self.leave_day >= 0, (self.leave_day + 1) * DAY, np.iinfo(np.int64).max // 4)


def _names(count: int, offset: int = 0) -> np.ndarray:
    i = np.arange(offset, offset + count)
    f, l_ = len(FIRST_NAMES), len(LAST_NAMES)
    first = np.array(FIRST_NAMES, dtype=object)[i % f]
    last = np.array(LAST_NAMES, dtype=object)[(i // f + i) % l_]
    out = first + " " + last
    cycle = i // (f * l_)
    return np.where(cycle > 0, out + " " + (cycle + 1).astype(str).astype(object), out)




class _OrgSteps:
    """Steps of the generator run once per organisation (mixed into ``sample._Generator``)."""

    # ------------------------------------------------------------------ org and people
    def build_org(self) -> None:
        rng, n = self.rng, self.n_reps
        n_ent = max(1, int(round(0.22 * n)))
        n_mm = max(1, int(round(0.33 * n)))
        seg_counts = np.array([n - n_ent - n_mm, n_mm, n_ent])
        ae_seg = np.repeat(np.arange(3), seg_counts)
        teams_per_seg = np.ceil(seg_counts / 8).astype(int)
        ae_team_no = _within_index(seg_counts) % np.repeat(teams_per_seg, seg_counts)
        n_managers = int(teams_per_seg.sum())
        n_cons = max(2, int(round(n / 7)))
        # order: VP sales, team managers, head of customer success, consultants, AEs
        n_total = 1 + n_managers + 1 + n_cons + n
        rep_id = _ids("R", 1, n_total, 5)
        role = np.array(["manager"] * (2 + n_managers) + ["consultant"] * n_cons + ["ae"] * n, dtype=object)
        role[1 + n_managers] = "manager"
        seg_idx = np.full(n_total, -1)
        team = np.empty(n_total, dtype=object)
        manager_id = np.full(n_total, None, dtype=object)
        team[0] = "leadership"
        mgr_seg = np.repeat(np.arange(3), teams_per_seg)
        mgr_no = _within_index(teams_per_seg)
        mgr_rows = np.arange(1, 1 + n_managers)
        seg_short = np.array(["smb", "mid", "ent"], dtype=object)
        team[mgr_rows] = seg_short[mgr_seg] + "_pod_" + (mgr_no + 1).astype(str).astype(object)
        seg_idx[mgr_rows] = mgr_seg
        manager_id[mgr_rows] = rep_id[0]
        cs_head = 1 + n_managers
        team[cs_head] = "customer_success"
        manager_id[cs_head] = rep_id[0]
        cons_rows = np.arange(cs_head + 1, cs_head + 1 + n_cons)
        team[cons_rows] = "customer_success"
        manager_id[cons_rows] = rep_id[cs_head]
        ae_rows = np.arange(cs_head + 1 + n_cons, n_total)
        seg_idx[ae_rows] = ae_seg
        ae_mgr = mgr_rows[np.searchsorted(np.cumsum(teams_per_seg) - teams_per_seg, ae_seg) + ae_team_no]
        team[ae_rows] = team[ae_mgr]
        manager_id[ae_rows] = rep_id[ae_mgr]
        segment = np.where(seg_idx >= 0, np.array(SEGMENTS, dtype=object)[np.maximum(seg_idx, 0)], None)

        # dates: leaders and consultants long-standing; AEs hired over the past 2.5 years
        hire_day = np.empty(n_total, dtype=np.int64)
        leave_day = np.full(n_total, -1, dtype=np.int64)
        hire_day[: cs_head + 1 + n_cons] = self.start_day - rng.integers(365, 1500, cs_head + 1 + n_cons)
        hire_day[ae_rows] = self.start_day - rng.integers(30, 900, n)
        # edge cases: a rep who leaves mid-period and a new hire with little data
        largest = int(np.argmax(seg_counts))
        in_largest = ae_rows[ae_seg == largest]
        leaver, new_hire = int(in_largest[0]), int(ae_rows[-1])
        if new_hire == leaver:
            new_hire = int(in_largest[-1])
        mid_month = self.start_month + self.months // 2
        leave_day[leaver] = int(mid_month.astype("datetime64[D]").astype(np.int64)) + int(rng.integers(5, 25))
        hire_month = self.end_month - 1
        hire_day[new_hire] = int(hire_month.astype("datetime64[D]").astype(np.int64)) + int(rng.integers(0, 10))
        successor = np.arange(n_total)
        successor[leaver] = int(in_largest[1])

        self.org = _Org(
            rep_id=rep_id, name=_names(n_total), team=team, manager_id=manager_id, role=role, segment=segment,
            seg_idx=seg_idx, hire_day=hire_day, leave_day=leave_day, ae=ae_rows, consultants=cons_rows,
            interviewers=_names(n_total)[np.r_[0, mgr_rows]],
            perf_index=np.full(n_total, np.nan), stage_log_mult=np.zeros((n_total, 4)), mrr_mult=np.ones(n_total),
            churn_factor=np.ones(n_total), consultant_factor=np.ones(n_total), successor=successor,
            weak_stage={}, pressure=np.array([], dtype=int), leaver=leaver, new_hire=new_hire,
        )

    # ------------------------------------------------------------------ hiring
    def hiring(self) -> dict[str, np.ndarray]:
        rng, org, traits = self.rng, self.org, self.traits
        n_hires = len(org.ae)
        n_cand = max(n_hires * CANDIDATES_PER_HIRE, n_hires + 20)
        n_traits = len(traits)
        latent = rng.standard_normal((n_cand, n_traits))
        plants = self.plants
        weights = np.array([plants.trait_weights.get(t, 0.0) for t in traits])
        belief = np.array([INTERVIEWER_BELIEF.get(t, 0.5) for t in traits])
        performance = latent @ weights + PERFORMANCE_NOISE_SD * rng.standard_normal(n_cand)

        pool = org.interviewers
        k = min(INTERVIEWERS_PER_CANDIDATE, len(pool))
        picks = np.argsort(rng.random((n_cand, len(pool))), axis=1)[:, :k]  # distinct interviewers
        bias = plants.interviewer_bias_sd * rng.standard_normal(len(pool))
        raw = (SCORE_CENTRE + SCORE_SLOPE * latent[:, None, :] + bias[picks][:, :, None]
               + SCORE_NOISE_SD * rng.standard_normal((n_cand, k, n_traits)))
        score = np.clip(np.rint(raw), self.cfg.score_min, self.cfg.score_max).astype(np.int64)
        mean_score = score.mean(axis=1)
        decision = mean_score @ belief + rng.gumbel(size=n_cand)  # weighted draw without replacement
        hired = np.argsort(-decision, kind="stable")[:n_hires]
        hired = hired[rng.permutation(n_hires)]  # which hire became which AE

        perf = performance[hired]
        perf_z = (perf - perf.mean()) / perf.std()
        org.perf_index[org.ae] = perf_z
        cand_rep = np.full(n_cand, None, dtype=object)
        cand_rep[hired] = org.rep_id[org.ae]
        interview_day = rng.integers(org.hire_day[org.ae].min() - 60, self.as_of_day, n_cand)
        interview_day[hired] = org.hire_day[org.ae] - rng.integers(14, 45, n_hires)

        cand_ids = _ids("CAND", 1, n_cand, 5)
        rows = n_cand * k * n_traits
        ci = np.repeat(np.arange(n_cand), k * n_traits)
        ii = np.repeat(picks.reshape(-1), n_traits)
        ti = np.tile(np.arange(n_traits), n_cand * k)
        pop_sd = float(np.sqrt(weights @ weights + PERFORMANCE_NOISE_SD ** 2))
        self.truth["hiring"] = {
            "traits": list(traits),
            "true_weights": {t: _r(w) for t, w in zip(traits, weights)},
            "drivers": ({"strong": [], "mild": [], "weak": [], "none": list(traits)} if self.no_effects else
                        {"strong": ["coachability", "curiosity", "intelligence"], "mild": ["work_ethic"],
                         "weak": ["prior_success"], "none": ["aggressiveness"]}),
            "true_correlation_latent_trait_with_performance": {t: _r(w / pop_sd) for t, w in zip(traits, weights)},
            "interviewer_belief_weights": {t: _r(b) for t, b in zip(traits, belief)},
            "score_model": {"centre": SCORE_CENTRE, "slope_per_sd": SCORE_SLOPE, "noise_sd": SCORE_NOISE_SD,
                            "interviewer_bias_sd": plants.interviewer_bias_sd,
                            "interviewers_per_candidate": int(k)},
            "performance_noise_sd": PERFORMANCE_NOISE_SD,
            "n_candidates": int(n_cand),
            "n_hired": int(n_hires),
            "interviewer_bias": {str(p): _r(b) for p, b in zip(pool, bias)},
        }
        keep = np.ones(n_cand, dtype=bool)
        if self.n_hires is not None:  # only the latest hires (and candidates interviewed since) have scorecards
            latest = np.argsort(-org.hire_day[org.ae], kind="stable")[: self.n_hires]
            scored = np.zeros(n_hires, dtype=bool)
            scored[latest] = True
            since = int(interview_day[hired[scored]].min())
            keep = interview_day >= since
            keep[hired] = scored
            self.truth["hiring"].update(
                n_candidates=int(keep.sum()), n_hired=int(self.n_hires),
                scorecards_since=str(_date(np.array([since]))[0]),
                reps_with_scorecards=sorted(str(r) for r in org.rep_id[org.ae][scored]))
            rows = int(keep.sum()) * k * n_traits
        kept = np.flatnonzero(keep)
        ci = ci.reshape(n_cand, -1)[kept].reshape(-1)
        ii = ii.reshape(n_cand, -1)[kept].reshape(-1)
        ti = ti.reshape(n_cand, -1)[kept].reshape(-1)
        score = score[kept]
        return {
            "candidate_id": cand_ids[ci], "interviewer": pool[ii], "trait": np.array(traits, dtype=object)[ti],
            "score": score.reshape(-1), "interview_date": _date(interview_day[ci]),
            "rep_id": cand_rep[ci],
        } if rows else {}

    # ------------------------------------------------------------------ rep skills, pressure, weak stages
    def plant_skills(self) -> None:
        rng, org = self.rng, self.org
        ae = org.ae
        established = np.array([r for r in ae if r not in (org.leaver, org.new_hire, org.successor[org.leaver])])
        shuffled = established[rng.permutation(len(established))]
        plants = self.plants
        n_pressure = max(2, len(ae) // 13)
        n_weak = max(4, len(ae) // 5)
        # pressure sellers are able closers (top half of the performance index) who push too hard
        able = shuffled[org.perf_index[shuffled] >= np.median(org.perf_index[established])]
        pressure = np.sort(able[:n_pressure])
        rest = shuffled[~np.isin(shuffled, pressure)]
        if not plants.pressure_sellers:
            pressure = pressure[:0]
        weak = rest[:n_weak]
        stage_of_weak = rng.permutation(np.resize(np.arange(4), len(weak)))
        log_mult = (plants.talent_stage_effect * org.perf_index[ae][:, None]
                    + plants.stage_noise_sd * rng.standard_normal((len(ae), 4)))
        org.stage_log_mult[ae] = log_mult
        if not self.weak_stages or self.no_effects:  # the same random draws, no weak stage planted
            weak = weak[:0]
            stage_of_weak = stage_of_weak[:0]
        org.old_weak_stage = {}
        if self.old_weak_stage:  # the same reps and stages, weak only in leads created before the recent months
            org.old_weak_stage = {int(r): STAGES[s] for r, s in zip(weak, stage_of_weak)}
            weak = weak[:0]
            stage_of_weak = stage_of_weak[:0]
        org.stage_log_mult[weak, stage_of_weak] += np.log(WEAK_STAGE_MULTIPLIER)
        org.stage_log_mult[pressure, 3] += np.log(PRESSURE_WON_MULTIPLIER)
        org.mrr_mult[pressure] = PRESSURE_MRR_MULTIPLIER
        org.churn_factor[ae] = np.exp(plants.rep_churn_sd * rng.standard_normal(len(ae)))
        org.churn_factor[pressure] *= PRESSURE_CHURN_MULTIPLIER
        cons = org.consultants
        org.consultant_factor[cons] = np.exp(plants.consultant_churn_sd * rng.standard_normal(len(cons)))
        org.consultant_factor[cons[0]] = plants.best_consultant_factor  # a retention star
        org.consultant_factor[cons[-1]] = plants.worst_consultant_factor  # a struggling consultant
        org.pressure = pressure
        org.weak_stage = {int(r): STAGES[s] for r, s in zip(weak, stage_of_weak)}

    def training(self) -> dict[str, np.ndarray]:
        rng, org = self.rng, self.org
        ae = org.ae
        perf = org.perf_index[ae]
        exam_loading, cert_loading = self.plants.final_exam_loading, self.plants.cert_loading
        exam = 74 + 10 * (exam_loading * perf + np.sqrt(1 - exam_loading ** 2) * rng.standard_normal(len(ae)))
        skill = org.stage_log_mult[ae]
        spread = skill.std(axis=0)
        skill_z = (skill - skill.mean(axis=0)) / np.where(spread > 0, spread, 1.0)  # no_effects: no spread
        certs = 76 + 9 * (cert_loading * skill_z + np.sqrt(1 - cert_loading ** 2) * rng.standard_normal(skill.shape))
        scores = np.round(np.clip(np.column_stack([exam, certs]), 0, 100), 1)
        names = np.array(["final_exam"] + [CERTIFICATIONS[s] for s in STAGES], dtype=object)
        day = np.minimum(org.hire_day[ae] + rng.integers(10, 17, len(ae)), self.as_of_day)
        n_a = len(names)
        self.truth["training"] = {
            "assessments": list(names),
            "certification_stage": {CERTIFICATIONS[s]: s for s in STAGES},
            "true_correlation_with_performance_index": {
                "final_exam": exam_loading,
                "note": "no_effects: training scores are noise; nothing predicts performance" if self.no_effects else ("final_exam = 74 + 10*(0.92*performance_index + 0.39*noise); each cert_<stage> loads 0.75 "
                         "on the rep's skill at that stage, which is driven by the performance index (and is low "
                         "for a rep's planted weak stage)."),
            },
            "best_single_hiring_trait_true_correlation": _r(max(self.truth["hiring"][
                "true_correlation_latent_trait_with_performance"].values())),
        }
        return {"rep_id": np.repeat(org.rep_id[ae], n_a), "assessment": np.tile(names, len(ae)),
                "score": scores.reshape(-1), "assessed_at": _date(np.repeat(day, n_a))}

    # ------------------------------------------------------------------ activity windows and quotas
    def _month_window(self, mi: int) -> tuple[int, int]:
        """Start and end second of month index ``mi`` (0 = first data month, negative = warm-up)."""
        j = mi + WARMUP_MONTHS
        return int(self.month_starts[j]), int(self.month_starts[j + 1])

    def _active(self, mi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """AEs employed in month ``mi``: indices, window start/end seconds and ramp-adjusted capacity."""
        org = self.org
        ms, me = self._month_window(mi)
        ae = org.ae
        lo = np.maximum(ms, org.hire_day[ae] * DAY)
        hi = np.minimum(np.minimum(me, org.leave_s[ae]), self.as_of_excl)
        ok = hi > lo
        ae, lo, hi = ae[ok], lo[ok], hi[ok]
        tenure_months = ((ms + me) / 2 - org.hire_day[ae] * DAY) / (MONTH_DAYS * DAY)
        ramp = np.clip(tenure_months / 2.5, 0.3, 1.0)
        capacity = ramp * (hi - lo) / (me - ms)
        return ae, lo, hi, capacity

    def base_customer_rate(self) -> float | np.ndarray:
        """Expected share of leads that become customers, for an average rep (per segment with segment_cadence)."""
        if self.segment_cadence:
            return (OFFER_SHARE @ self.plants.offer_stage_p.prod(axis=1)) * SEGMENT_CONNECT_MULTIPLIER
        return float(OFFER_SHARE @ self.plants.offer_stage_p.prod(axis=1))

    def quotas(self) -> dict[str, np.ndarray]:
        org = self.org
        rate = self.base_customer_rate()
        mean_mrr = SEGMENT_MRR_MEDIAN * np.exp(MRR_LOG_SD ** 2 / 2)
        out: dict[str, list[np.ndarray]] = {"rep_id": [], "month": [], "quota_mrr": []}
        for mi in range(self.months):
            ae, _, _, capacity = self._active(mi)
            seg = org.seg_idx[ae]
            seg_rate = rate[seg] if isinstance(rate, np.ndarray) else rate
            quota = np.round(LEADS_PER_REP_MONTH * SEGMENT_LEAD_VOLUME[seg] * seg_rate * mean_mrr[seg] * capacity, -1)
            out["rep_id"].append(org.rep_id[ae])
            out["month"].append(np.full(len(ae), str(self.start_month + mi), dtype=object))
            out["quota_mrr"].append(quota)
        return {k: np.concatenate(v) for k, v in out.items()}

    # ------------------------------------------------------------------ experiments
    def experiments(self) -> None:
        def day_of(m: np.datetime64) -> int:
            return int(m.astype("datetime64[D]").astype(np.int64))

        m = self.months
        s = self.start_month
        gpct = (day_of(s + max(1, m // 6)), day_of(s + max(2, m // 6 + m // 2)) - 1)
        vm = (day_of(s + max(0, m // 12)), day_of(s + max(1, m - 3)) - 1)
        price = (day_of(s + max(1, m // 2)), day_of(s + max(2, m - 1)) - 1)
        self.exp_windows = {"EXP-01": gpct, "EXP-02": vm, "EXP-03": price}
        self.exp_defs = [
            ("EXP-01", "GPCT qualifying", "Qualifying with GPCT (goals, plans, challenges, timeline) instead of BANT "
             "surfaces the buyer's real plan and raises the close rate.", "deal", "close_rate", "rate", 0.05),
            ("EXP-02", "Educational voicemail script", "Leaving an educational, personalised voicemail on the first call "
             "to ebook leads raises the connect rate.", "lead", "connect_rate", "rate", 0.03),
            ("EXP-03", "Annual-plan price anchoring", "Showing the annual plan first on the pricing call raises the MRR "
             "per deal.", "deal", "mrr_per_deal", "mean", 200.0),
        ]
        self.exp_acc = {e[0]: {"n": 0, "n_control": 0, "n_treatment": 0, "sum_control": 0.0, "sum_treatment": 0.0}
                        for e in self.exp_defs}
        self._exp4_setup(day_of(s + max(0, m - 3)))

    def _exp4_setup(self, start_day: int) -> None:
        """EXP-04: a pilot on the top half of the AEs (by true ability), randomised per rep, measured per lead.

        Everything it draws comes from its own stream (``EXP4_STREAM``), so the other tables keep their values.
        """
        org = self.org
        self.rng4 = np.random.default_rng([self.seed, EXP4_STREAM])
        ae = org.ae
        eligible = ae[(org.hire_day[ae] <= start_day) & (org.leave_day[ae] < 0)]
        top = eligible[org.perf_index[eligible] >= np.median(org.perf_index[eligible])] if len(eligible) else eligible
        reps = top[self.rng4.permutation(len(top))]
        treat = np.zeros(len(reps), dtype=bool)
        treat[: len(reps) // 2] = True
        p_control = np.minimum(EXP4_BASE_REPLY * np.exp(EXP4_REP_LOG_SD * self.rng4.standard_normal(len(reps))), 0.9)
        self.exp4 = {"start_day": start_day, "reps": reps, "treat": treat, "p_control": p_control,
                     "p_treatment": np.minimum(p_control * self.plants.exp4_multiplier, 0.95), "units": []}
        self.exp4_def = ("EXP-04", "Personalised video follow-up", "A short personalised video sent after the first "
                         "call makes more leads reply; piloted with top performers so that a failure is a true "
                         "negative.", "lead", "reply_rate", "rate", 0.03)

    def _exp4_write(self, w: dict[str, TableWriter]) -> None:
        """Assignments of EXP-04 (one row per lead of a pilot rep, cluster_id = the rep)."""
        e4 = self.exp4
        if not e4["units"]:
            e4.update(n=0, n_control=0, n_treatment=0, true_control=0.0, true_treatment=0.0)
            return
        lead_id = np.concatenate([u[0] for u in e4["units"]])
        pos = np.concatenate([u[1] for u in e4["units"]])  # index into e4["reps"]
        created = np.concatenate([u[2] for u in e4["units"]])
        treat = e4["treat"][pos]
        p = np.where(treat, e4["p_treatment"][pos], e4["p_control"][pos])
        replied = (self.rng4.random(len(pos)) < p).astype(float)
        pending = created >= self.as_of_excl - EXP4_PENDING_DAYS * DAY
        w["experiment_assignments"].write({
            "experiment_id": np.full(len(pos), "EXP-04", dtype=object), "unit_id": lead_id,
            "arm": np.where(treat, "treatment", "control").astype(object),
            "outcome": np.where(pending, np.nan, replied),
            "cluster_id": self.org.rep_id[e4["reps"][pos]]})
        e4.update(n=int(len(pos)), n_control=int((~treat).sum()), n_treatment=int(treat.sum()),
                  true_control=float(e4["p_control"][pos].mean()), true_treatment=float(e4["p_treatment"][pos].mean()),
                  n_measured=int((~pending).sum()))

    def _exp_owners(self, count: int) -> np.ndarray:
        """The experiments' leaders: the sales managers in turn."""
        managers = np.flatnonzero(self.org.role == "manager")
        return self.org.name[managers[np.arange(count) % len(managers)]].astype(object)

    def _exp_accumulate(self, exp_id: str, arm_treat: np.ndarray, potential_control: np.ndarray,
                        potential_treatment: np.ndarray) -> None:
        acc = self.exp_acc[exp_id]
        acc["n"] += int(len(arm_treat))
        acc["n_control"] += int((~arm_treat).sum())
        acc["n_treatment"] += int(arm_treat.sum())
        acc["sum_control"] += float(potential_control.sum())
        acc["sum_treatment"] += float(potential_treatment.sum())

    def _in_window(self, exp_id: str, seconds: np.ndarray) -> np.ndarray:
        lo, hi = self.exp_windows[exp_id]
        return (seconds >= lo * DAY) & (seconds < (hi + 1) * DAY)


    # ------------------------------------------------------------------ ground truth
    def ground_truth(self) -> dict[str, Any]:
        org = self.org
        rid = org.rep_id
        ae = org.ae
        truth: dict[str, Any] = {
            "generator": {
                "version": GENERATOR_VERSION, "seed": self.seed, "reps": self.n_reps, "months": self.months,
                "format": self.fmt, "start_month": str(self.start_month), "end_month": str(self.end_month),
                "as_of": str(_ts(np.array([self.as_of_excl - 1]))[0]).replace(".000000", "") + "Z",
                "warmup_months": WARMUP_MONTHS,
                "note": ("Deals and customers from leads created in the warm-up months (before start_month) are "
                         "kept with an empty lead_id, so the first month has a realistic pipeline."),
            },
            "organisation": {
                "name": "Northwind Inbound (synthetic sample)",
                "head_of_sales": str(rid[0]),
                "managers": [str(r) for r, role in zip(rid, org.role) if role == "manager"],
                "consultants": [str(r) for r in rid[org.consultants]],
                "aes_by_segment": {s: [str(r) for r in rid[ae][org.seg_idx[ae] == i]] for i, s in enumerate(SEGMENTS)},
                "left_mid_period": {"rep_id": str(rid[org.leaver]),
                                    "leave_date": str(_date(np.array([org.leave_day[org.leaver]]))[0]),
                                    "leads_taken_over_by": str(rid[org.successor[org.leaver]])},
                "new_hire": {"rep_id": str(rid[org.new_hire]),
                             "hire_date": str(_date(np.array([org.hire_day[org.new_hire]]))[0])},
            },
        }
        truth["hiring"] = self.truth["hiring"]
        truth["performance"] = {
            "description": ("performance_index: standardised true ability of each AE (mean 0, sd 1 over hires), "
                            "= sum(true_weights * latent trait) + noise. It multiplies every funnel stage rate "
                            f"by exp({self.plants.talent_stage_effect} * index), so it shows in quota attainment."),
            "performance_index": {str(rid[r]): _r(org.perf_index[r]) for r in ae},
        }
        truth["training"] = self.truth["training"]
        stage_mult = np.exp(org.stage_log_mult)
        offer_p = self.plants.offer_stage_p
        truth["funnel"] = {
            "stages": list(STAGES),
            "offer_stage_probabilities": {o: [float(x) for x in offer_p[i]] for i, o in enumerate(OFFERS)},
            "expected_rates_average_rep": {s: _r(OFFER_SHARE @ offer_p[:, i]) for i, s in enumerate(STAGES)},
            "expected_leads_per_rep_month": LEADS_PER_REP_MONTH,
            "weak_stage_multiplier": WEAK_STAGE_MULTIPLIER,
            "weak_stage_reps": {str(rid[r]): s for r, s in sorted(org.weak_stage.items())},
            "rep_stage_multipliers": {str(rid[r]): {s: _r(stage_mult[r, i]) for i, s in enumerate(STAGES)}
                                      for r in ae},
        }
        if self.segment_cadence:
            truth["funnel"]["segment_cadence"] = {
                "description": ("Every rep of a segment connects with this multiple of a lead's connect probability "
                                "and spaces unanswered calls and emails this many times further apart: a property "
                                "of the segment's leads, not a weakness of any rep."),
                "connect_multiplier": {s: float(m) for s, m in zip(SEGMENTS, SEGMENT_CONNECT_MULTIPLIER)},
                "attempt_gap_multiplier": {s: float(m) for s, m in zip(SEGMENTS, SEGMENT_ATTEMPT_GAP_MULTIPLIER)},
            }
        if self.old_weak_stage:
            truth["funnel"]["old_weak_stage"] = {
                "description": (f"These reps' stage is multiplied by {OLD_WEAK_STAGE_MULTIPLIER} for leads created "
                                f"before recent_from; leads created since (the last {OLD_WEAK_STAGE_RECENT_MONTHS} "
                                "months) are worked normally. Found only with evidence older than those months."),
                "multiplier": OLD_WEAK_STAGE_MULTIPLIER,
                "recent_from": str(self.end_month - (OLD_WEAK_STAGE_RECENT_MONTHS - 1)),
                "reps": {str(rid[r]): s for r, s in sorted(org.old_weak_stage.items())},
            }
        if self.no_effects:
            truth["funnel"]["no_effects"] = ("Every rep has the same stage rates (no talent effect, no noise, no weak "
                                             "stage) and every first offer converts at the team's average rate.")
        acc = self.churn_acc
        cons = org.consultants

        def rate(p4: np.ndarray, count: np.ndarray) -> np.ndarray:
            return np.where(count > 0, p4 / np.maximum(count, 1), np.nan)

        rep_p4 = rate(acc["rep_p4"], acc["rep_n"])
        non_pressure = np.setdiff1d(ae, org.pressure)
        truth["churn"] = {
            **({"no_effects": "one churn hazard for every rep, consultant, segment and billing term"}
               if self.no_effects else {}),
            "window_months": 4,
            "description": ("Monthly churn hazard = segment base x closing-rep factor x consultant factor x "
                            "billing factor. true_churn_within_4_months is the expected share of a rep's (or "
                            "consultant's, or billing term's) customers lost within 4 months of starting."),
            "segment_monthly_hazard": {s: float(h) for s, h in zip(SEGMENTS, self.plants.segment_monthly_churn)},
            "annual_prepay_hazard_multiplier": self.plants.annual_prepay_churn_multiplier,
            "pressure_sellers": [str(r) for r in rid[org.pressure]],
            "pressure_effects": {"close_rate_multiplier": PRESSURE_WON_MULTIPLIER,
                                 "mrr_multiplier": PRESSURE_MRR_MULTIPLIER,
                                 "churn_hazard_multiplier": PRESSURE_CHURN_MULTIPLIER,
                                 "annual_prepay_share": 0.10, "others_annual_prepay_share": 0.30},
            "rep_churn_factor": {str(rid[r]): _r(org.churn_factor[r]) for r in ae},
            "rep_true_churn_within_4_months": {str(rid[r]): _r(rep_p4[r]) for r in ae if acc["rep_n"][r] > 0},
            "pressure_sellers_mean_true_churn_within_4_months": (_r(np.nanmean(rep_p4[org.pressure]))
                                                                 if len(org.pressure) else None),
            "other_reps_mean_true_churn_within_4_months": _r(np.nanmean(rep_p4[non_pressure])),
            "consultant_factor": {str(rid[c]): _r(org.consultant_factor[c]) for c in cons},
            "consultant_true_churn_within_4_months": {
                str(rid[c]): _r(v) for c, v in zip(cons, rate(acc["cons_p4"], acc["cons_n"])[cons])},
            "best_consultant": None if self.no_effects else str(rid[cons[0]]),
            "worst_consultant": None if self.no_effects else str(rid[cons[-1]]),
            "billing_term_true_churn_within_4_months": {
                "monthly": _r(rate(acc["billing_p4"], acc["billing_n"])[0]),
                "annual_prepay": _r(rate(acc["billing_p4"], acc["billing_n"])[1])},
        }
        oa = self.offer_acc
        with np.errstate(invalid="ignore", divide="ignore"):
            offer_rate = oa["p"] / oa["n"]
            offer_value = oa["mrr"] / oa["n"]
        truth["leads"] = {
            "description": ("true_customer_rate: expected share of leads with this first offer that become customers "
                            "(the model's probability, averaged over the leads generated, before SLA plants). "
                            "expected_mrr_per_lead: that rate times the expected MRR of the deal = the value of a "
                            "lead in new MRR."),
            "first_offer": {o: {"share": float(OFFER_SHARE[i]), "n_leads": int(oa["n"][i]),
                                "true_customer_rate": _r(offer_rate[i]),
                                "expected_mrr_per_lead": _r(offer_value[i], 2)}
                            for i, o in enumerate(OFFERS) if oa["n"][i] > 0},
            "ranking_by_true_customer_rate": [OFFERS[i] for i in np.argsort(-np.nan_to_num(offer_rate), kind="stable")
                                              if oa["n"][i] > 0],
            "no_planted_effect": (["persona", "source", "first_offer", "lead_type"] if self.no_effects
                                  else ["persona", "source (beyond lead type and offer)"]),
        }
        sla = self.sla
        breakers = {k: sorted(str(x) for x in np.concatenate(v)) if v else [] for k, v in self.sla_plants.items()}
        truth["sla"] = {
            "as_of": truth["generator"]["as_of"],
            "rules": {"first_touch_hours": sla.first_touch_hours, "free_trial_min_calls": sla.free_trial_min_calls,
                      "free_trial_after_days": sla.free_trial_after_days,
                      "demo_request_age_days": sla.demo_request_age_days,
                      "demo_request_min_touches": sla.demo_request_min_touches,
                      "follow_up_idle_days": sla.follow_up_idle_days,
                      "follow_up_attempts": dict(sla.follow_up_attempts)},
            "definitions": {
                "first_touch": "no activity within first_touch_hours of created_at (including never touched)",
                "free_trial_calls": ("first_offer free_trial, created at least free_trial_after_days before as_of, "
                                     "fewer than free_trial_min_calls calls in total (so also within the window)"),
                "demo_request_touches": ("first_offer demo_request, at least demo_request_age_days old, fewer than "
                                         "demo_request_min_touches activities in total"),
                "follow_up_attempts": ("never connected (no call with outcome connected), fewer call+email attempts "
                                       "than follow_up_attempts[segment], last activity more than "
                                       "follow_up_idle_days before as_of"),
            },
            "breakers": breakers,
            "never_touched": sorted(str(x) for x in np.concatenate(self.sla_untouched)) if self.sla_untouched else [],
            "note": "Every other lead meets every rule by construction.",
        }
        exps = {}
        for e in self.exp_defs:
            a = self.exp_acc[e[0]]
            n_all = max(a["n"], 1)
            c, t = a["sum_control"] / n_all, a["sum_treatment"] / n_all
            effect = t - c
            exps[e[0]] = {
                "name": e[1], "metric": e[4], "metric_type": e[5], "success_min_lift": float(e[6]),
                "window": [str(_date(np.array([d]))[0]) for d in self.exp_windows[e[0]]],
                "n_units": a["n"], "n_control": a["n_control"], "n_treatment": a["n_treatment"],
                "true_control": _r(c), "true_treatment": _r(t), "true_effect": _r(effect),
                "real_effect": bool(abs(effect) > 1e-9),
                "meets_success_criterion": bool(effect >= e[6]),
            }
        owners = self._exp_owners(len(self.exp_defs) + 1)
        for i, e in enumerate(self.exp_defs):
            exps[e[0]].update(owner=str(owners[i]), assigned_to="random",
                              status="finished" if self.exp_windows[e[0]][1] <= self.as_of_day else "running")
        e4, d4 = self.exp4, self.exp4_def
        effect4 = e4["true_treatment"] - e4["true_control"]
        p_bar = max(e4["true_control"], 1e-9)
        exps["EXP-04"] = {
            "name": d4[1], "metric": d4[4], "metric_type": d4[5], "success_min_lift": float(d4[6]),
            "window": [str(_date(np.array([e4["start_day"]]))[0]), None],
            "n_units": e4["n"], "n_control": e4["n_control"], "n_treatment": e4["n_treatment"],
            "n_measured": e4.get("n_measured", 0),
            "true_control": _r(e4["true_control"]), "true_treatment": _r(e4["true_treatment"]),
            "true_effect": _r(effect4), "real_effect": bool(abs(effect4) > 1e-9),
            "meets_success_criterion": bool(effect4 >= d4[6]),
            "owner": str(owners[-1]), "assigned_to": "top_performers", "status": "running",
            "unit": "lead", "assigned_per": "rep", "cluster_column": "cluster_id",
            "reps": {"treatment": [str(r) for r in self.org.rep_id[e4["reps"][e4["treat"]]]],
                     "control": [str(r) for r in self.org.rep_id[e4["reps"][~e4["treat"]]]]},
            "rep_reply_rate_log_sd": EXP4_REP_LOG_SD,
            "approx_intra_cluster_correlation": _r(float(np.var(e4["p_control"])) / (p_bar * (1 - p_bar)))
            if len(e4["reps"]) > 1 else None,
            "outcome_pending_days": EXP4_PENDING_DAYS,
            "planted": (f"the video multiplies each lead's reply probability by {self.plants.exp4_multiplier}; "
                        "reps differ in "
                        "their base reply rate, so leads of one rep are correlated (analyse per rep)"),
        }
        exps["EXP-01"]["planted"] = (f"GPCT multiplies each deal's close probability by "
                                     f"{self.plants.gpct_close_multiplier}")
        if self.experiment_harm:
            exps["EXP-01"]["planted"] += ": harm (experiment_harm), the treatment is worse than control"
            exps["EXP-01"]["harm"] = True
        exps["EXP-02"]["planted"] = "no effect: the arm does not enter the simulation"
        exps["EXP-03"]["planted"] = (f"treatment multiplies MRR by {PRICING_MRR_MULTIPLIER}: a real lift, smaller "
                                     "than the pre-registered success_min_lift")
        if self.no_effects:
            for e in exps.values():
                e["planted"] = "no effect (no_effects): the treatment equals the control"

        truth["experiments"] = exps
        return truth

