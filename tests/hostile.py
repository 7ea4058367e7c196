"""Hostile deliveries, built for real at test time: every way a file can attack the intake.

Each builder writes one inbox entry into a folder and returns its path. Big inputs are sparse
(a 2 GiB file of holes) or compress to almost nothing (a zip bomb), so building all of them
takes a second or two and little disk. `SECRET` and `BSN` are planted where a careless
reader would echo them; tests search every output for them.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter
from deliveries import Rows, csv_bytes, valid_rows, write_folder, write_xlsx, write_zip

from pipelines.contract import FILES

SECRET = "HGKM-PLANTED-SECRET-7f3a9c"
# A number passing the BSN eleven-test, planted in names (never a real person's: generated).
BSN = "246813581"
GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class Hostile:
    """One hostile entry: how to build it, and what the intake must answer."""

    build: Callable[[Path], Path]
    rules: frozenset[str]  # rules its report must hold; empty: refused unread (no report rules)
    limit: str | None = None  # the [limits] key its report must name


def rows_of(code: str, extract: str = "2026-10-01") -> Rows:
    rows = valid_rows()
    rows["manifest"][1]["value"] = code
    rows["manifest"][2]["value"] = extract
    return rows


def _folder_with(folder: Path, name: str, replace: str, make: Callable[[Path], None]) -> Path:
    """A valid folder delivery whose file `replace` is swapped for what `make` creates."""
    write_folder(folder / name, rows_of("GM0193"))
    (folder / name / replace).unlink()
    make(folder / name / replace)
    return folder / name


def _workbook(path: Path, rows: Rows, *, extra_sheet: str = "", far_cell: bool = False) -> Path:
    book = xlsxwriter.Workbook(str(path))
    for name in FILES:
        sheet = book.add_worksheet(name)
        columns = list(rows[name][0])
        sheet.write_row(0, 0, columns)
        for i, row in enumerate(rows[name], start=1):
            for j, column in enumerate(columns):
                if row.get(column) is not None:
                    sheet.write_string(i, j, str(row[column]))
        if far_cell and name == "cases":
            sheet.write_string(1_048_575, 16_383, "x")
    if extra_sheet:
        book.add_worksheet(extra_sheet)
    book.close()
    return path


def far_cell_xlsx(folder: Path) -> Path:
    """A few kB workbook whose cases sheet has one cell at XFD1048576: calamine would
    allocate the whole 1,048,576 x 16,384 range and abort the process."""
    return _workbook(folder / "far_cell.xlsx", rows_of("GM0193"), far_cell=True)


def garbage_xlsx(folder: Path) -> Path:
    path = folder / "damaged.xlsx"
    path.write_bytes(b"PK\x03\x04" + os.urandom(4096))
    return path


def outside(folder: Path) -> Path:
    """A folder beside `folder` (never inside an inbox) for what links point at."""
    path = folder.with_name(folder.name + "_outside")
    path.mkdir(exist_ok=True)
    return path


def link_to_secret(folder: Path) -> Path:
    """cases.csv is a link to a file whose first line is a secret (any file's first line would
    become 'unexpected column' names if the link were followed)."""
    secret = outside(folder) / "secret.txt"
    secret.write_text(f"{SECRET},second\n1,2\n")
    return _folder_with(folder, "linked_file", "cases.csv", lambda p: p.symlink_to(secret))


def link_to_environ(folder: Path) -> Path:
    """cases.csv is a link to /proc/self/environ: followed, the job's environment (where a
    test plants SECRET) would be printed as column names."""
    return _folder_with(
        folder, "linked_environ", "cases.csv", lambda p: p.symlink_to("/proc/self/environ")
    )


def linked_delivery(folder: Path) -> Path:
    """A link in the inbox to a valid delivery elsewhere: never followed, never loaded."""
    target = write_folder(outside(folder) / "elsewhere", rows_of("GM0014"))
    link = folder / "GM0014_linked"
    link.symlink_to(target)
    return link


def pipe_in_folder(folder: Path) -> Path:
    return _folder_with(folder, "piped", "cases.csv", os.mkfifo)


def pipe_in_inbox(folder: Path) -> Path:
    path = folder / "GM0160_2026-10-01.zip"
    os.mkfifo(path)
    return path


def zip_bomb(folder: Path) -> Path:
    """A small zip whose cases.csv unpacks to 300 MiB of well-formed rows: past the delivery
    limit (the rows would take several GB once read)."""
    path = folder / "bomb.zip"
    rows = rows_of("GM0193")
    line = b"case-0001,2025-01-10,partner,acute,,,\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name in FILES:
            if name != "cases":
                archive.writestr(f"{name}.csv", csv_bytes(rows, name))
        with archive.open("cases.csv", "w", force_zip64=True) as member:
            member.write(csv_bytes(rows, "cases").split(b"\r\n")[0] + b"\n")
            block = line * (MIB // len(line))
            for _ in range(300):
                member.write(block)
    return path


def long_header_field(folder: Path) -> Path:
    """A header name past the csv module's 131,072-byte field limit."""
    return _folder_with(
        folder,
        "long_field",
        "cases.csv",
        lambda p: p.write_bytes(b"case_id," + b"x" * 200_000 + b"\n"),
    )


