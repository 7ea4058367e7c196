"""Ingest deliveries: read, check, and record each in the warehouse in its own transaction.

Accepted deliveries load their case tables; rejected ones are recorded without them. The same
content (by hash) already accepted is reported as already loaded and changes nothing. Many
deliveries are read and checked in batches (the checks' fixed cost per call is shared), then
recorded one by one, in order, exactly as if each had been ingested alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from hgkm.faults import checkpoint
from hgkm.settings import Paths
from pipelines import checks, warehouse
from pipelines.checks import CheckResult, check_deliveries
from pipelines.contract import TABLES
from pipelines.read import Delivery, read_delivery
from pipelines.report import DeliveryReport, DeliveryWarning

# A newer delivery with this share fewer cases than the current one is worth a warning.
CASE_DROP_WARNING = 0.20
# A batch is checked once it holds this many rows (or deliveries): large enough to share the
# checks' fixed cost, small enough to keep the memory of a national ingest bounded.
BATCH_ROWS = 400_000
BATCH_DELIVERIES = 64


def ingest(
    paths: Paths,
    source: Path,
    *,
    drop_invalid_rows: bool = False,
    received_at: datetime | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> DeliveryReport:
    """Check `source` and record it; its case tables load only when it is accepted.

    `con`, an open warehouse connection, saves reopening the warehouse for each of many
    deliveries; without it the warehouse is opened and closed here.
    """
    received_at = received_at or _now()
    delivery = read_delivery(source)
    checkpoint("ingest.read")
    (result,) = check_deliveries([delivery], [received_at.date()])
    own = con is None
    con = warehouse.connect(paths.warehouse) if con is None else con
    try:
        return _store(con, delivery, result, received_at, drop_invalid_rows)
    finally:
        if own:
            con.close()


def ingest_many(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[Path],
    *,
    drop_invalid_rows: bool = False,
) -> Iterator[DeliveryReport]:
    """`ingest` of each source in turn, checked in batches; yields each report once recorded.

    Each delivery keeps its own transaction and its own reception time (when it was read), and
    is recorded after the ones before it: supersession and already-loaded are judged against
    the warehouse as those left it.
    """
    batch: list[tuple[Delivery, datetime]] = []
    rows = 0
    for source in sources:
        received_at = _now()
        delivery = read_delivery(source)
        checkpoint("ingest.read")
        batch.append((delivery, received_at))
        rows += sum(raw.frame.height for raw in delivery.tables.values())
        if rows >= BATCH_ROWS or len(batch) >= BATCH_DELIVERIES:
            yield from _store_batch(con, batch, drop_invalid_rows)
            batch, rows = [], 0
    yield from _store_batch(con, batch, drop_invalid_rows)


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _store_batch(
    con: duckdb.DuckDBPyConnection,
    batch: list[tuple[Delivery, datetime]],
    drop_invalid_rows: bool,
) -> Iterator[DeliveryReport]:
    if not batch:
        return
    results = check_deliveries([d for d, _ in batch], [at.date() for _, at in batch])
    for (delivery, received_at), result in zip(batch, results, strict=True):
        yield _store(con, delivery, result, received_at, drop_invalid_rows)


def _store(
    con: duckdb.DuckDBPyConnection,
    delivery: Delivery,
    result: CheckResult,
    received_at: datetime,
    drop_invalid_rows: bool,
) -> DeliveryReport:
    """The delivery's report, and its record in the warehouse unless already loaded."""
    report = DeliveryReport(
        source=delivery.source,
        status="accepted",
        shape=delivery.shape,
        content_hash=delivery.content_hash,
        municipality_code=result.manifest.municipality_code,
        extract_date=result.manifest.extract_date,
        received_at=received_at,
        formats=result.formats,
        counts={name: frame.height for name, frame in result.tables.items()},
        warnings=list(result.warnings),
        errors=result.shown_issues(),
        error_total=result.issues.height,
        error_counts=result.error_counts(),
    )
    tables = result.tables
    if result.issues.height:
        if drop_invalid_rows and not result.structural:
            tables, report.rows_dropped = checks.drop_invalid_rows(result)
        else:
            report.status = "rejected"
    # Content accepted before is a no-op whatever this run would decide (e.g. it was
    # loaded with --drop-invalid-rows and is sent again without it).
    previous = con.execute(
        "select delivery_id from deliveries where content_hash = ? and status = 'accepted'"
        " order by delivery_id limit 1",
        [report.content_hash],
    ).fetchone()
    if previous is not None:
        report.status = "already_loaded"
        report.delivery_id = int(previous[0])
        report.current = _is_current(con, report)
        return report
    if report.status == "accepted":
        report.warnings.extend(_supersession_warnings(con, report, tables))
    _record(con, report, tables, result)
    report.current = _is_current(con, report)
    return report


