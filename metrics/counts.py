"""Municipal counts: the unsuppressed counts per municipality that `hgkm compute` publishes from.

The seam between case data and the mart. Below it, a source: the case-level warehouse
(`WarehouseCounts`, the indicators' SQL) or, at a hub, the regions' aggregate packages
(`metrics.package`). Above it, the same code for every source: pooling into areas,
statistics, disclosure control, the mart. So a hub's mart from the regions' packages is, by
construction, the mart of one warehouse holding all their deliveries.

What a source gives, per municipality (never a case, an identifier or a case's date):
- per indicator, the counts every published cell is a sum of
  (`metrics.indicators.CELL_SOURCES`): per cohort quarter (breakdown `all`) and per cohort
  year × breakdown category (quarter 0), numerator and denominator, or for a time-to-event
  indicator events and censorings per day since the report. A municipality's categories are
  counted although a municipality does not publish them: its Veilig Thuis region and the
  country do, summed over their members;
- per proportion indicator, the approach comparison's pieces (`metrics.approach`);
- the approach profiles, the delivery log (which deliveries, their extract dates) and what
  the checks found in each delivery.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import duckdb
import polars as pl

from hgkm import reference
from metrics import approach
from metrics.catalogue import INDICATORS, Indicator
from metrics.indicators import count_grains, count_measures
from pipelines import bookkeeping

# The columns of an indicator's municipal counts, before its measures (`measures`).
COUNT_KEYS = ("municipality_code", "year", "quarter", "breakdown")


def count_columns(indicator: Indicator) -> list[str]:
    """An indicator's municipal counts' columns, in order."""
    by_time = [] if indicator.is_proportion else ["time"]
    return [*COUNT_KEYS, *by_time, *count_measures(indicator)]


class CountSource(Protocol):
    """Where compute's municipal counts come from (see the module docstring)."""

    def delivered(self) -> list[str]:
        """Municipalities of the reference list with a current delivery, sorted."""
        ...

    def counting(self) -> contextlib.AbstractContextManager[Iterator[pl.DataFrame]]:
        """Each indicator's municipal counts (`count_columns`), in catalogue order."""
        ...

    def approach_pieces(self, indicator: Indicator) -> pl.DataFrame:
        """A proportion indicator's approach pieces (`metrics.approach.PIECE_COLUMNS`)."""
        ...

    def profiles(self) -> pl.DataFrame:
        """The current approach periods, notes included (`pipelines.contract.APPROACH_SCHEMA`)."""
        ...

    def delivery_log(self) -> pl.DataFrame:
        """One row per delivery (`DELIVERY_LOG_SCHEMA`)."""
        ...

    def delivery_issues(self) -> pl.DataFrame:
        """Every finding recorded with a delivery (`DELIVERY_ISSUES_SCHEMA`)."""
        ...


def day_counts_table(indicator: Indicator) -> str:
    """The temporary table `stage_day_counts` fills for one indicator."""
    return f"day_counts_{indicator.id}"


def stage_day_counts(con: duckdb.DuckDBPyConnection, indicator: Indicator) -> str:
    """Run the indicator's case-level query once and keep its population in a temporary table
    on `con`, replacing an older one; returns its name.

    Columns: municipality_code, report_date, the breakdown families, then numerator and
    denominator (a proportion: 0/1 and 1 per unit) or time, events and censored (0/1 per
    case): rows of counts, which the cells and the by-approach comparisons sum, so the
    case-level joins run once per compute. One row per unit, not grouped by day: so few
    units share a municipality, day and category that grouping cost more than it saved.
    No identifier is kept.
    """
    if indicator.is_proportion:
        keys = ["municipality_code", "report_date", *indicator.breakdowns]
        counts = "in_numerator::bigint as numerator, 1::bigint as denominator"
    else:
        keys = ["municipality_code", "report_date", *indicator.breakdowns, "time"]
        counts = "event::bigint as events, (not event)::bigint as censored"
    table = day_counts_table(indicator)
    con.execute(
        f"""
        create or replace temp table {table} as
        select {", ".join(keys)}, {counts}
        from ({indicator.sql})
        where in_population
        """
    )
    return table


