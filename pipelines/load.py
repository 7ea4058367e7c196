"""Ingest deliveries: read, check, and record them in the warehouse, a batch per transaction.

Accepted deliveries load their case tables; rejected ones are recorded without them. The same
content (by hash) already accepted is reported as already loaded and changes nothing. Many
deliveries are read ahead on a small thread pool, checked in batches (the checks' fixed cost
per call is shared) and recorded in one transaction per batch: in order, judged exactly as if
each had been ingested alone, and never half loaded.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar, cast

import duckdb
import polars as pl

from hgkm.faults import checkpoint
from hgkm.settings import Paths
from pipelines import checks, warehouse
from pipelines.checks import CheckResult, check_deliveries
from pipelines.contract import TABLES
from pipelines.read import Delivery, open_delivery, parse_csv, read_delivery
from pipelines.report import DeliveryReport, DeliveryWarning

# A newer delivery with this share fewer cases than the current one is worth a warning.
CASE_DROP_WARNING = 0.20
# A batch is checked and recorded once it holds this many rows (or deliveries): large enough
# to share the fixed cost of the checks (~0.13 s a batch, however small) and to let DuckDB
# write whole row groups straight to the file, small enough to keep a national ingest's
# memory under 1 GB (two batches are alive: one checked, one recorded).
BATCH_ROWS = 1_000_000
BATCH_DELIVERIES = 160
# Opening deliveries (reading files, hashing, decoding; hashlib releases the GIL) overlaps
# the checks of the batch before; their CSV rows are parsed with their batch. Deliveries
# opened but not yet checked are bounded by the look-ahead: half a national batch.
READ_THREADS = 2
READ_AHEAD = 80
BULK_CHECKPOINT = "1GB"

T = TypeVar("T")


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
    own = con is None
    con = warehouse.connect(paths.warehouse) if con is None else con
    try:
        (report,) = _record_batch(con, _checked([(delivery, received_at)], drop_invalid_rows))
        return report
    finally:
        if own:
            con.close()


def ingest_many(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[Path],
    *,
    drop_invalid_rows: bool = False,
) -> Iterator[DeliveryReport]:
    """`ingest` of each source in turn, in batches; yields the reports of a batch once it is
    committed.

    Three stages overlap: deliveries are read ahead on a thread pool, the next batch is checked
    on a thread while this one is recorded. Each delivery keeps its own reception time (when
    its reading finished) and is judged after the ones before it: supersession and
    already-loaded are decided against the warehouse as those left it, so the outcome is the
    same as ingesting them one by one.
    """
    # DuckDB checkpoints each time its write-ahead log passes 16 MB; a bulk load rewrites
    # the growing tables at every one. One checkpoint at the end writes them once.
    con.execute(f"set checkpoint_threshold = '{BULK_CHECKPOINT}'")
    try:
        batches = _parsed(_batches(_read_ahead(sources)))
        checked = (_checked(batch, drop_invalid_rows) for batch in batches)
        for batch in _one_ahead(checked):
            yield from _record_batch(con, batch)
        con.execute("checkpoint")
    finally:
        con.execute("reset checkpoint_threshold")


def _batches(deliveries: Iterator[Delivery]) -> Iterator[list[tuple[Delivery, datetime]]]:
    """Deliveries with their reception times, grouped until BATCH_ROWS or BATCH_DELIVERIES."""
    batch: list[tuple[Delivery, datetime]] = []
    rows = 0
    for delivery in deliveries:
        received_at = _now()
        checkpoint("ingest.read")
        batch.append((delivery, received_at))
        rows += delivery.rows
        if rows >= BATCH_ROWS or len(batch) >= BATCH_DELIVERIES:
            yield batch
            batch, rows = [], 0
    if batch:
        yield batch


def _parsed(
    batches: Iterator[list[tuple[Delivery, datetime]]],
) -> Generator[list[tuple[Delivery, datetime]], None, None]:
    """Each batch with its deliveries' CSV rows parsed."""
    for batch in batches:
        parse_csv([delivery for delivery, _ in batch])
        yield batch


