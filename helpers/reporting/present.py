"""How numbers, codes and tables look on a leadership page: one place, used by every report.

A sales leader reads "Final exam", "$2,515" and "112%", never ``final_exam``, ``2515.000`` or
``1.121``; a missing value is a dash, never ``NaN``/``<NA>``/``None``; a long sentence in a table
wraps instead of being cut with "..."; a chart is as tall as its rows need. The analyst notebooks
keep the raw frames (their ``.summary``); these helpers only shape what the page shows.

- :func:`label`: the human name of a code (column, stage, segment, persona), from the config's
  funnel-stage labels, a short list of the contract's columns, and finally the words of the code.
- :func:`format_value` / :func:`format_frame`: money, percentages, counts and ratios by kind.
- :func:`plain_interval`: an interval in plain words, or one number when the interval is degenerate.
- :func:`figure_height`: a figure's height in inches from the number of rows it draws.
- :func:`present_table_html`: the last pass over a rendered table (labels, dashes, long decimals).
"""
from __future__ import annotations

import html as _html
import math
import re
from typing import Any, Iterable, Literal, Mapping

Kind = Literal["money", "percent", "share", "count", "ratio", "text"]

DASH = "\u2013"

#: Codes whose words alone would read badly; everything else is spelled out from the code itself.
KNOWN_LABELS: dict[str, str] = {
    "rep_id": "Rep", "candidate_id": "Candidate", "lead_id": "Lead", "deal_id": "Deal", "customer_id": "Customer",
    "experiment_id": "Experiment", "interviewer_id": "Interviewer", "closing_rep_id": "Closing rep",
    "owner_rep_id": "Owning rep", "csm_rep_id": "Customer success rep",
    "mrr": "MRR", "new_mrr": "New MRR", "arr": "ARR", "acv": "ACV", "sdr": "SDR", "ae": "Account executive",
    "csm": "Customer success", "smb": "Small business", "mid_market": "Mid-market", "enterprise": "Enterprise",
    "final_exam": "Final exam", "cert_connect": "Certification: connect", "cert_discovery": "Certification: discovery",
    "cert_demo": "Certification: demo", "cert_close": "Certification: close", "cert_prospecting": "Certification: prospecting",
    "demo_request": "Demo request", "trial_start": "Trial start", "content_download": "Content download",
    "page_view": "Page view", "email_open": "Email opened", "email_click": "Email clicked",
    "inbound": "Inbound", "outbound": "Outbound", "ci_low": "Low end (95%)", "ci_high": "High end (95%)",
    "p_value": "p-value", "n": "Number", "n_hires": "Hires", "n_reps": "Reps", "work_ethic": "Work ethic",
    "prior_success": "Prior success", "customers.closing_rep_id": "the closing rep of each customer",
}
_ACRONYMS = {"mrr": "MRR", "arr": "ARR", "sla": "SLA", "sdr": "SDR", "ae": "AE", "id": "ID", "crm": "CRM",
             "roi": "ROI", "ltv": "LTV", "acv": "ACV", "vif": "VIF", "auc": "AUC", "ci": "CI"}
_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$|^[a-z]+\.[a-z_]+$")
_MONEY_WORDS = ("mrr", "revenue", "payout", "pay", "commission", "earned", "clawback", "value", "dollars", "arr",
                "acv", "salary", "bonus", "carry")
_PERCENT_WORDS = ("rate", "share", "attainment", "percent", "pct", "churn")
_COUNT_WORDS = ("count", "leads", "reps", "hires", "deals", "customers", "units", "calls", "touches", "rows",
                "candidates", "n_")


def label(code: Any, *, config: Any = None, extra: Mapping[str, str] | None = None) -> str:
    """The words a reader sees for ``code``: ``final_exam`` -> "Final exam", ``mid_market`` -> "Mid-market".

    ``extra`` (e.g. persona or segment names) and the config's funnel-stage labels come first; a value
    that is not a code (already words, a number, a name) is returned as it is.
    """
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return DASH
    text = str(code)
    key = text.strip()
    lower = key.lower()
    if extra and key in extra:
        return extra[key]
    if config is not None:
        for stage in getattr(config, "funnel_stages", None) or getattr(config, "funnel", ()) or ():
            if getattr(stage, "name", None) == key:
                return str(stage.label)
    if lower in KNOWN_LABELS:
        return KNOWN_LABELS[lower]
    if re.fullmatch(r"cert_[a-z0-9_]+", lower):  # any certification, not only the known stages
        return "Certification: " + lower[5:].replace("_", " ")
    if re.fullmatch(r"[a-z]+", key):  # a lower-case code of one word ("intelligence", "smb"): capitalised
        return _ACRONYMS.get(key, key.capitalize())
    if not _CODE.match(key):
        return text
    words = re.split(r"[_.]+", lower)
    words = [_ACRONYMS.get(w, w) for w in words if w]
    if words and words[-1] == "ID" and len(words) > 1:
        words = words[:-1]
    out = " ".join(words)
    return out[:1].upper() + out[1:]


