"""The data contract: every table, every column, in one declarative place.

This module is the single source of truth for what a data folder holds. Validation
(:mod:`helpers.data.validate`) builds its pandera schemas from it, the data engine reads
files with the types declared here, the sample generator writes exactly these columns,
and ``docs/data-contract.md`` is generated from it (a test keeps them in sync).

A data folder holds one file per table, named ``<table>.csv``, ``<table>.csv.gz`` or
``<table>.parquet``. Only ``reps`` is required; every analysis declares the tables it
needs (:data:`ANALYSIS_TABLES`) and says so on the page when one is missing.

Conventions
-----------
* Identifiers are strings (CRM ids such as ``0035g00000AbCdE`` are not numbers).
* Timestamps are UTC. A timestamp with an explicit offset is converted to UTC; a naive
  one is taken as UTC.
* Dates are ``YYYY-MM-DD``. Months are ``YYYY-MM``.
* Category values are lower-case ``snake_case``. Most category columns are *open vocabularies*
  (``open_vocabulary=True``): the listed values are the ones the analyses know, any other value is
  kept as its own level (an empty cell reads ``unknown``), listed in a validation note and mappable
  onto a known value in the configuration (``[categories] source = {direct_traffic = "direct"}``).
  Only columns whose values drive the logic (deal status, experiment arm ...) are closed sets.
* A column is required only when no number can be computed without it (ids, the outcome of a deal,
  the arm of an experiment unit). An optional column absent from the data reads as empty, or as its
  ``fill`` (a constant, or ``=other_column``), and the analyses say what they did without it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

# tables each numbered report needs and uses (ANALYSIS_TABLES) live in the one registry of reports
from helpers.core.registry import ANALYSIS_TABLES

DType = Literal["string", "int", "float", "date", "timestamp", "month", "bool"]

SEGMENTS = ("small_business", "mid_market", "enterprise")


@dataclass(frozen=True)
class Column:
    """One column of a table in the contract."""

    name: str
    dtype: DType
    description: str
    required: bool = True  # the column must be present in the file
    nullable: bool = False  # empty cells allowed
    allowed: tuple[str, ...] | None = None  # closed set of category values
    unique: bool = False
    min_value: float | None = None
    max_value: float | None = None
    references: str | None = None  # "table.column" this value must exist in
    used_by: tuple[str, ...] = ()  # notebooks / features that read it
    # category columns: True = values outside `allowed` are kept as their own level (a validation note, not an error)
    open_vocabulary: bool = False
    # what the engine reads when the column is absent from the data: a constant, or "=<column>" (a copy of it)
    fill: str | None = None
    # what the analyses do without the column (shown in docs/data-contract.md); empty for required columns
    when_absent: str = ""


@dataclass(frozen=True)
class Table:
    """One table of the contract: a file in the data folder."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    required: bool = False
    grain: str = ""  # what one row is
    # pairs (earlier, later): the later timestamp may not precede the earlier one
    ordered: tuple[tuple[str, str], ...] = field(default=())

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def open_columns(self) -> list[str]:
        """Category columns whose unknown values are kept (open vocabularies)."""
        return [c.name for c in self.columns if c.allowed and c.open_vocabulary]


ALL = ("01", "02", "03", "04", "05", "06")

TABLES: dict[str, Table] = {}


def _table(table: Table) -> Table:
    TABLES[table.name] = table
    return table


_table(Table(
    name="reps",
    required=True,
    grain="one row per person on the sales or customer-success team, past or present",
    description="Everyone who sells or serves customers: SDRs, account executives, managers, post-sale consultants.",
    primary_key=("rep_id",),
    ordered=(("hire_date", "leave_date"),),
    columns=(
        Column("rep_id", "string", "Stable id of the person (CRM user id).", unique=True, used_by=ALL),
        Column("name", "string", "Display name shown in reports.", required=False, nullable=True, fill="=rep_id",
               when_absent="the rep_id is shown instead", used_by=ALL),
        Column("team", "string", "Team or pod the rep belongs to.", required=False, nullable=True, used_by=("03", "04")),
        Column("manager_id", "string", "rep_id of the rep's manager.", required=False, nullable=True,
               references="reps.rep_id", used_by=("03",)),
        Column("role", "string", "Job role.", allowed=("sdr", "ae", "manager", "consultant", "other"),
               required=False, nullable=True, open_vocabulary=True, fill="ae",
               when_absent="everyone is taken as a quota-carrying seller (`ae`)", used_by=ALL),
        Column("segment", "string", "Market segment the rep sells to.", required=False, nullable=True,
               allowed=SEGMENTS, open_vocabulary=True, when_absent="one segment for everyone",
               used_by=("03", "04", "05")),
        Column("hire_date", "date", "First day in the role.", required=False, nullable=True,
               when_absent=("tenure counts from the rep's first quota month (else first activity or deal), "
                            "with a note on the page"), used_by=("01", "02", "03")),
        Column("leave_date", "date", "Last day, empty while the rep is still employed.", required=False,
               nullable=True, used_by=("01", "02", "03")),
    ),
))

