"""Workbooks and Parquet files are read in a child process with its own memory and time
limits: a reader that aborts (calamine allocates a sheet's whole range, however far its
last cell) or runs away costs only that file, never the job.

Before the reader runs, the child measures each wanted sheet from its XML, streamed with a
bounded scanner: the extent the sheet declares (`<dimension ref=...>`) and the one its cells
reach. A sheet over the limits is refused before anything is allocated for it. The child
sends back each sheet (or the Parquet table) as Arrow IPC in a temporary folder, and a
`result.json` saying what it found; the parent never shows the child's own output (a
reader's message can quote a cell).
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import PurePosixPath
from typing import IO, Any

from hgkm.limits import Limits

_SCAN_CHUNK = 1024**2
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|dimension)(?=[\s/>])([^>]*)>")
_REF_ATTRIBUTE = re.compile(rb"""\b(?:r|ref)\s*=\s*["']([^"']*)["']""")
_CELL = re.compile(rb"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_PREFIX = rb"<(?:[A-Za-z_][\w.-]*:)?"
_ROW_REF = re.compile(rb'<row r="([0-9]{1,9})"')
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,9})"')
_ROW_OPENINGS = (b"<row ", b"<row>", b"<row/")
_CELL_OPENINGS = (b"<c ", b"<c>", b"<c/")
_DIMENSION = re.compile(_PREFIX + rb"dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass
class Extent:
    """How far a sheet reaches: rows and columns, the larger of declared and found."""

    rows: int = 0
    columns: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    def reach(self, row: int, column: int) -> None:
        self.rows = max(self.rows, row)
        self.columns = max(self.columns, column)


@dataclass
class Sheet:
    """One loaded sheet (or Parquet table): its file of columns c0.., the header as written,
    or the problem that kept it from being read."""

    file: str | None = None
    header: list[str] = field(default_factory=list)
    problem: str | None = None  # rows | columns | cells | unreadable
    found: int = 0  # how many rows, columns or cells, for the problem's message


@dataclass
class Outcome:
    """What the child found: the workbook's sheet names and the sheets it loaded, by name."""

    sheets: list[str] = field(default_factory=list)
    loaded: dict[str, Sheet] = field(default_factory=dict)


class ReaderFailed(Exception):
    """The child ended without a result: killed by the kernel, out of memory or time."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


# --- the parent side -----------------------------------------------------------------------


def read_workbook(
    data: bytes, stems: Sequence[str], limits: Limits, *, first_if_none: bool = False
) -> tuple[Outcome, dict[str, Any]]:
    """The workbook's sheets whose names are `stems` (case and spaces aside; the first sheet
    when none is and `first_if_none`), read in a child process.

    Returns the outcome and the loaded sheets as polars frames by sheet name; raises
    ReaderFailed when the child did not finish.
    """
    request = {"kind": "xlsx", "stems": list(stems), "first_if_none": first_if_none}
    return _run(request, data, limits)


def read_parquet(data: bytes, limits: Limits) -> tuple[Sheet, Any]:
    """A Parquet file's table (columns as stored) read in a child process: the sheet record
    and the frame (None when a problem kept it from being read)."""
    outcome, frames = _run({"kind": "parquet"}, data, limits)
    sheet = outcome.loaded["table"]
    return sheet, frames.get("table")


def _run(request: dict[str, Any], data: bytes, limits: Limits) -> tuple[Outcome, dict[str, Any]]:
    import polars as pl

    with tempfile.TemporaryDirectory(prefix="hgkm-read-") as out:
        request = {**request, "out": out, "limits": asdict(limits)}
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-m", __name__, json.dumps(request)],
                input=data,
                capture_output=True,
                timeout=limits.reader_seconds,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ReaderFailed(f"it took longer than {limits.reader_seconds} s") from exc
        result = os.path.join(out, "result.json")
        if done.returncode != 0 or not os.path.exists(result):
            raise ReaderFailed(
                "its reader stopped" + (" (out of memory or killed)" if done.returncode < 0 else "")
            )
        with open(result, encoding="utf-8") as fh:
            raw = json.load(fh)
        outcome = Outcome(raw["sheets"], {k: Sheet(**v) for k, v in raw["loaded"].items()})
        frames = {
            name: pl.read_ipc(os.path.join(out, sheet.file))
            for name, sheet in outcome.loaded.items()
            if sheet.file
        }
    return outcome, frames


def choose(sheets: Sequence[str], stems: Sequence[str], first_if_none: bool) -> dict[str, str]:
    """The first sheet named after each stem (trimmed, any case), by stem; or the first sheet
    under the first stem when none matches and `first_if_none`."""
    chosen: dict[str, str] = {}
    for sheet in sheets:
        stem = sheet.strip().lower()
        if stem in stems and stem not in chosen:
            chosen[stem] = sheet
    if not chosen and first_if_none and sheets:
        chosen[stems[0]] = sheets[0]
    return chosen


# --- measuring a sheet without the reader ----------------------------------------------------


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _cell(ref: bytes) -> tuple[int, int] | None:
    """(row, column) of a reference such as `XFD1048576`, or None."""
    match = _CELL.match(ref.strip())
    return (int(match.group(2)), _column_number(match.group(1))) if match else None


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in chunks that each end after a complete tag (`>`), so no tag is split."""
    rest = b""
    while chunk := stream.read(_SCAN_CHUNK):
        chunk = rest + chunk
        end = chunk.rfind(b">") + 1
        rest = chunk[end:]
        if len(rest) > _SCAN_CHUNK:
            rest = rest[-_SCAN_CHUNK:]  # text without a tag: keep only what a tag could need
        yield chunk[:end]
    yield rest


