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
import polars as pl
import pytest
from conftest import HGKM
from deliveries import valid_rows, write_folder, write_xlsx, write_zip

from hgkm.settings import Paths
from pipelines import load, warehouse
from pipelines.checks import check_deliveries, check_delivery
from pipelines.load import ingest
from pipelines.read import read_delivery

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
    # Nothing else on stderr (e.g. DuckDB's bindings reporting objects not freed at exit).
    assert result.stderr.splitlines() == [f"skipped {inbox / 'README.txt'}: not a delivery"]
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


def _batch_cases(tmp_path: Path) -> list[tuple[Path, set[tuple]]]:
    """Deliveries that differ in what each must be judged on, each with the issues it has
    alone (file, row, column, rule), written out by hand from the contract."""
    cases: list[tuple[Path, set[tuple]]] = []

    def add(rows, expected: set[tuple], **options: str) -> None:
        cases.append((write_folder(tmp_path / f"d{len(cases)}", rows, **options), expected))

    add(valid_rows(), set())
    add(valid_rows(), set())  # the same case and child ids again: no duplicate across deliveries
    rows = valid_rows()
    rows["cases"][2]["case_id"] = "case-0001"
    add(rows, {("cases.csv", 2, "case_id", "unique"), ("cases.csv", 4, "case_id", "unique")})
    rows = valid_rows()
    rows["help"][1]["child_id"] = "kind-0002"  # a child of another case here (not elsewhere)
    add(rows, {("help.csv", 3, "child_id", "child_of_other_case")})
    rows = valid_rows()
    rows["cases"] = rows["cases"][:2]  # case-0003 exists in the other deliveries only
    rows["reports"].append(
        {"case_id": "case-0003", "report_date": "2026-03-01", "reporter": "police"}
    )
    add(rows, {("reports.csv", 4, "case_id", "unknown_case")})
    rows = valid_rows()
    for row in rows["cases"]:
        row["date_of_birth"] = "1980-01-01"
    add(rows, {("cases.csv", None, "date_of_birth", "unexpected_column")})
    add(valid_rows(), set(), encoding="cp1252", delimiter=";", dates="dmy")
    rows = valid_rows()
    del rows["children"]
    add(rows, {("children.csv", None, None, "missing_file")})
    rows = valid_rows()
    rows["cases"][1]["violence_type"] = "piet@voorbeeld.nl"
    add(
        rows,
        {
            ("cases.csv", 3, "violence_type", "personal_data_email"),
            ("cases.csv", 3, "violence_type", "enum_value"),
        },
    )
    rows = valid_rows()
    rows["manifest"][2]["value"] = "2026-01-01"  # before case-0003 and a follow-up
    add(
        rows,
        {
            ("cases.csv", 4, "report_date", "date_after_extract"),
            ("cases.csv", 4, "coordinator_date", "date_after_extract"),
            ("followups.csv", 3, "followup_date", "date_after_extract"),
        },
    )
    rows = valid_rows()
    rows["help"][0]["offered_date"] = "2025-01-05"  # a warning only
    add(rows, set())
    return cases


def test_a_batch_checks_each_delivery_as_if_alone(tmp_path):
    cases = _batch_cases(tmp_path)
    deliveries = [read_delivery(path) for path, _ in cases]
    batch = check_deliveries(deliveries, [T0.date()] * len(deliveries))
    for (path, expected), delivery, result in zip(cases, deliveries, batch, strict=True):
        found = {tuple(r) for r in result.issues.select("file", "row", "column", "rule").rows()}
        assert found == expected, path.name
        alone = check_delivery(delivery, T0.date())
        assert result.issues.sort(pl.all()).equals(alone.issues.sort(pl.all())), path.name
        assert (result.warnings, result.manifest, result.formats) == (
            alone.warnings,
            alone.manifest,
            alone.formats,
        ), path.name
        assert result.tables.keys() == alone.tables.keys(), path.name
        for name, frame in result.tables.items():
            assert frame.equals(alone.tables[name]), (path.name, name)
    warnings = [[(w.rule, w.count) for w in result.warnings] for result in batch]
    assert warnings[-1] == [("help_before_report", 1)]
    assert all(w == [] for w in warnings[:5] + warnings[6:-1])
    assert batch[5].warnings == [] and "cases" not in batch[5].tables
    assert batch[5].tables["reports"].height == 2
    assert batch[0].formats["cases.csv"]["dates"] == "YYYY-MM-DD"
    assert batch[6].formats["cases.csv"] == {
        "encoding": "utf-8",  # plain ASCII: it decodes as UTF-8 first
        "delimiter": ";",
        "dates": "DD-MM-YYYY",
    }
    assert batch[9].manifest.extract_date == datetime(2026, 1, 1).date()
    assert batch[8].manifest.source_system == "Testsysteem"