def municipal_counts_sql(indicator: Indicator, day_counts: str) -> str:
    """The indicator's day counts (`day_counts`, from `stage_day_counts`) summed per
    municipality into each grain of `metrics.indicators.count_grains` (× time for a
    time-to-event indicator), in one pass.

    Columns: `count_columns(indicator)`; quarter 0 is the whole cohort year, breakdown `all`
    or `<family>=<category>`.
    """
    families = indicator.breakdowns
    by_time = [] if indicator.is_proportion else ["time"]
    sets = [
        [
            "municipality_code",
            "year",
            *(["quarter"] if quarterly else []),
            *(families if by_category else []),
            *by_time,
        ]
        for quarterly, by_category in count_grains(indicator)
    ]
    breakdown = (
        "case "
        + " ".join(f"when grouping({f}) = 0 then '{f}=' || {f}" for f in families)
        + " else 'all' end"
        if families
        else "'all'"
    )
    return f"""
with days as (
    select
        municipality_code,
        year(report_date)::integer as year,
        quarter(report_date)::tinyint as quarter,
        {"".join(f"{f}::varchar as {f}, " for f in families)}
        {"time::integer as time," if by_time else ""}
        {", ".join(count_measures(indicator))}
    from {day_counts}
),

final as (
    select
        municipality_code,
        year,
        coalesce(quarter, 0)::tinyint as quarter,
        {breakdown} as breakdown,
        {"time," if by_time else ""}
        {", ".join(f"sum({m})::bigint as {m}" for m in count_measures(indicator))}
    from days
    group by grouping sets ({", ".join(f"({', '.join(keys)})" for keys in sets)})
)

select * from final
"""


def municipal_counts(con: duckdb.DuckDBPyConnection, indicator: Indicator) -> pl.DataFrame:
    """Stage the indicator's day counts on `con` and sum them into municipal cells
    (`municipal_counts_sql`): everything of the indicator that runs in DuckDB. The staged
    counts stay on `con` (`day_counts_table`) for the by-approach comparisons."""
    return con.sql(municipal_counts_sql(indicator, stage_day_counts(con, indicator))).pl()


