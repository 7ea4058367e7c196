"""Build small deliveries from code, in every shape, encoding, delimiter and date format."""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path

import xlsxwriter

from pipelines.contract import FILES, MANIFEST_COLUMNS, TABLES, Column

Rows = dict[str, list[dict[str, str | None]]]

MUNICIPALITY = "GM0193"
EXTRACT_DATE = "2026-10-01"

_BASE: Rows = {
    "manifest": [
        {"key": "contract_version", "value": "1"},
        {"key": "municipality_code", "value": MUNICIPALITY},
        {"key": "extract_date", "value": EXTRACT_DATE},
        {"key": "source_system", "value": "Testsysteem"},
    ],
    "cases": [
        {
            "case_id": "case-0001",
            "report_date": "2025-01-10",
            "violence_type": "partner",
            "safety_assessment": "acute",
            "restraining_order_date": "2025-01-05",
            "coordinator_date": "2025-01-20",
            "closed_date": "2025-12-01",
        },
        {
            "case_id": "case-0002",
            "report_date": "2025-03-01",
            "violence_type": "child_abuse",
            "safety_assessment": "structural",
            "restraining_order_date": None,
            "coordinator_date": None,
            "closed_date": None,
        },
        {
            "case_id": "case-0003",
            "report_date": "2026-02-14",
            "violence_type": "elder_abuse",
            "safety_assessment": "not_unsafe",
            "restraining_order_date": None,
            "coordinator_date": "2026-02-14",
            "closed_date": None,
        },
    ],
    "reports": [
        {"case_id": "case-0001", "report_date": "2025-06-01", "reporter": "police"},
        {"case_id": "case-0002", "report_date": "2025-03-01", "reporter": "professional"},
    ],
    "children": [
        {"case_id": "case-0001", "child_id": "kind-0001", "age_band": "0-3"},
        {"case_id": "case-0002", "child_id": "kind-0002", "age_band": "12-17"},
    ],
    "help": [
        {
            "case_id": "case-0001",
            "recipient": "victim",
            "child_id": None,
            "level": "specialist",
            "offered_date": "2025-01-12",
            "start_date": "2025-01-15",
            "end_date": "2025-06-01",
        },
        {
            "case_id": "case-0001",
            "recipient": "child",
            "child_id": "kind-0001",
            "level": "basic",
            "offered_date": "2025-02-01",
            "start_date": None,
            "end_date": None,
        },
        {
            "case_id": "case-0002",
            "recipient": "family",
            "child_id": None,
            "level": "basic",
            "offered_date": "2025-03-05",
            "start_date": "2025-03-10",
            "end_date": None,
        },
    ],
    "followups": [
        {"case_id": "case-0001", "followup_date": "2025-04-10", "violence_since_previous": "no"},
        {"case_id": "case-0001", "followup_date": "2026-01-10", "violence_since_previous": "yes"},
    ],
}


def valid_rows() -> Rows:
    """A small delivery that passes every rule and raises no warning.

    Its rows hold every contract column, in the contract's order: one the rows above do not
    give (declared after them) gets a valid value of its kind, or stays empty when optional.
    """
    rows = copy.deepcopy(_BASE)
    for name, columns in TABLES.items():
        rows[name] = [
            {c.name: row[c.name] if c.name in row else _valid(c, i) for c in columns}
            for i, row in enumerate(rows[name], start=1)
        ]
    return rows


def _valid(column: Column, i: int) -> str | None:
    """A value of the column's kind that breaks no rule of the contract's general ones."""
    if not column.required:
        return None
    return {
        "pseudonym": f"{column.name[:4]}-{i:04d}",
        "date": EXTRACT_DATE,
        "enum": column.values[0],
        "municipality": MUNICIPALITY,
    }.get(column.kind, "tekst")


def _columns(name: str) -> list[str]:
    return list(MANIFEST_COLUMNS) if name == "manifest" else [c.name for c in TABLES[name]]


def _dmy(value: str | None, column: str, name: str) -> str | None:
    """An ISO date of a date column rewritten as DD-MM-YYYY; anything else unchanged."""
    is_date = any(c.name == column and c.kind == "date" for c in TABLES.get(name, ()))
    if value and is_date and len(value) == 10 and value[4] == "-":
        return f"{value[8:10]}-{value[5:7]}-{value[0:4]}"
    return value


def csv_bytes(
    rows: Rows,
    name: str,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    dates: str = "iso",
    header: list[str] | None = None,
) -> bytes:
    """One table as CSV; encoding 'utf-8', 'utf-8-bom' or 'cp1252'; dates 'iso' or 'dmy'."""
    columns = header or (list(rows[name][0]) if rows[name] else _columns(name))
    lines = [delimiter.join(columns)]
    for row in rows[name]:
        cells = []
        for column in columns:
            value = row.get(column)
            value = _dmy(value, column, name) if dates == "dmy" else value
            cells.append("" if value is None else str(value))
        lines.append(delimiter.join(cells))
    text = "\r\n".join(lines) + "\r\n"
    if encoding == "utf-8-bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)


def write_folder(folder: Path, rows: Rows, **options: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if name in rows:
            (folder / f"{name}.csv").write_bytes(csv_bytes(rows, name, **options))
    return folder


def write_zip(path: Path, rows: Rows, *, top_folder: str | None = None, **options: str) -> Path:
    prefix = f"{top_folder}/" if top_folder else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in FILES:
            if name in rows:
                archive.writestr(f"{prefix}{name}.csv", csv_bytes(rows, name, **options))
    return path


def write_xlsx(path: Path, rows: Rows) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    for name in FILES:
        if name not in rows:
            continue
        sheet = workbook.add_worksheet(name)
        columns = list(rows[name][0]) if rows[name] else _columns(name)
        sheet.write_row(0, 0, columns)
        for i, row in enumerate(rows[name], start=1):
            for j, column in enumerate(columns):
                if row.get(column) is not None:
                    sheet.write_string(i, j, str(row[column]))
    workbook.close()
    return path
