"""The mapping file: what differs between companies, in TOML the analyst edits.

The first import writes it (next to the output folder, or at ``--mapping``) with every deal stage,
owner, lead-source value and call/meeting outcome seen in the export and a guess for each; later
imports read it. TOML is read by the standard library (``tomllib``); this module writes it itself.
"""
from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.core.contract import TABLES
from .common import MappingError, norm

STATUSES = ("open", "won", "lost")
#: What a deal's amount is: ``monthly`` (= ``mrr``) the monthly recurring revenue, ``annual`` a year's value
#: (mrr = amount / 12), ``total`` (= ``contract``) the whole contract's value over ``contract_months``.
AMOUNT_KINDS = ("total", "monthly", "annual", "mrr", "contract")
AMOUNT_KIND_WORDS = {"total": "the whole contract value", "contract": "the whole contract value",
                     "monthly": "monthly recurring revenue", "mrr": "monthly recurring revenue",
                     "annual": "a year's value"}


def _allowed(table: str, column: str) -> tuple[str, ...]:
    for col in TABLES[table].columns:
        if col.name == column:
            return tuple(col.allowed or ())
    raise KeyError(column)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} to TOML")


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _line(key: str, value: Any, comment: str = "") -> str:
    text = f"{_key(key)} = {_toml_value(value)}"
    return f"{text:<44} # {comment}" if comment else text


@dataclass
class Mapping:
    """The parsed mapping file; ``get`` raises MappingError naming the file and the key."""

    path: Path
    data: dict[str, Any]

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def string(self, dotted: str, default: str = "") -> str:
        value = self.get(dotted, default)
        if not isinstance(value, str):
            raise MappingError(f"{self.path}: {dotted} must be text in quotes, not {value!r}.")
        return value

    def choice(self, dotted: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.string(dotted, default)
        if value not in allowed:
            raise MappingError(f"{self.path}: {dotted} = {value!r} is not one of {', '.join(allowed)}.")
        return value

    def number(self, dotted: str, default: float, minimum: float = 0.0) -> float:
        value = self.get(dotted, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= minimum:
            raise MappingError(f"{self.path}: {dotted} must be a number above {minimum}, not {value!r}.")
        return float(value)

    def flag(self, dotted: str, default: bool = False) -> bool:
        value = self.get(dotted, default)
        if not isinstance(value, bool):
            raise MappingError(f"{self.path}: {dotted} must be true or false (no quotes), not {value!r}.")
        return value

    def values(self, dotted: str, allowed: tuple[str, ...] | None = None) -> dict[str, str]:
        """A ``{ "CRM value" = "contract value" }`` table, keyed by :func:`norm` of the CRM value.

        Keys match ignoring case and punctuation, so ``"Organic search"`` and ``"Organic Search"`` are one
        key: an empty value (an unreviewed guess) never overrides a filled one, whatever their order."""
        table = self.get(dotted, {})
        if not isinstance(table, dict):
            raise MappingError(f"{self.path}: {dotted} must be a table of \"CRM value\" = \"workbook value\".")
        out: dict[str, str] = {}
        for key, value in table.items():
            if not isinstance(value, str) or (allowed is not None and value not in allowed and value != ""):
                raise MappingError(f"{self.path}: {dotted}.{json.dumps(key)} = {value!r} is not one of "
                                   f"{', '.join(allowed or ())} (or \"\" to leave it out).")
            if value == "" and out.get(norm(key)):
                continue
            out[norm(key)] = value
        return out

    def stages(self) -> dict[str, dict[str, str]]:
        table = self.get("deals.stages", {})
        out: dict[str, dict[str, str]] = {}
        for name, spec in table.items():
            if not isinstance(spec, dict) or spec.get("status") not in STATUSES:
                raise MappingError(f"{self.path}: deals.stages.{json.dumps(name)} needs status = \"open\", \"won\" or "
                                   f"\"lost\" (and optionally funnel = a funnel stage name), not {spec!r}.")
            out[norm(name)] = {"name": name, "status": spec["status"], "funnel": str(spec.get("funnel", ""))}
        return out

    def reps(self) -> list[dict[str, str]]:
        reps = self.get("reps", [])
        if not isinstance(reps, list):
            raise MappingError(f"{self.path}: reps must be a list of [[reps]] tables.")
        roles = _allowed("reps", "role")
        seen: set[str] = set()
        for i, rep in enumerate(reps, 1):
            for key in ("owner", "rep_id", "name", "role", "hire_date"):
                if not str(rep.get(key, "")).strip():
                    raise MappingError(f"{self.path}: [[reps]] number {i} ({rep.get('owner', '?')!r}) has no {key}; "
                                       f"every rep needs owner, rep_id, name, role and hire_date.")
            if rep["role"] not in roles:
                raise MappingError(f"{self.path}: [[reps]] {rep['owner']!r}: role {rep['role']!r} is not one of "
                                   f"{', '.join(roles)}.")
            if rep["rep_id"] in seen:
                raise MappingError(f"{self.path}: rep_id {rep['rep_id']!r} is given to two [[reps]] entries; "
                                   f"give each person one entry (list other spellings in aliases = [...]).")
            seen.add(rep["rep_id"])
        return [{k: (v if isinstance(v, list) else str(v)) for k, v in r.items()} for r in reps]


def load_mapping(path: Path, crm: str) -> Mapping:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc}). Fix the line, or delete the file to have it "
                           f"written again.") from None
    if data.get("crm") != crm:
        raise MappingError(f"{path}: crm = {data.get('crm')!r}, but this is a {crm} import: use the {crm} mapping "
                           f"file (--mapping) or delete this one to have it written again.")
    return Mapping(path, data)


