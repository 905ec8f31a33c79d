"""HubSpot CSV exports (CRM > object index page > Export) -> raw frames for :mod:`.pipeline`.

HubSpot exports property LABELS as headings ("Record ID", "Create Date", "Deal Stage", "Contact
owner"); exports made through the API or with "internal values" use internal names
("hs_object_id", "createdate", "dealstage", "hubspot_owner_id"). Both are accepted. Times are
written in the portal's time zone without an offset: set ``timezone`` in the mapping file.
Owners appear by name (or e-mail) in the owner columns; an optional owners/users export adds ids.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .common import (ExportFile, ImportInputError, ImportReport, first_id, norm, parse_amounts, parse_times,
                     read_export_csv, zone)
from .mapping import Mapping

NAME = "hubspot"
FILES = {"owners": ("owners", "owner", "users", "user"), "contacts": ("contacts", "contact"),
         "companies": ("companies", "company"), "deals": ("deals", "deal"), "calls": ("calls", "call"),
         "emails": ("emails", "email"), "meetings": ("meetings", "meeting"), "quotas": ("quotas", "quota")}
REQUIRED = ("contacts",)
#: A file whose name says nothing is recognised by its heading: kind -> heading groups (labels or internal names).
SIGNATURES = {
    "deals": (("Deal Stage", "dealstage"), ("Deal Name", "dealname", "Amount", "amount")),
    "contacts": (("First Name", "firstname", "Email", "email"), ("Lifecycle Stage", "lifecyclestage", "Contact owner")),
    "calls": (("Call outcome", "hs_call_disposition", "Call Title", "hs_call_title"),),
    "meetings": (("Meeting outcome", "hs_meeting_outcome", "Meeting start time", "hs_meeting_start_time"),),
    "emails": (("Email direction", "hs_email_direction", "Email subject", "hs_email_subject"),),
    "companies": (("Company name", "name", "Company Domain Name", "domain"), ("Number of Employees", "numemployees",
                                                                           "Industry", "industry")),
    "owners": (("Owner ID", "User ID"), ("Email", "email")),
}
#: Which contract table each export file's rows belong to (for deleted-row counts).
TABLE_OF_KIND = {"contacts": "leads", "deals": "deals", "calls": "activities", "emails": "activities",
                 "meetings": "activities"}

ID = ("Record ID", "hs_object_id", "Contact ID", "Company ID", "Deal ID", "Activity ID", "ID", "vid")
CREATED = ("Create Date", "createdate", "Created Date", "Created at")
CONTACT_IDS = ("Associated Contact IDs", "Associated Contact ID", "Associated Contact IDs (Primary)", "Contact ID",
               "contact_id", "associatedcontactid")
COMPANY_IDS = ("Associated Company IDs", "Associated Company ID", "Associated Company IDs (Primary)",
               "associatedcompanyid", "Company ID")
ACTIVITY_OWNER = ("Activity assigned to", "hubspot_owner_id", "Call owner", "Meeting owner", "Email owner",
                  "Activity owner", "Owner")
ACTIVITY_TIME = ("Activity date", "hs_timestamp", "Call date", "Email send date")
DEAL_IDS = ("Associated Deal IDs", "Associated Deal ID", "Associated Deal IDs (Primary)", "associateddealid",
            "associations.deals")
DEAL_OWNER = ("Deal owner", "hubspot_owner_id", "Deal Owner", "Owner", "Deal owner ID")

#: HubSpot's default deal pipeline ("Sales Pipeline") stages.
KNOWN_STAGES = {
    "Appointment Scheduled": {"status": "open", "funnel": "discovery"},
    "Qualified To Buy": {"status": "open", "funnel": "discovery"},
    "Presentation Scheduled": {"status": "open", "funnel": "demo"},
    "Decision Maker Bought-In": {"status": "open", "funnel": "demo"},
    "Contract Sent": {"status": "open", "funnel": "demo"},
    "Closed Won": {"status": "won", "funnel": "won"},
    "Closed Lost": {"status": "lost", "funnel": ""},
}

#: Default call outcomes: label and internal GUID (the value of hs_call_disposition).
CALL_OUTCOMES = {
    "Connected": "connected", "f240bbac-87c9-4f6e-bf70-924b57d47db7": "connected",
    "Left live message": "voicemail", "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "voicemail",
    "Left voicemail": "voicemail", "b2cf5968-551e-4856-9783-52b3da59a7d0": "voicemail",
    "No answer": "no_answer", "73a0d17f-1163-4015-bdd5-ec830791da20": "no_answer",
    "Busy": "no_answer", "9d9162e7-6cf3-4944-bf63-4dff82258764": "no_answer",
    "Wrong number": "wrong_number", "17b47fee-58de-441e-a44c-c6300d46f273": "wrong_number",
}
MEETING_OUTCOMES = {"Completed": "held", "COMPLETED": "held", "Scheduled": "held", "SCHEDULED": "held",
                    "No show": "no_show", "NO_SHOW": "no_show", "Rescheduled": "", "RESCHEDULED": "",
                    "Canceled": "", "CANCELED": ""}
SOURCES = {"Organic Search": "organic_search", "ORGANIC_SEARCH": "organic_search",
           "Paid Search": "paid_search", "PAID_SEARCH": "paid_search",
           "Email Marketing": "email", "EMAIL_MARKETING": "email",
           "Organic Social": "social", "Social Media": "social", "SOCIAL_MEDIA": "social",
           "Paid Social": "social", "PAID_SOCIAL": "social",
           "Referrals": "referral", "REFERRALS": "referral",
           "Other Campaigns": "other", "OTHER_CAMPAIGNS": "other",
           "Direct Traffic": "direct", "DIRECT_TRAFFIC": "direct",
           "Offline Sources": "other", "OFFLINE": "other", "AI Referrals": "referral"}


def read_files(export_dir: Path, report: ImportReport) -> dict[str, ExportFile]:
    from .common import find_export_files

    from .pipeline import drop_deleted

    paths = find_export_files(export_dir, FILES, "HubSpot", signatures=SIGNATURES, report=report)
    for kind in REQUIRED:
        if kind not in paths:
            raise ImportInputError(f"no contacts export in {export_dir}: export Contacts (all properties you "
                                   f"need, with associated company) as CSV into that folder; its name must "
                                   f"contain 'contacts'.")
    report.files = {k: p.name for k, p in paths.items()}
    report.missing_files = [k for k in FILES if k not in paths and k != "quotas"]
    files = {k: ExportFile(k, p, read_export_csv(p)) for k, p in paths.items()}
    drop_deleted(files, TABLE_OF_KIND, report)
    return files


def default_settings(files: dict[str, ExportFile]) -> tuple[list, list]:
    seen_sources = {}
    if "contacts" in files:
        col = files["contacts"].col(("Original Source", "hs_analytics_source", "Original Traffic Source"))
        known = {norm(k): v for k, v in SOURCES.items()}
        seen_sources = {v: known.get(norm(v), "") for v in sorted(set(col) - {""})}
    settings = [
        ("", [("timezone", "UTC", "HubSpot exports times in the portal's time zone: set it, e.g. Europe/Berlin"),
              ("date_format", "auto", "or a pattern such as %d/%m/%Y %H:%M"),
              ("number_format", "auto", "amounts: auto (per column), \"1,234.56\" or \"1.234,56\"")]),
        ("leads", [("source_property", "Original Source", "contact column holding the lead source"),
                   ("default_source", "other", "source for leads whose source is empty or unmapped"),
                   ("lead_type_property", "", "column holding seed / net / spear, if you track it"),
                   ("default_lead_type", "net", "lead type when neither the column nor the source decide"),
                   ("persona_property", "Persona", "column holding the buyer persona"),
                   ("segment_property", "", "contact or company column holding the segment, if any"),
                   ("segment_employee_bounds", [50, 500], "else by company 'Number of Employees' (our choice)"),
                   ("default_segment", "small_business", "segment when neither is known"),
                   ("first_offer_property", "First Conversion", "column naming the first form/offer converted on"),
                   ("default_first_offer", "other", "first offer when empty or unmapped"),
                   ("journey_stage_property", "", "column holding awareness / consideration / decision")]),
        ("deals", [("amount_property", "Amount", "deal column holding the value"),
                   ("amount_kind", "total", "HubSpot's Amount is usually the whole deal value: total (/ "
                                            "contract_months); monthly if it is MRR; annual (/ 12)"),
                   ("contract_months", 12, "months of a contract when amount_kind = total"),
                   ("keep_without_amount", False, "true: keep deals with an empty Amount (MRR unknown)"),
                   ("pipelines", [], "pipelines to import (empty: all)"),
                   ("qualifying_framework_property", "", "deal column naming BANT / GPCT, if tracked")]),
        ("activities", [("meeting_kind_property", "Call and meeting type", "column telling discovery from demo"),
                        ("keep_calls_without_outcome", False, "true: keep calls with no Call outcome (outcome empty)"),
                        ("keep_deal_only", False, "true: activities on a deal only count for the deal's contact")]),
        ("customers", [("churn_date_property", "", "company column holding the churn (cancellation) date"),
                       ("billing_term_property", "", "company column holding monthly / annual prepay"),
                       ("default_billing_term", "monthly", "billing term when not known"),
                       ("consultant_property", "", "company column holding the customer-success owner")]),
    ]
    value_tables = [
        ("leads.source_values", {**SOURCES, **seen_sources}, "source as exported -> workbook source ('' = default)"),
        ("leads.lead_type_by_source", {"referral": "seed", "partner": "seed", "outbound": "spear"},
         "workbook source -> lead type (the others: default_lead_type); our choice after Predictable Revenue"),
        ("leads.first_offer_values", {"Demo request": "demo_request", "Free trial": "free_trial",
                                      "Contact us": "contact_us"}, "first conversion -> first offer"),
        ("activities.call_outcomes", CALL_OUTCOMES, "call outcome (label or internal id) -> outcome"),
        ("activities.meeting_outcomes", MEETING_OUTCOMES, "meeting outcome -> outcome ('' = not a touch: dropped)"),
        ("activities.meeting_kinds", {"Discovery": "discovery", "Discovery call": "discovery", "Demo": "demo"},
         "call and meeting type -> meeting kind"),
    ]
    return settings, value_tables


def _times(file: ExportFile, aliases, mapping: Mapping, report: ImportReport, *, required: bool,
           what: str) -> pd.Series:
    tz = zone(mapping.string("timezone", "UTC"), f"{mapping.path}: timezone")
    name = file.find(aliases)
    values = file.col(aliases, required=required, what=what)
    return parse_times(values, tz=tz, date_format=mapping.string("date_format", "auto"),
                       label=f"{file.path.name}: {name or aliases[0]}", report=report)


def _prop(file: ExportFile, mapping: Mapping, key: str, *fallback: str) -> pd.Series:
    name = mapping.string(key)
    return file.col([name, *fallback]) if name or fallback else file.col([])


def convert(files: dict[str, ExportFile], mapping: Mapping, report: ImportReport) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    owners: list[pd.DataFrame] = []
    companies = pd.DataFrame(columns=["company_id", "employees", "segment", "churn", "billing", "consultant"])
    if "companies" in files:
        f = files["companies"]
        companies = pd.DataFrame({
            "company_id": f.col(ID, required=True, what="the company id"),
            "employees": f.col(("Number of Employees", "numemployees")),
            "segment": _prop(f, mapping, "leads.segment_property"),
            "churn": _times(f, [mapping.string("customers.churn_date_property") or "\0"], mapping, report,
                            required=False, what="churn date"),
            "billing": _prop(f, mapping, "customers.billing_term_property"),
            "consultant": _prop(f, mapping, "customers.consultant_property"),
        }).drop_duplicates("company_id")
    by_company = companies.set_index("company_id")

    c = files["contacts"]
    company = first_id(c.col(COMPANY_IDS))
    owner = c.col(("Contact owner", "hubspot_owner_id", "Contact Owner", "Owner"))
    created = _times(c, CREATED, mapping, report, required=True, what="the create date")
    lead_events = []
    for label, aliases in (("first", ("First Conversion Date", "first_conversion_date")),
                           ("recent", ("Recent Conversion Date", "recent_conversion_date"))):
        if c.has(aliases):
            when = _times(c, aliases, mapping, report, required=False, what=f"{label} conversion date")
            ids = c.col(ID, required=True, what="the contact id")
            lead_events.append(pd.DataFrame({"event_id": "form_" + label + "_" + ids, "lead_id": ids,
                                             "occurred_at": when, "event_type": "form_submit"}))
    raw["leads"] = pd.DataFrame({
        "lead_id": c.col(ID, required=True, what="the contact id"), "created_at": created, "owner_key": owner,
        "source_raw": _prop(c, mapping, "leads.source_property", "hs_analytics_source"),
        "lead_type_raw": _prop(c, mapping, "leads.lead_type_property"),
        "persona_raw": _prop(c, mapping, "leads.persona_property", "hs_persona"),
        "segment_raw": _prop(c, mapping, "leads.segment_property").where(
            lambda s: s != "", company.map(by_company["segment"]).astype(object).fillna("")),
        "employees_raw": c.col(("Number of Employees", "numemployees")).where(
            lambda s: s != "", company.map(by_company["employees"]).astype(object).fillna("")),
        "first_offer_raw": _prop(c, mapping, "leads.first_offer_property", "first_conversion_event_name"),
        "journey_raw": _prop(c, mapping, "leads.journey_stage_property"),
    })
    owners.append(pd.DataFrame({"owner_key": owner, "when": created}))
    if lead_events:
        events = pd.concat(lead_events, ignore_index=True)
        raw["lead_events"] = events[events["occurred_at"].notna() & (events["lead_id"] != "")] \
            .drop_duplicates("event_id")

    activities = []
    kinds_map = mapping.values("activities.meeting_kinds", ("discovery", "demo"))
    for kind in ("calls", "emails", "meetings"):
        if kind not in files:
            continue
        f = files[kind]
        when_aliases = ("Meeting start time", "hs_meeting_start_time", *ACTIVITY_TIME) if kind == "meetings" \
            else ACTIVITY_TIME
        frame = pd.DataFrame({
            "activity_id": kind[:-1] + "_" + f.col(ID, required=True, what=f"the {kind[:-1]} id"),
            "owner_key": f.col(ACTIVITY_OWNER, required=True, what=f"the {kind[:-1]} owner ('Activity assigned to')"),
            "lead_ref": first_id(f.col(CONTACT_IDS, required=not f.has(DEAL_IDS), what="the associated contact ids")),
            "deal_ref": first_id(f.col(DEAL_IDS)),
            "occurred_at": _times(f, when_aliases, mapping, report, required=True, what="the activity date"),
            "activity_type": {"calls": "call", "emails": "email", "meetings": "meeting"}[kind],
            "meeting_kind": "", "drop_reason": ""})
        if kind == "calls":
            outcome_raw = f.col(("Call outcome", "hs_call_disposition"))
            if not f.has(("Call outcome", "hs_call_disposition")):
                report.warnings.append(f"{f.path.name} has no 'Call outcome' column: every call is without an outcome "
                                       f"(dropped unless activities.keep_calls_without_outcome = true). Add the "
                                       f"property to the export.")
            mapped = outcome_raw.map(norm).map(mapping.values("activities.call_outcomes",
                                                              ("connected", "voicemail", "no_answer", "wrong_number")))
            report.unmapped_values("call outcome", outcome_raw[mapped.isna() & (outcome_raw != "")])
            frame["outcome"] = mapped.fillna("")
            frame.loc[outcome_raw == "", "drop_reason"] = "calls without an outcome"
            frame.loc[(outcome_raw != "") & (frame["outcome"] == ""), "drop_reason"] = \
                "calls with an outcome not in the mapping"
        elif kind == "emails":
            direction = f.col(("Email direction", "hs_email_direction")).map(norm)
            status = f.col(("Email send status", "hs_email_status")).map(norm)
            frame["outcome"] = np.where(direction.str.contains("incoming"), "replied",
                                        np.where(status.isin(["bounced", "failed"]), "bounced", "sent"))
            frame.loc[direction.str.contains("forward"), "drop_reason"] = "forwarded emails (not a touch)"
        else:
            outcome_raw = f.col(("Meeting outcome", "hs_meeting_outcome"))
            mapped = outcome_raw.map(norm).map(mapping.values("activities.meeting_outcomes", ("held", "no_show")))
            report.unmapped_values("meeting outcome", outcome_raw[mapped.isna() & (outcome_raw != "")])
            frame["outcome"] = mapped.where(outcome_raw != "", "held").fillna("")
            frame.loc[(outcome_raw != "") & mapped.isna(), "drop_reason"] = "meetings with an outcome not in the mapping"
            frame.loc[(outcome_raw != "") & (mapped == ""), "drop_reason"] = "meetings canceled or rescheduled"
            kind_raw = _prop(f, mapping, "activities.meeting_kind_property", "hs_activity_type")
            frame["meeting_kind"] = kind_raw.map(norm).map(kinds_map).fillna("")
        activities.append(frame)
        owners.append(pd.DataFrame({"owner_key": frame["owner_key"], "when": frame["occurred_at"]}))
    if activities:
        raw["activities"] = pd.concat(activities, ignore_index=True)

    if "deals" in files:
        d = files["deals"]
        company = first_id(d.col(COMPANY_IDS))
        amount_col = mapping.string("deals.amount_property", "Amount")
        deals = pd.DataFrame({
            "deal_id": d.col(ID, required=True, what="the deal id"),
            "owner_key": d.col(DEAL_OWNER),
            "lead_ref": first_id(d.col(CONTACT_IDS)),
            "created_at": _times(d, CREATED, mapping, report, required=True, what="the create date"),
            "closed_raw": _times(d, ("Close Date", "closedate"), mapping, report, required=True, what="the close date"),
            "stage_raw": d.col(("Deal Stage", "dealstage"), required=True, what="the deal stage"),
            "status_raw": "",
            "amount": parse_amounts(d.col([amount_col, "amount"], required=True, what=f"the amount ({amount_col!r})"),
                                    label=f"{d.path.name}: {d.find([amount_col, 'amount'])}",
                                    number_format=mapping.string("number_format", "auto"), report=report),
            "framework_raw": _prop(d, mapping, "deals.qualifying_framework_property"),
            "churn_raw": company.map(by_company["churn"]) if len(by_company) else pd.NaT,
            "consultant_key": company.map(by_company["consultant"]).astype(object).fillna("") if len(by_company) else "",
            "billing_raw": company.map(by_company["billing"]).astype(object).fillna("") if len(by_company) else "",
        })
        deals["churn_raw"] = pd.to_datetime(deals["churn_raw"], utc=True)
        pipelines = mapping.get("deals.pipelines", [])
        if pipelines:
            pipeline = d.col(("Pipeline", "pipeline"), required=True, what="the pipeline")
            keep = pipeline.map(norm).isin({norm(p) for p in pipelines})
            report.drop("deals", ~keep, "in a pipeline not listed in deals.pipelines")
            deals = deals[keep]
        raw["deals"] = deals
        owners.append(pd.DataFrame({"owner_key": deals["owner_key"], "when": deals["created_at"]}))

    raw["owners"] = _owners(pd.concat(owners, ignore_index=True), files.get("owners"))
    numeric = raw["owners"]["owner_key"].astype(str).str.fullmatch(r"\d+")
    if "owners" not in files and numeric.any():
        report.warnings.append(
            f"{int(numeric.sum())} owner(s) appear only as numeric ids (hubspot_owner_id) and there is no owners "
            f"export to name them"
            + (" or to join them with the owners seen by name (the same person may be two reps)"
               if (~numeric).any() else "")
            + ": export the users (Settings > Users & Teams > Export users) into the folder, with 'owners' or "
              "'users' in its name.")
    if "quotas" in files:
        from .salesforce import read_quotas

        raw["quotas"] = read_quotas(files["quotas"])
    return raw


def _owners(seen: pd.DataFrame, owners_file: ExportFile | None) -> pd.DataFrame:
    """Owner keys seen in the export, with the first date each appears and, from an owners export, id and e-mail.

    With an owners export, a person seen by name ('Deal owner' labels), by e-mail and by numeric id
    (``hubspot_owner_id`` in internal-name exports) is one owner: the other keys become aliases."""
    seen = seen[seen["owner_key"].astype(str).str.strip() != ""]
    seen = seen.assign(raw_key=seen["owner_key"])
    records: dict[str, dict[str, str]] = {}
    if owners_file is not None:
        f = owners_file
        full = (f.col(("First Name", "firstname", "First name")) + " " + f.col(("Last Name", "lastname",
                                                                               "Last name"))).str.strip()
        name = f.col(("Name", "Owner", "User", "Full name")).where(lambda s: s != "", full)
        table = pd.DataFrame({"id": f.col(("Owner ID", "User ID", "ID", "Record ID", "id", "ownerId")),
                              "email": f.col(("Email", "email", "Email address")), "name": name})
        rows = table.to_dict("records")  # owners: dozens
        records = {**{norm(r["id"]): r for r in rows if r["id"]},
                   **{norm(r["name"]): r for r in rows if r["name"]},
                   **{norm(r["email"]): r for r in rows if r["email"]}}
        distinct = pd.unique(seen["owner_key"])  # owners: dozens of distinct keys, not one per record
        canonical = seen["owner_key"].map({k: (records.get(norm(k)) or {}).get("name") or
                                           (records.get(norm(k)) or {}).get("email") or k for k in distinct})
        seen = seen.assign(owner_key=canonical)
    first = seen.groupby("owner_key", as_index=False)["when"].min().rename(columns={"when": "first_seen"})
    keys = seen.groupby("owner_key")["raw_key"].agg(lambda k: sorted(set(k)))
    first["aliases"] = first["owner_key"].map(keys).map(lambda ks: ks if isinstance(ks, list) else [])
    first["name"] = first["owner_key"]
    first["owner_id"] = ""
    first["email"] = ""
    if records:
        matched = first["owner_key"].map(lambda k: records.get(norm(k)))
        first["owner_id"] = matched.map(lambda r: r["id"] if r else "")
        first["email"] = matched.map(lambda r: r["email"] if r else "")
        first["name"] = [r["name"] if r and r["name"] else k for r, k in zip(matched, first["owner_key"])]
    return first
