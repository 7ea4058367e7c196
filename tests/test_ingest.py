"""Ingest end to end: the warehouse's versioning, idempotence, dropped rows, exit codes, no leaks,
and a load killed half-way through the real `hgkm` entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from conftest import HGKM
from deliveries import valid_rows, write_folder, write_xlsx, write_zip

from hgkm.settings import Paths
from pipelines.load import ingest

T0 = datetime(2026, 11, 1, 9, 0)


def dump(warehouse: Path) -> dict[str, list[tuple]]:
    """Every row of every table (and view) of the warehouse, in a stable order."""
    if not warehouse.exists():
        return {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables order by table_name"
            ).fetchall()
        ]
        return {name: con.sql(f"select * from {name} order by all").fetchall() for name in names}
    finally:
        con.close()


def at(minutes: int) -> datetime:
    return T0.replace(minute=minutes)


@pytest.fixture
def paths(data_dir: Path) -> Paths:
    return Paths(data_dir)


def with_extract(extract: str):
    rows = valid_rows()
    rows["manifest"][2]["value"] = extract
    return rows


def current(paths: Paths) -> list[tuple]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(
            "select municipality_code, extract_date::varchar, delivery_id from current_deliveries"
        ).fetchall()
    finally:
        con.close()


def test_accepted_delivery_loads_every_table(tmp_path, paths):
    report = ingest(paths, write_folder(tmp_path / "d", valid_rows()), received_at=T0)
    assert report.status == "accepted"
    assert report.current
    assert report.counts == {"cases": 3, "reports": 2, "children": 2, "help": 3, "followups": 2}
    tables = dump(paths.warehouse)
    assert len(tables["current_cases"]) == 3
    assert len(tables["current_help"]) == 3
    (row,) = tables["deliveries"]
    assert "accepted" in row and "Testsysteem" in row


def test_same_content_again_is_already_loaded_and_changes_nothing(tmp_path, paths):
    rows = valid_rows()
    first = ingest(paths, write_folder(tmp_path / "d", rows), received_at=at(1))
    before = dump(paths.warehouse)
    for source in (write_folder(tmp_path / "again", rows), write_zip(tmp_path / "d.zip", rows)):
        report = ingest(paths, source, received_at=at(2))
        assert report.status == "already_loaded"
        assert report.delivery_id == first.delivery_id
        assert dump(paths.warehouse) == before


def test_supersession_newer_older_and_correction(tmp_path, paths):
    newer = ingest(
        paths, write_folder(tmp_path / "a", with_extract("2026-10-01")), received_at=at(1)
    )
    older = ingest(
        paths, write_folder(tmp_path / "b", with_extract("2026-09-01")), received_at=at(2)
    )
    assert older.status == "accepted" and not older.current
    assert [w.rule for w in older.warnings] == ["older_extract"]
    assert current(paths) == [("GM0193", "2026-10-01", newer.delivery_id)]

    corrected = with_extract("2026-10-01")
    corrected["cases"][2]["violence_type"] = "other"
    correction = ingest(paths, write_folder(tmp_path / "c", corrected), received_at=at(3))
    assert correction.current and [w.rule for w in correction.warnings] == ["correction"]
    assert current(paths) == [("GM0193", "2026-10-01", correction.delivery_id)]

    newest = ingest(
        paths, write_folder(tmp_path / "d", with_extract("2026-10-15")), received_at=at(4)
    )
    assert newest.current and newest.warnings == []
    assert current(paths) == [("GM0193", "2026-10-15", newest.delivery_id)]
    assert len(dump(paths.warehouse)["cases"]) == 4 * 3  # nothing is ever deleted


def test_case_count_drop_warns(tmp_path, paths):
    ingest(paths, write_folder(tmp_path / "a", with_extract("2026-09-01")), received_at=at(1))
    rows = with_extract("2026-10-01")
    rows["cases"] = [r for r in rows["cases"] if r["case_id"] == "case-0001"]
    rows["reports"] = [r for r in rows["reports"] if r["case_id"] == "case-0001"]
    rows["children"] = [r for r in rows["children"] if r["case_id"] == "case-0001"]
    rows["help"] = [r for r in rows["help"] if r["case_id"] == "case-0001"]
    report = ingest(paths, write_folder(tmp_path / "b", rows), received_at=at(2))
    assert report.status == "accepted"
    assert [(w.rule, w.count) for w in report.warnings] == [("case_count_drop", 2)]


def test_rejected_delivery_is_recorded_without_case_rows(tmp_path, paths):
    rows = valid_rows()
    rows["help"][0]["end_date"] = "2025-01-01"
    report = ingest(paths, write_folder(tmp_path / "d", rows), received_at=T0)
    assert report.status == "rejected"
    tables = dump(paths.warehouse)
    assert [len(tables[t]) for t in ("cases", "reports", "children", "help", "followups")] == [
        0
    ] * 5
    (row,) = tables["deliveries"]
    assert "rejected" in row
    assert current(paths) == []


def test_drop_invalid_rows_loads_the_rest_and_records_why(tmp_path, paths):
    rows = valid_rows()
    rows["help"][0]["end_date"] = "2025-01-01"
    report = ingest(
        paths, write_folder(tmp_path / "d", rows), drop_invalid_rows=True, received_at=T0
    )
    assert report.status == "accepted"
    assert report.rows_dropped == {"help": {"end_before_start": 1}}
    assert report.error_counts == {"end_before_start": 1}
    tables = dump(paths.warehouse)
    assert len(tables["help"]) == 2
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    stored = con.execute("select rows_dropped, rows_loaded from deliveries").fetchone()
    con.close()
    assert json.loads(stored[0]) == {"help": {"end_before_start": 1}}
    assert json.loads(stored[1])["help"] == 2


def test_content_loaded_with_dropped_rows_is_already_loaded_without_the_flag(tmp_path, paths):
    rows = valid_rows()
    rows["help"][0]["end_date"] = "2025-01-01"
    folder = write_folder(tmp_path / "d", rows)
    first = ingest(paths, folder, drop_invalid_rows=True, received_at=at(1))
    before = dump(paths.warehouse)
    again = ingest(paths, folder, received_at=at(2))
    assert (again.status, again.delivery_id) == ("already_loaded", first.delivery_id)
    assert dump(paths.warehouse) == before


def test_drop_invalid_rows_never_loads_structural_errors(tmp_path, paths):
    rows = valid_rows()
    rows["help"][0]["end_date"] = "2025-01-01"
    for row in rows["cases"]:
        row["notes"] = "x"
    report = ingest(
        paths, write_folder(tmp_path / "d", rows), drop_invalid_rows=True, received_at=T0
    )
    assert report.status == "rejected"
    assert dump(paths.warehouse)["cases"] == []


def test_cli_ingests_a_folder_of_deliveries_and_lists_them(tmp_path, hgkm):
    inbox = tmp_path / "inbox"
    write_folder(inbox / "GM0193_2026-10-01", valid_rows(), encoding="cp1252", delimiter=";")
    amsterdam = valid_rows()
    amsterdam["manifest"][1]["value"] = "GM0363"
    write_zip(inbox / "GM0363_2026-10-01.zip", amsterdam, top_folder="GM0363_2026-10-01")
    groningen = valid_rows()
    groningen["manifest"][1]["value"] = "GM0014"
    write_xlsx(inbox / "GM0014_2026-10-01.xlsx", groningen)
    (inbox / "README.txt").write_text("notes")
    result = hgkm("ingest", inbox)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 accepted, 0 rejected, 0 already loaded" in result.stdout
    assert "README.txt: not a delivery" in result.stderr
    again = hgkm("ingest", inbox, "--json")
    assert again.returncode == 0
    assert [r["status"] for r in json.loads(again.stdout)] == ["already_loaded"] * 3

    listing = json.loads(hgkm("deliveries", "--json").stdout)
    assert sorted(r["municipality_code"] for r in listing) == ["GM0014", "GM0193", "GM0363"]
    for row in listing:
        assert row["status"] == "accepted" and row["current"] is True
        assert row["extract_date"] == "2026-10-01" and len(row["content_hash"]) == 64
        assert row["received_at"]
    table = hgkm("deliveries").stdout
    assert "GM0363" in table and "accepted" in table


def test_cli_exit_codes(tmp_path, hgkm):
    good = write_folder(tmp_path / "good", valid_rows())
    rows = valid_rows()
    rows["cases"][0]["report_date"] = "gisteren"
    bad = write_folder(tmp_path / "bad", rows)
    mixed = hgkm("ingest", bad, good, "--json")
    assert mixed.returncode == 1
    assert [r["status"] for r in json.loads(mixed.stdout)] == ["rejected", "accepted"]
    (error,) = json.loads(mixed.stdout)[0]["errors"]
    assert error == {
        "file": "cases.csv",
        "row": 2,
        "column": "report_date",
        "rule": "date_format",
        "message": "write the date as YYYY-MM-DD or DD-MM-YYYY (a real date)",
    }
    text = hgkm("ingest", bad)
    assert text.returncode == 1
    assert "cases.csv row 2, column report_date: date_format" in text.stdout
    assert hgkm("ingest", tmp_path / "nowhere").returncode == 2
    (tmp_path / "empty").mkdir()
    assert hgkm("ingest", tmp_path / "empty").returncode == 2


def test_errors_are_capped_per_rule_with_the_total(tmp_path, paths):
    rows = valid_rows()
    for i in range(45):
        rows["reports"].append(
            {"case_id": f"case-x{i:03d}", "report_date": "2025-06-01", "reporter": "nobody"}
        )
    report = ingest(paths, write_folder(tmp_path / "d", rows), received_at=T0)
    assert report.error_counts == {"enum_value": 45, "unknown_case": 45}
    assert report.error_total == 90
    assert len(report.errors) == 40
    assert "… 25 more of enum_value (45 in all)" in report.render_text()
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    counts, errors = con.execute("select error_counts, errors from deliveries").fetchone()
    con.close()
    assert json.loads(counts) == {"enum_value": 45, "unknown_case": 45}
    assert len(json.loads(errors)) == 40


@pytest.mark.parametrize("missing", ["manifest", "cases", "children"])
def test_a_missing_file_rejects_without_crashing(tmp_path, paths, missing):
    folder = write_folder(tmp_path / "d", valid_rows())
    (folder / f"{missing}.csv").unlink()
    report = ingest(paths, folder, received_at=T0)
    assert report.status == "rejected"
    assert report.error_counts == {"missing_file": 1}


PLANTED = {
    "case_id": "111222333",  # BSN-valid pseudonym
    "email": "piet.planted@voorbeeld.nl",
    "phone": "06-98765432",
    "postcode": "9711 ZQ",
    "iban": "NL91ABNA0417164300",
    "dotted_bsn": "1234.56.782",
}


def test_planted_personal_data_appears_nowhere(tmp_path, hgkm, data_dir):
    rows = valid_rows()
    rows["cases"][0]["case_id"] = PLANTED["case_id"]
    rows["reports"][0]["case_id"] = PLANTED["case_id"]
    rows["cases"][1]["violence_type"] = PLANTED["email"]
    rows["reports"][1]["reporter"] = PLANTED["phone"]
    rows["help"][2]["start_date"] = PLANTED["postcode"]
    rows["children"][1]["child_id"] = PLANTED["iban"]
    rows["manifest"][3]["value"] = PLANTED["dotted_bsn"]
    folder = write_folder(tmp_path / "leaky", rows)
    outputs = [
        hgkm("ingest", folder),
        hgkm("ingest", folder, "--json"),
        hgkm("ingest", folder, "--drop-invalid-rows"),
        hgkm("deliveries"),
        hgkm("deliveries", "--json"),
    ]
    assert [o.returncode for o in outputs] == [1, 1, 1, 0, 0]
    rules = {e["rule"] for e in json.loads(outputs[1].stdout)[0]["errors"]}
    assert rules >= {
        "personal_data_bsn",
        "personal_data_email",
        "personal_data_phone",
        "personal_data_postcode",
        "personal_data_iban",
    }
    text = "\n".join(o.stdout + o.stderr for o in outputs)
    text += repr(dump(data_dir / "warehouse.duckdb"))
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    raw = b"".join(p.read_bytes() for p in files)
    for value in PLANTED.values():
        assert value not in text, value
        assert value.encode() not in raw, value
        compact = value.replace(" ", "").replace("-", "").replace(".", "")
        assert compact not in text.replace("-", "").replace(" ", "").replace(".", "")


def test_a_load_killed_inside_its_transaction_leaves_the_warehouse_as_before(tmp_path, hgkm):
    first = write_folder(tmp_path / "first", with_extract("2026-09-01"))
    assert hgkm("ingest", first).returncode == 0
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    before = dump(warehouse)
    second = write_folder(tmp_path / "second", with_extract("2026-10-01"))
    process = subprocess.Popen(
        [str(HGKM), "ingest", str(second)],
        env={
            **os.environ,
            "HGKM_DATA_DIR": str(tmp_path / "data"),
            "HGKM_FAULT": "ingest.load:pause=60",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        # Other lines (a library's warning) may come first; EOF means it never got there.
        line = "start"
        while line and "reached ingest.load" not in line:
            line = process.stderr.readline()
        assert "reached ingest.load" in line
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert dump(warehouse) == before
    # The warehouse still works: the same delivery loads in full afterwards.
    assert hgkm("ingest", second).returncode == 0
    assert len(dump(warehouse)["deliveries"]) == len(before["deliveries"]) + 1


def test_a_load_that_kills_itself_at_the_checkpoint_changes_nothing(tmp_path, hgkm):
    first = write_folder(tmp_path / "first", with_extract("2026-09-01"))
    assert hgkm("ingest", first).returncode == 0
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    before = dump(warehouse)
    started = time.monotonic()
    killed = hgkm(
        "ingest",
        write_folder(tmp_path / "second", with_extract("2026-10-01")),
        env={"HGKM_FAULT": "ingest.load:kill"},
    )
    assert killed.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 60
    assert dump(warehouse) == before
