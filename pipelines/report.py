"""The outcome of ingesting one delivery: its issues, warnings and counts, as text or JSON.

No value from a delivery ever enters an Issue or a Warning: only file, row, column and rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hgkm.escape import printable

# Errors shown per rule; the total per rule is always given.
ERRORS_SHOWN_PER_RULE = 20


# The first line of a delivery's or a profile import's report, by status.
STATUS_HEADINGS = {
    "accepted": "ACCEPTED",
    "rejected": "REJECTED",
    "already_loaded": "ALREADY LOADED (no change)",
}


@dataclass(frozen=True)
class Rule:
    """One contract rule: whether breaking it is structural, and what the local team must do."""

    structural: bool
    fix: str


RULES: dict[str, Rule] = {
    # reading and shape
    "unreadable_delivery": Rule(True, "send the delivery again as a folder, .zip or .xlsx"),
    "zip_corrupt": Rule(True, "the zip file is damaged: make a new zip of the export"),
    "zip_unsafe_path": Rule(
        True, "zip entries must not use '..' or absolute paths: zip the export folder itself"
    ),
    "zip_too_deep": Rule(
        True, "put the files at the top of the zip or inside one folder, not deeper"
    ),
    "not_a_regular_file": Rule(
        True, "send the file itself: a link, named pipe, device or socket is never read"
    ),
    "file_too_large": Rule(True, "the file is larger than the limit: check the export"),
    "delivery_too_large": Rule(True, "the delivery is larger than the limit: check the export"),
    "too_many_files": Rule(True, "a delivery holds the contract's six files (or sheets) only"),
    "too_many_rows": Rule(True, "more rows than the limit: check the export"),
    "too_many_columns": Rule(True, "more columns than the limit: send only the contract's columns"),
    "field_too_long": Rule(
        True, "a value or column name is longer than the limit: check the export"
    ),
    "too_many_cells": Rule(
        True,
        "the tables hold more values than the limit: check the export (in a sheet, delete the "
        "cells past the data and save)",
    ),
    "too_many_errors": Rule(
        True, "so many rows break this rule that the export itself must be fixed at the source"
    ),
    "internal_error": Rule(
        True,
        "HGKM monitor failed on this delivery (a fault of the program, not of the export): "
        "the analysts have been told; nothing of it was loaded",
    ),
    "missing_file": Rule(True, "add this file (or sheet) to the delivery"),
    "duplicate_file": Rule(True, "deliver each table once, as .csv or .parquet, not both"),
    "unexpected_file": Rule(True, "remove this file: a delivery holds only the contract's files"),
    "unreadable_file": Rule(
        True, "save the file again as CSV (',' or ';', UTF-8 or Windows-1252), one row per line"
    ),
    "encoding": Rule(True, "save the file as UTF-8 or Windows-1252"),
    "missing_column": Rule(True, "add this column (names as in the contract)"),
    "unexpected_column": Rule(True, "remove this column: only the contract's columns may be sent"),
    "duplicate_column": Rule(True, "the column occurs twice: keep one"),
    # manifest
    "manifest_key": Rule(True, "the manifest may hold only the contract's keys, each once"),
    "manifest_missing_key": Rule(True, "add this key to the manifest"),
    "manifest_contract_version": Rule(True, "set contract_version to 1"),
    "manifest_municipality": Rule(
        True, "municipality_code must be a CBS code (GM + 4 digits) from the reference list"
    ),
    "manifest_extract_date": Rule(
        True,
        "extract_date must be a date (YYYY-MM-DD or DD-MM-YYYY), not before 2000-01-01 "
        "and not after the day the delivery was received",
    ),
    # personal data: always structural, never shown
    "personal_data_bsn": Rule(True, "remove the BSN-like number (9 digits passing the 11-test)"),
    "personal_data_email": Rule(True, "remove the e-mail address"),
    "personal_data_phone": Rule(True, "remove the phone number"),
    "personal_data_postcode": Rule(True, "remove the postcode"),
    "personal_data_iban": Rule(True, "remove the bank account number (IBAN)"),
    # row level
    "required": Rule(False, "fill in this required field"),
    "date_format": Rule(False, "write the date as YYYY-MM-DD or DD-MM-YYYY (a real date)"),
    "enum_value": Rule(False, "use one of the values the contract lists for this column"),
    "pseudonym_format": Rule(False, "use a pseudonym of 4-64 characters A-Z a-z 0-9 _ -"),
    "unique": Rule(False, "this identifier occurs more than once: each must be unique"),
    "date_before_2000": Rule(False, "dates before 2000-01-01 are not accepted: check the date"),
    "date_after_extract": Rule(False, "the date lies after the manifest's extract_date"),
    "unknown_case": Rule(False, "this case_id does not occur in cases: add the case or fix the id"),
    "child_id_required": Rule(False, "help for a child needs the child's child_id"),
    "child_id_not_allowed": Rule(False, "leave child_id empty unless recipient is child"),
    "child_of_other_case": Rule(False, "the child_id must be a child of the same case in children"),
    "restraining_order_too_early": Rule(
        False, "a restraining order may precede the report_date by at most 14 days"
    ),
    "coordinator_before_report": Rule(False, "coordinator_date may not lie before report_date"),
    "closed_before_report": Rule(False, "closed_date may not lie before report_date"),
    "report_before_index": Rule(False, "a later report may not lie before the case's report_date"),
    "followup_not_after_report": Rule(False, "a follow-up must lie after the case's report_date"),
    "end_without_start": Rule(False, "an end_date needs a start_date"),
    "end_before_start": Rule(False, "end_date may not lie before start_date"),
}

WARNING_TEXTS: dict[str, str] = {
    "help_before_report": "help rows offered before the case's index report",
    "children_without_help": "cases with children but no help row at all",
    "case_count_drop": "more than 20% fewer cases than the municipality's current delivery",
    "older_extract": "extract_date is older than the current delivery's: kept, not current",
    "correction": "same extract_date as the current delivery with other content: "
    "loaded as a correction and now current",
}


def is_structural(rule: str) -> bool:
    return RULES[rule].structural


@dataclass(frozen=True)
class Issue:
    """One broken rule at one place. `row` is the line (CSV) or sheet row as the team sees it."""

    file: str
    row: int | None
    column: str | None
    rule: str
    message: str = ""

    def __post_init__(self) -> None:
        if not self.message:
            object.__setattr__(self, "message", RULES[self.rule].fix)


@dataclass(frozen=True)
class DeliveryWarning:
    """A finding recorded with the delivery that does not block it."""

    rule: str
    file: str
    count: int
    message: str = ""

    def __post_init__(self) -> None:
        if not self.message:
            object.__setattr__(self, "message", WARNING_TEXTS[self.rule])


@dataclass
class DeliveryReport:
    """What happened to one delivery; `errors` is capped per rule, `error_counts` is complete."""

    source: Path
    status: str  # accepted | rejected | already_loaded
    shape: str
    content_hash: str
    municipality_code: str | None = None
    extract_date: date | None = None
    delivery_id: int | None = None
    received_at: datetime | None = None
    formats: dict[str, dict[str, str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[DeliveryWarning] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    error_total: int = 0
    error_counts: dict[str, int] = field(default_factory=dict)
    rows_dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    current: bool = False
    # The delivery's name as it may be shown (`pipelines.read.Delivery.name`): never its own
    # name unchecked, so a report made without one says only "delivery".
    name: str = "delivery"

    @property
    def shown_source(self) -> str:
        """Where the delivery was, with its name as it may be shown."""
        return printable(str(self.source.parent / self.name))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.shown_source,
            "name": self.name,
            "status": self.status,
            "shape": self.shape,
            "content_hash": self.content_hash,
            "municipality_code": self.municipality_code,
            "extract_date": self.extract_date.isoformat() if self.extract_date else None,
            "delivery_id": self.delivery_id,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "current": self.current,
            "formats": self.formats,
            "counts": self.counts,
            "rows_dropped": self.rows_dropped,
            "warnings": [asdict(w) for w in self.warnings],
            "error_total": self.error_total,
            "error_counts": self.error_counts,
            "errors": [asdict(e) for e in self.errors],
        }

    def render_text(self) -> str:
        head = STATUS_HEADINGS[self.status]
        who = ", ".join(
            part
            for part in (
                self.shape,
                self.municipality_code,
                f"extract {self.extract_date.isoformat()}" if self.extract_date else None,
                "current" if self.current else None,
            )
            if part
        )
        lines = [f"{self.name}: {head} ({who})"]
        if self.formats:
            lines.append(
                "  formats: " + "; ".join(_format_text(f, i) for f, i in self.formats.items())
            )
        if self.counts:
            rows = []
            for table, n in self.counts.items():
                dropped = sum(self.rows_dropped.get(table, {}).values())
                rows.append(f"{table} {n}" + (f" ({dropped} dropped)" if dropped else ""))
            lines.append("  rows: " + ", ".join(rows))
        for table, rules in self.rows_dropped.items():
            for rule, n in rules.items():
                lines.append(f"  dropped from {table}: {n} row(s) breaking {rule}")
        if self.warnings:
            lines.append(f"  warnings ({len(self.warnings)}):")
            lines.extend(f"    - {w.file}: {w.count} {w.message} [{w.rule}]" for w in self.warnings)
        lines.extend(error_lines(self.errors, self.error_counts))
        return "\n".join(lines)


def error_lines(errors: list[Issue], error_counts: dict[str, int]) -> list[str]:
    """The errors as the team reads them (file, row, column, rule, what to do), the capped
    rules closed by how many more there are; no lines when there are no errors."""
    total = sum(error_counts.values())
    if not total:
        return []
    lines = [f"  errors ({total}):"]
    for issue in errors:
        where = issue.file
        if issue.row is not None:
            where += f" row {issue.row}"
        if issue.column:
            where += f", column {issue.column}"
        lines.append(f"    - {where}: {issue.rule} — {issue.message}")
    shown = Counter(issue.rule for issue in errors)
    for rule, n in error_counts.items():
        if n > shown[rule]:
            lines.append(f"    … {n - shown[rule]} more of {rule} ({n} in all)")
    return lines


def _format_text(file: str, info: dict[str, str]) -> str:
    shown = [f"'{v}'" if k == "delimiter" else v for k, v in info.items()]
    return f"{file} ({', '.join(shown)})"
