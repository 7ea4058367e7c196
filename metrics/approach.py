"""Compare indicators by approach element: with vs without, and before vs after introduction.

A case falls under an element when its index report date R lies in one of the element's
periods in its municipality: `in_place_from <= R` and (`in_place_until` empty or
`R <= in_place_until`), both ends inclusive (CONTRACT.md).

Disclosure control. Every comparison group is a sum of *pieces*: one municipality's cases of
one cohort quarter that share a status (with / without the element; before / after / neither
for an introduction). A quarter's pieces enter the comparisons only when the quarter's own
figure is published in `indicator_values` and each of its non-empty pieces passes the primary
rule on its own. So whatever combination of published comparisons and published indicator
figures one subtracts, one finds at most a split of a published quarter into pieces that could
have been published themselves; a suppressed figure never enters. A sum of pieces that pass
the primary rule passes it too, so the primary check on each group (kept as a safeguard)
suppresses nothing in practice; a suppressed group suppresses its partner and the difference.
The price: cases in quarters whose figure is suppressed, or that an element's start splits
into a small piece, are left out of the comparisons (documented in docs/mart.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import duckdb
import numpy as np
import polars as pl

from hgkm import reference
from metrics import disclosure, stats
from metrics.catalogue import INDICATORS, Indicator
from metrics.indicators import area_memberships
from pipelines.approach import current_approach_sql
from pipelines.contract import APPROACH_SCHEMA

POOLED = "all"  # the period label of all cohort years together
# The mart publishes a profile's periods without their notes.
PROFILE_SCHEMA = {name: dtype for name, dtype in APPROACH_SCHEMA.items() if name != "note"}
GROUP_FIGURES = ("numerator", "denominator", "value", "ci_low", "ci_high")
COMPARISON_SCHEMA: dict[str, pl.DataType] = {
    "comparison": pl.String(),
    "element": pl.String(),
    "indicator_id": pl.String(),
    "area_type": pl.String(),
    "area_code": pl.String(),
    "period": pl.String(),
    "period_type": pl.String(),
    "year": pl.Int32(),
    "introduced": pl.Date(),
    **{
        f"{f}_{g}": pl.Int64() if f in ("numerator", "denominator") else pl.Float64()
        for g in ("with", "without")
        for f in GROUP_FIGURES
    },
    "difference": pl.Float64(),
    "difference_low": pl.Float64(),
    "difference_high": pl.Float64(),
    "suppressed": pl.Boolean(),
}
COMPARISON_COLUMNS = tuple(COMPARISON_SCHEMA)
# One piece: one municipality's cases of one cohort quarter that share a status in one
# comparison of one element (per element period for before/after): what the comparisons sum.
PIECE_SCHEMA: dict[str, pl.DataType] = {
    "comparison": pl.String(),
    "element": pl.String(),
    "in_place_from": pl.Date(),
    "municipality_code": pl.String(),
    "year": pl.Int32(),
    "quarter": pl.Int8(),
    "status": pl.String(),
    "numerator": pl.Int64(),
    "denominator": pl.Int64(),
}
# Statuses of a piece: with/without for the first comparison; before/after (and `other`: under
# another period of the element, or after it stopped) for the second.
WITH, WITHOUT, BEFORE, AFTER, OTHER = "with", "without", "before", "after", "other"


def current_periods(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> pl.DataFrame:
    """The current periods, notes included, of every municipality in the reference list (none
    when the warehouse never imported a profile)."""
    found = con.execute(
        "select database_name from duckdb_tables() where table_name = 'approach_periods' "
        "order by database_name = 'wh' desc"
    ).fetchall()
    if not found:
        return pl.DataFrame(schema=APPROACH_SCHEMA)
    database = found[0][0] if found[0][0] == "wh" else ""
    frame = con.sql(current_approach_sql(database, as_of)).pl()
    return (
        frame.select(list(APPROACH_SCHEMA))
        .filter(pl.col("municipality_code").is_in(list(reference.municipality_codes())))
        .cast(APPROACH_SCHEMA)
        .sort("municipality_code", "element", "in_place_from")
    )


def notes_table(periods: pl.DataFrame) -> pl.DataFrame:
    """The mart's `approach_notes`: the periods' notes, apart from the public profile, so the
    dashboard can show them only to the municipality's own users, its analysts and admins."""
    return periods.filter(pl.col("note").str.strip_chars() != "").select(
        "municipality_code", "element", "in_place_from", "note"
    )


