"""Salesforce CSV exports -> raw frames for :mod:`.pipeline`.

Data Loader (and Data Export) files carry API field names as headings (``Id``, ``OwnerId``,
``StageName``, ``CreatedDate``, ``IsWon``) and write date-times in UTC with a ``Z``
(``2026-10-01T14:03:00.000Z``); report exports carry field LABELS ("Opportunity ID", "Stage",
"Created Date", "Won") and local times. Both headings are accepted; times without an offset are
read in the mapping's ``timezone``. One file per object, named after it (``User.csv``,
``Lead.csv``, ``Contact.csv``, ``Account.csv``, ``Opportunity.csv``, ``OpportunityHistory.csv``,
``Task.csv``, ``Event.csv``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .common import (ExportFile, ImportInputError, ImportReport, find_export_files, footer_check, is_true, norm,
                     parse_amounts, parse_times, read_export_csv, salesforce_id18, zone)
from .mapping import Mapping

NAME = "salesforce"
FILES = {"users": ("user", "users"), "leads": ("lead", "leads"), "contacts": ("contact", "contacts"),
         "accounts": ("account", "accounts"), "opportunities": ("opportunity", "opportunities"),
         "opportunity_history": ("opportunityhistory",), "tasks": ("task", "tasks"),
         "events": ("event", "events"), "quotas": ("quotas", "quota", "forecastingquota")}

ID = ("Id", "ID")
#: Owner columns: ids first (Data Loader, or report columns such as 'Opportunity Owner ID'), then the names that
#: report exports carry ('Opportunity Owner', 'Lead Owner', 'Assigned'), matched to User by name or e-mail.
OWNER = ("OwnerId", "Owner ID", "Assigned To ID", "Opportunity Owner ID", "Lead Owner ID", "Contact Owner ID",
         "Opportunity Owner", "Lead Owner", "Contact Owner", "Assigned", "Assigned To", "Owner Name", "Owner",
         "Owner: Full Name", "Opportunity Owner: Full Name")
WHAT = ("WhatId", "What ID", "Related To ID", "Opportunity ID")
#: Which table each export file's rows belong to (for deleted-row counts).
TABLE_OF_KIND = {"leads": "leads", "contacts": "leads", "opportunities": "deals", "tasks": "activities",
                 "events": "activities", "users": "reps", "accounts": "accounts",
                 "opportunity_history": "deals history"}
#: A file whose name says nothing (``report1700000000000.csv``) is recognised by its heading: kind -> heading groups.
SIGNATURES = {
    "opportunities": (("Opportunity Name", "Opportunity ID", "Opportunity: Opportunity Name"), ("Stage", "StageName")),
    "opportunity_history": (("OpportunityId", "Opportunity ID"), ("StageName", "To Stage", "Stage Name"),
                            ("Probability", "From Stage", "ExpectedRevenue", "Edit Date")),
    "leads": (("Lead ID", "Lead Owner", "Lead Status", "IsConverted", "ConvertedContactId"),
              ("Lead Source", "LeadSource", "Company", "Company / Account", "Created Date", "CreatedDate")),
    "contacts": (("Contact ID", "Contact Owner"), ("First Name", "FirstName", "Last Name", "LastName")),
    "tasks": (("Activity ID", "Task ID", "TaskSubtype", "Task Subtype", "Call Result", "CallDisposition"),
              ("Subject", "Assigned", "Assigned To", "Call Result", "Task Subtype", "Type", "Status", "Date")),
    "events": (("StartDateTime", "Start Date Time", "Start"), ("Subject", "Assigned", "Assigned To")),
    "users": (("User ID", "Username"), ("Email",)),
    "accounts": (("Account ID", "Account Name"), ("Billing City", "Industry", "Employees", "Account Owner")),
}
CREATED = ("CreatedDate", "Created Date")
WHO = ("WhoId", "Who ID", "Name ID", "Lead/Contact ID", "Contact/Lead ID")

#: Salesforce's default opportunity stages (the StageName picklist of a new org).
KNOWN_STAGES = {
    "Prospecting": {"status": "open", "funnel": ""},
    "Qualification": {"status": "open", "funnel": "discovery"},
    "Needs Analysis": {"status": "open", "funnel": "discovery"},
    "Value Proposition": {"status": "open", "funnel": "demo"},
    "Id. Decision Makers": {"status": "open", "funnel": "demo"},
    "Perception Analysis": {"status": "open", "funnel": "demo"},
    "Proposal/Price Quote": {"status": "open", "funnel": "demo"},
    "Negotiation/Review": {"status": "open", "funnel": "demo"},
    "Closed Won": {"status": "won", "funnel": "won"},
    "Closed Lost": {"status": "lost", "funnel": ""},
}
#: Salesforce's default LeadSource picklist values.
SOURCES = {"Web": "organic_search", "Phone Inquiry": "direct", "Partner Referral": "partner",
           "Purchased List": "outbound", "Other": "other", "Advertisement": "paid_search",
           "Employee Referral": "referral", "External Referral": "referral", "Partner": "partner",
           "Public Relations": "other", "Seminar - Internal": "event", "Seminar - Partner": "event",
           "Trade Show": "event", "Word of mouth": "referral"}
CALL_RESULTS = {"Connected": "connected", "Left Voicemail": "voicemail", "Voicemail": "voicemail",
                "No Answer": "no_answer", "Busy": "no_answer", "Wrong Number": "wrong_number"}


def read_files(export_dir: Path, report: ImportReport) -> dict[str, ExportFile]:
    """The export's files (Data Loader, a Weekly Data Export folder or ZIP, report exports), deleted rows dropped,
    footers removed and 15-character ids normalised to 18."""
    from .pipeline import drop_deleted

    paths = find_export_files(export_dir, FILES, "Salesforce", signatures=SIGNATURES, report=report)
    if "leads" not in paths and "contacts" not in paths:
        raise ImportInputError(f"no Lead or Contact export in {export_dir}: export the Lead and Contact objects "
                               f"(Data Loader > Export) as Lead.csv and Contact.csv into that folder.")
    report.files = {k: p.name for k, p in paths.items()}
    report.missing_files = [k for k in FILES if k not in paths and k != "quotas"]
    files = {k: ExportFile(k, p, read_export_csv(p)) for k, p in paths.items()}
    changed = 0
    for f in files.values():
        footer_check(f, report)
        for column in f.frame.columns:
            if norm(column).endswith("id") and norm(column) not in ("recordtypeid",):
                f.frame[column], n = salesforce_id18(f.frame[column])
                changed += n
    if changed:
        report.note(f"{changed} Salesforce id(s) of 15 characters (report exports) normalised to their 18-character "
                    f"form (as Data Loader writes them), so they match across files.")
    drop_deleted(files, TABLE_OF_KIND, report)
    return files


def default_settings(files: dict[str, ExportFile]) -> tuple[list, list]:
    seen_sources: dict[str, str] = {}
    known = {norm(k): v for k, v in SOURCES.items()}
    for kind in ("leads", "contacts"):
        if kind in files:
            col = files[kind].col(("LeadSource", "Lead Source"))
            seen_sources.update({v: known.get(norm(v), "") for v in sorted(set(col) - {""})})
    settings = [
        ("", [("timezone", "UTC", "times without Z/offset (report exports) are in this zone"),
              ("date_format", "auto", "or a pattern such as %d/%m/%Y %H:%M"),
              ("number_format", "auto", "amounts: auto (per column), \"1,234.56\" or \"1.234,56\"")]),
        ("leads", [("source_property", "LeadSource", "Lead/Contact field holding the lead source"),
                   ("default_source", "other", "source for leads whose source is empty or unmapped"),
                   ("lead_type_property", "", "field holding seed / net / spear, if you track it"),
                   ("default_lead_type", "net", "lead type when neither the field nor the source decide"),
                   ("persona_property", "", "field holding the buyer persona (e.g. Persona__c)"),
                   ("segment_property", "", "Lead/Account field holding the segment, if any"),
                   ("segment_employee_bounds", [50, 500], "else by NumberOfEmployees (our choice)"),
                   ("default_segment", "small_business", "segment when neither is known"),
                   ("first_offer_property", "", "field naming the first offer converted on"),
                   ("default_first_offer", "other", "first offer when empty or unmapped"),
                   ("journey_stage_property", "", "field holding awareness / consideration / decision")]),
        ("deals", [("amount_property", "Amount", "Opportunity field holding the value (e.g. MRR__c)"),
                   ("amount_kind", "total", "total: whole contract value (/ contract_months); monthly; annual (/ 12)"),
                   ("contract_months", 12, "months of a contract when amount_kind = total"),
                   ("keep_without_amount", False, "true: keep deals with an empty amount (MRR unknown)"),
                   ("record_types", [], "RecordTypeId values to import (empty: all)"),
                   ("qualifying_framework_property", "", "Opportunity field naming BANT / GPCT, if tracked")]),
        ("activities", [("meeting_kind_property", "Subject", "Event field telling discovery from demo"),
                        ("keep_calls_without_outcome", False, "true: keep calls with no Call Result (outcome empty)"),
                        ("keep_deal_only", False, "true: tasks on an Opportunity only count for its lead"),
                        ("meeting_outcome_property", "", "Event field holding held / no-show, if tracked")]),
        ("customers", [("churn_date_property", "", "Account field holding the churn (cancellation) date"),
                       ("billing_term_property", "", "Account field holding monthly / annual prepay"),
                       ("default_billing_term", "monthly", "billing term when not known"),
                       ("consultant_property", "", "Account field holding the customer-success user id")]),
    ]
    value_tables = [
        ("leads.source_values", {**SOURCES, **seen_sources}, "LeadSource -> workbook source ('' = default)"),
        ("leads.lead_type_by_source", {"referral": "seed", "partner": "seed", "outbound": "spear"},
         "workbook source -> lead type (the others: default_lead_type); our choice after Predictable Revenue"),
        ("activities.call_outcomes", CALL_RESULTS, "Task CallDisposition ('Call Result') -> outcome"),
        ("activities.meeting_outcomes", {"Held": "held", "Completed": "held", "No Show": "no_show"},
         "value of meeting_outcome_property -> outcome"),
        ("activities.meeting_kinds", {"Discovery": "discovery", "Demo": "demo"},
         "words in the meeting_kind_property -> meeting kind"),
    ]
    return settings, value_tables


def _times(file: ExportFile, aliases, mapping: Mapping, report: ImportReport, *, required: bool = False,
           what: str = "") -> pd.Series:
    tz = zone(mapping.string("timezone", "UTC"), f"{mapping.path}: timezone")
    name = file.find(aliases)
    return parse_times(file.col(aliases, required=required, what=what), tz=tz,
                       date_format=mapping.string("date_format", "auto"),
                       label=f"{file.path.name}: {name or list(aliases)[0]}", report=report)


def _prop(file: ExportFile, mapping: Mapping, key: str, *fallback: str) -> pd.Series:
    name = mapping.string(key)
    return file.col([n for n in (name, *fallback) if n])


def _who(file: ExportFile) -> pd.Series:
    """The lead or contact of an activity: WhoId (Data Loader, 'Name ID' in reports), or an activity report's
    separate 'Lead ID' and 'Contact ID' columns (the lead first)."""
    if file.has(WHO) or not (file.has(("Lead ID",)) or file.has(("Contact ID",))):
        return file.col(WHO, required=True, what="the lead or contact (WhoId)")
    lead = file.col(("Lead ID",))
    return lead.where(lead != "", file.col(("Contact ID",)))


def meeting_kinds(values: pd.Series, kinds: dict[str, str]) -> pd.Series:
    """First mapped word found in the value (``"Demo - Acme"`` -> ``demo``); '' when none."""
    key = values.astype(str).map(norm)
    out = pd.Series("", index=values.index, dtype=object)
    for word, kind in kinds.items():  # a handful of mapping entries, not rows
        if word and kind:
            out = out.where((out != "") | ~key.str.contains(word, regex=False), kind)
    return out


def read_quotas(file: ExportFile) -> pd.DataFrame:
    """Quotas in the contract's own columns, or Salesforce ForecastingQuota (QuotaOwnerId, StartDate, QuotaAmount)."""
    rep = file.col(("rep_id", "QuotaOwnerId", "Quota Owner ID"), required=True, what="the quota owner")
    month = file.col(("month", "StartDate", "Start Date"), required=True, what="the month").str[:7]
    amount = parse_amounts(file.col(("quota_mrr", "QuotaAmount", "Quota Amount"), required=True, what="the amount"),
                           label=f"{file.path.name}: quota")
    return pd.DataFrame({"rep_id": rep, "month": month, "quota_mrr": amount}).dropna()


