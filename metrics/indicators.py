"""The indicator table: run each query, count, pool into areas, add statistics, suppress."""

from __future__ import annotations

from collections.abc import Iterable
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


def unit_rows(con: duckdb.DuckDBPyConnection, indicator: Indicator) -> pl.DataFrame:
    """The indicator's case- or child-level rows from the `current_*` views on `con`."""
    return con.sql(indicator.sql).pl()


def delivered_municipalities(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Municipalities of the reference list with a current delivery."""
    codes = con.sql("select distinct municipality_code from current_deliveries order by 1").pl()[
        "municipality_code"
    ]
    return sorted(set(codes.to_list()) & reference.municipality_codes())


# The name under which the area memberships are visible to the counting queries.
_MEMBERS_VIEW = "area_members_for_counts"


def day_counts_table(indicator: Indicator) -> str:
    """The temporary table `stage_day_counts` fills for one indicator."""
    return f"day_counts_{indicator.id}"


def stage_day_counts(con: duckdb.DuckDBPyConnection, indicator: Indicator) -> str:
    """Run the indicator's case-level query once and keep its population counted per
    municipality × index report date × breakdown value (× time for a time-to-event
    indicator) in a temporary table on `con`, replacing an older one; returns its name.

    Columns: municipality_code, report_date, the breakdown families, then numerator and
    denominator (a proportion) or time, events and censored. The cells and the by-approach
    comparisons both count from it, so the case-level joins run once per compute.
    """
    if indicator.is_proportion:
        keys = ["municipality_code", "report_date", *indicator.breakdowns]
        counts = "count(*) filter (where in_numerator) as numerator, count(*) as denominator"
    else:
        keys = ["municipality_code", "report_date", *indicator.breakdowns, "time"]
        counts = (
            "count(*) filter (where event) as events, count(*) filter (where not event) as censored"
        )
    table = day_counts_table(indicator)
    con.execute(
        f"""
        create or replace temp table {table} as
        select {", ".join(keys)}, {counts}
        from ({indicator.sql})
        where in_population
        group by all
        """
    )
    return table


def cells_sql(indicator: Indicator, day_counts: str) -> str:
    """The indicator's day counts (`day_counts`, from `stage_day_counts`) summed into every
    area × period × breakdown cell, in SQL.

    Counts first at the finest published grain (municipality × cohort quarter × breakdown
    value, and × time for a time-to-event indicator), then sums those counts into the areas
    (joined through `area_members_for_counts`: area_id, municipality_code) with grouping sets:
    a cohort year is its quarters and `all` is its categories. No case is ever repeated per
    area or cell, and a cell with no one in the population has no row: there is no figure.

    Columns: area_id, year, quarter (null for a year), one column per breakdown family (null
    unless the cell is one of its categories), then numerator, denominator (a proportion) or
    time, events, censored (time-to-event), ordered by cell and time.
    """
    families = list(indicator.breakdowns)
    by_time = [] if indicator.is_proportion else ["time"]
    measures = ["numerator", "denominator"] if indicator.is_proportion else ["events", "censored"]
    cast = "bigint" if indicator.is_proportion else "integer"
    cell = ["area_id", "year", "quarter", *families]
    sets = ", ".join(
        "(" + ", ".join(["area_id", "year", *period, *family, *by_time]) + ")"
        for period in ([], ["quarter"])
        for family in ([], *([f] for f in families))
    )
    return f"""
with fine as (
    select
        {", ".join(["municipality_code", *families, *by_time])},
        year(report_date)::integer as year,
        quarter(report_date)::integer as quarter,
        {", ".join(f"sum({m}) as {m}" for m in measures)}
    from {day_counts}
    group by all
),

final as (
    select
        {", ".join(cell)},
        {"".join(f"{c}::integer as {c}, " for c in by_time)}
        {", ".join(f"sum({m})::{cast} as {m}" for m in measures)}
    from fine
    join {_MEMBERS_VIEW} using (municipality_code)
    group by grouping sets ({sets})
)

select * from final order by {", ".join([*cell, *by_time])}
"""


def _area_ids(memberships: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An integer per area (`area_id, area_type, area_code`) and the memberships by that id:
    the counting joins and groups on one small integer instead of two strings."""
    areas = (
        memberships.select(AREA_KEYS)
        .unique(maintain_order=True)
        .with_row_index("area_id")
        .with_columns(pl.col("area_id").cast(pl.Int32))
    )
    members = memberships.join(areas, on=list(AREA_KEYS)).select("area_id", "municipality_code")
    return areas, members


def _counted(
    con: duckdb.DuckDBPyConnection, indicator: Indicator, memberships: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The areas with their ids, and `cells_sql`'s result over freshly staged day counts."""
    areas, members = _area_ids(memberships)
    day_counts = stage_day_counts(con, indicator)
    con.register(_MEMBERS_VIEW, members)
    try:
        return areas, con.sql(cells_sql(indicator, day_counts)).pl()
    finally:
        con.unregister(_MEMBERS_VIEW)


def _labelled(keys: pl.DataFrame, areas: pl.DataFrame, families: Iterable[str]) -> pl.DataFrame:
    """Replace the cell columns of `cells_sql` (area_id, year, quarter, families) by the
    published keys: area_type, area_code, period, period_type, year, breakdown."""
    families = tuple(families)
    breakdown = pl.coalesce(
        *(pl.format(f"{family}={{}}", pl.col(family)) for family in families), pl.lit("all")
    )
    quarterly = pl.col("quarter").is_not_null()
    rest = [c for c in keys.columns if c not in {"area_id", "year", "quarter", *families}]
    return keys.join(areas, on="area_id", how="left").select(
        *AREA_KEYS,
        pl.when(quarterly)
        .then(pl.format("{}-Q{}", pl.col("year"), pl.col("quarter")))
        .otherwise(pl.col("year").cast(pl.String))
        .alias("period"),
        pl.when(quarterly).then(pl.lit("quarter")).otherwise(pl.lit("year")).alias("period_type"),
        pl.col("year").cast(pl.Int32),
        breakdown.alias("breakdown"),
        *rest,
    )


def cell_counts(
    con: duckdb.DuckDBPyConnection, indicator: Indicator, memberships: pl.DataFrame
) -> pl.DataFrame:
    """Numerator and denominator of a proportion indicator in every area × period × breakdown
    cell with anyone in its population, counted in DuckDB (`cells_sql`). Leaves the staged
    day counts (`day_counts_table`) on `con` for the by-approach comparisons.

    Columns: area_type, area_code, period, period_type, year, breakdown, numerator,
    denominator. Areas pool cases, never average rates; municipalities outside the reference
    list reach no area.
    """
    areas, counts = _counted(con, indicator, memberships)
    return _labelled(counts, areas, indicator.breakdowns)


@dataclass(frozen=True)
class SurvivalCells:
    """A time-to-event indicator counted into cells: `keys` (cell, area_type, area_code,
    period, period_type, year, breakdown) and `counts` (cell, time, events, censored: per
    cell and distinct time, what a Kaplan–Meier estimate needs), sorted by cell and time."""

    keys: pl.DataFrame
    counts: pl.DataFrame


def survival_cells(
    con: duckdb.DuckDBPyConnection, indicator: Indicator, memberships: pl.DataFrame
) -> SurvivalCells:
    """Events and censorings per time in every area × period × breakdown cell (`cells_sql`).

    Millions of (cell, time) rows at national scale: an integer `cell` carries the keys, so
    the Kaplan–Meier windows group on one integer.
    """
    areas, counts = _counted(con, indicator, memberships)
    cell_columns = ["area_id", "year", "quarter", *indicator.breakdowns]
    # the rows come sorted by cell and time, so a cell is a run of equal keys
    counts = counts.with_columns(pl.struct(cell_columns).rle_id().cast(pl.Int32).alias("cell"))
    keys = counts.select("cell", *cell_columns).unique("cell", keep="first", maintain_order=True)
    return SurvivalCells(
        keys=_labelled(keys, areas, indicator.breakdowns),
        counts=counts.select("cell", "time", "events", "censored"),
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


def proportion_counts(con: duckdb.DuckDBPyConnection, delivered: Iterable[str]) -> pl.DataFrame:
    """Every proportion indicator's pooled counts: `indicator_id`, area and cell keys, numerator,
    denominator."""
    memberships = area_memberships(delivered)
    return pl.concat(
        cell_counts(con, ind, memberships).select(pl.lit(ind.id).alias("indicator_id"), pl.all())
        for ind in INDICATORS
        if ind.is_proportion
    )


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
    medians = survival.km_median_by_group(
        cells.counts, ["cell"], events="events", censored="censored"
    )
    return cells.keys.join(medians, on="cell").select(
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
    joined = (
        table.join(vt, on="area_code", how="left")
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
    polarity = (
        joined["indicator_id"]
        .replace_strict({ind.id: ind.polarity for ind in INDICATORS})
        .to_numpy()
    )
    results: dict[str, np.ndarray] = {}
    for column, bench in (
        ("comparison_region", "bench_region"),
        ("comparison_national", "bench_national"),
    ):
        values = joined[bench].cast(pl.Float64).fill_null(np.nan).to_numpy()
        results[column] = np.where(
            polarity == "lower_is_better",
            stats.compare(values, low, high, "lower_is_better"),
            stats.compare(values, low, high, "higher_is_better"),
        )
    return joined.drop("vt_code", "bench_region", "bench_national", "ci_high_open").with_columns(
        pl.Series("comparison_region", results["comparison_region"], dtype=pl.String),
        pl.Series("comparison_national", results["comparison_national"], dtype=pl.String),
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
    comparisons and coverage: `indicator_values` before naming and ordering."""
    delivered = delivered_municipalities(con)
    memberships = area_memberships(delivered)
    time_to_event = {
        ind.id: survival_cells(con, ind, memberships) for ind in INDICATORS if not ind.is_proportion
    }
    figures = pl.concat(
        [
            proportion_figures(proportion_counts(con, delivered)).select(FIGURE_COLUMNS),
            *(
                median_figures(cells, indicator_id).select(FIGURE_COLUMNS)
                for indicator_id, cells in time_to_event.items()
            ),
        ]
    )
    protected = disclosure.secondary(
        disclosure.primary(figures), memberships=region_memberships(delivered)
    )
    table = compare_with_benchmarks(protected).join(
        coverage(delivered), on=list(AREA_KEYS), how="left"
    )
    return Figures(
        table=table,
        survival=time_to_event,
        delivered=delivered,
        day_counts={ind.id: day_counts_table(ind) for ind in INDICATORS if ind.is_proportion},
    )