# The pieces of both comparisons, counted in DuckDB from one indicator's day counts.
PIECES_SQL = """
with days as ({days}),

periods as (
    select municipality_code, element, in_place_from, in_place_until
    from {periods}
    where element in ({elements})
),

elements as (
    select unnest([{elements}]) as element
),

-- the edge rule (CONTRACT.md): R in [in_place_from, in_place_until], both ends inclusive,
-- open end allowed; distinct, so a day in two periods of one element counts once
under as (
    select distinct d.municipality_code, d.report_date, p.element
    from days as d
    join periods as p
        on p.municipality_code = d.municipality_code
        and p.in_place_from <= d.report_date
        and (p.in_place_until is null or d.report_date <= p.in_place_until)
),

flagged as (
    select d.*, e.element, u.element is not null as under
    from days as d
    cross join elements as e
    left join under as u
        on u.municipality_code = d.municipality_code
        and u.report_date = d.report_date
        and u.element = e.element
),

with_without as (
    select
        'with_without' as comparison,
        element,
        null::date as in_place_from,
        municipality_code,
        year(report_date)::integer as year,
        quarter(report_date)::tinyint as quarter,
        case when under then '{with_}' else '{without}' end as status,
        sum(numerator)::bigint as numerator,
        sum(denominator)::bigint as denominator
    from flagged
    group by all
),

-- per period of an element: after = R in this period; before = R before it starts and under
-- no period of the element; other = the rest
before_after as (
    select
        'before_after' as comparison,
        f.element,
        p.in_place_from,
        f.municipality_code,
        year(f.report_date)::integer as year,
        quarter(f.report_date)::tinyint as quarter,
        case
            when p.in_place_from <= f.report_date
                and (p.in_place_until is null or f.report_date <= p.in_place_until)
                then '{after}'
            when f.report_date < p.in_place_from and not f.under then '{before}'
            else '{other}'
        end as status,
        sum(f.numerator)::bigint as numerator,
        sum(f.denominator)::bigint as denominator
    from flagged as f
    join periods as p
        on p.municipality_code = f.municipality_code and p.element = f.element
    group by all
),

final as (
    select * from with_without
    union all
    select * from before_after
)

select * from final
"""
_PERIODS_VIEW = "approach_periods_for_comparison"


def days_sql(day_counts: str) -> str:
    """SQL: an indicator's population counted per municipality and index report date, from
    its staged day counts (`metrics.counts.stage_day_counts`): whether a case falls under
    an element depends on nothing else."""
    return f"""
    select
        municipality_code,
        report_date,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from {day_counts}
    group by all
    """


def comparison_pieces(
    con: duckdb.DuckDBPyConnection, days: str, periods: pl.DataFrame, elements: Iterable[str]
) -> pl.DataFrame:
    """Counts per piece for both comparisons (`PIECE_SCHEMA`), from `days` (an SQL query with
    municipality_code, report_date, numerator, denominator) and the approach `periods`.

    with_without: per element, municipality_code, year, quarter, status (`with` / `without`);
    before_after: the same per element period (`in_place_from`), status `before`, `after`
    or `other`. Numerator and denominator summed per piece.
    """
    names = ", ".join(f"'{element}'" for element in elements)
    if not names:
        raise ValueError("no elements to compare")
    sql = PIECES_SQL.format(
        days=days,
        periods=_PERIODS_VIEW,
        elements=names,
        with_=WITH,
        without=WITHOUT,
        before=BEFORE,
        after=AFTER,
        other=OTHER,
    )
    con.register(_PERIODS_VIEW, periods.select(list(PROFILE_SCHEMA)))
    try:
        pieces = con.sql(sql).pl()
    finally:
        con.unregister(_PERIODS_VIEW)
    return pieces.select(list(PIECE_SCHEMA)).cast(PIECE_SCHEMA)


