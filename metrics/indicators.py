"""The indicator table: municipal counts pooled into areas, with statistics and suppression."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from hgkm import reference
from hgkm.mart import NATIONAL
from metrics import disclosure, stats, survival
from metrics.catalogue import INDICATORS, Indicator

AREA_KEYS = ("area_type", "area_code")
CELL_KEYS = ("period", "period_type", "year", "breakdown")
ALL = "all"  # the breakdown of everyone in the population

# A grain of cells: (by cohort quarter, by breakdown category); (False, False) is the cohort
# year of everyone (`all`).
Grain = tuple[bool, bool]
# Every published grain, and the grain of the municipal counts (`metrics.counts`) its cells are
# summed from: each area's cells are sums of its members' counts, so they are all that compute
# (and a package) needs. Which areas publish a grain is disclosure's (`_AREAS`).
CELL_SOURCES: dict[Grain, Grain] = {
    (False, False): (True, False),  # cohort years from the quarters
    (True, False): (True, False),
    (False, True): (False, True),  # categories per cohort year, never per quarter
}

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

# The published table's spec columns (INDICATORS.md), in order: also `hgkm export`'s first.
SPEC_COLUMNS = (
    "indicator_id",
    "area_type",
    "area_code",
    "period",
    "breakdown",
    "numerator",
    "denominator",
    "value",
    "ci_low",
    "ci_high",
    "comparison_region",
    "comparison_national",
    "suppressed",
)
INDICATOR_VALUE_COLUMNS = (
    *SPEC_COLUMNS,
    "area_name",
    "period_type",
    "year",
    "median_reached",
    "coverage_delivered",
    "coverage_total",
)


def count_measures(indicator: Indicator) -> list[str]:
    """The counted columns: numerator and denominator, or events and censored per time."""
    return ["numerator", "denominator"] if indicator.is_proportion else ["events", "censored"]


def cell_sources(indicator: Indicator) -> dict[Grain, Grain]:
    """`CELL_SOURCES` for one indicator: without a breakdown family it has no category
    grains. An indicator has at most one family: a unit's category then sums to `all`."""
    if len(indicator.breakdowns) > 1:
        raise ValueError(f"{indicator.id}: more than one breakdown family")
    if indicator.breakdowns:
        return dict(CELL_SOURCES)
    return {(q, c): s for (q, c), s in CELL_SOURCES.items() if not c and not s[1]}


def count_grains(indicator: Indicator) -> list[Grain]:
    """The grains of an indicator's municipal counts."""
    return sorted(set(cell_sources(indicator).values()))


def breakdown_codes(municipal: pl.DataFrame) -> pl.DataFrame:
    """`breakdown_code, breakdown`: a small integer for every breakdown category in the
    municipal counts, from 1 on in label order, and 0 for `all`. The counting then groups and
    sorts on integers only."""
    return pl.concat(
        [
            pl.DataFrame(
                {"breakdown_code": [0], "breakdown": [ALL]},
                schema={"breakdown_code": pl.Int64, "breakdown": pl.String},
            ),
            municipal.select(pl.col("breakdown").unique().sort())
            .filter(pl.col("breakdown") != ALL)
            .with_row_index("breakdown_code", offset=1)
            .with_columns(pl.col("breakdown_code").cast(pl.Int64)),
        ]
    )


