"""One configuration file for a whole run: ``workbook.toml``.

The defaults (``helpers/core/defaults.toml``) carry the seeds' numbers: the sales SLA (new leads
touched within an hour; free trials called at least 3 times; 3-day-old demo requests touched
at least twice; 5 / 8 / 12 follow-up attempts by segment), the compensation plan ($2 up front
per $1 of MRR, clawback within 4 months, churn-quartile multipliers 2 / 1.5 / 1 / 0.5) and the
HubSpot scorecard traits. A company's ``workbook.toml`` overrides any of them without code.

``load_config`` validates everything and raises :class:`ConfigError` with the file, the key,
the offending value and what is expected.
"""
from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.core.contract import SEGMENTS, TABLES
from helpers.paths import DEFAULT_CONFIG_FILE, PACKAGE_DIR, PROJECT_ROOT

DEFAULTS_FILE = PACKAGE_DIR / "core" / "defaults.toml"
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class ConfigError(ValueError):
    """The configuration file is invalid; the message says where and how to fix it."""


@dataclass(frozen=True)
class FunnelStage:
    name: str
    label: str
    activity_types: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    meeting_kinds: tuple[str, ...] = ()
    deal_statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlaRules:
    first_touch_hours: float
    free_trial_min_calls: int
    free_trial_after_days: float
    demo_request_age_days: float
    demo_request_min_touches: int
    follow_up_idle_days: float
    follow_up_attempts: dict[str, int]
    free_trial_grace: bool = False  # True: a free trial is judged only after free_trial_after_days (not the book's rule)


@dataclass(frozen=True)
class CompensationPlan:
    upfront_per_mrr: float
    clawback_months: int
    quartile_multipliers: tuple[float, float, float, float]
    churn_window_months: int
    annual_prepay_paid_upfront: bool


@dataclass(frozen=True)
class WorkbookConfig:
    """Validated configuration. Paths are absolute."""

    organisation: str
    data_dir: Path
    url_env: str
    url: str
    schema: str
    output_dir: Path
    traits: tuple[str, ...]
    score_min: int
    score_max: int
    success_metric: str
    min_months_tenure: int
    funnel_stages: tuple[FunnelStage, ...]
    sla: SlaRules
    compensation: CompensationPlan
    monthly_lead_value_goal: float
    confidence_level: float
    small_sample_n: int
    source_file: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:  # never show a URL with its password
        return (f"WorkbookConfig(organisation={self.organisation!r}, data_dir={str(self.data_dir)!r}, "
                f"url_env={self.url_env!r}, url={'<set>' if self.url else '<empty>'}, "
                f"source_file={str(self.source_file) if self.source_file else None!r})")

    @property
    def database_url(self) -> str | None:
        """Database URL: the environment variable named in ``[data] url_env`` if set, else ``[data] url``.

        The URL (with its credentials) is read here, at run time, and never passed as a notebook
        parameter, so it never appears in an executed notebook or a report.
        """
        value = os.environ.get(self.url_env, "").strip() or self.url.strip()
        return value or None

    @property
    def settings(self) -> "SettingsReader":
        """Typed, validated access to any merged setting, e.g. ``config.settings.number("coaching.min_leads")``.

        Analysis modules read their own sections through this (keys must exist in defaults.toml,
        which is what makes an unknown key in a user's file an error); a bad value raises
        :class:`ConfigError` naming the file and the key.
        """
        return SettingsReader(self.raw, self.source_file or DEFAULTS_FILE)

    def with_data_dir(self, data_dir: str | Path) -> "WorkbookConfig":
        from dataclasses import replace

        return replace(self, data_dir=Path(data_dir).resolve())


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}. Fix the syntax at the position given.") from None