def words(code: Any, **kw: Any) -> str:
    """:func:`label` for the middle of a sentence: ``connect_rate`` -> "connect rate", ``mrr_per_deal`` ->
    "MRR per deal" (an acronym keeps its capitals); a value that is not a code is returned as typed."""
    text = label(code, **kw)
    if text == str(code):  # a name the data chose: as typed
        return text
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def name_label(code: Any) -> str:
    """A persona or other *name* code as words in title case: ``marketing_mary`` -> "Marketing Mary".

    A value the data already spell with capitals (``Marketing Mary``, ``CFO Carl``) is kept as it is.
    """
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return DASH
    text = str(code).strip()
    if re.fullmatch(r"[a-z0-9_ .-]+", text) and re.search(r"[a-z]", text):
        words = [w for w in re.split(r"[_ ]+", text) if w]
        return " ".join(_ACRONYMS.get(w, w[:1].upper() + w[1:]) for w in words)
    return text


def labels(codes: Iterable[Any], **kw: Any) -> list[str]:
    return [label(c, **kw) for c in codes]


def kind_of(name: Any) -> Kind:
    """Guess how a column's values are shown from its name (money, percent, count, ratio)."""
    lower = str(name).lower()
    if "$" in lower or any(w in lower for w in _MONEY_WORDS):
        return "money"
    if "%" in lower or any(w in lower for w in _PERCENT_WORDS):
        return "share"
    if any(w in lower for w in _COUNT_WORDS):
        return "count"
    return "ratio"


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def format_value(value: Any, kind: Kind = "ratio", *, digits: int = 3) -> str:
    """``value`` as a reader sees it: ``money`` "$2,515", ``percent`` (already in %) "12%", ``share``
    (a fraction) "112%", ``count`` "1,987", ``ratio`` three significant digits; missing -> a dash."""
    if is_missing(value):
        return DASH
    if isinstance(value, str) or kind == "text":
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(x):
        return DASH
    if kind == "money":
        sign = "-" if x < 0 else ""
        return f"{sign}${abs(x):,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{sign}${abs(x):,.2f}"
    if kind == "percent":
        return f"{x:,.0f}%" if abs(x) >= 10 else f"{x:,.1f}%"
    if kind == "share":
        return f"{100 * x:,.0f}%" if abs(x) >= 0.1 else f"{100 * x:,.1f}%"
    if kind == "count":
        return f"{x:,.0f}"
    if x.is_integer() and abs(x) >= 1:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def format_frame(frame: Any, kinds: Mapping[str, Kind] | None = None, *, config: Any = None,
                 relabel: bool = True) -> Any:
    """A copy of ``frame`` with every value formatted by its column's kind and codes replaced by labels.

    ``kinds`` names the kind of some columns; the others are guessed from their names
    (:func:`kind_of`) when numeric, and text columns get :func:`label` for code-like values.
    """
    import pandas as pd

    kinds = dict(kinds or {})
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        series = frame[column]
        kind = kinds.get(column)
        if kind is None:
            kind = kind_of(column) if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series) \
                else "text"
        if kind == "text":
            out[column] = series.map(lambda v: DASH if is_missing(v) else label(v, config=config))
        else:
            out[column] = series.map(lambda v, k=kind: format_value(v, k))
    if relabel:
        out.columns = [label(c, config=config) for c in out.columns]
        out.index = [label(i, config=config) if isinstance(i, str) else i for i in out.index]
        if frame.index.name:
            out.index.name = label(frame.index.name, config=config)
    return out


def plain_interval(low: Any, high: Any, *, kind: Kind = "ratio", level: float = 0.95, what: str = "") -> str:
    """An interval in plain words: "how sure: 95 in 100 similar months would fall between $1 and $2".

    A degenerate interval (both ends equal after formatting) is said as one number with the reason,
    never "between $179,094 and $179,094"; a missing end says the interval is not known.
    """
    if is_missing(low) or is_missing(high):
        return "no interval: too few data to say how sure"
    a, b = format_value(low, kind), format_value(high, kind)
    hundred = round(100 * level)
    if a == b:
        return f"{a}, with no measurable uncertainty from the data (every case gave the same answer)"
    subject = f"{what} " if what else ""
    return f"how sure: in {hundred} of 100 similar samples {subject}would fall between {a} and {b}"


