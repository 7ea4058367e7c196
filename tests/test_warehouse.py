"""The warehouse's case keys: a row joins its case on (delivery, case hash), so the hashes of a
delivery's cases must never clash, and a warehouse written before the hashes existed is
upgraded (by `hgkm upgrade`, never by compute, a reader) without changing a figure."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from deliveries import valid_rows, write_folder

from hgkm.settings import Paths
from metrics.catalogue import INDICATORS
from metrics.counts import municipal_counts
from metrics.publish import WarehouseUnavailable, open_warehouse
from pipelines import warehouse
from pipelines.load import ingest

T0 = datetime(2026, 11, 1, 9, 0)
# Every case of a delivery gets the same hash under salt 0: the worst clash there can be.
CLASHING_AT_FIRST = "case when {salt} = 0 then 7::ubigint else hash(case_id, {salt}) end"


def second_municipality() -> dict:
    rows = valid_rows()
    rows["manifest"][1]["value"] = "GM0363"
    return rows


def keys_of_rows(path: Path) -> list[tuple]:
    """Per table, rows whose hash is not their case's, and per delivery, cases sharing a hash."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        wrong = [
            (table, n)
            for table in warehouse.CASE_TABLES
            for (n,) in con.execute(
                f"select count(*) from {table} t join cases c using (delivery_id, case_id) "
                "where t.case_hash is distinct from c.case_hash"
            ).fetchall()
            if n
        ]
        shared = con.execute(
            "select delivery_id from cases group by delivery_id "
            "having count(distinct case_hash) < count(*)"
        ).fetchall()
        return wrong + shared
    finally:
        con.close()


def figures_of(path: Path) -> dict[str, pl.DataFrame]:
    """Every indicator's case-level counts, as compute reads them."""
    with open_warehouse(path) as con:
        counts = {ind.id: municipal_counts(con, ind) for ind in INDICATORS}
    return {k: frame.sort(frame.columns) for k, frame in counts.items()}


def test_cases_whose_hashes_clash_are_hashed_again_apart(tmp_path, data_dir, monkeypatch):
    paths = Paths(data_dir)
    ingest(paths, write_folder(tmp_path / "a", valid_rows()), received_at=T0)
    monkeypatch.setattr(warehouse, "CASE_HASH", CLASHING_AT_FIRST)
    report = ingest(paths, write_folder(tmp_path / "b", second_municipality()), received_at=T0)
    assert report.status == "accepted"
    assert keys_of_rows(paths.warehouse) == []
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        # The first delivery kept its hashes; the second's are no longer the clashing 7.
        assert con.execute("select count(*) from cases where case_hash = 7").fetchone() == (0,)
        joined = con.execute(
            "select count(*) from current_help h join current_cases c using (case_key)"
        ).fetchone()
        assert joined == (6,)
    finally:
        con.close()


def test_hashes_that_never_part_fail_the_load_and_load_nothing(tmp_path, data_dir, monkeypatch):
    paths = Paths(data_dir)
    ingest(paths, write_folder(tmp_path / "a", valid_rows()), received_at=T0)
    before = every_row(paths.warehouse)
    monkeypatch.setattr(warehouse, "CASE_HASH", "7::ubigint")
    # The load fails inside its transaction: rolled back, the delivery is rejected as a
    # failure of the program (one delivery's failure is its own rejection, never a crash).
    report = ingest(paths, write_folder(tmp_path / "b", second_municipality()), received_at=T0)
    assert (report.status, report.error_counts) == ("rejected", {"internal_error": 1})
    after = every_row(paths.warehouse)
    assert {t: rows for t, rows in after.items() if t != "deliveries"} == {
        t: rows for t, rows in before.items() if t != "deliveries"
    }
    assert after["deliveries"][: len(before["deliveries"])] == before["deliveries"]
    assert [row[8] for row in after["deliveries"][len(before["deliveries"]) :]] == ["rejected"]


def every_row(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = ("deliveries", *warehouse.CASE_TABLES)
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables}
    finally:
        con.close()


def refused_then_upgraded(paths: Paths, hgkm) -> None:
    """Compute's opening refuses the older warehouse, saying how to upgrade it, and writes
    nothing; `hgkm upgrade` upgrades it."""
    before = every_row(paths.warehouse)
    with pytest.raises(WarehouseUnavailable, match="hgkm upgrade"):
        figures_of(paths.warehouse)
    assert every_row(paths.warehouse) == before
    refused = hgkm("compute")
    assert refused.returncode == 2 and "hgkm upgrade" in refused.stderr, refused.stderr
    assert every_row(paths.warehouse) == before
    upgraded = hgkm("upgrade")
    assert upgraded.returncode == 0 and "upgraded" in upgraded.stdout, upgraded.stderr
    assert "up to date" in hgkm("upgrade").stdout


def test_a_warehouse_from_before_case_hashes_is_upgraded_with_equal_figures(
    tmp_path, data_dir, hgkm
):
    paths = Paths(data_dir)
    ingest(paths, write_folder(tmp_path / "a", valid_rows()), received_at=T0)
    ingest(paths, write_folder(tmp_path / "b", second_municipality()), received_at=T0)
    figures = figures_of(paths.warehouse)
    con = duckdb.connect(str(paths.warehouse))
    try:
        hashes = con.sql("select delivery_id, case_id, case_hash from help order by all").fetchall()
        for table in warehouse.CASE_TABLES:
            con.execute(f"alter table {table} drop column case_hash")
    finally:
        con.close()
    refused_then_upgraded(paths, hgkm)
    again = figures_of(paths.warehouse)
    assert all(again[k].equals(figures[k]) for k in figures)
    assert sum(figures[k].height for k in figures) > 0
    assert keys_of_rows(paths.warehouse) == []
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        assert (
            con.sql("select delivery_id, case_id, case_hash from help order by all").fetchall()
            == hashes
        )
    finally:
        con.close()


def test_a_warehouse_from_before_a_contract_column_gets_it_empty(tmp_path, data_dir, hgkm):
    """A column declared after a warehouse was made is added to its table on the first open
    for writing (ingest, run, upgrade), never by compute: empty in the rows loaded before it."""
    paths = Paths(data_dir)
    ingest(paths, write_folder(tmp_path / "a", valid_rows()), received_at=T0)
    con = duckdb.connect(str(paths.warehouse))
    try:
        con.execute("alter table help drop column end_date")
        con.execute("alter table followups drop column violence_since_previous")
        assert warehouse.needs_upgrade(con)
    finally:
        con.close()
    refused_then_upgraded(paths, hgkm)
    assert set(figures_of(paths.warehouse)) == {ind.id for ind in INDICATORS}
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        assert not warehouse.needs_upgrade(con)
        assert con.sql("select count(*), count(end_date) from help").fetchall() == [(3, 0)]
        described = {
            table: {row[0]: (row[1], row[2]) for row in con.execute(f"describe {table}").fetchall()}
            for table in warehouse.STORED
        }
        assert {t: set(d) for t, d in described.items()} == {
            t: {c for c, _ in columns} for t, columns in warehouse.STORED.items()
        }
        # Added to rows that lack it: nullable, whatever the contract says of new rows.
        assert described["followups"]["violence_since_previous"] == ("VARCHAR", "YES")
    finally:
        con.close()
    report = ingest(paths, write_folder(tmp_path / "b", second_municipality()), received_at=T0)
    assert report.status == "accepted"
