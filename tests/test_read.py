"""Readers: every shape, encoding, delimiter and date format; zip safety; row numbers."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
from deliveries import csv_bytes, valid_rows, write_folder, write_xlsx, write_zip
from hypothesis import given, settings
from hypothesis import strategies as st

from hgkm.limits import Limits
from pipelines import read
from pipelines.checks import check_delivery
from pipelines.contract import TABLES
from pipelines.read import ROW, find_deliveries, is_delivery, read_delivery

RECEIVED = date(2026, 11, 1)
NON_ASCII = "Zorgregistratie Café – ëxport"  # é, ë and the en dash differ between encodings


def _rules(delivery: read.Delivery) -> set[str]:
    return {issue.rule for issue in delivery.issues}


def _typed(path: Path) -> dict[str, pl.DataFrame]:
    result = check_delivery(read_delivery(path), RECEIVED)
    assert result.issues.is_empty(), result.issues
    return {name: frame.drop(ROW) for name, frame in result.tables.items()}


@pytest.fixture
def rows():
    rows = valid_rows()
    rows["manifest"][3]["value"] = NON_ASCII
    return rows


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-bom", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("dates", ["iso", "dmy"])
def test_every_encoding_delimiter_and_date_format_reads_the_same(
    tmp_path, rows, encoding, delimiter, dates
):
    reference = _typed(write_folder(tmp_path / "ref", rows))
    path = write_folder(tmp_path / "d", rows, encoding=encoding, delimiter=delimiter, dates=dates)
    delivery = read_delivery(path)
    manifest = delivery.tables["manifest"]
    assert manifest.format["encoding"] == {"cp1252": "windows-1252"}.get(encoding, encoding)
    assert manifest.format["delimiter"] == delimiter
    assert NON_ASCII in manifest.frame["value"].to_list()
    result = check_delivery(delivery, RECEIVED)
    assert result.formats["cases.csv"]["dates"] == {"iso": "YYYY-MM-DD", "dmy": "DD-MM-YYYY"}[dates]
    for name, frame in reference.items():
        assert result.tables[name].drop(ROW).equals(frame), name


@pytest.mark.parametrize("top_folder", [None, "GM0193_2026-10-01"])
def test_zip_and_workbook_read_like_the_folder(tmp_path, rows, top_folder):
    reference = _typed(write_folder(tmp_path / "ref", rows))
    for path in (
        write_zip(tmp_path / "d.zip", rows, top_folder=top_folder),
        write_xlsx(tmp_path / "d.xlsx", rows),
    ):
        typed = _typed(path)
        for name, frame in reference.items():
            assert typed[name].equals(frame), (path.name, name)


def test_zip_names_files_with_their_folder(tmp_path, rows):
    delivery = read_delivery(write_zip(tmp_path / "d.zip", rows, top_folder="top"))
    assert delivery.shape == "zip"
    assert delivery.tables["cases"].file == "top/cases.csv"


def test_parquet_table_files_are_read(tmp_path, rows):
    folder = write_folder(tmp_path / "d", rows)
    reference = _typed(folder)
    cases = reference["cases"]
    (folder / "cases.csv").unlink()
    cases.write_parquet(folder / "cases.parquet")  # real Date columns, not text
    typed = _typed(folder)
    assert typed["cases"].equals(cases)
    assert read_delivery(folder).tables["cases"].format == {"format": "parquet"}


def test_column_names_and_enums_ignore_case_and_spaces(tmp_path, rows):
    for row in rows["cases"]:
        row["violence_type"] = f"  {row['violence_type'].upper()} "
    header = [" Case_ID", "REPORT_DATE ", "Violence_Type", *(c.name for c in TABLES["cases"][3:])]
    folder = write_folder(tmp_path / "d", rows)
    renamed = [{h: r[h.strip().lower()] for h in header} for r in rows["cases"]]
    (folder / "cases.csv").write_bytes(csv_bytes({"cases": renamed}, "cases"))
    typed = _typed(folder)
    assert typed["cases"]["violence_type"].to_list() == ["partner", "child_abuse", "elder_abuse"]
    assert read_delivery(folder).tables["cases"].columns["case_id"] == " Case_ID"


def test_row_numbers_are_lines_as_the_team_sees_them(tmp_path, rows):
    folder = write_folder(tmp_path / "d", rows)
    text = (folder / "cases.csv").read_bytes().replace(b"\r\n", b"\r\n\r\n", 1)  # blank line 2
    (folder / "cases.csv").write_bytes(text)
    assert read_delivery(folder).tables["cases"].frame[ROW].to_list() == [3, 4, 5]
    workbook = read_delivery(write_xlsx(tmp_path / "d.xlsx", rows))
    assert workbook.tables["cases"].frame[ROW].to_list() == [2, 3, 4]
    assert workbook.tables["cases"].file == "sheet cases"


def test_unknown_encoding_and_ragged_rows_are_unreadable(tmp_path, rows):
    folder = write_folder(tmp_path / "d", rows)
    (folder / "reports.csv").write_bytes(b"case_id,report_date,reporter\n\x81\x8d,x,y\n")
    (folder / "children.csv").write_bytes(b"case_id,child_id,age_band\na,b,c,SECRET-EXTRA\n")
    delivery = read_delivery(folder)
    issues = {i.file: i for i in delivery.issues}
    assert issues["reports.csv"].rule == "encoding"
    assert issues["children.csv"].rule == "unreadable_file"
    assert "SECRET" not in repr(delivery.issues)


def test_missing_unexpected_and_duplicate_files(tmp_path, rows):
    folder = write_folder(tmp_path / "d", rows)
    (folder / "followups.csv").unlink()
    (folder / "names.csv").write_text("name\nsomeone\n")
    pl.DataFrame({"case_id": ["x"]}).write_parquet(folder / "cases.parquet")
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden files are ignored
    found = {(i.file, i.rule) for i in read_delivery(folder).issues}
    assert found == {
        ("followups.csv", "missing_file"),
        ("names.csv", "unexpected_file"),
        ("cases.parquet", "duplicate_file"),
    }


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("names", "rule"),
    [
        (["../cases.csv"], "zip_unsafe_path"),
        (["top/../../cases.csv"], "zip_unsafe_path"),
        (["/etc/cases.csv"], "zip_unsafe_path"),
        (["a/b/cases.csv"], "zip_too_deep"),
        (["a/cases.csv", "b/reports.csv"], "zip_too_deep"),
        (["a/cases.csv", "reports.csv"], "zip_too_deep"),
    ],
)
def test_unsafe_zips_are_rejected_without_reading(tmp_path, names, rule):
    path = _zip(tmp_path / "d.zip", dict.fromkeys(names, b"case_id\n"))
    delivery = read_delivery(path)
    assert [i.rule for i in delivery.issues] == [rule]
    assert delivery.tables == {}
    assert not (tmp_path / "cases.csv").exists()


def test_corrupt_zip_is_rejected(tmp_path, rows):
    good = write_zip(tmp_path / "good.zip", rows).read_bytes()
    (tmp_path / "cut.zip").write_bytes(good[: len(good) // 2])
    assert _rules(read_delivery(tmp_path / "cut.zip")) == {"zip_corrupt"}
    # Right directory, damaged data: the CRC check catches it while reading the member.
    damaged = bytearray(good)
    offset = good.index(b"manifest.csv") + len("manifest.csv") + 5
    damaged[offset] ^= 0xFF
    (tmp_path / "bad.zip").write_bytes(bytes(damaged))
    assert _rules(read_delivery(tmp_path / "bad.zip")) <= {"zip_corrupt", "unreadable_file"}


def test_zip_bomb_is_rejected_by_declared_size(tmp_path):
    limits = Limits(delivery_bytes=1_000_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cases.csv", b"0" * 2_000_000)  # compresses to about 2 kB
    (tmp_path / "bomb.zip").write_bytes(buffer.getvalue())
    assert _rules(read_delivery(tmp_path / "bomb.zip", limits)) == {"delivery_too_large"}


def test_content_hash_is_over_the_files_not_the_container(tmp_path, rows):
    folder = read_delivery(write_folder(tmp_path / "d", rows))
    zipped = read_delivery(write_zip(tmp_path / "d.zip", rows))
    assert folder.content_hash == zipped.content_hash
    rows["cases"][0]["violence_type"] = "other"
    assert read_delivery(write_folder(tmp_path / "e", rows)).content_hash != folder.content_hash


def test_find_deliveries(tmp_path, rows):
    inbox = tmp_path / "inbox"
    write_folder(inbox / "GM0193_2026-10-01", rows)
    write_zip(inbox / "GM0363_2026-10-01.zip", rows)
    write_xlsx(inbox / "GM0014_2026-10-01.xlsx", rows)
    (inbox / "notes.txt").write_text("not a delivery")
    (inbox / "empty").mkdir()
    found = find_deliveries(inbox)
    assert [p.name for p in found] == [
        "GM0014_2026-10-01.xlsx",
        "GM0193_2026-10-01",
        "GM0363_2026-10-01.zip",
    ]
    assert find_deliveries(inbox / "GM0193_2026-10-01") == [inbox / "GM0193_2026-10-01"]
    assert not is_delivery(inbox / "notes.txt")
    assert not is_delivery(inbox / "empty")
    assert find_deliveries(inbox / "empty") == []


def test_a_trailing_delimiter_or_empty_column_is_no_error(tmp_path, rows):
    folder = write_folder(tmp_path / "d", rows, delimiter=";")
    text = (folder / "cases.csv").read_bytes().replace(b"\r\n", b";;\r\n")
    (folder / "cases.csv").write_bytes(text)
    assert read_delivery(folder).issues == []
    assert list(read_delivery(folder).tables["cases"].columns) == [c.name for c in TABLES["cases"]]
    # An unnamed column that holds a value is still an extra column.
    (folder / "cases.csv").write_bytes(text.replace(b";;\r\n", b";x;\r\n", 2))
    result = check_delivery(read_delivery(folder), RECEIVED)
    assert set(result.issues["rule"].to_list()) == {"unexpected_column"}


# Ways a team writes (or breaks) a table; parsed together, each must read as it does alone.
_HEADER = b"case_id,report_date,reporter\r\n"
_HEADERS = [_HEADER, b"Case_ID;report_date;reporter\r\n", b"Case_ID,case_id,reporter\r\n"]
_BODIES = {
    "plain": b"C0001a,2024-01-02,police\r\nC0002a,2024-01-03,school\r\n",
    "blank and spaces": b"C0003a,2024-01-02,police\r\n\r\n   \r\n C0004a , 2024-01-03 ,x\r\n",
    "quoted newline": b'C0005a,"2024-01-02\nlater",police\r\n"C0006a",2024-01-03,"a,b"\r\n',
    "lf, no last newline": b"C0007a,2024-01-02,police\nC0008a,2024-01-03,school",
    "open quote": b'C0009a,2024-01-02,police\r\nC0010a,"2024-01-03,school\r\n',
    # Closes a quote left open before it (alone, a quote inside a value is unreadable).
    "stray quote": b'C0015a,2024-01-02,police\r\nC0016a,x",police\r\n',
    "extra field": b"C0011a,2024-01-02,police,SECRET\r\n",
    "short row": b"C0012a,2024-01-02\r\nC0013a\r\n",
    "header again": b"case_id,report_date,reporter\r\nC0014a,2024-01-02,police\r\n",
    "header only": b"",
}


def _alone_and_together(bodies: list[str], headers: list[bytes] | None = None) -> tuple[list, list]:
    data = [
        header + _BODIES[body]
        for header, body in zip(headers or [_HEADER] * len(bodies), bodies, strict=True)
    ]
    alone = [read.read_csv_bytes("reports", f"d{i}/reports.csv", d) for i, d in enumerate(data)]
    deliveries = [
        read.Delivery(Path(f"d{i}"), "folder", str(i), unparsed=[opened])
        for i, d in enumerate(data)
        if isinstance(opened := read.open_csv("reports", f"d{i}/reports.csv", d), read.CsvText)
    ]
    read.parse_csv(deliveries)
    together = [(d.tables.get("reports"), d.issues) for d in deliveries]
    return alone, together


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(_BODIES)), st.sampled_from(_HEADERS)),
        min_size=2,
        max_size=7,
    )
)
def test_files_parsed_together_read_exactly_as_each_alone(files):
    alone, together = _alone_and_together(*map(list, zip(*files, strict=True)))
    assert len(alone) == len(together)
    for (table, issues), (joint, joint_issues) in zip(alone, together, strict=True):
        assert issues == joint_issues
        assert (table is None) == (joint is None)
        if table is not None:
            assert joint.frame.equals(table.frame)
            assert (joint.file, joint.columns, joint.format) == (
                table.file,
                table.columns,
                table.format,
            )


def test_a_broken_file_among_others_is_reported_on_itself():
    # Together, the open quote would run through the boundary into the next file, which
    # closes it: one parse without error, but a boundary missing.
    alone, together = _alone_and_together(["plain", "open quote", "stray quote", "plain"])
    rules = [[issue.rule for issue in issues] for _, issues in together]
    assert rules == [[], ["unreadable_file"], ["unreadable_file"], []]
    assert together[3][0].frame[ROW].to_list() == [2, 3]
    _, together = _alone_and_together(["plain", "extra field", "plain"])
    assert [[issue.rule for issue in issues] for _, issues in together] == [
        [],
        ["unreadable_file"],
        [],
    ]
    assert "SECRET" not in repr(together)


_PIECES = ["a", "B", "7", ",", ";", "\n", "\r\n", "\r", " ", "\t", '"', '""', "é", "\u00a0", "\x0b"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_a_text_said_to_need_no_trim_reads_the_same_untrimmed(pieces):
    data = ("case_id,report_date,reporter\n" + "".join(pieces)).encode()
    as_read = read.read_csv_bytes("reports", "r.csv", data)
    with mock.patch.object(read, "_needs_trim", return_value=True):
        trimmed = read.read_csv_bytes("reports", "r.csv", data)
    assert as_read[1] == trimmed[1]
    assert (as_read[0] is None) == (trimmed[0] is None)
    if as_read[0] is not None:
        assert as_read[0].frame.equals(trimmed[0].frame)
