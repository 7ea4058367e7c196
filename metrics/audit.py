"""The attacker's audit: from everything published, how well is each suppressed cell known?

The attacker of docs/methods.md ("The guarantee") knows every published figure, every
additive equation of the published table (`disclosure.equations`), that a row exists only
when its population is not empty, and 0 <= numerator <= denominator. For each suppressed
cell they can derive an interval for its numerator y, its complement z = denominator - y and
its denominator d: the range of that quantity over every table consistent with all of it (a
linear programme). The guarantee asks, for every suppressed cell and each quantity:

- the interval is never a single value (a numerator or complement known to be 0 because a
  published cell containing it is 0 is exempt: that cell already said so);
- a value the primary rule protects (numerator or complement 1..4 of a proportion, events
  0..4 of a median, a denominator under 10) lies in an interval that also holds a value the
  rule would let through (0, or 5 or more; a denominator of 10 or more).

Proving it needs no interval exactly: every table we can construct that is consistent with
what is published is a point the attacker cannot rule out, so the hull of the values a cell
takes over such tables lies inside the attacker's interval. `certify` constructs them from
the true table in two ways, both exact for the tables they build:

- blocks: a municipality's quarters (or breakdown categories) of a year inside its Veilig
  Thuis region form a two-way table whose margins are published or fixed; in any 2 x k block
  of suppressed cells, mass moves between rows and columns without changing a margin, and
  the range each cell can take is Fréchet's closed form (vectorised over the whole table);
- linear programmes (HiGHS) over the suppressed cells of one indicator and cohort year that
  the blocks left unproven, with every equation touching them and every other cell at its
  true value, first with a few aggregate objectives and then cell by cell; when a cell still
  fails, over all suppressed cells of that indicator and year (the attacker's own problem,
  every other cell being published).

A cell that fails then is a real failure: `disclosure` suppresses more and audits again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import sparse
from scipy.sparse import csgraph

IntArray = npt.NDArray[np.int64]
# HiGHS' solver without the Python wrapper's callbacks, whose set-up prints a banner on stdout
# (the wrapper exports it for this use; its stubs do not list it).
Solver: Any = highspy._Highs  # type: ignore[attr-defined]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Equations:
    """`total[e]` = the sum of `part[start[e]:start[e + 1]]`, row numbers of one table."""

    total: IntArray
    part: IntArray
    start: IntArray

    @functools.cached_property
    def eq(self) -> IntArray:
        """The equation of each entry of `part`."""
        return np.repeat(np.arange(self.total.size, dtype=np.int64), np.diff(self.start))

    @functools.cached_property
    def members(self) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]]:
        """Every equation's rows with their signs (total +1, parts -1), the total first:
        `(start, row, sign)`, equation e at `start[e]:start[e + 1]`."""
        n_eq = self.total.size
        start = self.start + np.arange(n_eq + 1)
        row = np.empty(self.part.size + n_eq, dtype=np.int64)
        sign = np.full(row.size, -1.0)
        row[start[:-1]] = self.total
        sign[start[:-1]] = 1.0
        parts = np.ones(row.size, dtype=bool)
        parts[start[:-1]] = False
        row[parts] = self.part
        return start, row, sign

    @functools.cached_property
    def of_row(self) -> tuple[IntArray, IntArray]:
        """The equations each row is in: `(start, eq)`, row r's at `start[r]:start[r + 1]`."""
        _, row, _ = self.members
        which = np.repeat(np.arange(self.total.size, dtype=np.int64), np.diff(self.members[0]))
        order = np.argsort(row, kind="stable")
        size = int(row.max(initial=-1)) + 1
        return np.r_[0, np.cumsum(np.bincount(row, minlength=size))], which[order]


def _spans(start: IntArray, stop: IntArray) -> IntArray:
    """Every index in [start[i], stop[i]) for all i, concatenated in order."""
    lengths = stop - start
    ends = np.cumsum(lengths)
    return np.repeat(start - (ends - lengths), lengths) + np.arange(
        int(ends[-1]) if ends.size else 0, dtype=np.int64
    )


@dataclass
class Table:
    """One indicator's rows with their true counts, what is hidden and how rows group."""

    numerator: IntArray
    denominator: IntArray
    is_median: BoolArray
    hidden: BoolArray
    protected: BoolArray  # the true figures fail the primary rule: what the guarantee is about
    fine: BoolArray  # a quarter or a breakdown category (not a cohort year's total)
    part: IntArray  # indicator and cohort year: no equation joins two of them
    line: IntArray  # indicator, area and cohort year: a year's total, its quarters and categories
    local: IntArray  # indicator and Veilig Thuis region of a municipality or the region; else -1
    block: IntArray  # a municipality's quarters or categories: its two-way table, else -1
    block_row: IntArray  # the municipality within the block
    block_col: IntArray  # the quarter or category within the block
    equations: Equations
    implied: BoolArray  # per equation: implied by others (see `components`)
    # the denominator is another indicator's too (`SharedDenominators`): its own audit keeps
    # it at its true value, moving only numerator against complement
    linked: BoolArray

    @property
    def complement(self) -> IntArray:
        return self.denominator - self.numerator


def _ids(frame: pl.DataFrame, columns: list[str]) -> IntArray:
    """A dense id per distinct value of `columns`, -1 where any of them is null."""
    ids = frame.select(
        pl.when(pl.all_horizontal(pl.col(c).is_not_null() for c in columns))
        .then(pl.struct(columns).rank("dense"))
        .cast(pl.Int64)
        - 1
    ).to_series()
    return ids.fill_null(-1).to_numpy()