def convert(files: dict[str, ExportFile], mapping: Mapping, report: ImportReport) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    seen: list[pd.DataFrame] = []
    accounts = pd.DataFrame(columns=["account_id", "employees", "segment", "churn", "billing", "consultant"])
    if "accounts" in files:
        a = files["accounts"]
        accounts = pd.DataFrame({
            "account_id": a.col(ID + ("Account ID",), required=True, what="the account id"),
            "employees": a.col(("NumberOfEmployees", "Employees")),
            "segment": _prop(a, mapping, "leads.segment_property"),
            "churn": _times(a, [mapping.string("customers.churn_date_property") or "\0"], mapping, report),
            "billing": _prop(a, mapping, "customers.billing_term_property"),
            "consultant": _prop(a, mapping, "customers.consultant_property"),
        }).drop_duplicates("account_id")
    by_account = accounts.set_index("account_id")

    leads, alias, opp_lead = [], {}, {}
    if "leads" in files:
        f = files["leads"]
        ids = f.col(ID + ("Lead ID",), required=True, what="the lead id")
        created = _times(f, CREATED, mapping, report, required=True, what="the created date")
        converted_contact = f.col(("ConvertedContactId", "Converted Contact ID"))
        converted_opp = f.col(("ConvertedOpportunityId", "Converted Opportunity ID"))
        alias.update({c: i for c, i in zip(converted_contact, ids) if c})
        opp_lead.update({o: i for o, i in zip(converted_opp, ids) if o})
        leads.append(pd.DataFrame({
            "lead_id": ids, "created_at": created, "owner_key": f.col(OWNER),
            "source_raw": _prop(f, mapping, "leads.source_property", "Lead Source"),
            "lead_type_raw": _prop(f, mapping, "leads.lead_type_property"),
            "persona_raw": _prop(f, mapping, "leads.persona_property"),
            "segment_raw": _prop(f, mapping, "leads.segment_property"),
            "employees_raw": f.col(("NumberOfEmployees", "No. of Employees", "Employees")),
            "first_offer_raw": _prop(f, mapping, "leads.first_offer_property"),
            "journey_raw": _prop(f, mapping, "leads.journey_stage_property")}))
    if "contacts" in files:
        f = files["contacts"]
        ids = f.col(ID + ("Contact ID",), required=True, what="the contact id")
        account = f.col(("AccountId", "Account ID"))
        frame = pd.DataFrame({
            "lead_id": ids, "created_at": _times(f, CREATED, mapping, report, required=True, what="the created date"),
            "owner_key": f.col(OWNER), "source_raw": _prop(f, mapping, "leads.source_property", "Lead Source"),
            "lead_type_raw": _prop(f, mapping, "leads.lead_type_property"),
            "persona_raw": _prop(f, mapping, "leads.persona_property"),
            "segment_raw": account.map(by_account["segment"]).astype(object).fillna(""),
            "employees_raw": account.map(by_account["employees"]).astype(object).fillna(""),
            "first_offer_raw": _prop(f, mapping, "leads.first_offer_property"),
            "journey_raw": _prop(f, mapping, "leads.journey_stage_property")})
        converted = frame["lead_id"].isin(alias)
        if "leads" in files:
            report.note(f"{int(converted.sum())} contacts converted from a lead are the same person as that lead "
                        f"(their activities count for the lead); {int((~converted).sum())} other contacts are "
                        f"imported as leads.")
        leads.append(frame[~converted])
    raw["leads"] = pd.concat(leads, ignore_index=True)
    raw["lead_alias"] = alias
    seen.append(raw["leads"][["owner_key", "created_at"]].rename(columns={"created_at": "when"}))

    activities = []
    kinds = mapping.values("activities.meeting_kinds", ("discovery", "demo"))
    if "tasks" in files:
        f = files["tasks"]
        subtype = f.col(("TaskSubtype", "Task Subtype")).map(norm)
        ttype = f.col(("Type", "Task Type")).map(norm)
        kind = np.select([subtype == "call", subtype.isin(["email", "listemail"]),
                          (subtype.isin(["", "task"])) & (ttype == "call"),
                          (subtype.isin(["", "task"])) & (ttype == "email"),
                          (subtype.isin(["", "task"])) & (ttype == "meeting")],
                         ["call", "email", "call", "email", "meeting"], "")
        when = _times(f, ("CompletedDateTime", "Completed Date/Time"), mapping, report)
        for aliases in (CREATED, ("ActivityDate", "Due Date", "Date")):
            when = when.fillna(_times(f, aliases, mapping, report))
        result = f.col(("CallDisposition", "Call Result"))
        outcome = result.map(norm).map(mapping.values("activities.call_outcomes",
                                                      ("connected", "voicemail", "no_answer", "wrong_number")))
        report.unmapped_values("call result", result[(kind == "call") & outcome.isna() & (result != "")])
        frame = pd.DataFrame({
            "activity_id": f.col(ID + ("Activity ID",), required=True, what="the task id"),
            "owner_key": f.col(OWNER, required=True, what="the task owner (OwnerId)"),
            "lead_ref": _who(f), "occurred_at": when,
            "deal_ref": f.col(WHAT).where(lambda w: w.str.startswith("006"), ""),
            "activity_type": kind,
            "outcome": np.where(kind == "call", outcome.fillna(""), np.where(kind == "email", "sent", "held")),
            "meeting_kind": np.where(kind == "meeting", meeting_kinds(f.col(("Subject",)), kinds), ""),
            "drop_reason": ""})
        frame.loc[kind == "", "drop_reason"] = "tasks that are not calls, emails or meetings"
        frame.loc[(kind == "call") & (result == ""), "drop_reason"] = "calls without a call result"
        frame.loc[(kind == "call") & (result != "") & outcome.isna(), "drop_reason"] = \
            "calls with a call result not in the mapping"
        if f.has(("IsClosed", "Closed")) or f.has(("Status",)):
            done = is_true(f.col(("IsClosed", "Closed"))) | f.col(("Status",)).map(norm).eq("completed")
            frame.loc[~done & (frame["drop_reason"] == ""), "drop_reason"] = "open tasks (not done yet)"
        activities.append(frame)
    if "events" in files:
        f = files["events"]
        when = _times(f, ("StartDateTime", "Start", "ActivityDateTime", "Start Date Time"), mapping, report,
                      required=True, what="the start time")
        outcome_raw = _prop(f, mapping, "activities.meeting_outcome_property")
        mapped = outcome_raw.map(norm).map(mapping.values("activities.meeting_outcomes", ("held", "no_show")))
        report.unmapped_values("meeting outcome", outcome_raw[mapped.isna() & (outcome_raw != "")])
        frame = pd.DataFrame({
            "activity_id": f.col(ID + ("Activity ID",), required=True, what="the event id"),
            "owner_key": f.col(OWNER, required=True, what="the event owner (OwnerId)"),
            "lead_ref": _who(f), "occurred_at": when,
            "deal_ref": f.col(WHAT).where(lambda w: w.str.startswith("006"), ""),
            "activity_type": "meeting", "outcome": mapped.where(outcome_raw != "", "held").fillna(""),
            "meeting_kind": meeting_kinds(_prop(f, mapping, "activities.meeting_kind_property"), kinds),
            "drop_reason": ""})
        frame.loc[frame["outcome"] == "", "drop_reason"] = "meetings with an outcome not in the mapping"
        activities.append(frame)
    if activities:
        raw["activities"] = pd.concat(activities, ignore_index=True)
        seen.append(raw["activities"][["owner_key", "occurred_at"]].rename(columns={"occurred_at": "when"}))

    if "opportunities" in files:
        f = files["opportunities"]
        ids = f.col(ID + ("Opportunity ID",), required=True, what="the opportunity id")
        account = f.col(("AccountId", "Account ID"))
        won, closed = is_true(f.col(("IsWon", "Won"))), is_true(f.col(("IsClosed", "Closed")))
        has_flags = f.has(("IsWon", "Won")) and f.has(("IsClosed", "Closed"))
        amount_col = mapping.string("deals.amount_property", "Amount")
        contact = f.col(("ContactId", "Contact ID"))
        deals = pd.DataFrame({
            "deal_id": ids, "owner_key": f.col(OWNER),
            "lead_ref": contact.where(contact != "", ids.map(opp_lead).fillna("")),
            "created_at": _times(f, CREATED, mapping, report, required=True, what="the created date"),
            "closed_raw": _times(f, ("CloseDate", "Close Date"), mapping, report, required=True, what="the close date"),
            "stage_raw": f.col(("StageName", "Stage"), required=True, what="the stage"),
            "status_raw": np.where(has_flags, np.where(won, "won", np.where(closed, "lost", "open")), ""),
            "amount": parse_amounts(f.col([amount_col, "Amount"], required=True, what=f"the amount ({amount_col!r})"),
                                    label=f"{f.path.name}: {f.find([amount_col, 'Amount'])}",
                                    number_format=mapping.string("number_format", "auto"), report=report),
            "framework_raw": _prop(f, mapping, "deals.qualifying_framework_property"),
            "churn_raw": pd.to_datetime(account.map(by_account["churn"]), utc=True) if len(by_account) else pd.NaT,
            "consultant_key": account.map(by_account["consultant"]).astype(object).fillna("") if len(by_account) else "",
            "billing_raw": account.map(by_account["billing"]).astype(object).fillna("") if len(by_account) else ""})
        deals["churn_raw"] = pd.to_datetime(deals["churn_raw"], utc=True)
        if has_flags:
            report.note("Won/lost status from IsWon/IsClosed (authoritative); the stage mapping gives the funnel.")
        record_types = mapping.get("deals.record_types", [])
        if record_types:
            keep = f.col(("RecordTypeId", "Record Type ID")).isin(record_types)
            report.drop("deals", ~keep, "of a record type not listed in deals.record_types")
            deals = deals[keep]
        raw["deals"] = deals
        seen.append(deals[["owner_key", "created_at"]].rename(columns={"created_at": "when"}))
        if "opportunity_history" in files:
            h = files["opportunity_history"]
            stages = {k: v for k, v in mapping.stages().items()}
            hist = pd.DataFrame({"deal": h.col(("OpportunityId", "Opportunity ID"), required=True,
                                               what="the opportunity id"),
                                 "stage": h.col(("StageName", "Stage Name", "To Stage"), required=True,
                                                what="the stage")})
            raw["stages_seen"] = [s for s in pd.unique(hist["stage"]) if s]
            hist["funnel"] = hist["stage"].map(norm).map(lambda k: stages.get(k, {}).get("funnel", ""))
            reached = hist[hist["funnel"] != ""].drop_duplicates(["deal", "funnel"])["funnel"].value_counts()
            if len(reached):
                report.note("Opportunities that ever reached each funnel stage (OpportunityHistory): "
                            + ", ".join(f"{k} {int(v)}" for k, v in reached.items()) + ".")

    raw["owners"] = _owners(pd.concat(seen, ignore_index=True), files.get("users"), mapping, report)
    if "quotas" in files:
        raw["quotas"] = read_quotas(files["quotas"])
    return raw