_table(Table(
    name="quotas",
    grain="one row per rep per month",
    description="Monthly quota of new monthly recurring revenue (MRR) per rep.",
    primary_key=("rep_id", "month"),
    columns=(
        Column("rep_id", "string", "The rep carrying the quota.", references="reps.rep_id", used_by=("01", "02", "03")),
        Column("month", "month", "Calendar month, YYYY-MM.", used_by=("01", "02", "03")),
        Column("quota_mrr", "float", "New MRR the rep is expected to close that month.", min_value=0,
               used_by=("01", "02", "03")),
    ),
))

_table(Table(
    name="hiring_scores",
    grain="one row per candidate x interviewer x trait",
    description=("Interview scorecards. Every candidate interviewed, hired or not; hired candidates carry the "
                 "rep_id they became, so that their scores can be traced to later performance."),
    primary_key=("candidate_id", "interviewer", "trait"),
    columns=(
        Column("candidate_id", "string", "Id of the candidate (the same across interviewers).", used_by=("01",)),
        Column("interviewer", "string", "Who scored (name or id).", used_by=("01",)),
        Column("trait", "string", ("Scorecard trait, lower-case snake_case. Must be one of the traits listed in the "
                                   "configuration ([hiring] traits)."), used_by=("01", "02")),
        Column("score", "int", "Score on the 1-10 scale defined on the scorecard.", min_value=1, max_value=10,
               used_by=("01", "02")),
        Column("interview_date", "date", "Date of the interview.", used_by=("01",)),
        Column("rep_id", "string", "rep_id of the hired candidate; empty for candidates not hired.",
               required=False, nullable=True, references="reps.rep_id", used_by=("01", "02")),
    ),
))

_table(Table(
    name="training_scores",
    grain="one row per rep per assessment",
    description=("Scores from new-hire training: the end-of-training exam and one certification per sales-process "
                 "stage (connect call, discovery call, presentation ...)."),
    primary_key=("rep_id", "assessment"),
    columns=(
        Column("rep_id", "string", "The trainee.", references="reps.rep_id", used_by=("02",)),
        Column("assessment", "string", ("What was assessed: `final_exam` or `cert_<stage>` (e.g. `cert_connect`, "
                                        "`cert_discovery`, `cert_demo`)."), used_by=("02",)),
        Column("score", "float", "Score as a percentage, 0-100.", min_value=0, max_value=100, used_by=("02",)),
        Column("assessed_at", "date", "Date of the assessment.", used_by=("02",)),
    ),
))

_table(Table(
    name="leads",
    grain="one row per lead (a person who raised a hand or was prospected)",
    description="Every lead marketing or prospecting produced, with how it first converted.",
    primary_key=("lead_id",),
    columns=(
        Column("lead_id", "string", "Stable id of the lead.", unique=True, used_by=("03", "05")),
        Column("created_at", "timestamp", "When the lead was created (UTC).", used_by=("03", "05")),
        Column("source", "string", "Channel the lead came from.",
               allowed=("organic_search", "paid_search", "social", "email", "referral", "event", "partner",
                        "outbound", "direct", "other"), required=False, nullable=True, open_vocabulary=True,
               fill="unknown", when_absent="one source, `unknown`", used_by=("03", "05")),
        Column("lead_type", "string", ("Predictable Revenue's three kinds: `seed` (word of mouth, referrals), `net` "
                                       "(marketing campaigns), `spear` (outbound prospecting)."),
               allowed=("seed", "net", "spear"), required=False, nullable=True, open_vocabulary=True,
               fill="unknown", when_absent="one lead type, `unknown` (counted towards marketing's goal only when "
               "listed in [marketing] lead_types)", used_by=("05",)),
        Column("persona", "string", "Buyer persona (e.g. owner_ollie, marketing_mary).", required=False,
               nullable=True, used_by=("05",)),
        Column("journey_stage", "string", "Buyer-journey stage when the lead was created.", required=False,
               nullable=True, allowed=("awareness", "consideration", "decision"), open_vocabulary=True,
               used_by=("05",)),
        Column("segment", "string", "Market segment of the lead's company.", allowed=SEGMENTS, required=False,
               nullable=True, open_vocabulary=True, when_absent="the owner's segment, else one segment for all",
               used_by=("03", "05")),
        Column("first_offer", "string", "The first conversion offer the lead took.",
               allowed=("demo_request", "free_trial", "contact_us", "webinar", "ebook", "blog_subscribe",
                        "outbound", "other"), required=False, nullable=True, open_vocabulary=True,
               fill="unknown", when_absent="one offer, `unknown`", used_by=("05",)),
        Column("owner_rep_id", "string", "Rep who owns the lead; empty while unassigned.", required=False,
               nullable=True, references="reps.rep_id", used_by=("03", "05")),
    ),
))