def table_of(
    keys: pl.DataFrame,
    memberships: pl.DataFrame,
    *,
    numerator: IntArray,
    denominator: IntArray,
    is_median: BoolArray,
    hidden: BoolArray,
    protected: BoolArray,
    equations: Equations,
    local_type: str,
) -> Table:
    """The audit's view of a table: `keys` (indicator_id, area_type, area_code, period,
    breakdown) of its rows, `memberships` (area_code, municipality_code) of every region and
    the country, and the region type whose regions (`local_type`) group municipalities.

    A municipality's quarters or categories join a block only if every equation they are in
    is their own year's or one whose total holds all of their local region's municipalities:
    then moving counts within the block changes no equation's sum (sound whatever the shape
    of the table; the others are left to the programmes)."""
    local_code = (
        memberships.filter(pl.col("area_code").str.starts_with(f"{local_type}:"))
        .select("municipality_code", local="area_code")
        .unique("municipality_code", keep="first")
    )
    rows = (
        keys.with_columns(
            year=pl.col("period").str.slice(0, 4),
            quarterly=pl.col("period").str.contains("-Q", literal=True),
            fine=pl.col("period").str.contains("-Q", literal=True) | (pl.col("breakdown") != "all"),
        )
        .join(local_code, left_on="area_code", right_on="municipality_code", how="left")
        .with_columns(
            local=pl.when(pl.col("area_type") == "municipality")
            .then(pl.col("local"))
            .when(pl.col("area_code").str.starts_with(f"{local_type}:"))
            .then(pl.col("area_code"))
        )
    )
    municipal_fine = (pl.col("area_type") == "municipality") & pl.col("fine")
    rows = rows.with_columns(
        kind=pl.when(pl.col("quarterly"))
        .then(pl.lit("quarter"))
        .otherwise(pl.col("breakdown").str.split("=").list.first()),
        block_local=pl.when(municipal_fine).then(pl.col("local")),
    )
    part = _ids(rows, ["indicator_id", "year"])
    line = _ids(rows, ["indicator_id", "area_code", "year"])
    local = _ids(rows, ["indicator_id", "local"])
    block = _ids(rows, ["indicator_id", "block_local", "year", "kind"])
    block_row = _ids(rows, ["area_code"])
    block_col = _ids(rows, ["period", "breakdown"])
    # The blocks' soundness: every equation of a block cell is its line's, or has a total
    # holding all of the cell's local region.
    eq = equations.eq
    area = _ids(rows, ["area_code"])
    sizes = memberships.group_by("area_code").agg(pl.len().alias("size"))
    holds = (
        local_code.join(memberships, on="municipality_code")
        .group_by("area_code", "local")
        .agg(pl.len().alias("shared"))
        .join(sizes.rename({"area_code": "local", "size": "local_size"}), on="local")
        .filter(pl.col("shared") == pl.col("local_size"))
        .select("area_code", "local")
    )
    area_codes = rows.select("area_code", area=pl.Series(area)).unique()
    local_codes = rows.select("local", local_id=pl.Series(_ids(rows, ["local"]))).unique()
    pairs = (
        holds.join(area_codes, on="area_code")
        .join(local_codes.drop_nulls(), on="local")
        .select(key=pl.col("area") * (int(area.max(initial=0)) + 1) + pl.col("local_id"))
    )["key"].to_numpy()
    cell_local = _ids(rows, ["local"])
    in_block = block >= 0
    as_part = equations.part
    total = equations.total[eq]
    own_line = line[total] == line[as_part]
    holding = np.isin(area[total] * (int(area.max(initial=0)) + 1) + cell_local[as_part], pairs)
    unsound = np.zeros(block.size, dtype=bool)
    unsound[as_part[in_block[as_part] & ~(own_line | holding)]] = True
    # a block cell is never a total (quarters of a breakdown category are not published)
    unsound[equations.total[in_block[equations.total]]] = True
    block = np.where(unsound, -1, block)
    # The country over its municipalities, where the country is also the sum of the regions
    # of a type (each itself the sum of its municipalities): implied.
    first = equations.part[equations.start[:-1]] if eq.size else np.zeros(0, dtype=np.int64)
    area_type = rows["area_type"].to_numpy()
    national_total = area_type[equations.total] == "national"
    over_regions = national_total & (area_type[first] == "region")
    split = np.zeros(block.size, dtype=bool)
    split[equations.total[over_regions]] = True
    implied = national_total & (area_type[first] == "municipality") & split[equations.total]
    return Table(
        numerator=numerator,
        denominator=denominator,
        is_median=is_median,
        hidden=hidden,
        protected=protected,
        fine=rows["fine"].to_numpy(),
        part=part,
        line=line,
        local=local,
        block=block,
        block_row=block_row,
        block_col=block_col,
        equations=equations,
        implied=implied,
        linked=np.zeros(block.size, dtype=bool),
    )


@dataclass
class Ranges:
    """The values each cell was seen to take in tables consistent with the publication."""

    lo_y: IntArray
    hi_y: IntArray
    lo_z: IntArray
    hi_z: IntArray
    hi_d: IntArray

    @classmethod
    def of_truth(cls, table: Table) -> Ranges:
        y, z = table.numerator.copy(), table.complement.copy()
        return cls(y.copy(), y, z.copy(), z, table.denominator.copy())

    def widen(self, cells: IntArray, lo_y, hi_y, lo_z, hi_z, hi_d) -> None:  # noqa: ANN001
        for target, values, op in (
            (self.lo_y, lo_y, np.minimum),
            (self.hi_y, hi_y, np.maximum),
            (self.lo_z, lo_z, np.minimum),
            (self.hi_z, hi_z, np.maximum),
            (self.hi_d, hi_d, np.maximum),
        ):
            if values is not None:
                target[cells] = op(target[cells], np.rint(values).astype(np.int64))


# What the primary rule protects (inclusive ranges), per quantity and unit.
PROPORTION_PROTECTED = {"y": (1, 4), "z": (1, 4), "d": (0, 9)}
MEDIAN_PROTECTED = {"y": (0, 4), "z": None, "d": (0, 9)}


def known_zero(table: Table, values: IntArray) -> BoolArray:
    """Cells whose `values` (numerator or complement) are 0 because a cell holding them is: a
    cell the primary rule would publish (published or not) with 0, and every part of an
    equation whose total is known to be 0. Such a 0 says nothing the rule protects: every
    family of a group that may be shown with none has none."""
    zero = ~table.protected & (values == 0)
    eqs = table.equations
    eq = eqs.eq
    while True:
        spread = zero[eqs.total][eq] & ~zero[eqs.part]
        if not spread.any():
            return zero
        zero[eqs.part[spread]] = True


def unmet(
    table: Table,
    ranges: Ranges,
    exempt_y: BoolArray,
    exempt_z: BoolArray,
    cells: IntArray | None = None,
    quantities: str = "yzd",
) -> BoolArray:
    """Hidden cells (of `cells`, default all) whose seen ranges do not yet meet the guarantee
    (in what it asks of the `quantities`: numerator y, complement z, denominator d)."""
    at = slice(None) if cells is None else cells
    y, d = table.numerator[at], table.denominator[at]
    z = d - y
    lo_y, hi_y, lo_z, hi_z = ranges.lo_y[at], ranges.hi_y[at], ranges.lo_z[at], ranges.hi_z[at]
    fails = np.zeros(y.size, dtype=bool)
    # a numerator (events, for a median) of 1..4 needs 0 or 5+ within reach, and so does the
    # complement of a proportion
    if "y" in quantities:
        fails |= ~exempt_y[at] & (lo_y == hi_y)
        fails |= (y >= 1) & (y <= 4) & (lo_y > 0) & (hi_y < 5)
    if "z" in quantities:
        fails |= ~exempt_z[at] & (lo_z == hi_z)
        fails |= ~table.is_median[at] & (z >= 1) & (z <= 4) & (lo_z > 0) & (hi_z < 5)
    # a denominator of 1..4 needs 5+ within reach (a row exists only with a case); a shared
    # one is `SharedDenominators`' to show
    if "d" in quantities:
        fails |= (d <= 4) & (ranges.hi_d[at] < 5) & ~table.linked[at]
    return fails & table.protected[at]