def _merge(base: dict[str, Any], override: dict[str, Any], path: Path, prefix: str = "") -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if dotted == "categories":  # open: column names as keys, checked by category_map
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: 'categories' must be a table ([categories]), got {value!r}")
            merged[key] = value
            continue
        if key not in base:
            hint = difflib.get_close_matches(key, list(base), n=1)
            suggestion = f" Did you mean '{prefix}{hint[0]}'?" if hint else f" Known keys: {', '.join(sorted(base))}."
            raise ConfigError(f"{path}: unknown setting {dotted!r}.{suggestion}")
        if isinstance(base[key], dict) and key != "follow_up_attempts":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {dotted!r} must be a table ([{dotted}]), got {value!r}")
            merged[key] = _merge(base[key], value, path, prefix=f"{dotted}.")
        else:
            merged[key] = value
    return merged


class SettingsReader:
    """Typed access to the merged settings, with errors naming file and key."""

    def __init__(self, raw: dict[str, Any], path: Path):
        self.raw = raw
        self.file = path

    def get(self, dotted: str) -> Any:
        node: Any = self.raw
        for part in dotted.split("."):
            node = node[part]
        return node

    def fail(self, dotted: str, value: Any, expected: str) -> None:
        raise ConfigError(f"{self.file}: setting {dotted!r} = {value!r} is invalid: expected {expected}.")

    def string(self, dotted: str, *, allow_empty: bool = True) -> str:
        value = self.get(dotted)
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            self.fail(dotted, value, "a non-empty string" if not allow_empty else "a string")
        return value

    def number(self, dotted: str, *, minimum: float | None = None, maximum: float | None = None,
               integer: bool = False, strict_min: bool = False) -> float:
        value = self.get(dotted)
        ok = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool)
        if ok and minimum is not None:
            ok = value > minimum if strict_min else value >= minimum
        if ok and maximum is not None:
            ok = value <= maximum
        if not ok:
            kind = "a whole number" if integer else "a number"
            bounds = []
            if minimum is not None:
                bounds.append(f"{'>' if strict_min else '>='} {minimum}")
            if maximum is not None:
                bounds.append(f"<= {maximum}")
            self.fail(dotted, value, kind + (f" {' and '.join(bounds)}" if bounds else ""))
        return value

    def string_list(self, dotted: str, *, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self.get(dotted)
        if (not isinstance(value, list) or not all(isinstance(v, str) for v in value)
                or (allowed is not None and any(v not in allowed for v in value))):
            self.fail(dotted, value, "a list of strings" + (f" from {list(allowed)}" if allowed else ""))
        return tuple(value)

    def choice(self, dotted: str, allowed: tuple[str, ...]) -> str:
        value = self.get(dotted)
        if value not in allowed:
            self.fail(dotted, value, "one of " + ", ".join(repr(a) for a in allowed))
        return value

    def boolean(self, dotted: str) -> bool:
        value = self.get(dotted)
        if not isinstance(value, bool):
            self.fail(dotted, value, "true or false")
        return value

    def directory(self, dotted: str) -> Path:
        value = self.string(dotted, allow_empty=False)
        p = Path(value).expanduser()
        if not p.is_absolute():
            anchor = self.file.parent if self.file != DEFAULTS_FILE else PROJECT_ROOT
            p = anchor / p
        return p.resolve()


_ACTIVITY_VALUES = {
    "activity_types": TABLES["activities"].column("activity_type").allowed,
    "outcomes": TABLES["activities"].column("outcome").allowed,
    "meeting_kinds": TABLES["activities"].column("meeting_kind").allowed,
    "deal_statuses": TABLES["deals"].column("status").allowed,
}


_OPEN_ACTIVITY_VALUES = {key for key, (table, column) in {
    "activity_types": ("activities", "activity_type"), "outcomes": ("activities", "outcome"),
    "meeting_kinds": ("activities", "meeting_kind"), "deal_statuses": ("deals", "status")}.items()
    if TABLES[table].column(column).open_vocabulary}


def category_map(config: "WorkbookConfig") -> dict[str, dict[str, str]]:
    """``[categories]``: per open category column (``source`` or ``leads.source``), value -> value read instead.

    Keys are checked against the contract: an unknown column, a closed one, or a value that is not text
    raises :class:`ConfigError` naming the key.
    """
    raw = config.raw.get("categories") or {}
    reader = config.settings
    open_columns = {c.name for t in TABLES.values() for c in t.columns if c.allowed and c.open_vocabulary}
    open_dotted = {f"{t.name}.{c}" for t in TABLES.values() for c in t.open_columns}
    out: dict[str, dict[str, str]] = {}
    for key, mapping in raw.items():
        if key not in open_columns and key not in open_dotted:
            reader.fail(f"categories.{key}", mapping,
                        f"a category column with an open vocabulary: one of {', '.join(sorted(open_columns))} "
                        "(or table.column)")
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            reader.fail(f"categories.{key}", mapping, 'a table of value = "value read instead", e.g. {none = "other"}')
        out[key] = {str(k).strip().lower(): v.strip().lower() for k, v in mapping.items()}
    return out


def _funnel(reader: SettingsReader) -> tuple[FunnelStage, ...]:
    stages = reader.get("funnel.stages")
    if not isinstance(stages, list) or len(stages) < 2:
        reader.fail("funnel.stages", stages, "a list of at least two [[funnel.stages]] tables")
    out: list[FunnelStage] = []
    seen: set[str] = set()
    for i, stage in enumerate(stages, start=1):
        where = f"funnel.stages[{i}]"
        if not isinstance(stage, dict):
            reader.fail(where, stage, "a table with name, label and filters")
        unknown = set(stage) - {"name", "label", *_ACTIVITY_VALUES}
        if unknown:
            reader.fail(f"{where}.{sorted(unknown)[0]}", stage[sorted(unknown)[0]],
                        f"one of the keys name, label, {', '.join(_ACTIVITY_VALUES)}")
        name = stage.get("name")
        if not isinstance(name, str) or not _SNAKE.match(name) or name in seen:
            reader.fail(f"{where}.name", name, "a unique lower-case snake_case stage name")
        seen.add(name)
        filters: dict[str, tuple[str, ...]] = {}
        for key, allowed in _ACTIVITY_VALUES.items():
            values = stage.get(key, [])
            if key in _OPEN_ACTIVITY_VALUES:  # open vocabularies: the company's own values are allowed too
                allowed = tuple(v for v in values if isinstance(v, str) and _SNAKE.match(v))
            if not isinstance(values, list) or any(v not in allowed for v in values):
                reader.fail(f"{where}.{key}", values, f"a list of values from {list(allowed)}")
            filters[key] = tuple(values)
        if not any(filters.values()):
            reader.fail(where, stage, "at least one filter (activity_types, outcomes, meeting_kinds or deal_statuses)")
        if filters["deal_statuses"] and any(filters[k] for k in ("activity_types", "outcomes", "meeting_kinds")):
            reader.fail(where, stage, "either activity filters or deal_statuses, not both")
        out.append(FunnelStage(name=name, label=str(stage.get("label", name)), **filters))
    return tuple(out)


def _build(raw: dict[str, Any], path: Path) -> WorkbookConfig:
    r = SettingsReader(raw, path)
    traits = r.get("hiring.traits")
    if (not isinstance(traits, list) or len(traits) < 2 or len(set(traits)) != len(traits)
            or not all(isinstance(t, str) and _SNAKE.match(t) for t in traits)):
        r.fail("hiring.traits", traits, "a list of at least two distinct lower-case snake_case trait names")
    score_min = int(r.number("hiring.score_min", integer=True))
    score_max = int(r.number("hiring.score_max", integer=True, minimum=score_min + 1))
    success_metric = r.string("hiring.success_metric")
    if success_metric not in ("quota_attainment", "mrr_per_month"):
        r.fail("hiring.success_metric", success_metric, "'quota_attainment' or 'mrr_per_month'")

    attempts = r.get("sla.follow_up_attempts")
    if not isinstance(attempts, dict) or set(attempts) != set(SEGMENTS):
        r.fail("sla.follow_up_attempts", attempts, f"a table with exactly the segments {list(SEGMENTS)}")
    for seg in SEGMENTS:
        r.number(f"sla.follow_up_attempts.{seg}", integer=True, minimum=1)
    sla = SlaRules(
        first_touch_hours=float(r.number("sla.first_touch_hours", minimum=0, strict_min=True)),
        free_trial_min_calls=int(r.number("sla.free_trial_min_calls", integer=True, minimum=1)),
        free_trial_after_days=float(r.number("sla.free_trial_after_days", minimum=0)),
        demo_request_age_days=float(r.number("sla.demo_request_age_days", minimum=0)),
        demo_request_min_touches=int(r.number("sla.demo_request_min_touches", integer=True, minimum=1)),
        follow_up_idle_days=float(r.number("sla.follow_up_idle_days", minimum=0, strict_min=True)),
        follow_up_attempts={seg: int(attempts[seg]) for seg in SEGMENTS},
        free_trial_grace=r.boolean("sla.free_trial_grace"),
    )

    mult = r.get("compensation.quartile_multipliers")
    if (not isinstance(mult, list) or len(mult) != 4
            or not all(isinstance(m, (int, float)) and not isinstance(m, bool) and m >= 0 for m in mult)):
        r.fail("compensation.quartile_multipliers", mult,
               "four non-negative numbers, best (lowest-churn) quartile first, e.g. [2.0, 1.5, 1.0, 0.5]")
    comp = CompensationPlan(
        upfront_per_mrr=float(r.number("compensation.upfront_per_mrr", minimum=0)),
        clawback_months=int(r.number("compensation.clawback_months", integer=True, minimum=0)),
        quartile_multipliers=tuple(float(m) for m in mult),  # type: ignore[arg-type]
        churn_window_months=int(r.number("compensation.churn_window_months", integer=True, minimum=1)),
        annual_prepay_paid_upfront=r.boolean("compensation.annual_prepay_paid_upfront"),
    )
    url_env = r.string("data.url_env", allow_empty=False)
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", url_env):
        r.fail("data.url_env", url_env, "the name of an environment variable (letters, digits, underscores)")

    return WorkbookConfig(
        organisation=r.string("workbook.organisation", allow_empty=False),
        data_dir=r.directory("data.dir"),
        url_env=url_env,
        url=r.string("data.url"),
        schema=r.string("data.schema"),
        output_dir=r.directory("output.dir"),
        traits=tuple(traits),
        score_min=score_min,
        score_max=score_max,
        success_metric=success_metric,
        min_months_tenure=int(r.number("hiring.min_months_tenure", integer=True, minimum=0)),
        funnel_stages=_funnel(r),
        sla=sla,
        compensation=comp,
        monthly_lead_value_goal=float(r.number("marketing.monthly_lead_value_goal", minimum=0)),
        confidence_level=float(r.number("statistics.confidence_level", minimum=0.5, maximum=0.999)),
        small_sample_n=int(r.number("statistics.small_sample_n", integer=True, minimum=2)),
        source_file=None if path == DEFAULTS_FILE else path,
        raw=raw,
    )


def default_config_path() -> Path | None:
    """The config a run uses when none is given: ``$SALES_WORKBOOK_CONFIG`` or ``./workbook.toml`` of the project."""
    env = os.environ.get("SALES_WORKBOOK_CONFIG")
    if env:
        return Path(env)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None


def load_config(path: str | Path | None = None) -> WorkbookConfig:
    """Load and validate the configuration.

    ``path=None`` uses :func:`default_config_path`; with no file at all the defaults apply.
    Settings missing from the file keep their defaults; unknown settings are an error (a typo
    would otherwise silently leave the default in force).
    """
    defaults = _load_toml(DEFAULTS_FILE)
    cfg_path = Path(path) if path is not None else default_config_path()
    if cfg_path is None:
        return _build(defaults, DEFAULTS_FILE)
    cfg_path = cfg_path.expanduser().resolve()
    user = _load_toml(cfg_path)
    return _build(_merge(defaults, user, cfg_path), cfg_path)


#: Row-level problems a run can leave out instead of stopping on (``on_bad_rows = "quarantine"``).
QUARANTINE_CODES = ("order", "out_of_range", "unknown_value", "missing_value")


def on_bad_rows(config: "WorkbookConfig") -> str:
    """``error`` or ``quarantine``: ``$SALES_WORKBOOK_ON_BAD_ROWS`` (set by ``--on-bad-rows``), else ``[data] on_bad_rows``."""
    value = os.environ.get("SALES_WORKBOOK_ON_BAD_ROWS", "").strip()
    if value:
        if value not in ("error", "quarantine"):
            raise ConfigError(f"SALES_WORKBOOK_ON_BAD_ROWS={value!r}: use 'error' or 'quarantine'")
        return value
    return config.settings.choice("data.on_bad_rows", ("error", "quarantine"))


def data_config_path(data_dir: str | Path) -> Path:
    """The configuration written next to a data folder by ``sales-workbook init``: ``<folder>.workbook.toml``."""
    folder = Path(data_dir).expanduser().resolve()
    return folder.parent / f"{folder.name}.workbook.toml"


#: Folder names that say what a folder holds, not whose it is: ``acme/data`` is Acme's data, not "Data"'s.
GENERIC_FOLDER_NAMES = frozenset({"data", "raw", "export", "exports", "input", "inputs", "csv", "files", "crm",
                                  "download", "downloads", "latest", "current", "tables", "extract", "extracts"})


def organisation_from_folder(data_dir: str | Path) -> str:
    """A readable organisation name from a data folder's name: ``acme_corp-2026`` -> ``Acme Corp 2026``. A generic
    name (``data``, ``exports``, ``raw`` ...) is skipped for its parent's: ``~/acme/crm/exports`` -> ``Acme``."""
    folder = Path(data_dir).expanduser().resolve()
    for candidate in (folder, *folder.parents):
        if candidate.name and candidate.name.lower() not in GENERIC_FOLDER_NAMES:
            words = re.split(r"[\s_\-.]+", candidate.name)
            return " ".join(w[:1].upper() + w[1:] for w in words if w) or "Your company"
    return "Your company"


def load_config_for_data(path: str | Path | None = None, data_dir: str | Path | None = None) -> WorkbookConfig:
    """The configuration of a run on ``data_dir`` (``--data``), so that no report shows another organisation.

    An explicit ``path`` (or ``$SALES_WORKBOOK_CONFIG``) wins, with its data folder replaced by ``data_dir``.
    Otherwise the configuration next to the folder (``<folder>.workbook.toml``, written by
    ``sales-workbook init``); otherwise the project's ``workbook.toml`` only when it configures that very
    folder; otherwise the defaults, with the organisation named after the folder and no marketing goal.
    """
    if data_dir is None:
        return load_config(path)
    folder = Path(data_dir).expanduser().resolve()
    if path is None and not os.environ.get("SALES_WORKBOOK_CONFIG"):
        beside = data_config_path(folder)
        if beside.exists():
            return load_config(beside).with_data_dir(folder)
        project = load_config(None)
        if project.data_dir == folder:
            return project
        from dataclasses import replace

        defaults = _build(_load_toml(DEFAULTS_FILE), DEFAULTS_FILE)
        found = _traits_in(folder)  # the scorecard's own traits, as `sales-workbook init` would write them
        return replace(defaults, organisation=organisation_from_folder(folder), data_dir=folder,
                       output_dir=project.output_dir,
                       traits=found if len(found) >= 2 and all(_SNAKE.match(t) for t in found) else defaults.traits)
    return load_config(path).with_data_dir(folder)


def _traits_in(folder: Path) -> tuple[str, ...]:
    """Distinct ``hiring_scores.trait`` values of a data folder (empty without scorecards or on a read error)."""
    from helpers.core.contract import find_table_files

    files = find_table_files(folder).get("hiring_scores") if folder.is_dir() else None
    if not files:
        return ()
    import duckdb

    path = str(files[0]).replace("'", "''")
    reader = "read_parquet" if path.endswith(".parquet") else "read_csv"
    options = "" if reader == "read_parquet" else ", header = true, all_varchar = true"
    try:
        with duckdb.connect() as con:
            rows = con.execute(f"SELECT DISTINCT trim(trait) FROM {reader}('{path}'{options}) "
                               "WHERE trait IS NOT NULL AND trim(trait) <> '' ORDER BY 1").fetchall()
    except duckdb.Error:
        return ()
    return tuple(str(r[0]) for r in rows)
