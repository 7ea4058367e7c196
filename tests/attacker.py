"""An outside attacker on the published figures: for every suppressed row, the exact interval of
its numerator, complement and denominator over every table consistent with what is published.

Written from `docs/methods.md` ("What is published", "The guarantee") and `docs/mart.md`
only, apart from `metrics/disclosure.py` and `metrics/audit.py`: the structure (which areas
publish which kinds of cell, which sums hold) is read from the published rows and memberships,
and the linear programmes are solved with scipy's HiGHS, not the defence's own calls.

The attacker's programme. Every row is an (indicator, area, period, breakdown) cell with a
numerator n and a complement c = denominator - n (both additive, like the denominator), so
`0 <= numerator <= denominator` is n >= 0 and c >= 0. A published row is known; a suppressed
row is a variable with n + c >= 1 (a row exists only with a case); a missing row where the
area publishes that kind of cell is 0. Per indicator and cohort year, every published sum
holds for n and for c alike:

- an area's year `all` is the sum of its quarters and of each breakdown family's categories,
  where the area publishes them;
- a region (every type) and NL are the sums of their member municipalities' years;
- where a region publishes a finer kind of cell (a quarter, a category), it is the sum of its
  members' cells of that kind. A member that does not publish the kind has an unpublished
  cell there, free apart from adding up to its year. Those free cells are eliminated exactly
  (the areas publishing a kind nest, as Veilig Thuis regions in NL): a region is the sum of
  its largest publishing sub-areas when they cover it, and at least that sum otherwise. The
  rest is a transportation problem per region whose margins already add up, which always has
  a non-negative solution, for n and c separately.

A suppressed row's interval is exact over its *component* (the suppressed rows linked to it
by sums), with every other row at its published or zero value.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from scipy import sparse
from scipy.optimize import linprog

KEYS = ("indicator_id", "area_type", "area_code", "period", "breakdown")
NATIONAL = "NL"
QUARTER = "quarter"
ALL = "all"
# LP answers are floating point: a bound within this of a value counts as that value.
TOLERANCE = 1e-6
QUANTITIES = ("numerator", "complement", "denominator")


class ModelError(AssertionError):
    """The published table does not fit the attacker's model (a sum that does not hold, an
    infeasible programme, a shape the docs do not describe): the model is wrong, not the
    table's protection; never read this as "nothing found"."""


@dataclass(frozen=True)
class Published:
    """What the attacker reads: every published row (suppressed ones with empty figures) and
    each region's and NL's member municipalities (NL's: those that delivered)."""

    rows: pl.DataFrame  # KEYS, numerator, denominator, suppressed
    members: Mapping[str, frozenset[str]]


def members_of(memberships: pl.DataFrame) -> dict[str, frozenset[str]]:
    """Each area's municipalities from `area_code, municipality_code` rows."""
    members: dict[str, set[str]] = defaultdict(set)
    for area, municipality in memberships.select("area_code", "municipality_code").iter_rows():
        members[area].add(municipality)
    return {area: frozenset(munis) for area, munis in members.items()}


def published_table(frame: pl.DataFrame, members: Mapping[str, frozenset[str]]) -> Published:
    """The attacker's input from a table shaped like `indicator_values` (KEYS, numerator,
    denominator, suppressed): the figures of its suppressed rows are emptied first."""
    hidden = pl.col("suppressed")
    return Published(
        frame.select(
            *KEYS,
            numerator=pl.when(hidden).then(None).otherwise(pl.col("numerator")),
            denominator=pl.when(hidden).then(None).otherwise(pl.col("denominator")),
            suppressed=hidden,
        ),
        members,
    )


