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

from collections.abc import Iterable
from datetime import date

import duckdb
import numpy as np
import polars as pl

from hgkm import reference
from metrics import disclosure, stats
from metrics.catalogue import INDICATORS, Indicator
from metrics.indicators import area_memberships, unit_rows
from pipelines.approach import current_approach_sql

POOLED = "all"  # the period label of all cohort years together
PROFILE_SCHEMA = {
    "municipality_code": pl.String,
    "element": pl.String,
    "in_place_from": pl.Date,
    "in_place_until": pl.Date,
}
GROUP_FIGURES = ("numerator", "denominator", "value", "ci_low", "ci_high")
COMPARISON_COLUMNS = (
    "comparison",
    "element",
    "indicator_id",
    "area_type",
    "area_code",
    "period",
    "period_type",
    "year",
    "introduced",
    *(f"{f}_with" for f in GROUP_FIGURES),
    *(f"{f}_without" for f in GROUP_FIGURES),
    "difference",
    "difference_low",
    "difference_high",
    "suppressed",
    "suppression_reason",
)
# Statuses of a piece: with/without for the first comparison; before/after (and `other`: under
# another period of the element, or after it stopped) for the second.
WITH, WITHOUT, BEFORE, AFTER, OTHER = "with", "without", "before", "after", "other"


def profiles(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> pl.DataFrame:
    """The current periods of every municipality in the reference list (none when the
    warehouse never imported a profile)."""
    found = con.execute(
        "select database_name from duckdb_tables() where table_name = 'approach_periods' "
        "order by database_name = 'wh' desc"
    ).fetchall()
    if not found:
        return pl.DataFrame(schema=PROFILE_SCHEMA)
    database = found[0][0] if found[0][0] == "wh" else ""
    frame = con.sql(current_approach_sql(database, as_of)).pl()
    return (
        frame.select(list(PROFILE_SCHEMA))
        .filter(pl.col("municipality_code").is_in(list(reference.municipality_codes())))
        .cast(PROFILE_SCHEMA)
        .sort("municipality_code", "element", "in_place_from")
    )


def day_counts(rows: pl.DataFrame) -> pl.DataFrame:
    """Population units counted per municipality and index report date: whether a case falls
    under an element depends on nothing else."""
    return (
        rows.filter(pl.col("in_population"))
        .group_by("municipality_code", "report_date")
        .agg(
            numerator=pl.col("in_numerator").sum().cast(pl.Int64),
            denominator=pl.len().cast(pl.Int64),
        )
        .with_columns(
            year=pl.col("report_date").dt.year().cast(pl.Int32),
            quarter=pl.col("report_date").dt.quarter().cast(pl.Int8),
        )
    )


def in_period(date_column: str = "report_date") -> pl.Expr:
    """The edge rule, in one place: R in [in_place_from, in_place_until], open end allowed."""
    r = pl.col(date_column)
    return (pl.col("in_place_from") <= r) & (
        pl.col("in_place_until").is_null() | (r <= pl.col("in_place_until"))
    )


def under_element(
    days: pl.DataFrame, periods: pl.DataFrame, elements: Iterable[str]
) -> pl.DataFrame:
    """`days` × `elements`, with `under`: does the report date lie in one of the element's
    periods in its municipality?"""
    element_frame = pl.DataFrame({"element": list(elements)}, schema={"element": pl.String})
    hits = (
        days.select("municipality_code", "report_date")
        .join(periods, on="municipality_code")
        .filter(in_period())
        .select("municipality_code", "report_date", "element")
        .unique()
        .with_columns(under=pl.lit(True))
    )
    return (
        days.join(element_frame, how="cross")
        .join(hits, on=["municipality_code", "report_date", "element"], how="left")
        .with_columns(pl.col("under").fill_null(False))
    )


def introduction_phases(
    days: pl.DataFrame, periods: pl.DataFrame, elements: Iterable[str]
) -> pl.DataFrame:
    """For every period of an element: each day's phase, `before` (R before the period starts
    and under no period of the element), `after` (R in this period) or `other`."""
    chosen = periods.filter(pl.col("element").is_in(list(elements)))
    flagged = under_element(days, chosen, chosen["element"].unique())
    return flagged.join(
        chosen.select("municipality_code", "element", "in_place_from", "in_place_until"),
        on=["municipality_code", "element"],
    ).with_columns(
        phase=pl.when(in_period())
        .then(pl.lit(AFTER))
        .when((pl.col("report_date") < pl.col("in_place_from")) & ~pl.col("under"))
        .then(pl.lit(BEFORE))
        .otherwise(pl.lit(OTHER))
    )


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
    rows: pl.DataFrame,
    indicator: Indicator,
    periods: pl.DataFrame,
    published: pl.DataFrame,
    memberships: pl.DataFrame,
) -> pl.DataFrame:
    """Both comparisons of one indicator over the elements it touches, counts only."""
    elements = list(indicator.approach_elements)
    days = day_counts(rows)
    quarter_keys = ["municipality_code", "year", "quarter"]
    status = under_element(days, periods, elements).with_columns(
        status=pl.when(pl.col("under")).then(pl.lit(WITH)).otherwise(pl.lit(WITHOUT))
    )
    ww_pieces = status.group_by("element", *quarter_keys, "status").agg(
        pl.col("numerator").sum(), pl.col("denominator").sum()
    )
    ww = with_without(eligible_pieces(ww_pieces, ["element"], published), memberships)
    phases = introduction_phases(days, periods, elements).rename({"phase": "status"})
    ba_pieces = phases.group_by("element", "in_place_from", *quarter_keys, "status").agg(
        pl.col("numerator").sum(), pl.col("denominator").sum()
    )
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
            suppression_reason=pl.when(hidden).then(pl.lit("primary")),
        )
        .with_columns(
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
            for c in [*figures, "difference", "difference_low", "difference_high"]
        )
        .select(COMPARISON_COLUMNS)
    )


