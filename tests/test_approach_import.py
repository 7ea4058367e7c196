"""Approach profiles: the contract's rules, the anonymisation guard, versioned storage, the CLI."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from conftest import SAMPLE_DATA

from pipelines import warehouse
from pipelines.approach import current_profiles, import_profiles

HEADER = "municipality_code,element,in_place_from,in_place_until,note"
GOOD = [
    "GM0363,single_coordinator,2022-01-01,,Eén regisseur per gezin",
    "GM0363,specialist_at_front_door,2019-01-01,2020-12-31,",
    "GM0363,specialist_at_front_door,2021-01-01,,weer ingevoerd",
    "GM0344,child_focused_offer,01-06-2021,,",
]
# Published-looking identifiers the guard must catch (BSN passes the eleven-test).
SECRETS = {
    "personal_data_bsn": "111222333",
    "personal_data_email": "j.jansen@example.nl",
    "personal_data_phone": "06-12345678",
    "personal_data_postcode": "1234 AB",
    "personal_data_iban": "NL91ABNA0417164300",
}


def write(path: Path, *rows: str, header: str = HEADER, encoding: str = "utf-8") -> Path:
    path.write_bytes("\n".join([header, *rows, ""]).encode(encoding))
    return path


@pytest.fixture
def con(tmp_path: Path):
    connection = warehouse.connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


def rules(report) -> set[tuple[int | None, str | None, str]]:
    return {(i.row, i.column, i.rule) for i in report.errors}


def test_a_good_file_is_stored_and_listed(con, tmp_path: Path) -> None:
    report = import_profiles(con, write(tmp_path / "p.csv", *GOOD))
    assert report.status == "accepted", report.render_text()
    assert report.municipalities == ["GM0344", "GM0363"] and report.rows == 4
    profiles = current_profiles(con)
    assert profiles.height == 4
    # DD-MM-YYYY is read as a date, not as text
    assert profiles.filter(municipality_code="GM0344")["in_place_from"].item() == date(2021, 6, 1)
    assert current_profiles(con, ["GM0344"]).height == 1


def test_reimporting_the_same_content_changes_nothing(con, tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", *GOOD)
    first = import_profiles(con, path)
    again = import_profiles(con, path)
    assert (first.status, again.status) == ("accepted", "already_loaded")
    assert con.execute("select count(*) from approach_imports").fetchall() == [(1,)]
    assert con.execute("select count(*) from approach_periods").fetchall() == [(4,)]


def test_an_import_replaces_only_the_municipalities_it_names(con, tmp_path: Path) -> None:
    import_profiles(con, write(tmp_path / "a.csv", *GOOD))
    newer = import_profiles(
        con, write(tmp_path / "b.csv", "GM0363,multidisciplinary_team,2020-01-01,,")
    )
    assert newer.status == "accepted"
    profiles = current_profiles(con)
    assert profiles.filter(municipality_code="GM0363")["element"].to_list() == [
        "multidisciplinary_team"
    ]
    assert profiles.filter(municipality_code="GM0344").height == 1  # untouched
    # the older import is kept, and importing it again restores it (it is no longer current)
    assert con.execute("select count(*) from approach_periods").fetchall() == [(5,)]
    restored = import_profiles(con, tmp_path / "a.csv")
    assert restored.status == "accepted"
    assert current_profiles(con).filter(municipality_code="GM0363").height == 3


SC = "GM0363,single_coordinator"  # one municipality's element, for the rule cases below
BOTH_OVERLAP = {
    (2, "in_place_from", "overlapping_periods"),
    (3, "in_place_from", "overlapping_periods"),
}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # touching periods share a day: 2021-12-31 lies in both
        ([f"{SC},2020-01-01,2021-12-31,", f"{SC},2021-12-31,,"], BOTH_OVERLAP),
        # an open period overlaps everything after its start
        ([f"{SC},2015-01-01,,", f"{SC},2020-01-01,2020-02-01,"], BOTH_OVERLAP),
        ([f"{SC},2021-01-01,,", f"{SC},2021-01-01,,x"], BOTH_OVERLAP),
        ([f"{SC},2021-01-01,2020-12-31,"], {(2, "in_place_until", "until_before_from")}),
        (["GM0363,coffee_machine,2021-01-01,,"], {(2, "element", "unknown_element")}),
        (["GM9999,single_coordinator,2021-01-01,,"], {(2, "municipality_code", "unknown_municipality")}),  # noqa: E501
        ([f"{SC},1999-12-31,,"], {(2, "in_place_from", "date_before_2000")}),
        ([f"{SC},2021-02-30,,"], {(2, "in_place_from", "date_format")}),
        ([f"{SC},,,"], {(2, "in_place_from", "required")}),
        ([",single_coordinator,2021-01-01,,"], {(2, "municipality_code", "required")}),
        ([f"{SC},2021-01-01,,{'a' * 201}"], {(2, "note", "note_too_long")}),
    ],
)  # fmt: skip
def test_rule_violations_are_reported_by_row_column_and_rule(
    con, tmp_path: Path, rows: list[str], expected: set
) -> None:
    report = import_profiles(con, write(tmp_path / "p.csv", *rows))
    assert report.status == "rejected"
    assert rules(report) == expected
    assert current_profiles(con).is_empty()


def test_edges_that_pass(con, tmp_path: Path) -> None:
    """A 200-character note, 2000-01-01, today, and back-to-back periods are all allowed."""
    today = date(2025, 6, 30)
    report = import_profiles(
        con,
        write(
            tmp_path / "p.csv",
            f"GM0363,single_coordinator,2000-01-01,2021-12-31,{'a' * 200}",
            f"GM0363,single_coordinator,2022-01-01,{today.isoformat()},",
            "GM0344,single_coordinator,2021-12-31,2021-12-31,",
        ),
        today=today,
    )
    assert report.status == "accepted", report.render_text()


def test_dates_after_today_are_rejected(con, tmp_path: Path) -> None:
    today = date(2025, 6, 30)
    tomorrow = (today + timedelta(days=1)).isoformat()
    report = import_profiles(
        con,
        write(tmp_path / "p.csv", f"GM0363,single_coordinator,2020-01-01,{tomorrow},"),
        today=today,
    )
    assert rules(report) == {(2, "in_place_until", "date_in_future")}


def test_unexpected_and_missing_columns_are_structural(con, tmp_path: Path) -> None:
    extra = import_profiles(
        con,
        write(
            tmp_path / "a.csv",
            "GM0363,single_coordinator,2021-01-01,,,Jan",
            header=HEADER + ",Naam",
        ),
    )
    assert rules(extra) == {(None, "Naam", "unexpected_column")}
    missing = import_profiles(
        con,
        write(
            tmp_path / "b.csv",
            "GM0363,single_coordinator,2021-01-01,",
            header="municipality_code,element,in_place_from,in_place_until",
        ),
    )
    assert rules(missing) == {(None, "note", "missing_column")}


@pytest.mark.parametrize("rule", sorted(SECRETS))
def test_personal_data_in_a_note_is_rejected_and_never_shown_or_stored(
    con, tmp_path: Path, rule: str
) -> None:
    secret = SECRETS[rule]
    path = write(
        tmp_path / "p.csv",
        "GM0363,single_coordinator,2021-01-01,,gewoon een notitie",
        f'GM0344,single_coordinator,2021-01-01,,"contact: {secret}"',
    )
    report = import_profiles(con, path)
    assert report.status == "rejected"
    assert (3, "note", rule) in rules(report)
    shown = report.render_text() + json.dumps(report.to_dict())
    assert secret not in shown
    stored = " ".join(
        str(row)
        for table in ("approach_imports", "approach_periods")
        for row in con.execute(f"select * from {table}").fetchall()
    )
    assert secret not in stored
    assert con.execute("select count(*) from approach_periods").fetchall() == [(0,)]


def test_semicolons_windows_1252_and_spaced_headers_are_read(con, tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.csv",
        "GM0363; single_coordinator ;01-01-2022;;Eén gezin, één plan",
        header=" Municipality_Code ;ELEMENT;in_place_from;in_place_until;note",
        encoding="cp1252",
    )
    report = import_profiles(con, path)
    assert report.status == "accepted", report.render_text()
    assert current_profiles(con)["note"].item() == "Eén gezin, één plan"


def test_an_xlsx_file_is_read(con, tmp_path: Path) -> None:
    path = tmp_path / "profielen.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("approach_profiles")
    dated = book.add_format({"num_format": "yyyy-mm-dd"})
    for col, name in enumerate(HEADER.split(",")):
        sheet.write(0, col, name)
    sheet.write(1, 0, "GM0363")
    sheet.write(1, 1, "single_coordinator")
    sheet.write_datetime(1, 2, datetime(2022, 1, 1), dated)
    book.close()
    report = import_profiles(con, path)
    assert report.status == "accepted", report.render_text()
    assert current_profiles(con)["in_place_from"].item() == date(2022, 1, 1)


def test_the_committed_sample_profiles_pass(con) -> None:
    report = import_profiles(con, SAMPLE_DATA / "approach_profiles.csv")
    assert report.status == "accepted", report.render_text()
    assert len(report.municipalities) >= 5


def test_cli_exit_codes_and_json(hgkm, tmp_path: Path, data_dir: Path) -> None:
    good = write(tmp_path / "good.csv", *GOOD)
    bad = write(
        tmp_path / "bad.csv",
        f"GM0363,single_coordinator,2021-01-01,,{SECRETS['personal_data_email']}",
    )
    done = hgkm("approach", "import", good, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "accepted"
    rejected = hgkm("approach", "import", bad)
    assert rejected.returncode == 1
    assert "personal_data_email" in rejected.stdout
    assert SECRETS["personal_data_email"] not in rejected.stdout + rejected.stderr
    assert hgkm("approach", "import", tmp_path / "nope.csv").returncode == 2
    assert hgkm("approach", "import", write(tmp_path / "p.txt", *GOOD)).returncode == 2
    listed = hgkm("approach", "list", "--municipality", "GM0344", "--json")
    assert listed.returncode == 0
    assert [r["element"] for r in json.loads(listed.stdout)] == ["child_focused_offer"]
    assert hgkm("approach", "list", "--municipality", "GM9999").returncode == 2
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        statuses = con.execute("select status from approach_imports order by import_id").fetchall()
    finally:
        con.close()
    assert statuses == [("accepted",), ("rejected",)]