def write_mapping(path: Path, *, crm: str, settings: list[tuple[str, list[tuple[str, Any, str]]]],
                  value_tables: list[tuple[str, dict[str, Any], str]], stages: dict[str, dict[str, str]],
                  reps: list[dict[str, Any]]) -> None:
    """Write the mapping file: plain settings, value tables, deal stages, then one [[reps]] per owner."""
    out = [f"# Mapping for `sales-workbook import {crm}`: edit it, then run the import again.",
           "# Written by the first import with guesses from the export; see docs/import.md.",
           _line("crm", crm, "which importer this file is for"), ""]
    for section, items in settings:
        if section:
            out.append(f"[{section}]")
        out.extend(_line(k, v, c) for k, v, c in items)
        out.append("")
    for section, table, comment in value_tables:
        out.append(f"[{section}]  # {comment}")
        out.extend(_line(str(k), v) for k, v in table.items())
        out.append("")
    out.append("[deals.stages]  # stage as exported -> status (open / won / lost) and furthest funnel stage reached")
    out.extend(_line(name, {"status": s["status"], "funnel": s["funnel"]}) for name, s in stages.items())
    out.append("")
    out.append("# One [[reps]] per owner seen in the export. hire_date is a stand-in (the owner's first record in")
    out.append("# the export): put the real one. role: sdr, ae, manager, consultant or other. Remove an entry")
    out.append("# (or set include = false) for users who are not on the sales team: their records are dropped.")
    for rep in reps:
        out.append("[[reps]]")
        for key, value in rep.items():
            out.append(_line(key, value))
        out.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(out), encoding="utf-8")
    tomllib.loads(tmp.read_text(encoding="utf-8"))  # what we write must read back
    tmp.replace(path)


def guess_stage(name: str, known: dict[str, dict[str, str]]) -> dict[str, str]:
    """A stage seen in the export: the CRM's default stages are known; otherwise guessed from the name."""
    if norm(name) in known:
        return dict(known[norm(name)])
    key = norm(name)
    if "won" in key:
        return {"status": "won", "funnel": "won"}
    if "lost" in key or "disqualified" in key:
        return {"status": "lost", "funnel": ""}
    if "demo" in key or "presentation" in key or "proposal" in key:
        return {"status": "open", "funnel": "demo"}
    return {"status": "open", "funnel": ""}
