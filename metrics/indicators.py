"""The indicator table: run each query, count, pool into areas, add statistics, suppress."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from hgkm import reference
from metrics import disclosure, stats, survival
from metrics.catalogue import INDICATORS, Indicator

NATIONAL = "NL"
AREA_KEYS = ("area_type", "area_code")
CELL_KEYS = ("period", "period_type", "year", "breakdown")

FIGURE_COLUMNS = (
    "indicator_id",
    *AREA_KEYS,
    *CELL_KEYS,
    "numerator",
    "denominator",
    "value",
    "ci_low",
    "ci_high",
    "median_reached",
    "unit",
)


def delivered_municipalities(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Municipalities of the reference list with a current delivery."""
    codes = con.sql("select distinct municipality_code from current_deliveries order by 1").pl()[
        "municipality_code"
    ]
    return sorted(set(codes.to_list()) & reference.municipality_codes())


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


def breakdown_codes(fine: pl.DataFrame, indicator: Indicator) -> pl.DataFrame:
    """`family, category, breakdown_code, breakdown`: a small integer for every category of
    every breakdown family in the fine counts, from 1 on (0 is `all`), with its published
    label (`violence_type=partner`). The counting then groups and sorts on integers only."""
    schema = {"family": pl.String, "category": pl.String}
    found = pl.concat(
        [pl.DataFrame(schema=schema)]
        + [
            fine.select(pl.lit(family).alias("family"), pl.col(family).alias("category"))
            .drop_nulls()
            .unique()
            for family in indicator.breakdowns
        ]
    )
    return (
        found.sort("family", "category")
        .with_row_index("breakdown_code", offset=1)
        .with_columns(
            pl.col("breakdown_code").cast(pl.Int64),
            breakdown=pl.format("{}={}", "family", "category"),
        )
    )


def _coded(fine: pl.DataFrame, codes: pl.DataFrame, indicator: Indicator) -> pl.DataFrame:
    """`fine` with each breakdown family's categories replaced by their codes (`code_<family>`;
    empty where the category is)."""
    return fine.with_columns(
        pl.col(family)
        .replace_strict(
            (chosen := codes.filter(pl.col("family") == family))["category"],
            chosen["breakdown_code"],
            default=None,
            return_dtype=pl.Int64,
        )
        .alias(f"code_{family}")
        for family in indicator.breakdowns
    ).drop(indicator.breakdowns)


def _measures(indicator: Indicator) -> list[str]:
    return ["numerator", "denominator"] if indicator.is_proportion else ["events", "censored"]


def fine_counts_sql(indicator: Indicator, day_counts: str) -> str:
    """The indicator's day counts (`day_counts`, from `stage_day_counts`) summed per
    municipality × cohort quarter × breakdown category (× time for a time-to-event
    indicator): the finest grain that is published, from which every cell is a sum.

    Columns: municipality_code, year, quarter, the breakdown families (as text), then time
    (time-to-event), then numerator, denominator or events, censored.
    """
    keys = [
        "municipality_code",
        "year(report_date)::bigint as year",
        "quarter(report_date)::bigint as quarter",
        *(f"{family}::varchar as {family}" for family in indicator.breakdowns),
        *([] if indicator.is_proportion else ["time::bigint as time"]),
    ]
    return f"""
with final as (
    select
        {", ".join(keys)},
        {", ".join(f"sum({m})::bigint as {m}" for m in _measures(indicator))}
    from {day_counts}
    group by all
)

select * from final
"""