_table(Table(
    name="lead_events",
    grain="one row per engagement event of a lead",
    description="Marketing engagement: page views, downloads, demo requests, trial starts, email opens and clicks.",
    primary_key=("event_id",),
    columns=(
        Column("event_id", "string", "Stable id of the event.", unique=True, used_by=("05",)),
        Column("lead_id", "string", "The lead who engaged.", references="leads.lead_id", used_by=("05",)),
        Column("occurred_at", "timestamp", "When it happened (UTC).", used_by=("05",)),
        Column("event_type", "string", "What the lead did.",
               allowed=("page_view", "content_download", "demo_request", "trial_start", "email_open",
                        "email_click", "webinar_attend", "form_submit", "social_mention"), open_vocabulary=True,
               used_by=("05",)),
    ),
))

_table(Table(
    name="activities",
    grain="one row per sales touch (call, email or meeting)",
    description="Every sales touch logged in the CRM. The largest table: tens of millions of rows at a big company.",
    primary_key=("activity_id",),
    columns=(
        Column("activity_id", "string", "Stable id of the activity.", unique=True, used_by=("03", "05")),
        Column("rep_id", "string", "Rep who made the touch.", references="reps.rep_id", used_by=("03", "05")),
        Column("lead_id", "string", "Lead touched.", references="leads.lead_id", used_by=("03", "05")),
        Column("occurred_at", "timestamp", "When it happened (UTC).", used_by=("03", "05")),
        Column("activity_type", "string", "Kind of touch.", allowed=("call", "email", "meeting"),
               required=False, open_vocabulary=True, fill="call",
               when_absent="every activity is a call (a call log)", used_by=("03", "05")),
        Column("outcome", "string", "Result of the touch.",
               allowed=("connected", "voicemail", "no_answer", "wrong_number", "sent", "replied", "bounced",
                        "held", "no_show"), required=False, nullable=True, open_vocabulary=True,
               when_absent="no connect stage: only attempts and deals are counted", used_by=("03", "05")),
        Column("meeting_kind", "string", "For meetings (and connected calls that were one): `discovery` or `demo`.",
               required=False, nullable=True, allowed=("discovery", "demo"), open_vocabulary=True,
               when_absent="no meeting stages in the funnel", used_by=("03",)),
    ),
))

_table(Table(
    name="deals",
    grain="one row per opportunity",
    description="Opportunities (deals) and how they ended.",
    primary_key=("deal_id",),
    ordered=(("created_at", "closed_at"),),
    columns=(
        Column("deal_id", "string", "Stable id of the deal.", unique=True, used_by=("03", "04", "05", "06")),
        Column("lead_id", "string", "Lead the deal came from.", required=False, nullable=True,
               references="leads.lead_id", used_by=("05",)),
        Column("rep_id", "string", "Rep who owns the deal.", references="reps.rep_id", used_by=("03", "04")),
        Column("created_at", "timestamp", "When the deal was opened (UTC).", required=False, nullable=True,
               when_absent="win rates over all deals, with no month or cycle length", used_by=("03", "05")),
        Column("closed_at", "timestamp", "When it was won or lost (UTC); empty while open.", required=False,
               nullable=True, used_by=("03", "05")),
        Column("status", "string", "Where it stands.", allowed=("open", "won", "lost"), used_by=("03", "04", "05")),
        Column("mrr", "float", "Monthly recurring revenue of the deal (expected while open).", min_value=0,
               required=False, nullable=True,
               when_absent="counts and rates instead of dollars (dollars wherever an amount exists)",
               used_by=("03", "04", "05")),
        Column("qualifying_framework", "string", "Qualification matrix used on the deal, if tracked.",
               required=False, nullable=True, allowed=("bant", "gpct", "none", "other"), open_vocabulary=True,
               used_by=("06",)),
    ),
))

