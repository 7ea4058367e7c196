"""What a new mart changes against the publication before it: `release_changes`, the table an
analyst reviews before approving (and the revision notes of every published mart).

Cells are matched by their keys (indicator, area, period, breakdown), and compared by what the
public sees of them: whether a figure is shown, its value and interval, its comparisons. Per
area, the coverage (how many of its municipalities delivered). Only published figures enter
this table — of the old mart or of the new one — never a suppressed value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import polars as pl

KEYS = ("indicator_id", "area_type", "area_code", "period", "breakdown")
FIGURES = ("value", "ci_low", "ci_high", "suppressed", "comparison_national", "comparison_region")
# In the order the review lists them; `coverage` rows are per area, not per cell.
KINDS = ("moved", "newly_suppressed", "removed", "newly_shown", "comparison", "coverage")
SCHEMA: dict[str, pl.DataType] = {
    "change": pl.String(),
    **{key: pl.String() for key in KEYS[:3]},
    "area_name": pl.String(),
    **{key: pl.String() for key in KEYS[3:]},
    **{
        f"{side}_{name}": pl.Boolean() if name == "suppressed" else pl.Float64()
        for side in ("old", "new")
        for name in ("value", "ci_low", "ci_high", "suppressed")
    },
    **{
        f"{side}_{name}": pl.String()
        for name in ("comparison_national", "comparison_region")
        for side in ("old", "new")
    },
    "old_coverage": pl.Int32(),
    "new_coverage": pl.Int32(),
    "coverage_total": pl.Int32(),
}


# The cells that differ between the mart `base` and the new `indicator_values` (registered as
# `new_cells`), joined by their keys. Most cells are the same in both marts: rows equal in
# keys and figures are set aside first by a hash of the whole row, so that the join matches
# only the few that differ (a join of every cell on five text keys cost more than the rest).
CHANGED_CELLS_SQL = """
with old as (select {columns}, hash({columns}) as h from base.indicator_values),
new as (select {columns}, hash({columns}) as h from new_cells),
old_only as (select * from old anti join new using (h)),
new_only as (select * from new anti join old using (h))
select {keys}, {figures}
from new_only n full join old_only o using ({keys})
"""


def _read(base: Path, values: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The cells that differ from the mart `base` (old_* and new_* figures), and its areas."""
    columns = ", ".join(KEYS + FIGURES)
    figures = ", ".join(f"{side[0]}.{f} as {side}_{f}" for side in ("new", "old") for f in FIGURES)
    con = duckdb.connect()
    try:
        con.execute("attach ? as base (read_only)", [str(base)])
        con.register("new_cells", values.select(*KEYS, *FIGURES))
        query = CHANGED_CELLS_SQL.format(columns=columns, keys=", ".join(KEYS), figures=figures)
        cells = con.sql(query).pl()
        areas = con.sql("select area_code, n_delivered from base.areas").pl()
    finally:
        con.close()
    return cells, areas


def changes_table(base: Path | None, values: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """Every visible change from the mart `base` (None: no publication yet, no changes) to a
    mart with these `indicator_values` and `areas`: one row per cell (or area) and kind."""
    if base is None:
        return pl.DataFrame(schema=SCHEMA)
    joined, old_areas = _read(base, values)
    old_shown = pl.col("old_suppressed").is_not_null() & ~pl.col("old_suppressed")
    new_shown = pl.col("new_suppressed").is_not_null() & ~pl.col("new_suppressed")
    both = old_shown & new_shown
    # A median that became reached (or no longer is) moved as far as a reader can tell; so did
    # a value whose old interval is unknown (a median's may be open) and that changed.
    outside = (
        (pl.col("new_value").is_null() != pl.col("old_value").is_null())
        | (pl.col("new_value") < pl.col("old_ci_low"))
        | (pl.col("new_value") > pl.col("old_ci_high"))
        | (
            (pl.col("old_ci_low").is_null() | pl.col("old_ci_high").is_null())
            & (pl.col("new_value") != pl.col("old_value"))
        )
    ).fill_null(False)
    flipped = (pl.col("new_comparison_national") != pl.col("old_comparison_national")) | (
        pl.col("new_comparison_region") != pl.col("old_comparison_region")
    )
    kinds = {
        "moved": both & outside,
        "newly_suppressed": old_shown & pl.col("new_suppressed").fill_null(False),
        "removed": old_shown & pl.col("new_suppressed").is_null(),
        "newly_shown": new_shown & ~old_shown,
        "comparison": both & flipped.fill_null(False),
    }
    cells = pl.concat(
        [joined.filter(rule).with_columns(change=pl.lit(kind)) for kind, rule in kinds.items()]
    ).with_columns(
        old_coverage=pl.lit(None, pl.Int32),
        new_coverage=pl.lit(None, pl.Int32),
        coverage_total=pl.lit(None, pl.Int32),
    )
    coverage = (
        areas.select(
            "area_type",
            "area_code",
            "area_name",
            new_coverage=pl.col("n_delivered").cast(pl.Int32),
            coverage_total=pl.col("n_municipalities").cast(pl.Int32),
        )
        .join(
            old_areas.select("area_code", old_coverage=pl.col("n_delivered").cast(pl.Int32)),
            on="area_code",
            how="left",
        )
        .filter(pl.col("new_coverage") != pl.col("old_coverage").fill_null(0))
        .with_columns(change=pl.lit("coverage"))
    )
    names = areas.select("area_code", "area_name")
    rank = {kind: n for n, kind in enumerate(KINDS)}
    return (
        pl.concat([cells.join(names, on="area_code", how="left"), coverage], how="diagonal_relaxed")
        .select(list(SCHEMA))
        .cast(SCHEMA)  # type: ignore[arg-type]
        .sort(
            pl.col("change").replace_strict(rank, return_dtype=pl.Int32),
            *KEYS,
            nulls_last=True,
        )
    )


def with_changes(
    tables: Iterable[tuple[str, pl.DataFrame]], base: Path | None
) -> Iterator[tuple[str, pl.DataFrame]]:
    """The mart's tables as built, then `release_changes` against the mart `base`."""
    built: dict[str, pl.DataFrame] = {}
    for name, table in tables:
        built[name] = table
        yield name, table
    yield "release_changes", changes_table(base, built["indicator_values"], built["areas"])
