"""Ingest deliveries: read, check, and record them in the warehouse, a batch per transaction.

Accepted deliveries load their case tables; rejected ones are recorded without them. The same
content (by hash) already accepted is reported as already loaded and changes nothing. Many
deliveries are read ahead on a small thread pool, checked in batches (the checks' fixed cost
per call is shared) and recorded in one transaction per batch: in order, judged exactly as if
each had been ingested alone, and never half loaded.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar, cast

import duckdb
import polars as pl

from hgkm.errors import failure_place
from hgkm.faults import checkpoint
from hgkm.limits import DEFAULTS, Limits
from hgkm.settings import Paths
from pipelines import bookkeeping, checks, warehouse
from pipelines.checks import CheckResult, check_deliveries, failed_result
from pipelines.contract import TABLES
from pipelines.read import Delivery, failed_delivery, open_delivery, parse_csv
from pipelines.report import DeliveryReport, DeliveryWarning

# A newer delivery with this share fewer cases than the current one is worth a warning.
CASE_DROP_WARNING = 0.20
# A batch is checked and recorded once it holds this many rows (or deliveries): large enough
# to share the fixed cost of the checks (every batch pays it, however small) and to let
# DuckDB write whole row groups straight to the file, small enough to bound a national
# ingest's memory (two batches are alive: one checked, one recorded). The figures behind
# both: benchmarks/findings.md.
BATCH_ROWS = 1_000_000
BATCH_DELIVERIES = 160
# Opening deliveries (reading files, hashing, decoding; hashlib releases the GIL) overlaps
# the checks of the batch before; their CSV rows are parsed with their batch. Deliveries
# opened but not yet checked are bounded by the look-ahead: half a national batch.
READ_THREADS = 2
READ_AHEAD = 80
# ... and by the bytes they hold, and a batch by its deliveries' bytes too: deliveries near the
# size limits must not be held many at a time. A national batch's rows come to a third of it.
READ_AHEAD_BYTES = 128 * 1024**2
BATCH_BYTES = 128 * 1024**2
BULK_CHECKPOINT = "1GB"
# A failure of this program on one delivery is that delivery's rejection (`internal_error`);
# its type and place go to the log, never its message (it could quote a value).
log = logging.getLogger(__name__)

T = TypeVar("T")


def ingest(
    paths: Paths,
    source: Path,
    *,
    drop_invalid_rows: bool = False,
    received_at: datetime | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    limits: Limits = DEFAULTS,
) -> DeliveryReport:
    """Check `source` and record it; its case tables load only when it is accepted.

    `con`, an open warehouse connection, saves reopening the warehouse for each of many
    deliveries; without it the warehouse is opened and closed here.
    """
    received_at = received_at or _now()
    (delivery,) = _parsed_safely([_opened_safely(source, limits)])
    checkpoint("ingest.read")
    own = con is None
    con = warehouse.connect(paths.warehouse) if con is None else con
    try:
        checked = _checked([(delivery, received_at)], drop_invalid_rows, limits)
        (report,) = _record_safely(con, checked)
        return report
    finally:
        if own:
            con.close()


def _opened_safely(source: Path, limits: Limits) -> Delivery:
    """`open_delivery`, or a delivery rejected as `internal_error` when this program fails on
    it (an OSError, e.g. permissions, is the caller's to report)."""
    try:
        return open_delivery(source, limits)
    except OSError:
        raise
    except Exception as exc:
        _log_failure("read", exc)
        return failed_delivery(source)


def _parsed_safely(deliveries: list[Delivery]) -> list[Delivery]:
    """The deliveries with their CSV rows parsed; when parsing the group fails in this
    program, each is parsed alone and a failing one is rejected as `internal_error`."""
    try:
        parse_csv(deliveries)
        return deliveries
    except Exception as exc:
        if len(deliveries) == 1:
            _log_failure("parse", exc)
            return [_failed(deliveries[0])]
    return [_parsed_safely([delivery])[0] for delivery in deliveries]


def _failed(delivery: Delivery) -> Delivery:
    failed = failed_delivery(delivery.source)
    failed.name = delivery.name
    failed.issues[0] = replace(failed.issues[0], file=delivery.name)
    return failed


def _log_failure(stage: str, exc: BaseException) -> None:
    """The failure's type and the place in this program it came from; never its message."""
    log.error("delivery failed while %s: %s at %s", stage, type(exc).__name__, failure_place(exc))


def ingest_many(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[Path],
    *,
    drop_invalid_rows: bool = False,
    limits: Limits = DEFAULTS,
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
        batches = _parsed(_batches(_read_ahead(sources, limits)))
        checked = (_checked(batch, drop_invalid_rows, limits) for batch in batches)
        for batch in _one_ahead(checked):
            yield from _record_safely(con, batch)
        con.execute("checkpoint")
    finally:
        con.execute("reset checkpoint_threshold")


def _batches(deliveries: Iterator[Delivery]) -> Iterator[list[tuple[Delivery, datetime]]]:
    """Deliveries with their reception times, grouped until BATCH_ROWS, BATCH_BYTES or
    BATCH_DELIVERIES."""
    batch: list[tuple[Delivery, datetime]] = []
    rows = size = 0
    for delivery in deliveries:
        received_at = _now()
        checkpoint("ingest.read")
        batch.append((delivery, received_at))
        rows += delivery.rows
        size += delivery.size
        if rows >= BATCH_ROWS or size >= BATCH_BYTES or len(batch) >= BATCH_DELIVERIES:
            yield batch
            batch, rows, size = [], 0, 0
    if batch:
        yield batch


def _parsed(
    batches: Iterator[list[tuple[Delivery, datetime]]],
) -> Generator[list[tuple[Delivery, datetime]], None, None]:
    """Each batch with its deliveries' CSV rows parsed."""
    for batch in batches:
        parsed = _parsed_safely([delivery for delivery, _ in batch])
        yield [(delivery, at) for delivery, (_, at) in zip(parsed, batch, strict=True)]


def _read_ahead(sources: Sequence[Path], limits: Limits) -> Iterator[Delivery]:
    """The deliveries opened (their CSV rows are parsed with their batch), in order, with up
    to READ_AHEAD of them (holding up to READ_AHEAD_BYTES) opened in the background."""
    with ThreadPoolExecutor(READ_THREADS, thread_name_prefix="hgkm-read") as pool:
        pending: deque[tuple[Path, Future[Delivery]]] = deque()

        def held() -> int:
            return sum(f.result().size for _, f in pending if f.done() and not f.exception())

        def first() -> Delivery:
            source, future = pending.popleft()
            try:
                return future.result()
            except OSError:
                raise
            except Exception as exc:
                _log_failure("read", exc)
                return failed_delivery(source)

        try:
            for source in sources:
                pending.append((source, pool.submit(open_delivery, source, limits)))
                while pending and (len(pending) >= READ_AHEAD or held() >= READ_AHEAD_BYTES):
                    yield first()
            while pending:
                yield first()
        finally:
            for _, future in pending:
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
        return cls(
            accepted=bookkeeping.accepted_content(con),
            current={
                m: _Current(d, r, i, n) for m, d, r, i, n in bookkeeping.current_deliveries(con)
            },
        )


_Checked = list[tuple[DeliveryReport, dict[str, pl.DataFrame], CheckResult]]


def _checked(
    batch: list[tuple[Delivery, datetime]], drop_invalid_rows: bool, limits: Limits
) -> _Checked:
    """Each delivery's report as its checks decide it, the tables it would load, its checks.

    When the checks fail in this program, each delivery is checked alone, and one that still
    fails is rejected as `internal_error`: one delivery's failure is no other's.
    """
    deliveries = [d for d, _ in batch]
    try:
        results = check_deliveries(deliveries, [at.date() for _, at in batch], limits)
    except Exception as exc:
        if len(batch) > 1:
            return [item for one in batch for item in _checked([one], drop_invalid_rows, limits)]
        _log_failure("check", exc)
        results = [failed_result(deliveries[0].name)]
    return [
        (*_report(delivery, result, received_at, drop_invalid_rows), result)
        for (delivery, received_at), result in zip(batch, results, strict=True)
    ]


def _record_safely(con: duckdb.DuckDBPyConnection, checked: _Checked) -> list[DeliveryReport]:
    """`_record_batch`; when recording fails in this program (not in DuckDB's file), each
    delivery is recorded alone, and one that still fails is recorded as rejected
    (`internal_error`) without its tables."""
    try:
        return _record_batch(con, checked)
    except (duckdb.IOException, duckdb.OutOfMemoryException):
        raise  # the warehouse cannot be written: no delivery can be
    except Exception as exc:
        if len(checked) == 1:
            _log_failure("record", exc)
            report, _, _ = checked[0]
            result = failed_result(report.name)
            failed = DeliveryReport(
                source=report.source,
                status="rejected",
                shape=report.shape,
                content_hash=report.content_hash,
                received_at=report.received_at,
                errors=result.shown_issues(),
                error_total=result.error_total,
                error_counts=result.error_counts(),
                name=report.name,
            )
            return _record_batch(con, [(failed, {}, result)])
    return [report for item in checked for report in _record_safely(con, [item])]


def _record_batch(con: duckdb.DuckDBPyConnection, checked: _Checked) -> list[DeliveryReport]:
    """Judge each checked delivery in order against the warehouse and record the batch in one
    transaction; the reports, once committed. The reports are copies: a batch that fails
    leaves the ones it was given as they were, to be recorded again."""
    if not checked:
        return []
    checked = [(replace(r, warnings=list(r.warnings)), t, c) for r, t, c in checked]
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
        error_total=result.error_total,
        error_counts=result.error_counts(),
        name=delivery.name,
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
                report.name,
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
        # One chunk: DuckDB takes it in faster than the deliveries' slices (findings.md).
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


# How long a check waits for a run of the job to let go of the warehouse before it reports
# without comparing (the comparison then comes with the job's own report).
PREVIEW_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class Preview:
    """What `ingest` would report for a delivery, recording nothing, and what it was compared
    with: the municipality's current delivery (None: it has none), when the comparison could
    be made (`compared`)."""

    report: DeliveryReport
    compared: bool
    current_extract_date: date | None = None
    current_cases: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            **self.report.to_dict(),
            "dry_run": True,
            "compared": self.compared,
            "current_delivery": None
            if self.current_extract_date is None
            else {
                "extract_date": self.current_extract_date.isoformat(),
                "cases": self.current_cases,
            },
            "text": self.render_text(),
        }

    def render_text(self) -> str:
        lines = [self.report.render_text()]
        code = self.report.municipality_code
        if not self.compared:
            lines.append(
                "  not compared with the current delivery: the warehouse is busy (a run of the "
                "job); the job's own report will say"
            )
        elif code and self.report.status == "accepted":
            if self.current_extract_date is None:
                lines.append(f"  {code} has no accepted delivery yet: this would be its first")
            else:
                cases = self.report.counts.get("cases")
                after = "would become current" if self.report.current else "would not be current"
                lines.append(
                    f"  current delivery of {code}: extract {self.current_extract_date}, "
                    f"{self.current_cases} cases; this one: {cases} cases, {after}"
                )
        lines.append("  (check only: nothing was loaded)")
        return "\n".join(lines)


def preview(
    paths: Paths, source: Path, *, received_at: datetime | None = None, limits: Limits = DEFAULTS
) -> Preview:
    """Read and check `source` exactly as `ingest` does and judge it against the warehouse's
    deliveries (already loaded? superseding the current one? fewer cases?), recording nothing.

    The warehouse is read only for that judgement, under the job's lock (hgkm.lock), so the
    check never keeps a run from writing; when a run holds it, the report says it was not
    compared.
    """
    received_at = received_at or _now()
    (delivery,) = _parsed_safely([_opened_safely(source, limits)])
    ((report, tables, _),) = _checked([(delivery, received_at)], False, limits)
    ledger = _ledger_of(paths)
    if ledger is None:
        return Preview(report, compared=False)
    current = ledger.current.get(report.municipality_code or "")
    # The id a recorded delivery would get only orders deliveries received at the same second.
    _judge(report, tables, ledger, iter([2**31 - 1]))
    if report.status != "already_loaded":
        report.delivery_id = None
    if current is None:
        return Preview(report, compared=True)
    return Preview(report, True, current.extract_date, current.cases)


def _ledger_of(paths: Paths) -> _Ledger | None:
    """The warehouse's ledger, read under the job's lock; None while it is busy."""
    try:
        with warehouse.read_briefly(paths, PREVIEW_WAIT_SECONDS) as con:
            if con is None:
                return _Ledger({}, {})
            try:
                return _Ledger.read(con)
            except duckdb.CatalogException:
                return _Ledger({}, {})  # a warehouse that never recorded a delivery
    except warehouse.Busy:
        return None
