"""Read a delivery (folder, .zip or .xlsx) into text-only tables, noting the formats found.

Every value is read as text (trimmed, empty -> null) so that the checks can parse dates and
enums themselves and report what fails by file, row and column. Nothing is extracted to disk.
Only regular files and real folders are read (`files`), never past the limits
(`hgkm.limits`), checked before the bytes or rows are read; workbooks and Parquet files are
read in a child process (`isolated`); every name passes the anonymisation guard (`names`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import struct
import uuid
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import numpy as np
import polars as pl

from hgkm import files
from hgkm.escape import printable
from hgkm.limits import DEFAULTS, Limits, described
from pipelines import guard, isolated, names
from pipelines.contract import FILES
from pipelines.report import Issue

ROW = "__row"  # the row number as the team sees it (CSV line / sheet row; header = 1)
TABLE_SUFFIXES = (".csv", ".parquet")
DELIVERY_SUFFIXES = (".zip", ".xlsx")
_IGNORED_PREFIXES = (".", "__macosx", "~$")
# Stands for the delivery's own name in its issues until its content hash names it.
_OWN_NAME = "\0delivery"
_EMPTY_HASH = hashlib.sha256(b"").hexdigest()
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"


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
    long_lines: int | None = None  # the field limit, when a line may be longer (`_long_line`)

    @property
    def groupable(self) -> bool:
        """Whether it can be parsed together with others (`parse_csv`): not when a column
        has no name (blank columns are judged per file), the header line holds a quote (then
        it may not be one line), or a value may be over the field limit."""
        return (
            all(name.strip() for name in self.header)
            and b'"' not in self.text[: self.body]
            and self.long_lines is None
        )


@dataclass
class Delivery:
    """A delivery's tables as text, its content hash and the structural problems met reading it.

    An opened delivery's CSV files wait in `unparsed` until `parse_csv` turns them into tables.
    `name` is the delivery's name as it may be shown and stored: its own, or (when it fails the
    guard) "delivery" and the start of its content hash.
    """

    source: Path
    shape: str
    content_hash: str
    tables: dict[str, RawTable] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    unparsed: list[CsvText] = field(default_factory=list)
    name: str = ""
    size: int = 0  # bytes held (what the read-ahead is bounded by)

    def __post_init__(self) -> None:
        self.name = self.name or names.shown(self.source.name, label(self.content_hash))

    @property
    def rows(self) -> int:
        """Rows read, and lines still to parse: what a batch of deliveries is sized by."""
        return sum(raw.frame.height for raw in self.tables.values()) + sum(
            text.lines for text in self.unparsed
        )


def label(content_hash: str) -> str:
    """The neutral name of a delivery whose own name fails the guard."""
    return f"delivery {content_hash[:12]}"


def is_delivery(path: Path) -> bool:
    """A .zip or .xlsx file, or a real folder holding an entry named as a contract file.

    A link or pipe named as a contract file counts: the reader refuses it by name."""
    kind = files.kind(path)
    if kind == files.FILE:
        return path.suffix.lower() in DELIVERY_SUFFIXES
    if kind == files.FOLDER:
        with os.scandir(path) as entries:
            return any(_contract_file(entry.name) for entry in entries)
    return False


def _contract_file(name: str) -> bool:
    stem, _, suffix = name.rpartition(".")
    return f".{suffix.lower()}" in TABLE_SUFFIXES and stem.strip().lower() in FILES


def find_deliveries(path: Path) -> list[Path]:
    """`path` itself if it is a delivery, else the deliveries directly inside it, by name."""
    if is_delivery(path):
        return [path]
    if files.kind(path) == files.FOLDER:
        return sorted((child for child in path.iterdir() if is_delivery(child)), key=_name_key)
    return []


def _name_key(path: Path) -> str:
    return path.name


def read_delivery(path: Path, limits: Limits = DEFAULTS) -> Delivery:
    """Read a delivery in any of its three shapes."""
    delivery = open_delivery(path, limits)
    parse_csv([delivery])
    return delivery


def open_delivery(path: Path, limits: Limits = DEFAULTS) -> Delivery:
    """Read a delivery's files, its hash and its headers; its CSV rows wait for `parse_csv`.

    A path that is not a real folder or a regular file is refused unread; a delivery whose own
    name fails the guard is rejected and shown by its label.
    """
    kind = files.kind(path)
    suffix = path.suffix.lower()
    if kind == files.FOLDER:
        delivery = _read_folder(path, limits)
    elif kind == files.FILE and suffix in DELIVERY_SUFFIXES:
        try:
            data = files.read_bytes(path, limits.file_bytes)
        except files.Refused as exc:
            delivery = _refused(path, exc, limits)
        else:
            read = _read_workbook if suffix == ".xlsx" else _read_zip
            delivery = read(path, data, limits)
    elif kind in (files.FILE, files.MISSING):
        delivery = _unread(path, "unknown", _issue(_OWN_NAME, "unreadable_delivery"))
    else:
        delivery = _refused(path, files.Refused(kind), limits)
    own = names.issues(path.name, _OWN_NAME)
    delivery.issues = [
        replace(issue, file=delivery.name) if issue.file == _OWN_NAME else issue
        for issue in (*own, *delivery.issues)
    ]
    return delivery


def failed_delivery(path: Path) -> Delivery:
    """A delivery whose reading failed in this program: rejected, never half read."""
    return _unread(path, "unknown", _issue(_OWN_NAME, "internal_error"))


def _unread(path: Path, shape: str, issue: Issue) -> Delivery:
    delivery = Delivery(path, shape, _EMPTY_HASH)
    delivery.issues.append(replace(issue, file=delivery.name) if issue.file == _OWN_NAME else issue)
    return delivery


def _refused(path: Path, refused: files.Refused, limits: Limits) -> Delivery:
    """The delivery `path` refused as a whole: not a regular file or folder, or too large."""
    return _unread(path, "unknown", _file_refused(_OWN_NAME, refused, limits))


def _issue(file: str, rule: str, column: str | None = None, message: str = "") -> Issue:
    return Issue(file=file, row=None, column=column, rule=rule, message=message)


def _size(n: int) -> str:
    return f"{n / 1024**2:,.1f} MiB" if n >= 1024**2 else f"{n:,} bytes"


def _split_advice(found: str) -> str:
    return (
        f"{found}: check the export (it should hold only the contract's tables); a larger "
        "delivery needs the analysts to raise the limit in hgkm.toml"
    )


def _ignored(name: str) -> bool:
    return name.lower().startswith(_IGNORED_PREFIXES)


def _read_folder(path: Path, limits: Limits) -> Delivery:
    """A folder's regular files; a subfolder appears as "name/" so it is reported, not read,
    and a link, pipe or device is refused unopened."""
    listed: list[tuple[str, str, int]] = []
    with os.scandir(path) as entries:
        for entry in entries:
            if len(listed) >= limits.files:
                message = f"the folder holds more than {described(limits, 'files')} entries"
                return _unread(path, "folder", _issue(_OWN_NAME, "too_many_files", message=message))
            info = entry.stat(follow_symlinks=False)
            listed.append((entry.name, files.kind_of(info.st_mode), info.st_size))
    listed.sort()
    members: dict[str, bytes] = {}
    shown: dict[str, str] = {}
    sizes: dict[str, int] = {}
    unread: set[str] = set()
    issues: list[Issue] = []
    for position, (name, kind, size) in enumerate(listed, start=1):
        if _ignored(name):
            continue
        tag = f"file {position} of the folder"
        shown[name] = names.shown(name, tag)
        issues += names.issues(name, tag)
        if kind == files.FOLDER:
            members[name + "/"] = b""
            shown[name + "/"] = shown[name] + "/"
        elif kind != files.FILE:
            issues.append(_issue(shown[name], "not_a_regular_file", message=files.refusal(kind)))
            unread.add(name)
        else:
            sizes[name] = size
    total = sum(sizes.values())
    if total > limits.delivery_bytes:
        found = f"its files hold {_size(total)}, more than {described(limits, 'delivery_bytes')}"
        return _unread_with(
            path,
            "folder",
            sizes,
            _issue(_OWN_NAME, "delivery_too_large", message=_split_advice(found)),
        )
    for name in sizes:
        try:
            members[name] = files.read_bytes(path / name, limits.file_bytes)
        except files.Refused as exc:
            issues.append(_file_refused(shown[name], exc, limits))
            unread.add(name)
    delivery = _read_members(path, "folder", members, shown, limits, frozenset(unread))
    delivery.issues[:0] = issues
    return delivery


def _unread_with(path: Path, shape: str, sizes: dict[str, int], issue: Issue) -> Delivery:
    """A delivery refused before its files were read, hashed over their names and sizes."""
    digest = hashlib.sha256()
    for name in sorted(sizes, key=str.lower):
        digest.update(f"{name.strip().lower()}\0{sizes[name]}\0".encode())
    delivery = Delivery(path, shape, digest.hexdigest())
    delivery.issues.append(issue)
    return delivery


def _file_refused(shown: str, refused: files.Refused, limits: Limits) -> Issue:
    if refused.size is None:
        return _issue(shown, "not_a_regular_file", message=files.refusal(refused.kind))
    found = f"{_size(refused.size)}, more than {described(limits, 'file_bytes')}"
    return _issue(shown, "file_too_large", message=_split_advice(found))


def _zip_entries(data: bytes) -> int | None:
    """The entry count the zip's end record declares, read before `zipfile` builds an object
    per entry; None when there is no end record (then `zipfile` reports the damage)."""
    at = data.rfind(_EOCD, max(0, len(data) - 22 - 65535))
    if at < 0 or at + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, at + 10)
    locator = at - 20
    if count == 0xFFFF and locator >= 0 and data[locator : locator + 4] == _EOCD64_LOCATOR:
        (offset,) = struct.unpack_from("<Q", data, locator + 8)
        if offset + 40 <= len(data):
            (count,) = struct.unpack_from("<Q", data, offset + 32)
    return int(count)


def _read_zip(path: Path, data: bytes, limits: Limits) -> Delivery:
    content_hash = hashlib.sha256(data).hexdigest()

    def rejected(rule: str, message: str = "") -> Delivery:
        delivery = Delivery(path, "zip", content_hash, size=len(data))
        delivery.issues.append(_issue(delivery.name, rule, message=message))
        return delivery

    entries = _zip_entries(data)
    if entries is not None and entries > limits.files:
        return rejected(
            "too_many_files",
            f"the zip holds {entries:,} entries, more than {described(limits, 'files')}",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, struct.error):
        return rejected("zip_corrupt")
    listed: dict[str, zipfile.ZipInfo] = {}
    shown: dict[str, str] = {}
    issues: list[Issue] = []
    for position, info in enumerate(infos, start=1):
        if info.is_dir():
            continue
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or (parts and ":" in parts[0]) or ".." in parts:
            return rejected("zip_unsafe_path")
        if any(_ignored(part) for part in parts):
            continue
        listed[name] = info
        tag = f"file {position} of the zip"
        shown[name] = names.shown(name, tag)
        issues += names.issues(name, tag)
    tops = {PurePosixPath(n).parts[0] for n in listed if len(PurePosixPath(n).parts) > 1}
    deepest = max((len(PurePosixPath(n).parts) for n in listed), default=1)
    loose = any(len(PurePosixPath(n).parts) == 1 for n in listed)
    if deepest > 2 or len(tops) > 1 or (tops and loose):
        return rejected("zip_too_deep")
    # zipfile never inflates past a member's declared size: the declared sizes bound a bomb.
    total = sum(info.file_size for info in listed.values())
    if total > limits.delivery_bytes:
        found = f"it unpacks to {_size(total)}, more than {described(limits, 'delivery_bytes')}"
        return rejected("delivery_too_large", _split_advice(found))
    members: dict[str, bytes] = {}
    unread = set()
    for name, info in listed.items():
        if info.file_size > limits.file_bytes:
            issues.append(
                _file_refused(shown[name], files.Refused(files.FILE, info.file_size), limits)
            )
            unread.add(PurePosixPath(name).name)
            continue
        try:
            members[PurePosixPath(name).name] = archive.read(info)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            return rejected("zip_corrupt")
    shown = {PurePosixPath(name).name: shown[name] for name in listed}
    delivery = _read_members(path, "zip", members, shown, limits, frozenset(unread))
    delivery.issues[:0] = issues
    return delivery


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


def _read_members(
    path: Path,
    shape: str,
    members: dict[str, bytes],
    shown: dict[str, str],
    limits: Limits,
    unread: frozenset[str] = frozenset(),
) -> Delivery:
    """The contract's tables among the members (name -> bytes; each shown as `shown[name]`).

    `unread` are files refused unread (their issue is the caller's): not missing either."""
    size = sum(map(len, members.values()))
    delivery = Delivery(path, shape, _members_hash(members), size=size)
    chosen: dict[str, str] = {}
    for name in sorted({*members, *unread}):
        stem, _, suffix = name.rpartition(".")
        stem = stem.strip().lower()
        if name.endswith("/") or f".{suffix.lower()}" not in TABLE_SUFFIXES or stem not in FILES:
            delivery.issues.append(_issue(shown[name], "unexpected_file"))
        elif stem in chosen:
            delivery.issues.append(_issue(shown[name], "duplicate_file"))
        else:
            chosen[stem] = name
    for stem in FILES:
        if stem not in chosen:
            delivery.issues.append(_issue(f"{stem}.csv", "missing_file"))
            continue
        name = chosen[stem]
        if name in unread:
            continue
        if name.lower().endswith(".parquet"):
            table, issues = _read_parquet(stem, shown[name], members[name], limits)
        else:
            opened = open_csv(stem, shown[name], members[name], limits)
            if isinstance(opened, CsvText):
                delivery.unparsed.append(opened)
                continue
            table, issues = opened
        delivery.issues.extend(issues)
        if table is not None:
            delivery.tables[stem] = table
    _within_cells(delivery, limits)
    return delivery


def _within_cells(delivery: Delivery, limits: Limits) -> None:
    """Refuse a delivery whose tables hold more values (rows x columns) together than `cells`
    allows: its tables are dropped before any is parsed or checked."""
    cells = sum(raw.frame.height * (raw.frame.width - 1) for raw in delivery.tables.values())
    cells += sum(max(0, text.lines - 1) * len(text.header) for text in delivery.unparsed)
    if cells <= limits.cells:
        return
    found = f"its tables hold {cells:,} values (rows x columns), more than "
    message = _split_advice(found + described(limits, "cells"))
    delivery.issues.append(_issue(delivery.name, "too_many_cells", message=message))
    delivery.tables, delivery.unparsed = {}, []


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


def read_csv_bytes(
    stem: str, shown: str, data: bytes, limits: Limits = DEFAULTS
) -> tuple[RawTable | None, list[Issue]]:
    """One CSV file as a table, or the issues that keep it from being read."""
    opened = open_csv(stem, shown, data, limits)
    if isinstance(opened, CsvText):
        return _parse_one(opened)
    return opened


def open_csv(
    stem: str, shown: str, data: bytes, limits: Limits = DEFAULTS
) -> CsvText | tuple[RawTable | None, list[Issue]]:
    """The file decoded with its header read, or what reading it already decided.

    The header is measured before it is parsed (its columns and its longest name), and the
    rows are counted before they are: a file over a limit is never parsed.
    """
    decoded = _decode(data)
    if decoded is None:
        return None, [_issue(shown, "encoding")]
    text, encoding = decoded
    end = text.find(b"\n")
    body = len(text) if end < 0 else end + 1
    lines = text.count(b"\n")
    if lines - 1 > limits.rows:
        found = f"{lines - 1:,} lines, more than {described(limits, 'rows')}"
        return None, [_issue(shown, "too_many_rows", message=_split_advice(found))]
    raw_line = text[:body]
    delimiter = ";" if raw_line.count(b";") > raw_line.count(b",") else ","
    if raw_line.count(delimiter.encode()) + 1 > limits.columns:
        found = f"the header has {raw_line.count(delimiter.encode()) + 1:,} columns, more than "
        return None, [
            _issue(shown, "too_many_columns", message=found + described(limits, "columns"))
        ]
    first_line = raw_line.decode("utf-8").rstrip("\r\n")
    if not first_line.strip():
        return None, [_issue(shown, "unreadable_file", message="the file has no header line")]
    try:
        header = _header(first_line, delimiter, limits.field_bytes)
    except csv.Error:
        message = f"a column name is longer than {described(limits, 'field_bytes')}"
        return None, [Issue(shown, 1, None, "field_too_long", message)]
    named = [h for h in header if h.strip()]
    if len(set(named)) < len(named):
        # polars would rename a repeated name; report it on the names as written instead.
        return normalise_table(stem, shown, pl.DataFrame(), header, {}, first_row=2)
    cells = max(0, lines - 1) * len(header)
    if cells > limits.cells:
        found = f"{cells:,} values (rows x columns), more than {described(limits, 'cells')}"
        return None, [_issue(shown, "too_many_cells", message=_split_advice(found))]
    fmt = {"encoding": encoding, "delimiter": delimiter}
    long_lines = limits.field_bytes if _long_line(text, limits.field_bytes) else None
    return CsvText(
        stem, shown, text, body, delimiter, header, fmt, lines, _needs_trim(text), long_lines
    )


def _header(line: str, delimiter: str, field_bytes: int) -> list[str]:
    """The header's names; csv.Error when one is longer than `field_bytes`."""
    # The csv module's own limit is per process and only ever raised here: it stops a name
    # far past ours before it is copied, and ours is checked on what it returns.
    csv.field_size_limit(max(field_bytes, csv.field_size_limit()))
    header = next(csv.reader([line], delimiter=delimiter))
    if any(len(name.encode()) > field_bytes for name in header):
        raise csv.Error("a name is longer than the field limit")
    return header


def _long_line(text: bytes, limit: int) -> bool:
    """Whether a line of the text may be longer than `limit` bytes: a line break is looked for
    in every window of half the limit, so when each holds one, no line can be that long. Each
    look stops at the first break, so a usual file costs a few hundred short searches."""
    if len(text) <= limit:
        return False
    step = max(1, limit // 2)
    return any(text.find(b"\n", start, start + step) < 0 for start in range(0, len(text), step))


def _needs_trim(text: bytes) -> bool:
    """Whether a value of the CSV text may be empty or start or end with whitespace.

    Not when the text is ASCII without quotes, spaces, tabs, vertical tabs or form feeds and
    each carriage return ends a line: then every value is the bytes between two delimiters,
    and polars already reads an empty one as null. Export files are usually like that, and
    trimming every value of a national ingest is a measurable part of its CPU
    (benchmarks/findings.md; a test holds the two reads equal).
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
        text.stem,
        text.shown,
        frame,
        text.header,
        text.format,
        first_row=2,
        trim=text.trim,
        field_bytes=text.long_lines,
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


def _read_parquet(
    stem: str, shown: str, data: bytes, limits: Limits
) -> tuple[RawTable | None, list[Issue]]:
    try:
        sheet, frame = isolated.read_parquet(data, limits)
    except isolated.ReaderFailed as exc:
        return None, [_issue(shown, "unreadable_file", message=reader_failed("file", exc))]
    if sheet.problem or frame is None:
        return None, [over_limit(shown, sheet, limits, "not a readable parquet file")]
    try:
        frame = frame.select(pl.col(c).cast(pl.String) for c in frame.columns)
    except pl.exceptions.PolarsError:
        return None, [_issue(shown, "unreadable_file", message="not a readable parquet file")]
    fmt = {"format": "parquet"}
    return normalise_table(
        stem, shown, frame, sheet.header, fmt, first_row=1, field_bytes=limits.field_bytes
    )


def reader_failed(what: str, exc: isolated.ReaderFailed) -> str:
    return (
        f"the {what} could not be read: {exc.why}. It may be damaged or built to exhaust the "
        "reader: save it again from its program"
    )


def over_limit(shown: str, sheet: isolated.Sheet, limits: Limits, unreadable: str) -> Issue:
    """The issue for a sheet or Parquet table the child did not read, by its problem."""
    rules = {
        "rows": ("too_many_rows", "rows", "rows"),
        "columns": ("too_many_columns", "columns", "columns"),
        "cells": ("too_many_cells", "cells", "values (rows x columns)"),
        "bytes": ("file_too_large", "file_bytes", "bytes unpacked"),
    }
    if sheet.problem not in rules:
        return _issue(shown, "unreadable_file", message=unreadable)
    rule, limit, what = rules[sheet.problem]
    found = f"{sheet.found:,} {what}, more than {described(limits, limit)}"
    return _issue(shown, rule, message=_split_advice(found))


def _read_workbook(path: Path, data: bytes, limits: Limits) -> Delivery:
    delivery = Delivery(path, "xlsx", hashlib.sha256(data).hexdigest(), size=len(data))
    try:
        outcome, frames = isolated.read_workbook(data, FILES, limits)
    except isolated.ReaderFailed as exc:
        message = reader_failed("workbook", exc)
        delivery.issues.append(_issue(delivery.name, "unreadable_delivery", message=message))
        return delivery
    if len(outcome.sheets) > limits.files:
        found = f"the workbook has {len(outcome.sheets):,} sheets, more than "
        message = found + described(limits, "files")
        delivery.issues.append(_issue(delivery.name, "too_many_files", message=message))
        return delivery
    shown = {}
    for position, sheet in enumerate(outcome.sheets, start=1):
        shown[sheet] = "sheet " + names.shown(sheet, f"#{position}")
        delivery.issues += names.issues(sheet, f"sheet #{position}")
    chosen = isolated.choose(outcome.sheets, FILES, first_if_none=False)
    for sheet in outcome.sheets:
        stem = sheet.strip().lower()
        if stem not in FILES:
            delivery.issues.append(_issue(shown[sheet], "unexpected_file"))
        elif chosen[stem] != sheet:
            delivery.issues.append(_issue(shown[sheet], "duplicate_file"))
    for stem in FILES:
        if stem not in chosen:
            delivery.issues.append(_issue(f"sheet {stem}", "missing_file"))
            continue
        sheet = chosen[stem]
        loaded = outcome.loaded[sheet]
        if sheet not in frames:
            delivery.issues.append(over_limit(shown[sheet], loaded, limits, "unreadable sheet"))
            continue
        table, issues = sheet_table(stem, shown[sheet], frames[sheet], loaded.header, limits)
        delivery.issues.extend(issues)
        if table is not None:
            delivery.tables[stem] = table
    return delivery


def sheet_table(
    stem: str, shown: str, frame: pl.DataFrame, header: list[str], limits: Limits
) -> tuple[RawTable | None, list[Issue]]:
    """A sheet's text columns (c0, ...) as a table; date cells keep only their date."""
    # Excel date cells come back as "YYYY-MM-DD 00:00:00": keep the date part.
    frame = frame.with_columns(pl.all().str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00$", "$1"))
    fmt = {"format": "xlsx"}
    return normalise_table(
        stem, shown, frame, header, fmt, first_row=2, field_bytes=limits.field_bytes
    )


def normalise_table(
    stem: str,
    shown: str,
    frame: pl.DataFrame,
    header: list[str],
    fmt: dict[str, str],
    first_row: int,
    trim: bool = True,
    field_bytes: int | None = None,
) -> tuple[RawTable | None, list[Issue]]:
    """Name columns as normalised (trimmed, lower case), trim values, number rows, drop blanks.

    `trim=False` when no value can need trimming (`_needs_trim`); with `field_bytes`, every
    value longer than that is reported.
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
    names_ = list(columns)
    frame = (
        frame.rename(dict(zip(frame.columns, names_, strict=True)))
        .with_row_index(ROW, offset=first_row)
        .with_columns(pl.col(ROW).cast(pl.Int64))
    )
    if names_:
        frame = frame.filter(pl.any_horizontal(pl.col(names_).is_not_null()))
    if field_bytes is not None:
        issues += _long_values(shown, frame, columns, field_bytes)
    return RawTable(stem, shown, frame, columns, fmt), issues


def _long_values(
    shown: str, frame: pl.DataFrame, columns: dict[str, str], field_bytes: int
) -> list[Issue]:
    """A `field_too_long` issue for every value longer than `field_bytes` (they are few: the
    file itself is within its byte limit)."""
    message = f"the value is longer than {_size(field_bytes)} (limit field_bytes)"
    long = frame.select(
        ROW, *(pl.col(c).str.len_bytes().gt(field_bytes).alias(c) for c in columns)
    ).filter(pl.any_horizontal(pl.col(c) for c in columns))
    return [
        Issue(shown, row, columns[c], "field_too_long", message)
        for row, *flags in long.iter_rows()
        for c, flag in zip(columns, flags, strict=True)
        if flag
    ]


def _trimmed(frame: pl.DataFrame) -> pl.DataFrame:
    """Every value trimmed, an empty one null."""
    return frame.with_columns(pl.all().str.strip_chars().replace("", None))


def _named(shown: str, header: list[str]) -> tuple[dict[str, str] | None, list[Issue]]:
    """The columns (normalised name -> name as written) and the header's problems; None when
    two names are the same once normalised."""
    names_ = [h.strip().lower() for h in header]
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
    header = [
        f"column {i + 1}" if i + 1 in named_by_position else printable(h)
        for i, h in enumerate(header)
    ]
    counts = Counter(names_)
    seen: set[str] = set()
    duplicates = []
    for i, name in enumerate(names_):
        if counts[name] > 1 and name in seen:
            duplicates.append(_issue(shown, "duplicate_column", column=header[i]))
        seen.add(name)
    if duplicates:
        return None, personal + duplicates
    return dict(zip(names_, header, strict=True)), personal
