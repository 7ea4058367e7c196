"""Disclosure control of the published table (INDICATORS.md, docs/methods.md "The guarantee").

Flow: `primary` marks the cells that are too small to show and keeps their figures, because
protecting them needs the true counts; `protect` (which applies `primary` itself when the
frame has no `suppressed` column yet) suppresses more until the guarantee holds and then
empties every suppressed row's figures. Only the output of `protect` may be published.

Protection has two steps. Secondary suppression reads the table as a set of additive
equations "total = sum of parts", over numerators and denominators alike:
- a breakdown family: the `all` row = the sum of its categories (e.g. every `violence_type=`);
- a region (or NL): the area's row = the sum of its member municipalities' rows;
- a period: a cohort year's row = the sum of its four quarters' rows;
- nested regions: a region containing another = the inner one + the municipalities outside it;
- a partition: NL = the sum of the regions of one type, when they split NL's municipalities.
No equation spans two indicators, so a table's suppression is that of each indicator alone;
nested regions and partitions count, per indicator, the municipalities with rows of it (one
without any holds none of its cases, in any region).

Each equation with a published total must leave either no suppressed part or at least two
suppressed parts with cases that, pooled, pass the primary rule themselves and keep a
numerator and a complement where the total has one (a pool of 0 would tell each part's);
otherwise the published part with the smallest non-zero denominator is suppressed too (on a
tie the first in key order, so the result never depends on the order of the rows), or the
total when no such part is left. An equation with a suppressed total must not have all parts
with cases published (their sum would give the total back); its smallest part is suppressed.
Passes repeat until nothing changes, so a cell suppressed for one equation is then protected
in every other equation it belongs to.

Equations one at a time do not stop an attacker who combines them. The audit
(`metrics.audit`) then checks every cell the primary rule protects against all of them at
once; for each cell it finds too well known, the published cell best placed to blur it in
each of its equations is suppressed too, secondary suppression runs again and the audit
looks again at those cells, until none is left (each round hides more, so it ends).

At national scale the equations are built once as integer arrays from a grid of row numbers
over (indicator, area, period, breakdown), not by joins on text keys, and each secondary
pass after the first judges only the equations that contain a newly hidden cell: the result
is the same as judging them all every pass.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from hgkm import reference
from metrics import audit

MIN_DENOMINATOR = 10  # a proportion or median on fewer cases is never shown
MIN_CELL, MAX_CELL = 1, 4  # numerator or denominator - numerator in 1..4 is suppressed
MIN_MEDIAN_EVENTS = 5
UNITS = ("proportion", "days")
FIGURES = ("numerator", "denominator", "value", "ci_low", "ci_high")
KEYS = ("indicator_id", "area_type", "area_code", "period", "breakdown")
_ROW = "__row"
STUCK_ROUNDS = 8  # repairs of one exposed row before its years are hidden
# What is published finer than a cohort year's total (docs/methods.md, "What is published"):
# quarters of breakdown `all` for municipalities, the regions of one type and the country;
# breakdown categories of cohort years for those regions and the country. Every other region
# type has its cohort years only. Finer cells would be mostly too small to show, and each one
# published ties more suppressed cells together.
FINE_REGION_TYPE = reference.DEFAULT_REGION_TYPE


def has_quarters(area_type: pl.Expr, area_code: pl.Expr) -> pl.Expr:
    """Whether an area (by its type and code) has quarters (breakdown `all`)."""
    return (area_type != "region") | area_code.str.starts_with(f"{FINE_REGION_TYPE}:")


def has_categories(area_type: pl.Expr, area_code: pl.Expr) -> pl.Expr:
    """Whether an area has breakdown categories (cohort years)."""
    return (area_type == "national") | area_code.str.starts_with(f"{FINE_REGION_TYPE}:")


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
    """Set `suppressed` by the primary rule.

    unit 'proportion': denominator < 10, or numerator in 1..4, or denominator - numerator in
    1..4. unit 'days' (a median; numerator = events, denominator = cases): denominator < 10
    or fewer than 5 events. A row without numerator or denominator counts as failing.
    The unit comes from a `unit` column, or from `units` (indicator_id -> unit) when given.
    The figures are kept for `protect`: never publish this function's output as it is.
    """
    checked = _with_unit(frame, units)
    numerator, denominator, missing = _counts(checked)
    is_median = (checked["unit"] == "days").to_numpy()
    fails = _fails_primary(numerator, denominator, is_median) | missing
    result = checked.with_columns(pl.Series("suppressed", fails, dtype=pl.Boolean))
    return result if units is None or "unit" in frame.columns else result.drop("unit")


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


def _codes(frame: pl.DataFrame, columns: list[str], name: str) -> tuple[pl.DataFrame, np.ndarray]:
    """A dense integer per distinct value of `columns`: the lookup table and each row's code."""
    table = frame.select(columns).unique().sort(columns).with_row_index(name)
    coded = frame.select(columns).join(table, on=columns, how="left", maintain_order="left")
    return table, coded[name].cast(pl.Int64).to_numpy()


