"""The mart is as hgkm/mart.py declares it: the published sample mart and the test mart."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from mart_builder import build_mart

from hgkm import mart as declaration

# Tables the test mart leaves out: the dashboard's tests need none of them.
NOT_IN_THE_TEST_MART = {"approach_comparison", "publication_packages", "release_changes"}


def tables_of(path: Path) -> dict[str, declaration.Columns]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.sql(
            "select table_name, column_name, data_type from information_schema.columns "
            "order by table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        found.setdefault(table, []).append((column, kind))
    return {table: tuple(columns) for table, columns in found.items()}


def test_the_published_sample_mart_is_as_declared(sample_pipeline: dict) -> None:
    found = tables_of(sample_pipeline["mart"])
    assert declaration.differences(found) == []
    assert set(found) == set(declaration.TABLES)


def test_the_test_mart_is_as_declared(tmp_path: Path) -> None:
    found = tables_of(build_mart(tmp_path / "mart.duckdb"))
    assert declaration.differences(found) == []
    assert set(found) == set(declaration.TABLES) - NOT_IN_THE_TEST_MART


def test_differences_name_what_differs() -> None:
    periods = declaration.TABLES["periods"]
    found = {"periods": (*periods[:-1], ("extra", "VARCHAR")), "nonsense": ()}
    assert declaration.differences(found) == [
        "nonsense: not declared",
        "periods: [('extra', 'VARCHAR')] undeclared, [('is_default', 'BOOLEAN')] lacking",
    ]


@pytest.mark.parametrize("change", ["undeclared", "lacking", "unknown table"])
def test_a_table_not_as_declared_is_refused(change: str) -> None:
    frame = pl.DataFrame({"area_code": ["NL"], "municipality_code": ["GM0014"]})
    name = "area_members"
    if change == "undeclared":
        frame = frame.with_columns(pl.lit(1).alias("extra"))
    elif change == "lacking":
        frame = frame.drop("municipality_code")
    else:
        name = "area_memberz"
    con = duckdb.connect()
    con.register("frame", frame)
    with pytest.raises(ValueError, match="hgkm/mart.py"):
        declaration.insert(con, name, frame.columns)
    assert con.sql("select count(*) from duckdb_tables()").fetchall() == [(0,)]


def test_the_declared_types_are_written_whatever_the_frame_holds() -> None:
    con = duckdb.connect()
    con.register("frame", pl.DataFrame({"municipality_code": ["GM0014"], "area_code": [None]}))
    declaration.insert(con, "area_members", ["municipality_code", "area_code"])
    assert con.sql("describe area_members").fetchall()[0][:2] == ("area_code", "VARCHAR")