# ---------------------------------------------------------------------------------------
# Blocks: Fréchet ranges in complete blocks of two-way tables (municipality x quarter/category)


def _block_places(table: Table, cells: IntArray) -> pl.DataFrame:
    """`cells` (in blocks) with their block and their row and column places within it, from
    0; only blocks of up to 62 places a side (bit masks; larger ones are left to the linear
    programmes)."""
    frame = pl.DataFrame(
        {
            "cell": cells,
            "block": table.block[cells],
            "row": table.block_row[cells],
            "col": table.block_col[cells],
        }
    ).with_columns(
        pl.col(axis).rank("dense").over("block").cast(pl.Int64) - 1 for axis in ("row", "col")
    )
    return frame.filter(
        (pl.col("row").max().over("block") < 62) & (pl.col("col").max().over("block") < 62)
    )


def _complete_blocks(cells: pl.DataFrame, line: str, across: str) -> pl.DataFrame:
    """Complete blocks of suppressed cells: sets of places `across` (bit masks) with every
    `line` (row, or column, of one two-way table) suppressed at least there. Two kinds of
    sets: every two places (the most lines), and the places two lines share (the most
    places for those lines); a block within another moves less than it, but these two
    kinds do not contain each other. Returns cell, group, member (the cell's line within
    the group), position (its place across)."""
    bit = pl.lit(2, dtype=pl.Int64).pow(pl.col(across)).cast(pl.Int64)
    masks = cells.group_by("block", line).agg(mask=bit.sum())
    shared = (
        masks.join(masks, on="block", suffix="_other")
        .filter(pl.col(line) <= pl.col(f"{line}_other"))
        .select("block", mask=pl.col("mask") & pl.col("mask_other"))
    )
    places = cells.select("block", across, bit=bit).unique()
    pairs = (
        places.join(places, on="block", suffix="_other")
        .filter(pl.col(across) < pl.col(f"{across}_other"))
        .select("block", mask=pl.col("bit") | pl.col("bit_other"))
    )
    groups = pl.concat([shared, pairs]).unique().with_row_index("group")
    members = (
        groups.join(masks, on="block", suffix="_line")
        .filter((pl.col("mask_line") & pl.col("mask")) == pl.col("mask"))
        .select("group", "block", line, "mask")
    )
    return (
        members.join(cells, on=["block", line])
        .filter((bit & pl.col("mask")) != 0)
        .select("cell", pl.col("group").cast(pl.Int64), member=line, position=across)
    )


def _frechet(
    group: IntArray, member: IntArray, position: IntArray, value: IntArray, lower: IntArray
) -> tuple[IntArray, IntArray]:
    """Exact range of each cell of complete blocks whose line sums (by `member`) and position
    sums are fixed, every cell at or above `lower`: Fréchet's bounds on the excess over the
    lower bounds, max(0, r + c - T) .. min(r, c)."""
    excess = value - lower
    line = _dense(group, member)
    column = _dense(group, position)
    r = np.bincount(line, weights=excess).astype(np.int64)[line]
    c = np.bincount(column, weights=excess).astype(np.int64)[column]
    total = np.bincount(group, weights=excess).astype(np.int64)[group]
    return lower + np.maximum(0, r + c - total), lower + np.minimum(r, c)


def _dense(a: IntArray, b: IntArray) -> IntArray:
    """A dense id per distinct (a, b) pair of non-negative integers."""
    key = a * (int(b.max(initial=0)) + 1) + b
    return np.unique(key, return_inverse=True)[1].reshape(-1)


def _place_pairs(cells: pl.DataFrame, line: str, across: str) -> pl.DataFrame:
    """Every two places `across` a block and the lines suppressed at both: cell1, cell2
    (the line's cells at the first and the second place) and a group number per pair."""
    return (
        cells.join(cells, on=["block", line], suffix="_2")
        .filter(pl.col(across) < pl.col(f"{across}_2"))
        .select(
            cell1="cell",
            cell2="cell_2",
            group=pl.struct("block", across, f"{across}_2").rank("dense").cast(pl.Int64) - 1,
        )
    )


def _boxed_pairs(
    group: IntArray,
    first: IntArray,
    second: IntArray,
    lower: IntArray,
    upper: IntArray,
    values: IntArray,
) -> tuple[IntArray, IntArray]:
    """Range of the first cell of each member of two-place groups, every member's two cells
    keeping their sum, each place's total over the group fixed and every cell within
    [lower, upper]: exact for such groups."""
    total = values[first] + values[second]
    low = np.maximum(lower[first], total - upper[second])
    high = np.minimum(upper[first], total - lower[second])
    size = int(group.max()) + 1
    k = np.bincount(group, weights=values[first], minlength=size).astype(np.int64)[group]
    a = np.bincount(group, weights=low, minlength=size).astype(np.int64)[group]
    b = np.bincount(group, weights=high, minlength=size).astype(np.int64)[group]
    return np.maximum(low, k - (b - high)), np.minimum(high, k - (a - low))


def certify_swaps(table: Table, ranges: Ranges, chosen: BoolArray) -> None:
    """Numerator against complement in pairs of places of the two-way tables: every
    denominator stays (see `certify_blocks`)."""
    cells = np.flatnonzero(table.hidden & (table.block >= 0) & chosen)
    if cells.size == 0:
        return
    frame = pl.DataFrame(
        {
            "cell": cells,
            "block": table.block[cells],
            "row": table.block_row[cells],
            "col": table.block_col[cells],
        }
    )
    y, d = table.numerator, table.denominator
    zero = np.zeros(d.size, dtype=np.int64)
    for line, across in (("row", "col"), ("col", "row")):
        pairs = _place_pairs(frame, line, across)
        if pairs.is_empty():
            continue
        group = pairs["group"].to_numpy()
        one, two = pairs["cell1"].to_numpy(), pairs["cell2"].to_numpy()
        for first, second in ((one, two), (two, one)):
            low, high = _boxed_pairs(group, first, second, zero, d, y)
            np.minimum.at(ranges.lo_y, first, low)
            np.maximum.at(ranges.hi_y, first, high)
            np.minimum.at(ranges.lo_z, first, d[first] - high)
            np.maximum.at(ranges.hi_z, first, d[first] - low)


