"""Anonymisation guard: each identifier found in its usual spellings, checksums against a second
implementation written plainly in Python, and near-misses left alone."""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest
import xlsxwriter
from deliveries import valid_rows, write_folder
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.checks import check_delivery
from pipelines.guard import (
    CANDIDATE,
    CHECKSUM_RULES,
    PATTERN_RULES,
    bsn_valid,
    iban_valid,
    scan,
    text_rules,
)
from pipelines.names import rules, shown
from pipelines.read import read_delivery


def rules_of(values: list[str]) -> list[set[str]]:
    frame = pl.DataFrame({"n": list(range(len(values))), "v": values})
    found = scan(frame, "n", ["v"])
    return [set(found.filter(pl.col("row") == i)["rule"].to_list()) for i in range(len(values))]


def reference_bsn(text: str) -> bool:
    """The eleven-test as written in the BSN decree: sum(9..2 * d1..d8) - d9, divisible by 11."""
    digits = [int(c) for c in text if c.isdigit()]
    if len(digits) != 9 or set(text) - set("0123456789. "):
        return False
    total = sum(w * d for w, d in zip(range(9, 1, -1), digits[:8], strict=True)) - digits[8]
    return total % 11 == 0 and total != 0


def reference_iban(text: str) -> bool:
    """ISO 13616 with Python's big integers: move 4 chars to the end, letters A=10.., mod 97."""
    compact = text.replace(" ", "").upper()
    if not (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit()):
        return False
    if not compact.isalnum():
        return False
    number = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(number) % 97 == 1


# Published examples: the BSN test numbers used by Dutch government test environments and
# the IBAN examples of the ISO 13616 registry / the European Payments Council.
KNOWN_BSNS = ["111222333", "123456782", "999999990", "1234.56.782", "123 456 782"]
KNOWN_IBANS = [
    "NL91ABNA0417164300",
    "NL91 ABNA 0417 1643 00",
    "GB82 WEST 1234 5698 7654 32",
    "DE89370400440532013000",
    "BE68539007547034",
    "nl91abna0417164300",
]


@pytest.mark.parametrize("value", KNOWN_BSNS)
def test_bsns_are_found(value):
    assert reference_bsn(value)
    assert "personal_data_bsn" in rules_of([value])[0]


@pytest.mark.parametrize("value", KNOWN_IBANS)
def test_ibans_are_found(value):
    assert reference_iban(value)
    assert "personal_data_iban" in rules_of([value])[0]


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("jan.jansen@example.nl", "personal_data_email"),
        ("mail: a_b+c@sub.domein.org graag", "personal_data_email"),
        ("06-12345678", "personal_data_phone"),
        ("0612345678", "personal_data_phone"),
        ("06 1234 5678", "personal_data_phone"),
        ("+31 6 12345678", "personal_data_phone"),
        ("+31612345678", "personal_data_phone"),
        ("0031 6 1234 5678", "personal_data_phone"),
        ("020-1234567", "personal_data_phone"),
        ("(020) 123 4567", "personal_data_phone"),
        ("0592 123456", "personal_data_phone"),
        ("+31 (0)20 123 45 67", "personal_data_phone"),
        ("1234 AB", "personal_data_postcode"),
        ("1234AB", "personal_data_postcode"),
        ("woont 3511 cx Utrecht", "personal_data_postcode"),
    ],
)
def test_patterns_are_found(value, rule):
    assert rule in rules_of([value])[0]


@pytest.mark.parametrize(
    "value",
    [
        "123456789",  # nine digits, fails the eleven-test
        "000000000",
        "NL91ABNA0417164301",  # one digit off
        "2026-10-01",
        "01-10-2026",
        "case-0001",
        "C000123",
        "kind_0612345678",  # digits inside a pseudonym word
        "0-3",
        "12-17",
        "GM0193",
        "Testsysteem 2.4",
        "0123 A",
        "1234567",  # too short for a phone number
    ],
)
def test_near_misses_are_left_alone(value):
    assert rules_of([value]) == [set()]


def test_scan_reports_row_and_column_and_no_value():
    frame = pl.DataFrame(
        {
            "line": [2, 3, 4],
            "a": ["ok-0001", "111222333", None],
            "b": ["fine", None, "x 1234 AB y"],
        }
    )
    found = scan(frame, "line", ["a", "b"])
    assert found.columns == ["row", "column", "rule"]
    assert found.rows() == [(3, "a", "personal_data_bsn"), (4, "b", "personal_data_postcode")]


def test_a_second_candidate_in_one_value_is_checked_too():
    assert rules_of(["nummers 123456789 en 123456782"]) == [{"personal_data_bsn"}]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 999_999_999), min_size=1, max_size=200))
def test_bsn_check_agrees_with_the_reference(numbers):
    values = [f"{n:09d}" for n in numbers]
    ours = pl.DataFrame({"v": values}).select(bsn_valid(pl.col("v")))["v"].to_list()
    assert ours == [reference_bsn(v) for v in values]


ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["NL", "DE", "GB", "BE", "FR"]),
            st.integers(0, 99),
            st.text(ALPHANUMERIC, min_size=11, max_size=30),
        ),
        min_size=1,
        max_size=100,
    )
)
def test_iban_check_agrees_with_the_reference(parts):
    values = [f"{country}{check:02d}{rest}" for country, check, rest in parts]
    ours = pl.DataFrame({"v": values}).select(iban_valid(pl.col("v")))["v"].to_list()
    assert ours == [reference_iban(v) for v in values]