def _read_ahead(sources: Sequence[Path]) -> Iterator[Delivery]:
    """The deliveries opened (their CSV rows are parsed with their batch), in order, with up
    to READ_AHEAD of them opened in the background."""
    with ThreadPoolExecutor(READ_THREADS, thread_name_prefix="hgkm-read") as pool:
        pending: deque[Future[Delivery]] = deque()
        try:
            for source in sources:
                pending.append(pool.submit(open_delivery, source))
                if len(pending) >= READ_AHEAD:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _one_ahead(items: Generator[T, None, None]) -> Iterator[T]:
    """`items` in order, the next one computed on a worker thread while the caller uses this
    one (polars and DuckDB release the GIL, so checking and recording overlap)."""
    done = object()
    try:
        # Leaving the block waits for the item in progress before `items` is closed below.
        with ThreadPoolExecutor(1, thread_name_prefix="hgkm-check") as pool:
            future = pool.submit(next, items, done)
            while (item := future.result()) is not done:
                future = pool.submit(next, items, done)
                yield cast(T, item)
    finally:
        items.close()


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


@dataclass(frozen=True)
class _Current:
    """A municipality's current delivery: the accepted one with the latest extract date, then
    the one received last, then the highest id (the order of the `current_deliveries` view)."""

    extract_date: date
    received_at: datetime
    delivery_id: int
    cases: int

    def superseded_by(self, other: _Current) -> bool:
        return (other.extract_date, other.received_at, other.delivery_id) > (
            self.extract_date,
            self.received_at,
            self.delivery_id,
        )


@dataclass
class _Ledger:
    """What the warehouse holds that a batch is judged against, kept up to date as the batch is
    recorded: accepted content by hash, and the current delivery per municipality."""

    accepted: dict[str, int]
    current: dict[str, _Current]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> _Ledger:
        """The whole ledger: one row per delivery at most, small beside any batch."""
        accepted = con.sql(
            "select content_hash, min(delivery_id) from deliveries"
            " where status = 'accepted' group by content_hash"
        ).fetchall()
        current = con.sql(
            """
            select municipality_code, extract_date, received_at, delivery_id,
                   coalesce(try_cast(rows_loaded ->> 'cases' as bigint), 0)
            from current_deliveries
            """
        ).fetchall()
        return cls(
            accepted={h: int(i) for h, i in accepted},
            current={m: _Current(d, r, int(i), int(n)) for m, d, r, i, n in current},
        )


_Checked = list[tuple[DeliveryReport, dict[str, pl.DataFrame], CheckResult]]


def _checked(batch: list[tuple[Delivery, datetime]], drop_invalid_rows: bool) -> _Checked:
    """Each delivery's report as its checks decide it, the tables it would load, its checks."""
    results = check_deliveries([d for d, _ in batch], [at.date() for _, at in batch])
    return [
        (*_report(delivery, result, received_at, drop_invalid_rows), result)
        for (delivery, received_at), result in zip(batch, results, strict=True)
    ]


def _record_batch(con: duckdb.DuckDBPyConnection, checked: _Checked) -> list[DeliveryReport]:
    """Judge each checked delivery in order against the warehouse and record the batch in one
    transaction; the reports, once committed."""
    if not checked:
        return []
    ledger = _Ledger.read(con)
    con.execute("begin transaction")
    try:
        ids = _new_ids(con, _to_record_count(checked, ledger))
        _record(con, [item for item in checked if _judge(item[0], item[1], ledger, ids)])
        checkpoint("ingest.load")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return [report for report, _, _ in checked]


def _report(
    delivery: Delivery, result: CheckResult, received_at: datetime, drop_invalid_rows: bool
) -> tuple[DeliveryReport, dict[str, pl.DataFrame]]:
    """The delivery's report as its checks decide it, and the tables it would load."""
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
    return report, tables


def _to_record_count(checked: _Checked, ledger: _Ledger) -> int:
    """How many of the batch's deliveries get a `deliveries` row: all but content accepted
    before (in the warehouse or earlier in the batch)."""
    accepted = set(ledger.accepted)
    count = 0
    for report, _, _ in checked:
        if report.content_hash in accepted:
            continue
        count += 1
        if report.status == "accepted":
            accepted.add(report.content_hash)
    return count


def _new_ids(con: duckdb.DuckDBPyConnection, n: int) -> Iterator[int]:
    """`n` new delivery ids from the warehouse's sequence, in increasing order."""
    if n == 0:
        return iter(())
    rows = con.sql(f"select nextval('delivery_id_seq') from range({int(n)})").fetchall()
    return iter(sorted(int(value) for (value,) in rows))