def read_mart(path: Path) -> Published:
    """The attacker's input from a published mart file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.sql(
            f"select {', '.join(KEYS)}, numerator, denominator, suppressed from indicator_values"
        ).pl()
        members = members_of(con.sql("select * from area_members").pl())
        delivered = con.sql("select municipality_code from delivery_status where delivered").pl()
    finally:
        con.close()
    if members.get(NATIONAL, frozenset()) != set(delivered["municipality_code"]):
        raise ModelError("NL's members in area_members differ from delivery_status' delivered")
    return published_table(rows, members)


# --- the programme ----------------------------------------------------------------------------

Cell = tuple[str, str, str, str]  # indicator_id, area_code, period, breakdown


@dataclass
class Constraint:
    """sum(coef * cell) = 0 (or >= 0 when `at_least`), for numerators and complements alike;
    for denominators only when `denominator`."""

    terms: list[tuple[Cell, int]]
    at_least: bool = False
    denominator: bool = False


def _area_class(area_type: str, area_code: str) -> str:
    if area_type == "region":
        return area_code.split(":", 1)[0]
    return area_type


def _kind(period: str, breakdown: str) -> str | None:
    """The kind of a row's cell below its cohort year's `all`: a quarter, or a breakdown family."""
    quarter = "-Q" in period
    if quarter and breakdown != ALL:
        raise ModelError(f"a quarter with a breakdown ({period}, {breakdown}) is not published")
    if quarter:
        return QUARTER
    return None if breakdown == ALL else breakdown.split("=", 1)[0]


@dataclass
class Structure:
    """The published cells (known, unknown) and the sums between them."""

    known: dict[Cell, tuple[int, int]] = field(default_factory=dict)  # (numerator, complement)
    unknown: list[Cell] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)


def structure(published: Published, shared: Iterable[tuple[Cell, Cell]] = ()) -> Structure:
    """Every cell (known, unknown) and every sum the attacker knows, derived from the rows;
    `shared`: pairs of cells (of indicators that count one population) whose denominators the
    attacker knows to be equal."""
    result = Structure()
    for (indicator,), frame in published.rows.partition_by("indicator_id", as_dict=True).items():
        _indicator_structure(str(indicator), frame, published.members, result)
    result.constraints += [
        Constraint([(first, 1), (second, -1)], denominator=True) for first, second in shared
    ]
    return result


def _indicator_structure(
    indicator: str, frame: pl.DataFrame, members: Mapping[str, frozenset[str]], out: Structure
) -> None:
    area_types: dict[str, str] = {}
    present: set[Cell] = set()
    categories: dict[str, set[str]] = defaultdict(set)
    # (area class, year) -> kinds of cell that class publishes in that year
    published_kinds: dict[tuple[str, int], set[str]] = defaultdict(set)
    for area_type, area, period, breakdown, num, den, suppressed in frame.select(
        KEYS[1:] + ("numerator", "denominator", "suppressed")
    ).iter_rows():
        cell = (indicator, area, period, breakdown)
        area_types[area] = area_type
        present.add(cell)
        if suppressed:
            out.unknown.append(cell)
        else:
            if num is None or den is None or not 0 <= num <= den or den < 1:
                raise ModelError(f"published row {cell} has figures {num}/{den}")
            out.known[cell] = (num, den - num)
        kind = _kind(period, breakdown)
        if kind is not None:
            published_kinds[(_area_class(area_type, area), int(period[:4]))].add(kind)
        if kind not in (None, QUARTER):
            categories[kind].add(breakdown)
    years = sorted({int(period[:4]) for _, _, period, _ in present})

    def cells_of(kind: str, year: int) -> list[tuple[str, str]]:
        if kind == QUARTER:
            return [(f"{year}-Q{q}", ALL) for q in range(1, 5)]
        return [(str(year), b) for b in sorted(categories[kind])]

    for year in years:
        y = str(year)
        # municipalities with cases this year; every other municipality's cells are all 0
        active = frozenset(
            area
            for area, area_type in area_types.items()
            if area_type == "municipality" and (indicator, area, y, ALL) in present
        )
        region_sets = {area: munis & active for area, munis in members.items() if munis & active}
        for area, area_type in area_types.items():
            if (
                area_type != "municipality"
                and area not in region_sets
                and ((indicator, area, y, ALL) in present)
            ):
                raise ModelError(f"{area} has {indicator} {y} but no member with it")
        classes = {
            area: _area_class(area_types.get(area, _type_of(area)), area)
            for area in {*active, *region_sets}
        }

        def cell(area: str, period: str, breakdown: str) -> Cell:
            return (indicator, area, period, breakdown)

        # a region, and NL, is the sum of its members' years
        for area, munis in region_sets.items():
            out.constraints.append(
                Constraint([(cell(area, y, ALL), -1), *((cell(m, y, ALL), 1) for m in munis)])
            )
        # an area's year is the sum of each kind of cell it publishes
        for area, cls in classes.items():
            for kind in sorted(published_kinds[(cls, year)]):
                parts = [(cell(area, p, b), 1) for p, b in cells_of(kind, year)]
                out.constraints.append(Constraint([(cell(area, y, ALL), -1), *parts]))
        # a region publishing a kind is the sum of its members' cells of that kind
        kinds = set().union(*(published_kinds[(cls, year)] for cls in set(classes.values())))
        for kind in sorted(kinds):
            publishing = {
                area: (frozenset({area}) if area in active else region_sets[area])
                for area, cls in classes.items()
                if kind in published_kinds[(cls, year)]
            }
            for area, children, covered in _nesting(publishing, classes):
                if area in active:
                    continue
                for period, breakdown in cells_of(kind, year):
                    terms = [(cell(area, period, breakdown), 1)]
                    terms += [(cell(child, period, breakdown), -1) for child in children]
                    if covered:
                        out.constraints.append(Constraint(terms))
                    elif children:
                        out.constraints.append(Constraint(terms, at_least=True))
    # a missing row where its area publishes that kind of cell is 0: every constraint's cells
    # not in `present` are exactly those (the nesting only names areas publishing the kind)


def _type_of(area: str) -> str:
    return "national" if area == NATIONAL else ("region" if ":" in area else "municipality")


CLASS_RANK = {"municipality": 0, "national": 2}


def _nesting(
    publishing: Mapping[str, frozenset[str]], classes: Mapping[str, str]
) -> Iterable[tuple[str, list[str], bool]]:
    """(area, its largest publishing sub-areas, whether they cover it) for every area that
    publishes a kind, whose municipality sets must nest (or be disjoint)."""
    order = sorted(
        publishing,
        key=lambda a: (len(publishing[a]), CLASS_RANK.get(classes[a], 1), classes[a], a),
    )
    for i, area in enumerate(order):
        inside = publishing[area]
        candidates = [b for b in order[:i] if publishing[b] <= inside]
        for b in order[:i]:
            other = publishing[b]
            if other & inside and not other <= inside:
                raise ModelError(
                    f"{b} and {area} both publish a kind of cell and overlap without nesting; "
                    "the attacker's elimination of unpublished cells needs them nested"
                )
        children = [
            b
            for j, b in enumerate(candidates)
            if not any(publishing[b] <= publishing[c] for c in candidates[j + 1 :])
        ]
        covered = frozenset().union(*(publishing[b] for b in children)) == inside
        yield area, children, covered


# --- solving ----------------------------------------------------------------------------------


@dataclass
class Attack:
    """Every suppressed row's interval, and what it took to find them."""

    intervals: pl.DataFrame  # indicator_id, area_code, period, breakdown, <quantity>_low/_high
    component_sizes: list[int]
    programmes: int  # objectives optimised, each over one component's programme
    calls: int  # linprog calls: the programmes, stacked
    seconds: float