def _supersession_warnings(
    con: duckdb.DuckDBPyConnection, report: DeliveryReport, tables: dict[str, pl.DataFrame]
) -> list[DeliveryWarning]:
    current = con.execute(
        "select delivery_id, extract_date from current_deliveries where municipality_code = ?",
        [report.municipality_code],
    ).fetchone()
    if current is None or report.extract_date is None:
        return []
    current_id, current_date = current
    if report.extract_date < current_date:
        return [DeliveryWarning("older_extract", "manifest", 1)]
    warnings = []
    if report.extract_date == current_date:
        warnings.append(DeliveryWarning("correction", "manifest", 1))
    (before,) = con.execute(
        "select count(*) from cases where delivery_id = ?", [current_id]
    ).fetchone() or (0,)
    now = tables["cases"].height
    if before and now < (1 - CASE_DROP_WARNING) * before:
        warnings.append(DeliveryWarning("case_count_drop", "cases", before - now))
    return warnings


def _record(
    con: duckdb.DuckDBPyConnection,
    report: DeliveryReport,
    tables: dict[str, pl.DataFrame],
    result: CheckResult,
) -> None:
    """One transaction: the deliveries row and, when accepted, every case table's rows."""
    accepted = report.status == "accepted"
    loaded = {name: frame.height for name, frame in tables.items()} if accepted else None
    con.execute("begin transaction")
    try:
        (delivery_id,) = con.execute(
            """
            insert into deliveries (content_hash, municipality_code, extract_date, source_system,
                source_name, shape, received_at, status, rows_loaded, rows_dropped, warnings,
                errors, error_count, formats, error_counts)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            returning delivery_id
            """,
            [
                report.content_hash,
                report.municipality_code,
                report.extract_date,
                result.manifest.source_system,
                report.source.name,
                report.shape,
                report.received_at,
                "accepted" if accepted else "rejected",
                json.dumps(loaded) if loaded is not None else None,
                json.dumps(report.rows_dropped) if report.rows_dropped else None,
                json.dumps([asdict(w) for w in report.warnings]),
                json.dumps([asdict(e) for e in report.errors]),
                report.error_total,
                json.dumps(report.formats),
                json.dumps(report.error_counts),
            ],
        ).fetchone() or (None,)
        report.delivery_id = int(delivery_id)
        if accepted:
            for name, columns in TABLES.items():
                names = [c.name for c in columns]
                con.register("incoming", tables[name].select(names))
                con.execute(
                    f"insert into {name} (delivery_id, {', '.join(names)}) "
                    f"select ?, {', '.join(names)} from incoming",
                    [delivery_id],
                )
                con.unregister("incoming")
        checkpoint("ingest.load")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _is_current(con: duckdb.DuckDBPyConnection, report: DeliveryReport) -> bool:
    row = con.execute(
        "select count(*) from current_deliveries where delivery_id = ?", [report.delivery_id]
    ).fetchone()
    return bool(row and row[0])