def certify_blocks(table: Table, ranges: Ranges, chosen: BoolArray) -> None:
    """Widen the ranges of the suppressed fine cells from the blocks of their two-way tables
    (`chosen`: whole tables; see the module docstring): exact ranges of the tables it
    constructs, with every other cell at its true value. Complete blocks move numerators,
    complements or both, so denominators too (not for linked cells, whose denominator
    stays); pairs of places swap numerator and complement within each cell, every
    denominator staying."""
    certify_swaps(table, ranges, chosen)
    cells = np.flatnonzero(table.hidden & (table.block >= 0) & chosen & ~table.linked)
    if cells.size == 0:
        return
    frame = _block_places(table, cells)
    y, z = table.numerator, table.complement
    # With the other quantity at its true value, a row keeps a case where it must.
    alone = {"y": (y, np.maximum(0, 1 - z)), "z": (z, np.maximum(0, 1 - y))}
    # Moving both (the denominator's maximum): a case stays where one was, in the numerator
    # where there was one there, else in the complement.
    keep_y = np.minimum(1, y)
    both = {"y": (y, keep_y), "z": (z, np.where(keep_y > 0, 0, np.minimum(1, z)))}
    for line, across in (("row", "col"), ("col", "row")):
        blocks = _complete_blocks(frame, line, across)
        if blocks.is_empty():
            continue
        cell = blocks["cell"].to_numpy()
        group = blocks["group"].to_numpy()
        member = blocks["member"].to_numpy()
        position = blocks["position"].to_numpy()
        seen = {}
        for quantity, (values, lower) in alone.items():
            seen[quantity] = _frechet(group, member, position, values[cell], lower[cell])
        tops = [
            _frechet(group, member, position, values[cell], lower[cell])[1]
            for values, lower in both.values()
        ]
        top = tops[0] + tops[1]
        for target, values, reduce in (
            (ranges.lo_y, seen["y"][0], np.minimum),
            (ranges.hi_y, seen["y"][1], np.maximum),
            (ranges.lo_z, seen["z"][0], np.minimum),
            (ranges.hi_z, seen["z"][1], np.maximum),
            (ranges.hi_d, top, np.maximum),
        ):
            reduce.at(target, cell, values)


# ---------------------------------------------------------------------------------------
# Linear programmes over groups of hidden cells, everything else at its true value