_table(Table(
    name="customers",
    grain="one row per customer won",
    description="Customers won, who closed them, who serves them, and whether and when they churned.",
    primary_key=("customer_id",),
    ordered=(("start_date", "churn_date"),),
    columns=(
        Column("customer_id", "string", "Stable id of the customer.", unique=True, used_by=("04",)),
        Column("deal_id", "string", "The won deal.", required=False, nullable=True, references="deals.deal_id",
               used_by=("04",)),
        Column("closing_rep_id", "string", "Rep who closed the deal and is paid commission on it.",
               references="reps.rep_id", used_by=("04",)),
        Column("consultant_id", "string", "Post-sale consultant (customer success); empty if none.",
               required=False, nullable=True, references="reps.rep_id", used_by=("04",)),
        Column("start_date", "date", "First day as a paying customer.", used_by=("04", "05")),
        Column("churn_date", "date", "Day the customer cancelled; empty while active.", required=False,
               nullable=True, used_by=("04",)),
        Column("mrr", "float", "Monthly recurring revenue at signing.", min_value=0, used_by=("04", "05")),
        Column("billing_term", "string", "How the customer pays.", allowed=("monthly", "annual_prepay"),
               required=False, nullable=True, open_vocabulary=True, fill="monthly",
               when_absent="every customer pays monthly", used_by=("04",)),
    ),
))

_table(Table(
    name="experiments",
    grain="one row per sales experiment",
    description="Pre-registered sales experiments: what was tried, on what unit, and what counts as success.",
    primary_key=("experiment_id",),
    ordered=(("start_date", "end_date"),),
    columns=(
        Column("experiment_id", "string", "Stable id of the experiment.", unique=True, used_by=("06",)),
        Column("name", "string", "Short name shown in reports.", required=False, nullable=True,
               fill="=experiment_id", when_absent="the experiment_id is shown", used_by=("06",)),
        Column("hypothesis", "string", "What the team believes and why.", required=False, nullable=True,
               fill="", when_absent="no hypothesis shown", used_by=("06",)),
        Column("unit", "string", "What was randomised.", allowed=("rep", "lead", "deal"), used_by=("06",)),
        Column("metric", "string", "Name of the outcome measured (e.g. `close_rate`, `mrr_per_deal`).",
               used_by=("06",)),
        Column("metric_type", "string", "`rate` (outcome is 0/1) or `mean` (outcome is a number).",
               allowed=("rate", "mean"), used_by=("06",)),
        Column("success_min_lift", "float", ("Pre-registered success criterion: the smallest absolute improvement "
                                             "of treatment over control (in the metric's units) that counts as a "
                                             "win."), used_by=("06",)),
        Column("start_date", "date", "First day of the experiment.", required=False, nullable=True,
               when_absent="the experiment is analysed as finished", used_by=("06",)),
        Column("end_date", "date", "Last day; empty while running.", required=False, nullable=True,
               used_by=("06",)),
        Column("owner", "string", "Who leads the experiment (a name or rep_id), for the monthly review.",
               required=False, nullable=True, used_by=("06",)),
        Column("status", "string", ("`planned`, `running` or `finished`, as the team says; when empty it is derived "
                                    "from the dates and the report's as-of date."), required=False, nullable=True,
               allowed=("planned", "running", "finished"), used_by=("06",)),
        Column("assigned_to", "string", ("Who was put in the experiment: `random` (drawn from everyone), "
                                         "`top_performers` (a pilot on the best reps, so that a failure is a true "
                                         "negative), `volunteers` or `other`."), required=False, nullable=True,
               allowed=("random", "top_performers", "volunteers", "other"), open_vocabulary=True,
               used_by=("06",)),
    ),
))

_table(Table(
    name="experiment_assignments",
    grain="one row per experimental unit",
    description="Which arm each unit was in and its outcome.",
    primary_key=("experiment_id", "unit_id"),
    columns=(
        Column("experiment_id", "string", "The experiment.", references="experiments.experiment_id",
               used_by=("06",)),
        Column("unit_id", "string", "Id of the rep, lead or deal randomised.", used_by=("06",)),
        Column("arm", "string", "`control` or `treatment`.", allowed=("control", "treatment"), used_by=("06",)),
        Column("outcome", "float", "Measured outcome; empty while not yet measured.", required=False,
               nullable=True, used_by=("06",)),
        Column("cluster_id", "string", ("When treatment was assigned per rep (or team) but measured per lead or deal: "
                                        "the rep (or team) the unit belongs to. Units sharing a cluster_id are "
                                        "analysed together (cluster-robust intervals). Empty: units are independent."),
               required=False, nullable=True, used_by=("06",)),
    ),
))

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)


