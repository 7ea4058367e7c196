"""Property tests (Hypothesis): intervals hold their estimate, comparisons agree with the funnel,
and no suppressed figure can be recovered by subtraction from published totals."""

from __future__ import annotations

import itertools

import polars as pl
from attacker import attack, members_of, published_table
from guarantee import CELL, fails_primary, findings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.disclosure import protect
from metrics.stats import compare, funnel_limits, wilson

# --- intervals and comparisons ----------------------------------------------------------------


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(min_value=1, max_value=200_000))
    return draw(st.integers(min_value=0, max_value=n)), n


@given(counts())
def test_wilson_interval_holds_the_proportion(count: tuple[int, int]) -> None:
    o, n = count
    low, high = wilson(o, n)
    assert 0.0 <= low <= o / n <= high <= 1.0


@given(counts(), st.floats(min_value=0.005, max_value=0.995))
def test_similar_exactly_when_inside_the_funnel(count: tuple[int, int], benchmark: float) -> None:
    o, n = count
    p = o / n
    low, high = wilson(o, n)
    verdict = compare(benchmark, low, high, "lower_is_better")[()]
    f_low, f_high = funnel_limits(benchmark, n)
    if min(abs(p - f_low), abs(p - f_high)) < 1e-9:
        return  # on the limit itself floating point may fall either way
    assert (verdict == "similar") == bool(f_low <= p <= f_high)


# --- disclosure control -----------------------------------------------------------------------

CATEGORIES = ("partner", "child_abuse", "elder_abuse")
QUARTERS = ("2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4")
SMALL_DENOMINATORS = st.sampled_from([0, 0, 1, 2, 3, 4, 6, 9, 10, 12, 15, 25, 40])


