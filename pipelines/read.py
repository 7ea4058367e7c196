"""Read a delivery (folder, .zip or .xlsx) into text-only tables, noting the formats found.

Every value is read as text (trimmed, empty -> null) so that the checks can parse dates and
enums themselves and report what fails by file, row and column. Nothing is extracted to disk.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import fastexcel
import numpy as np
import polars as pl

from pipelines import guard
from pipelines.contract import FILES
from pipelines.report import Issue

ROW = "__row"  # the row number as the team sees it (CSV line / sheet row; header = 1)
TABLE_SUFFIXES = (".csv", ".parquet")
DELIVERY_SUFFIXES = (".zip", ".xlsx")
# A zip bomb guard: the declared uncompressed size of all members together. zipfile never
# reads past a member's declared size, so this bounds what is decompressed.
ZIP_MAX_TOTAL_BYTES = 2 * 1024**3
_IGNORED_PREFIXES = (".", "__macosx", "~$")


@dataclass
class RawTable:
    """One contract file as read: text columns named as normalised, plus the ROW column."""

    name: str
    file: str
    frame: pl.DataFrame
    columns: dict[str, str]  # normalised name -> name as written in the file
    format: dict[str, str]


@dataclass
class CsvText:
    """A contract CSV file decoded to UTF-8, its header read and its rows not yet parsed."""

    stem: str
    shown: str
    text: bytes
    body: int  # where the rows start: the first byte after the header line
    delimiter: str
    header: list[str]
    format: dict[str, str]
    lines: int
    trim: bool  # False when no value can hold whitespace to trim (see `_needs_trim`)

    @property
    def groupable(self) -> bool:
        """Whether it can be parsed together with others (`parse_csv`): not when a column
        has no name (blank columns are judged per file) or the header line holds a quote
        (then it may not be one line)."""
        return all(name.strip() for name in self.header) and b'"' not in self.text[: self.body]


@dataclass
class Delivery:
    """A delivery's tables as text, its content hash and the structural problems met reading it.

    An opened delivery's CSV files wait in `unparsed` until `parse_csv` turns them into tables.
    """

    source: Path
    shape: str
    content_hash: str
    tables: dict[str, RawTable] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    unparsed: list[CsvText] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows read, and lines still to parse: what a batch of deliveries is sized by."""
        return sum(raw.frame.height for raw in self.tables.values()) + sum(
            text.lines for text in self.unparsed
        )


def is_delivery(path: Path) -> bool:
    """A .zip or .xlsx file, or a folder holding at least one of the contract's files."""
    if path.is_file():
        return path.suffix.lower() in DELIVERY_SUFFIXES
    if path.is_dir():
        return any(
            child.is_file()
            and child.suffix.lower() in TABLE_SUFFIXES
            and child.stem.strip().lower() in FILES
            for child in path.iterdir()
        )
    return False


def find_deliveries(path: Path) -> list[Path]:
    """`path` itself if it is a delivery, else the deliveries directly inside it, by name."""
    if is_delivery(path):
        return [path]
    if path.is_dir():
        return sorted((child for child in path.iterdir() if is_delivery(child)), key=_name_key)
    return []


def _name_key(path: Path) -> str:
    return path.name


def read_delivery(path: Path) -> Delivery:
    """Read a delivery in any of its three shapes."""
    delivery = open_delivery(path)
    parse_csv([delivery])
    return delivery


def open_delivery(path: Path) -> Delivery:
    """Read a delivery's files, its hash and its headers; its CSV rows wait for `parse_csv`."""
    if path.is_dir():
        return _read_members(path, "folder", _folder_members(path), prefix="")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_workbook(path)
    if suffix == ".zip":
        return _read_zip(path)
    data = path.read_bytes() if path.is_file() else b""
    return Delivery(
        path,
        "unknown",
        hashlib.sha256(data).hexdigest(),
        issues=[_issue(path.name, "unreadable_delivery")],
    )


