"""The planted truth of the sample organisation (``sales-workbook sample``) and small numpy helpers.

Part of :mod:`helpers.data.sample` (import the public names from there): every constant the
simulation plants (trait weights, stage rates, churn, lead offers, SLA breaches, experiment
effects) is here, so a reader checks what the notebooks must recover in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_SEED = 9  # picked from seeds 1-24 as the one whose estimates sit closest to the planted truth
DEFAULT_REPS = 40
DEFAULT_MONTHS = 12
DEFAULT_END_MONTH = "2026-10"
DEFAULT_FORMAT = "parquet"
GROUND_TRUTH_FILE = "ground_truth.json"
GENERATOR_VERSION = 1

DAY = 86_400
HOUR = 3_600
MONTH_DAYS = 30.4375

# ---------------------------------------------------------------- planted truth: hiring
#: True effect of each trait's latent level (standard units) on the performance index.
TRUE_TRAIT_WEIGHTS = {
    "coachability": 0.50, "curiosity": 0.45, "intelligence": 0.45,
    "work_ethic": 0.22, "prior_success": 0.10, "aggressiveness": 0.0,
}
#: How much interviewers *believe* each trait matters: the log-odds of an offer rise by this much per
#: scorecard point. Hires are drawn with odds exp(sum of belief x mean score) (Gumbel top-k), a rule
#: that keeps independent traits independent among the hires (no selection-induced correlation).
INTERVIEWER_BELIEF = {
    "coachability": 0.05, "curiosity": 0.05, "intelligence": 0.05,
    "work_ethic": 0.20, "prior_success": 0.30, "aggressiveness": 0.45,
}
PERFORMANCE_NOISE_SD = 0.5  # part of performance no trait explains
SCORE_CENTRE, SCORE_SLOPE, SCORE_NOISE_SD, INTERVIEWER_BIAS_SD = 5.5, 1.6, 1.6, 0.8
INTERVIEWERS_PER_CANDIDATE = 3
CANDIDATES_PER_HIRE = 10

# ---------------------------------------------------------------- planted truth: training
FINAL_EXAM_LOADING = 0.92  # correlation of the final exam with the performance index
CERT_LOADING = 0.75  # correlation of a stage certification with the rep's skill at that stage
CERTIFICATIONS = {"connected": "cert_connect", "discovery": "cert_discovery", "demo": "cert_demo",
                  "won": "cert_negotiation"}

# ---------------------------------------------------------------- planted truth: funnel
STAGES = ("connected", "discovery", "demo", "won")  # names of [[funnel.stages]] in the config
TALENT_STAGE_EFFECT = 0.09  # log multiplier of each stage's rate per sd of performance index
STAGE_NOISE_SD = 0.07
WEAK_STAGE_MULTIPLIER = 0.5
PRESSURE_WON_MULTIPLIER = 1.4
PRESSURE_MRR_MULTIPLIER = 1.15
PRESSURE_CHURN_MULTIPLIER = 3.5
MAX_STAGE_P = 0.97
LEADS_PER_REP_MONTH = 100
SEGMENT_LEAD_VOLUME = np.array([1.1, 1.0, 0.7])  # small_business, mid_market, enterprise
SEGMENT_CYCLE = np.array([1.0, 1.3, 1.6])  # meeting spacing stretch
SEGMENT_CLOSE_DAYS = np.array([[3, 25], [7, 40], [14, 70]])
SEGMENT_MRR_MEDIAN = np.array([250.0, 900.0, 3200.0])
MRR_LOG_SD = 0.35
SEGMENT_MONTHLY_CHURN = np.array([0.032, 0.026, 0.02])
ANNUAL_PREPAY_CHURN_MULTIPLIER = 0.35
REP_CHURN_SD = 0.2

# ---------------------------------------------------------------- planted truth: leads
OFFERS = ("demo_request", "free_trial", "contact_us", "webinar", "ebook", "blog_subscribe", "outbound", "other")
OFFER_SHARE = np.array([0.10, 0.14, 0.10, 0.12, 0.24, 0.05, 0.20, 0.05])
#: Probability of each stage given the previous one, for a lead of each first offer and an average rep.
OFFER_STAGE_P = np.array([
    [0.80, 0.80, 0.66, 0.32],  # demo_request
    [0.65, 0.70, 0.53, 0.26],  # free_trial
    [0.65, 0.60, 0.44, 0.24],  # contact_us
    [0.45, 0.50, 0.40, 0.21],  # webinar
    [0.35, 0.45, 0.35, 0.18],  # ebook
    [0.30, 0.40, 0.31, 0.15],  # blog_subscribe
    [0.35, 0.55, 0.44, 0.21],  # outbound
    [0.45, 0.50, 0.40, 0.21],  # other
])
OFFER_EVENT = ("demo_request", "trial_start", "form_submit", "form_submit", "content_download", "form_submit",
               None, "form_submit")
SEED_SOURCES = (("referral", 0.6), ("partner", 0.25), ("direct", 0.15))
NET_SOURCES = (("organic_search", 0.35), ("paid_search", 0.2), ("social", 0.15), ("email", 0.15),
               ("event", 0.1), ("other", 0.05))
PERSONAS = (("owner_ollie", 0.35), ("marketing_mary", 0.35), ("sales_sam", 0.2), (None, 0.1))
ENGAGEMENT_EVENTS = (("page_view", 0.45), ("email_open", 0.28), ("email_click", 0.12), ("content_download", 0.08),
                     ("webinar_attend", 0.04), ("social_mention", 0.03))

# ---------------------------------------------------------------- planted truth: SLA
FIRST_TOUCH_PLANT_SHARE = 0.012
FREE_TRIAL_PLANT_SHARE = 0.08
DEMO_REQUEST_PLANT_SHARE = 0.07
FOLLOW_UP_PLANT_SHARE = 0.025

# ---------------------------------------------------------------- planted truth: experiments
GPCT_CLOSE_MULTIPLIER = 1.4
PRICING_MRR_MULTIPLIER = 1.08
#: EXP-04 (assigned per rep, measured per lead): its own random stream, so every other table keeps its values.
EXP4_STREAM = 4404
EXP4_BASE_REPLY = 0.15  # share of a typical rep's leads who reply to the follow-up without the video
EXP4_REP_LOG_SD = 0.35  # rep-to-rep spread of that share (log scale): the intra-cluster correlation
EXP4_MULTIPLIER = 1.5  # the video multiplies each lead's reply probability by this much
EXP4_PENDING_DAYS = 14  # leads younger than this at the end of the data have no outcome yet
# ---------------------------------------------------------------- other truths (opt-in switches of generate_org)
#: ``segment_cadence=True``: every rep of a segment connects less often and calls further apart (no personal weakness).
SEGMENT_CONNECT_MULTIPLIER = np.array([1.0, 0.8, 0.5])  # small_business, mid_market, enterprise: P(connected)
SEGMENT_ATTEMPT_GAP_MULTIPLIER = np.array([1.0, 1.5, 2.5])  # days between unanswered calls and emails
#: ``old_weak_stage=True``: the planted weak stages hold only in leads created before the last few months.
OLD_WEAK_STAGE_MULTIPLIER = 0.3
OLD_WEAK_STAGE_RECENT_MONTHS = 6  # leads created in the last 6 months of the data are worked normally
#: ``experiment_harm=True``: GPCT qualifying (EXP-01) lowers each deal's close probability instead.
HARM_CLOSE_MULTIPLIER = 0.6


@dataclass(frozen=True)
class Plants:
    """The effect sizes one organisation is simulated with: the sample's by default, none with ``no_effects``.

    ``generate_org(no_effects=True)`` uses :meth:`none`: no trait predicts performance and the reps do not
    differ in ability at any funnel stage (so training scores predict nothing either), interviewers are
    equally lenient, every lead type converts at the team's average rate, churn is one hazard for every
    rep, consultant, segment and billing term, and every experiment's treatment equals its control.
    ``experiment_harm=True`` swaps GPCT's lift for :data:`HARM_CLOSE_MULTIPLIER`.
    """

    trait_weights: dict = field(default_factory=lambda: dict(TRUE_TRAIT_WEIGHTS))
    interviewer_bias_sd: float = INTERVIEWER_BIAS_SD
    final_exam_loading: float = FINAL_EXAM_LOADING
    cert_loading: float = CERT_LOADING
    talent_stage_effect: float = TALENT_STAGE_EFFECT
    stage_noise_sd: float = STAGE_NOISE_SD
    offer_stage_p: np.ndarray = field(default_factory=lambda: OFFER_STAGE_P)
    segment_monthly_churn: np.ndarray = field(default_factory=lambda: SEGMENT_MONTHLY_CHURN)
    annual_prepay_churn_multiplier: float = ANNUAL_PREPAY_CHURN_MULTIPLIER
    rep_churn_sd: float = REP_CHURN_SD
    consultant_churn_sd: float = 0.15
    best_consultant_factor: float = 0.55  # a retention star
    worst_consultant_factor: float = 2.0  # a struggling consultant
    pressure_sellers: bool = True
    gpct_close_multiplier: float = GPCT_CLOSE_MULTIPLIER
    pricing_mrr_multiplier: float = PRICING_MRR_MULTIPLIER
    exp4_multiplier: float = EXP4_MULTIPLIER

    @classmethod
    def none(cls) -> "Plants":
        """No effect anywhere (``generate_org(no_effects=True)``)."""
        average_lead = np.broadcast_to(OFFER_SHARE @ OFFER_STAGE_P, OFFER_STAGE_P.shape).copy()
        return cls(trait_weights={t: 0.0 for t in TRUE_TRAIT_WEIGHTS}, interviewer_bias_sd=0.0,
                   final_exam_loading=0.0, cert_loading=0.0, talent_stage_effect=0.0, stage_noise_sd=0.0,
                   offer_stage_p=average_lead,
                   segment_monthly_churn=np.full(len(SEGMENT_MONTHLY_CHURN), float(SEGMENT_MONTHLY_CHURN.mean())),
                   annual_prepay_churn_multiplier=1.0, rep_churn_sd=0.0, consultant_churn_sd=0.0,
                   best_consultant_factor=1.0, worst_consultant_factor=1.0, pressure_sellers=False,
                   gpct_close_multiplier=1.0, pricing_mrr_multiplier=1.0, exp4_multiplier=1.0)


# ---------------------------------------------------------------- planted truth: predictable revenue (opt-in)
#: ``generate_org(revenue_roles=True)`` / ``sales-workbook sample --revenue-roles`` only; the draws use their own
#: random stream, so an organisation made without the option keeps every byte.
REVENUE_STREAM = 2207
REVENUE_ROLE_SHARES = (("market_response", 0.40), ("sdr", 0.25))  # of the quota-carrying reps; the rest: closers (ae)
SEED_SHARE_OF_INBOUND = 0.25  # share of a non-outbound lead that is a referral (seed); the rest are nets
#: Multiplier of the close-stage probability and of the days from demo to close, by lead kind.
KIND_WIN_MULTIPLIER = {"seed": 1.6, "net": 1.0, "spear": 0.55}
KIND_CYCLE_MULTIPLIER = {"seed": 0.6, "net": 1.0, "spear": 1.7}
#: Lead volume of a rep by role (x LEADS_PER_REP_MONTH); a market-response rep's month also varies (log-normal).
ROLE_LEAD_VOLUME = {"market_response": 1.6, "sdr": 1.0, "ae": 0.6}
MR_LOAD_LOG_SD = 0.35
#: Log of the close-stage probability per +100 leads a market-response rep handles that month (centred at 100).
LOAD_LOG_EFFECT_PER_100 = -0.40
#: Lead arrivals by calendar month (January first): a spring and autumn peak, a summer and December dip.
SEASON_MULTIPLIER = (0.95, 1.05, 1.20, 1.15, 1.05, 0.90, 0.75, 0.80, 1.10, 1.20, 1.05, 0.80)
WARMUP_MONTHS = 2  # simulated before the data starts so the first month has a pipeline

FIRST_NAMES = ("Avery", "Blake", "Casey", "Dana", "Elliot", "Frankie", "Gray", "Harper", "Indy", "Jordan",
               "Kai", "Logan", "Morgan", "Noor", "Oakley", "Parker", "Quinn", "Riley", "Sasha", "Taylor",
               "Uma", "Val", "Wren", "Ximena", "Yusuf", "Zoe", "Amara", "Bo", "Chen", "Deva")
LAST_NAMES = ("Abbott", "Baptiste", "Castillo", "Doyle", "Eriksen", "Fontaine", "Garcia", "Hughes", "Iwata",
              "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero", "Rossi",
              "Schmidt", "Tanaka", "Ulloa", "Varga", "Whitfield", "Xu", "Yilmaz", "Zimmer", "Adeyemi", "Brennan",
              "Costa", "Dubois")


class SampleError(ValueError):
    """The requested sample cannot be generated; the message says which argument to change."""


# ============================================================================ small helpers
def _choice(rng: np.random.Generator, options: tuple[tuple[Any, float], ...], size: int) -> np.ndarray:
    values = np.array([o for o, _ in options], dtype=object)
    probs = np.array([p for _, p in options], dtype=float)
    return values[rng.choice(len(values), size=size, p=probs / probs.sum())]


def _ids(prefix: str, start: int, count: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded sequence numbers, as a numpy string array."""
    numbers = np.arange(start, start + count).astype(str)
    return np.char.add(prefix, np.char.zfill(numbers, width)).astype(object)


def _ts(seconds: np.ndarray) -> np.ndarray:
    """Epoch seconds to UTC datetime64[us]."""
    return (np.asarray(seconds, dtype=np.int64) * 1_000_000).astype("datetime64[us]")


def _date(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]")


def _grouped_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` restarting at each group (groups are consecutive runs of ``counts``)."""
    total = np.cumsum(values)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    before = np.concatenate(([0.0], total))[starts]
    return total - before


def _within_index(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... k-1 for each group of size k."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(int(counts.sum())) - starts


def _r(x: float, digits: int = 4) -> float:
    return float(round(float(x), digits))


# ============================================================================ organisation
