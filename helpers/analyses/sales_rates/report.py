"""Notebook 00, sales rates: ``analyse(report)`` runs every part the data supports; the notebook shows them.

The parts (:data:`helpers.core.contract.ANALYSIS_PARTS` ``["00_sales_rates"]``) need only what thin real
exports hold: win rate by seller (deals with a seller and an outcome), the funnel by rep and by source
(leads and their deals), conversion by call attempt (a call log with outcomes), and a lead's value as
its chance of winning (in dollars only when deal amounts exist). A part whose data is absent is one
line on the page; the others run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from helpers.analyses.sales_rates import model as m
from helpers.core.contract import ANALYSIS_PARTS, part_note, part_status
from helpers.core.intervals import rates_differ_p_value

if TYPE_CHECKING:  # pragma: no cover
    from helpers.reporting.context import ReportContext

__all__ = ["NOTEBOOK", "SalesRatesAnalysis", "SalesRatesSettings", "analyse"]

NOTEBOOK = "00_sales_rates"


@dataclass(frozen=True)
class SalesRatesSettings:
    """What the page uses from the configuration."""

    confidence_level: float = 0.95
    small_sample_n: int = 30
    max_attempt: int = 10
    connected_outcomes: tuple[str, ...] = ("connected",)

    @classmethod
    def from_config(cls, config: Any) -> "SalesRatesSettings":
        stage = next((s for s in config.funnel_stages if s.name == "connected" and s.outcomes), None)
        return cls(confidence_level=float(config.confidence_level), small_sample_n=int(config.small_sample_n),
                   max_attempt=int(config.settings.number("sla.max_attempt_analysed", integer=True, minimum=1)),
                   connected_outcomes=tuple(stage.outcomes) if stage else ("connected",))


def _pct(rate: float) -> str:
    return "n/a" if pd.isna(rate) else f"{rate:.0%}"


def _ci(low: float, high: float) -> str:
    return "" if pd.isna(low) else f"{low:.0%}-{high:.0%}"


@dataclass
class SalesRatesAnalysis:
    """Everything notebook 00 shows, computed once (see :func:`analyse`)."""

    settings: SalesRatesSettings
    parts: list[dict[str, Any]]
    win_rates: pd.DataFrame | None = None
    funnel_owner: pd.DataFrame | None = None
    funnel_source: pd.DataFrame | None = None
    attempts: pd.DataFrame | None = None
    lead_value: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    # ---- parts
    def ran(self, part: str) -> bool:
        return any(p["name"] == part and p["ran"] for p in self.parts)

    def parts_text(self) -> str:
        """One line per part not shown (empty when every part ran)."""
        return " ".join(part_note(p) for p in self.parts if not p["ran"])

    @property
    def summary(self) -> pd.DataFrame:
        """One row per part: whether it ran, what it lacked, and its headline rate with n."""
        rows = []
        for p in self.parts:
            rate, n = float("nan"), 0
            frame = {"win_rate_by_seller": self.win_rates, "funnel_by_owner": self.funnel_owner,
                     "funnel_by_source": self.funnel_source, "lead_win_probability": self.lead_value}.get(p["name"])
            if p["ran"] and frame is not None and len(frame):
                top = frame.iloc[0]
                rate = top.get("win_rate", top.get("lead_win_rate", top.get("p_win")))
                if p["name"].startswith("funnel"):
                    rate = top["lead_win_rate"]
                n = int(top.get("closed", top.get("leads", 0)))
            if p["name"] == "conversion_by_attempt" and p["ran"] and self.attempts is not None:
                first = self.attempts.iloc[0]
                rate, n = first["connect_rate"], int(first["reached"])
            rows.append({"part": p["name"], "label": p["label"], "ran": p["ran"],
                         "missing": ", ".join(p["missing"]), "rate": rate, "n": n})
        return pd.DataFrame(rows)

    # ---- sentences
    def win_rate_text(self) -> str:
        if not self.ran("win_rate_by_seller"):
            return ""
        w = self.win_rates
        total = w.iloc[0]
        if total["closed"] == 0:
            return "No deal is won or lost yet, so there is no win rate to show."
        text = (f"{int(total['won']):,} of {int(total['closed']):,} closed deals were won "
                f"({_pct(total['win_rate'])}, {self.level_text} interval {_ci(total['ci_low'], total['ci_high'])}).")
        sellers = w.iloc[1:]
        judged = sellers[sellers["closed"] >= self.settings.small_sample_n]
        if len(judged) >= 2:
            best, worst = judged.loc[judged["win_rate"].idxmax()], judged.loc[judged["win_rate"].idxmin()]
            p_differ = rates_differ_p_value(judged["won"], judged["closed"])
            differ = p_differ is not None and p_differ < 1 - self.settings.confidence_level
            tested = "" if p_differ is None else f" (chi-square test across the {len(judged)} sellers, p = {p_differ:.2g})"
            text += (f" Among the {len(judged)} sellers with at least {self.settings.small_sample_n} closed deals, "
                     f"{best['name']} wins {_pct(best['win_rate'])} and {worst['name']} {_pct(worst['win_rate'])}; "
                     + (f"sellers' win rates differ beyond chance{tested}." if differ else
                        f"win rates do not differ between sellers beyond chance{tested}, so the gap between the "
                        "highest and the lowest may be luck."))
        elif len(sellers):
            text += (f" No seller has {self.settings.small_sample_n} closed deals yet, so sellers are not compared "
                     "(the table shows each with its interval).")
        if pd.isna(total["won_mrr"]):
            text += " No deal amounts are in the data, so wins are counted, not valued in dollars."
        return text

    @property
    def level_text(self) -> str:
        return f"{self.settings.confidence_level:.0%}"

    def funnel_text(self, by: str = "owner") -> str:
        part, f = ("funnel_by_owner", self.funnel_owner) if by == "owner" else ("funnel_by_source", self.funnel_source)
        if not self.ran(part):
            return ""
        total = f.iloc[0]
        if total["leads"] == 0:
            return "No leads in the data up to the report's date."
        text = (f"{int(total['leads']):,} leads: {int(total['with_deal']):,} became deals "
                f"({_pct(total['deal_rate'])}) and {int(total['won']):,} customers ({_pct(total['lead_win_rate'])} of "
                f"leads, {self.level_text} interval {_ci(total['lead_win_ci_low'], total['lead_win_ci_high'])}).")
        groups = f.iloc[1:]
        if len(groups) == 1:
            text += (" Every lead has the same " + ("owner" if by == "owner" else "source")
                     + ", so there is nothing to compare.")
        return text

    def attempt_text(self) -> str:
        if not self.ran("conversion_by_attempt"):
            return ""
        a = self.attempts
        called = a.attrs.get("leads_called", 0)
        if called == 0:
            return "The call log holds no calls up to the report's date."
        first = a.iloc[0]
        connects = int(a["connected"].sum())
        if connects == 0:
            return (f"{called:,} leads were called, and none connected: no outcome in the log counts as a "
                    f"connect ({', '.join(self.settings.connected_outcomes)}); map yours onto `connected` in "
                    "[categories] outcome.")
        text = (f"{called:,} leads were called; {_pct(first['connect_rate'])} connected on the first call "
                f"({self.level_text} interval {_ci(first['connect_ci_low'], first['connect_ci_high'])}).")
        later = a[(a["attempt"] > 1) & (a["reached"] >= self.settings.small_sample_n)]
        if len(later):
            last = later.iloc[-1]
            text += (f" Of the {int(last['reached']):,} still unconnected at call {int(last['attempt'])}, "
                     f"{_pct(last['connect_rate'])} connected on it.")
        won = int(a["won"].sum())
        if won:
            text += f" {won:,} of the {connects:,} connected leads became customers."
        return text

    def lead_value_text(self) -> str:
        if not self.ran("lead_win_probability"):
            return ""
        v = self.lead_value
        total = v.iloc[0]
        if total["leads"] == 0 or total["won"] == 0:
            return "No lead has become a customer yet, so a lead's value cannot be estimated."
        groups = v.iloc[1:][v.iloc[1:]["leads"] >= self.settings.small_sample_n]
        head = (f"A lead becomes a customer {_pct(total['p_win'])} of the time ({int(total['won']):,} of "
                f"{int(total['leads']):,})")
        if v.attrs.get("money"):
            head += f", worth ${total['value_mrr']:,.0f} of new MRR on average"
        else:
            head += "; no deal amounts are known, so value is the chance of winning, not dollars"
        if len(groups) >= 2:
            best = groups.loc[groups["p_win"].idxmax()]
            head += f". Best source: {best['group'].replace('_', ' ')} ({_pct(best['p_win'])}, n = {int(best['leads']):,})"
        return head + "."

    # ---- tables
    def win_rate_table(self) -> pd.DataFrame | None:
        if not self.ran("win_rate_by_seller"):
            return None
        w = self.win_rates
        out = pd.DataFrame({"Seller": w["name"], "Closed deals": w["closed"], "Won": w["won"],
                            "Win rate": [_pct(r) for r in w["win_rate"]],
                            f"{self.level_text} interval": [_ci(lo, hi) for lo, hi in zip(w["ci_low"], w["ci_high"])]})
        if w["won_mrr"].notna().any():
            out["Won MRR"] = [f"${v:,.0f}" for v in w["won_mrr"]]
        return out.set_index("Seller").rename_axis(None)

    def funnel_table(self, by: str = "owner") -> pd.DataFrame | None:
        f = self.funnel_owner if by == "owner" else self.funnel_source
        if f is None:
            return None
        label = f["name"] if by == "owner" else f["group"].str.replace("_", " ")
        out = pd.DataFrame({"Rep" if by == "owner" else "Source": label, "Leads": f["leads"],
                            "Deals": f["with_deal"], "Won": f["won"],
                            "Lead to deal": [_pct(r) for r in f["deal_rate"]],
                            "Deal won": [_pct(r) for r in f["win_rate"]],
                            "Lead to customer": [f"{_pct(r)} ({_ci(lo, hi)})" for r, lo, hi in
                                                 zip(f["lead_win_rate"], f["lead_win_ci_low"], f["lead_win_ci_high"])]})
        return out.set_index(out.columns[0]).rename_axis(None)

    def attempt_table(self) -> pd.DataFrame | None:
        if self.attempts is None:
            return None
        a = self.attempts[self.attempts["reached"] > 0]
        cap = self.attempts.attrs.get("last_attempt_pooled")
        return pd.DataFrame({
            "Call": [f"{k}+" if k == cap else str(k) for k in a["attempt"]],
            "Leads still unconnected": a["reached"], "Connected on it": a["connected"],
            "Connect rate": [f"{_pct(r)} ({_ci(lo, hi)})" for r, lo, hi in
                             zip(a["connect_rate"], a["connect_ci_low"], a["connect_ci_high"])],
            "Became customers": a["won"]}).set_index("Call").rename_axis(None)

    # ---- results
    def record(self, recorder: Any) -> None:
        """Headline, key figure, per-part findings and detail tables into the results file."""
        lvl = self.settings.confidence_level
        texts = [t for t in (self.win_rate_text(), self.funnel_text("owner"), self.attempt_text(),
                             self.lead_value_text()) if t]
        recorder.headline(texts[0] if texts else "The data supports none of the sales-rate parts: "
                          + self.parts_text())
        for t in texts[1:]:
            recorder.finding(t)
        if self.win_rates is not None and self.win_rates.iloc[0]["closed"] > 0:
            t = self.win_rates.iloc[0]
            recorder.key_figure("win_rate", "Closed deals won", float(t["win_rate"]), unit="share",
                                n=int(t["closed"]), ci=(float(t["ci_low"]), float(t["ci_high"])), ci_level=lvl)
        elif self.attempts is not None and self.attempts.iloc[0]["reached"] > 0:
            t = self.attempts.iloc[0]
            recorder.key_figure("first_call_connect_rate", "Leads connected on the first call",
                                float(t["connect_rate"]), unit="share", n=int(t["reached"]),
                                ci=(float(t["connect_ci_low"]), float(t["connect_ci_high"])), ci_level=lvl)
        recorder.table("parts", self.summary[["part", "label", "ran", "missing"]])
        for name, frame in (("win_rate_by_seller", self.win_rates), ("funnel_by_owner", self.funnel_owner),
                            ("funnel_by_source", self.funnel_source), ("conversion_by_attempt", self.attempts),
                            ("lead_win_probability", self.lead_value)):
            if frame is not None:
                recorder.table(name, frame)


def analyse(report: "ReportContext", **params: Any) -> SalesRatesAnalysis:
    """Run every part of notebook 00 the report's data supports, as of the report's date."""
    settings = SalesRatesSettings.from_config(report.config)
    return analyse_source(report.source, settings, as_of=report.as_of)


def analyse_source(source: Any, settings: SalesRatesSettings, *, as_of: Any = None) -> SalesRatesAnalysis:
    """:func:`analyse` on a data source directly (tests, analysts)."""
    parts = part_status(ANALYSIS_PARTS[NOTEBOOK], source.has, source.present_columns)
    out = SalesRatesAnalysis(settings=settings, parts=parts)
    lvl = settings.confidence_level
    if out.ran("win_rate_by_seller"):
        out.win_rates = m.win_rate_by_seller(source, as_of=as_of, level=lvl)
    if out.ran("funnel_by_owner"):
        out.funnel_owner = m.funnel_by(source, "owner", as_of=as_of, level=lvl)
    if out.ran("funnel_by_source"):
        out.funnel_source = m.funnel_by(source, "source", as_of=as_of, level=lvl)
    if out.ran("conversion_by_attempt"):
        out.attempts = m.conversion_by_attempt(source, as_of=as_of, max_attempt=settings.max_attempt,
                                               connected=settings.connected_outcomes, level=lvl)
    if out.ran("lead_win_probability"):
        out.lead_value = m.lead_win_probability(source, "source", as_of=as_of, level=lvl)
    return out