def _issue(file: str, rule: str, column: str | None = None, message: str = "") -> Issue:
    return Issue(file=file, row=None, column=column, rule=rule, message=message)


def _ignored(name: str) -> bool:
    return name.lower().startswith(_IGNORED_PREFIXES)


def _folder_members(path: Path) -> dict[str, bytes]:
    """Each file's bytes by name; a subfolder appears as "name/" so it is reported, not read."""
    return {
        child.name + ("/" if child.is_dir() else ""): b"" if child.is_dir() else child.read_bytes()
        for child in sorted(path.iterdir())
        if not _ignored(child.name)
    }


def _read_zip(path: Path) -> Delivery:
    data = path.read_bytes()
    content_hash = hashlib.sha256(data).hexdigest()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        return Delivery(path, "zip", content_hash, issues=[_issue(path.name, "zip_corrupt")])
    names: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or (parts and ":" in parts[0]) or ".." in parts:
            return Delivery(
                path, "zip", content_hash, issues=[_issue(path.name, "zip_unsafe_path")]
            )
        if any(_ignored(part) for part in parts):
            continue
        names[name] = info
    tops = {PurePosixPath(n).parts[0] for n in names if len(PurePosixPath(n).parts) > 1}
    deepest = max((len(PurePosixPath(n).parts) for n in names), default=1)
    loose = any(len(PurePosixPath(n).parts) == 1 for n in names)
    if deepest > 2 or len(tops) > 1 or (tops and loose):
        return Delivery(path, "zip", content_hash, issues=[_issue(path.name, "zip_too_deep")])
    if sum(info.file_size for info in names.values()) > ZIP_MAX_TOTAL_BYTES:
        return Delivery(path, "zip", content_hash, issues=[_issue(path.name, "zip_too_large")])
    try:
        members = {PurePosixPath(n).name: archive.read(info) for n, info in names.items()}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return Delivery(path, "zip", content_hash, issues=[_issue(path.name, "zip_corrupt")])
    prefix = f"{next(iter(tops))}/" if tops else ""
    return _read_members(path, "zip", members, prefix=prefix)