@dataclass(frozen=True)
class _Sum:
    """sum(coef * cell) + constant = 0 (>= 0 when `at_least`) over a component's cells (local
    indices), for numerators and for complements (or for denominators only, when
    `denominator`); the constant for the numerator and for the complement."""

    cells: tuple[int, ...]
    coefs: tuple[int, ...]
    constant: tuple[int, int]
    at_least: bool
    denominator: bool

    def quantities(self) -> list[tuple[int, int]]:
        """(quantity, constant) of each sum this stands for: 0 numerator, 1 complement, 2
        denominator."""
        if self.denominator:
            return [(2, self.constant[0] + self.constant[1])]
        return [(0, self.constant[0]), (1, self.constant[1])]


def attack(
    published: Published, *, shared: Iterable[tuple[Cell, Cell]] = (), shortcuts: bool = True
) -> Attack:
    """The exact interval of every suppressed row's numerator, complement and denominator.

    `shared`: pairs of cells with equal denominators (see `structure`). `shortcuts=False`
    solves one programme per bound (every bound of every row); the default skips a bound that
    a table already found reaches and an outer bound proves (`_solve`)."""
    started = time.perf_counter()
    built = structure(published, shared)
    index = {cell: j for j, cell in enumerate(built.unknown)}
    parent = list(range(len(index)))

    def find(j: int) -> int:
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        return j

    linked: list[tuple[dict[int, int], tuple[int, int], Constraint]] = []
    for constraint in built.constraints:
        variables: dict[int, int] = defaultdict(int)
        constant_n = constant_c = 0
        for term_cell, coef in constraint.terms:
            if term_cell in index:
                variables[index[term_cell]] += coef
            elif term_cell in built.known:
                n, c = built.known[term_cell]
                constant_n += coef * n
                constant_c += coef * c
        variables = {j: coef for j, coef in variables.items() if coef}
        if not variables:
            if constraint.denominator:
                holds = constant_n + constant_c == 0
            elif constraint.at_least:
                holds = min(constant_n, constant_c) >= 0
            else:
                holds = constant_n == constant_c == 0
            if not holds:
                raise ModelError(f"published figures break a sum: {constraint.terms}")
            continue
        first, *rest = variables
        for j in rest:
            parent[find(j)] = find(first)
        linked.append((variables, (constant_n, constant_c), constraint))

    by_component: dict[int, list[int]] = defaultdict(list)
    for j in range(len(index)):
        by_component[find(j)].append(j)
    local = {j: i for cells in by_component.values() for i, j in enumerate(cells)}
    sums_of: dict[int, list[_Sum]] = defaultdict(list)
    for variables, constant, constraint in linked:
        sums_of[find(next(iter(variables)))].append(
            _Sum(
                tuple(local[j] for j in variables),
                tuple(variables.values()),
                constant,
                constraint.at_least,
                constraint.denominator,
            )
        )
    components = [_Programme(cells, sums_of[root]) for root, cells in by_component.items()]
    counts = _Counts()
    low, high = _solve(components, len(index), counts, shortcuts)
    columns: dict[str, object] = {
        name: [cell[k] for cell in built.unknown]
        for k, name in enumerate(("indicator_id", "area_code", "period", "breakdown"))
    }
    for q, quantity in enumerate(QUANTITIES):
        columns[f"{quantity}_low"] = low[:, q]
        columns[f"{quantity}_high"] = high[:, q]
    return Attack(
        intervals=pl.DataFrame(
            columns,
            schema={
                name: pl.Float64 if name.endswith(("_low", "_high")) else pl.String
                for name in columns
            },
        ),
        component_sizes=sorted((len(c) for c in by_component.values()), reverse=True),
        programmes=counts.programmes,
        calls=counts.calls,
        seconds=time.perf_counter() - started,
    )