def test_batched_ingest_records_like_one_delivery_at_a_time(tmp_path, monkeypatch):
    newer = write_folder(tmp_path / "a", with_extract("2026-10-01"))
    again = write_folder(tmp_path / "a-again", with_extract("2026-10-01"))
    older = write_folder(tmp_path / "b", with_extract("2026-09-01"))
    shrunk = with_extract("2026-10-01")
    shrunk["cases"] = shrunk["cases"][:1]
    for name in ("reports", "children", "help", "followups"):
        shrunk[name] = [r for r in shrunk[name] if r["case_id"] == "case-0001"]
    correction = write_folder(tmp_path / "c", shrunk)
    broken = with_extract("2026-10-15")
    broken["help"][0]["end_date"] = "2025-01-01"
    rejected = write_folder(tmp_path / "d", broken)
    sources = [newer, again, older, correction, rejected]

    one_by_one = Paths(tmp_path / "one")
    alone = [ingest(one_by_one, source) for source in sources]
    # Three deliveries per batch: the copy meets its original inside a batch, the correction
    # the deliveries of the batch before.
    monkeypatch.setattr(load, "BATCH_DELIVERIES", 3)
    batched = Paths(tmp_path / "batched")
    con = warehouse.connect(batched.warehouse)
    try:
        reports = list(load.ingest_many(con, sources))
    finally:
        con.close()

    def outcome(report):
        return (
            report.status,
            report.delivery_id,
            report.current,
            [(w.rule, w.count) for w in report.warnings],
            report.error_counts,
        )

    assert [outcome(r) for r in reports] == [
        # Current as the report is made: the first is, until the correction supersedes it.
        ("accepted", 1, True, [], {}),
        ("already_loaded", 1, True, [], {}),
        ("accepted", 2, False, [("older_extract", 1)], {}),
        ("accepted", 3, True, [("correction", 1), ("case_count_drop", 2)], {}),
        ("rejected", 4, False, [], {"end_before_start": 1}),
    ]
    assert [outcome(r) for r in reports] == [outcome(r) for r in alone]

    def without_times(warehouse_path: Path) -> dict[str, list[tuple]]:
        tables = dump(warehouse_path)
        con = duckdb.connect(str(warehouse_path), read_only=True)
        try:
            for name in ("deliveries", "current_deliveries"):
                tables[name] = con.sql(
                    f"select * exclude (received_at) from {name} order by all"
                ).fetchall()
        finally:
            con.close()
        return tables

    assert without_times(batched.warehouse) == without_times(one_by_one.warehouse)


@pytest.mark.parametrize("batch_deliveries", [1, 160])
def test_a_delivery_the_checks_fail_on_is_rejected_and_the_others_load(
    tmp_path, monkeypatch, caplog, batch_deliveries
):
    sources = [
        write_folder(tmp_path / f"d{n}", with_extract(f"2026-{n + 8:02d}-01")) for n in range(3)
    ]
    monkeypatch.setattr(load, "BATCH_DELIVERIES", batch_deliveries)

    def failing_on_d1(deliveries, received_on, limits):
        if any(d.source.name == "d1" for d in deliveries):
            raise RuntimeError("checks broke on '123456782'")
        return check_deliveries(deliveries, received_on, limits)

    # Checked on the worker thread while the batch before is recorded; alone when the batch
    # of three fails.
    monkeypatch.setattr(load, "check_deliveries", failing_on_d1)
    target = Paths(tmp_path / "data")
    con = warehouse.connect(target.warehouse)
    try:
        reports = list(load.ingest_many(con, sources))
    finally:
        con.close()
    assert [r.status for r in reports] == ["accepted", "rejected", "accepted"]
    assert reports[1].error_counts == {"internal_error": 1}
    assert "123456782" not in repr(reports) + caplog.text
    assert "delivery failed while check: RuntimeError at " in caplog.text
    tables = dump(target.warehouse)
    assert {row[0] for row in tables["cases"]} == {reports[0].delivery_id, reports[2].delivery_id}
    # The program fixed, the rejected one is taken again; the others are already loaded.
    monkeypatch.setattr(load, "check_deliveries", check_deliveries)
    con = warehouse.connect(target.warehouse)
    try:
        again = [r.status for r in load.ingest_many(con, sources)]
    finally:
        con.close()
    assert again == ["already_loaded", "accepted", "already_loaded"]
