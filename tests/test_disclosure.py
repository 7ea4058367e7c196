"""Primary suppression, secondary suppression and the audit on small tables worked out by hand."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from metrics.disclosure import KEYS, Suppression, primary, protect, protect_population

NO_MEMBERS = pl.DataFrame(schema={"area_code": pl.String, "municipality_code": pl.String})


def table(*rows: tuple, indicator: str = "x", unit: str = "proportion") -> pl.DataFrame:
    """Rows of (area_code, period, breakdown, numerator, denominator); the area type follows
    from the code (GM municipality, NL national, otherwise region)."""
    return pl.DataFrame(
        [
            {
                "indicator_id": indicator,
                "area_type": "municipality"
                if code.startswith("GM")
                else ("national" if code == "NL" else "region"),
                "area_code": code,
                "period": period,
                "breakdown": breakdown,
                "numerator": num,
                "denominator": den,
                "value": num / den if den else None,
                "ci_low": 0.0,
                "ci_high": 1.0,
                "comparison_region": "similar",
                "unit": unit,
            }
            for code, period, breakdown, num, den in rows
        ],
        schema_overrides={"value": pl.Float64},
    )


def hidden(result: pl.DataFrame) -> set[tuple[str, str, str]]:
    """(area_code, period, breakdown) of every suppressed row."""
    rows = result.filter(pl.col("suppressed"))
    return {(r["area_code"], r["period"], r["breakdown"]) for r in rows.iter_rows(named=True)}


def secondary(frame: pl.DataFrame, memberships: pl.DataFrame) -> pl.DataFrame:
    """The frame marked by the primary rule and secondary suppression alone (no audit)."""
    suppression = Suppression(frame, memberships=memberships)
    return frame.with_columns(suppressed=pl.Series(suppression.secondary(suppression.primary)))


@pytest.mark.parametrize(
    ("num", "den", "suppressed"),
    [
        (0, 9, True),  # denominator below 10
        (5, 9, True),
        (0, 10, False),  # numerator 0 is shown
        (1, 10, True),  # numerator 1..4
        (4, 20, True),
        (5, 20, False),
        (16, 20, True),  # denominator - numerator = 4
        (15, 20, False),  # denominator - numerator = 5
        (10, 10, False),  # denominator - numerator = 0 is shown
        (5, 10, False),
    ],
)
def test_primary_proportion_edges(num: int, den: int, suppressed: bool) -> None:
    result = primary(table(("GM0001", "2024", "all", num, den)))
    assert result["suppressed"].to_list() == [suppressed]
    # primary keeps the figures: protecting them needs them
    assert result["numerator"].to_list() == [num]


@pytest.mark.parametrize(
    ("events", "cases", "suppressed"),
    [(9, 9, True), (4, 10, True), (5, 10, False), (1, 10, True), (10, 10, False), (5, 400, False)],
)
def test_primary_median_edges(events: int, cases: int, suppressed: bool) -> None:
    frame = table(("GM0001", "2024", "all", events, cases), indicator="t", unit="days")
    assert primary(frame)["suppressed"].to_list() == [suppressed]


def test_unit_from_a_mapping_and_unknown_units() -> None:
    frame = table(("GM0001", "2024", "all", 4, 10), indicator="t").drop("unit")
    assert primary(frame, units={"t": "days"})["suppressed"].to_list() == [True]
    assert primary(frame, units={"t": "proportion"})["suppressed"].to_list() == [True]
    assert "unit" not in primary(frame, units={"t": "days"}).columns
    with pytest.raises(ValueError, match="unit"):
        primary(frame)
    with pytest.raises(ValueError, match="unknown unit"):
        primary(frame, units={"t": "rate"})


def test_one_suppressed_category_gets_a_second_one() -> None:
    frame = table(
        ("GM0001", "2024", "all", 50, 100),
        ("GM0001", "2024", "violence_type=partner", 3, 20),  # numerator 3: primary
        ("GM0001", "2024", "violence_type=child_abuse", 17, 35),
        ("GM0001", "2024", "violence_type=other", 30, 45),
    )
    result = secondary(frame, NO_MEMBERS)
    # the smallest published denominator (35) goes too: pooled 20/55 passes
    assert hidden(result) == {
        ("GM0001", "2024", "violence_type=partner"),
        ("GM0001", "2024", "violence_type=child_abuse"),
    }


def test_pooled_categories_must_pass_the_primary_rule() -> None:
    frame = table(
        ("GM0001", "2024", "all", 50, 100),
        ("GM0001", "2024", "violence_type=partner", 2, 12),  # primary
        ("GM0001", "2024", "violence_type=child_abuse", 0, 10),  # pooled 2/22: fails
        ("GM0001", "2024", "violence_type=elder_abuse", 20, 30),  # pooled 22/52: passes
        ("GM0001", "2024", "violence_type=other", 28, 48),
    )
    result = secondary(frame, NO_MEMBERS)
    assert set(hidden(result)) == {
        ("GM0001", "2024", "violence_type=partner"),
        ("GM0001", "2024", "violence_type=child_abuse"),
        ("GM0001", "2024", "violence_type=elder_abuse"),
    }


def test_total_suppressed_when_no_category_is_left_to_add() -> None:
    # Only one category row is published for this family (the others were not computed),
    # so nothing can join the suppressed one: the total goes.
    frame = table(
        ("GM0001", "2024", "all", 50, 100),
        ("GM0001", "2024", "violence_type=partner", 2, 12),
    )
    assert hidden(secondary(frame, NO_MEMBERS)) == {
        ("GM0001", "2024", "violence_type=partner"),
        ("GM0001", "2024", "all"),
    }


def test_region_with_one_suppressed_member_loses_another() -> None:
    frame = table(
        ("veilig_thuis_region:VT01", "2024", "all", 62, 142),
        ("GM0001", "2024", "all", 2, 12),  # primary
        ("GM0002", "2024", "all", 10, 30),  # smallest published: goes too
        ("GM0003", "2024", "all", 50, 100),
    )
    members = pl.DataFrame(
        {
            "area_code": ["veilig_thuis_region:VT01"] * 3,
            "municipality_code": ["GM0001", "GM0002", "GM0003"],
        }
    )
    result = protect(frame, memberships=members)
    assert hidden(result) == {
        ("GM0001", "2024", "all"),
        ("GM0002", "2024", "all"),
    }
    # region minus the published member leaves 12/42, two municipalities: not one family
    suppressed = result.filter(pl.col("suppressed"))
    for column in ("numerator", "denominator", "value", "ci_low", "ci_high"):
        assert suppressed[column].null_count() == suppressed.height
    assert suppressed["comparison_region"].to_list() == ["not_compared"] * 2
    assert result.filter(~pl.col("suppressed"))["numerator"].to_list() == [62, 50]


def test_a_suppressed_total_whose_categories_all_show_loses_one_of_them() -> None:
    # GM0002's `all` is suppressed for the region; its two categories would add back up to it.
    frame = table(
        ("veilig_thuis_region:VT01", "2024", "all", 62, 142),
        ("GM0001", "2024", "all", 2, 12),
        ("GM0002", "2024", "all", 10, 30),
        ("GM0002", "2024", "violence_type=partner", 5, 14),
        ("GM0002", "2024", "violence_type=other", 5, 16),
        ("GM0003", "2024", "all", 50, 100),
    )
    members = pl.DataFrame(
        {
            "area_code": ["veilig_thuis_region:VT01"] * 3,
            "municipality_code": ["GM0001", "GM0002", "GM0003"],
        }
    )
    result = hidden(secondary(frame, members))
    assert ("GM0002", "2024", "all") in result
    # then, within GM0002's family, its smallest category; the other may show: with the
    # total unknown, `all - other` names no single cell
    assert ("GM0002", "2024", "violence_type=partner") in result
    assert ("GM0002", "2024", "violence_type=other") not in result


def test_a_suppressed_quarter_takes_another_quarter_with_it() -> None:
    frame = table(
        ("GM0001", "2024", "all", 41, 92),
        ("GM0001", "2024-Q1", "all", 3, 20),  # primary
        ("GM0001", "2024-Q2", "all", 10, 25),
        ("GM0001", "2024-Q3", "all", 10, 22),  # smallest published: goes too
        ("GM0001", "2024-Q4", "all", 18, 25),
    )
    assert hidden(secondary(frame, NO_MEMBERS)) == {
        ("GM0001", "2024-Q1", "all"),
        ("GM0001", "2024-Q3", "all"),
    }


def test_medians_pool_their_events() -> None:
    frame = table(
        ("GM0001", "2024", "all", 30, 60),
        ("GM0001", "2024", "violence_type=partner", 2, 15),  # fewer than 5 events
        ("GM0001", "2024", "violence_type=child_abuse", 2, 10),  # pooled events 4: fails
        ("GM0001", "2024", "violence_type=other", 26, 35),
        indicator="time_to_specialist",
        unit="days",
    )
    result = hidden(secondary(frame, NO_MEMBERS))
    # partner and child_abuse are both primary, but pooled they have 4 events: add `other`
    assert result == {
        ("GM0001", "2024", "violence_type=partner"),
        ("GM0001", "2024", "violence_type=child_abuse"),
        ("GM0001", "2024", "violence_type=other"),
    }


def test_nothing_suppressed_leaves_the_table_as_it_was() -> None:
    frame = table(
        ("GM0001", "2024", "all", 50, 100),
        ("GM0001", "2024", "violence_type=partner", 20, 40),
        ("GM0001", "2024", "violence_type=other", 30, 60),
    )
    result = secondary(frame, NO_MEMBERS)
    assert not result["suppressed"].any()
    assert result.drop("suppressed").equals(frame)


def test_an_empty_table_stays_empty() -> None:
    empty = table(("GM0001", "2024", "all", 50, 100)).clear()
    result = protect(empty, memberships=NO_MEMBERS)
    assert result.is_empty()
    assert "suppressed" in result.columns
    assert "suppression_reason" not in result.columns


def test_repeated_or_empty_keys_are_refused() -> None:
    row = ("GM0001", "2024", "all", 50, 100)
    with pytest.raises(ValueError, match="unique keys"):
        protect(table(row, row), memberships=NO_MEMBERS)
    with pytest.raises(ValueError, match="every key"):
        protect(
            table(row).with_columns(pl.lit(None, dtype=pl.String).alias("breakdown")),
            memberships=NO_MEMBERS,
        )


# --- the fast implementation against a literal one ---------------------------------------------


def _fails_literally(num: int, den: int, median: bool) -> bool:
    if median:
        return den < 10 or num < 5
    return den < 10 or 1 <= num <= 4 or 1 <= den - num <= 4


def literal_equations(
    frame: pl.DataFrame, memberships: pl.DataFrame
) -> list[tuple[int, list[int]]]:
    """(total row, part rows) of every identity, read off the rules one row at a time."""
    rows = {
        (r["indicator_id"], r["area_code"], r["period"], r["breakdown"]): i
        for i, r in enumerate(frame.iter_rows(named=True))
    }
    equations: dict[tuple, list[int]] = {}

    def add(kind: str, total: tuple, label: str, part: tuple) -> None:
        if total in rows and part in rows:
            equations.setdefault((kind, rows[total], label), []).append(rows[part])

    listed: dict[str, list[str]] = {}
    for area, muni in memberships.iter_rows():
        listed.setdefault(area, []).append(muni)
    # Nested regions and partitions of NL only count municipalities with rows of the indicator.
    members_of: dict[str, dict[str, set[str]]] = {}
    partitions_of: dict[str, list[str]] = {}
    for indicator in {indicator for (indicator, _, _, _) in rows}:
        delivering = {a for (i, a, _, _) in rows if i == indicator and a.startswith("GM")}
        members = {area: set(munis) & delivering for area, munis in listed.items()}
        members = members_of[indicator] = {area: ms for area, ms in members.items() if ms}
        partitions_of[indicator] = [
            region_type
            for region_type in {area.split(":")[0] for area in members if ":" in area}
            if sorted(m for a, ms in members.items() if a.startswith(region_type + ":") for m in ms)
            == sorted(members.get("NL", set()))
        ]
    years = {period for (_, _, period, _) in rows if "-Q" not in period}
    for indicator, area, period, breakdown in rows:
        members, partitions = members_of[indicator], partitions_of[indicator]

        def at(
            area_code: str,
            period_: str = period,
            breakdown_: str = breakdown,
            indicator_: str = indicator,
        ) -> tuple:
            return (indicator_, area_code, period_, breakdown_)

        if breakdown != "all":
            add("family", at(area, breakdown_="all"), breakdown.split("=")[0], at(area))
        if "-Q" in period:
            for year in years:
                if year[:4] == period[:4]:
                    add("period", at(area, period_=year), "", at(area))
        for muni in listed.get(area, []):
            add("region", at(area), "", at(muni))
        if area in members and area != "NL":
            for inner, inside in members.items():
                if inner != area and inside <= members[area]:
                    add("nested", at(area), inner, at(inner))
                    for muni in members[area] - inside:
                        add("nested", at(area), inner, at(muni))
        if area == "NL":
            for region_type in partitions:
                for region in members:
                    if region.startswith(region_type + ":"):
                        add("partition", at(area), region_type, at(region))
    return [(total, parts) for (_, total, _), parts in equations.items()]


def literal_secondary(frame: pl.DataFrame, memberships: pl.DataFrame) -> list[bool]:
    """The rules read literally: every equation judged on the same state each pass, the smallest
    published part (by denominator, then keys) hidden, until nothing changes."""
    num, den = frame["numerator"].to_list(), frame["denominator"].to_list()
    keys = list(frame.select(KEYS).iter_rows())
    median = [unit == "days" for unit in frame["unit"]]
    hidden = [_fails_literally(n, d, m) for n, d, m in zip(num, den, median, strict=True)]
    equations = literal_equations(frame, memberships)
    while True:
        to_hide = set()
        for total, parts in equations:
            shut = [p for p in parts if hidden[p] and den[p] > 0]
            published = sorted((den[p], keys[p], p) for p in parts if not hidden[p] and den[p] > 0)
            smallest = published[0][-1] if published else None
            pooled = (sum(num[p] for p in shut), sum(den[p] for p in shut))
            if (
                not hidden[total]
                and shut
                and (
                    len(shut) < 2
                    or _fails_literally(*pooled, median[total])
                    # a pool without numerator (or complement) where the total has one
                    or (pooled[0] == 0 and num[total] > 0)
                    or (pooled[1] - pooled[0] == 0 and den[total] - num[total] > 0)
                )
            ):
                to_hide.add(total if smallest is None else smallest)
            elif hidden[total] and den[total] > 0 and not shut and smallest is not None:
                to_hide.add(smallest)
        if not to_hide:
            return hidden
        for row in to_hide:
            hidden[row] = True


def random_table(seed: int, *, complete: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A table from random small cell counts: two indicators (one a median), years with
    quarters, two breakdown families, municipalities, NL and three region types (one
    splitting the country, one made of the first's regions, one partial), a municipality
    listed but not delivering, in half the tables a municipality without any row of one
    indicator, and unless `complete` a few rows missing (the rules must cope; the audit
    refuses a table that does not add up)."""
    rng = np.random.default_rng(seed)
    n_munis = int(rng.integers(3, 9))
    munis = [f"GM{i:04d}" for i in range(1, n_munis + 1)]
    split = rng.integers(0, 3, n_munis)
    merged = np.where(split == 2, 1, split)  # type b: regions a:R0 and a:R1+a:R2
    partial = rng.integers(0, 3, n_munis)
    memberships = pl.DataFrame(
        [("NL", m) for m in [*munis, "GM0999"]]
        + [(f"a:R{r}", m) for m, r in zip(munis, split, strict=True)]
        + [(f"b:R{r}", m) for m, r in zip(munis, merged, strict=True)]
        + [(f"c:R{r}", m) for m, r in zip(munis, partial, strict=True) if r < 2],
        schema=["area_code", "municipality_code"],
        orient="row",
    )
    quarters = [f"{year}-Q{q}" for year in (2023, 2024) for q in range(1, 5)]
    cells = pl.DataFrame(
        [
            (indicator, muni, quarter, violence, age)
            for indicator in ("x", "t")
            for muni in munis
            for quarter in quarters
            for violence in ("partner", "other")
            for age in ("0-3", "4-11")
        ],
        schema=["indicator_id", "municipality_code", "period", "violence", "age"],
        orient="row",
    )
    if rng.random() < 0.5:
        # a municipality without any case of one indicator: no rows of it, in no area
        cells = cells.filter(
            (pl.col("indicator_id") != "t") | (pl.col("municipality_code") != "GM0001")
        )
    denominator = rng.choice([0, 1, 3, 6, 12, 20, 40, 90], cells.height)
    cells = cells.with_columns(
        denominator=denominator, numerator=(denominator * rng.random(cells.height)).astype(int)
    )
    with_areas = pl.concat(
        [
            cells.with_columns(area_code=pl.col("municipality_code")),
            cells.join(memberships, on="municipality_code"),
        ]
    )
    with_years = pl.concat(
        [with_areas, with_areas.with_columns(period=pl.col("period").str.slice(0, 4))]
    )
    breakdowns = {
        "all": pl.lit("all"),
        "violence": "violence_type=" + pl.col("violence"),
        "age": "age_band=" + pl.col("age"),
    }
    frame = (
        pl.concat([with_years.with_columns(breakdown=b) for b in breakdowns.values()])
        .group_by("indicator_id", "area_code", "period", "breakdown")
        .agg(pl.col("numerator", "denominator").sum())
        .with_columns(
            area_type=pl.when(pl.col("area_code").str.starts_with("GM"))
            .then(pl.lit("municipality"))
            .when(pl.col("area_code") == "NL")
            .then(pl.lit("national"))
            .otherwise(pl.lit("region")),
            value=pl.col("numerator") / pl.col("denominator"),
            ci_low=pl.lit(0.0),
            ci_high=pl.lit(1.0),
            unit=pl.when(pl.col("indicator_id") == "t")
            .then(pl.lit("days"))
            .otherwise(pl.lit("proportion")),
        )
        .sort("indicator_id", "area_code", "period", "breakdown")
    )
    kept = rng.random(frame.height) > 0.05
    return (frame if complete else frame.filter(pl.Series(kept))), memberships


