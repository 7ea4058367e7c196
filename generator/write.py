"""Write one delivery as a folder, zip or xlsx, with the quirks of real exports, byte for byte
reproducibly (fixed zip timestamps and workbook properties)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from pipelines.contract import CONTRACT_VERSION, FILES, TABLES

SHAPES = ("folder", "zip", "xlsx")
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
WORKBOOK_CREATED = datetime(2000, 1, 1)
ENUM_COLUMNS = {
    table: [c.name for c in columns if c.kind == "enum"] for table, columns in TABLES.items()
}


@dataclass(frozen=True)
class Quirks:
    """How an export deviates from the plainest form the contract allows."""

    encoding: str = "utf-8"  # utf-8, utf-8-sig (with BOM) or cp1252
    delimiter: str = ","
    date_format: str = "%Y-%m-%d"  # or "%d-%m-%Y"
    upper_enums: bool = False
    stray_spaces: bool = False  # around some header names and enum values
    nested_zip: bool = False  # files inside one top-level folder of the zip
    line_terminator: str = "\n"
    source_system: str = "Wijkteamregistratie"


PLAIN = Quirks()
# The deterministic mix of `--shape mixed`: (shape, quirks), chosen per municipality.
MIXED: tuple[tuple[str, Quirks], ...] = (
    ("folder", PLAIN),
    ("zip", Quirks(encoding="utf-8-sig", delimiter=";", date_format="%d-%m-%Y")),
    ("xlsx", Quirks(source_system="Sociaal Domein Registratie")),
    (
        "folder",
        Quirks(
            encoding="cp1252",
            delimiter=";",
            date_format="%d-%m-%Y",
            upper_enums=True,
            line_terminator="\r\n",
            source_system="Wijkteamregistratie Één",
        ),
    ),
    ("zip", Quirks(stray_spaces=True, nested_zip=True, source_system="CasusVolg 4.2")),
    ("folder", Quirks(upper_enums=True, stray_spaces=True, encoding="utf-8-sig")),
)


def delivery_name(municipality_code: str, extract: date) -> str:
    return f"{municipality_code}_{extract.isoformat()}"


def manifest(municipality_code: str, extract: date, quirks: Quirks) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "key": ["contract_version", "municipality_code", "extract_date", "source_system"],
            "value": [
                CONTRACT_VERSION,
                municipality_code,
                extract.strftime(quirks.date_format),
                quirks.source_system,
            ],
        }
    )


def _quirked(table: str, frame: pl.DataFrame, quirks: Quirks) -> pl.DataFrame:
    enums = ENUM_COLUMNS.get(table, [])
    if quirks.upper_enums:
        frame = frame.with_columns(pl.col(enums).str.to_uppercase())
    if quirks.stray_spaces and enums:
        # Pad the first enum column's values and the first and last header names.
        frame = frame.with_columns(pl.format(" {} ", pl.col(enums[0])).alias(enums[0]))
        columns = frame.columns
        frame = frame.rename({columns[0]: f" {columns[0]}", columns[-1]: f"{columns[-1]}  "})
    return frame


def csv_bytes(table: str, frame: pl.DataFrame, quirks: Quirks) -> bytes:
    text = _quirked(table, frame, quirks).write_csv(
        separator=quirks.delimiter,
        date_format=quirks.date_format,
        line_terminator=quirks.line_terminator,
    )
    return text.encode(quirks.encoding)


def _files(
    tables: dict[str, pl.DataFrame], municipality_code: str, extract: date, quirks: Quirks
) -> dict[str, bytes]:
    frames = {"manifest": manifest(municipality_code, extract, quirks), **tables}
    return {
        f"{name}.csv": csv_bytes(name, frames[name], quirks) for name in FILES if name in frames
    }


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip of `files` (name -> bytes) with fixed timestamps, so equal input gives equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def xlsx_bytes(sheets: dict[str, pl.DataFrame], quirks: Quirks) -> bytes:
    """One sheet per file; dates as real Excel dates (as an export from a case system)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"created": WORKBOOK_CREATED, "author": "", "title": ""})
    date_format = workbook.add_format(
        {"num_format": "dd-mm-yyyy" if quirks.date_format == "%d-%m-%Y" else "yyyy-mm-dd"}
    )
    for name, frame in sheets.items():
        sheet = workbook.add_worksheet(name)
        frame = _quirked(name, frame, quirks)
        for j, column in enumerate(frame.columns):
            sheet.write(0, j, column)
            values = frame.get_column(column)
            if values.dtype == pl.Date:
                sheet.write_column(1, j, values.to_list(), date_format)
            else:
                sheet.write_column(1, j, values.to_list())
    workbook.close()
    return buffer.getvalue()


def write_delivery(
    out_dir: Path,
    tables: dict[str, pl.DataFrame],
    municipality_code: str,
    extract: date,
    shape: str,
    quirks: Quirks = PLAIN,
) -> Path:
    """Write one delivery into `out_dir`; returns the folder or file written."""
    name = delivery_name(municipality_code, extract)
    out_dir.mkdir(parents=True, exist_ok=True)
    if shape == "xlsx":
        sheets = {"manifest": manifest(municipality_code, extract, quirks), **tables}
        path = out_dir / f"{name}.xlsx"
        path.write_bytes(xlsx_bytes({f: sheets[f] for f in FILES}, quirks))
        return path
    files = _files(tables, municipality_code, extract, quirks)
    if shape == "zip":
        prefix = f"{name}/" if quirks.nested_zip else ""
        path = out_dir / f"{name}.zip"
        path.write_bytes(zip_bytes({prefix + f: data for f, data in files.items()}))
        return path
    if shape != "folder":
        raise ValueError(f"unknown shape {shape!r}")
    path = out_dir / name
    path.mkdir(exist_ok=True)
    for file, data in files.items():
        (path / file).write_bytes(data)
    return path