def figure_height(rows: int, *, per_row: float = 0.38, base: float = 1.4, minimum: float = 2.4,
                  maximum: float = 9.0) -> float:
    """Height in inches of a chart with ``rows`` bars or lines: sized to draw them, never a blank page."""
    return float(min(maximum, max(minimum, base + per_row * max(int(rows), 0))))


STATISTIC_MEANINGS: dict[str, str] = {
    "SD per SD": "how many standard deviations success moves when the score moves by one standard deviation",
    "cross-validated R²": "how much of the differences between hires the formula predicts for hires it did not see",
    "VIF": "how much two traits overlap (above 5: they measure nearly the same thing)",
    "AUC": "how well the score ranks a winner above a loser (0.5 is a coin toss, 1 is perfect)",
    "Newcombe interval": "the range a difference between two rates plausibly lies in",
    "Mann-Whitney": "a test that compares typical values without letting a few huge deals dominate",
    "p-value": "how surprising the result would be if nothing had changed (small = surprising)",
    "95% interval": "the range the true value lies in, 95 times in 100",
}


# ----------------------------------------------------------------------------- rendered HTML tables
_TD = re.compile(r"(<t[dh]\b[^>]*>)(.*?)(</t[dh]>)", re.DOTALL | re.IGNORECASE)
_MISSING_CELL = re.compile(r"^\s*(?:NaN|&lt;NA&gt;|<NA>|None|NaT|null|n/?a)\s*$", re.IGNORECASE)  # "none" too
_LONG_DECIMAL = re.compile(r"^\s*(-?)(\d+)\.(\d{3,})\s*$")


def present_cell(text: str) -> str:
    """One rendered table cell's text, made readable: missing -> dash, code -> label, long decimals rounded."""
    if _MISSING_CELL.match(text):
        return DASH
    stripped = text.strip()
    if "<" in stripped:  # markup inside (links, emphasis): only missing words are replaced
        return re.sub(r"(?<![\w&])(?:NaN|&lt;NA&gt;|None)(?![\w;])", DASH, text)
    decimal = _LONG_DECIMAL.match(stripped)
    if decimal:
        x = float(stripped)
        return format_value(x, "ratio")
    if _CODE.match(_html.unescape(stripped)) or re.fullmatch(r"[a-z]+", stripped):
        return _html.escape(label(_html.unescape(stripped)))
    return re.sub(r"(?<![\w&])(?:NaN|&lt;NA&gt;|None)(?![\w;])", DASH, text)


def present_table_html(table_html: str) -> str:
    """Every ``<td>``/``<th>`` of ``table_html`` passed through :func:`present_cell`."""
    return _TD.sub(lambda m: m.group(1) + present_cell(m.group(2)) + m.group(3), table_html)


# ----------------------------------------------------------------------------- figures
def plain_log_ticks(axis: Any) -> None:
    """A log axis labelled 0.5, 1, 2, 10, 1,000 instead of 10^0 / 10^-1 (``axis``: ``ax.xaxis`` or ``ax.yaxis``)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    def words(x: float, _pos: Any = None) -> str:
        if x <= 0:
            return ""
        return f"{x:,.0f}" if x >= 1 and float(x).is_integer() else f"{x:.3g}"

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(words))
    axis.set_minor_formatter(NullFormatter())


def wrap_tick_labels(ax: Any, *, axis: str = "x", width: int = 14) -> None:
    """Category tick labels wrapped on words so that neighbours never run together ("within 5 min5 min to ...")."""
    import textwrap

    get = ax.get_xticklabels if axis == "x" else ax.get_yticklabels
    labels = [textwrap.fill(t.get_text(), width=width) for t in get()]
    if axis == "x":
        ax.set_xticks(ax.get_xticks(), labels)
    else:
        ax.set_yticks(ax.get_yticks(), labels)


def legend_outside(ax: Any, **kw: Any) -> Any:
    """The legend to the right of the plot, never on top of lines or whiskers."""
    handles, names = ax.get_legend_handles_labels()
    if not handles:
        return None
    return ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                     fontsize=kw.pop("fontsize", 8), **kw)