def comparison_table(
    con: duckdb.DuckDBPyConnection,
    values: pl.DataFrame,
    delivered: list[str],
    periods: pl.DataFrame,
) -> pl.DataFrame:
    """`approach_comparison` (docs/mart.md): every proportion indicator × the elements the
    catalogue says it touches, against the published `values` that decide eligibility."""
    memberships = area_memberships(delivered).filter(pl.col("area_type") != "municipality")
    empty = pl.DataFrame(schema=comparison_schema())
    if periods.is_empty():
        return empty
    parts = [
        indicator_comparisons(
            unit_rows(con, ind), ind, periods, published_quarters(values, ind.id), memberships
        )
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


def comparison_schema() -> dict[str, pl.DataType]:
    integer = {f"{f}_{g}" for f in ("numerator", "denominator") for g in ("with", "without")}
    schema: dict[str, pl.DataType] = {}
    for column in COMPARISON_COLUMNS:
        if column in integer:
            schema[column] = pl.Int64()
        elif column == "year":
            schema[column] = pl.Int32()
        elif column == "introduced":
            schema[column] = pl.Date()
        elif column == "suppressed":
            schema[column] = pl.Boolean()
        elif column in {
            "comparison",
            "element",
            "indicator_id",
            "area_type",
            "area_code",
            "period",
            "period_type",
            "suppression_reason",
        }:
            schema[column] = pl.String()
        else:
            schema[column] = pl.Float64()
    return schema


def approach_tables(
    con: duckdb.DuckDBPyConnection,
    values: pl.DataFrame,
    delivered: list[str],
    as_of: date | None = None,
) -> dict[str, pl.DataFrame]:
    """The mart's `approach_profiles` (no notes) and `approach_comparison`."""
    periods = profiles(con, as_of)
    return {
        "approach_profiles": periods,
        "approach_comparison": comparison_table(con, values, delivered, periods),
    }