def _members_hash(members: dict[str, bytes]) -> str:
    """sha256 over (name, size, bytes) of every file, in the order of their lower-cased names.

    Built from the files, not the container, so a folder and a zip of the same files match.
    """
    digest = hashlib.sha256()
    for name in sorted(members, key=str.lower):
        data = members[name]
        digest.update(f"{name.strip().lower()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _read_members(path: Path, shape: str, members: dict[str, bytes], prefix: str) -> Delivery:
    delivery = Delivery(path, shape, _members_hash(members))
    chosen: dict[str, str] = {}
    for name in sorted(members):
        stem, _, suffix = name.rpartition(".")
        stem = stem.strip().lower()
        shown = prefix + name
        if name.endswith("/") or f".{suffix.lower()}" not in TABLE_SUFFIXES or stem not in FILES:
            delivery.issues.append(_issue(shown, "unexpected_file"))
        elif stem in chosen:
            delivery.issues.append(_issue(shown, "duplicate_file"))
        else:
            chosen[stem] = name
    for stem in FILES:
        if stem not in chosen:
            delivery.issues.append(_issue(f"{stem}.csv", "missing_file"))
            continue
        name = chosen[stem]
        shown = prefix + name
        if name.lower().endswith(".parquet"):
            table, issues = _read_parquet(stem, shown, members[name])
        else:
            opened = open_csv(stem, shown, members[name])
            if isinstance(opened, CsvText):
                delivery.unparsed.append(opened)
                continue
            table, issues = opened
        delivery.issues.extend(issues)
        if table is not None:
            delivery.tables[stem] = table
    return delivery


def _decode(data: bytes) -> tuple[bytes, str] | None:
    """The bytes as UTF-8 and the encoding they came in, or None if neither UTF-8 nor cp1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            data[3:].decode("utf-8")
        except UnicodeDecodeError:
            return None
        return data[3:], "utf-8-bom"
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252").encode("utf-8"), "windows-1252"
    except UnicodeDecodeError:
        return None


def read_csv_bytes(stem: str, shown: str, data: bytes) -> tuple[RawTable | None, list[Issue]]:
    """One CSV file as a table, or the issues that keep it from being read."""
    opened = open_csv(stem, shown, data)
    if isinstance(opened, CsvText):
        return _parse_one(opened)
    return opened


def open_csv(stem: str, shown: str, data: bytes) -> CsvText | tuple[RawTable | None, list[Issue]]:
    """The file decoded with its header read, or what reading it already decided."""
    decoded = _decode(data)
    if decoded is None:
        return None, [_issue(shown, "encoding")]
    text, encoding = decoded
    end = text.find(b"\n")
    body = len(text) if end < 0 else end + 1
    first_line = text[:body].decode("utf-8").rstrip("\r\n")
    if not first_line.strip():
        return None, [_issue(shown, "unreadable_file", message="the file has no header line")]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    header = next(csv.reader([first_line], delimiter=delimiter))
    named = [h for h in header if h.strip()]
    if len(set(named)) < len(named):
        # polars would rename a repeated name; report it on the names as written instead.
        return normalise_table(stem, shown, pl.DataFrame(), header, {}, first_row=2)
    fmt = {"encoding": encoding, "delimiter": delimiter}
    lines = text.count(b"\n")
    return CsvText(stem, shown, text, body, delimiter, header, fmt, lines, _needs_trim(text))


def _needs_trim(text: bytes) -> bool:
    """Whether a value of the CSV text may be empty or start or end with whitespace.

    Not when the text is ASCII without quotes, spaces, tabs, vertical tabs or form feeds and
    each carriage return ends a line: then every value is the bytes between two delimiters,
    and polars already reads an empty one as null. Export files are usually like that, and
    trimming every value of a national ingest costs ~0.5 s of CPU (a test holds the two
    equal).
    """
    return not (
        text.isascii()
        and not any(char in text for char in (b'"', b" ", b"\t", b"\x0b", b"\x0c"))
        and (b"\r" not in text or text.count(b"\r") == text.count(b"\r\n"))
    )


def parse_csv(deliveries: Sequence[Delivery]) -> None:
    """Parse the rows of the opened deliveries' CSV files into their tables.

    Files of the same table written the same way (delimiter and header line) are parsed as one
    text, with a line that cannot occur in any file between them: one polars call per group
    instead of one per file, whose fixed cost dominated a national ingest. Each file's rows,
    row numbers and problems are exactly those of parsing it alone; a group that fails to
    parse is parsed file by file, so the failure is reported on the file that caused it.
    """
    groups: dict[tuple[object, ...], list[tuple[Delivery, CsvText]]] = {}
    for delivery in deliveries:
        for text in delivery.unparsed:
            alone = None if text.groupable else id(text)
            key = (text.stem, text.delimiter, tuple(text.header), alone)
            groups.setdefault(key, []).append((delivery, text))
        delivery.unparsed = []
    for members in groups.values():
        texts = [text for _, text in members]
        results = _parse_together(texts) if len(texts) > 1 else None
        for (delivery, text), (table, issues) in zip(
            members, results or [_parse_one(text) for text in texts], strict=True
        ):
            delivery.issues.extend(issues)
            if table is not None:
                delivery.tables[text.stem] = table
    for delivery in deliveries:
        delivery.tables = {stem: delivery.tables[stem] for stem in FILES if stem in delivery.tables}


def _parse_one(text: CsvText) -> tuple[RawTable | None, list[Issue]]:
    frame = _parsed(text.text, text.delimiter, len(text.header))
    if frame is None:
        # polars' message can quote the offending line: never pass it on.
        return None, [_issue(text.shown, "unreadable_file")]
    return normalise_table(
        text.stem, text.shown, frame, text.header, text.format, first_row=2, trim=text.trim
    )


def _parsed(data: bytes, delimiter: str, width: int) -> pl.DataFrame | None:
    """The CSV's rows as text columns c0, c1, ...; None when it does not parse to `width`."""
    try:
        frame = pl.read_csv(io.BytesIO(data), separator=delimiter, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError):
        return None
    if frame.width != width:
        return None
    return frame.rename(dict(zip(frame.columns, [f"c{i}" for i in range(width)], strict=True)))


def _parse_together(texts: list[CsvText]) -> list[tuple[RawTable | None, list[Issue]]] | None:
    """`_parse_one` of each file, in one parse of them all; None when that is not the same.

    A quote left open in one file would run into the next: it swallows the boundary line
    after it, so a boundary goes missing and the group is parsed file by file instead.
    """
    first = texts[0]
    # Files of a group share their header, so their columns' normalised names too; names
    # that repeat once normalised are reported per file.
    columns, _ = _named(first.shown, first.header)
    if columns is None:
        return None
    mark = f"__hgkm_file_boundary_{uuid.uuid4().hex}"
    parts: list[bytes | memoryview] = []
    for i, text in enumerate(texts):
        if i:
            parts.append(f"{mark}\n".encode())
        start = 0 if i == 0 else text.body  # the first file's header names the columns
        # A view, not a copy, of each file's rows; b"".join copies them once.
        parts.append(memoryview(text.text)[start:])
        if start < len(text.text) and not text.text.endswith(b"\n"):
            parts.append(b"\n")
    frame = _parsed(b"".join(parts), first.delimiter, len(first.header))
    if frame is None:
        return None
    marks = frame.select(pl.arg_where(pl.col("c0") == mark)).to_series().to_numpy()
    if len(marks) != len(texts) - 1:
        return None
    starts = np.concatenate([[0], marks + 1])
    index = np.arange(frame.height)
    segment = np.searchsorted(marks, index, side="right")
    frame = (
        (_trimmed(frame) if any(text.trim for text in texts) else frame)
        .with_columns(
            pl.Series(ROW, index - starts[segment] + 2, dtype=pl.Int64),
            pl.Series("__segment", segment, dtype=pl.Int64),
        )
        .filter(
            pl.col("c0").ne_missing(mark),
            pl.any_horizontal(pl.col(f"c{j}").is_not_null() for j in range(len(first.header))),
        )
    )
    segments = frame["__segment"].to_numpy()
    frame = frame.select(ROW, *(pl.col(f"c{j}").alias(name) for j, name in enumerate(columns)))
    results: list[tuple[RawTable | None, list[Issue]]] = []
    offset = 0
    for text, height in zip(texts, np.bincount(segments, minlength=len(texts)), strict=True):
        columns, issues = _named(text.shown, text.header)
        rows = frame.slice(offset, int(height))
        offset += int(height)
        table = (
            None if columns is None else RawTable(text.stem, text.shown, rows, columns, text.format)
        )
        results.append((table, issues))
    return results


def _read_parquet(stem: str, shown: str, data: bytes) -> tuple[RawTable | None, list[Issue]]:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
        header = frame.columns
        frame = frame.select(pl.col(c).cast(pl.String).alias(f"c{i}") for i, c in enumerate(header))
    except (pl.exceptions.PolarsError, OSError):
        return None, [_issue(shown, "unreadable_file", message="not a readable parquet file")]
    return normalise_table(stem, shown, frame, header, {"format": "parquet"}, first_row=1)


def _read_workbook(path: Path) -> Delivery:
    data = path.read_bytes()
    delivery = Delivery(path, "xlsx", hashlib.sha256(data).hexdigest())
    try:
        workbook = fastexcel.read_excel(data)
        sheet_names = workbook.sheet_names
    except Exception:  # fastexcel raises its own error types for any damaged workbook
        delivery.issues.append(_issue(path.name, "unreadable_delivery"))
        return delivery
    chosen: dict[str, str] = {}
    for sheet in sheet_names:
        stem = sheet.strip().lower()
        if stem not in FILES:
            delivery.issues.append(_issue(f"sheet {sheet}", "unexpected_file"))
        elif stem in chosen:
            delivery.issues.append(_issue(f"sheet {sheet}", "duplicate_file"))
        else:
            chosen[stem] = sheet
    for stem in FILES:
        if stem not in chosen:
            delivery.issues.append(_issue(f"sheet {stem}", "missing_file"))
            continue
        shown = f"sheet {chosen[stem]}"
        try:
            sheet_frame = workbook.load_sheet(chosen[stem], dtypes="string").to_polars()
        except Exception:
            delivery.issues.append(_issue(shown, "unreadable_file", message="unreadable sheet"))
            continue
        header = [str(c) for c in sheet_frame.columns]
        frame = sheet_frame.select(
            pl.col(c).cast(pl.String).alias(f"c{i}") for i, c in enumerate(sheet_frame.columns)
        )
        # Excel date cells come back as "YYYY-MM-DD 00:00:00": keep the date part.
        frame = frame.with_columns(pl.all().str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00$", "$1"))
        table, issues = normalise_table(stem, shown, frame, header, {"format": "xlsx"}, first_row=2)
        delivery.issues.extend(issues)
        if table is not None:
            delivery.tables[stem] = table
    return delivery


def normalise_table(
    stem: str,
    shown: str,
    frame: pl.DataFrame,
    header: list[str],
    fmt: dict[str, str],
    first_row: int,
    trim: bool = True,
) -> tuple[RawTable | None, list[Issue]]:
    """Name columns as normalised (trimmed, lower case), trim values, number rows, drop blanks.

    `trim=False` when no value can need trimming (`_needs_trim`).
    """
    if trim:
        frame = _trimmed(frame)
    # A trailing delimiter or an empty spreadsheet column gives a column without a name or a
    # value: nothing to check, so not an error.
    blank = [
        i
        for i, name in enumerate(header)
        if (not name.strip() or name.startswith("__UNNAMED__"))
        and frame.width > i
        and frame[:, i].null_count() == frame.height
    ]
    if blank:
        frame = frame.drop([frame.columns[i] for i in blank])
        header = [name for i, name in enumerate(header) if i not in blank]
    columns, issues = _named(shown, header)
    if columns is None:
        return None, issues
    names = list(columns)
    frame = (
        frame.rename(dict(zip(frame.columns, names, strict=True)))
        .with_row_index(ROW, offset=first_row)
        .with_columns(pl.col(ROW).cast(pl.Int64))
    )
    if names:
        frame = frame.filter(pl.any_horizontal(pl.col(names).is_not_null()))
    return RawTable(stem, shown, frame, columns, fmt), issues


def _trimmed(frame: pl.DataFrame) -> pl.DataFrame:
    """Every value trimmed, an empty one null."""
    return frame.with_columns(pl.all().str.strip_chars().replace("", None))


def _named(shown: str, header: list[str]) -> tuple[dict[str, str] | None, list[Issue]]:
    """The columns (normalised name -> name as written) and the header's problems; None when
    two names are the same once normalised."""
    names = [h.strip().lower() for h in header]
    # A header can hold personal data too (a file without its header line starts with a
    # data row): such a column is named by its position, never by its name.
    # A header is a handful of names: the guard's cheap candidate pattern, tried on them here,
    # spares building its frames for the usual clean header.
    found = (
        guard.scan(
            pl.DataFrame({"position": range(1, len(header) + 1), "name": header}),
            "position",
            ["name"],
        ).rows()
        if any(re.search(guard.CANDIDATE, name) for name in header)
        else []
    )
    personal = [Issue(shown, 1, f"column {position}", rule) for position, _, rule in found]
    named_by_position = {position for position, _, _ in found}
    header = [f"column {i + 1}" if i + 1 in named_by_position else h for i, h in enumerate(header)]
    duplicates = [
        _issue(shown, "duplicate_column", column=header[i])
        for i, name in enumerate(names)
        if name in names[:i]
    ]
    if duplicates:
        return None, personal + duplicates
    return dict(zip(names, header, strict=True)), personal