def eligible_pieces(pieces: pl.DataFrame, keys: list[str], published: pl.DataFrame) -> pl.DataFrame:
    """The pieces of quarters that may enter a comparison (see the module docstring).

    `pieces`: counts per `keys` + municipality_code, year, quarter, status; `published`:
    municipality_code, year, quarter of the indicator's published quarter figures.
    """
    quarter = [*keys, "municipality_code", "year", "quarter"]
    checked = disclosure.primary(
        pieces.filter(pl.col("denominator") > 0).with_columns(unit=pl.lit("proportion"))
    )
    safe = (
        checked.group_by(quarter)
        .agg(pl.col("suppressed").any().alias("small_piece"))
        .filter(~pl.col("small_piece"))
        .join(published, on=["municipality_code", "year", "quarter"], how="semi")
        .select(quarter)
    )
    return pieces.join(safe, on=quarter, how="semi")


def published_quarters(values: pl.DataFrame, indicator_id: str) -> pl.DataFrame:
    """municipality_code, year, quarter of every unsuppressed municipal quarter figure."""
    return values.filter(
        (pl.col("indicator_id") == indicator_id)
        & (pl.col("area_type") == "municipality")
        & (pl.col("period_type") == "quarter")
        & (pl.col("breakdown") == "all")
        & ~pl.col("suppressed")
    ).select(
        municipality_code="area_code",
        year=pl.col("period").str.slice(0, 4).cast(pl.Int32),
        quarter=pl.col("period").str.slice(6, 1).cast(pl.Int8),
    )


def with_without(pieces: pl.DataFrame, memberships: pl.DataFrame) -> pl.DataFrame:
    """Per element × region/national area × cohort year (and pooled): both groups' counts."""
    per_area = pieces.join(memberships, on="municipality_code").with_columns(
        period=pl.col("year").cast(pl.String), period_type=pl.lit("year")
    )
    pooled = per_area.with_columns(
        period=pl.lit(POOLED), period_type=pl.lit("pooled"), year=pl.lit(None, dtype=pl.Int32)
    )
    keys = ["element", "area_type", "area_code", "period", "period_type", "year"]
    return wide(pl.concat([per_area, pooled]), keys, WITH, WITHOUT).with_columns(
        comparison=pl.lit("with_without"), introduced=pl.lit(None, dtype=pl.Date)
    )


def before_after(pieces: pl.DataFrame) -> pl.DataFrame:
    """Per municipality × element period: cohorts before the introduction against after it."""
    keys = ["element", "municipality_code", "in_place_from"]
    return wide(pieces, keys, AFTER, BEFORE).select(
        pl.lit("before_after").alias("comparison"),
        "element",
        pl.lit("municipality").alias("area_type"),
        pl.col("municipality_code").alias("area_code"),
        pl.lit(POOLED).alias("period"),
        pl.lit("pooled").alias("period_type"),
        pl.lit(None, dtype=pl.Int32).alias("year"),
        pl.col("in_place_from").alias("introduced"),
        pl.col("^(numerator|denominator)_with(out)?$"),
    )


def wide(pieces: pl.DataFrame, keys: list[str], first: str, second: str) -> pl.DataFrame:
    """Sum pieces per keys into `_with` (status `first`) and `_without` (`second`) counts;
    only keys where both groups have cases (there is nothing to compare otherwise)."""
    sums = {
        label: pieces.filter(pl.col("status") == status)
        .group_by(keys)
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
        .rename({"numerator": f"numerator_{label}", "denominator": f"denominator_{label}"})
        for label, status in (("with", first), ("without", second))
    }
    return (
        sums["with"]
        .join(sums["without"], on=keys, nulls_equal=True)
        .filter((pl.col("denominator_with") > 0) & (pl.col("denominator_without") > 0))
    )


def indicator_comparisons(
    indicator: Indicator,
    pieces: pl.DataFrame,
    published: pl.DataFrame,
    memberships: pl.DataFrame,
) -> pl.DataFrame:
    """Both comparisons of one indicator from its pieces (`PIECE_SCHEMA`), counts only."""
    kind = pl.col("comparison")
    ww_pieces = pieces.filter(kind == "with_without").drop("comparison", "in_place_from")
    ba_pieces = pieces.filter(kind == "before_after").drop("comparison")
    ww = with_without(eligible_pieces(ww_pieces, ["element"], published), memberships)
    ba = before_after(eligible_pieces(ba_pieces, ["element", "in_place_from"], published))
    return pl.concat([ww, ba], how="diagonal").with_columns(indicator_id=pl.lit(indicator.id))