def extent(open_stream: Callable[[], IO[bytes]]) -> Extent:
    """How far a worksheet's XML reaches, read as a stream: the declared dimension, and every
    row and cell, placed by its reference or (without one) after the one before it, as
    readers place them. Sheets whose rows and cells all carry references (every writer we
    know) are measured from bulk matches; others are walked tag by tag."""
    with open_stream() as stream:
        found = _referenced_extent(stream)
    if found is None:
        with open_stream() as stream:
            found = _walked_extent(stream)
    return found


def _referenced_extent(stream: IO[bytes]) -> Extent | None:
    """The extent from the references alone, in the layout writers use (`<row r="7"`,
    `<c r="B7"`); None when a row or cell is written otherwise (or has no reference)."""
    found = Extent()
    for n, chunk in enumerate(_chunks(stream)):
        rows = _ROW_REF.findall(chunk)
        cells = _CELL_REF.findall(chunk)
        if len(rows) != sum(map(chunk.count, _ROW_OPENINGS)) or len(cells) != sum(
            map(chunk.count, _CELL_OPENINGS)
        ):
            return None
        if n == 0:  # the dimension comes before the sheet's data
            for corner in (c for ref in _DIMENSION.findall(chunk) for c in ref.split(b":")):
                place = _cell(corner)
                if place:
                    found.reach(*place)
        if rows:
            found.reach(max(map(int, set(rows))), 0)
        if cells:
            columns, numbers = zip(*cells, strict=True)
            letters = max(set(columns), key=lambda c: (len(c), c))
            found.reach(max(map(int, set(numbers))), _column_number(letters))
    return found


def _walked_extent(stream: IO[bytes]) -> Extent:
    """The extent tag by tag, placing rows and cells without a reference as readers do."""
    found = Extent()
    row = column = 0
    for chunk in _chunks(stream):
        for tag, attributes in _TAG.findall(chunk):
            ref_match = _REF_ATTRIBUTE.search(attributes)
            ref = ref_match.group(1) if ref_match else None
            if tag == b"dimension" and ref:
                for corner in ref.split(b":"):
                    place = _cell(corner)
                    if place:
                        found.reach(*place)
            elif tag == b"row":
                row = int(ref) if ref and ref.isdigit() else row + 1
                column = 0
                found.reach(row, 0)
            elif tag == b"c":
                place = _cell(ref) if ref else None
                if place:
                    row, column = max(row, place[0]), place[1]
                else:
                    column += 1
                found.reach(max(row, 1), column)
    return found


def sheet_paths(archive: zipfile.ZipFile, limits: Limits) -> dict[str, str]:
    """Each sheet's worksheet XML inside the workbook, by sheet name."""
    from xml.etree import ElementTree

    def parsed(name: str) -> Any:
        info = archive.getinfo(name)
        if info.file_size > limits.file_bytes:
            raise ValueError("too large")
        return ElementTree.fromstring(archive.read(info))

    book = parsed("xl/workbook.xml")
    rels = parsed("xl/_rels/workbook.xml.rels")
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    paths = {}
    for sheet in book.iter():
        if sheet.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        target = targets.get(sheet.get(f"{{{_RELATIONSHIPS_NS}}}id"), "")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        paths[sheet.get("name", "")] = str(PurePosixPath(path))
    return paths


