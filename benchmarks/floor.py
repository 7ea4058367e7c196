"""The floor: a bare DuckDB load of the deliveries' CSV files into typed tables, with no checks.

Two variants. `load_all` reads every delivery's file of a table in one `read_csv` over the list
of files (the fastest way DuckDB offers, so the strictest floor); `load_per_delivery` loads
one delivery at a time in its own transaction, the same unit of work as the ingest.
Both expect the contract's plain form (UTF-8, `,`, ISO dates), which is what the benchmark
generates (`--shape folder`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.contract import TABLES


def _types(table: str) -> dict[str, str]:
    return {c.name: c.sql_type.upper() for c in TABLES[table]}


def _create(con: duckdb.DuckDBPyConnection) -> None:
    for table, types in ((t, _types(t)) for t in TABLES):
        columns = ", ".join(f"{name} {kind}" for name, kind in types.items())
        con.execute(f"create table {table} (delivery varchar, {columns})")


def _read(files: list[str], types: dict[str, str]) -> str:
    return f"read_csv({files!r}, header = true, delim = ',', columns = {types!r}, filename = true)"


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: con.sql(f"select count(*) from {t}").fetchall()[0][0] for t in TABLES}


def load_all(database: Path, deliveries: list[Path]) -> dict[str, int]:
    """Every table in one statement over all deliveries; returns the rows per table."""
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    try:
        _create(con)
        con.execute("begin")
        for table in TABLES:
            types = _types(table)
            files = [str(d / f"{table}.csv") for d in deliveries]
            con.execute(
                f"insert into {table} select filename, {', '.join(types)} "
                f"from {_read(files, types)}"
            )
        con.execute("commit")
        return _counts(con)
    finally:
        con.close()


def load_per_delivery(database: Path, deliveries: list[Path]) -> dict[str, int]:
    """One transaction per delivery, five statements each; returns the rows per table."""
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    try:
        _create(con)
        for delivery in deliveries:
            con.execute("begin")
            for table in TABLES:
                types = _types(table)
                con.execute(
                    f"insert into {table} select filename, {', '.join(types)} "
                    f"from {_read([str(delivery / f'{table}.csv')], types)}"
                )
            con.execute("commit")
        return _counts(con)
    finally:
        con.close()