@dataclass(frozen=True)
class _Grid:
    """The table as an array over (indicator, area, period, breakdown) holding each row's number
    (-1 where the table has no row), with the codes of the area, period and breakdown axes."""

    cell: npt.NDArray[np.int64]
    position: npt.NDArray[np.int64]  # each row's place in `cell`, flat: the rows in key order
    areas: pl.DataFrame  # area, area_type, area_code
    periods: pl.DataFrame  # period_code, period
    breakdowns: pl.DataFrame  # breakdown_code, breakdown


def _grid(frame: pl.DataFrame) -> _Grid:
    empty = [key for key in KEYS if frame[key].null_count()]
    if empty:
        raise ValueError(f"disclosure control needs every key filled; empty in {empty}")
    tables, codes = zip(
        *(
            _codes(frame, columns, name)
            for columns, name in (
                (["indicator_id"], "indicator_code"),
                (["area_type", "area_code"], "area"),
                (["period"], "period_code"),
                (["breakdown"], "breakdown_code"),
            )
        ),
        strict=True,
    )
    cell = np.full(tuple(table.height for table in tables), -1, dtype=np.int64)
    cell[codes] = np.arange(frame.height, dtype=np.int64)
    if int(np.count_nonzero(cell >= 0)) < frame.height:
        raise ValueError(f"disclosure control needs unique keys {KEYS}; some rows repeat them")
    return _Grid(
        cell,
        position=np.asarray(np.ravel_multi_index(codes, cell.shape), dtype=np.int64),
        areas=tables[1],
        periods=tables[2],
        breakdowns=tables[3],
    )


