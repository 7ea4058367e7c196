"""Deliveries for the browser intake's tests, built from the shipped sample: a folder zipped as
a local team would, and a newer export of a municipality with a planted change (no case
coordinator in one cohort year), which moves its figure far outside its old interval."""

from __future__ import annotations

import io
import zipfile
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


def planted(municipality: str, extract: str, year: int) -> bytes:
    """The sample's zip export of `municipality`, re-extracted on `extract` (DD-MM-YYYY), with
    no coordinator for the cases reported in `year`: coordinator_within_30d drops to 0 there."""
    source = zipfile.ZipFile(DELIVERIES / f"{municipality}_2026-10-01.zip")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            text = source.read(info).decode("utf-8-sig")
            name = info.filename.rsplit("/", 1)[-1]
            if name == "manifest.csv":
                text = text.replace("extract_date;01-10-2026", f"extract_date;{extract}")
                assert extract in text, "the sample's manifest changed"
            if name == "cases.csv":
                lines = text.splitlines()
                header = lines[0].split(";")
                coordinator, reported = (
                    header.index("coordinator_date"),
                    header.index("report_date"),
                )
                rows = [line.split(";") for line in lines[1:]]
                for row in rows:
                    if row[reported].endswith(f"-{year}"):
                        row[coordinator] = ""
                text = "\n".join([lines[0], *(";".join(row) for row in rows)]) + "\n"
            archive.writestr(info.filename, text)
    return out.getvalue()
