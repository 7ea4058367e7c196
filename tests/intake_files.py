"""Deliveries for the browser intake's tests, built from the shipped sample: a folder zipped as
a local team would, and a newer export of a municipality with a planted change (no case
coordinator in one cohort year), which moves its figure far outside its old interval."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DELIVERIES = ROOT / "sample_data" / "deliveries"
FLAWED = ROOT / "sample_data" / "flawed"


def zipped(folder: Path) -> bytes:
    """The folder's files at the top of a zip."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return out.getvalue()


def planted(municipality: str, extract: date, year: int) -> bytes:
    """The sample's zip export of `municipality`, re-extracted on `extract`, with no
    coordinator for the cases reported in `year`: coordinator_within_30d drops to 0 there.
    Dates and delimiters stay as the export writes them (ISO or DD-MM-YYYY, ',' or ';')."""
    source = zipfile.ZipFile(DELIVERIES / f"{municipality}_2026-10-01.zip")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            text = source.read(info).decode("utf-8-sig")
            name = info.filename.rsplit("/", 1)[-1]
            delimiter = ";" if ";" in text.splitlines()[0] else ","
            if name == "manifest.csv":
                lines = text.splitlines()
                for n, line in enumerate(lines):
                    key, _, value = line.partition(delimiter)
                    if key.strip() == "extract_date":
                        iso = value.strip()[4:5] == "-"
                        shown = extract.isoformat() if iso else f"{extract:%d-%m-%Y}"
                        lines[n] = f"{key}{delimiter}{shown}"
                text = "\n".join(lines) + "\n"
            if name == "cases.csv":
                lines = text.splitlines()
                header = [column.strip() for column in lines[0].split(delimiter)]
                coordinator = header.index("coordinator_date")
                reported = header.index("report_date")
                rows = [line.split(delimiter) for line in lines[1:]]
                for row in rows:
                    day = row[reported].strip()
                    if day.startswith(f"{year}-") or day.endswith(f"-{year}"):
                        row[coordinator] = ""
                text = "\n".join([lines[0], *(delimiter.join(row) for row in rows)]) + "\n"
            archive.writestr(info.filename, text)
    return out.getvalue()
