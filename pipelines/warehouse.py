"""The case-level warehouse (DuckDB): its schema, its connection and the 'current delivery' views.

Analysts only: the dashboard never opens this file. Nothing is ever deleted from it; a newer
delivery of a municipality supersedes the older one through the `current_*` views.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from hgkm.lock import LockBusy, RunLock
from hgkm.settings import Paths
from pipelines import bookkeeping
from pipelines.contract import TABLES, Column

# The contract's case-level tables, each stored with a delivery_id in front of its columns.
CASE_TABLES = tuple(TABLES)
CASE_HASH = "hash(case_id, {salt})"
SALTS = 16
Stored = dict[str, tuple[tuple[str, str], ...]]  # table -> its (column, type)s, in order


def typed(columns: Sequence[Column]) -> tuple[tuple[str, str], ...]:
    """A contract table's columns with their types in the warehouse."""
    return tuple((c.name, c.sql_type + (" not null" if c.required else "")) for c in columns)


def create_tables(tables: Stored) -> str:
    """The tables' `create table if not exists` statements."""
    return "".join(
        "create table if not exists {name} (\n    {columns}\n);\n".format(
            name=name, columns=",\n    ".join(f"{column} {kind}" for column, kind in columns)
        )
        for name, columns in tables.items()
    )


# Each case-level table: its delivery, the contract's columns, and its case_id hashed, unique
# among its delivery's cases (`key_cases`).
STORED: Stored = {
    name: (("delivery_id", "integer not null"), *typed(columns), ("case_hash", "ubigint"))
    for name, columns in TABLES.items()
}

SCHEMA = bookkeeping.SCHEMA + create_tables(STORED)

# The case tables' rows of the current deliveries (`bookkeeping.CURRENT_DELIVERIES`). Each
# current row carries `case_key`, the case it belongs to as one number: its delivery and its
# case's hash. The indicators join on it (cheaper than on delivery_id and case_id:
# benchmarks/findings.md); it is unique because `key_cases` keeps a delivery's hashes apart.
CURRENT_VIEWS = (
    bookkeeping.CURRENT_DELIVERIES
    + """
create or replace view current_cases as
select d.municipality_code, d.extract_date, c.*, {key} as case_key
from cases c join current_deliveries d using (delivery_id);
create or replace view current_reports as
select d.municipality_code, r.*, {key} as case_key
from reports r join current_deliveries d using (delivery_id);
create or replace view current_children as
select d.municipality_code, ch.*, {key} as case_key
from children ch join current_deliveries d using (delivery_id);
create or replace view current_help as
select d.municipality_code, h.*, {key} as case_key
from help h join current_deliveries d using (delivery_id);
create or replace view current_followups as
select d.municipality_code, f.*, {key} as case_key
from followups f join current_deliveries d using (delivery_id);
""".format(key="(delivery_id::uhugeint << 64) + case_hash")
)


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating the schema on first use (never when read-only)."""
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(SCHEMA)
    add_missing_columns(con, STORED)
    con.execute(CURRENT_VIEWS)
    if lacks_case_hashes(con):
        _upgrade(con)
    return con


class Busy(Exception):
    """A run of the job (or another writer) holds the warehouse now."""


@contextmanager
def read_briefly(paths: Paths, wait_seconds: float) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection for a moment's reading, under the job's lock so that it never
    keeps a run from writing (DuckDB lets no writer in while another process reads); None when
    there is no warehouse yet. Raises Busy when a run keeps the lock past `wait_seconds`, or a
    writer that takes no lock (`hgkm ingest` by hand) has the file open."""
    if not paths.warehouse.exists():
        yield None
        return
    try:
        lock = RunLock(paths.lock, wait_seconds=wait_seconds)
        lock.acquire()
    except LockBusy as exc:
        raise Busy(str(exc)) from exc
    try:
        try:
            con = duckdb.connect(str(paths.warehouse), read_only=True)
        except duckdb.IOException as exc:
            raise Busy("another process is writing to the warehouse") from exc
        try:
            yield con
        finally:
            con.close()
    finally:
        lock.release()