def _judge(
    report: DeliveryReport, tables: dict[str, pl.DataFrame], ledger: _Ledger, ids: Iterator[int]
) -> bool:
    """Decide already-loaded, supersession warnings, id and currency; True when it is recorded."""
    # Content accepted before is a no-op whatever this run would decide (e.g. it was loaded
    # with --drop-invalid-rows and is sent again without it).
    previous = ledger.accepted.get(report.content_hash)
    if previous is not None:
        report.status = "already_loaded"
        report.delivery_id = previous
        current = ledger.current.get(report.municipality_code or "")
        report.current = current is not None and current.delivery_id == previous
        return False
    report.delivery_id = next(ids)
    if report.status != "accepted":
        return True
    assert report.municipality_code is not None and report.extract_date is not None
    assert report.received_at is not None
    mine = _Current(
        report.extract_date, report.received_at, report.delivery_id, tables["cases"].height
    )
    current = ledger.current.get(report.municipality_code)
    if current is not None:
        report.warnings.extend(_supersession_warnings(current, mine))
    if current is None or current.superseded_by(mine):
        ledger.current[report.municipality_code] = mine
        report.current = True
    ledger.accepted[report.content_hash] = report.delivery_id
    return True


def _supersession_warnings(current: _Current, new: _Current) -> list[DeliveryWarning]:
    if new.extract_date < current.extract_date:
        return [DeliveryWarning("older_extract", "manifest", 1)]
    warnings = []
    if new.extract_date == current.extract_date:
        warnings.append(DeliveryWarning("correction", "manifest", 1))
    if current.cases and new.cases < (1 - CASE_DROP_WARNING) * current.cases:
        warnings.append(DeliveryWarning("case_count_drop", "cases", current.cases - new.cases))
    return warnings


def _record(
    con: duckdb.DuckDBPyConnection,
    recorded: list[tuple[DeliveryReport, dict[str, pl.DataFrame], CheckResult]],
) -> None:
    """The batch's `deliveries` rows and every accepted delivery's case tables, one insert per
    table (inside the caller's transaction)."""
    if not recorded:
        return
    rows = []
    for report, tables, result in recorded:
        is_accepted = report.status == "accepted"
        loaded = {name: frame.height for name, frame in tables.items()} if is_accepted else None
        rows.append(
            (
                report.delivery_id,
                report.content_hash,
                report.municipality_code,
                report.extract_date,
                result.manifest.source_system,
                report.source.name,
                report.shape,
                report.received_at,
                "accepted" if is_accepted else "rejected",
                json.dumps(loaded) if loaded is not None else None,
                json.dumps(report.rows_dropped) if report.rows_dropped else None,
                json.dumps([asdict(w) for w in report.warnings]),
                json.dumps([asdict(e) for e in report.errors]),
                report.error_total,
                json.dumps(report.formats),
                json.dumps(report.error_counts),
            )
        )
    _insert(
        con,
        "deliveries",
        pl.DataFrame(
            rows,
            schema={
                "delivery_id": pl.Int32,
                "content_hash": pl.String,
                "municipality_code": pl.String,
                "extract_date": pl.Date,
                "source_system": pl.String,
                "source_name": pl.String,
                "shape": pl.String,
                "received_at": pl.Datetime("us"),
                "status": pl.String,
                "rows_loaded": pl.String,
                "rows_dropped": pl.String,
                "warnings": pl.String,
                "errors": pl.String,
                "error_count": pl.Int32,
                "formats": pl.String,
                "error_counts": pl.String,
            },
            orient="row",
        ),
    )
    # Every recorded delivery has its id by now (`_judge`).
    accepted = {
        cast(int, r.delivery_id): tables for r, tables, _ in recorded if r.status == "accepted"
    }
    if not accepted:
        return
    for name, columns in TABLES.items():
        frame = checks.stacked(
            {delivery_id: tables[name] for delivery_id, tables in accepted.items()},
            [c.name for c in columns],
            key="delivery_id",
            dtype=pl.Int32,
        )
        # One chunk: DuckDB takes it in ~30% faster than the deliveries' slices.
        _insert(con, name, frame.rechunk(), case_hash=warehouse.CASE_HASH.format(salt=0))
    warehouse.key_cases(con, list(accepted))


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, **computed: str
) -> None:
    """Insert the frame's columns, and columns computed by DuckDB from them."""
    con.register("incoming", frame)
    try:
        columns = ", ".join([*frame.columns, *computed])
        values = ", ".join([*frame.columns, *computed.values()])
        con.execute(f"insert into {table} ({columns}) select {values} from incoming")
    finally:
        con.unregister("incoming")