def wide_header(folder: Path) -> Path:
    """A 200,000-column header (the old duplicate check was quadratic in it)."""
    header = b",".join(b"c%d" % i for i in range(200_000)) + b"\n"
    return _folder_with(folder, "wide", "cases.csv", lambda p: p.write_bytes(header))


def sparse_csv(folder: Path) -> Path:
    """A 2 GiB cases.csv that is one hole on disk: refused by its size, never read."""

    def make(path: Path) -> None:
        path.write_bytes(b"case_id,report_date\n")
        os.truncate(path, 2 * GIB)

    return _folder_with(folder, "sparse", "cases.csv", make)


def big_file(folder: Path) -> Path:
    """A 200 MiB help.csv (sparse): past the file limit, within the delivery limit."""

    def make(path: Path) -> None:
        path.write_bytes(b"case_id,recipient\n")
        os.truncate(path, 200 * MIB)

    return _folder_with(folder, "big_file", "help.csv", make)


def many_rows_csv(folder: Path) -> Path:
    """More lines than the rows limit, counted before any is parsed."""
    body = b"case_id\n" + b"x\n" * 1_000_001
    return _folder_with(folder, "many_rows", "cases.csv", lambda p: p.write_bytes(body))


def many_rows_parquet(folder: Path) -> Path:
    """A Parquet table whose metadata says 1,000,001 rows: refused before it is read."""
    frame = pl.DataFrame({"case_id": ["case-0001"] * 1_000_001})
    return _folder_with(
        folder,
        "parquet_rows",
        "cases.csv",
        lambda p: frame.write_parquet(p.with_suffix(".parquet")),
    )


def many_entries_zip(folder: Path) -> Path:
    path = folder / "many_entries.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(1_001):
            archive.writestr(f"f{i}.txt", b"")
    return path


def nested_zip(folder: Path) -> Path:
    inner = io.BytesIO()
    write_zip_bytes(inner, rows_of("GM0193"))
    path = folder / "nested.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("inner.zip", inner.getvalue())
    return path


def write_zip_bytes(buffer: io.BytesIO, rows: Rows) -> None:
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in FILES:
            archive.writestr(f"{name}.csv", csv_bytes(rows, name))


def member_link_zip(folder: Path) -> Path:
    """cases.csv stored as a symbolic link to /etc/passwd: its bytes are the link's text, read
    as a (broken) table; nothing is extracted or followed."""
    path = write_zip(folder / "member_link.zip", rows_of("GM0193"))
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("top_level_link.csv")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return path