@dataclass
class _Programme:
    """The attacker's programme restricted to hidden `cells` (all other cells at their true
    values): variables y (numerators) then z (complements) of the cells; every equation
    touching them, for y and z alike; then one row per cell, 1 <= y + z (a row exists only
    with a case), whose upper bound can cap the cell's denominator."""

    cells: IntArray
    n_equations: int
    solver: Any = field(repr=False)

    def solve(
        self, cost_y: npt.NDArray[np.float64], cost_z: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
        cost = np.concatenate([cost_y, cost_z])
        self.solver.changeColsCost(cost.size, np.arange(cost.size, dtype=np.int32), cost)
        self.solver.run()
        if self.solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        values = np.asarray(self.solver.getSolution().col_value)
        n = self.cells.size
        return values[:n], values[n:]

    def cap(self, quantity: str, chosen: IntArray, at: float) -> None:
        """Cap y, z or the denominator (d) of the `chosen` cells (positions) at `at`."""
        n = self.cells.size
        upper = np.full(chosen.size, at)
        if quantity == "d":
            rows = (2 * self.n_equations + chosen).astype(np.int32)
            self.solver.changeRowsBounds(rows.size, rows, np.ones(chosen.size), upper)
        else:
            columns = (chosen + (n if quantity == "z" else 0)).astype(np.int32)
            self.solver.changeColsBounds(columns.size, columns, np.zeros(chosen.size), upper)

    def uncap(self, quantity: str, chosen: IntArray) -> None:
        self.cap(quantity, chosen, COUNT_CEILING if quantity != "d" else highspy.kHighsInf)


def _solver(
    entries: tuple[IntArray, IntArray, npt.NDArray[np.float64]],
    shape: tuple[int, int],
    columns: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    rows: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
) -> Any:
    """A HiGHS solver holding the programme with the constraint matrix's `entries` (row,
    column, value; repeated places add up) of `shape`, the columns' and the rows' (lower,
    upper) bounds and no objective yet: one programme re-solved under many objectives."""
    row, column, value = entries
    n_rows, n_cols = shape
    # column-wise, rows ascending within a column
    key = column * n_rows + row
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key
    solver = Solver()
    solver.setOptionValue("output_flag", False)
    # small programmes re-solved from the last basis: presolve would redo its work each time
    solver.setOptionValue("presolve", "off")
    # A new objective leaves the last basis primal feasible, so the primal simplex goes on
    # from it; the dual simplex (HiGHS' default) must first make it dual feasible again.
    solver.setOptionValue("simplex_strategy", 4)
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = np.zeros(n_cols)
    lp.col_lower_, lp.col_upper_ = columns
    lp.row_lower_, lp.row_upper_ = rows
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.r_[0, np.cumsum(np.bincount(key[first] // n_rows, minlength=n_cols))]
    lp.a_matrix_.index_ = (key[first] % n_rows).astype(np.int32)
    lp.a_matrix_.value_ = (
        np.add.reduceat(value[order], first) if key.size else np.zeros(0)
    ).astype(np.float64)
    solver.passModel(lp)
    return solver


def _programme(table: Table, cells: IntArray) -> _Programme:
    """The equations touching `cells`, their other terms at their true values."""
    eqs = table.equations
    column = np.full(table.numerator.size, -1, dtype=np.int64)
    column[cells] = np.arange(cells.size)
    row_start, row_eq = eqs.of_row
    inside = cells[cells < row_start.size - 1]
    used = np.unique(row_eq[_spans(row_start[inside], row_start[inside + 1])])
    member_start, member_row, member_sign = eqs.members
    at = _spans(member_start[used], member_start[used + 1])
    rows, sign = member_row[at], member_sign[at]
    index = np.repeat(np.arange(used.size), member_start[used + 1] - member_start[used])
    free = column[rows] >= 0
    k, m = cells.size, used.size
    # y block, z block (the same equations), then y + z >= 1 per cell: as coordinates
    eq_rows, eq_cols, eq_signs = index[free], column[rows[free]], sign[free]
    cell_rows = 2 * m + np.arange(k)
    entries = (
        np.concatenate([eq_rows, eq_rows + m, cell_rows, cell_rows]),
        np.concatenate([eq_cols, eq_cols + k, np.arange(k), np.arange(k) + k]),
        np.concatenate([eq_signs, eq_signs, np.ones(2 * k)]),
    )
    fixed = rows[~free]

    def rhs(values: IntArray) -> npt.NDArray[np.float64]:
        sums = np.bincount(index[~free], weights=sign[~free] * values[fixed], minlength=m)
        return -sums.astype(np.float64)

    equal = np.concatenate([rhs(table.numerator), rhs(table.complement)])
    shared = table.linked[cells]
    solver = _solver(
        entries,
        (2 * m + k, 2 * k),
        # bounded, so that every objective has an optimum: far above any count, it cuts off
        # nothing a certificate needs
        (np.zeros(2 * k), np.full(2 * k, COUNT_CEILING)),
        (
            np.concatenate([equal, np.where(shared, table.denominator[cells], 1.0)]),
            np.concatenate([equal, np.where(shared, table.denominator[cells], highspy.kHighsInf)]),
        ),
    )
    return _Programme(cells, m, solver)


COUNT_CEILING = 1e9
JOINT = 2  # open cells above which joint objectives come first
REACH_ROUNDS = 3  # capped objectives per quantity, while they reach more cells


def _asks(table: Table, ranges: Ranges, cell: int, cost_y: float, cost_z: float) -> bool:
    """Whether an objective (down or up on y, z or both) can still help a cell: down on a
    quantity it has not yet seen lower, up on one it has not yet seen at 5 or above."""
    if cost_y and cost_z:
        return bool(ranges.hi_d[cell] < 5)
    if cost_y:
        return bool(
            ranges.lo_y[cell] > 0
            if cost_y > 0
            else ranges.hi_y[cell] < max(5, table.numerator[cell] + 1)
        )
    return bool(
        ranges.lo_z[cell] > 0
        if cost_z > 0
        else ranges.hi_z[cell] < max(5, table.complement[cell] + 1)
    )


def certify_programmes(
    table: Table,
    ranges: Ranges,
    cells: IntArray,
    exempt_y: BoolArray,
    exempt_z: BoolArray,
) -> int:
    """Widen the ranges of `cells` (hidden, one group) by linear programmes over them; returns
    the number of programmes solved.

    With more than JOINT cells open, joint objectives first, each answering many cells at
    once: every open numerator (then complement) down towards 0 (most cells then leave their
    true value too); the counts that must reach 5, each capped at 5 and their sum maximised
    (so no cell takes all), again while that reaches more of them. Then each cell still open
    alone, with the objectives its unmet requirements ask for."""
    if cells.size == 0:
        return 0
    programme = _programme(table, cells)
    solved = 0

    def run(cost_y: npt.NDArray[np.float64], cost_z: npt.NDArray[np.float64]) -> None:
        nonlocal solved
        solved += 1
        solution = programme.solve(cost_y, cost_z)
        if solution is not None:
            sy, sz = solution
            ranges.widen(cells, sy, sy, sz, sz, sy + sz)

    def open_() -> BoolArray:
        return unmet(table, ranges, exempt_y, exempt_z, cells)

    if np.count_nonzero(open_()) > JOINT:
        _joint(programme, table, ranges, cells, open_, run)
    # then each cell still open, with the objectives its unmet requirements ask for
    zero = np.zeros(cells.size)
    for i in np.flatnonzero(open_()):
        cell = cells[i : i + 1]
        for quantity, objectives in _OBJECTIVES:
            for cost_y, cost_z in objectives:
                if not unmet(table, ranges, exempt_y, exempt_z, cell)[0]:
                    break
                if not _asks(table, ranges, cells[i], cost_y, cost_z):
                    continue
                cy, cz = zero.copy(), zero.copy()
                cy[i], cz[i] = cost_y, cost_z
                run(cy, cz)
            # A quantity's objectives done, its range is this programme's whole (or as wide
            # as the guarantee asks): a cell it fails fails whatever else is solved.
            if (
                not unmet(table, ranges, exempt_y, exempt_z, cell)[0]
                or unmet(table, ranges, exempt_y, exempt_z, cell, quantity)[0]
            ):
                break
    return solved


# Each quantity's objectives, as costs on (y, z): down then up; the denominator only up.
_OBJECTIVES = (
    ("y", ((1.0, 0.0), (-1.0, 0.0))),
    ("z", ((0.0, 1.0), (0.0, -1.0))),
    ("d", ((-1.0, -1.0),)),
)


def _joint(
    programme: _Programme,
    table: Table,
    ranges: Ranges,
    cells: IntArray,
    open_: Callable[[], BoolArray],
    run: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], None],
) -> None:
    """The joint objectives of `certify_programmes`."""
    y, z, d = table.numerator[cells], table.complement[cells], table.denominator[cells]
    median = table.is_median[cells]
    zero = np.zeros(cells.size)
    for quantity, low in (("y", ranges.lo_y), ("z", ranges.lo_z)):
        down = (open_() & (low[cells] > 0)).astype(np.float64)
        if down.any():
            run(down, zero) if quantity == "y" else run(zero, down)
    reach = {
        "y": lambda: (ranges.hi_y[cells] < 5) & (y >= 1) & (y <= 4),
        "z": lambda: ~median & (ranges.hi_z[cells] < 5) & (z >= 1) & (z <= 4),
        "d": lambda: (d <= 4) & (ranges.hi_d[cells] < 5),
    }
    for quantity, needs in reach.items():
        for _ in range(REACH_ROUNDS):
            target = np.flatnonzero(open_() & needs())
            if target.size == 0:
                break
            before = int(target.size)
            programme.cap(quantity, target, 5.0)
            cost = np.zeros(cells.size)
            cost[target] = -1.0
            run(cost if quantity in "yd" else zero, cost if quantity in "zd" else zero)
            programme.uncap(quantity, target)
            if int(np.count_nonzero(open_() & needs())) == before:
                break


def components(table: Table) -> IntArray:
    """A component number per suppressed cell (-1 for published ones): cells linked by the
    equations that hold suppressed cells. An equation implied by others (the country over its
    municipalities, when the country is also the sum of one type of regions, each the sum of
    its municipalities) links nothing the others do not: moves that keep those keep it too,
    so a cell's range over its component alone is its range over the whole table."""
    eqs = table.equations
    rows = np.concatenate([eqs.part, eqs.total])
    which = np.concatenate([eqs.eq, np.arange(eqs.total.size)])
    keep = table.hidden[rows] & ~table.implied[which]
    n = table.numerator.size
    graph = sparse.coo_matrix(
        (np.ones(int(keep.sum())), (rows[keep], n + which[keep])),
        shape=(n + eqs.total.size, n + eqs.total.size),
    )
    _, label = csgraph.connected_components(graph, directed=False)
    return np.where(table.hidden, label[:n], -1)


class Auditor:
    """The audit of one table as its suppression grows: what each cell was seen to take stays
    true when more cells are hidden (a table consistent with more published cells is
    consistent with fewer), so every check after the first looks only at the cells that were
    open (see the module docstring for how it looks)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.ranges = Ranges.of_truth(table)
        self.exempt_y = known_zero(table, table.numerator)
        self.exempt_z = known_zero(table, table.complement)
        self.work = {"programmes": 0, "solves": 0}

    def open(self, cells: IntArray | None = None, quantities: str = "yzd") -> BoolArray:
        return unmet(self.table, self.ranges, self.exempt_y, self.exempt_z, cells, quantities)

    def check(self, cells: BoolArray | None = None) -> BoolArray:
        """The protected cells (of `cells`, default all) that no constructed table has yet
        shown to meet the guarantee, after trying: their blocks, then a programme over each
        component (`components`) holding one; their ranges over it are the attacker's own."""
        table = self.table
        candidates = self.open() if cells is None else cells & self.open()
        if candidates.any():
            blocks = np.unique(table.block[candidates & (table.block >= 0)])
            certify_blocks(table, self.ranges, np.isin(table.block, blocks) & (table.block >= 0))
            candidates &= self.open()
        if candidates.any():
            label = components(table)
            order = np.argsort(label, kind="stable")
            bounds = np.searchsorted(label[order], np.arange(label.max() + 2))
            for component in np.unique(label[candidates]):
                group = order[bounds[component] : bounds[component + 1]]
                self.work["programmes"] += 1
                self.work["solves"] += certify_programmes(
                    table, self.ranges, group, self.exempt_y, self.exempt_z
                )
            candidates &= self.open()
        return candidates


# ---------------------------------------------------------------------------------------
# Denominators shared by indicators that count one population


@dataclass
class _Joint:
    """A programme over one component of the shared table (`SharedDenominators._model`): its
    solver and columns, the column of each of its rows (`place`; -1 where fixed) and of each
    indicator's numerators (`columns`, per indicator and row; -1 where fixed)."""

    solver: Any
    n_cols: int
    place: IntArray
    columns: list[IntArray]


@dataclass
class SharedDenominators:
    """The denominators several indicators share, as one table audited on its own (`link`).

    Indicators that count one population under different windows (`Indicator.population`)
    have, in a cell whose windows are complete for all of them, the same denominator, and
    the attacker knows it. Each indicator's own audit keeps such a linked denominator fixed;
    this one moves the denominators themselves. A shared denominator is unknown only where
    every indicator that shares it suppresses it (`table.hidden`); when it moves, each such
    indicator's numerator may move with it within that indicator's own equations and
    0 <= numerator <= denominator (a programme over all of them), or, in the blocks, stays
    where it is (so the denominator stays at or above every numerator: `floor`).
    """

    table: Table  # the shared rows (first), then every indicator's rows not shared
    floor: IntArray
    indicators: list[Table]
    position: list[IntArray]  # per indicator, the row of `table` each of its rows is
    ranges: tuple[IntArray, IntArray] = field(init=False)
    work: dict[str, int] = field(default_factory=lambda: {"programmes": 0, "solves": 0})

    def __post_init__(self) -> None:
        d = self.table.denominator
        self.ranges = (d.copy(), d.copy())

    @property
    def hidden(self) -> BoolArray:
        return self.table.hidden

    @property
    def protected(self) -> BoolArray:
        return self.table.protected

    def update(self) -> None:
        """Follow what the indicators suppress now (only ever more): a shared row hidden by
        all of them is unknown, by only some known; a row not shared as its indicator has it."""
        self.table.hidden = _unknown(self.indicators, self.position, self.table.hidden.size)

    def open(self, cells: IntArray | None = None) -> BoolArray:
        """Protected shared denominators (of `cells`, default all) not yet seen to move, or,
        at 1..4, to reach 5."""
        at = slice(None) if cells is None else cells
        low, high = self.ranges[0][at], self.ranges[1][at]
        d = self.table.denominator[at]
        return self.protected[at] & self.hidden[at] & ((low == high) | ((d <= 4) & (high < 5)))

    def check(self, cells: BoolArray | None = None) -> BoolArray:
        """The open rows (of `cells`) after blocks and a programme per component."""
        candidates = self.open() if cells is None else cells & self.open()
        if candidates.any():
            self._blocks(candidates)
            candidates &= self.open()
        if candidates.any():
            label = components(self.table)
            order = np.argsort(label, kind="stable")
            bounds = np.searchsorted(label[order], np.arange(label.max() + 2))
            for component in np.unique(label[candidates]):
                group = order[bounds[component] : bounds[component + 1]]
                self.work["programmes"] += 1
                self._programme(group)
            candidates &= self.open()
        return candidates

    def _blocks(self, candidates: BoolArray) -> None:
        table = self.table
        blocks = np.unique(table.block[candidates & (table.block >= 0)])
        cells = np.flatnonzero(self.hidden & np.isin(table.block, blocks) & (table.block >= 0))
        if cells.size == 0:
            return
        frame = _block_places(table, cells)
        low, high = self.ranges
        for line, across in (("row", "col"), ("col", "row")):
            found = _complete_blocks(frame, line, across)
            if found.is_empty():
                continue
            cell = found["cell"].to_numpy()
            lo, hi = _frechet(
                found["group"].to_numpy(),
                found["member"].to_numpy(),
                found["position"].to_numpy(),
                table.denominator[cell],
                self.floor[cell],
            )
            np.minimum.at(low, cell, lo)
            np.maximum.at(high, cell, hi)

    def _model(self, cells: IntArray) -> _Joint:
        """The programme over `cells` (one component): their shared denominators and, with
        them, each sharing indicator's numerators there; everything else fixed."""
        d = self.table.denominator
        k = cells.size
        place = np.full(d.size, -1, dtype=np.int64)
        place[cells] = np.arange(k)
        blocks_rows: list[IntArray] = []
        blocks_cols: list[IntArray] = []
        blocks_vals: list[npt.NDArray[np.float64]] = []
        lower: list[npt.NDArray[np.float64]] = []
        upper: list[npt.NDArray[np.float64]] = []
        columns: list[IntArray] = []
        n_rows = 0

        def add(rows: IntArray, columns: IntArray, values: npt.NDArray[np.float64]) -> None:
            blocks_rows.append(rows)
            blocks_cols.append(columns)
            blocks_vals.append(values)

        # the denominators' equations (every indicator's, over the shared rows)
        used, index, rows, sign = _touching(self.table.equations, cells)
        free = place[rows] >= 0
        equal = -np.bincount(
            index[~free], weights=sign[~free] * d[rows[~free]], minlength=used.size
        ).astype(np.float64)
        add(index[free], place[rows[free]], sign[free])
        lower.append(equal)
        upper.append(equal)
        n_rows += used.size
        n_cols = k
        # each indicator's numerators of its rows among `cells`
        for table, of in zip(self.indicators, self.position, strict=True):
            mine = np.flatnonzero(place[of] >= 0)
            column = np.full(of.size, -1, dtype=np.int64)
            columns.append(column)
            if mine.size == 0:
                continue
            column[mine] = n_cols + np.arange(mine.size)
            used, index, rows, sign = _touching(table.equations, mine)
            free = column[rows] >= 0
            y = table.numerator
            equal = -np.bincount(
                index[~free], weights=sign[~free] * y[rows[~free]], minlength=used.size
            ).astype(np.float64)
            add(n_rows + index[free], column[rows[free]], sign[free])
            lower.append(equal)
            upper.append(equal)
            n_rows += used.size
            # 0 <= numerator <= its denominator
            ones = np.ones(mine.size)
            add(n_rows + np.arange(mine.size), column[mine], ones)
            add(n_rows + np.arange(mine.size), place[of[mine]], -ones)
            lower.append(np.full(mine.size, -highspy.kHighsInf))
            upper.append(np.zeros(mine.size))
            n_rows += mine.size
            n_cols += mine.size
        solver = _solver(
            (np.concatenate(blocks_rows), np.concatenate(blocks_cols), np.concatenate(blocks_vals)),
            (n_rows, n_cols),
            (np.r_[np.ones(k), np.zeros(n_cols - k)], np.full(n_cols, COUNT_CEILING)),
            (
                np.concatenate(lower).astype(np.float64),
                np.concatenate(upper).astype(np.float64),
            ),
        )
        return _Joint(solver, n_cols, place, columns)

    def _solve(self, joint: _Joint, cost: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """A solution of `joint` minimising `cost` (over all its columns); empty if none."""
        self.work["solves"] += 1
        solver = joint.solver
        solver.changeColsCost(joint.n_cols, np.arange(joint.n_cols, dtype=np.int32), cost)
        solver.run()
        if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return np.zeros(0)
        return np.asarray(solver.getSolution().col_value)

    def _programme(self, cells: IntArray) -> None:
        """Widen the ranges of the shared denominators of `cells` (one component) by linear
        programmes in which each sharing indicator's numerators move with them."""
        d = self.table.denominator
        k = cells.size
        joint = self._model(cells)
        solver = joint.solver
        low, high = self.ranges

        def run(cost: npt.NDArray[np.float64]) -> None:
            full = np.zeros(joint.n_cols)
            full[:k] = cost
            values = self._solve(joint, full)
            if values.size:
                seen = np.rint(values[:k]).astype(np.int64)
                np.minimum.at(low, cells, seen)
                np.maximum.at(high, cells, seen)

        def open_() -> BoolArray:
            return self.open(cells)

        if np.count_nonzero(open_()) > JOINT:
            run(open_().astype(np.float64))  # every open one down
            small = open_() & (d[cells] <= 4)
            if small.any():  # the small ones up, capped at 5 each so that none takes all
                chosen = np.flatnonzero(small).astype(np.int32)
                ones = np.ones(chosen.size)
                solver.changeColsBounds(chosen.size, chosen, ones, np.full(chosen.size, 5.0))
                run(-small.astype(np.float64))
                solver.changeColsBounds(
                    chosen.size, chosen, ones, np.full(chosen.size, COUNT_CEILING)
                )
        for i in np.flatnonzero(open_()):
            for sense in (1.0, -1.0):
                if self.open(cells[i : i + 1])[0]:
                    cost = np.zeros(k)
                    cost[i] = sense
                    run(cost)

    def recheck(self, auditors: list[Auditor], failing: list[BoolArray]) -> list[BoolArray]:
        """Of the indicators' `failing` rows, those still open after programmes in which the
        denominators they share move too (their own audits keep those fixed, so they see
        less than the attacker can be shown): every solution is a table consistent with the
        whole publication, so what each row takes in it, it may take."""
        positions = [self.position[i][np.flatnonzero(f)] for i, f in enumerate(failing) if f.any()]
        if not positions:
            return failing
        label = components(self.table)
        order = np.argsort(label, kind="stable")
        bounds = np.searchsorted(label[order], np.arange(label.max() + 2))
        wanted = label[np.concatenate(positions)]
        for component in np.unique(wanted[wanted >= 0]):
            cells = order[bounds[component] : bounds[component + 1]]
            self.work["programmes"] += 1
            joint = self._model(cells)
            for i, auditor in enumerate(auditors):
                rows = np.flatnonzero(failing[i] & (label[self.position[i]] == component))
                for row in rows:
                    at = np.array([row])
                    for quantity, objectives in (
                        ("y", ("y", "-y")),
                        ("z", ("z", "-z")),
                        ("d", ("-d",)),
                    ):
                        for objective in objectives:
                            if auditor.open(at)[0]:
                                self._widen_by(joint, auditors, i, int(row), objective)
                        # as in `certify_programmes`: failing on a quantity after its
                        # objectives, it fails whatever else is solved
                        if not auditor.open(at)[0] or auditor.open(at, quantity)[0]:
                            break
        return [f & auditor.open() for f, auditor in zip(failing, auditors, strict=True)]

    def _widen_by(
        self, joint: _Joint, auditors: list[Auditor], i: int, row: int, objective: str
    ) -> None:
        """One programme: `objective` ("y", "z" down, "-y", "-z", "-d" up) for indicator
        `i`'s `row`; what every indicator's rows take in its solution widens their ranges."""
        d_column = joint.place[self.position[i][row]]
        y_column = joint.columns[i][row]
        cost = np.zeros(joint.n_cols)
        sense = -1.0 if objective.startswith("-") else 1.0
        quantity = objective.lstrip("-")
        if quantity in "yz" and y_column >= 0:
            cost[y_column] = sense if quantity == "y" else -sense
        if quantity in "zd" and d_column >= 0:
            cost[d_column] = sense
        if not cost.any():
            return
        values = self._solve(joint, cost)
        if values.size == 0:
            return
        for table, auditor, of, column in zip(
            self.indicators, auditors, self.position, joint.columns, strict=True
        ):
            at = np.flatnonzero(column >= 0)
            if at.size == 0:
                continue
            y = values[column[at]]
            dc = joint.place[of[at]]
            d = np.where(dc >= 0, values[np.maximum(dc, 0)], table.denominator[at])
            auditor.ranges.widen(at, y, y, d - y, d - y, d)


def _touching(
    equations: Equations, cells: IntArray
) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.float64]]:
    """The equations touching `cells` and their terms: (used equations, each term's place
    among them, its row, its sign)."""
    row_start, row_eq = equations.of_row
    inside = cells[cells < row_start.size - 1]
    used = np.unique(row_eq[_spans(row_start[inside], row_start[inside + 1])])
    member_start, member_row, member_sign = equations.members
    at = _spans(member_start[used], member_start[used + 1])
    index = np.repeat(np.arange(used.size), member_start[used + 1] - member_start[used])
    return used, index, member_row[at], member_sign[at]


def link(
    tables: list[Table], keys: list[pl.DataFrame]
) -> tuple[SharedDenominators, list[IntArray]] | None:
    """Mark the rows of `tables` (indicators of one population; `keys`: each one's rows'
    area_code, period, breakdown) whose denominator another of them has for the same cell
    (`Table.linked`), and build the audit of those shared denominators: one row per cell and
    set of indicators sharing it; the equations of every indicator over them, each term not
    shared a constant (its true value); the blocks of the first indicator sharing a row,
    among rows shared by the same indicators, where each of them has the row in a block.
    Returns it and, per indicator, the shared row each of its rows is (-1 for none); None
    when nothing is shared."""
    rows = pl.concat(
        [
            k.select("area_code", "period", "breakdown").with_columns(
                indicator=pl.lit(i, dtype=pl.Int64),
                row=pl.int_range(pl.len(), dtype=pl.Int64),
                denominator=pl.Series(t.denominator),
            )
            for i, (t, k) in enumerate(zip(tables, keys, strict=True))
        ]
    )
    classes = (
        rows.group_by("area_code", "period", "breakdown", "denominator")
        .agg(pl.col("indicator"), pl.col("row"))
        .filter(pl.col("indicator").list.len() >= 2)
        .sort("area_code", "period", "breakdown", "denominator")
    )
    if classes.is_empty():
        return None
    classes = classes.with_row_index("shared").with_columns(
        pl.col("shared").cast(pl.Int64),
        signature=pl.col("indicator").list.sort().cast(pl.List(pl.String)).list.join(","),
    )
    members = classes.select("shared", "indicator", "row").explode("indicator", "row")
    n = classes.height
    shared_of = []
    for i, table in enumerate(tables):
        mine = members.filter(pl.col("indicator") == i)
        of = np.full(table.numerator.size, -1, dtype=np.int64)
        of[mine["row"].to_numpy()] = mine["shared"].to_numpy()
        table.linked = of >= 0
        shared_of.append(of)
    # Rows of the shared table: the n shared ones, then every indicator's own rows, each
    # fixed at its true value (the terms of equations that are not shared).
    offsets = np.cumsum([n] + [t.numerator.size for t in tables])
    denominator = np.concatenate(
        [classes["denominator"].to_numpy(), *(t.denominator for t in tables)]
    )
    size = denominator.size
    position = [
        np.where(of >= 0, of, offsets[i] + np.arange(of.size)) for i, of in enumerate(shared_of)
    ]
    totals, parts, starts = [], [], []
    counted = 0
    for i, table in enumerate(tables):
        eqs = table.equations
        totals.append(position[i][eqs.total])
        parts.append(position[i][eqs.part])
        starts.append(eqs.start[:-1] + counted)
        counted += eqs.part.size
    equations = Equations(
        np.concatenate(totals), np.concatenate(parts), np.r_[np.concatenate(starts), counted]
    )
    floor = np.ones(size, dtype=np.int64)
    protected = np.zeros(size, dtype=bool)
    block = np.full(size, -1, dtype=np.int64)
    block_row = np.zeros(size, dtype=np.int64)
    block_col = np.zeros(size, dtype=np.int64)
    in_blocks = np.ones(n, dtype=bool)
    signature = classes["signature"].rank("dense").cast(pl.Int64).to_numpy()
    for i, table in enumerate(tables):
        shares = shared_of[i] >= 0
        at = shared_of[i][shares]
        # in the blocks every numerator stays
        np.maximum.at(floor, at, table.numerator[shares])
        np.logical_or.at(protected, at, table.protected[shares])
        in_blocks[at] &= table.block[shares] >= 0
        block[at] = table.block[shares] * (int(signature.max()) + 1) + signature[at]
        block_row[at] = table.block_row[shares]
        block_col[at] = table.block_col[shares]
    block[:n] = np.where(in_blocks, block[:n], -1)
    hidden = _unknown(tables, position, size)
    merged = Table(
        numerator=np.zeros(size, dtype=np.int64),
        denominator=denominator,
        is_median=np.zeros(size, dtype=bool),
        hidden=hidden,
        protected=protected,
        fine=np.zeros(size, dtype=bool),
        part=np.zeros(size, dtype=np.int64),
        line=np.arange(size, dtype=np.int64),
        local=np.full(size, -1, dtype=np.int64),
        block=block,
        block_row=block_row,
        block_col=block_col,
        equations=equations,
        implied=np.concatenate([t.implied for t in tables]),
        linked=np.zeros(size, dtype=bool),
    )
    return SharedDenominators(merged, floor, tables, position), shared_of


def _unknown(tables: list[Table], position: list[IntArray], size: int) -> BoolArray:
    """Rows of the shared table the attacker does not know: a shared one that every
    indicator sharing it suppresses, one of an indicator's own that it suppresses."""
    known = np.zeros(size, dtype=bool)
    for table, at in zip(tables, position, strict=True):
        known[at[~table.hidden]] = True
    return ~known