@settings(max_examples=30, deadline=None)
@given(st.text(ALPHANUMERIC, min_size=14, max_size=14))
def test_a_correct_iban_check_pair_is_always_found(body):
    # Build a valid IBAN by computing its check digits with Python's integers.
    number = int("".join(str(int(c, 36)) for c in body + "NL00"))
    value = f"NL{98 - number % 97:02d}{body}"
    assert reference_iban(value)
    assert "personal_data_iban" in rules_of([value])[0]


@pytest.mark.parametrize(
    "pattern",
    [*PATTERN_RULES.values(), *(pattern for pattern, _ in CHECKSUM_RULES.values())],
    ids=[*PATTERN_RULES, *CHECKSUM_RULES],
)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_match_of_every_pattern_holds_a_candidate(pattern, data):
    # The scan only tries the patterns on cells with a candidate: a match without one would
    # slip through. Python's regex engine generates and checks; polars' agrees on this syntax.
    value = data.draw(st.from_regex(pattern, fullmatch=True))
    for found in re.finditer(pattern, value):
        assert re.search(CANDIDATE, found.group())


def test_a_header_holding_personal_data_is_named_by_position(tmp_path):
    rows = valid_rows()
    folder = write_folder(tmp_path / "d", rows)
    # The header line was lost: the first data row became the header.
    lines = (folder / "reports.csv").read_text().splitlines()
    (folder / "reports.csv").write_text("\n".join(["case-0001,jan@example.nl,police", *lines[1:]]))
    result = check_delivery(read_delivery(folder), date(2026, 11, 1))
    issues = {tuple(r) for r in result.issues.select("file", "row", "column", "rule").iter_rows()}
    assert ("reports.csv", 1, "column 2", "personal_data_email") in issues
    assert ("reports.csv", None, "column 2", "unexpected_column") in issues
    assert "jan@" not in repr(result.shown_issues())


def test_a_number_typed_into_an_excel_cell_is_scanned(tmp_path):
    workbook: dict[str, list[dict]] = valid_rows()
    workbook["cases"][0]["case_id"] = 111222333  # an Excel number, not text
    numeric = tmp_path / "n.xlsx"
    book = xlsxwriter.Workbook(str(numeric))
    for name, table in workbook.items():
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, list(table[0]))
        for i, row in enumerate(table, start=1):
            sheet.write_row(i, 0, list(row.values()))
    book.close()
    result = check_delivery(read_delivery(numeric), date(2026, 11, 1))
    assert ("sheet cases", 2, "case_id", "personal_data_bsn") in {
        tuple(r) for r in result.issues.select("file", "row", "column", "rule").iter_rows()
    }


@pytest.mark.parametrize("date_value", ["2025-02-01", "06-12345678"])
def test_personal_data_in_an_enum_or_date_column_is_found(tmp_path, date_value):
    # Valid enum values and dates are skipped by the guard; anything else in their columns
    # is scanned, whether the column's other values are valid or not.
    rows = valid_rows()
    rows["reports"][1]["reporter"] = "bel 06-12345678"
    rows["reports"][0]["report_date"] = date_value
    folder = write_folder(tmp_path / "d", rows)
    result = check_delivery(read_delivery(folder), date(2026, 11, 1))
    found = {tuple(r) for r in result.issues.select("file", "row", "column", "rule").iter_rows()}
    assert ("reports.csv", 3, "reporter", "personal_data_phone") in found
    in_date = ("reports.csv", 2, "report_date", "personal_data_phone") in found
    assert in_date == (date_value != "2025-02-01")
    assert "12345678" not in repr(result.shown_issues())


# What a name may look like: delivery and file names with separators, dates, codes, and the
# identifiers above spliced in.
_NAME_PIECES = [
    "GM0193", "_", "-", " ", ".", "2026-10-01", "cases", ".csv", "06", "12345678", "123456782",
    "1234", "AB", "NL91ABNA0417164300", "jan@example.nl", "0031", "(0)", "999999990", "x",
]  # fmt: skip
KNOWN = [*KNOWN_BSNS, *KNOWN_IBANS, "jan.jansen@example.nl", "06-12345678", "1234 AB"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_NAME_PIECES), st.sampled_from(KNOWN)), max_size=8))
def test_the_plain_python_guard_for_names_agrees_with_the_scan(pieces):
    text = "".join(pieces)
    assert set(text_rules(text)) == rules_of([text])[0]


@pytest.mark.parametrize("value", [*KNOWN, "GM0150 123456782", "cases_123456782.csv"])
def test_a_name_holding_an_identifier_fails_even_between_underscores(value):
    assert rules(value.replace(" ", "_"))
    assert shown(value.replace(" ", "_"), "file 3 of the zip") == "file 3 of the zip"


@pytest.mark.parametrize("value", ["GM0193_2026-10-01", "cases.csv", "GM1896_2026-10-01.zip"])
def test_an_everyday_delivery_name_passes(value):
    assert rules(value) == [] and shown(value, "label") == value
