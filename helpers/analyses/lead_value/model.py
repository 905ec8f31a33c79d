"""What a lead is worth, in dollars: the lead value model, the buyer matrix and the lead types.

Roberge's HubSpot replaced opinion-based lead scores ("a demo request is 50 points, an ebook 10")
with measurement: which lead attributes and behaviours actually ended in closed deals. A lead's
value is then a number a sales leader and a marketer can share::

    value = P(lead becomes a won deal) x expected MRR of its segment x expected customer lifetime (months)

Pieces, in the order the notebook uses them (``docs/lead-value.md`` gives every rule exactly):

* :func:`lead_features` (Ibis, runs in the engine): one row per lead with its attributes, counts of
  its engagement events *after* its first conversion within a feature window, and whether it had
  become a won deal by ``as_of``. Only these per-lead aggregates come into pandas.
* :func:`segment_economics` (Ibis aggregates): expected MRR of a won deal and expected customer
  lifetime per segment (exponential churn hazard = churns / customer-months, lifetime capped).
* :class:`LeadValueModel`: a logistic regression with a weak Gaussian (ridge) prior, fitted by
  Newton steps (MAP), so thin data and levels that never convert do not blow up. Holdout AUC
  (Mann-Whitney) with a DeLong interval, calibration by deciles, odds ratios with intervals.
* :func:`points_table`: points per behaviour derived from the model (10 points per doubling of
  the odds), side by side with an opinion-style points table from the configuration.
* :func:`buyer_matrix`, :func:`stage_movement`, :func:`lead_type_table`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats

from helpers.core.contract import SEGMENTS, TABLES
from helpers.data.reductions import _CASTS, UTC_TS, _instant, _ts_literal, fetch
from helpers.analyses.lead_value.stats import LeadValueError, auc_delong, calibration_table, hosmer_lemeshow
from helpers.core import intervals
from helpers.core.estimator import Estimator

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import WorkbookConfig
    from helpers.data.engine import DataSource

__all__ = [
    "ATTRIBUTES", "EVENT_TYPES", "JOURNEY_STAGES", "LeadValueError", "LeadValueModel", "LeadValueSettings",
    "NotEnoughLeadsError", "auc_delong", "buyer_matrix", "calibration_table", "lead_features", "lead_type_table",
    "points_table", "segment_economics",
    "stage_movement", "value_leads",
]

EVENT_TYPES: tuple[str, ...] = tuple(TABLES["lead_events"].column("event_type").allowed or ())
OFFERS: tuple[str, ...] = tuple(TABLES["leads"].column("first_offer").allowed or ())
JOURNEY_STAGES: tuple[str, ...] = tuple(TABLES["leads"].column("journey_stage").allowed or ())
LEAD_TYPES: tuple[str, ...] = tuple(TABLES["leads"].column("lead_type").allowed or ())
#: Lead attributes the model uses (categorical; a missing value is its own level, "(missing)").
ATTRIBUTES: tuple[str, ...] = ("first_offer", "source", "persona", "segment", "lead_type", "journey_stage")
MISSING = "(missing)"
DAYS_PER_MONTH = 365.25 / 12


class NotEnoughLeadsError(LeadValueError):
    """Too few mature leads or won deals to fit the model; the message says how many are needed."""


# --------------------------------------------------------------------------- settings
BEHAVIOUR_FORMS = ("presence", "capped", "log1p")  # how an event type's count enters the engagement model

@dataclass(frozen=True)
class LeadValueSettings:
    maturity_days: float
    feature_window_days: float
    holdout_share: float
    prior_sd: float
    lifetime_cap_months: float
    min_mature_leads: int
    min_won_leads: int
    behaviour_count_cap: int
    behaviour_form: str
    strong_odds_ratio: float
    target_band: tuple[float, float]
    journey_events: dict[str, tuple[str, ...]]
    opinion_points: dict[str, float]

    @classmethod
    def from_config(cls, config: "WorkbookConfig") -> "LeadValueSettings":
        """The ``[lead_value]`` section, validated (a bad value raises ConfigError naming file and key)."""
        s = config.settings
        low = float(s.number("lead_value.target_band_low", minimum=0, maximum=1))
        high = float(s.number("lead_value.target_band_high", minimum=1))
        journey = {stage: s.string_list(f"lead_value.journey_events.{stage}", allowed=EVENT_TYPES)
                   for stage in JOURNEY_STAGES}
        opinion = s.get("lead_value.opinion_points")
        points = {}
        for key in opinion:
            points[key] = float(s.number(f"lead_value.opinion_points.{key}"))
        return cls(
            maturity_days=float(s.number("lead_value.maturity_days", minimum=1)),
            feature_window_days=float(s.number("lead_value.feature_window_days", minimum=0)),
            holdout_share=float(s.number("lead_value.holdout_share", minimum=0.05, maximum=0.5)),
            prior_sd=float(s.number("lead_value.prior_sd", minimum=0, strict_min=True)),
            lifetime_cap_months=float(s.number("lead_value.lifetime_cap_months", minimum=1)),
            min_mature_leads=int(s.number("lead_value.min_mature_leads", integer=True, minimum=10)),
            min_won_leads=int(s.number("lead_value.min_won_leads", integer=True, minimum=2)),
            behaviour_count_cap=int(s.number("lead_value.behaviour_count_cap", integer=True, minimum=1)),
            behaviour_form=s.choice("lead_value.behaviour_form", BEHAVIOUR_FORMS),
            strong_odds_ratio=float(s.number("lead_value.strong_odds_ratio", minimum=1, strict_min=True)),
            target_band=(low, high),
            journey_events=journey,
            opinion_points=points,
        )


# --------------------------------------------------------------------------- engine reductions
def lead_features(source: "DataSource", *, as_of: Any, window_days: float) -> pd.DataFrame:
    """One row per lead created at or before ``as_of``: attributes, engagement and outcome.

    Computed in the engine. Columns: ``lead_id``, ``created_at``, the :data:`ATTRIBUTES` (missing
    values stay missing), ``ev_<event_type>`` = events of that type strictly after ``created_at``
    and before ``created_at + window_days`` (and not after ``as_of``), ``events_after``, ``won``
    (a deal of the lead with status ``won`` and ``closed_at`` at or before ``as_of``),
    ``won_mrr`` (MRR of those deals) and ``first_won_at``.

    The lead's first conversion is its ``first_offer``; the event recorded at that same instant
    is therefore not counted again (it would duplicate the offer). Without ``lead_events`` the
    event counts are 0; without ``deals`` no lead is won.
    """
    cutoff = _ts_literal(_instant(as_of, end_of_day=True))
    leads = source.table("leads")
    leads = leads.filter(leads.created_at <= cutoff)
    columns = ["lead_id", "created_at", *ATTRIBUTES]
    base = leads.select(*columns)
    ev_cols = [f"ev_{e}" for e in EVENT_TYPES]
    counts = None
    if source.has("lead_events"):  # fetched on its own: one join per query keeps the engine's memory small
        events = source.table("lead_events")
        joined = events.inner_join(base.select(lead_id="lead_id", _created="created_at"), "lead_id")
        window = ibis.interval(seconds=int(round(window_days * 86400)))
        joined = joined.filter((joined.occurred_at > joined._created) & (joined.occurred_at < joined._created + window)
                               & (joined.occurred_at <= cutoff))
        per_type = {f"ev_{e}": joined.count(where=joined.event_type == e) for e in EVENT_TYPES}
        per_lead = joined.group_by("lead_id").aggregate(events_after=joined.count(), **per_type)
        counts = _stream_frame(per_lead, {"lead_id": "str", "events_after": "int", **{c: "int" for c in ev_cols}})
    if source.has("deals"):
        deals = source.table("deals")
        deals = deals.filter(deals.lead_id.notnull() & (deals.status == "won") & deals.closed_at.notnull()
                             & (deals.closed_at <= cutoff))
        won = deals.group_by("lead_id").aggregate(won_deals=deals.count(), won_mrr=deals.mrr.sum(),
                                                  first_won_at=deals.closed_at.min())
        base = base.left_join(won, base.lead_id == won.lead_id).select(
            *columns, "won_deals", "won_mrr", "first_won_at")
    else:
        base = base.mutate(won_deals=ibis.literal(0), won_mrr=ibis.literal(0.0),
                           first_won_at=ibis.null().cast(UTC_TS))
    dtypes = {"lead_id": "str", "created_at": "ts", **{a: "str" for a in ATTRIBUTES}, "events_after": "int",
              **{c: "int" for c in ev_cols}, "won": "bool", "won_mrr": "float", "first_won_at": "ts"}
    # ordered in the engine, so the frame usually needs no reordering copy here (``_sort_lean`` checks)
    df = _stream_frame(base.order_by("lead_id"),
                       {c: k for c, k in dtypes.items() if c not in ("events_after", *ev_cols)}, prepare=_won_columns)
    # the event counts of each lead (0 without events), in the column order of the contract above
    pos = (pd.Index(counts["lead_id"]).get_indexer(df["lead_id"]) if counts is not None
           else np.full(len(df), -1, dtype=np.int64))
    hit = pos >= 0
    cols: dict[str, pd.Series] = {}
    for col in dtypes:
        if col in df.columns:
            cols[col] = df.pop(col)
        else:
            values = np.zeros(len(pos), dtype=np.int64)
            if counts is not None:
                values[hit] = counts[col].to_numpy()[pos[hit]]
            cols[col] = pd.Series(values)
    del df, counts
    return _sort_lean(pd.DataFrame(cols, copy=False), key="lead_id")


def _won_columns(df: pd.DataFrame) -> pd.DataFrame:
    df["won"] = df.pop("won_deals").fillna(0) > 0
    df["won_mrr"] = df["won_mrr"].fillna(0.0)
    return df


def _stream_frame(expr: ibis.Table, dtypes: dict[str, str], prepare=None) -> pd.DataFrame:
    """``expr``'s result typed like :func:`helpers.data.reductions._finish` (unsorted), read batch by batch."""
    pieces = []
    for batch in _batches(expr):  # streamed: the engine's result is never held whole next to the frame
        df = pa.Table.from_batches([batch]).to_pandas()
        pieces.append(_finish_columns(prepare(df) if prepare else df, dtypes))
    if not pieces:  # no rows: the engine's empty result, typed as usual
        df = fetch(expr)
        return _finish_columns(prepare(df) if prepare else df, dtypes)
    return pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)