def delivered_municipalities(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Municipalities of the reference list with a current delivery."""
    codes = bookkeeping.delivered_municipalities(con)
    return sorted(set(codes) & reference.municipality_codes())


DELIVERY_LOG_SCHEMA: dict[str, pl.DataType] = {
    "municipality_code": pl.String(),
    "extract_date": pl.Date(),
    "received_at": pl.Datetime("us"),
    "status": pl.String(),
    "current": pl.Boolean(),
    "content_hash": pl.String(),
    "rows_loaded": pl.Int64(),
    "n_warnings": pl.Int32(),
    "n_errors": pl.Int32(),
    "summary": pl.String(),
}

DELIVERY_ISSUES_SCHEMA: dict[str, pl.DataType] = {
    "municipality_code": pl.String(),
    "received_at": pl.Datetime("us"),
    "content_hash": pl.String(),
    "kind": pl.String(),
    "file": pl.String(),
    "row_number": pl.Int64(),
    "column_name": pl.String(),
    "rule": pl.String(),
    "message": pl.String(),
    "count": pl.Int64(),
}


class WarehouseCounts:
    """Municipal counts from the case-level warehouse: `con` has its `current_*` views (as
    `metrics.publish.open_warehouse` makes them)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> None:
        self.con = con
        self.as_of = as_of
        self._profiles: pl.DataFrame | None = None
        self._log: pl.DataFrame | None = None

    def delivered(self) -> list[str]:
        return delivered_municipalities(self.con)

    @contextlib.contextmanager
    def counting(self) -> Iterator[Iterator[pl.DataFrame]]:
        """The indicators' SQL runs on a thread of its own, one indicator after another, while
        the caller counts and protects the indicators already summed: DuckDB's joins and the
        (mostly single-threaded) suppression then share the cores."""
        with _sql_thread(self.con) as sql:
            summed = [sql.submit(municipal_counts, self.con, ind) for ind in INDICATORS]
            yield (future.result() for future in summed)

    def approach_pieces(self, indicator: Indicator) -> pl.DataFrame:
        """From the day counts `counting` staged: call it first."""
        periods = self.profiles()
        if periods.is_empty() or not indicator.approach_elements:
            return pl.DataFrame(schema=approach.PIECE_SCHEMA)
        return approach.comparison_pieces(
            self.con,
            approach.days_sql(day_counts_table(indicator)),
            periods,
            indicator.approach_elements,
        )

    def profiles(self) -> pl.DataFrame:
        if self._profiles is None:
            self._profiles = approach.current_periods(self.con, self.as_of)
        return self._profiles

    def delivery_log(self) -> pl.DataFrame:
        if self._log is None:
            self._log = bookkeeping.mart_delivery_log(self.con).cast(pl.Schema(DELIVERY_LOG_SCHEMA))
        return self._log

    def delivery_issues(self) -> pl.DataFrame:
        return bookkeeping.delivery_findings(self.con).cast(pl.Schema(DELIVERY_ISSUES_SCHEMA))


@contextlib.contextmanager
def _sql_thread(con: duckdb.DuckDBPyConnection) -> Iterator[ThreadPoolExecutor]:
    """One worker for the queries on `con` (a connection serves one query at a time). When
    the caller fails or is interrupted, the running query is interrupted and the queued ones
    are dropped, so the error surfaces at once."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hgkm-sql")
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        con.interrupt()
        raise
    finally:
        pool.shutdown(wait=True)


@dataclass(frozen=True)
class Chosen:
    """A source and the municipalities it supplies (None: all it holds)."""

    source: CountSource
    municipalities: frozenset[str] | None = None


class CombinedCounts:
    """Several sources, each supplying the municipalities chosen from it (`choose`): their
    counts side by side, as one source holding them all would give them."""

    def __init__(self, parts: Sequence[Chosen]) -> None:
        self.parts = list(parts)

    def _take(self, frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
        taken = [
            frame
            if part.municipalities is None
            else frame.filter(pl.col("municipality_code").is_in(list(part.municipalities)))
            for part, frame in zip(self.parts, frames, strict=True)
        ]
        return taken[0] if len(taken) == 1 else pl.concat(taken, how="vertical_relaxed")

    def delivered(self) -> list[str]:
        return sorted(
            code
            for part in self.parts
            for code in part.source.delivered()
            if part.municipalities is None or code in part.municipalities
        )

    @contextlib.contextmanager
    def counting(self) -> Iterator[Iterator[pl.DataFrame]]:
        with contextlib.ExitStack() as stack:
            streams = [stack.enter_context(part.source.counting()) for part in self.parts]
            yield (self._take(frames) for frames in zip(*streams, strict=True))

    def approach_pieces(self, indicator: Indicator) -> pl.DataFrame:
        return self._take([part.source.approach_pieces(indicator) for part in self.parts])

    def profiles(self) -> pl.DataFrame:
        return self._take([part.source.profiles() for part in self.parts]).sort(
            "municipality_code", "element", "in_place_from"
        )

    def delivery_issues(self) -> pl.DataFrame:
        """Every source's findings: they belong to deliveries, and every delivery is logged."""
        return pl.concat([part.source.delivery_issues() for part in self.parts]).sort(
            "received_at",
            "municipality_code",
            "kind",
            "file",
            pl.col("row_number"),
            "rule",
            nulls_last=False,
            maintain_order=True,
        )

    def delivery_log(self) -> pl.DataFrame:
        """Every source's whole log: a municipality's deliveries everywhere, the current one
        only where it is taken from."""
        logs = [
            log
            if part.municipalities is None
            else log.with_columns(
                pl.col("current") & pl.col("municipality_code").is_in(list(part.municipalities))
            )
            for part, log in ((p, p.source.delivery_log()) for p in self.parts)
        ]
        return pl.concat(logs).sort("received_at", "municipality_code", maintain_order=True)


@dataclass(frozen=True)
class Overlap:
    """A municipality with a current delivery in two sources, and which one is used."""

    municipality_code: str
    used: int  # index of the source used
    other: int
    used_extract: date
    other_extract: date


def choose(sources: Sequence[CountSource]) -> tuple[CombinedCounts, list[Overlap]]:
    """Each municipality from one source: the one with its newest current delivery (by extract
    date); on a tie, or where none has one, the later in `sources`. All of a municipality's
    counts, pieces, profile and delivery log come from that one source.

    Returns the combined counts and, for every municipality that several sources delivered,
    each source not used.
    """
    extracts: list[dict[str, date]] = []
    mentioned: dict[str, int] = {}  # municipality -> the last source mentioning it
    for i, source in enumerate(sources):
        log = source.delivery_log()
        current = log.filter(
            pl.col("current") & pl.col("municipality_code").is_in(source.delivered())
        )
        extracts.append(dict(current.select("municipality_code", "extract_date").iter_rows()))
        for code in (
            set(log["municipality_code"].drop_nulls().to_list())
            | set(source.profiles()["municipality_code"].to_list())
            | set(extracts[i])
        ):
            mentioned[code] = i
    best = dict(mentioned)
    overlaps = []
    for code in sorted(mentioned):
        delivering = [i for i, found in enumerate(extracts) if code in found]
        if not delivering:
            continue
        best[code] = max(delivering, key=lambda i: (extracts[i][code], i))
        overlaps += [
            Overlap(code, best[code], i, extracts[best[code]][code], extracts[i][code])
            for i in delivering
            if i != best[code]
        ]
    if len(sources) == 1:
        return CombinedCounts([Chosen(sources[0])]), overlaps
    parts = [
        Chosen(source, frozenset(code for code, j in best.items() if j == i))
        for i, source in enumerate(sources)
    ]
    return CombinedCounts(parts), overlaps
