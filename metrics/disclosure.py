"""Disclosure control of the published table: primary and secondary suppression (INDICATORS.md).

Flow: `primary` marks the cells that are too small to show and keeps their figures, because
`secondary` needs the true counts to pool the suppressed cells; `secondary` (which applies
`primary` itself when the frame has no `suppressed` column yet) protects them against
recovery by subtraction and then empties every suppressed row's figures. Only the output of
`secondary` may be published.

The table is read as a set of additive equations "total = sum of parts", over numerators and
denominators alike:
- a breakdown family: the `all` row = the sum of its categories (e.g. every `violence_type=`);
- a region (or NL): the area's row = the sum of its member municipalities' rows;
- a period: a cohort year's row = the sum of its four quarters' rows.
Each equation with a published total must leave either no suppressed part or at least two
suppressed parts with cases that, pooled, pass the primary rule themselves; otherwise the
published part with the smallest non-zero denominator is suppressed too, or the total when
no such part is left. An equation with a suppressed total must not have all parts with cases
published (their sum would give the total back); its smallest part is suppressed. Passes
repeat until nothing changes, so a cell suppressed for one equation is then protected in
every other equation it belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import polars as pl

MIN_DENOMINATOR = 10  # a proportion or median on fewer cases is never shown
MIN_CELL, MAX_CELL = 1, 4  # numerator or denominator - numerator in 1..4 is suppressed
MIN_MEDIAN_EVENTS = 5
UNITS = ("proportion", "days")
FIGURES = ("numerator", "denominator", "value", "ci_low", "ci_high")
KEYS = ("indicator_id", "area_type", "area_code", "period", "breakdown")
_ROW = "__row"
_SLICE = "__slice"  # one integer per (indicator_id, period, breakdown): cheap join keys


def _fails_primary(
    numerator: npt.NDArray[np.int64], denominator: npt.NDArray[np.int64], is_median: np.ndarray
) -> npt.NDArray[np.bool_]:
    """The primary rule on arrays: True where the figure must be suppressed."""
    small_den = denominator < MIN_DENOMINATOR
    proportion_fails = (
        small_den
        | ((numerator >= MIN_CELL) & (numerator <= MAX_CELL))
        | ((denominator - numerator >= MIN_CELL) & (denominator - numerator <= MAX_CELL))
    )
    median_fails = small_den | (numerator < MIN_MEDIAN_EVENTS)
    return np.where(is_median, median_fails, proportion_fails)


def _with_unit(frame: pl.DataFrame, units: Mapping[str, str] | None) -> pl.DataFrame:
    if units is not None:
        frame = frame.with_columns(
            pl.col("indicator_id").replace_strict(dict(units), return_dtype=pl.String).alias("unit")
        )
    if "unit" not in frame.columns:
        raise ValueError("disclosure control needs a `unit` column or a `units` mapping")
    unknown = set(frame["unit"].unique().to_list()) - set(UNITS)
    if unknown:
        raise ValueError(f"unknown unit(s) {sorted(map(str, unknown))}; expected {UNITS}")
    return frame


def _counts(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numerators, denominators (0 where empty) and where a figure is missing altogether."""
    missing = (frame["numerator"].is_null() | frame["denominator"].is_null()).to_numpy()
    numerator = frame["numerator"].fill_null(0).cast(pl.Int64).to_numpy()
    denominator = frame["denominator"].fill_null(0).cast(pl.Int64).to_numpy()
    return numerator, denominator, missing


def primary(frame: pl.DataFrame, *, units: Mapping[str, str] | None = None) -> pl.DataFrame:
    """Set `suppressed` and `suppression_reason` ('primary' or null) by the primary rule.

    unit 'proportion': denominator < 10, or numerator in 1..4, or denominator - numerator in
    1..4. unit 'days' (a median; numerator = events, denominator = cases): denominator < 10
    or fewer than 5 events. A row without numerator or denominator counts as failing.
    The unit comes from a `unit` column, or from `units` (indicator_id -> unit) when given.
    The figures are kept for `secondary`: never publish this function's output as it is.
    """
    checked = _with_unit(frame, units)
    numerator, denominator, missing = _counts(checked)
    is_median = (checked["unit"] == "days").to_numpy()
    fails = _fails_primary(numerator, denominator, is_median) | missing
    result = checked.with_columns(
        pl.Series("suppressed", fails, dtype=pl.Boolean),
        pl.when(pl.Series(fails)).then(pl.lit("primary")).alias("suppression_reason"),
    )
    return result if units is None or "unit" in frame.columns else result.drop("unit")


