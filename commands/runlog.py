"""The run log: one row per scheduled run in the warehouse table `runs`, for `hgkm status`.

Each call opens and closes its own short connection, so the warehouse is free for the ingest
and the computation in between. A row still `running` when a later run takes the lock belongs
to a run that was killed: it is marked `interrupted`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines import warehouse

SCHEMA = """
create table if not exists runs (
    run_id          varchar primary key,
    started_at      timestamp not null,   -- local time of the host
    ended_at        timestamp,
    outcome         varchar not null,     -- running | ok | attention | failed | interrupted
    exit_code       integer,
    host            varchar,
    pid             integer,
    inbox           varchar,
    seen            integer not null default 0,  -- deliveries found ready in the inbox
    accepted        integer not null default 0,
    rejected        integer not null default 0,
    already_loaded  integer not null default 0,
    skipped         integer not null default 0,  -- still being written, left for the next run
    unreadable      integer not null default 0,
    unrecognised    integer not null default 0,
    failed          integer not null default 0,  -- ingest raised; left in the inbox
    mart_published  boolean not null default false,
    error           varchar                      -- never a value from a delivery
);
"""

COUNTS = (
    "seen",
    "accepted",
    "rejected",
    "already_loaded",
    "skipped",
    "unreadable",
    "unrecognised",
    "failed",
)


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = warehouse.connect(path)
    con.execute(SCHEMA)
    return con


def start(path: Path, *, run_id: str, host: str, pid: int, inbox: Path) -> int:
    """Record a new run; returns how many earlier runs were found interrupted."""
    con = _connect(path)
    try:
        interrupted = con.execute(
            "update runs set outcome = 'interrupted' where outcome = 'running' returning run_id"
        ).fetchall()
        con.execute(
            "insert into runs (run_id, started_at, outcome, host, pid, inbox) "
            "values (?, ?, 'running', ?, ?, ?)",
            [run_id, datetime.now(), host, pid, str(inbox)],
        )
        return len(interrupted)
    finally:
        con.close()


def finish(
    path: Path,
    *,
    run_id: str,
    outcome: str,
    exit_code: int,
    counts: Mapping[str, int],
    mart_published: bool,
    error: str | None,
) -> None:
    unknown = set(counts) - set(COUNTS)
    if unknown:
        raise ValueError(f"unknown run counts: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in COUNTS)
    con = _connect(path)
    try:
        con.execute(
            f"update runs set ended_at = ?, outcome = ?, exit_code = ?, mart_published = ?, "
            f"error = ?, {assignments} where run_id = ?",
            [
                datetime.now(),
                outcome,
                exit_code,
                mart_published,
                error,
                *(counts.get(name, 0) for name in COUNTS),
                run_id,
            ],
        )
    finally:
        con.close()


def last_runs(con: duckdb.DuckDBPyConnection, limit: int) -> pl.DataFrame:
    """The latest runs, newest first (empty when no run was ever recorded)."""
    exists = con.sql(
        "select count(*) from information_schema.tables where table_name = 'runs'"
    ).fetchall()[0][0]
    if not exists:
        return pl.DataFrame()
    return con.sql(f"select * from runs order by started_at desc limit {int(limit)}").pl()