@dataclass(frozen=True)
class _Radix:
    """How a cell (area, year, quarter 0-4, breakdown code) packs into one integer, and a
    (cell, time) into another: grouping and sorting millions of rows on one integer column
    is several times faster than on five, in polars and DuckDB alike."""

    first_year: int
    years: int
    codes: int  # breakdown codes, 0 (`all`) included
    times: int  # 1 for a proportion

    def cell(self, quarterly: bool, family_code: str | None) -> pl.Expr:
        year = pl.col("area_id") * self.years + (pl.col("year") - self.first_year)
        quarter = year * 5 + (pl.col("quarter") if quarterly else 0)
        return quarter * self.codes + (pl.col(family_code).fill_null(0) if family_code else 0)

    def keys(self, cell: pl.Expr) -> list[pl.Expr]:
        """area_id, period_id (see `periods`) and breakdown_code from a packed cell."""
        return [
            (cell // (self.codes * 5 * self.years)).alias("area_id"),
            ((cell // self.codes) % (5 * self.years)).alias("period_id"),
            (cell % self.codes).alias("breakdown_code"),
        ]

    def periods(self) -> pl.DataFrame:
        """`period_id, period, period_type, year` of every year and quarter in range."""
        ids = pl.int_range(0, 5 * self.years, eager=True, dtype=pl.Int64).alias("period_id")
        year, quarter = ids // 5 + self.first_year, ids % 5
        return pl.DataFrame(
            {
                "period_id": ids,
                "period": [
                    f"{y}-Q{q}" if q else str(y)
                    for y, q in zip(year.to_list(), quarter.to_list(), strict=True)
                ],
                "period_type": ["quarter" if q else "year" for q in quarter.to_list()],
                "year": year.cast(pl.Int32),
            }
        )


def _into_cells(
    fine: pl.DataFrame, members: pl.DataFrame, indicator: Indicator, n_codes: int
) -> tuple[pl.DataFrame, _Radix]:
    """The fine counts summed into every published area × period × breakdown cell: each fine
    row goes to every area of its municipality (`members`: area_id, municipality_code,
    has_quarters, has_categories), to its cohort year with breakdown `all`, and where the
    area has them (`disclosure.has_quarters`, `has_categories`) to its quarter (breakdown
    `all`) and to its category (cohort year). No case is repeated within a cell, and a cell
    with no one in the population has no row: there is no figure.

    Returns `cell` (packed, see `_Radix`), time for a time-to-event indicator, and the summed
    measures, sorted by cell and time.
    """
    measures = _measures(indicator)
    codes = [f"code_{family}" for family in indicator.breakdowns]
    by_time = not indicator.is_proportion
    first_year, last_year, last_time = fine.select(
        pl.col("year").min().fill_null(0).alias("first_year"),
        pl.col("year").max().fill_null(0).alias("last_year"),
        (pl.col("time").max().fill_null(0) if by_time else pl.lit(0)).alias("last_time"),
    ).row(0)
    last_area = members.select(pl.col("area_id").max().fill_null(0)).item()
    radix = _Radix(
        first_year=int(first_year),
        years=int(last_year) - int(first_year) + 1,
        codes=n_codes + 1,
        times=int(last_time) + 1,
    )
    if (int(last_area) + 1) * radix.years * 5 * radix.codes * radix.times >= 2**62:
        raise ValueError("too many areas, years, categories or times to pack into one integer")
    # quarters and breakdown categories only for the areas that publish them (`disclosure`)
    joined = {
        areas: fine.lazy().join(
            members.lazy().filter(pl.col(areas)) if areas else members.lazy(),
            on="municipality_code",
        )
        for areas in (None, "has_quarters", "has_categories")
    }
    if not indicator.municipal_quarters:
        joined["has_quarters"] = fine.lazy().join(
            members.lazy().filter(pl.col("has_quarters") & ~pl.col("municipal")),
            on="municipality_code",
        )
    # (cell, time) as one integer too: a group-by on one column avoids row encoding
    time = pl.col("time") if by_time else pl.lit(0)
    spread = pl.concat(
        joined[areas].select(
            (radix.cell(quarterly, family) * radix.times + time).alias("key"),
            *measures,
        )
        for quarterly, family, areas in [
            (False, None, None),
            (True, None, "has_quarters"),
            *((False, code, "has_categories") for code in codes),
        ]
    )
    summed = (
        spread.group_by("key")
        .agg(pl.col(m).sum() for m in measures)
        .sort("key")
        .select(
            (pl.col("key") // radix.times).alias("cell"),
            *([(pl.col("key") % radix.times).alias("time")] if by_time else []),
            *measures,
        )
        .collect()
    )
    return summed, radix


@dataclass(frozen=True)
class _Counted:
    """`_into_cells`'s result with what turns its integers back into keys."""

    counts: pl.DataFrame
    radix: _Radix
    areas: pl.DataFrame  # area_id, area_type, area_code
    codes: pl.DataFrame  # breakdown_code, breakdown (`breakdown_codes`)


def fine_counts(con: duckdb.DuckDBPyConnection, indicator: Indicator) -> pl.DataFrame:
    """Stage the indicator's day counts on `con` and sum them at the fine grain
    (`fine_counts_sql`): everything of the indicator that runs in DuckDB. The staged counts
    stay on `con` (`day_counts_table`) for the by-approach comparisons."""
    return con.sql(fine_counts_sql(indicator, stage_day_counts(con, indicator))).pl()


def _counted(fine: pl.DataFrame, indicator: Indicator, memberships: pl.DataFrame) -> _Counted:
    """The fine counts (`fine_counts`) counted into the cells."""
    areas, members = _area_ids(memberships)
    codes = breakdown_codes(fine, indicator)
    counts, radix = _into_cells(_coded(fine, codes, indicator), members, indicator, codes.height)
    return _Counted(counts, radix, areas, codes.select("breakdown_code", "breakdown"))


def _area_ids(memberships: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An integer per area (`area_id, area_type, area_code`) and the memberships by that id:
    the counting joins and groups on one small integer instead of two strings."""
    areas = (
        memberships.select(AREA_KEYS)
        .unique(maintain_order=True)
        .with_row_index("area_id")
        .with_columns(pl.col("area_id").cast(pl.Int64))
    )
    members = memberships.join(areas, on=list(AREA_KEYS)).select(
        "area_id",
        "municipality_code",
        municipal=pl.col("area_type") == "municipality",
        has_quarters=disclosure.has_quarters(pl.col("area_type"), pl.col("area_code")),
        has_categories=disclosure.has_categories(pl.col("area_type"), pl.col("area_code")),
    )
    return areas, members


def _labelled(cells: pl.DataFrame, counted: _Counted) -> pl.DataFrame:
    """Replace the packed `cell` by the published keys: area_type, area_code, period,
    period_type, year, breakdown (other columns follow), joined from small lookup tables."""
    all_ = pl.DataFrame(
        {"breakdown_code": [0], "breakdown": ["all"]},
        schema={"breakdown_code": pl.Int64, "breakdown": pl.String},
    )
    return (
        cells.with_columns(counted.radix.keys(pl.col("cell")))
        .join(counted.areas, on="area_id", how="left")
        .join(counted.radix.periods(), on="period_id", how="left")
        .join(pl.concat([all_, counted.codes]), on="breakdown_code", how="left")
        .select(*AREA_KEYS, *CELL_KEYS, *cells.columns)
    )


def cell_counts(
    fine: pl.DataFrame, indicator: Indicator, memberships: pl.DataFrame
) -> pl.DataFrame:
    """Numerator and denominator of a proportion indicator in every area × period × breakdown
    cell with anyone in its population, from its fine counts (`fine_counts`, `_into_cells`).

    Columns: area_type, area_code, period, period_type, year, breakdown, numerator,
    denominator. Areas pool cases, never average rates; municipalities outside the reference
    list reach no area.
    """
    counted = _counted(fine, indicator, memberships)
    return _labelled(counted.counts, counted).drop("cell")


@dataclass(frozen=True)
class SurvivalCells:
    """A time-to-event indicator counted into cells and estimated once: `keys` (cell,
    area_type, area_code, period, period_type, year, breakdown), `medians` (cell, n, events,
    median, ci_low, ci_high: `survival.km_medians`) and `curves` (the whole Kaplan–Meier
    steps, `survival.km_steps_by_group`, of the cohort-year cells of breakdown `all`: the
    ones the mart draws)."""

    keys: pl.DataFrame
    medians: pl.DataFrame
    curves: pl.DataFrame


def survival_cells(
    fine: pl.DataFrame, indicator: Indicator, memberships: pl.DataFrame
) -> SurvivalCells:
    """Events and censorings per time in every area × period × breakdown cell, from the
    indicator's fine counts (`fine_counts`, `_into_cells`), estimated once.

    Millions of (cell, time) rows at national scale: the integer `cell` carries the keys, so
    the Kaplan–Meier windows group on one integer.
    """
    counted = _counted(fine, indicator, memberships)
    counts = counted.counts
    # sorted by cell: a cell starts where the cell number changes
    cells = counts.filter(pl.col("cell") != pl.col("cell").shift(fill_value=-1)).select("cell")
    keys = _labelled(cells, counted)
    steps = survival.km_steps_by_group(counts, ["cell"], events="events", censored="censored")
    drawn = keys.filter((pl.col("period_type") == "year") & (pl.col("breakdown") == "all"))
    return SurvivalCells(
        keys=keys,
        medians=survival.km_medians(steps, ["cell"]),
        curves=steps.join(drawn.select("cell"), on="cell", how="semi"),
    )


def area_memberships(delivered: Iterable[str]) -> pl.DataFrame:
    """`area_type, area_code, municipality_code`: every municipality as its own area, every region
    of every type in the reference list, and the country (the delivering municipalities)."""
    muni = reference.municipalities().select("municipality_code")
    regions = reference.memberships().select(
        area_type=pl.lit("region"),
        area_code=pl.format("{}:{}", "region_type", "region_code"),
        municipality_code="municipality_code",
    )
    national = pl.DataFrame(
        {"municipality_code": sorted(set(delivered) & reference.municipality_codes())},
        schema={"municipality_code": pl.String},
    ).select(
        area_type=pl.lit("national"),
        area_code=pl.lit(NATIONAL),
        municipality_code="municipality_code",
    )
    own = muni.select(
        area_type=pl.lit("municipality"),
        area_code="municipality_code",
        municipality_code="municipality_code",
    )
    return pl.concat([own, regions, national])


def coverage(delivered: Iterable[str]) -> pl.DataFrame:
    """`area_type, area_code, coverage_delivered, coverage_total` for every area.

    The country's total is every municipality in the reference list, not only those that
    delivered (its members in `area_memberships`).
    """
    delivered = set(delivered)
    members = area_memberships(delivered).filter(pl.col("area_type") != "national")
    per_area = members.group_by(AREA_KEYS).agg(
        coverage_delivered=pl.col("municipality_code").is_in(list(delivered)).sum().cast(pl.Int32),
        coverage_total=pl.len().cast(pl.Int32),
    )
    national = pl.DataFrame(
        {
            "area_type": ["national"],
            "area_code": [NATIONAL],
            "coverage_delivered": [len(delivered & reference.municipality_codes())],
            "coverage_total": [len(reference.municipality_codes())],
        },
        schema=per_area.schema,
    )
    return pl.concat([per_area, national]).sort(AREA_KEYS)


def proportion_figures(counts: pl.DataFrame) -> pl.DataFrame:
    """Counts with their proportion and 95% Wilson interval."""
    low, high = stats.wilson(counts["numerator"].to_numpy(), counts["denominator"].to_numpy())
    return counts.with_columns(
        value=pl.col("numerator") / pl.col("denominator"),
        ci_low=pl.Series(low),
        ci_high=pl.Series(high),
        median_reached=pl.lit(None, dtype=pl.Boolean),
        unit=pl.lit("proportion"),
    )


def median_figures(cells: SurvivalCells, indicator_id: str) -> pl.DataFrame:
    """Kaplan–Meier median with its Brookmeyer–Crowley interval per area × period × breakdown,
    from the cells' counts of events and censorings per time.

    numerator = events, denominator = cases, as INDICATORS.md asks.
    """
    return cells.keys.join(cells.medians, on="cell").select(
        pl.lit(indicator_id).alias("indicator_id"),
        *AREA_KEYS,
        *CELL_KEYS,
        numerator=pl.col("events").cast(pl.Int64),
        denominator=pl.col("n").cast(pl.Int64),
        value=pl.col("median"),
        ci_low=pl.col("ci_low"),
        ci_high=pl.col("ci_high"),
        median_reached=pl.col("median").is_not_null(),
        unit=pl.lit("days"),
    )


def region_memberships(delivered: Iterable[str]) -> pl.DataFrame:
    """`area_code, municipality_code` of every region and the country, for secondary suppression."""
    return (
        area_memberships(delivered)
        .filter(pl.col("area_type") != "municipality")
        .select("area_code", "municipality_code")
    )


COMPARISONS = ("better", "similar", "worse", "not_compared")


def compare_with_benchmarks(table: pl.DataFrame) -> pl.DataFrame:
    """Add comparison_region (municipality vs its Veilig Thuis region) and comparison_national
    (municipality or region vs the country), against the benchmark's published value.

    A suppressed benchmark, a median not reached on either side, or a median interval without
    a lower limit gives `not_compared`; an interval without an upper limit (the band never
    reaches 0.5) is open-ended upwards.
    """
    vt = reference.municipalities().select(
        area_code="municipality_code",
        vt_code=pl.format(
            "{}:{}", pl.lit(reference.DEFAULT_REGION_TYPE), "veilig_thuis_region_code"
        ),
    )
    published = table.filter(~pl.col("suppressed") & pl.col("value").is_not_null()).select(
        "indicator_id", "area_code", "period", "breakdown", "value"
    )
    keys = ["indicator_id", "period", "breakdown"]
    region_bench = published.rename({"area_code": "vt_code", "value": "bench_region"})
    national_bench = published.filter(pl.col("area_code") == NATIONAL).select(
        *keys, bench_national="value"
    )
    # Without a lower limit (suppressed, or a median interval that never starts) a row is
    # not compared whatever its benchmarks: only the others need them joined.
    comparable = pl.col("ci_low").is_not_null()
    joined = (
        table.filter(comparable)
        .join(vt, on="area_code", how="left")
        .with_columns(
            vt_code=pl.when(pl.col("area_type") == "municipality").then(pl.col("vt_code"))
        )
        .join(region_bench, on=[*keys, "vt_code"], how="left")
        .join(national_bench, on=keys, how="left")
        .with_columns(
            bench_national=pl.when(pl.col("area_type") != "national").then(
                pl.col("bench_national")
            ),
            ci_high_open=pl.when((pl.col("unit") == "days") & pl.col("ci_low").is_not_null())
            .then(pl.col("ci_high").fill_null(float("inf")))
            .otherwise(pl.col("ci_high")),
        )
    )
    low = joined["ci_low"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    high = joined["ci_high_open"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    lower_is_better = joined.select(
        pl.col("indicator_id").is_in(
            [ind.id for ind in INDICATORS if ind.polarity == "lower_is_better"]
        )
    ).to_series()
    results: dict[str, pl.Series] = {}
    for column, bench in (
        ("comparison_region", "bench_region"),
        ("comparison_national", "bench_national"),
    ):
        values = joined[bench].cast(pl.Float64).fill_null(np.nan).to_numpy()
        words = np.where(
            lower_is_better.to_numpy(),
            stats.compare(values, low, high, "lower_is_better"),
            stats.compare(values, low, high, "higher_is_better"),
        )
        # Hundreds of thousands of numpy strings convert to polars slowly: pass a small
        # integer per row and gather the words.
        code = np.select([words == word for word in COMPARISONS], range(len(COMPARISONS)), -1)
        if (code < 0).any():
            raise ValueError("stats.compare gave a word outside COMPARISONS")
        results[column] = pl.Series(column, COMPARISONS).gather(code)
    compared = joined.drop("vt_code", "bench_region", "bench_national", "ci_high_open")
    not_compared = pl.lit("not_compared", dtype=pl.String)
    return pl.concat(
        [
            compared.with_columns(results["comparison_region"], results["comparison_national"]),
            table.filter(~comparable).with_columns(
                comparison_region=not_compared, comparison_national=not_compared
            ),
        ]
    )


@dataclass(frozen=True)
class Figures:
    """The published indicator table, with the time-to-event counts (per area × period ×
    breakdown × time, see `cell_counts`) the curves are drawn from."""

    table: pl.DataFrame
    survival: dict[str, SurvivalCells]
    delivered: list[str]
    # proportion indicator id -> its staged day counts on the compute's connection
    day_counts: dict[str, str]


def indicator_figures(con: duckdb.DuckDBPyConnection) -> Figures:
    """Every indicator × area × period × breakdown with figures, disclosure control applied,
    comparisons and coverage: `indicator_values` before naming and ordering.

    The indicators' case-level SQL runs on a thread of its own, one indicator after another,
    while this thread counts the indicators already summed and two more protect the ones
    counted: DuckDB's joins, the counting and the suppression (whose linear programmes and
    array work release the interpreter) then share the cores. Each indicator is protected
    alone, which is the same as protecting the table (`disclosure`).
    """
    delivered = delivered_municipalities(con)
    memberships = area_memberships(delivered)
    regions = region_memberships(delivered)
    time_to_event: dict[str, SurvivalCells] = {}
    protecting: list[Future[pl.DataFrame]] = []
    with (
        _sql_thread(con) as sql,
        ThreadPoolExecutor(max_workers=2, thread_name_prefix="hgkm-protect") as protect,
    ):
        summed = [sql.submit(fine_counts, con, ind) for ind in INDICATORS]
        for ind, fine in zip(INDICATORS, summed, strict=True):
            for job in protecting:
                if job.done() and job.exception() is not None:
                    job.result()  # a failed protection stops the compute at once
            if ind.is_proportion:
                counts = cell_counts(fine.result(), ind, memberships)
                figures = proportion_figures(
                    counts.select(pl.lit(ind.id).alias("indicator_id"), pl.all())
                )
            else:
                cells = time_to_event[ind.id] = survival_cells(fine.result(), ind, memberships)
                figures = median_figures(cells, ind.id)
            protecting.append(
                protect.submit(
                    disclosure.protect,
                    disclosure.primary(figures.select(FIGURE_COLUMNS)),
                    memberships=regions,
                )
            )
        protected = [job.result() for job in protecting]
    table = compare_with_benchmarks(pl.concat(protected)).join(
        coverage(delivered), on=list(AREA_KEYS), how="left"
    )
    return Figures(
        table=table,
        survival=time_to_event,
        delivered=delivered,
        day_counts={ind.id: day_counts_table(ind) for ind in INDICATORS if ind.is_proportion},
    )


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