def with_statistics(counts: pl.DataFrame) -> pl.DataFrame:
    """Proportions, Wilson intervals, the Newcombe difference (with − without), and
    disclosure control: a group failing the primary rule empties its whole row."""
    columns: dict[str, pl.Series] = {}
    for label in ("with", "without"):
        o, n = counts[f"numerator_{label}"].to_numpy(), counts[f"denominator_{label}"].to_numpy()
        low, high = stats.wilson(o, n)
        columns[f"value_{label}"] = pl.Series(o / n)
        columns[f"ci_low_{label}"] = pl.Series(low)
        columns[f"ci_high_{label}"] = pl.Series(high)
    diff, low, high = stats.newcombe_difference(
        counts["numerator_with"].to_numpy(),
        counts["denominator_with"].to_numpy(),
        counts["numerator_without"].to_numpy(),
        counts["denominator_without"].to_numpy(),
    )
    fails = np.zeros(counts.height, dtype=bool)
    for label in ("with", "without"):
        group = counts.select(
            numerator=f"numerator_{label}",
            denominator=f"denominator_{label}",
            unit=pl.lit("proportion"),
        )
        fails |= disclosure.primary(group)["suppressed"].to_numpy()
    figures = [f"{f}_{label}" for f in GROUP_FIGURES for label in ("with", "without")]
    hidden = pl.Series(fails)
    return (
        counts.with_columns(
            **columns,
            difference=pl.Series(diff),
            difference_low=pl.Series(low),
            difference_high=pl.Series(high),
            suppressed=hidden,
        )
        .with_columns(
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
            for c in [*figures, "difference", "difference_low", "difference_high"]
        )
        .select(COMPARISON_COLUMNS)
    )


def comparison_table(
    values: pl.DataFrame,
    delivered: list[str],
    periods: pl.DataFrame,
    pieces: Callable[[Indicator], pl.DataFrame],
) -> pl.DataFrame:
    """`approach_comparison` (docs/mart.md): every proportion indicator × the elements the
    catalogue says it touches, against the published `values` that decide eligibility.
    `pieces`: each proportion indicator's pieces (`metrics.counts.CountSource.approach_pieces`)."""
    memberships = area_memberships(delivered).filter(pl.col("area_type") != "municipality")
    empty = pl.DataFrame(schema=COMPARISON_SCHEMA)
    if periods.is_empty():
        return empty
    parts = [
        indicator_comparisons(ind, pieces(ind), published_quarters(values, ind.id), memberships)
        for ind in INDICATORS
        if ind.is_proportion and ind.approach_elements
    ]
    counts = pl.concat(parts, how="diagonal").cast(
        {
            c: pl.Int64
            for c in (
                "numerator_with",
                "denominator_with",
                "numerator_without",
                "denominator_without",
            )
        }
    )
    if counts.is_empty():
        return empty
    order = {ind.id: n for n, ind in enumerate(INDICATORS)}
    return pl.concat([empty, with_statistics(counts)], how="vertical_relaxed").sort(
        "comparison",
        "element",
        pl.col("indicator_id").replace_strict(order, return_dtype=pl.Int32),
        "area_type",
        "area_code",
        "introduced",
        "period",
    )


def approach_tables(
    values: pl.DataFrame,
    delivered: list[str],
    current: pl.DataFrame,
    pieces: Callable[[Indicator], pl.DataFrame],
) -> dict[str, pl.DataFrame]:
    """The mart's `approach_profiles` (no notes), `approach_notes` and `approach_comparison`.
    `current`: the current periods, notes included (`current_periods`)."""
    periods = current.select(list(PROFILE_SCHEMA))
    return {
        "approach_profiles": periods,
        "approach_notes": notes_table(current),
        "approach_comparison": comparison_table(values, delivered, periods, pieces),
    }