def _batches(expr: ibis.Table, chunk_size: int = 250_000):
    """The result of ``expr`` as a stream of Arrow record batches.

    DuckDB streams through its relation's Arrow reader (the Ibis method for it does not work with
    DuckDB 2); other engines through Ibis's ``to_pyarrow_batches``; failing both, one batch from
    :func:`helpers.data.reductions.fetch`'s Arrow table.
    """
    backend = expr._find_backend()
    try:
        if hasattr(backend, "_to_duckdb_relation"):
            reader = backend._to_duckdb_relation(expr).to_arrow_reader(chunk_size)
        else:
            reader = expr.to_pyarrow_batches(chunk_size=chunk_size)
    except Exception:  # noqa: BLE001 - an engine without streaming: the whole result at once
        yield from expr.to_pyarrow().to_batches()
        return
    yield from reader


def _finish_columns(df: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """The columns of :func:`helpers.data.reductions._finish` (same order, dtypes and missing strings), unsorted,
    built one column at a time so that a frame of millions of leads is never held twice."""
    cols: dict[str, pd.Series] = {}
    for col, kind in dtypes.items():
        raw = df.pop(col)
        missing = raw.isna().to_numpy() if kind == "str" else None
        s = _CASTS[kind](raw).reset_index(drop=True)
        del raw
        if missing is not None and missing.any():
            s = s.copy()
            s[missing] = np.nan
        cols[col] = s
    return pd.DataFrame(cols, copy=False)


def _sort_lean(df: pd.DataFrame, *, key: str) -> pd.DataFrame:
    """``df`` in stable order of ``key`` with a fresh index, as ``_finish`` sorts (no copy when already sorted)."""
    if df[key].is_monotonic_increasing:
        return df.reset_index(drop=True)
    order = df[key].argsort(kind="stable").to_numpy()
    return pd.DataFrame({c: df.pop(c).take(order).reset_index(drop=True) for c in list(df.columns)}, copy=False)


def mature_leads(features: pd.DataFrame, *, as_of: Any, maturity_days: float) -> pd.DataFrame:
    """Leads created at least ``maturity_days`` before the end of ``as_of``: they have had their chance.

    Younger leads are censored (a lead from last week has not had time to close), so counting them
    as "not won" would bias every rate down; they are left out of fitting and of conversion rates.
    """
    cutoff = _instant(as_of, end_of_day=True) - pd.Timedelta(days=maturity_days)
    return features.loc[features["created_at"] <= cutoff].reset_index(drop=True)



def _with_segment(table, lead_key: str, lead_seg):
    """``_seg``: the lead's segment where the lead is known, else the rep's (``_rep_seg``)."""
    if lead_seg is None:
        return table.mutate(_seg=table._rep_seg)
    table = table.left_join(lead_seg, table[lead_key] == lead_seg._lid)
    return table.mutate(_seg=ibis.coalesce(table._lead_seg, table._rep_seg))

def segment_economics(source: "DataSource", *, as_of: Any, lifetime_cap_months: float,
                      level: float = 0.95) -> pd.DataFrame:
    """Expected MRR of a won deal and expected customer lifetime, per segment (aggregated in the engine).

    A deal's or customer's segment is its lead's segment, else its rep's (``reps.segment``).
    One row per segment of the contract plus ``all``: ``won_deals``, ``mean_mrr`` with a t interval
    (``mrr_ci_low``/``mrr_ci_high``), ``customers``, ``churned`` (``churn_date`` at or before
    ``as_of``), ``customer_months`` of exposure (start to churn or ``as_of``),
    ``monthly_churn`` = churned / customer_months (the exponential model's maximum-likelihood
    hazard, which counts customers still active correctly as censored) and
    ``lifetime_months`` = E[min(T, cap)] = (1 - exp(-h * cap)) / h (= cap when nobody churned).
    A segment with fewer than 10 won deals or customers borrows the pooled (``all``) figure
    (``pooled`` = True) rather than show a number resting on a handful of deals.
    """
    as_of_ts = _instant(as_of, end_of_day=True)
    cutoff = _ts_literal(as_of_ts)
    as_of_date = ibis.literal(as_of_ts.date())
    reps = source.table("reps").select(_rid="rep_id", _rep_seg="segment")
    lead_seg = (source.table("leads").select(_lid="lead_id", _lead_seg="segment") if source.has("leads") else None)
    deals = source.table("deals")
    deals = deals.filter((deals.status == "won") & deals.closed_at.notnull() & (deals.closed_at <= cutoff))
    d = _with_segment(deals.left_join(reps, deals.rep_id == reps._rid), "lead_id", lead_seg)
    d = d.mutate(_seg=d._seg.fill_null("all_unknown"))
    mrr = d.group_by(segment=d._seg).aggregate(won_deals=d.count(), mrr_sum=d.mrr.sum(),
                                               mrr_sq=(d.mrr * d.mrr).sum()).to_pandas()
    cust = pd.DataFrame(columns=["segment", "customers", "churned", "customer_days"])
    if source.has("customers"):
        c = source.table("customers")
        c = c.filter(c.start_date <= as_of_date)
        all_deals = source.table("deals").select(_did="deal_id", _dlead="lead_id", _drep="rep_id")
        c = c.left_join(all_deals, c.deal_id == all_deals._did)
        c = _with_segment(c.left_join(reps, c.closing_rep_id == reps._rid), "_dlead", lead_seg)
        churned = c.churn_date.notnull() & (c.churn_date <= as_of_date)
        end = ibis.ifelse(churned, c.churn_date, as_of_date)
        c = c.mutate(_seg=c._seg.fill_null("all_unknown"), _churned=churned,
                     _days=end.delta(c.start_date, unit="day"))
        cust = c.group_by(segment=c._seg).aggregate(customers=c.count(), churned=c.count(where=c._churned),
                                                    customer_days=c._days.sum()).to_pandas()
    merged = mrr.merge(cust, on="segment", how="outer")
    for col in ("won_deals", "mrr_sum", "mrr_sq", "customers", "churned", "customer_days"):
        merged[col] = pd.to_numeric(merged[col], errors="coerce").fillna(0.0)
    total = merged[["won_deals", "mrr_sum", "mrr_sq", "customers", "churned", "customer_days"]].sum()
    rows = []
    for seg in (*SEGMENTS, "all"):  # four rows, not data
        r = total if seg == "all" else (merged.loc[merged["segment"] == seg].iloc[0] if (merged["segment"] == seg).any()
                                        else pd.Series(0.0, index=total.index))
        rows.append({"segment": seg, **{k: float(r[k]) for k in total.index}})
    out = pd.DataFrame(rows)
    n = out["won_deals"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_mrr"] = out["mrr_sum"] / n
        var = (out["mrr_sq"] - n * out["mean_mrr"] ** 2) / (n - 1)
        se = np.sqrt(var.clip(lower=0) / n)
        t = stats.t.ppf(0.5 + level / 2, (n - 1).clip(lower=1))
        out["mrr_ci_low"], out["mrr_ci_high"] = out["mean_mrr"] - t * se, out["mean_mrr"] + t * se
        out["customer_months"] = out["customer_days"] / DAYS_PER_MONTH
        out["monthly_churn"] = out["churned"] / out["customer_months"]
    cap = float(lifetime_cap_months)
    h = out["monthly_churn"]
    out["lifetime_months"] = np.where(h > 0, (1 - np.exp(-h * cap)) / h.where(h > 0), cap)
    out.loc[out["customers"] == 0, "lifetime_months"] = np.nan
    pooled = out.iloc[-1]
    thin = (out["won_deals"] < 10) | (out["customers"] < 10)
    out["pooled"] = thin & (out["segment"] != "all")
    for col in ("mean_mrr", "mrr_ci_low", "mrr_ci_high", "monthly_churn", "lifetime_months"):
        out.loc[out["pooled"], col] = pooled[col]
    out["value_per_won_lead"] = out["mean_mrr"] * out["lifetime_months"]
    for col in ("won_deals", "customers", "churned"):
        out[col] = out[col].astype("int64")
    return out[["segment", "won_deals", "mean_mrr", "mrr_ci_low", "mrr_ci_high", "customers", "churned",
                "customer_months", "monthly_churn", "lifetime_months", "value_per_won_lead", "pooled"]]


# --------------------------------------------------------------------------- the model
def _level_counts(col: pd.Series) -> pd.Series:
    """Leads per level of an attribute column (a missing value counts as the level ``(missing)``)."""
    counts = col.value_counts(dropna=False)
    counts = counts[counts > 0]
    labels = [MISSING if pd.isna(v) else str(v) for v in counts.index]
    return pd.Series(counts.to_numpy(), index=labels).groupby(level=0).sum()


def _holdout_mask(lead_ids: pd.Series, share: float) -> np.ndarray:
    """Deterministic holdout by a hash of the lead id, so a lead stays on its side between runs and engines.

    pandas' ``hash_pandas_object`` (SipHash with a fixed key) is vectorised and the same on every
    machine and run; no Python loop over leads.
    """
    hashed = pd.util.hash_pandas_object(pd.Series(lead_ids, dtype="str").reset_index(drop=True), index=False)
    return (hashed.to_numpy() % np.uint64(10_000)).astype(np.int64) < int(round(share * 10_000))


class LeadValueModel(Estimator):
    """P(a lead becomes a won deal) from its attributes and (optionally) its behaviours.

    Logistic regression with a Gaussian prior N(0, ``prior_sd``^2) on every coefficient but the
    intercept (ridge penalty 1/(2 prior_sd^2) * beta^2), fitted by Newton-Raphson to the maximum a
    posteriori; intervals from the inverse penalised Hessian (Laplace approximation). With
    ``prior_sd=inf`` it is the plain maximum-likelihood fit (the tests pin it to statsmodels' Logit).
    The prior keeps estimates finite when a level never converts (separation) and shrinks levels
    seen on few leads towards "no effect", which is what thin data deserves.

    Categorical attributes get one indicator per level; the reference level (odds ratio 1) is the
    most common one. Behaviours enter per event type as ``behaviour_form`` says: ``"presence"`` (the
    default: 1 if the lead did it at least once in the window, so exp(beta) is the odds ratio of doing
    it), ``"capped"`` (the count, capped at ``count_cap``; each occurrence multiplies the odds by
    exp(beta)) or ``"log1p"`` (log(1 + count)). Either way the model is an additive points score.
    Presence is the default because counts assume every extra occurrence adds the same log-odds, which
    over-predicts the busiest leads: on the holdout leads of the bundled sample the capped counts put
    6 of 10 deciles outside their 95% interval, presence 1 (and at most 1 on three other generated
    orgs), for an AUC lower by about 0.01. ``fit`` keeps ``holdout_share`` of the leads aside (by a
    hash of the lead id), measures AUC and calibration on them, then refits on all leads for the
    coefficients that are reported and used.
    """

    def __init__(self, *, prior_sd: float = 2.5, holdout_share: float = 0.3, behaviours: bool = True,
                 attributes: tuple[str, ...] = ATTRIBUTES, confidence_level: float = 0.95,
                 strong_odds_ratio: float = 1.5, count_cap: int = 5, behaviour_form: str = "presence",
                 max_iter: int = 100):
        if not prior_sd > 0:
            raise LeadValueError(f"prior_sd must be > 0 (use math.inf for no penalty), got {prior_sd!r}")
        if not 0 <= holdout_share < 1:
            raise LeadValueError(f"holdout_share must be in [0, 1), got {holdout_share!r}")
        if behaviour_form not in BEHAVIOUR_FORMS:
            raise LeadValueError(f"behaviour_form must be one of {', '.join(BEHAVIOUR_FORMS)}, got {behaviour_form!r}")
        self.behaviour_form = behaviour_form
        self.prior_sd = prior_sd
        self.holdout_share = holdout_share
        self.behaviours = behaviours
        self.attributes = tuple(attributes)
        self.confidence_level = confidence_level
        self.strong_odds_ratio = strong_odds_ratio
        self.count_cap = count_cap
        self.max_iter = max_iter

    # -- design -----------------------------------------------------------------------
    def _design_spec(self, df: pd.DataFrame) -> None:
        self.levels_: dict[str, list[str]] = {}
        self.reference_: dict[str, str] = {}
        for attr in self.attributes:
            counts = _level_counts(df[attr])
            if len(counts) == 0:
                continue
            ref = sorted(counts.index[counts == counts.max()])[0]
            self.reference_[attr] = ref
            self.levels_[attr] = sorted(v for v in counts.index if v != ref)
        self.behaviour_columns_ = []
        if self.behaviours:
            self.behaviour_columns_ = [f"ev_{e}" for e in EVENT_TYPES
                                       if f"ev_{e}" in df.columns and df[f"ev_{e}"].to_numpy().max(initial=0) > 0]

    def _design(self, df: pd.DataFrame) -> np.ndarray:
        """The per-lead design matrix (float, one row per lead). Kept for checks; fitting uses :meth:`_patterns`."""
        codes, inverse = self._patterns(df)
        return self._pattern_design(codes)[inverse]

    def _codes(self, df: pd.DataFrame) -> list[np.ndarray]:
        """Small integers per lead, one array per design block: the attribute level (0 = reference or a level
        never seen in fitting, j = the j-th non-reference level) and each behaviour's count as the model
        sees it (0/1 for presence, capped count, raw count for log1p)."""
        out = []
        for attr, levels in self.levels_.items():
            col = df[attr]
            index = pd.Index(levels, dtype=object)
            if isinstance(col.dtype, pd.CategoricalDtype):
                cat = col.cat.codes.to_numpy()
                code = np.where(cat >= 0, index.get_indexer(col.cat.categories.astype(str))[cat], -1)
            else:
                code = index.get_indexer(col.astype(object).where(col.notna(), None))
            code = code.astype(np.int32) + 1
            if MISSING in levels:
                code[col.isna().to_numpy()] = levels.index(MISSING) + 1
            out.append(code)
        for c in self.behaviour_columns_:
            v = np.asarray(df[c].to_numpy(), dtype=np.int64)
            if self.behaviour_form == "presence":
                v = (v > 0).astype(np.int64)
            elif self.behaviour_form == "capped":
                v = np.minimum(v, self.count_cap)
            out.append(v)
        return out

    def _patterns(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Distinct design rows: ``codes`` (patterns x blocks, int64) and ``inverse`` (pattern of each lead).

        Leads with the same attribute levels and behaviour values have the same design row, so they are
        exchangeable in the likelihood: fitting on the patterns with binomial counts is the same fit.
        """
        blocks = self._codes(df)
        n = len(df)
        if not blocks:
            return np.zeros((1 if n else 0, 0), dtype=np.int64), np.zeros(n, dtype=np.int64)
        lows = [int(b.min(initial=0)) for b in blocks]
        radices = [int(b.max(initial=0)) - lo + 1 for b, lo in zip(blocks, lows)]
        if math.prod(radices) < 2 ** 62:  # one int64 key per lead (mixed radix), grouped by a 1-d unique
            key = np.zeros(n, dtype=np.int64)
            for b, lo, r in zip(blocks, lows, radices):
                key *= r
                key += b - lo
            uniq, inverse = np.unique(key, return_inverse=True)
            codes = np.empty((len(uniq), len(blocks)), dtype=np.int64)
            for j in range(len(blocks) - 1, -1, -1):
                codes[:, j] = uniq % radices[j] + lows[j]
                uniq = uniq // radices[j]
        else:  # pragma: no cover - huge counts under log1p: row-wise unique
            codes, inverse = np.unique(np.column_stack(blocks), axis=0, return_inverse=True)
        return codes, inverse.reshape(-1)

    def _pattern_design(self, codes: np.ndarray) -> np.ndarray:
        cols = [np.ones(len(codes))]
        j = 0
        for levels in self.levels_.values():
            cols.extend((codes[:, j] == i).astype(float) for i in range(1, len(levels) + 1))
            j += 1
        transform = {"presence": lambda v: v, "capped": lambda v: v, "log1p": np.log1p}[self.behaviour_form]
        cols.extend(transform(codes[:, j + i].astype(float)) for i in range(len(self.behaviour_columns_)))
        return np.column_stack(cols)

    @property
    def terms_(self) -> list[tuple[str, str]]:
        """(factor, level) of each coefficient after the intercept."""
        out = [(attr, level) for attr, levels in self.levels_.items() for level in levels]
        return out + [("behaviour", c[3:]) for c in self.behaviour_columns_]

    def _fit_map(self, x: np.ndarray, trials: np.ndarray, successes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """MAP fit on distinct design rows ``x`` with binomial counts (``trials`` leads, ``successes`` won):
        gradient X'(k - m p) - penalty beta, Hessian X' diag(m p (1 - p)) X + penalty, the same as one row
        per lead."""
        keep = trials > 0
        x, m, kwon = x[keep], trials[keep].astype(float), successes[keep].astype(float)
        k = x.shape[1]
        penalty = np.full(k, 0.0 if math.isinf(self.prior_sd) else 1.0 / self.prior_sd ** 2)
        penalty[0] = 0.0
        rate = min(max(kwon.sum() / m.sum(), 1e-4), 1 - 1e-4)
        beta = np.zeros(k)
        beta[0] = math.log(rate / (1 - rate))
        for _ in range(self.max_iter):
            eta = np.clip(x @ beta, -35, 35)
            p = 1 / (1 + np.exp(-eta))
            w = m * p * (1 - p)
            grad = x.T @ (kwon - m * p) - penalty * beta
            hess = (x * w[:, None]).T @ x + np.diag(penalty)
            try:
                step = np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                raise LeadValueError("the lead value model cannot be fitted: some lead attributes are perfectly "
                                     "collinear and there is no prior; set [lead_value] prior_sd to a finite "
                                     "value (e.g. 2.5)") from None
            beta = beta + step
            if np.max(np.abs(step)) < 1e-8:
                break
        eta = np.clip(x @ beta, -35, 35)
        p = 1 / (1 + np.exp(-eta))
        hess = (x * (m * p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        return beta, np.linalg.pinv(hess)

    # -- public API -------------------------------------------------------------------
    def fit(self, leads: pd.DataFrame, *, min_leads: int = 200, min_won: int = 20) -> "LeadValueModel":
        """Fit on mature leads (a :func:`lead_features` frame already filtered by :func:`mature_leads`)."""
        missing = [c for c in ("lead_id", "won", *self.attributes) if c not in leads.columns]
        if missing:
            raise LeadValueError(f"the leads frame lacks column(s) {', '.join(missing)}; build it with "
                                 "helpers.analyses.lead_value.model.lead_features")
        y_all = leads["won"].astype(bool).to_numpy()
        n, won = len(leads), int(y_all.sum())
        if n < min_leads or won < min_won:
            raise NotEnoughLeadsError(
                f"only {n:,} mature leads with {won:,} won deals; the lead value model needs at least "
                f"{min_leads:,} leads and {min_won:,} won (set [lead_value] min_mature_leads / min_won_leads, "
                "or wait for more history)")
        self._design_spec(leads)
        hold = _holdout_mask(leads["lead_id"], self.holdout_share) if self.holdout_share > 0 else np.zeros(n, bool)
        codes, inverse = self._patterns(leads)
        x = self._pattern_design(codes)
        npat = len(codes)
        trials = np.bincount(inverse, minlength=npat)
        successes = np.bincount(inverse, weights=y_all, minlength=npat)
        self.n_patterns_ = npat
        self.n_train_, self.n_holdout_ = int((~hold).sum()), int(hold.sum())
        self.auc_ = self.auc_ci_ = None
        self.calibration_ = None
        self.holdout_predictions_ = None
        if self.n_holdout_ and y_all[hold].any() and not y_all[hold].all() and y_all[~hold].any():
            inv_hold = inverse[hold]
            hold_trials = np.bincount(inv_hold, minlength=npat)
            hold_successes = np.bincount(inv_hold, weights=y_all[hold], minlength=npat)
            beta, _ = self._fit_map(x, trials - hold_trials, successes - hold_successes)
            p_hold = (1 / (1 + np.exp(-np.clip(x @ beta, -35, 35))))[inv_hold]
            auc, low, high = auc_delong(p_hold, y_all[hold], self.confidence_level)
            self.auc_, self.auc_ci_ = auc, (low, high)
            self.calibration_ = calibration_table(p_hold, y_all[hold], level=self.confidence_level)
            self.hosmer_lemeshow_ = hosmer_lemeshow(self.calibration_)
            self.holdout_predictions_ = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy()[hold],
                                                      "predicted": p_hold, "won": y_all[hold]})
        self.coef_, self.cov_ = self._fit_map(x, trials, successes)
        self.n_leads_, self.n_won_ = n, won
        self.summary_ = self._summary()
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise LeadValueError("the model is not fitted yet: call .fit(leads) first")

    def predict_proba(self, leads: pd.DataFrame) -> np.ndarray:
        """P(won) for each lead; levels never seen in fitting count as the reference level."""
        self._check_fitted()
        codes, inverse = self._patterns(leads)
        return (1 / (1 + np.exp(-np.clip(self._pattern_design(codes) @ self.coef_, -35, 35))))[inverse]

    def _summary(self) -> pd.DataFrame:
        z = stats.norm.ppf(0.5 + self.confidence_level / 2)
        se = np.sqrt(np.diag(self.cov_))[1:]
        beta = self.coef_[1:]
        terms = self.terms_
        df = pd.DataFrame({"factor": [t[0] for t in terms], "level": [t[1] for t in terms], "coef": beta, "se": se})
        df["reference"] = [self.reference_.get(f, "never") for f in df["factor"]]
        df["odds_ratio"] = np.exp(beta)
        df["or_ci_low"], df["or_ci_high"] = np.exp(beta - z * se), np.exp(beta + z * se)
        lo, hi = 1 / self.strong_odds_ratio, self.strong_odds_ratio
        df["strong"] = ((df["or_ci_low"] > 1) & (df["odds_ratio"] >= hi)) | ((df["or_ci_high"] < 1) & (df["odds_ratio"] <= lo))
        return df

    def strong_factors(self) -> list[str]:
        """Factors (attribute names, or ``behaviour``) with at least one strong level."""
        self._check_fitted()
        return sorted(set(self.summary.loc[self.summary["strong"], "factor"]))

    def not_strong_factors(self) -> list[str]:
        """Attributes the model could judge (two or more values among the leads) and found no strong level in."""
        self._check_fitted()
        strong = set(self.strong_factors())
        return [a for a in self.attributes if self.levels_.get(a) and a not in strong]

    def unjudged_factors(self) -> list[str]:
        """Attributes the model could not judge: one value (or none) among the leads, e.g. a column the export
        left out or filled with one default. Not the same as "not a strong factor"."""
        self._check_fitted()
        return [a for a in self.attributes if not self.levels_.get(a)]

    def plot(self, ax=None, *, top: int = 15):
        """Forest plot of the largest odds ratios with their intervals (log scale)."""
        from helpers.analyses.lead_value.plots import plot_odds_ratios

        return plot_odds_ratios(self.summary, ax=ax, top=top)


# --------------------------------------------------------------------------- value in dollars
def value_leads(leads: pd.DataFrame, model: LeadValueModel, economics: pd.DataFrame) -> pd.DataFrame:
    """``leads`` with ``p_won``, ``expected_mrr``, ``lifetime_months``, ``value_mrr`` (= p_won x MRR,
    new MRR expected) and ``value`` (= value_mrr x lifetime: dollars over the customer's life)."""
    econ = economics.set_index("segment")
    out = leads.copy()
    out["p_won"] = model.predict_proba(leads)
    seg = out["segment"].where(out["segment"].isin(econ.index), "all")
    out["expected_mrr"] = seg.map(econ["mean_mrr"]).astype(float)
    out["lifetime_months"] = seg.map(econ["lifetime_months"]).astype(float)
    out["value_mrr"] = out["p_won"] * out["expected_mrr"]
    out["value"] = out["value_mrr"] * out["lifetime_months"]
    return out


# --------------------------------------------------------------------------- points
def points_table(model: LeadValueModel, opinion_points: dict[str, float]) -> pd.DataFrame:
    """Data-derived points per behaviour and first offer, next to the opinion-style table.

    Points = 10 per doubling of the odds of becoming a customer, ``10 * log2(odds ratio)``: for a
    behaviour, for doing it at least once (``behaviour_form="presence"``), per occurrence up to the cap
    (``"capped"``) or per unit of log(1 + count) (``"log1p"``); for a first offer, relative to the
    reference offer (the most common one, 0 points). Interval in the same units. Items never seen
    in the data get no data points (NaN). ``opinion_points`` keys are first offers or, if not a
    first offer, event types (so ``demo_request`` is the first offer).
    """
    model._check_fitted()
    z = stats.norm.ppf(0.5 + model.confidence_level / 2)
    s = model.summary
    rows = []
    for key, opinion in opinion_points.items():  # a short configured table
        scale = 10.0 / math.log(2)
        if key in OFFERS:
            kind, hit = "first offer", s[(s["factor"] == "first_offer") & (s["level"] == key)]
        else:
            kind, hit = "behaviour", s[(s["factor"] == "behaviour") & (s["level"] == key)]
        if kind == "first offer" and hit.empty and model.reference_.get("first_offer") == key:
            pts, low, high = 0.0, 0.0, 0.0
        elif hit.empty:
            pts = low = high = np.nan
        else:
            b, se = float(hit["coef"].iloc[0]), float(hit["se"].iloc[0])
            pts, low, high = scale * b, scale * (b - z * se), scale * (b + z * se)
        rows.append({"kind": kind, "item": key, "opinion_points": float(opinion), "data_points": pts,
                     "ci_low": low, "ci_high": high})
    df = pd.DataFrame(rows)
    df["opinion_rank"] = df["opinion_points"].rank(ascending=False, method="min")
    df["data_rank"] = df["data_points"].rank(ascending=False, method="min")
    return df


def points_agreement(points: pd.DataFrame) -> float:
    """Spearman rank correlation between opinion and data points (NaN with fewer than 3 items)."""
    known = points.dropna(subset=["data_points"])
    if len(known) < 3:
        return float("nan")
    return float(stats.spearmanr(known["opinion_points"], known["data_points"]).statistic)


# --------------------------------------------------------------------------- buyer matrix
def _rate_table(df: pd.DataFrame, keys: list[str], level: float) -> pd.DataFrame:
    g = df.groupby(keys, dropna=False)
    out = g.agg(mature_leads=("won", "size"), won=("won", "sum"), value_per_lead=("value", "mean")).reset_index()
    out["won"] = out["won"].astype("int64")
    out["conversion"] = out["won"] / out["mature_leads"]
    out["ci_low"], out["ci_high"] = intervals.wilson_interval(out["won"], out["mature_leads"], level=level)
    return out


def buyer_matrix(valued_mature: pd.DataFrame, month_leads: pd.DataFrame, *, target_band: tuple[float, float],
                 small_n: int, level: float = 0.95) -> pd.DataFrame:
    """Persona x journey stage (at creation): volume, conversion, value and a hand-off recommendation.

    ``valued_mature``: mature leads with ``won`` and ``value`` (:func:`value_leads`);
    ``month_leads``: the leads created in the report's month (volume). Missing persona or stage is
    its own row, ``(missing)``. Conversion = won / mature leads with a Wilson interval. The target
    band is ``target_band`` x the overall conversion of mature leads. ``recommendation``:
    ``pass earlier`` when the whole interval is above the band (these buyers are ready: hand them to
    sales at this stage), ``pass later`` when it is wholly below (nurture in marketing first),
    ``too few leads`` under ``small_n`` mature leads, else ``keep``.
    """
    keys = ["persona", "journey_stage"]
    mature = valued_mature.assign(**{k: valued_mature[k].fillna(MISSING) for k in keys})
    table = _rate_table(mature, keys, level)
    month = month_leads.assign(**{k: month_leads[k].fillna(MISSING) for k in keys})
    vol = month.groupby(keys).size().rename("leads_in_month").reset_index()
    table = table.merge(vol, on=keys, how="outer")
    table["leads_in_month"] = table["leads_in_month"].fillna(0).astype("int64")
    table["mature_leads"] = table["mature_leads"].fillna(0).astype("int64")
    table["won"] = table["won"].fillna(0).astype("int64")
    overall = mature["won"].mean() if len(mature) else np.nan
    low, high = target_band[0] * overall, target_band[1] * overall
    table["target_low"], table["target_high"] = low, high
    rec = np.where(table["mature_leads"] < small_n, "too few leads",
                   np.where(table["ci_low"] > high, "pass earlier",
                            np.where(table["ci_high"] < low, "pass later", "keep")))
    table["recommendation"] = rec
    return table.sort_values(keys, ignore_index=True)


def stage_movement(source: "DataSource", *, as_of: Any, journey_events: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """How far leads moved along the buyer journey, from their stage at creation (engine aggregate).

    A lead's stage reached by ``as_of`` is the furthest of its stage at creation and the stages of
    its events up to ``as_of`` (each event type maps to a stage through ``[lead_value.journey_events]``;
    unmapped types do not move anyone). Leads without a stage at creation start at their first
    event's stage. One row per (``from_stage``, ``to_stage``) with ``leads``; ``from_stage`` is
    ``(missing)`` when the lead had no stage and no mapped event.
    """
    cutoff = _ts_literal(_instant(as_of, end_of_day=True))
    rank = {stage: i for i, stage in enumerate(JOURNEY_STAGES, start=1)}
    leads = source.table("leads")
    leads = leads.filter(leads.created_at <= cutoff)
    start_rank = leads.journey_stage.cases(*[(s, r) for s, r in rank.items()], else_=0)
    base = leads.select("lead_id", _start=start_rank)
    mapping = [(e, rank[stage]) for stage, evs in journey_events.items() for e in evs]
    if source.has("lead_events") and mapping:
        ev = source.table("lead_events")
        ev = ev.filter((ev.occurred_at <= cutoff) & ev.event_type.isin([e for e, _ in mapping]))
        ev = ev.mutate(_r=ev.event_type.cases(*mapping, else_=0))
        top = ev.group_by("lead_id").aggregate(_ev=ev._r.max())
        base = base.left_join(top, base.lead_id == top.lead_id).select("lead_id", "_start", _ev=top._ev.fill_null(0))
    else:
        base = base.mutate(_ev=ibis.literal(0))
    base = base.mutate(_end=ibis.greatest(base._start, base._ev))
    counts = base.group_by(["_start", "_end"]).aggregate(leads=base.count()).to_pandas()
    names = {0: MISSING, **{r: s for s, r in rank.items()}}
    out = pd.DataFrame({"from_stage": counts["_start"].map(names), "to_stage": counts["_end"].map(names),
                        "leads": counts["leads"].astype("int64")})
    out["moved_forward"] = counts["_end"].to_numpy() > counts["_start"].to_numpy()
    return out.sort_values(["from_stage", "to_stage"], ignore_index=True)


# --------------------------------------------------------------------------- lead types
def lead_type_table(valued_mature: pd.DataFrame, month_leads: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Seeds, nets and spears: volume in the month, conversion (mature leads, Wilson interval), value per
    lead, and cycle time = days from lead creation to the first won deal (median of won leads, with a
    distribution-free interval from the binomial order statistics; NaN with fewer than 3 won)."""
    table = _rate_table(valued_mature, ["lead_type"], level)
    vol = month_leads.groupby("lead_type").size().rename("leads_in_month").reset_index()
    table = table.merge(vol, on="lead_type", how="outer")
    for col in ("leads_in_month", "mature_leads", "won"):
        table[col] = table[col].fillna(0).astype("int64")
    won = valued_mature.loc[valued_mature["won"]]
    days = (won["first_won_at"] - won["created_at"]).dt.total_seconds() / 86400
    med, low, high = [], [], []
    for lt in table["lead_type"]:  # three lead types
        d = np.sort(days[won["lead_type"] == lt].dropna().to_numpy())
        m, lo, hi = _median_ci(d, level)
        med.append(m), low.append(lo), high.append(hi)
    table["cycle_days_median"], table["cycle_ci_low"], table["cycle_ci_high"] = med, low, high
    return table.sort_values("lead_type", ignore_index=True)


def _median_ci(sorted_values: np.ndarray, level: float) -> tuple[float, float, float]:
    n = len(sorted_values)
    if n < 3:
        return (float(np.median(sorted_values)) if n else np.nan), np.nan, np.nan
    lo = int(stats.binom.ppf((1 - level) / 2, n, 0.5))
    hi = int(stats.binom.ppf(1 - (1 - level) / 2, n, 0.5))
    return float(np.median(sorted_values)), float(sorted_values[max(lo - 1, 0)]), float(sorted_values[min(hi, n - 1)])