def needs_upgrade(con: duckdb.DuckDBPyConnection, database: str | None = None) -> bool:
    """Whether the warehouse (`database`, an attached name; default the connection's own) was
    made before some of its declared columns, or holds rows without case hashes: `connect`
    upgrades it."""
    return bool(missing_columns(con, STORED, database)) or lacks_case_hashes(con, database)


def add_missing_columns(con: duckdb.DuckDBPyConnection, tables: Stored) -> None:
    """Add the columns declared after the warehouse was made, all or none: empty in its
    older rows (a column added to a table with rows cannot be `not null`)."""
    missing = missing_columns(con, tables)
    if not missing:
        return
    con.execute("begin transaction")
    try:
        for table, column, kind in missing:
            kind = kind.removesuffix(" not null")
            con.execute(f"alter table {table} add column {column} {kind}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def missing_columns(
    con: duckdb.DuckDBPyConnection, tables: Stored, database: str | None = None
) -> list[tuple[str, str, str]]:
    """(table, column, type) of the declared columns the warehouse's tables lack."""
    present = set(
        con.execute(
            "select table_name, column_name from duckdb_columns() "
            "where database_name = coalesce(?, current_database()) and schema_name = 'main'",
            [database],
        ).fetchall()
    )
    return [
        (table, column, kind)
        for table, columns in tables.items()
        for column, kind in columns
        if (table, column) not in present
    ]


def lacks_case_hashes(con: duckdb.DuckDBPyConnection, database: str | None = None) -> bool:
    """Whether the warehouse (`database`, an attached name; default the connection's own) holds
    rows written before `case_hash` existed: without the column, or with rows without one."""
    (has_column,) = con.execute(
        "select count(*) > 0 from duckdb_columns() where database_name = "
        "coalesce(?, current_database()) and table_name = 'cases' and column_name = 'case_hash'",
        [database],
    ).fetchall()[0]
    cases = "cases" if database is None else f"{database}.cases"
    unhashed = f"select 1 from {cases} where case_hash is null limit 1"
    return not has_column or bool(con.sql(unhashed).fetchall())


def key_cases(con: duckdb.DuckDBPyConnection, delivery_ids: Sequence[int] | None = None) -> None:
    """Make the case hashes of these deliveries (default: all) unique within each delivery:
    hash again with the next salt wherever two case_ids of a delivery share a hash.

    A delivery's case_ids are unique (the contract's `unique` rule) and every row's case_id is
    one of its delivery's cases (`unknown_case`), so unique hashes key each row to its case.
    Runs inside the caller's transaction.
    """
    salt = 0
    while clashing := _clashing(con, delivery_ids):
        salt += 1
        if salt > SALTS:
            raise RuntimeError(
                f"the case_ids of deliveries {clashing} share hashes after {SALTS} salts"
            )
        for table in CASE_TABLES:
            con.execute(
                f"update {table} set case_hash = {CASE_HASH.format(salt=salt)} "
                f"where delivery_id in ({_ids(clashing)})"
            )
        delivery_ids = clashing


def _clashing(con: duckdb.DuckDBPyConnection, delivery_ids: Sequence[int] | None) -> list[int]:
    """The deliveries (of these; default all) with two cases sharing a hash."""
    scope = "" if delivery_ids is None else f"where delivery_id in ({_ids(delivery_ids)})"
    return [
        row[0]
        for row in con.execute(
            f"select delivery_id from cases {scope} group by delivery_id "
            "having count(distinct case_hash) < count(*)"
        ).fetchall()
    ]


def _upgrade(con: duckdb.DuckDBPyConnection) -> None:
    """Hash the case_ids of rows written before `case_hash` existed (once, all or nothing)."""
    con.execute("begin transaction")
    try:
        for table in CASE_TABLES:
            con.execute(
                f"update {table} set case_hash = {CASE_HASH.format(salt=0)} where case_hash is null"
            )
        key_cases(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _ids(delivery_ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in delivery_ids)