def _family_equations(rows: pl.LazyFrame) -> pl.LazyFrame:
    totals = rows.filter(pl.col("breakdown") == "all").select(
        "indicator_id", "area_type", "area_code", "period", pl.col(_ROW).alias("total_row")
    )
    parts = rows.filter(pl.col("breakdown") != "all").select(
        "indicator_id",
        "area_type",
        "area_code",
        "period",
        pl.col("breakdown").str.split("=").list.first().alias("family"),
        pl.col(_ROW).alias("part_row"),
    )
    return totals.join(parts, on=["indicator_id", "area_type", "area_code", "period"]).select(
        pl.lit("family").alias("kind"), "total_row", "family", "part_row"
    )


def _region_equations(rows: pl.LazyFrame, memberships: pl.LazyFrame) -> pl.LazyFrame:
    totals = rows.filter(pl.col("area_type") != "municipality").join(memberships, on="area_code")
    parts = rows.filter(pl.col("area_type") == "municipality").select(
        _SLICE,
        pl.col("area_code").alias("municipality_code"),
        pl.col(_ROW).alias("part_row"),
    )
    return totals.join(parts, on=[_SLICE, "municipality_code"]).select(
        pl.lit("region").alias("kind"),
        pl.col(_ROW).alias("total_row"),
        pl.lit("").alias("family"),
        "part_row",
    )