def _along(
    cell: npt.NDArray[np.int64], axis: int, pairs: pl.DataFrame
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(total row, part row, label) of one kind of equation at every position of the other axes.

    `pairs` (total, part, label), sorted, lists codes on `axis` that add up: every total with
    each of its parts, and a label telling apart the sets of parts one total has. With the
    pairs as the last axis, the entries of one equation come out next to each other.
    """
    moved = np.moveaxis(cell, axis, -1)
    totals = np.take(moved, pairs["total"].to_numpy(), axis=-1)
    parts = np.take(moved, pairs["part"].to_numpy(), axis=-1)
    labels = np.broadcast_to(pairs["label"].to_numpy(), totals.shape)
    both = (totals >= 0) & (parts >= 0)
    return totals[both], parts[both], labels[both]


def _pairs(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col("total", "part", "label").cast(pl.Int64)).sort(
        "total", "label", "part"
    )


def _family_pairs(breakdowns: pl.DataFrame) -> pl.DataFrame:
    """A breakdown family: `all` = the sum of its categories, labelled by family."""
    family = pl.col("breakdown").str.split("=").list.first()
    categories = breakdowns.filter(pl.col("breakdown") != "all").with_columns(
        label=family.rank("dense")
    )
    totals = breakdowns.filter(pl.col("breakdown") == "all").select(total="breakdown_code")
    return _pairs(totals.join(categories.rename({"breakdown_code": "part"}), how="cross"))


def _period_pairs(periods: pl.DataFrame) -> pl.DataFrame:
    """A cohort year = the sum of its quarters (matched on the period's first four characters)."""
    coded = periods.with_columns(
        year=pl.col("period").str.slice(0, 4),
        is_quarter=pl.col("period").str.contains("-Q", literal=True),
    )
    years = coded.filter(~pl.col("is_quarter")).select("year", total="period_code")
    quarters = coded.filter(pl.col("is_quarter")).select("year", part="period_code")
    return _pairs(years.join(quarters, on="year").with_columns(label=pl.lit(0)))


@functools.lru_cache(maxsize=16)
def _area_equation_pairs(
    area_keys: tuple[tuple[str, str], ...],
    listed: tuple[tuple[str, str], ...],
    present: frozenset[str],
) -> tuple[pl.DataFrame, ...]:
    """Pairs on the area axis for the region, nested and partition equations, from the grid's
    areas (area_type, area_code, in code order), the memberships (area_code,
    municipality_code) and the municipalities with rows (`present`).

    Kept for the inputs seen last: the indicators of one publication share the memberships
    and mostly their areas, so each distinct set is paired once.
    """
    areas = pl.DataFrame(
        list(area_keys), schema={"area_type": pl.String, "area_code": pl.String}, orient="row"
    ).with_row_index("area")
    memberships = pl.DataFrame(
        list(listed), schema={"area_code": pl.String, "municipality_code": pl.String}, orient="row"
    )
    delivering = memberships.filter(pl.col("municipality_code").is_in(list(present)))
    munis = areas.filter(pl.col("area_type") == "municipality").select(
        "area", municipality_code="area_code"
    )
    others = areas.filter(pl.col("area_type") != "municipality").select("area", "area_code")
    region = (
        memberships.unique()
        .join(others.rename({"area": "total"}), on="area_code")
        .join(munis.rename({"area": "part"}), on="municipality_code")
        .with_columns(label=pl.lit(0))
    )
    nested, partition = _area_pairs(delivering)
    # Label a nested equation by its inner area's code among the memberships: the inner area
    # need not have a row in every slice, its outside municipalities still form the equation.
    inner_label = (
        memberships.select(area_code_inner="area_code").unique().sort("area_code_inner")
    ).with_row_index("label")
    outer = nested.join(others.rename({"area": "total"}), on="area_code").join(
        inner_label, on="area_code_inner"
    )
    inner_parts = (
        outer.select("total", "area_code_inner", "label")
        .unique()
        .join(others.rename({"area": "part", "area_code": "area_code_inner"}), on="area_code_inner")
    )
    muni_parts = outer.drop_nulls("municipality_code").join(
        munis.rename({"area": "part"}), on="municipality_code"
    )
    region_type = pl.col("area_code_inner").str.split(":").list.first()
    split = (
        partition.with_columns(label=region_type.rank("dense"))
        .join(
            others.rename({"area": "total", "area_code": "area_code_outer"}), on="area_code_outer"
        )
        .join(others.rename({"area": "part", "area_code": "area_code_inner"}), on="area_code_inner")
    )
    return (
        _pairs(region),
        _pairs(pl.concat([_pairs(inner_parts), _pairs(muni_parts)])),
        _pairs(split),
    )


@dataclass(frozen=True)
class _Equations:
    """Every additive equation: `total[e]` = the sum of `part[start[e]:start[e + 1]]`, and the
    order in which parts are hidden: by denominator, then keys (`rank` of each row, and the
    row of each rank in `by_rank`)."""

    total: npt.NDArray[np.int64]
    part: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    eq: npt.NDArray[np.int64]  # the equation of each part
    rank: npt.NDArray[np.int64]
    by_rank: npt.NDArray[np.int64]


def _equations(
    frame: pl.DataFrame, memberships: pl.DataFrame, denominator: npt.NDArray[np.int64]
) -> _Equations:
    """Build every equation once, as integer arrays (see the module docstring for the kinds)."""
    grid = _grid(frame)
    members = memberships.select(pl.col("area_code", "municipality_code").cast(pl.String))
    municipal = (grid.areas["area_type"] == "municipality").to_numpy()
    family, period = _family_pairs(grid.breakdowns), _period_pairs(grid.periods)
    areas = tuple(grid.areas.select("area_type", "area_code").iter_rows())
    codes = grid.areas["area_code"].to_numpy()
    # Slices of four shapes: years or quarters, of breakdown `all` or of a category. An area
    # publishes some shapes only (`has_quarters`, `has_categories`): the region equations of
    # a shape are among the areas with rows of that shape, a missing row of such an area
    # being an empty population.
    quarterly = grid.periods["period"].str.contains("-Q", literal=True).to_numpy()
    overall = (grid.breakdowns["breakdown"] == "all").to_numpy()
    shapes = [
        (quarterly[:, None] == q) & (overall[None, :] == a)
        for q in (False, True)
        for a in (True, False)
    ]
    n_rows = max(frame.height, 1)
    nothing = np.zeros(0, dtype=np.int64)
    keys, parts = [nothing], [nothing]
    # No equation spans two indicators: one indicator at a time bounds the temporary arrays,
    # and the secondary suppression of a table is that of each of its indicators alone.
    for indicator in range(grid.cell.shape[0]):
        block = grid.cell[indicator : indicator + 1]
        # Nested regions and partitions of NL count the municipalities with rows of this
        # indicator: one without any holds no cases of it, in any region.
        with_rows = municipal & (block[0] >= 0).any(axis=(1, 2))
        present = frozenset(grid.areas.filter(pl.Series(with_rows))["area_code"].to_list())
        kinds: list[tuple[np.ndarray, int, pl.DataFrame]] = [(block, 3, family)]
        for shape in shapes:
            cells = np.where(shape, block, -1)
            if not (cells >= 0).any():
                continue
            shown = frozenset(codes[(cells[0] >= 0).any(axis=(1, 2))].tolist())
            listed = tuple(row for row in members.iter_rows() if row[0] in shown)
            kinds += [(cells, 1, p) for p in _area_equation_pairs(areas, listed, present)]
        kinds.append((block, 2, period))
        n_labels = 1 + max(int(pairs["label"].to_numpy().max(initial=0)) for *_, pairs in kinds)
        for kind, (shaped, axis, pairs) in enumerate(kinds):
            totals, kind_parts, labels = _along(shaped, axis, pairs)
            # One integer names an equation: its kind, its label and its total row.
            keys.append((kind * n_labels + labels) * n_rows + totals)
            parts.append(kind_parts)
    key, part = np.concatenate(keys), np.concatenate(parts)
    by_rank = np.lexsort((grid.position, denominator)).astype(np.int64)
    rank = np.empty(denominator.size, dtype=np.int64)
    rank[by_rank] = np.arange(denominator.size)
    if key.size == 0:
        start = np.zeros(1, dtype=np.int64)
        return _Equations(total=key, part=part, start=start, eq=key, rank=rank, by_rank=by_rank)
    # The parts of one equation come out next to each other (see `_along`).
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return _Equations(
        total=key[first] % n_rows,
        part=part,
        start=np.r_[first, key.size].astype(np.int64),
        eq=np.cumsum(np.r_[False, key[1:] != key[:-1]], dtype=np.int64),
        rank=rank,
        by_rank=by_rank,
    )


def _ranges(start: npt.NDArray[np.int64], stop: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Every index in [start[i], stop[i]) for all i, concatenated in order."""
    lengths = stop - start
    ends = np.cumsum(lengths)
    offsets = np.repeat(start - (ends - lengths), lengths)
    return offsets + np.arange(int(ends[-1]) if ends.size else 0, dtype=np.int64)


def _index(keys: npt.NDArray[np.int64], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `keys` (row numbers, below `size`) grouped by value:
    `order[start[v]:start[v + 1]]` are where v is, in no particular order.

    Sorted by polars on 32-bit integers (every core; several times `np.argsort` on int64).
    """
    small = keys.astype(np.int32) if size < 2**31 else keys
    order = pl.Series(small).arg_sort().to_numpy()
    start = np.r_[0, np.cumsum(np.bincount(keys, minlength=size))].astype(np.int64)
    return order, start


def _distinct(values: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.int64]:
    """The distinct values in 0..size-1, sorted: a mask beats np.unique's sort or hash here."""
    seen = np.zeros(size, dtype=bool)
    seen[values] = True
    return np.flatnonzero(seen)


def _secondary_rows(
    equations: _Equations,
    numerator: npt.NDArray[np.int64],
    denominator: npt.NDArray[np.int64],
    is_median: np.ndarray,
    suppressed: np.ndarray,
) -> np.ndarray:
    """Iterate the equation rules to a fixed point; returns the final suppressed mask.

    Each pass judges every equation on the same state and hides what the violated ones ask
    for. Only an equation with a newly hidden cell can change its verdict, so after the first
    pass only those are judged again, with their counts of hidden parts updated in place.
    """
    suppressed = suppressed.copy()
    n_eq, n_rows = equations.total.size, suppressed.size
    if n_eq == 0:
        return suppressed
    eq, part, total = equations.eq, equations.part, equations.total
    # Millions of parts: gather booleans rather than counts, and each gather once, since
    # every large temporary costs fresh pages.
    has_cases = (denominator > 0)[part]
    hidden = np.flatnonzero(suppressed[part] & has_cases)
    hidden_eq, hidden_row = eq[hidden], part[hidden]
    n_hidden = np.bincount(hidden_eq, minlength=n_eq).astype(np.int64)
    pooled_num = np.bincount(hidden_eq, weights=numerator[hidden_row], minlength=n_eq)
    pooled_den = np.bincount(hidden_eq, weights=denominator[hidden_row], minlength=n_eq)
    del hidden, hidden_eq, hidden_row
    # Counts stay exact in floating point far beyond any table's size (2**53).
    pooled_num, pooled_den = pooled_num.astype(np.int64), pooled_den.astype(np.int64)
    as_part, part_start = _index(part, n_rows)
    as_total, total_start = _index(total, n_rows)
    judged = np.arange(n_eq, dtype=np.int64)
    while True:
        totals = total[judged]
        hidden_parts = n_hidden[judged]
        total_hidden = suppressed[totals]
        exposed = (~total_hidden) & (hidden_parts >= 1)
        pool_num, pool_den = pooled_num[judged], pooled_den[judged]
        exposed &= (
            (hidden_parts < 2)
            | _fails_primary(pool_num, pool_den, is_median[totals])
            # A pool with no numerator (or no complement) where its total has one tells each
            # hidden part's: 0 (a total of 0 says it for its parts itself).
            | ((pool_num == 0) & (numerator[totals] > 0))
            | ((pool_den - pool_num == 0) & (denominator[totals] - numerator[totals] > 0))
        )
        # The parts of a suppressed total must not all be published: they would add up to it.
        summable = total_hidden & (denominator[totals] > 0) & (hidden_parts == 0)
        asking = exposed | summable
        chosen = _first_open(equations, judged[asking], suppressed, has_cases)
        exposed, summable = exposed[asking], summable[asking] & (chosen >= 0)
        fallback = np.where(chosen >= 0, chosen, totals[asking])
        to_hide = np.concatenate([fallback[exposed], chosen[summable]])
        new = _distinct(to_hide[~suppressed[to_hide]], n_rows)
        if new.size == 0:
            return suppressed
        suppressed[new] = True
        touched = as_part[_ranges(part_start[new], part_start[new + 1])]
        counted = touched[has_cases[touched]]
        np.add.at(n_hidden, eq[counted], 1)
        np.add.at(pooled_num, eq[counted], numerator[part[counted]])
        np.add.at(pooled_den, eq[counted], denominator[part[counted]])
        judged = _distinct(
            np.concatenate(
                [eq[touched], as_total[_ranges(total_start[new], total_start[new + 1])]]
            ),
            n_eq,
        )


def _first_open(
    equations: _Equations,
    asked: npt.NDArray[np.int64],
    suppressed: np.ndarray,
    has_cases: np.ndarray,
) -> npt.NDArray[np.int64]:
    """For each equation in `asked` (ascending), its published part with cases that comes
    first in hiding order (smallest denominator, then keys); -1 where there is none.

    Only the equations that must hide something are asked, so a pass scans their parts, not
    every part of every equation.
    """
    eq, part = equations.eq, equations.part
    positions = _ranges(equations.start[asked], equations.start[asked + 1])
    open_ = positions[~suppressed[part[positions]] & has_cases[positions]]
    found = np.full(asked.size, -1, dtype=np.int64)
    if open_.size == 0:
        return found
    open_eq = eq[open_]
    starts = np.flatnonzero(np.r_[True, open_eq[1:] != open_eq[:-1]])
    first = equations.by_rank[np.minimum.reduceat(equations.rank[part[open_]], starts)]
    found[np.searchsorted(asked, open_eq[starts])] = first
    return found


def audited(suppressions: Sequence[Suppression]) -> list[np.ndarray]:
    """The suppressed masks of indicators that count one population (or of one alone): the
    primary cells, then secondary suppression, then the audit (`metrics.audit`), which also
    checks, across them, the denominators they share (`audit.link`); while it finds a
    primary cell too well known, more cells are hidden with it (`Suppression.repaired`, in
    every indicator sharing a denominator found) and secondary suppression runs again. Each
    round hides more, so it ends."""
    for suppression in suppressions:
        suppression._check_sums()
    hidden = [s.secondary(s.primary) for s in suppressions]
    tables = [s.audit_table(h) for s, h in zip(suppressions, hidden, strict=True)]
    linked = (
        audit.link(tables, [s.frame.select(KEYS[2:]) for s in suppressions])
        if len(suppressions) > 1
        else None
    )
    auditors = [audit.Auditor(table) for table in tables]
    failing = [auditor.check() for auditor in auditors]
    if linked:
        failing = linked[0].recheck(auditors, failing)
    shared_failing = linked[0].check() if linked else np.zeros(0, dtype=bool)
    rounds = [np.zeros(f.size, dtype=np.int64) for f in failing]
    shared_rounds = np.zeros(shared_failing.size, dtype=np.int64)
    while any(f.any() for f in failing) or shared_failing.any():
        # a row still exposed after STUCK_ROUNDS repairs is one its partners do not reach
        # (another indicator pins it): its years are hidden at once
        rounds = [np.where(f, r + 1, 0) for f, r in zip(failing, rounds, strict=True)]
        shared_rounds = np.where(shared_failing, shared_rounds + 1, 0)
        of = linked[1] if linked else None
        if of is not None:
            exposed = [(o >= 0) & shared_failing[np.maximum(o, 0)] for o in of]
            stuck = [
                (o >= 0) & (shared_rounds[np.maximum(o, 0)] >= STUCK_ROUNDS) & e
                for o, e in zip(of, exposed, strict=True)
            ]
        else:
            exposed = [np.zeros_like(f) for f in failing]
            stuck = [np.zeros_like(f) for f in failing]
        stuck = [s | (r >= STUCK_ROUNDS) for s, r in zip(stuck, rounds, strict=True)]
        grown = _repair(suppressions, hidden, failing, exposed, stuck, of, widen_shared=False)
        if not grown:
            # no indicator sharing an exposed denominator publishes a partner of it
            grown = _repair(suppressions, hidden, failing, exposed, stuck, of, widen_shared=True)
        if not grown:
            raise RuntimeError("the audit finds cells exposed with nothing left to hide")
        for table, mask in zip(tables, hidden, strict=True):
            table.hidden = mask
        if linked:
            linked[0].update()
            shared_failing = linked[0].check(shared_failing)
        failing = [a.check(f) for a, f in zip(auditors, failing, strict=True)]
        if linked:
            failing = linked[0].recheck(auditors, failing)
    return hidden


def _repair(
    suppressions: Sequence[Suppression],
    hidden: list[np.ndarray],
    failing: list[np.ndarray],
    shared: list[np.ndarray],
    stuck: list[np.ndarray],
    of: Sequence[npt.NDArray[np.int64]] | None,
    *,
    widen_shared: bool,
) -> bool:
    """Hide more, in place in `hidden`, with each indicator's failing rows: its own (when no
    partner is published, the rest of their years), then those whose shared denominator
    (`of`: each row's shared row, -1 for none) is exposed (the rest of their years only with
    `widen_shared`: another indicator sharing it may publish a partner instead); `stuck`
    rows, the rest of their years at once. A shared partner hidden for an exposed shared
    denominator is hidden in every indicator sharing it, or the others would still show it.
    Returns whether anything was added."""
    before = [h.copy() for h in hidden]
    for i, suppression in enumerate(suppressions):
        if (failing[i] & ~stuck[i]).any():
            hidden[i] = suppression.repaired(hidden[i], np.flatnonzero(failing[i] & ~stuck[i]))
        if stuck[i].any():
            hidden[i] = suppression.widened(hidden[i], np.flatnonzero(stuck[i]))
    if of is not None:
        picked = np.zeros(max(int(o.max()) + 1 for o in of), dtype=bool)
        for i, suppression in enumerate(suppressions):
            rows = shared[i] & ~stuck[i]
            if rows.any():
                added = ~hidden[i]
                hidden[i] = suppression.repaired(
                    hidden[i], np.flatnonzero(rows), widen=widen_shared
                )
                added &= hidden[i] & (of[i] >= 0)
                picked[of[i][added]] = True
        for i, suppression in enumerate(suppressions):
            rows = (of[i] >= 0) & picked[np.maximum(of[i], 0)] & ~hidden[i]
            if rows.any():
                hidden[i] = suppression.secondary(hidden[i] | rows)
    return any((h != b).any() for h, b in zip(hidden, before, strict=True))


def _partners(
    equations: _Equations,
    failing: npt.NDArray[np.int64],
    hidden: np.ndarray,
    numerator: npt.NDArray[np.int64],
    denominator: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """The published cells to hide with the failing ones: in every equation a failing cell is
    in, the published part that can give and take both ways (a numerator and a complement
    of at least 1) with the smallest denominator (then key order); failing that, any
    published part; failing that, the total."""
    rows = np.concatenate([equations.part, equations.total])
    eqs = np.concatenate([equations.eq, np.arange(equations.total.size)])
    is_total = np.r_[np.zeros(equations.part.size), np.ones(equations.total.size)].astype(bool)
    with_failing = _mask(failing, hidden.size)[rows]
    open_ = ~hidden[rows] & (denominator[rows] > 0)
    both_ways = (numerator[rows] > 0) & (denominator[rows] > numerator[rows])
    size = hidden.size + 1
    order = (is_total * 2 + ~both_ways) * size + equations.rank[rows]
    pairs = pl.DataFrame({"eq": eqs[with_failing]}).unique()
    candidates = pl.DataFrame({"eq": eqs[open_], "row": rows[open_], "order": order[open_]})
    chosen = (
        pairs.join(candidates, on="eq").group_by("eq").agg(pl.col("row").sort_by("order").first())
    )
    return np.unique(chosen["row"].to_numpy())


class Suppression:
    """One table's true figures and additive equations, suppressed step by step: `primary`
    (the rule's own cells), `secondary` (the equations one at a time) and, with the module's
    `audited`, all of them at once (`metrics.audit`); `published` empties the suppressed
    figures.

    `frame`: rows shaped like `indicator_values` (KEYS, numerator, denominator, value,
    ci_low, ci_high, and `unit` or a `units` mapping), with their true figures; when it has
    no `suppressed` column the primary rule marks it. `memberships`: `area_code,
    municipality_code` for every region and NL (only its delivering municipalities matter:
    the others have no rows)."""

    def __init__(
        self,
        frame: pl.DataFrame,
        *,
        memberships: pl.DataFrame,
        units: Mapping[str, str] | None = None,
    ) -> None:
        marked = primary(frame, units=units) if "suppressed" not in frame.columns else frame
        self.frame = _with_unit(marked, units)
        self.memberships = memberships
        self.numerator, self.denominator, missing = _counts(self.frame)
        self.is_median = (self.frame["unit"] == "days").to_numpy()
        self.primary = self.frame["suppressed"].fill_null(True).to_numpy() | missing
        self.equations = _equations(self.frame, memberships, self.denominator)

    def secondary(self, hidden: np.ndarray) -> np.ndarray:
        """`hidden` grown until every equation, taken alone, protects its suppressed parts."""
        return _secondary_rows(
            self.equations, self.numerator, self.denominator, self.is_median, hidden
        )

    def audit_table(self, hidden: np.ndarray) -> audit.Table:
        """The audit's view of this table with `hidden` suppressed."""
        return audit.table_of(
            self.frame.select(KEYS),
            self.memberships,
            numerator=self.numerator,
            denominator=self.denominator,
            is_median=self.is_median,
            hidden=hidden,
            protected=self.primary & (self.denominator > 0),
            equations=audit.Equations(
                self.equations.total, self.equations.part, self.equations.start
            ),
            local_type=FINE_REGION_TYPE,
        )

    def repaired(
        self, hidden: np.ndarray, failing: npt.NDArray[np.int64], *, widen: bool = True
    ) -> np.ndarray:
        """`hidden` with more cells hidden with the `failing` ones (`_partners`; with
        `widen`, when none is published, the rest of their years) and secondary suppression
        again; `hidden` itself when there is nothing to add."""
        added = _partners(self.equations, failing, hidden, self.numerator, self.denominator)
        if added.size == 0:
            return self.widened(hidden, failing) if widen else hidden
        return self.secondary(hidden | _mask(added, hidden.size))

    def widened(self, hidden: np.ndarray, failing: npt.NDArray[np.int64]) -> np.ndarray:
        """`hidden` with every row of the `failing` rows' years hidden too, and secondary
        suppression again; `hidden` itself when there is nothing to add."""
        years = self.frame["period"].str.slice(0, 4).to_numpy()
        added = np.isin(years, years[failing]) & ~hidden
        return self.secondary(hidden | added) if added.any() else hidden

    def _check_sums(self) -> None:
        """The audit reads the equations as the attacker does: they must hold for the true
        figures (a missing row is an empty population), or nothing it proves is true."""
        eqs = self.equations
        for values, name in ((self.numerator, "numerator"), (self.denominator, "denominator")):
            sums = np.bincount(eqs.eq, weights=values[eqs.part], minlength=eqs.total.size)
            wrong = np.flatnonzero(sums.astype(np.int64) != values[eqs.total])
            if wrong.size:
                row = self.frame.row(int(eqs.total[wrong[0]]), named=True)
                key = ", ".join(f"{k}={row[k]}" for k in KEYS)
                raise ValueError(
                    f"the {name}s do not add up in {wrong.size} equation(s), e.g. the row "
                    f"{key} is not the sum of its parts: a part is missing or miscounted"
                )

    def published(self, hidden: np.ndarray) -> pl.DataFrame:
        """The frame with `suppressed` = `hidden` and every suppressed row's figures emptied
        (comparisons 'not_compared', `median_reached` empty, where those columns exist)."""
        result = self.frame.with_columns(pl.Series("suppressed", hidden)).with_columns(
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(column)).alias(column)
            for column in FIGURES
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
        return result


def _mask(rows: npt.NDArray[np.int64], size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[rows] = True
    return mask


def protect(
    frame: pl.DataFrame,
    *,
    memberships: pl.DataFrame,
    units: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Suppress what the primary rule protects and whatever else it takes for the guarantee
    (docs/methods.md), then empty all suppressed figures: the only output that may be
    published. See `Suppression` for the arguments. Why a row is suppressed is not published:
    it would tell which cells pass the primary rule.
    """
    return protect_population([frame], memberships=memberships, units=units)[0]


def protect_population(
    frames: Sequence[pl.DataFrame],
    *,
    memberships: pl.DataFrame,
    units: Mapping[str, str] | None = None,
) -> list[pl.DataFrame]:
    """`protect` for indicators that count one population under different windows (one
    frame each): where their denominators are equal they are the same, and they are
    protected together (`audited`)."""
    suppressions = [Suppression(f, memberships=memberships, units=units) for f in frames]
    results = [
        s.published(hidden) for s, hidden in zip(suppressions, audited(suppressions), strict=True)
    ]
    return [
        result if units is None or "unit" in frame.columns else result.drop("unit")
        for result, frame in zip(results, frames, strict=True)
    ]