@pytest.mark.parametrize("seed", range(12))
def test_secondary_matches_a_literal_reading_of_the_rules(seed: int) -> None:
    frame, memberships = random_table(seed)
    expected = literal_secondary(frame, memberships)
    assert sum(expected) > 0
    suppression = Suppression(frame, memberships=memberships)
    assert suppression.secondary(suppression.primary).tolist() == expected


@pytest.mark.parametrize("seed", range(12))
def test_each_indicator_is_protected_on_its_own(seed: int) -> None:
    # No equation spans two indicators: the table's suppression is that of each indicator alone,
    # so the indicators can be protected one at a time as they are counted.
    frame, memberships = random_table(seed, complete=True)
    whole = protect(frame, memberships=memberships)
    alone = pl.concat(
        protect(part, memberships=memberships)
        for part in frame.partition_by("indicator_id", maintain_order=True)
    )
    assert alone.sort(KEYS).equals(whole.sort(KEYS))


def test_the_order_of_the_rows_does_not_matter() -> None:
    # Ties between equal denominators go by the keys, not by where a row happens to stand.
    frame, memberships = random_table(3, complete=True)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=7)
    expected = protect(frame, memberships=memberships).sort(KEYS)
    assert protect(shuffled, memberships=memberships).sort(KEYS).equals(expected)
    assert protect(frame.reverse(), memberships=memberships).sort(KEYS).equals(expected)


