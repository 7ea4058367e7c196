"""Primary and secondary suppression on small tables worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest

from metrics.disclosure import primary, secondary

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


def hidden(result: pl.DataFrame) -> dict[tuple[str, str, str], str]:
    """(area_code, period, breakdown) -> reason, for every suppressed row."""
    rows = result.filter(pl.col("suppressed"))
    return {
        (r["area_code"], r["period"], r["breakdown"]): r["suppression_reason"]
        for r in rows.iter_rows(named=True)
    }


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
    assert result["suppression_reason"].to_list() == ["primary" if suppressed else None]
    # primary keeps the figures: secondary still needs them
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
    result = secondary(frame, memberships=NO_MEMBERS)
    # the smallest published denominator (35) goes too: pooled 20/55 passes
    assert hidden(result) == {
        ("GM0001", "2024", "violence_type=partner"): "primary",
        ("GM0001", "2024", "violence_type=child_abuse"): "secondary",
    }


def test_pooled_categories_must_pass_the_primary_rule() -> None:
    frame = table(
        ("GM0001", "2024", "all", 50, 100),
        ("GM0001", "2024", "violence_type=partner", 2, 12),  # primary
        ("GM0001", "2024", "violence_type=child_abuse", 0, 10),  # pooled 2/22: fails
        ("GM0001", "2024", "violence_type=elder_abuse", 20, 30),  # pooled 22/52: passes
        ("GM0001", "2024", "violence_type=other", 28, 48),
    )
    result = secondary(frame, memberships=NO_MEMBERS)
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
    assert hidden(secondary(frame, memberships=NO_MEMBERS)) == {
        ("GM0001", "2024", "violence_type=partner"): "primary",
        ("GM0001", "2024", "all"): "secondary",
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
    result = secondary(frame, memberships=members)
    assert hidden(result) == {
        ("GM0001", "2024", "all"): "primary",
        ("GM0002", "2024", "all"): "secondary",
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
    result = hidden(secondary(frame, memberships=members))
    assert result[("GM0002", "2024", "all")] == "secondary"
    # then, within GM0002's family, its smallest category; the other may show: with the
    # total unknown, `all - other` names no single cell
    assert result[("GM0002", "2024", "violence_type=partner")] == "secondary"
    assert ("GM0002", "2024", "violence_type=other") not in result


def test_a_suppressed_quarter_takes_another_quarter_with_it() -> None:
    frame = table(
        ("GM0001", "2024", "all", 41, 92),
        ("GM0001", "2024-Q1", "all", 3, 20),  # primary
        ("GM0001", "2024-Q2", "all", 10, 25),
        ("GM0001", "2024-Q3", "all", 10, 22),  # smallest published: goes too
        ("GM0001", "2024-Q4", "all", 18, 25),
    )
    assert hidden(secondary(frame, memberships=NO_MEMBERS)) == {
        ("GM0001", "2024-Q1", "all"): "primary",
        ("GM0001", "2024-Q3", "all"): "secondary",
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
    result = hidden(secondary(frame, memberships=NO_MEMBERS))
    # partner and child_abuse are both primary, but pooled they have 4 events: add `other`
    assert result == {
        ("GM0001", "2024", "violence_type=partner"): "primary",
        ("GM0001", "2024", "violence_type=child_abuse"): "primary",
        ("GM0001", "2024", "violence_type=other"): "secondary",
    }


def test_nothing_suppressed_leaves_the_table_as_it_was() -> None:
    frame = table(
        ("GM0001", "2024", "all", 50, 100),
        ("GM0001", "2024", "violence_type=partner", 20, 40),
        ("GM0001", "2024", "violence_type=other", 30, 60),
    )
    result = secondary(frame, memberships=NO_MEMBERS)
    assert not result["suppressed"].any()
    assert result.drop("suppressed", "suppression_reason").equals(frame)
