"""From the CRM-specific raw frames to the contract tables, the same for every CRM.

A CRM module (``hubspot``, ``salesforce``) reads its export files into *raw* frames with
contract-like columns (``lead_id``, ``owner_key``, ``occurred_at`` ...) plus the CRM values still
to be mapped (``source_raw``, ``stage_raw`` ...). This module applies the mapping file, drops
rows that cannot be analysed (counting each reason), checks references between the tables,
writes the CSV files into a staging folder, validates them against the data contract and only
then puts the folder in place.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from helpers.core.contract import TABLES
from .common import (ImportInputError, ImportReport, ImportValidationError, MappingError, norm, parse_amounts, snake,
                     publish_folder, staging_folder, to_contract_csv, unpack_zips, write_report_files)
from .mapping import AMOUNT_KIND_WORDS, AMOUNT_KINDS, Mapping, guess_stage, load_mapping, write_mapping

#: Below this share of linked rows the import report warns (a missing association column, 15- vs 18-character
#: ids, another export's ids): our choice, half.
LOW_LINK_SHARE = 0.5


def _allowed(table: str, column: str) -> tuple[str, ...]:
    return next(tuple(c.allowed or ()) for c in TABLES[table].columns if c.name == column)


def _given(data: dict[str, Any], section: str, key: str, default: Any) -> Any:
    """The value at ``section.key`` of a mapping the analyst started (``key`` empty: the section), else default."""
    node: Any = data
    for part in [p for p in [*section.split("."), key] if p]:
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def default_mapping_path(out_dir: Path) -> Path:
    """``data/acme`` -> ``data/acme.mapping.toml``: next to the output, so a re-import keeps it."""
    return out_dir.with_name(out_dir.name + ".mapping.toml")


def nested(settings: list[tuple[str, list[tuple[str, Any, str]]]],
           value_tables: list[tuple[str, dict[str, Any], str]]) -> dict[str, Any]:
    """The dict a mapping file with these settings reads back as."""
    data: dict[str, Any] = {}
    for section, items in settings:
        node = data
        for part in section.split(".") if section else []:
            node = node.setdefault(part, {})
        for key, value, _ in items:
            node[key] = value
    for section, table, _ in value_tables:
        node = data
        for part in section.split("."):
            node = node.setdefault(part, {})
        node.update(table)
    return data


# --------------------------------------------------------------------------------------------
# Mapped values
# --------------------------------------------------------------------------------------------
def map_values(raw: pd.Series, table: dict[str, str], *, default: str, what: str, report: ImportReport,
               table_name: str, empty_note: str | None = None) -> pd.Series:
    """CRM values -> contract values through a mapping table; unknown values take ``default`` and are reported."""
    keys = raw.astype(str).map(norm)
    mapped = keys.map(table)
    empty = raw.astype(str).str.strip() == ""
    unknown = (mapped.isna() | (mapped == "")) & ~empty
    report.unmapped_values(what, raw[unknown])
    if unknown.any():
        report.change(table_name, unknown, f"with a {what} not in the mapping: set to {default!r}")
    if empty_note and empty.any():
        report.change(table_name, empty, empty_note)
    return mapped.where(mapped.notna() & (mapped != ""), default).astype(object)


def _drop(frame: pd.DataFrame, mask: pd.Series, report: ImportReport, table: str, reason: str) -> pd.DataFrame:
    mask = mask.fillna(False).astype(bool)
    report.drop(table, mask, reason)
    return frame[~mask]


def _dedupe(frame: pd.DataFrame, key: str, report: ImportReport, table: str, what: str) -> pd.DataFrame:
    frame = _drop(frame, frame[key].astype(str).str.strip() == "", report, table, f"without {what} id")
    return _drop(frame, frame[key].duplicated(), report, table, f"with a duplicate {what} id (kept the first)")


# --------------------------------------------------------------------------------------------
# Reps
# --------------------------------------------------------------------------------------------
def guessed_reps(owners: pd.DataFrame) -> list[dict[str, Any]]:
    """One [[reps]] entry per owner seen; ``owners`` has owner_key, name, first_seen and optional
    owner_id, email, hire_date, leave_date, manager_key, role."""
    used: set[str] = set()
    entries = []
    for row in owners.sort_values("name").to_dict("records"):  # owners: dozens, not events
        rep_id = str(row.get("owner_id") or "") or snake(row["name"]) or snake(row["owner_key"]) or "rep"
        base, n = rep_id, 2
        while rep_id in used:
            rep_id, n = f"{base}_{n}", n + 1
        used.add(rep_id)
        hire = row.get("hire_date")
        hire = hire if isinstance(hire, str) and hire else (
            row["first_seen"].strftime("%Y-%m-%d") if pd.notna(row["first_seen"]) else "2000-01-01")
        entry = {"owner": row["owner_key"], "include": bool(row.get("include", True)), "rep_id": rep_id, "name": row["name"] or row["owner_key"],
                 "role": row.get("role") or "ae", "team": "", "segment": "", "hire_date": hire,
                 "leave_date": row.get("leave_date") or "", "manager": row.get("manager_key") or "",
                 "aliases": list(dict.fromkeys(
                     a for a in [row.get("email") or "", *(row.get("aliases") or [])]
                     if isinstance(a, str) and a and norm(a) != norm(row["owner_key"])))}
        entries.append(entry)
    return entries


def finish_reps(mapping: Mapping, report: ImportReport) -> tuple[pd.DataFrame, dict[str, str]]:
    entries = [r for r in mapping.reps() if str(r.get("include", "True")).lower() != "false"]
    owner_to_rep: dict[str, str] = {}
    for rep in entries:
        for key in [rep["owner"], rep["rep_id"], *rep.get("aliases", [])]:
            owner_to_rep.setdefault(norm(key), rep["rep_id"])
    reps = pd.DataFrame(entries, columns=["rep_id", "name", "team", "manager", "role", "segment", "hire_date",
                                          "leave_date"]).fillna("")
    for col in ("hire_date", "leave_date"):
        parsed = pd.to_datetime(reps[col].where(reps[col] != ""), format="%Y-%m-%d", errors="coerce")
        bad = (reps[col] != "") & parsed.isna()
        if bad.any():
            raise MappingError(f"{mapping.path}: [[reps]] {reps.loc[bad, 'name'].iloc[0]!r}: {col} "
                               f"{reps.loc[bad, col].iloc[0]!r} is not YYYY-MM-DD.")
    segments = _allowed("reps", "segment")
    bad_segment = (reps["segment"] != "") & ~reps["segment"].isin(segments)
    if bad_segment.any():
        raise MappingError(f"{mapping.path}: [[reps]] {reps.loc[bad_segment, 'name'].iloc[0]!r}: segment must be one "
                           f"of {', '.join(segments)} or \"\".")
    manager = reps["manager"].map(lambda m: owner_to_rep.get(norm(m), "") if m else "")
    report.change("reps", (reps["manager"] != "") & (manager == ""), "with a manager not among the reps: left empty")
    reps["manager_id"] = manager
    report.table("reps").read = len(mapping.reps())
    report.drop("reps", np.ones(len(mapping.reps()) - len(entries), bool), "marked include = false in the mapping")
    return reps, owner_to_rep


def _owner(frame: pd.DataFrame, owner_to_rep: dict[str, str], report: ImportReport, table: str,
           *, required: bool) -> pd.DataFrame:
    key = frame["owner_key"].astype(str).str.strip()
    rep = key.map(lambda k: owner_to_rep.get(norm(k), "") if k else "")
    unknown = (key != "") & (rep == "")
    report.unmapped_values("owner (add a [[reps]] entry)", key[unknown])
    frame = frame.assign(rep_id=rep)
    if required:
        frame = _drop(frame, key == "", report, table, "without an owner")
        frame = _drop(frame, frame["rep_id"] == "", report, table, "whose owner is not a rep in the mapping")
    else:
        report.change(table, key == "", "without an owner: left unassigned")
        report.change(table, unknown, "whose owner is not a rep in the mapping: left unassigned")
    return frame


# --------------------------------------------------------------------------------------------
# Leads, activities, deals, customers
# --------------------------------------------------------------------------------------------
def finish_leads(raw: pd.DataFrame, mapping: Mapping, owner_to_rep: dict[str, str], report: ImportReport,
                 now: pd.Timestamp) -> pd.DataFrame:
    t = "leads"
    report.table(t).read += len(raw)
    leads = _dedupe(raw, "lead_id", report, t, "a lead")
    leads = _drop(leads, leads["created_at"].isna(), report, t, "without a create date")
    leads = _drop(leads, leads["created_at"] > now, report, t, "created in the future")
    leads = _owner(leads, owner_to_rep, report, t, required=False).rename(columns={"rep_id": "owner_rep_id"})
    sources = _allowed("leads", "source")
    leads["source"] = map_values(leads["source_raw"], mapping.values("leads.source_values", sources),
                                 default=mapping.choice("leads.default_source", sources, "other"),
                                 what="lead source", report=report, table_name=t,
                                 empty_note="without a lead source: set to the default source")
    types = _allowed("leads", "lead_type")
    by_source = mapping.values("leads.lead_type_by_source", types)
    from_source = leads["source"].map(lambda s: by_source.get(norm(s), "")).replace("", np.nan)
    from_source = from_source.fillna(mapping.choice("leads.default_lead_type", types, "net"))
    if (leads["lead_type_raw"].astype(str) != "").any():
        typed = leads["lead_type_raw"].astype(str).map(norm).map(mapping.values("leads.lead_type_values", types))
        leads["lead_type"] = typed.where(typed.notna() & (typed != ""), from_source)
    else:
        leads["lead_type"] = from_source
    segments = _allowed("leads", "segment")
    seg = leads["segment_raw"].astype(str).map(norm).map(mapping.values("leads.segment_values", segments))
    employees = parse_amounts(leads["employees_raw"], label="company size (Number of Employees)", integers=True,
                              strict=False)
    bounds = mapping.get("leads.segment_employee_bounds", [50, 500])
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, (int, float)) for b in bounds)
            and bounds[0] < bounds[1]):
        raise MappingError(f"{mapping.path}: leads.segment_employee_bounds must be two increasing numbers, "
                           f"e.g. [50, 500], not {bounds!r}.")
    by_size = pd.Series(np.select([employees < bounds[0], employees < bounds[1], employees >= bounds[1]],
                                  ["small_business", "mid_market", "enterprise"], ""), index=leads.index)
    seg = seg.where(seg.notna() & (seg != ""), by_size.replace("", np.nan))
    default_segment = mapping.choice("leads.default_segment", segments, "small_business")
    report.change(t, seg.isna(), f"without a segment (or company size): set to {default_segment!r}")
    leads["segment"] = seg.fillna(default_segment)
    offers = _allowed("leads", "first_offer")
    leads["first_offer"] = map_values(leads["first_offer_raw"], mapping.values("leads.first_offer_values", offers),
                                      default=mapping.choice("leads.default_first_offer", offers, "other"),
                                      what="first conversion", report=report, table_name=t)
    persona = leads["persona_raw"].astype(str)
    persona_map = mapping.values("leads.persona_values")
    leads["persona"] = persona.map(lambda p: persona_map.get(norm(p), snake(p)))
    journeys = _allowed("leads", "journey_stage")
    journey = leads["journey_raw"].astype(str).map(norm).map(mapping.values("leads.journey_stage_values", journeys))
    leads["journey_stage"] = journey.astype(object).fillna("")
    report.table(t).written = len(leads)
    return leads


#: Drop reasons of calls without an outcome (HubSpot, Salesforce): kept when activities.keep_calls_without_outcome.
NO_OUTCOME = ("calls without an outcome", "calls without a call result")


def finish_activities(raw: pd.DataFrame, mapping: Mapping, lead_alias: dict[str, str], lead_ids: set[str],
                      deal_leads: dict[str, str], owner_to_rep: dict[str, str], report: ImportReport,
                      now: pd.Timestamp) -> pd.DataFrame:
    """Activities with an owner who is a rep, a date in the past and a lead (directly, or through the deal they
    are logged on when ``activities.keep_deal_only``); the share linked is recorded for the link checks."""
    t = "activities"
    report.table(t).read += len(raw)
    acts = _dedupe(raw, "activity_id", report, t, "an activity")
    if mapping.flag("activities.keep_calls_without_outcome"):
        no_outcome = acts["drop_reason"].isin(NO_OUTCOME)
        report.change(t, no_outcome, "calls without an outcome: kept with an empty outcome "
                                     "(activities.keep_calls_without_outcome)")
        acts = acts.assign(drop_reason=acts["drop_reason"].where(~no_outcome, ""))
    for reason, n in acts["drop_reason"][acts["drop_reason"] != ""].value_counts().items():
        report.table(t).dropped[reason] += int(n)
    acts = acts[acts["drop_reason"] == ""]
    acts = _drop(acts, acts["occurred_at"].isna(), report, t, "without a date")
    acts = _drop(acts, acts["occurred_at"] > now, report, t, "scheduled in the future (not done yet)")
    acts = _owner(acts, owner_to_rep, report, t, required=True)
    candidates = len(acts)
    ref = acts["lead_ref"].astype(str).str.strip()
    lead = ref.map(lambda r: lead_alias.get(r, r))
    deal_ref = acts["deal_ref"].astype(str).str.strip() if "deal_ref" in acts else pd.Series("", index=acts.index)
    if mapping.flag("activities.keep_deal_only"):
        via_deal = (ref == "") & (deal_ref != "")
        from_deal = deal_ref.map(deal_leads).fillna("")
        acts = _drop(acts, via_deal & (from_deal == ""), report, t,
                     "linked only to a deal that has no lead (or is not imported)")
        report.change(t, via_deal & (from_deal != ""), "linked only to a deal: counted for the deal's lead "
                                                        "(activities.keep_deal_only)")
        lead = lead.where(~via_deal, from_deal)[acts.index]
        ref = ref.where(~via_deal, from_deal)[acts.index]
        deal_ref = deal_ref[acts.index]
    acts = acts.assign(lead_id=lead)
    only_deal = (ref == "") & (deal_ref != "")
    acts = _drop(acts, only_deal, report, t, "linked only to a deal or opportunity (set activities.keep_deal_only "
                                             "= true to count them for the deal's lead)")
    acts = _drop(acts, ref[acts.index] == "", report, t, "not linked to a contact or lead")
    acts = _drop(acts, ~acts["lead_id"].isin(lead_ids), report, t,
                 "linked to a contact or lead that is not in the export")
    report.links["activities with a lead (of those with an owner and a date)"] = _share(len(acts), candidates)
    report.table(t).written = len(acts)
    return acts


def _share(linked: int, total: int) -> dict[str, Any]:
    return {"linked": int(linked), "total": int(total), "share": (linked / total) if total else 0.0}


def finish_deals(raw: pd.DataFrame, mapping: Mapping, lead_alias: dict[str, str], lead_ids: set[str],
                 owner_to_rep: dict[str, str], report: ImportReport, now: pd.Timestamp) -> pd.DataFrame:
    t = "deals"
    report.table(t).read += len(raw)
    deals = _dedupe(raw, "deal_id", report, t, "a deal")
    deals = _drop(deals, deals["created_at"].isna(), report, t, "without a create date")
    deals = _drop(deals, deals["created_at"] > now, report, t, "created in the future")
    deals = _owner(deals, owner_to_rep, report, t, required=True)
    stages = mapping.stages()
    stage_key = deals["stage_raw"].astype(str).map(norm)
    by_stage = stage_key.map(lambda k: stages.get(k, {}).get("status"))
    unmapped = by_stage.isna() & (deals["stage_raw"].astype(str) != "")
    report.unmapped_values("deal stage", deals.loc[unmapped, "stage_raw"])
    status = deals["status_raw"].astype(str).where(deals["status_raw"].astype(str) != "", by_stage)
    report.change(t, status.isna(), "with a stage not in the mapping: counted as open")
    deals["status"] = status.fillna("open").astype(object)
    funnel = stage_key.map(lambda k: stages.get(k, {}).get("funnel", ""))
    counts = funnel[funnel != ""].value_counts()
    if len(counts):
        report.note("Deals by funnel stage of their current deal stage: "
                    + ", ".join(f"{k} {int(v)}" for k, v in counts.items()) + ".")
    if mapping.flag("deals.keep_without_amount"):
        report.change(t, deals["amount"].isna(), "without an amount: kept with an empty MRR "
                                                  "(deals.keep_without_amount)")
    else:
        lost = deals["amount"].isna() & (deals["status"] == "lost")
        deals = _drop(deals, deals["amount"].isna(), report, t, "without an amount")
        if lost.any():
            report.note(f"{int(lost.sum())} lost deal(s) without an amount were dropped, which raises win rates: set "
                        f"deals.keep_without_amount = true in the mapping to keep them.")
    kind = mapping.choice("deals.amount_kind", AMOUNT_KINDS, "total")
    months = mapping.number("deals.contract_months", 12.0)
    divisor = {"mrr": 1.0, "monthly": 1.0, "annual": 12.0, "contract": months, "total": months}[kind]
    deals = _drop(deals, deals["amount"] < 0, report, t, "with a negative amount")
    deals["mrr"] = deals["amount"] / divisor
    prop = mapping.string("deals.amount_property", "Amount")
    report.amounts = (f"deal column {prop!r} read as {AMOUNT_KIND_WORDS[kind]} (deals.amount_kind = {kind!r})"
                      + ("" if divisor == 1 else f": MRR = amount / {divisor:g}") + ".")
    closed = deals["status"].isin(["won", "lost"])
    close = deals["closed_raw"].where(closed)
    report.change(t, closed & close.isna(), "won or lost without a close date")
    early = close.notna() & (close < deals["created_at"])
    report.change(t, early, "closed before they were created (close date is a day): close time set to the creation time")
    close = close.where(~early, deals["created_at"])
    late = close.notna() & (close > now)
    report.change(t, late, "won or lost with a close date in the future: close time set to the import time")
    deals["closed_at"] = close.where(~late, now)
    ref = deals["lead_ref"].astype(str).str.strip().map(lambda r: lead_alias.get(r, r))
    report.change(t, (ref != "") & ~ref.isin(lead_ids), "linked to a lead not in the export: lead_id left empty")
    deals["lead_id"] = ref.where(ref.isin(lead_ids), "")
    report.links["deals with a lead"] = _share(int((deals["lead_id"] != "").sum()), len(deals))
    frameworks = _allowed("deals", "qualifying_framework")
    deals["qualifying_framework"] = deals["framework_raw"].astype(str).map(norm).map(
        mapping.values("deals.qualifying_framework_values", frameworks)).astype(object).fillna("")
    report.table(t).written = len(deals)
    if len(raw) and not len(deals):
        reasons = report.table(t).dropped.most_common(2)
        report.warnings.append(
            f"No deal could be imported: {len(raw)} read, all dropped ("
            + "; ".join(f"{n} {r}" for r, n in reasons) + "). "
            + ("The deals file has no owner column: add the owner property (HubSpot 'Deal owner', Salesforce "
               "'Opportunity Owner' or OwnerId) to the export. " if (raw["owner_key"].astype(str) == "").all() else "")
            + "Analyses of deals, win rates and commissions are off until this is fixed.")
    return deals


def finish_customers(deals: pd.DataFrame, mapping: Mapping, owner_to_rep: dict[str, str],
                     report: ImportReport, now: pd.Timestamp) -> pd.DataFrame:
    t = "customers"
    won = deals[deals["status"] == "won"].copy()
    report.table(t).read = len(won)
    won = _drop(won, won["closed_at"].isna(), report, t, "won deals without a close date")
    won = _drop(won, won["mrr"].isna(), report, t, "won deals without an amount (a customer needs an MRR)")
    start = pd.to_datetime(won["closed_at"], utc=True).dt.tz_convert(None).dt.normalize()
    churn = pd.to_datetime(won["churn_raw"], utc=True).dt.tz_convert(None).dt.normalize()
    bad = churn.notna() & (churn < start)
    report.change(t, bad, "with a churn date before the start: churn date left empty")
    future = churn.notna() & (churn > now.tz_convert(None))
    report.change(t, future, "with a churn date in the future: still active, churn date left empty")
    churn = churn.where(~bad & ~future)
    terms = _allowed("customers", "billing_term")
    billing = map_values(won["billing_raw"], mapping.values("customers.billing_term_values", terms),
                         default=mapping.choice("customers.default_billing_term", terms, "monthly"),
                         what="billing term", report=report, table_name=t)
    consultant = won["consultant_key"].astype(str).map(lambda k: owner_to_rep.get(norm(k), "") if k else "")
    report.change(t, (won["consultant_key"].astype(str) != "") & (consultant == ""),
                  "with a consultant who is not a rep in the mapping: consultant left empty")
    if not mapping.string("customers.churn_date_property"):
        report.note("No churn date property in the mapping (customers.churn_date_property): every customer counts "
                    "as active, so churn analyses will show no churn.")
    customers = pd.DataFrame({
        "customer_id": won["deal_id"], "deal_id": won["deal_id"], "closing_rep_id": won["rep_id"],
        "consultant_id": consultant, "start_date": start, "churn_date": churn, "mrr": won["mrr"],
        "billing_term": billing})
    report.table(t).written = len(customers)
    return customers


def link_warnings(report: ImportReport) -> None:
    """A warning for each link share that is zero or below :data:`LOW_LINK_SHARE`, with the usual causes."""
    causes = {
        "deals with a lead": "the deals export has no association column (HubSpot 'Associated Contact IDs'; "
                             "Salesforce ContactId, or the Lead export's ConvertedOpportunityId), or its ids come "
                             "from another export",
        "activities with a lead (of those with an owner and a date)":
            "activities are logged on deals/opportunities only (set activities.keep_deal_only = true), the "
            "association column is missing (HubSpot 'Associated Contact IDs', Salesforce WhoId), or the "
            "contacts/leads export is a different selection",
    }
    for what, link in report.links.items():
        if not link["total"]:
            continue
        if link["linked"] == 0:
            report.warnings.append(f"No {what.split(' (')[0]}: 0 of {link['total']} are linked. Usual causes: "
                                   f"{causes.get(what, 'a missing association column')}.")
        elif link["share"] < LOW_LINK_SHARE:
            report.warnings.append(f"Few {what}: {link['linked']} of {link['total']} ({link['share']:.0%}). Usual "
                                   f"causes: {causes.get(what, 'a missing association column')}.")


def drop_deleted(files: dict[str, Any], tables_of_kind: dict[str, str], report: ImportReport) -> None:
    """Rows marked deleted (Salesforce ``IsDeleted`` = true from "Export All" / Weekly Data Export, HubSpot
    ``archived``) are dropped from each export file and counted under their table."""
    for kind, file in files.items():
        column = file.find(("IsDeleted", "Deleted", "archived", "hs_is_deleted"))
        if column is None:
            continue
        deleted = file.frame[column].astype(str).str.strip().str.lower().isin(("true", "1", "yes"))
        if deleted.any():
            table = tables_of_kind.get(kind, kind)
            report.table(table).read += int(deleted.sum())
            report.drop(table, deleted, "deleted in the CRM (IsDeleted = true)")
            file.frame = file.frame[~deleted]


# --------------------------------------------------------------------------------------------
# The whole import
# --------------------------------------------------------------------------------------------
def run_import(crm: ModuleType, export_dir: str | Path, out_dir: str | Path, *, mapping_path: str | Path | None = None,
               config_path: str | Path | None = None, now: Any = None) -> ImportReport:
    """Read the export, apply (or first write) the mapping, write and validate the tables, publish.

    Raises ImportInputError / MappingError for bad input and ImportValidationError when the
    result fails the data contract; in every such case ``out_dir`` is left as it was.
    """
    from helpers.core.config import load_config
    from helpers.data.validate import validate_folder

    export_dir, out_dir = Path(export_dir).expanduser().resolve(), Path(out_dir).expanduser().resolve()
    now_ts = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    config = load_config(config_path)
    report = ImportReport(crm=crm.NAME, export_dir=str(export_dir), out_dir=str(out_dir))
    source = unpack_zips(export_dir, report)
    try:
        files = crm.read_files(source, report)
    finally:
        if source != export_dir:
            shutil.rmtree(source, ignore_errors=True)
    mapping_path = Path(mapping_path).expanduser().resolve() if mapping_path else default_mapping_path(out_dir)
    report.mapping_path = str(mapping_path)
    settings, value_tables = crm.default_settings(files)
    # A mapping file without [[reps]] is a start the analyst wrote (e.g. only number_format): its settings are
    # kept and the rest is written with guesses, as on a first run.
    given = load_mapping(mapping_path, crm.NAME).data if mapping_path.exists() else None
    created = given is None or "reps" not in given
    if created and given:
        settings = [(section, [(k, _given(given, section, k, v), c) for k, v, c in items])
                    for section, items in settings]
        value_tables = [(section, {**table, **(_given(given, section, "", {}) or {})}, c)
                        for section, table, c in value_tables]
    mapping = Mapping(mapping_path, given) if not created else \
        Mapping(mapping_path, {"crm": crm.NAME, **nested(settings, value_tables)})
    try:
        raw = crm.convert(files, mapping, report)
    except ImportInputError as exc:
        if created and "number_format" in str(exc) and given is None:
            raise ImportInputError(
                f"{exc} The mapping file does not exist yet: create {mapping_path} with the two lines "
                f"crm = \"{crm.NAME}\" and number_format = \"...\"; the import writes the rest of it.") from None
        raise
    if created:
        known = {norm(k): v for k, v in crm.KNOWN_STAGES.items()}
        seen = [s for s in pd.unique(raw["deals"]["stage_raw"].astype(str)) if s] if "deals" in raw else []
        seen += [s for s in raw.get("stages_seen", []) if s not in seen]
        stages = {name: guess_stage(name, known) for name in dict.fromkeys([*crm.KNOWN_STAGES, *seen])}
        write_mapping(mapping_path, crm=crm.NAME, settings=settings, value_tables=value_tables, stages=stages,
                      reps=guessed_reps(raw["owners"]))
        mapping = load_mapping(mapping_path, crm.NAME)
        report.mapping_created = True
    reps, owner_to_rep = finish_reps(mapping, report)
    tables: dict[str, pd.DataFrame] = {"reps": reps}
    report.table("reps").written = len(reps)
    lead_ids: set[str] = set()
    if "leads" in raw:
        tables["leads"] = finish_leads(raw["leads"], mapping, owner_to_rep, report, now_ts)
        lead_ids = set(tables["leads"]["lead_id"])
    alias = raw.get("lead_alias", {})
    deal_leads: dict[str, str] = {}
    if "deals" in raw:
        tables["deals"] = finish_deals(raw["deals"], mapping, alias, lead_ids, owner_to_rep, report, now_ts)
        tables["customers"] = finish_customers(tables["deals"], mapping, owner_to_rep, report, now_ts)
        deal_leads = dict(zip(tables["deals"]["deal_id"], tables["deals"]["lead_id"]))
    if "activities" in raw:
        if "leads" not in raw:
            report.note("No contacts/leads file: activities cannot be linked to leads and were not written.")
        else:
            tables["activities"] = finish_activities(raw["activities"], mapping, alias, lead_ids, deal_leads,
                                                     owner_to_rep, report, now_ts)
    if "lead_events" in raw and "leads" in raw:
        events = raw["lead_events"]
        report.table("lead_events").read = len(events)
        events = _drop(events, events["occurred_at"].isna() | (events["occurred_at"] > now_ts), report,
                       "lead_events", "without a date or in the future")
        events = _drop(events, ~events["lead_id"].isin(lead_ids), report, "lead_events", "of a lead not written")
        tables["lead_events"] = events
        report.table("lead_events").written = len(events)
    link_warnings(report)
    if "quotas" in raw:
        quotas = raw["quotas"]
        report.table("quotas").read = len(quotas)
        quotas = _drop(quotas, ~quotas["rep_id"].isin(set(reps["rep_id"])), report, "quotas",
                       "of a rep not in the mapping")
        tables["quotas"] = quotas
        report.table("quotas").written = len(quotas)
    tmp = staging_folder(out_dir)
    try:
        for name in TABLES:
            if name in tables:
                to_contract_csv(tables[name], name).to_csv(tmp / f"{name}.csv", index=False)
        validation = validate_folder(tmp, config, now=now_ts)
        report.validation_warnings = [str(p) for p in validation.warnings]
        if not validation.ok:
            raise ImportValidationError(
                "the imported tables failed the data-contract validation, so nothing was written:\n"
                + validation.format() + "\n\n" + report.format(), validation)
        write_report_files(tmp, report)
        publish_folder(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def cli_import(crm_name: str, export_dir: Path, out_dir: Path, mapping_path: Path | None,
               config_path: Path | None) -> int:
    """``sales-workbook import hubspot|salesforce EXPORT_DIR --out DATA_DIR``: 0 written, 1 invalid, 2 bad input."""
    import sys

    from . import CRMS

    try:
        report = run_import(CRMS[crm_name], export_dir, out_dir, mapping_path=mapping_path, config_path=config_path)
    except (ImportInputError, MappingError) as exc:
        print(f"sales-workbook import {crm_name}: {exc}\nNothing was written.", file=sys.stderr)
        return 2
    except ImportValidationError as exc:
        print(f"sales-workbook import {crm_name}: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:  # a case the checks above did not foresee
        print(f"sales-workbook import {crm_name}: the export could not be imported ({type(exc).__name__}: {exc}). "
              f"Nothing was written. Check that {export_dir} holds the CRM's own CSV/XLSX exports, unedited; "
              f"if it does, report this message with the import_report of the last good import.", file=sys.stderr)
        return 2
    print(report.format())
    print(f"\nWrote {out_dir} (report: {Path(out_dir) / 'import_report.txt'}). Next: "
          f"sales-workbook validate {out_dir}; sales-workbook report --data {out_dir}")
    return 0