@dataclass(frozen=True)
class Part:
    """One part of a report and the data it needs: ``"table"`` or ``"table.column"`` (the column in the file)."""

    name: str
    label: str
    needs: tuple[str, ...]


#: The parts of each report. A part whose data is absent says so in one line on the page and on the
#: index; the others run (see :func:`part_status`).
ANALYSIS_PARTS: dict[str, tuple[Part, ...]] = {
    "00_sales_rates": (
        Part("win_rate_by_seller", "Win rate by seller", ("deals.rep_id", "deals.status")),
        Part("funnel_by_owner", "Funnel by rep (leads -> deals -> won)", ("leads", "deals.lead_id")),
        Part("funnel_by_source", "Funnel by lead source", ("leads.source", "deals.lead_id")),
        Part("conversion_by_attempt", "Conversion by call attempt", ("activities.outcome",)),
        Part("lead_win_probability", "Lead value (chance of winning; dollars when amounts exist)",
             ("leads", "deals.lead_id")),
    ),
    "01_trait_discovery": (Part("traits", "Interview traits vs success", ANALYSIS_TABLES["01_trait_discovery"]["needs"]),),
    "02_training_score_correlation": (
        Part("training", "Training scores vs success", ANALYSIS_TABLES["02_training_score_correlation"]["needs"]),),
    "03_funnel_coaching": (Part("coaching", "Funnel coaching by rep", ANALYSIS_TABLES["03_funnel_coaching"]["needs"]),),
    "04_compensation_churn_quartiles": (
        Part("churn", "Churn by salesperson and quartiles", ANALYSIS_TABLES["04_compensation_churn_quartiles"]["needs"]),),
    "05_lead_value_and_sla": (
        Part("lead_value", "Lead value model", ("leads", "deals", "customers")),
        Part("sla", "Sales SLA and call lists", ("leads", "activities")),
    ),
    "06_experiments": (Part("experiments", "Experiment verdicts", ("experiment_assignments",)),),
    "07_predictable_revenue": (
        Part("forecast", "Bookings forecast and backtest", ("deals.status", "deals.closed_at")),
        Part("lead_mix", "Lead mix: seeds, nets and spears", ("leads", "deals.lead_id")),
        Part("roles", "Specialised roles against the book's bars", ("reps.role", "leads.owner_rep_id")),
        Part("system_or_people", "System or people (reps under quota)", ("quotas",)),
        Part("capacity", "Capacity plan for the revenue goal", ("leads", "deals.lead_id")),
    ),
}


def part_status(parts: tuple[Part, ...], has_table: "Any", columns: "Any") -> list[dict[str, object]]:
    """Which parts the data supports: ``[{"name", "label", "ran", "missing"}]``.

    ``has_table(name) -> bool`` and ``columns(name) -> set`` of the columns in the data (a source's
    :meth:`~helpers.data.engine.DataSource.has` and ``present_columns``).
    """
    out: list[dict[str, object]] = []
    for part in parts:
        missing = []
        for need in part.needs:
            table, _, column = need.partition(".")
            if not has_table(table):
                if table not in missing:
                    missing.append(table)
            elif column and column not in columns(table):
                missing.append(need)
        out.append({"name": part.name, "label": part.label, "ran": not missing, "missing": missing})
    return out


def part_note(status: dict[str, object]) -> str:
    """The one line a page shows for a part its data does not support."""
    return f"{status['label']}: not shown, the data has no {' and no '.join(map(str, status['missing']))}."


FILE_SUFFIXES: tuple[str, ...] = (".parquet", ".csv.gz", ".csv")


def split_table_suffix(file_name: str) -> tuple[str, str] | None:
    """``("deals", ".csv.gz")`` for ``deals.csv.gz``; None when the suffix is not a table format."""
    lower = file_name.lower()
    for suffix in FILE_SUFFIXES:  # ".csv.gz" is tested before ".csv"
        if lower.endswith(suffix):
            return file_name[: -len(suffix)], suffix
    return None


def find_table_files(data_dir: str | Path) -> dict[str, list[Path]]:
    """Contract tables found in a folder: table name -> its files, in FILE_SUFFIXES order.

    More than one file for a table is a validation error; readers take the first.
    """
    found: dict[str, list[Path]] = {}
    for path in Path(data_dir).iterdir():
        split = split_table_suffix(path.name)
        if path.is_file() and split and split[0] in TABLES and path.name.endswith(split[1]):
            found.setdefault(split[0], []).append(path)
    return {name: sorted(paths, key=lambda p: FILE_SUFFIXES.index(split_table_suffix(p.name)[1]))
            for name, paths in sorted(found.items(), key=lambda item: TABLE_ORDER.index(item[0]))}