class _Programme:
    """One component's programme: columns n_0..n_k-1, c_0..c_k-1; each sum once for n and once
    for c; n_j + c_j >= 1 (the row exists); every column >= 0. Matrices as coordinate lists,
    so that many programmes stack cheaply."""

    def __init__(self, cells: list[int], sums: list[_Sum]) -> None:
        self.cells = cells
        self.sums = sums
        k = len(cells)
        eq: list[tuple[int, int, float]] = []
        ub: list[tuple[int, int, float]] = []
        eq_rhs: list[float] = []
        ub_rhs: list[float] = []
        for s in sums:
            for q, constant in s.quantities():
                offsets = (0, k) if q == 2 else (q * k,)
                terms = [(o + i, c) for i, c in zip(s.cells, s.coefs, strict=True) for o in offsets]
                if s.at_least:  # sum(coef * x) + constant >= 0 -> -sum(coef * x) <= constant
                    ub += [(len(ub_rhs), column, -coef) for column, coef in terms]
                    ub_rhs.append(constant)
                else:
                    eq += [(len(eq_rhs), column, coef) for column, coef in terms]
                    eq_rhs.append(-constant)
        for i in range(k):
            ub += [(len(ub_rhs), i, -1.0), (len(ub_rhs), k + i, -1.0)]
            ub_rhs.append(-1.0)
        self.width = 2 * k
        self.eq = np.array(eq, dtype=float).reshape(-1, 3)
        self.ub = np.array(ub, dtype=float).reshape(-1, 3)
        self.eq_rhs = np.array(eq_rhs, dtype=float)
        self.ub_rhs = np.array(ub_rhs, dtype=float)

    def objective(
        self, cells: Iterable[int], quantity: int, weights: Iterable[float] | None = None
    ) -> np.ndarray:
        """Column weights summing the cells' numerators (0), complements (1) or denominators,
        each with its weight (default 1)."""
        k = len(self.cells)
        result = np.zeros(self.width)
        cells = list(cells)
        for i, weight in zip(
            cells, [1.0] * len(cells) if weights is None else weights, strict=True
        ):
            result[[[i], [k + i], [i, k + i]][quantity]] = weight
        return result

    def quantities(self, x: np.ndarray) -> np.ndarray:
        """cells x (numerator, complement, denominator) of a solution."""
        k = len(self.cells)
        return np.column_stack([x[:k], x[k:], x[:k] + x[k:]])