@st.composite
def case_tables(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cell counts per municipality x category x quarter, aggregated into the published shape
    (every area, year and quarter, `all` and each category), plus random region types."""
    n_munis = draw(st.integers(2, 6))
    munis = [f"GM{i:04d}" for i in range(1, n_munis + 1)]
    categories = CATEGORIES[: draw(st.integers(1, 3))]
    quarters = QUARTERS[: draw(st.integers(1, 4))]
    cells = []
    for muni, category, quarter in itertools.product(munis, categories, quarters):
        den = draw(SMALL_DENOMINATORS)
        cells.append((muni, category, quarter, draw(st.integers(0, den)), den))
    base = pl.DataFrame(
        cells,
        schema=["municipality_code", "category", "period", "numerator", "denominator"],
        orient="row",
    )
    # Like the reference data: each region type splits the municipalities into regions.
    n_types = draw(st.integers(0, 2))
    assignment = [
        draw(st.lists(st.integers(0, 2), min_size=n_munis, max_size=n_munis))
        for _ in range(n_types)
    ]
    memberships = pl.DataFrame(
        [("NL", m) for m in munis]
        + [
            (f"type{t}:R{region}", muni)
            for t, regions in enumerate(assignment)
            for muni, region in zip(munis, regions, strict=True)
        ],
        schema=["area_code", "municipality_code"],
        orient="row",
    )
    with_areas = pl.concat(
        [
            base.with_columns(
                pl.lit("municipality").alias("area_type"),
                pl.col("municipality_code").alias("area_code"),
            ),
            base.join(memberships, on="municipality_code").with_columns(
                pl.when(pl.col("area_code") == "NL")
                .then(pl.lit("national"))
                .otherwise(pl.lit("region"))
                .alias("area_type")
            ),
        ],
        how="diagonal",
    )
    with_years = pl.concat([with_areas, with_areas.with_columns(pl.lit("2024").alias("period"))])
    by_category = with_years.with_columns(
        ("violence_type=" + pl.col("category")).alias("breakdown")
    )
    with_all = pl.concat(
        [by_category, with_years.with_columns(pl.lit("all").alias("breakdown"))], how="diagonal"
    )
    frame = (
        with_all.group_by("area_type", "area_code", "period", "breakdown")
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
        .with_columns(
            pl.lit("x").alias("indicator_id"),
            (pl.col("numerator") / pl.col("denominator")).alias("value"),
            pl.lit(0.0).alias("ci_low"),
            pl.lit(1.0).alias("ci_high"),
            pl.lit("proportion").alias("unit"),
        )
        .sort("area_type", "area_code", "period", "breakdown")
    )
    return frame, memberships


def _fails(num: int, den: int) -> bool:
    return den < 10 or 1 <= num <= 4 or 1 <= den - num <= 4


def _equations(frame: pl.DataFrame, memberships: pl.DataFrame) -> list[tuple[int, list[int]]]:
    """(total row, part rows) for every additive identity in the table, found independently."""
    index = {
        (r["area_code"], r["period"], r["breakdown"]): i
        for i, r in enumerate(frame.iter_rows(named=True))
    }
    members: dict[str, list[str]] = {}
    for area, muni in memberships.iter_rows():
        members.setdefault(area, []).append(muni)
    equations = []
    for (area, period, breakdown), row in index.items():
        if breakdown == "all":
            parts = [
                i for (a, p, b), i in index.items() if a == area and p == period and b != "all"
            ]
            equations.append((row, parts))
        if area in members:
            parts = [
                index[(m, period, breakdown)]
                for m in members[area]
                if (m, period, breakdown) in index
            ]
            equations.append((row, parts))
        if "-Q" not in period:
            parts = [
                i
                for (a, p, b), i in index.items()
                if a == area and b == breakdown and p.startswith(period + "-Q")
            ]
            equations.append((row, parts))
    return equations


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_tables())
def test_no_suppressed_figure_can_be_recovered_by_subtraction(
    table: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    frame, memberships = table
    result = protect(frame, memberships=memberships)
    hidden = result["suppressed"].to_list()
    num, den = frame["numerator"].to_list(), frame["denominator"].to_list()

    # every primary failure is hidden, with its figures emptied; published rows are unchanged
    for i, row in enumerate(result.iter_rows(named=True)):
        assert hidden[i] or not _fails(num[i], den[i])
        if hidden[i]:
            assert row["numerator"] is None and row["denominator"] is None and row["value"] is None
        else:
            assert (row["numerator"], row["denominator"]) == (num[i], den[i])

    for total, parts in _equations(frame, memberships):
        unknown = [p for p in parts if hidden[p] and den[p] > 0]
        if not hidden[total]:
            # total minus the published parts: nothing, or >= 2 cells that pooled pass
            remainder_num = num[total] - sum(num[p] for p in parts if not hidden[p])
            remainder_den = den[total] - sum(den[p] for p in parts if not hidden[p])
            assert remainder_den == sum(den[p] for p in unknown)
            assert remainder_den == 0 or (
                len(unknown) >= 2 and not _fails(remainder_num, remainder_den)
            )
        elif den[total] > 0:
            # a hidden total must not be the sum of published parts
            assert unknown, "a hidden total adds up from its published parts"


# --- the guarantee against an attacker who combines everything published -------------------

PUBLISHED_INDICATORS = (  # (id, unit, municipal quarters), as in the catalogue
    ("families_without_help_offer", "proportion", True),
    ("recurrence_after_restraining_order", "proportion", False),
    ("time_to_specialist", "days", True),
)
OTHER_REGION_TYPES = {"ggd_region": "GG", "youth_care_region": "JZ", "safety_region": "VR"}
REGION_TYPES = {"veilig_thuis_region": "VT", **OTHER_REGION_TYPES}
FIGURES = ("indicator_id", "numerator", "denominator")
ABSENT = "GM0999"  # a member of some regions that did not deliver: it has no rows


@st.composite
def published_tables(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """Small counts per municipality x quarter x category, aggregated into the published shape
    (docs/methods.md "What is published"): every area's cohort years; quarters for
    municipalities (when the indicator has them), Veilig Thuis regions and NL; categories for
    Veilig Thuis regions and NL; other region types, overlapping the Veilig Thuis regions any
    way, with years only. Rows only where the population has cases. Returns the table with its
    true figures, the memberships and the indicator's unit."""
    indicator, unit, municipal_quarters = draw(st.sampled_from(PUBLISHED_INDICATORS))
    n_munis = draw(st.integers(2, 7))
    munis = [f"GM{i:04d}" for i in range(1, n_munis + 1)]
    years = ["2023", "2024"][: draw(st.integers(1, 2))]
    categories = CATEGORIES[: draw(st.integers(2, 3))]
    cells = []
    for muni, year, quarter, category in itertools.product(munis, years, range(1, 5), categories):
        den = draw(SMALL_DENOMINATORS)
        # none or all in the numerator often: pools with a zero (or full) remainder
        num = draw(st.one_of(st.just(0), st.just(den), st.integers(0, den)))
        cells.append((muni, year, f"{year}-Q{quarter}", category, num, den))
    base = pl.DataFrame(
        cells,
        schema=["municipality_code", "year", "quarter", "category", "numerator", "denominator"],
        orient="row",
    )
    absent = draw(st.booleans())
    regions: list[tuple[str, str]] = []
    for region_type in list(REGION_TYPES)[: draw(st.integers(1, len(REGION_TYPES)))]:
        assignment = draw(st.lists(st.integers(1, 3), min_size=n_munis, max_size=n_munis))
        code = REGION_TYPES[region_type]
        regions += [(f"{region_type}:{code}{r}", m) for m, r in zip(munis, assignment, strict=True)]
        if absent:
            regions.append((f"{region_type}:{code}1", ABSENT))
    memberships = pl.DataFrame(
        [("NL", m) for m in munis] + regions,
        schema=["area_code", "municipality_code"],
        orient="row",
    )
    own = base.with_columns(area_code=pl.col("municipality_code"), area_type=pl.lit("municipality"))
    pooled = base.join(memberships, on="municipality_code").with_columns(
        area_type=pl.when(pl.col("area_code") == "NL")
        .then(pl.lit("national"))
        .otherwise(pl.lit("region"))
    )
    areas = pl.concat([own, pooled], how="diagonal")
    with_quarters = pl.col("area_code").str.starts_with("veilig_thuis_region:") | (
        pl.col("area_code") == "NL"
    )
    if municipal_quarters:
        with_quarters |= pl.col("area_type") == "municipality"
    shapes = [
        areas.with_columns(period=pl.col("year"), breakdown=pl.lit("all")),
        areas.filter(with_quarters).with_columns(period=pl.col("quarter"), breakdown=pl.lit("all")),
        areas.filter(
            pl.col("area_code").str.starts_with("veilig_thuis_region:")
            | (pl.col("area_code") == "NL")
        ).with_columns(period=pl.col("year"), breakdown="violence_type=" + pl.col("category")),
    ]
    frame = (
        pl.concat(shapes, how="diagonal")
        .group_by("area_type", "area_code", "period", "breakdown")
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
        .filter(pl.col("denominator") > 0)
        .with_columns(
            indicator_id=pl.lit(indicator, dtype=pl.String),
            value=pl.col("numerator") / pl.col("denominator"),
            ci_low=pl.lit(0.0),
            ci_high=pl.lit(1.0),
            unit=pl.lit(unit),
        )
        .sort("area_type", "area_code", "period", "breakdown")
    )
    return frame, memberships, {indicator: unit}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(published_tables())
def test_no_protected_cell_is_pinned_or_narrowed_by_everything_published(
    table: tuple[pl.DataFrame, pl.DataFrame, dict[str, str]],
) -> None:
    """The guarantee of docs/methods.md, against the independent attacker (`tests/attacker.py`):
    no row the primary rule protects has its numerator, complement or denominator pinned, nor
    a small count narrowed into 1..4."""
    frame, memberships, units = table
    published = published_table(protect(frame, memberships=memberships), members_of(memberships))
    found = findings(published, attack(published), frame, units)
    assert not found, "\n".join(map(str, found))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(published_tables())
def test_the_attackers_shortcuts_change_no_interval(
    table: tuple[pl.DataFrame, pl.DataFrame, dict[str, str]],
) -> None:
    """One programme per bound and the attacker's shortcuts give the same intervals, on tables
    suppressed by the primary rule alone (where much is pinned)."""
    frame, memberships, units = table
    hidden = [fails_primary(n, d, units[i]) for i, n, d in frame.select(*FIGURES).iter_rows()]
    published = published_table(
        frame.with_columns(suppressed=pl.Series(hidden, dtype=pl.Boolean)),
        members_of(memberships),
    )
    fast = attack(published).intervals
    slow = attack(published, shortcuts=False).intervals
    assert fast.select(CELL).equals(slow.select(CELL))
    for column in fast.columns[len(CELL) :]:
        assert ((fast[column] - slow[column]).abs().fill_nan(0.0) <= 1e-6).all(), column