def _owners(seen: pd.DataFrame, users: ExportFile | None, mapping: Mapping, report: ImportReport) -> pd.DataFrame:
    """One row per owner. With a User export, owners seen by name or e-mail (report exports: 'Opportunity Owner')
    are the same person as the user id seen elsewhere (Data Loader: OwnerId): one rep, the other keys as aliases."""
    seen = seen[seen["owner_key"].astype(str).str.strip() != ""]
    if users is not None:
        u = users
        full = (u.col(("FirstName", "First Name")) + " " + u.col(("LastName", "Last Name"))).str.strip()
        table = pd.DataFrame({
            "id": u.col(ID + ("User ID",), required=True, what="the user id"),
            "name": u.col(("Name", "Full Name")).where(lambda s: s != "", full),
            "email": u.col(("Email",)), "active": u.col(("IsActive", "Active")),
            "created": _times(u, CREATED, mapping, report), "manager": u.col(("ManagerId", "Manager ID"))}
        ).drop_duplicates("id").set_index("id")
        lookup = {**{norm(e): i for i, e in table["email"].items() if e},
                  **{norm(n): i for i, n in table["name"].items() if n}, **{norm(i): i for i in table.index}}
        distinct = pd.unique(seen["owner_key"])  # owners: dozens of distinct keys, not one per record
        canonical = seen["owner_key"].map({k: lookup.get(norm(k), k) for k in distinct})
        seen = seen.assign(raw_key=seen["owner_key"], owner_key=canonical)
    else:
        seen = seen.assign(raw_key=seen["owner_key"])
    out = seen.groupby("owner_key")["when"].agg(["min", "max"]).reset_index()
    out = out.rename(columns={"min": "first_seen", "max": "last_seen"})
    keys = seen.groupby("owner_key")["raw_key"].agg(lambda k: sorted(set(k)))
    out["aliases"] = out["owner_key"].map(keys).map(lambda ks: ks if isinstance(ks, list) else [])
    # a record id (005... user, 00G... queue): letters and digits only, 15+ long, with a digit; names have spaces
    looks_like_id = out["owner_key"].astype(str).str.fullmatch(r"[A-Za-z0-9]{15,}") & \
        out["owner_key"].astype(str).str.contains(r"\d")
    out["name"], out["owner_id"], out["email"] = out["owner_key"], out["owner_key"].where(looks_like_id, ""), ""
    if users is None and looks_like_id.any() and (~looks_like_id).any():
        report.warnings.append(
            f"Owners appear both as user ids ({int(looks_like_id.sum())}) and as names ({int((~looks_like_id).sum())}) "
            f"and there is no User export to join them: the same person may be counted as two reps. Add User.csv "
            f"(Id, Name, Email) to the export folder, or list the name under the id's aliases in the mapping.")
    if users is not None:
        known = out["owner_key"].isin(table.index)
        # queues (ids 00G...) and deleted users own records but are not people to analyse; a NAME not in User
        # (a report's owner column, a user left out of the User export) is a person: kept, and said
        out["include"] = known | ~looks_like_id
        unknown_ids, unknown_names = ~known & looks_like_id, ~known & ~looks_like_id
        if unknown_ids.any():
            report.note(f"{int(unknown_ids.sum())} owner id(s) not in the User export (queues or deleted users), "
                        f"written to the mapping with include = false: their leads stay unassigned and their "
                        f"activities and deals are dropped.")
        if unknown_names.any():
            report.warnings.append(
                f"{int(unknown_names.sum())} owner name(s) match no user in the User export by name or e-mail ("
                + ", ".join(repr(n) for n in out.loc[unknown_names, "owner_key"].head(5))
                + "): each is a rep of its own; if one is a user seen elsewhere by id, add the name to that "
                  "rep's aliases in the mapping.")
        out["name"] = out["owner_key"].map(table["name"]).where(known, out["owner_key"])
        out["email"] = out["owner_key"].map(table["email"]).fillna("")
        out["hire_date"] = out["owner_key"].map(table["created"]).dt.strftime("%Y-%m-%d").fillna("")
        inactive = out["owner_key"].map(table["active"]).fillna("").map(norm).isin(["false", "0"])
        out["leave_date"] = np.where(inactive, out["last_seen"].dt.strftime("%Y-%m-%d"), "")
        out["manager_key"] = out["owner_key"].map(table["manager"]).fillna("")
        # a hire date after the owner's first record cannot be: the user record was created later
        first = out["first_seen"].dt.strftime("%Y-%m-%d")
        out["hire_date"] = np.where((out["hire_date"] == "") | (out["hire_date"] > first), first, out["hire_date"])
    return out