def size_lie_zip(folder: Path) -> Path:
    """cases.csv declares half its real size: zipfile stops at the declared size and the CRC
    check fails."""
    path = write_zip(folder / "size_lie.zip", rows_of("GM0193"))
    data = bytearray(path.read_bytes())
    entry = data.index(b"cases.csv", data.index(b"PK\x01\x02")) - 46
    assert data[entry : entry + 4] == b"PK\x01\x02"
    size = int.from_bytes(data[entry + 24 : entry + 28], "little")
    data[entry + 24 : entry + 28] = (size // 2).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def bsn_folder_name(folder: Path) -> Path:
    return write_folder(folder / f"GM0150_{BSN}", rows_of("GM0150"))


def bsn_file_name(folder: Path) -> Path:
    path = write_folder(folder / "GM0166_2026-10-01", rows_of("GM0166"))
    (path / f"notities_{BSN}.csv").write_text("x\n1\n")
    return path


def bsn_zip_member(folder: Path) -> Path:
    return write_zip(folder / "GM0175_2026-10-01.zip", rows_of("GM0175"), top_folder=BSN)


def bsn_sheet_name(folder: Path) -> Path:
    return _workbook(
        folder / "GM0177_2026-10-01.xlsx", rows_of("GM0177"), extra_sheet=f"notes {BSN}"
    )


def bsn_workbook_name(folder: Path) -> Path:
    return write_xlsx(folder / f"GM0180_{BSN}.xlsx", rows_of("GM0180"))


def control_characters(folder: Path) -> Path:
    """A name with a newline that would forge a summary line of the cron mail, an escape
    sequence and a right-to-left override; its content lacks followups.csv."""
    path = write_folder(folder / "GM1708\nsummary: 99 accepted\x1b[2J\u202e", rows_of("GM1708"))
    (path / "followups.csv").unlink()
    return path


HOSTILE: dict[str, Hostile] = {
    "far_cell_xlsx": Hostile(far_cell_xlsx, frozenset({"too_many_rows"}), "rows"),
    "garbage_xlsx": Hostile(garbage_xlsx, frozenset({"unreadable_delivery"})),
    "link_to_secret": Hostile(link_to_secret, frozenset({"not_a_regular_file"})),
    "link_to_environ": Hostile(link_to_environ, frozenset({"not_a_regular_file"})),
    "linked_delivery": Hostile(linked_delivery, frozenset()),
    "pipe_in_folder": Hostile(pipe_in_folder, frozenset({"not_a_regular_file"})),
    "pipe_in_inbox": Hostile(pipe_in_inbox, frozenset()),
    "zip_bomb": Hostile(zip_bomb, frozenset({"delivery_too_large"}), "delivery_bytes"),
    "long_header_field": Hostile(long_header_field, frozenset({"field_too_long"}), "field_bytes"),
    "wide_header": Hostile(wide_header, frozenset({"too_many_columns"}), "columns"),
    "sparse_csv": Hostile(sparse_csv, frozenset({"delivery_too_large"}), "delivery_bytes"),
    "big_file": Hostile(big_file, frozenset({"file_too_large"}), "file_bytes"),
    "many_rows_csv": Hostile(many_rows_csv, frozenset({"too_many_rows"}), "rows"),
    "many_rows_parquet": Hostile(many_rows_parquet, frozenset({"too_many_rows"}), "rows"),
    "many_entries_zip": Hostile(many_entries_zip, frozenset({"too_many_files"}), "files"),
    "nested_zip": Hostile(nested_zip, frozenset({"unexpected_file"})),
    "member_link_zip": Hostile(member_link_zip, frozenset({"unexpected_file"})),
    "size_lie_zip": Hostile(size_lie_zip, frozenset({"zip_corrupt"})),
    "bsn_folder_name": Hostile(bsn_folder_name, frozenset({"personal_data_bsn"})),
    "bsn_file_name": Hostile(bsn_file_name, frozenset({"personal_data_bsn", "unexpected_file"})),
    "bsn_zip_member": Hostile(bsn_zip_member, frozenset({"personal_data_bsn"})),
    "bsn_sheet_name": Hostile(bsn_sheet_name, frozenset({"personal_data_bsn", "unexpected_file"})),
    "bsn_workbook_name": Hostile(bsn_workbook_name, frozenset({"personal_data_bsn"})),
    "control_characters": Hostile(control_characters, frozenset({"missing_file"})),
}

# Valid deliveries to load beside them, in every shape.
VALID = {
    "GM0148_2026-10-01": lambda folder: write_folder(
        folder / "GM0148_2026-10-01", rows_of("GM0148")
    ),
    "GM0193_2026-10-01.zip": lambda folder: write_zip(
        folder / "GM0193_2026-10-01.zip", rows_of("GM0193")
    ),
    "GM1896_2026-10-01.xlsx": lambda folder: write_xlsx(
        folder / "GM1896_2026-10-01.xlsx", rows_of("GM1896")
    ),
}


def build_all(folder: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Every hostile entry and every valid delivery, built into `folder`: (hostile, valid)."""
    folder.mkdir(parents=True, exist_ok=True)
    hostile = {name: case.build(folder) for name, case in HOSTILE.items()}
    valid = {name: build(folder) for name, build in VALID.items()}
    return hostile, valid