@dataclass
class _Counts:
    programmes: int = 0
    calls: int = 0


FLOORS = (0.0, 0.0, 1.0)  # least numerator, complement and denominator of a row that exists


def _solve(
    components: list[_Programme], n_cells: int, counts: _Counts, shortcuts: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Every cell's least and greatest n, c and n + c over its own component's programme.

    Every solution found is a table the attacker cannot rule out: the cells' values in it lie
    inside their intervals. A bound is settled when such a table reaches an outer bound (the
    floors, or `_outer_bounds`' interval arithmetic over the sums), else by a programme of
    its own. With shortcuts, joint programmes first (maximise or minimise the sum of the
    quantity over every unsettled cell of a component) while they settle more bounds."""
    low = np.full((n_cells, 3), np.inf)
    high = np.full((n_cells, 3), -np.inf)
    outer_low = np.tile(FLOORS, (n_cells, 1))
    outer_high = np.full((n_cells, 3), np.inf)
    for component, unbounded in zip(components, _unbounded(components, counts), strict=True):
        high[component.cells] = np.where(unbounded, np.inf, -np.inf)
        if shortcuts:
            outer_low[component.cells], outer_high[component.cells] = _outer_bounds(
                component, outer_low[component.cells], outer_high[component.cells]
            )

    def seen(component: _Programme, x: np.ndarray) -> None:
        values = component.quantities(x)
        low[component.cells] = np.minimum(low[component.cells], values)
        high[component.cells] = np.maximum(high[component.cells], values)

    def unsettled(component: _Programme, q: int, sense: float) -> list[int]:
        cells = component.cells
        if sense < 0:
            done = high[cells, q] >= outer_high[cells, q] - TOLERANCE
        else:
            done = low[cells, q] <= outer_low[cells, q] + TOLERANCE
        return [] if not shortcuts else [i for i in range(len(cells)) if not done[i]]

    # varied weights make each round's optimum favour different cells
    random = np.random.default_rng(0)
    targets = [(c, q, sense) for c in components for q in range(3) for sense in (-1.0, 1.0)]
    while shortcuts and targets:
        rounds = [(target, unsettled(*target)) for target in targets]
        rounds = [(target, cells) for target, cells in rounds if cells]
        items = [
            (c, sense * c.objective(cells, q, random.exponential(1.0, len(cells)) + 0.01))
            for (c, q, sense), cells in rounds
        ]
        for component, x in _stacked(items, counts):
            seen(component, x)
        targets = [target for target, cells in rounds if len(unsettled(*target)) < len(cells)]

    def needed(item: tuple[_Programme, int, int, float]) -> bool:
        component, i, q, sense = item
        return not shortcuts or i in unsettled(component, q, sense)

    # The greatest values first; then interval arithmetic from them, now known exactly, bounds
    # the least values more tightly, and the tables found reach more of them.
    for sense in (1.0, -1.0):
        singles = [
            (c, i, q, sense)
            for c in components
            for i, cell in enumerate(c.cells)
            for q in range(3)
            if not (sense < 0 and high[cell, q] == np.inf)
        ]
        for component, x in _stacked_lazily(singles, needed, counts):
            seen(component, x)
        if shortcuts and sense > 0:  # every least value is now exact
            for c in components:
                _, outer_high[c.cells] = _outer_bounds(c, low[c.cells], outer_high[c.cells])
    return low, high


OUTER_ROUNDS = 50


def _outer_bounds(
    component: _Programme, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds every table consistent with the sums respects, tightened from valid bounds
    `low`, `high` by interval arithmetic until nothing changes: cells x (numerator,
    complement, denominator)."""
    low, high = low.copy(), high.copy()
    changed, rounds = True, 0
    while changed and rounds < OUTER_ROUNDS:  # stopping early leaves valid, looser bounds
        changed, rounds = False, rounds + 1
        for s in component.sums:
            quantities = s.quantities()
            if not s.denominator:  # the two sums added hold for the denominators
                quantities.append((2, s.constant[0] + s.constant[1]))
            for q, constant in quantities:
                # sum(coef * x) = -constant (>= -constant when at_least)
                terms = list(zip(s.cells, s.coefs, strict=True))
                lows = [low[i, q] if a > 0 else -high[i, q] for i, a in terms]
                highs = [high[i, q] if a > 0 else -low[i, q] for i, a in terms]
                for t, (i, a) in enumerate(terms):
                    rest_low = _sum_without(lows, t)
                    rest_high = _sum_without(highs, t)
                    # a * x_i = -constant - rest (at least that, when at_least)
                    least, most = -constant - rest_high, -constant - rest_low
                    if s.at_least:
                        most = np.inf
                    if a < 0:
                        least, most = -most, -least
                    if least > low[i, q] + TOLERANCE:
                        low[i, q], changed = least, True
                    if most < high[i, q] - TOLERANCE:
                        high[i, q], changed = most, True
        # the denominator is the numerator plus the complement
        tightened = (
            (
                2,
                np.maximum(low[:, 2], low[:, 0] + low[:, 1]),
                np.minimum(high[:, 2], high[:, 0] + high[:, 1]),
            ),
            (
                0,
                np.maximum(low[:, 0], low[:, 2] - high[:, 1]),
                np.minimum(high[:, 0], high[:, 2] - low[:, 1]),
            ),
            (
                1,
                np.maximum(low[:, 1], low[:, 2] - high[:, 0]),
                np.minimum(high[:, 1], high[:, 2] - low[:, 0]),
            ),
        )
        for q, least, most in tightened:
            if (least > low[:, q] + TOLERANCE).any() or (most < high[:, q] - TOLERANCE).any():
                changed = True
            low[:, q], high[:, q] = least, most
    return low, high


def _sum_without(values: list[float], t: int) -> float:
    """The sum of every value but the t-th (they may be infinite, all of one sign)."""
    rest = values[:t] + values[t + 1 :]
    return float(sum(rest)) if rest else 0.0


def _unbounded(components: list[_Programme], counts: _Counts) -> list[np.ndarray]:
    """Per component, cells x quantities that grow without bound: those a direction of the
    programme's recession cone (the same sums with every constant 0) increases. The cone is
    closed under addition, so repeating "some direction raising a column not yet found, within
    0..1" until none exists finds them all."""
    found = [np.zeros(c.width, dtype=bool) for c in components]
    pending = list(range(len(components)))
    while pending:
        items = [(components[p], -(~found[p]).astype(float)) for p in pending]
        still = []
        for p, (_, x) in zip(pending, _stacked(items, counts, homogeneous=True), strict=True):
            rising = (x > TOLERANCE) & ~found[p]
            if rising.any():
                found[p] |= rising
                still.append(p)
        pending = still
    result = []
    for component, columns in zip(components, found, strict=True):
        k = len(component.cells)
        result.append(np.column_stack([columns[:k], columns[k:], columns[:k] | columns[k:]]))
    return result


# Programmes are stacked side by side (block-diagonal, up to this many columns) and solved as
# one: the stack's optimum is every block at its own optimum, and the calls' overhead is shared.
STACK_COLUMNS = 4000


def _stacked_lazily(
    items: list[tuple[_Programme, int, int, float]],
    needed: Callable[[tuple[_Programme, int, int, float]], bool],
    counts: _Counts,
) -> Iterable[tuple[_Programme, np.ndarray]]:
    """Optimise cell i's quantity q (sense -1: greatest) for each item still `needed` when its
    stack is formed: the tables found by the stacks before may have settled it."""
    start = 0
    while start < len(items):
        batch, width = [], 0
        while start < len(items) and (not batch or width + items[start][0].width <= STACK_COLUMNS):
            if needed(items[start]):
                component, i, q, sense = items[start]
                batch.append((component, sense * component.objective([i], q)))
                width += component.width
            start += 1
        yield from _stacked(batch, counts)


def _stacked(
    items: list[tuple[_Programme, np.ndarray]], counts: _Counts, *, homogeneous: bool = False
) -> Iterable[tuple[_Programme, np.ndarray]]:
    """An optimal solution of every (programme, objective to minimise), solving many at once.

    `homogeneous`: the recession cone instead (constants 0, columns within 0..1)."""
    start = 0
    while start < len(items):
        stop, width = start, 0
        while stop < len(items) and (
            stop == start or width + items[stop][0].width <= STACK_COLUMNS
        ):
            width += items[stop][0].width
            stop += 1
        batch = items[start:stop]
        start = stop
        result = linprog(
            np.concatenate([objective for _, objective in batch]),
            **_stack([programme for programme, _ in batch], homogeneous),
            bounds=(0, 1 if homogeneous else None),
            method="highs",
            options={"presolve": False},
        )
        counts.calls += 1
        counts.programmes += len(batch)
        if result.status != 0:
            raise ModelError(f"the attacker's programme failed: {result.message}")
        offset = 0
        for programme, _ in batch:
            yield programme, result.x[offset : offset + programme.width]
            offset += programme.width


def _stack(programmes: list[_Programme], homogeneous: bool) -> dict[str, object]:
    """linprog's A_eq, b_eq, A_ub, b_ub of the programmes side by side (block-diagonal)."""
    arguments: dict[str, object] = {}
    width = sum(p.width for p in programmes)
    for name in ("eq", "ub"):
        entries, rhs = [], []
        rows = columns = 0
        for p in programmes:
            entries.append(getattr(p, name) + (rows, columns, 0.0))
            rhs.append(getattr(p, f"{name}_rhs"))
            rows += len(rhs[-1])
            columns += p.width
        if rows:
            stacked = np.concatenate(entries)
            arguments[f"A_{name}"] = sparse.csr_array(
                (stacked[:, 2], (stacked[:, 0].astype(int), stacked[:, 1].astype(int))),
                shape=(rows, width),
            )
            arguments[f"b_{name}"] = np.zeros(rows) if homogeneous else np.concatenate(rhs)
    return arguments