def _area_pairs(memberships: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pairs of areas whose identities combine into a new one, with the areas' kinds.

    nested: (outer, inner, municipality_code) for regions whose members include all of
    another area's (or equal them): outer = inner + the municipalities of outer not in inner,
    so the difference of two published regions is an equation of its own.
    partition: (NL, region) for every region type whose regions split NL's members exactly:
    NL = the sum of that type's regions.
    """
    sizes = memberships.group_by("area_code").agg(pl.len().alias("size"))
    shared = (
        memberships.join(memberships, on="municipality_code", suffix="_inner")
        .filter(pl.col("area_code") != pl.col("area_code_inner"))
        .group_by("area_code", "area_code_inner")
        .agg(pl.len().alias("shared"))
        .join(
            sizes.rename({"area_code": "area_code_inner", "size": "inner_size"}),
            on="area_code_inner",
        )
    )
    pairs = shared.filter(
        (pl.col("shared") == pl.col("inner_size")) & (pl.col("area_code") != "NL")
    ).select("area_code", "area_code_inner")
    rest = pairs.join(memberships, on="area_code").join(
        memberships.rename({"area_code": "area_code_inner"}),
        on=["area_code_inner", "municipality_code"],
        how="anti",
    )
    region_type = pl.col("area_code").str.split(":").list.first()
    national = memberships.filter(pl.col("area_code") == "NL")
    regional = memberships.filter(pl.col("area_code").str.contains(":", literal=True))
    splits = (
        regional.with_columns(region_type.alias("region_type"))
        .group_by("region_type")
        .agg(
            pl.len().alias("members"),
            pl.col("municipality_code").n_unique().alias("distinct"),
            pl.col("municipality_code")
            .is_in(national["municipality_code"].implode())
            .all()
            .alias("inside"),
        )
        .filter(
            (pl.col("members") == national.height)
            & (pl.col("distinct") == national.height)
            & pl.col("inside")
        )
    )
    partition = (
        regional.select("area_code")
        .unique()
        .filter(region_type.is_in(splits["region_type"].implode()))
        .select(pl.lit("NL").alias("area_code_outer"), pl.col("area_code").alias("area_code_inner"))
    )
    return pairs.join(rest, on=["area_code", "area_code_inner"], how="left"), partition


def _derived_equations(rows: pl.LazyFrame, memberships: pl.DataFrame) -> pl.LazyFrame:
    """Identities between areas: nested regions and NL as the sum of one region type."""
    nested, partition = _area_pairs(memberships)
    slice_keys = [_SLICE]
    areas = rows.filter(pl.col("area_type") != "municipality").select(
        *slice_keys, "area_code", pl.col(_ROW).alias("row")
    )
    munis = rows.filter(pl.col("area_type") == "municipality").select(
        *slice_keys, pl.col("area_code").alias("municipality_code"), pl.col(_ROW).alias("row")
    )
    outer = areas.rename({"row": "total_row"}).join(
        nested.lazy().select("area_code", "area_code_inner").unique(), on="area_code"
    )
    inner_parts = outer.join(
        areas.rename({"area_code": "area_code_inner", "row": "part_row"}),
        on=[*slice_keys, "area_code_inner"],
    )
    muni_parts = outer.join(
        nested.lazy().drop_nulls("municipality_code"), on=["area_code", "area_code_inner"]
    ).join(munis.rename({"row": "part_row"}), on=[*slice_keys, "municipality_code"])
    region_parts = (
        areas.rename({"area_code": "area_code_outer", "row": "total_row"})
        .join(partition.lazy(), on="area_code_outer")
        .join(
            areas.rename({"area_code": "area_code_inner", "row": "part_row"}),
            on=[*slice_keys, "area_code_inner"],
        )
        .with_columns(pl.col("area_code_inner").str.split(":").list.first())
    )
    shape = [pl.col("total_row"), pl.col("family"), pl.col("part_row")]
    return pl.concat(
        [
            pl.concat([inner_parts, muni_parts], how="diagonal").select(
                pl.lit("nested").alias("kind"),
                *shape[:1],
                pl.col("area_code_inner").alias("family"),
                shape[2],
            ),
            region_parts.select(
                pl.lit("partition").alias("kind"),
                *shape[:1],
                pl.col("area_code_inner").alias("family"),
                shape[2],
            ),
        ]
    )


def _period_equations(rows: pl.LazyFrame) -> pl.LazyFrame:
    is_quarter = pl.col("period").str.contains("-Q", literal=True)
    keys = ["indicator_id", "area_type", "area_code", "breakdown", "year"]
    year = pl.col("period").str.slice(0, 4).alias("year")
    totals = rows.filter(~is_quarter).select(*keys[:-1], year, pl.col(_ROW).alias("total_row"))
    parts = rows.filter(is_quarter).select(*keys[:-1], year, pl.col(_ROW).alias("part_row"))
    return totals.join(parts, on=keys).select(
        pl.lit("period").alias("kind"), "total_row", pl.lit("").alias("family"), "part_row"
    )


def _equations(frame: pl.DataFrame, memberships: pl.DataFrame) -> pl.DataFrame:
    """Long table of every additive equation: eq (dense id), total_row, part_row."""
    slices = frame.select("indicator_id", "period", "breakdown").unique().with_row_index(_SLICE)
    rows = frame.join(slices, on=["indicator_id", "period", "breakdown"], how="left").lazy()
    members = memberships.lazy().select(
        pl.col("area_code").cast(pl.String), pl.col("municipality_code").cast(pl.String)
    )
    present = frame.filter(pl.col("area_type") == "municipality")["area_code"].unique()
    delivering = members.filter(pl.col("municipality_code").is_in(present.implode())).collect()
    equations = pl.concat(
        [
            _family_equations(rows),
            _region_equations(rows, members),
            _derived_equations(rows, delivering),
            _period_equations(rows),
        ]
    )
    # One id per (kind, total, family): a group_by is far cheaper than ranking a struct.
    return (
        equations.group_by("kind", "total_row", "family")
        .agg("part_row")
        .with_row_index("eq")
        .explode("part_row")
        .select(pl.col("eq").cast(pl.Int64), "total_row", "part_row")
        .collect()
    )


def _secondary_rows(
    equations: pl.DataFrame,
    numerator: np.ndarray,
    denominator: np.ndarray,
    is_median: np.ndarray,
    suppressed: np.ndarray,
) -> np.ndarray:
    """Iterate the equation rules to a fixed point; returns the final suppressed mask."""
    suppressed = suppressed.copy()
    if equations.is_empty():
        return suppressed
    # Parts ordered by equation, then smallest denominator, then row: the first eligible part
    # of an equation is the one to suppress next (ties go to the earlier row).
    ordered = equations.with_columns(
        pl.Series("den", denominator[equations["part_row"].to_numpy()])
    ).sort("eq", "den", "part_row")
    eq = ordered["eq"].to_numpy()
    part = ordered["part_row"].to_numpy()
    n_eq = int(eq.max()) + 1
    total = np.zeros(n_eq, dtype=np.int64)
    total[eq] = ordered["total_row"].to_numpy()
    part_num, part_den = numerator[part], denominator[part]
    has_cases = part_den > 0
    while True:
        part_sup = suppressed[part]
        hidden = part_sup & has_cases
        n_hidden = np.bincount(eq, weights=hidden, minlength=n_eq)
        pooled_num = np.bincount(eq, weights=part_num * hidden, minlength=n_eq).astype(np.int64)
        pooled_den = np.bincount(eq, weights=part_den * hidden, minlength=n_eq).astype(np.int64)
        eligible = ~part_sup & has_cases
        first_eq, first_at = np.unique(eq[eligible], return_index=True)
        candidate = np.full(n_eq, -1, dtype=np.int64)
        candidate[first_eq] = part[eligible][first_at]

        total_sup = suppressed[total]
        exposed = (~total_sup) & (n_hidden >= 1)
        exposed &= (n_hidden < 2) | _fails_primary(pooled_num, pooled_den, is_median[total])
        # The parts of a suppressed total must not all be published: they would add up to it.
        summable = total_sup & (denominator[total] > 0) & (n_hidden == 0) & (candidate >= 0)
        to_hide = np.concatenate(
            [
                np.where(candidate >= 0, candidate, total)[exposed],
                candidate[summable],
            ]
        )
        new = to_hide[~suppressed[to_hide]]
        if new.size == 0:
            return suppressed
        suppressed[new] = True


def secondary(
    frame: pl.DataFrame,
    *,
    memberships: pl.DataFrame,
    units: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Protect primary-suppressed cells against subtraction, then empty all suppressed figures.

    `frame`: rows shaped like `indicator_values` (KEYS, numerator, denominator, value, ci_low,
    ci_high, and `unit` or a `units` mapping), with their true figures; when it has no
    `suppressed` column `primary` is applied first. `memberships`: `area_code,
    municipality_code` for every region and NL (only its delivering municipalities matter:
    the others have no rows). Rows suppressed here get reason 'secondary'; every suppressed
    row gets empty figures and, where those columns exist, comparisons 'not_compared' and an
    empty `median_reached`.
    """
    marked = primary(frame, units=units) if "suppressed" not in frame.columns else frame
    marked = _with_unit(marked, units).with_row_index(_ROW)
    numerator, denominator, missing = _counts(marked)
    is_median = (marked["unit"] == "days").to_numpy()
    before = marked["suppressed"].fill_null(True).to_numpy() | missing
    after = _secondary_rows(
        _equations(marked, memberships), numerator, denominator, is_median, before
    )
    hidden = pl.Series(after)
    result = marked.with_columns(
        hidden.alias("suppressed"),
        pl.when(pl.Series(after & ~before))
        .then(pl.lit("secondary"))
        .when(hidden)
        .then(pl.col("suppression_reason").fill_null("primary"))
        .alias("suppression_reason"),
    ).with_columns(
        [
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(column)).alias(column)
            for column in FIGURES
        ]
    )
    for column in ("comparison_region", "comparison_national"):
        if column in result.columns:
            result = result.with_columns(
                pl.when(pl.col("suppressed"))
                .then(pl.lit("not_compared"))
                .otherwise(pl.col(column))
                .alias(column)
            )
    if "median_reached" in result.columns:
        result = result.with_columns(
            pl.when(pl.col("suppressed"))
            .then(None)
            .otherwise(pl.col("median_reached"))
            .alias("median_reached")
        )
    result = result.drop(_ROW)
    return result if units is None or "unit" in frame.columns else result.drop("unit")