def test_a_table_that_does_not_add_up_is_refused() -> None:
    # the region's numerator is not the sum of its municipalities': the audit would prove
    # things about a table that is not the true one
    frame = table(
        ("veilig_thuis_region:VT01", "2024", "all", 60, 142),
        ("GM0001", "2024", "all", 2, 12),
        ("GM0002", "2024", "all", 10, 30),
        ("GM0003", "2024", "all", 50, 100),
    )
    members = pl.DataFrame(
        {
            "area_code": ["veilig_thuis_region:VT01"] * 3,
            "municipality_code": ["GM0001", "GM0002", "GM0003"],
        }
    )
    with pytest.raises(ValueError, match="numerators do not add up.*area_code=veilig_thuis"):
        protect(frame, memberships=members)


def test_indicators_of_one_population_share_their_denominators() -> None:
    # x and y count the same three municipalities' cases (equal denominators): alone, x hides
    # A (4 cases) and C (3 with the outcome) and y hides A and B (3 with the outcome); but
    # A + C = 24 from x and C = 20 from y give A's 4 away. Together, each hides all three.
    members = pl.DataFrame(
        {"area_code": ["NL"] * 3, "municipality_code": ["GM0001", "GM0002", "GM0003"]}
    )
    x = table(
        ("NL", "2024", "all", 11, 54),
        ("GM0001", "2024", "all", 2, 4),
        ("GM0002", "2024", "all", 6, 30),
        ("GM0003", "2024", "all", 3, 20),
    )
    y = table(
        ("NL", "2024", "all", 15, 54),
        ("GM0001", "2024", "all", 2, 4),
        ("GM0002", "2024", "all", 3, 30),
        ("GM0003", "2024", "all", 10, 20),
        indicator="y",
    )
    alone = [hidden(protect(f, memberships=members)) for f in (x, y)]
    assert alone == [
        {("GM0001", "2024", "all"), ("GM0003", "2024", "all")},
        {("GM0001", "2024", "all"), ("GM0002", "2024", "all")},
    ]
    together = [hidden(f) for f in protect_population([x, y], memberships=members)]
    municipalities = {(m, "2024", "all") for m in ("GM0001", "GM0002", "GM0003")}
    assert together == [municipalities, municipalities]


def test_denominators_shared_only_where_equal() -> None:
    # y's population is smaller in GM0002 (a window not yet complete there): nothing of
    # GM0002 is shared, and y's own figures hide nothing more than alone
    members = pl.DataFrame({"area_code": ["NL"] * 2, "municipality_code": ["GM0001", "GM0002"]})
    x = table(
        ("NL", "2024", "all", 20, 60), ("GM0001", "2024", "all", 10, 30),
        ("GM0002", "2024", "all", 10, 30),
    )  # fmt: skip
    y = table(
        ("NL", "2024", "all", 20, 55), ("GM0001", "2024", "all", 10, 30),
        ("GM0002", "2024", "all", 10, 25), indicator="y",
    )  # fmt: skip
    assert [hidden(f) for f in protect_population([x, y], memberships=members)] == [set(), set()]