# --- the child side ------------------------------------------------------------------------


def _over(found: Extent, limits: Limits) -> tuple[str, int] | None:
    """The limit a sheet's extent breaks (its header row aside), and by how much."""
    if found.rows - 1 > limits.rows:
        return "rows", found.rows - 1
    if found.columns > limits.columns:
        return "columns", found.columns
    if found.cells > limits.cells:
        return "cells", found.cells
    return None


def _write(table: Any, out: str, name: str) -> Sheet:
    """The Arrow table written as `name` with columns c0.., its header kept aside."""
    import pyarrow as pa
    import pyarrow.ipc

    header = [str(c) for c in table.column_names]
    table = table.rename_columns([f"c{i}" for i in range(len(header))])
    with (
        pa.OSFile(os.path.join(out, name), "wb") as sink,
        pyarrow.ipc.new_file(sink, table.schema) as writer,
    ):
        writer.write(table)
    return Sheet(file=name, header=header)


def _child_workbook(request: dict[str, Any], data: bytes, limits: Limits) -> Outcome:
    import io

    import fastexcel

    outcome = Outcome()
    workbook = fastexcel.read_excel(data)
    outcome.sheets = list(workbook.sheet_names)
    chosen = list(choose(outcome.sheets, request["stems"], request["first_if_none"]).values())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        paths = sheet_paths(archive, limits)
        extents = {sheet: extent(partial(archive.open, paths[sheet])) for sheet in chosen}
    overs = {sheet: _over(found, limits) for sheet, found in extents.items()}
    # The sheets within their own limits must be within the delivery's together.
    cells = sum(found.cells for sheet, found in extents.items() if overs[sheet] is None)
    for i, sheet in enumerate(chosen):
        over = overs[sheet]
        if over is None and cells > limits.cells:
            over = ("cells", cells)
        if over:
            outcome.loaded[sheet] = Sheet(problem=over[0], found=over[1])
            continue
        try:
            loaded = workbook.load_sheet(sheet, dtypes="string").to_arrow()
            outcome.loaded[sheet] = _write(loaded, request["out"], f"sheet-{i}.arrow")
        except Exception:  # any damage to one sheet: that sheet is unreadable
            outcome.loaded[sheet] = Sheet(problem="unreadable")
    return outcome


def _child_parquet(request: dict[str, Any], data: bytes, limits: Limits) -> Outcome:
    import pyarrow as pa
    import pyarrow.parquet as pq

    outcome = Outcome(sheets=["table"])
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        meta = parquet.metadata
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if meta.num_rows > limits.rows:
            sheet = Sheet(problem="rows", found=meta.num_rows)
        elif meta.num_columns > limits.columns:
            sheet = Sheet(problem="columns", found=meta.num_columns)
        elif meta.num_rows * meta.num_columns > limits.cells:
            sheet = Sheet(problem="cells", found=meta.num_rows * meta.num_columns)
        elif unpacked > limits.file_bytes:
            sheet = Sheet(problem="bytes", found=unpacked)
        else:
            sheet = _write(parquet.read(), request["out"], "table.arrow")
    except Exception:  # a damaged file of any kind
        sheet = Sheet(problem="unreadable")
    outcome.loaded["table"] = sheet
    return outcome


def main() -> None:
    """The child: limit its own address space first, then read stdin and write the result."""
    request = json.loads(sys.argv[1])
    limits = Limits(**request["limits"])
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    memory = limits.reader_memory_bytes
    if hard != resource.RLIM_INFINITY:
        memory = min(memory, hard)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    data = sys.stdin.buffer.read()
    read = _child_workbook if request["kind"] == "xlsx" else _child_parquet
    outcome = read(request, data, limits)
    body = {"sheets": outcome.sheets, "loaded": {k: asdict(v) for k, v in outcome.loaded.items()}}
    with open(os.path.join(request["out"], "result.json"), "w", encoding="utf-8") as fh:
        json.dump(body, fh)


if __name__ == "__main__":
    main()