@dataclass(frozen=True)
class _Radix:
    """How a cell (area, year, quarter 0-4, breakdown code) packs into one integer, and a
    (cell, time) into another: grouping and sorting millions of rows on one integer column
    is several times faster than on five, in polars and DuckDB alike."""

    first_year: int
    years: int
    codes: int  # breakdown codes, 0 (`all`) included
    times: int  # 1 for a proportion

    def cell(self, grain: Grain) -> pl.Expr:
        """The packed cell of the `grain` a row with area_id, year, quarter (0: the year) and
        breakdown_code (0: `all`) counts in."""
        quarterly, by_category = grain
        year = pl.col("area_id") * self.years + (pl.col("year") - self.first_year)
        quarter = year * 5 + (pl.col("quarter") if quarterly else 0)
        return quarter * self.codes + (pl.col("breakdown_code") if by_category else 0)

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
    coded: pl.DataFrame, members: pl.DataFrame, indicator: Indicator, n_codes: int
) -> tuple[pl.DataFrame, _Radix]:
    """The municipal counts (`coded`: breakdown as `breakdown_code`) summed into every published
    area × period × breakdown cell: each municipal count goes to every area of its
    municipality (`members`: area_id, municipality_code, municipal, has_quarters,
    has_categories) and to every grain it is the source of (`CELL_SOURCES`): a quarter's count
    to its cohort year (breakdown `all`) and, where the area has them (`disclosure.has_quarters`),
    to its quarter; a category's count, per cohort year, where the area has categories
    (`disclosure.has_categories`). No case is repeated within a cell, and a cell with no one in
    the population has no row: there is no figure.

    Returns `cell` (packed, see `_Radix`), time for a time-to-event indicator, and the summed
    measures, sorted by cell and time.
    """
    measures = count_measures(indicator)
    by_time = not indicator.is_proportion
    first_year, last_year, last_time = coded.select(
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
    sources = cell_sources(indicator)

    def counted_into(grain: Grain) -> pl.LazyFrame:
        """The counts of the grain `grain` is summed from, joined to the areas publishing it:
        quarters and breakdown categories only where `disclosure` allows them."""
        quarterly, by_category = sources[grain]
        counts = coded.lazy()
        if len(set(sources.values())) > 1:
            counts = counts.filter(
                (pl.col("quarter") != 0) == quarterly,
                (pl.col("breakdown_code") != 0) == by_category,
            )
        areas = members.lazy()
        if grain[0]:
            areas = areas.filter(pl.col("has_quarters"))
            if not indicator.municipal_quarters:
                areas = areas.filter(~pl.col("municipal"))
        if grain[1]:
            areas = areas.filter(pl.col("has_categories"))
        return counts.join(areas, on="municipality_code")

    # (cell, time) as one integer too: a group-by on one column avoids row encoding
    time = pl.col("time") if by_time else pl.lit(0)
    spread = pl.concat(
        counted_into(grain).select((radix.cell(grain) * radix.times + time).alias("key"), *measures)
        for grain in sources
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


def _counted(municipal: pl.DataFrame, indicator: Indicator, memberships: pl.DataFrame) -> _Counted:
    """The municipal counts (`metrics.counts`) counted into the cells."""
    areas, members = _area_ids(memberships)
    codes = breakdown_codes(municipal)
    coded = municipal.with_columns(
        pl.col("breakdown").replace_strict(
            codes["breakdown"], codes["breakdown_code"], return_dtype=pl.Int64
        )
    ).rename({"breakdown": "breakdown_code"})
    cells, radix = _into_cells(coded, members, indicator, codes.height - 1)
    return _Counted(cells, radix, areas, codes)


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
    return (
        cells.with_columns(counted.radix.keys(pl.col("cell")))
        .join(counted.areas, on="area_id", how="left")
        .join(counted.radix.periods(), on="period_id", how="left")
        .join(counted.codes, on="breakdown_code", how="left")
        .select(*AREA_KEYS, *CELL_KEYS, *cells.columns)
    )


def cell_counts(
    municipal: pl.DataFrame, indicator: Indicator, memberships: pl.DataFrame
) -> pl.DataFrame:
    """Numerator and denominator of a proportion indicator in every area × period × breakdown
    cell with anyone in its population, from its municipal counts (`metrics.counts`).

    Columns: area_type, area_code, period, period_type, year, breakdown, numerator,
    denominator. Areas pool cases, never average rates; municipalities outside the reference
    list reach no area.
    """
    counted = _counted(municipal, indicator, memberships)
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
    municipal: pl.DataFrame, indicator: Indicator, memberships: pl.DataFrame
) -> SurvivalCells:
    """Events and censorings per time in every area × period × breakdown cell, from the
    indicator's municipal counts (`metrics.counts`), estimated once.

    Millions of (cell, time) rows at national scale: the integer `cell` carries the keys, so
    the Kaplan–Meier windows group on one integer.
    """
    counted = _counted(municipal, indicator, memberships)
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


def indicator_figures(municipal: Iterable[pl.DataFrame], delivered: list[str]) -> Figures:
    """Every indicator × area × period × breakdown with figures, disclosure control applied,
    comparisons and coverage: `indicator_values` before naming and ordering.

    `municipal`: each indicator's municipal counts in catalogue order (`metrics.counts`), as
    they arrive (the warehouse's SQL runs ahead on a thread of its own): this thread counts
    each into its cells while two more protect the ones counted, so DuckDB's joins, the
    counting and the suppression (whose linear programmes and array work release the
    interpreter) share the cores. Each indicator is protected alone, which is the same as
    protecting the table (`disclosure`), but for indicators that count one population: those
    are protected together, as soon as all are counted.
    """
    memberships = area_memberships(delivered)
    regions = region_memberships(delivered)
    time_to_event: dict[str, SurvivalCells] = {}
    # indicators of one population are protected together, once all of them are counted
    populations = [[ind.id for ind in INDICATORS if ind.population == p] for p in _populations()]
    counted: dict[str, pl.DataFrame] = {}
    protecting: list[tuple[list[str], Future[list[pl.DataFrame]]]] = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hgkm-protect") as protect:
        for ind, counts in zip(INDICATORS, municipal, strict=True):
            for _, job in protecting:
                if job.done() and job.exception() is not None:
                    job.result()  # a failed protection stops the compute at once
            if ind.is_proportion:
                cells = cell_counts(counts, ind, memberships)
                figures = proportion_figures(
                    cells.select(pl.lit(ind.id).alias("indicator_id"), pl.all())
                )
            else:
                time_to_event[ind.id] = survival_cells(counts, ind, memberships)
                figures = median_figures(time_to_event[ind.id], ind.id)
            counted[ind.id] = disclosure.primary(figures.select(FIGURE_COLUMNS))
            together = next((p for p in populations if ind.id in p), [ind.id])
            if all(member in counted for member in together):
                frames = [counted[member] for member in together]
                protecting.append(
                    (
                        together,
                        protect.submit(disclosure.protect_population, frames, memberships=regions),
                    )
                )
        protected_by_id = {
            member: frame
            for together, job in protecting
            for member, frame in zip(together, job.result(), strict=True)
        }
    protected = [protected_by_id[ind.id] for ind in INDICATORS]
    table = compare_with_benchmarks(pl.concat(protected)).join(
        coverage(delivered), on=list(AREA_KEYS), how="left"
    )
    return Figures(table=table, survival=time_to_event, delivered=delivered)


def _populations() -> list[str]:
    """The populations two or more indicators count (`Indicator.population`)."""
    named = [ind.population for ind in INDICATORS if ind.population is not None]
    return sorted({p for p in named if named.count(p) > 1})
