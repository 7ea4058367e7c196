"""Indicator queries and counts on hand-built warehouses: every population and numerator edge."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from small_warehouse import SmallWarehouse, days

from hgkm import reference
from metrics import counts, indicators
from metrics.catalogue import BY_ID, Indicator
from metrics.survival import km_medians, km_steps_by_group

E = date(2024, 12, 31)
GRONINGEN, STADSKANAAL, ALMERE = "GM0014", "GM0037", "GM0034"


@pytest.fixture
def wh(tmp_path: Path) -> SmallWarehouse:
    warehouse = SmallWarehouse(tmp_path / "warehouse.duckdb")
    yield warehouse
    warehouse.close()


def unit_rows(wh: SmallWarehouse, indicator: Indicator) -> pl.DataFrame:
    """The indicator's query over the warehouse: one row per unit (case or child)."""
    return wh.con.sql(indicator.sql).pl()


def flags(wh: SmallWarehouse, indicator_id: str) -> dict[str, tuple[bool, bool]]:
    rows = unit_rows(wh, BY_ID[indicator_id])
    assert rows["unit_id"].is_unique().all()
    return {
        r["unit_id"]: (r["in_population"], r["in_numerator"]) for r in rows.iter_rows(named=True)
    }


IN_NUM, IN_POP, OUT = (True, True), (True, False), (False, False)


def test_recurrence_12m_windows(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    r = days(E, -365)  # R + 365 == E: the window just complete
    for case_id, offset in [("day8", 8), ("day7", 7), ("day365", 365), ("day366", 366)]:
        wh.case(d, case_id, r)
        wh.report(d, case_id, days(r, offset))
    wh.case(d, "index_only", r)
    wh.report(d, "index_only", r)  # the index report itself is not a new one
    wh.case(d, "incomplete", days(E, -364))
    wh.report(d, "incomplete", days(E, -364 + 8))
    assert flags(wh, "recurrence_12m") == {
        "day8": IN_NUM,
        "day7": IN_POP,
        "day365": IN_NUM,
        "day366": IN_POP,
        "index_only": IN_POP,
        "incomplete": OUT,
    }


def test_recurrence_after_restraining_order_counts_from_the_order(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    order = days(E, -365)
    r = days(order, 10)  # the order may precede the report
    for case_id, offset in [("day8", 8), ("day7", 7), ("day365", 365), ("day366", 366)]:
        wh.case(d, case_id, r, restraining_order=order)
        wh.report(d, case_id, days(order, offset))
    wh.case(d, "no_order", r)
    wh.report(d, "no_order", days(r, 30))
    wh.case(d, "late_order", r, restraining_order=days(order, 1))
    wh.report(d, "late_order", days(order, 30))
    assert flags(wh, "recurrence_after_restraining_order") == {
        "day8": IN_NUM,
        "day7": IN_POP,
        "day365": IN_NUM,
        "day366": IN_POP,
        "no_order": OUT,
        "late_order": OUT,
    }


def test_violence_continued_18m_latest_followup_in_window_decides(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    r = date(2022, 1, 1)
    for case_id in "abcdefg":
        wh.case(d, case_id, r)
    wh.followup(d, "a", days(r, 455), "yes")  # before 15 months: ignored
    wh.followup(d, "b", days(r, 456), "no")
    wh.followup(d, "c", days(r, 456), "yes")
    wh.followup(d, "c", days(r, 639), "no")  # the latest decides
    wh.followup(d, "d", days(r, 500), "no")
    wh.followup(d, "d", days(r, 639), "yes")
    wh.followup(d, "d", days(r, 640), "no")  # after 21 months: ignored
    wh.followup(d, "e", days(r, 600), "unknown")
    wh.followup(d, "f", days(r, 500), "yes")
    wh.followup(d, "f", days(r, 600), "unknown")  # unknown is not an answer
    wh.followup(d, "g", days(r, 90), "yes")
    assert flags(wh, "violence_continued_18m") == {
        "a": OUT,
        "b": IN_POP,
        "c": IN_POP,
        "d": IN_NUM,
        "e": OUT,
        "f": IN_NUM,
        "g": OUT,
    }


def test_children_without_help_counts_child_and_family_help(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    r = days(E, -182)
    wh.case(d, "own", r)
    for child in ("own_c1", "own_c2", "own_c3"):
        wh.child(d, "own", child)
    wh.help(d, "own", "child", "basic", days(r, 182), child_id="own_c1")  # day 182: in time
    wh.help(d, "own", "child", "basic", days(r, 183), child_id="own_c2")  # day 183: too late
    wh.help(d, "own", "victim", "specialist", r)  # help to a parent is not help to a child
    wh.case(d, "fam", r)
    wh.child(d, "fam", "fam_c1", "0-3")
    wh.child(d, "fam", "fam_c2", "12-17")
    wh.help(d, "fam", "family", "basic", days(r, 10))
    wh.case(d, "before", r)
    wh.child(d, "before", "before_c1")
    wh.help(d, "before", "family", "basic", days(r, -1))  # offered before R
    wh.case(d, "young", days(E, -181))
    wh.child(d, "young", "young_c1")
    wh.case(d, "childless", r)
    assert flags(wh, "children_without_help") == {
        "own_c1": IN_POP,
        "own_c2": IN_NUM,
        "own_c3": IN_NUM,
        "fam_c1": IN_POP,
        "fam_c2": IN_POP,
        "before_c1": IN_NUM,
        "young_c1": OUT,
    }


def test_families_without_help_offer_window(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    r = days(E, -182)
    for case_id in ("day182", "day183", "before", "none"):
        wh.case(d, case_id, r)
    wh.help(d, "day182", "victim", "basic", days(r, 182))
    wh.help(d, "day183", "victim", "basic", days(r, 183))
    wh.help(d, "before", "family", "basic", days(r, -1))
    wh.case(d, "young", days(E, -181))
    assert flags(wh, "families_without_help_offer") == {
        "day182": IN_POP,
        "day183": IN_NUM,
        "before": IN_NUM,
        "none": IN_NUM,
        "young": OUT,
    }


def test_specialist_within_30d_uses_start_date(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    r = days(E, -30)
    wh.case(d, "day30", r, safety="structural")
    wh.help(d, "day30", "victim", "specialist", r, start=days(r, 30))
    wh.case(d, "day31", r)
    wh.help(d, "day31", "victim", "specialist", r, start=days(r, 31))
    wh.case(d, "basic", r)
    wh.help(d, "basic", "victim", "basic", r, start=days(r, 1))
    wh.case(d, "not_started", r)
    wh.help(d, "not_started", "victim", "specialist", r)
    wh.case(d, "before", r)
    wh.help(d, "before", "victim", "specialist", days(r, -3), start=days(r, -1))
    wh.case(d, "safe", r, safety="not_unsafe")
    wh.case(d, "unknown", r, safety="unknown")
    wh.case(d, "young", days(E, -29))
    assert flags(wh, "specialist_within_30d") == {
        "day30": IN_NUM,
        "day31": IN_POP,
        "basic": IN_POP,
        "not_started": IN_POP,
        "before": IN_POP,
        "young": OUT,
    }


def test_coordinator_within_30d(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    r = days(E, -30)
    wh.case(d, "day30", r, coordinator=days(r, 30))
    wh.case(d, "day31", r, coordinator=days(r, 31))
    wh.case(d, "none", r)
    wh.case(d, "young", days(E, -29), coordinator=days(E, -29))
    assert flags(wh, "coordinator_within_30d") == {
        "day30": IN_NUM,
        "day31": IN_POP,
        "none": IN_POP,
        "young": OUT,
    }


def test_system_help_partner_violence(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    r = days(E, -182)
    wh.case(d, "perp", r)
    wh.help(d, "perp", "perpetrator", "basic", days(r, 182))
    wh.case(d, "family", r)
    wh.help(d, "family", "family", "specialist", r)
    wh.case(d, "late", r)
    wh.help(d, "late", "perpetrator", "basic", days(r, 183))
    wh.case(d, "victim", r)
    wh.help(d, "victim", "victim", "specialist", r)
    wh.case(d, "child_abuse", r, violence_type="child_abuse")
    wh.help(d, "child_abuse", "family", "basic", r)
    wh.case(d, "young", days(E, -181))
    assert flags(wh, "system_help_partner_violence") == {
        "perp": IN_NUM,
        "family": IN_NUM,
        "late": IN_POP,
        "victim": IN_POP,
        "young": OUT,
    }


def test_light_help_for_severe(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    r = days(E, -182)
    wh.case(d, "basic_only", r)
    wh.help(d, "basic_only", "victim", "basic", days(r, 182))
    wh.case(d, "with_specialist", r, safety="structural")
    wh.help(d, "with_specialist", "victim", "basic", days(r, 1))
    wh.help(d, "with_specialist", "perpetrator", "specialist", days(r, 100))
    wh.case(d, "specialist_late", r)
    wh.help(d, "specialist_late", "victim", "basic", days(r, 1))
    wh.help(d, "specialist_late", "victim", "specialist", days(r, 183))
    wh.case(d, "no_help", r)
    wh.help(d, "no_help", "victim", "basic", days(r, 183))
    wh.case(d, "safe", r, safety="not_unsafe")
    wh.help(d, "safe", "victim", "basic", r)
    wh.case(d, "young", days(E, -181))
    wh.help(d, "young", "victim", "basic", days(E, -181))
    assert flags(wh, "light_help_for_severe") == {
        "basic_only": IN_NUM,
        "with_specialist": IN_POP,
        "specialist_late": IN_NUM,
        "no_help": OUT,
        "young": OUT,
    }


def test_time_to_specialist_events_and_censoring(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    r = date(2024, 6, 1)
    wh.case(d, "event", r)
    wh.help(d, "event", "victim", "specialist", r, start=days(r, 10))
    wh.help(d, "event", "family", "specialist", r, start=days(r, 40))  # the earliest counts
    wh.case(d, "before", r)
    wh.help(d, "before", "victim", "specialist", days(r, -20), start=days(r, -5))
    wh.help(d, "before", "victim", "specialist", r, start=days(r, 20))
    wh.case(d, "basic", r, safety="structural")
    wh.help(d, "basic", "victim", "basic", r, start=days(r, 2))
    wh.case(d, "waiting", r)
    wh.help(d, "waiting", "victim", "specialist", days(r, 3))  # offered, never started
    wh.case(d, "safe", r, safety="not_unsafe")
    rows = unit_rows(wh, BY_ID["time_to_specialist"])
    got = {row["unit_id"]: (row["time"], row["event"]) for row in rows.iter_rows(named=True)}
    censored_at = (E - r).days
    assert got == {
        "event": (10, True),
        "before": (20, True),
        "basic": (censored_at, False),
        "waiting": (censored_at, False),
    }


def test_only_current_delivery_and_own_extract_date(wh: SmallWarehouse) -> None:
    old = wh.delivery(GRONINGEN, date(2024, 6, 30))
    wh.case(old, "stale", date(2023, 1, 1))
    new = wh.delivery(GRONINGEN, E)
    rejected = wh.delivery(GRONINGEN, date(2025, 1, 31), status="rejected")
    wh.case(rejected, "rejected_case", date(2023, 1, 1))
    r = days(E, -30)
    wh.case(new, "same_id", r)
    # Stadskanaal extracted one day earlier: the same R has an incomplete 30-day window there
    other = wh.delivery(STADSKANAAL, days(E, -1))
    wh.case(other, "same_id", r)
    rows = unit_rows(wh, BY_ID["coordinator_within_30d"])
    got = {
        (row["municipality_code"], row["unit_id"]): row["in_population"]
        for row in rows.iter_rows(named=True)
    }
    assert got == {(GRONINGEN, "same_id"): True, (STADSKANAAL, "same_id"): False}
    assert counts.delivered_municipalities(wh.con) == [GRONINGEN, STADSKANAAL]


def area_cells(wh: SmallWarehouse, indicator_id: str) -> pl.DataFrame:
    """One indicator's cells of every area with a delivering municipality."""
    memberships = indicators.area_memberships(counts.delivered_municipalities(wh.con))
    indicator = BY_ID[indicator_id]
    municipal = counts.municipal_counts(wh.con, indicator)
    return indicators.cell_counts(municipal, indicator, memberships)


def test_counts_by_period_and_breakdown(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    # 2023-Q1: two partner cases, one with a coordinator; 2023-Q3: one child-abuse case with one.
    wh.case(d, "a", date(2023, 1, 5), coordinator=date(2023, 1, 6))
    wh.case(d, "b", date(2023, 3, 31))
    wh.case(d, "c", date(2023, 7, 1), violence_type="child_abuse", coordinator=date(2023, 7, 31))
    wh.case(d, "d", days(E, -10))  # window incomplete: no 2024 figure at all
    counts = area_cells(wh, "coordinator_within_30d")
    got = {
        (row["area_code"], row["period"], row["breakdown"]): (row["numerator"], row["denominator"])
        for row in counts.iter_rows(named=True)
        if row["area_code"] in (GRONINGEN, "veilig_thuis_region:VT08", "ggd_region:GG0111")
    }
    # quarters of `all` for the municipality and its Veilig Thuis region, categories of the
    # year for the region only, the other region type its year only (docs/methods.md)
    assert got == {
        (GRONINGEN, "2023", "all"): (2, 3),
        (GRONINGEN, "2023-Q1", "all"): (1, 2),
        (GRONINGEN, "2023-Q3", "all"): (1, 1),
        ("veilig_thuis_region:VT08", "2023", "all"): (2, 3),
        ("veilig_thuis_region:VT08", "2023-Q1", "all"): (1, 2),
        ("veilig_thuis_region:VT08", "2023-Q3", "all"): (1, 1),
        ("veilig_thuis_region:VT08", "2023", "violence_type=partner"): (1, 2),
        ("veilig_thuis_region:VT08", "2023", "violence_type=child_abuse"): (1, 1),
        ("ggd_region:GG0111", "2023", "all"): (2, 3),
    }
    groningen = counts.filter(pl.col("area_code") == GRONINGEN)
    assert set(groningen["period_type"].to_list()) == {"year", "quarter"}
    assert groningen.filter(pl.col("period") == "2023-Q3")["year"].to_list() == [2023]


def test_children_broken_down_by_age_band(wh: SmallWarehouse) -> None:
    d = wh.delivery(GRONINGEN, E)
    wh.case(d, "a", date(2023, 5, 1))
    wh.child(d, "a", "a1", "0-3")
    wh.child(d, "a", "a2", "0-3")
    wh.child(d, "a", "a3", "12-17")
    wh.help(d, "a", "child", "basic", date(2023, 5, 2), child_id="a2")
    counts = area_cells(wh, "children_without_help")
    got = {
        row["breakdown"]: (row["numerator"], row["denominator"])
        for row in counts.filter(
            (pl.col("period") == "2023") & (pl.col("area_code") == "veilig_thuis_region:VT08")
        ).iter_rows(named=True)
    }
    assert got == {"all": (2, 3), "age_band=0-3": (1, 2), "age_band=12-17": (1, 1)}


def test_regions_pool_members_cases(wh: SmallWarehouse) -> None:
    # Groningen 3/4, Stadskanaal 1/3 (both VT08), Almere 2/2 (VT03).
    plan = {GRONINGEN: (3, 4), STADSKANAAL: (1, 3), ALMERE: (2, 2)}
    for code, (with_coordinator, total) in plan.items():
        d = wh.delivery(code, E)
        for i in range(total):
            r = date(2023, 2, 1)
            wh.case(d, f"{code}_{i}", r, coordinator=r if i < with_coordinator else None)
    memberships = indicators.area_memberships(counts.delivered_municipalities(wh.con))
    coordinator = BY_ID["coordinator_within_30d"]
    municipal = counts.municipal_counts(wh.con, coordinator)
    cells = indicators.cell_counts(municipal, coordinator, memberships).filter(
        (pl.col("period") == "2023") & (pl.col("breakdown") == "all")
    )
    got = {
        row["area_code"]: (row["numerator"], row["denominator"])
        for row in cells.iter_rows(named=True)
    }
    assert got[GRONINGEN] == (3, 4)
    assert got["veilig_thuis_region:VT08"] == (4, 7)
    assert got["safety_region:VR01"] == (4, 7)
    assert got["veilig_thuis_region:VT03"] == (2, 2)
    assert got["NL"] == (6, 9)
    # every region figure is the sum of its members' figures
    members = reference.memberships().filter(pl.col("municipality_code").is_in(list(plan)))
    for region_type, region_code in (
        members.select("region_type", "region_code").unique().iter_rows()
    ):
        in_region = members.filter(
            (pl.col("region_type") == region_type) & (pl.col("region_code") == region_code)
        )["municipality_code"].to_list()
        expected = tuple(sum(plan[m][k] for m in in_region) for k in (0, 1))
        assert got[f"{region_type}:{region_code}"] == expected
    # no region without a delivering member gets a row
    assert len(got) == 3 + members.select("region_type", "region_code").n_unique() + 1


def test_a_failure_while_counting_stops_the_queries_and_surfaces(
    wh: SmallWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SQL runs ahead on its own thread: a failure in the counting must not wait for, or
    # be hidden by, the indicators still queued, and the connection stays usable.
    d = wh.delivery(GRONINGEN, E)
    wh.case(d, "c1", date(2023, 2, 1))

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("counting failed")

    monkeypatch.setattr(indicators.disclosure, "protect_population", broken)
    source = counts.WarehouseCounts(wh.con)
    delivered = source.delivered()
    with pytest.raises(RuntimeError, match="counting failed"), source.counting() as municipal:
        indicators.indicator_figures(municipal, delivered)
    assert wh.con.sql("select count(*) from current_cases").fetchall() == [(1,)]


def test_coverage_counts_delivering_members() -> None:
    cov = indicators.coverage([GRONINGEN, STADSKANAAL])
    got = {
        row["area_code"]: (row["coverage_delivered"], row["coverage_total"])
        for row in cov.iter_rows(named=True)
    }
    assert got["veilig_thuis_region:VT08"] == (2, 10)
    assert got["veilig_thuis_region:VT03"] == (0, 6)  # Flevoland's six municipalities
    assert got["NL"] == (2, 342)
    assert got[GRONINGEN] == (1, 1)
    assert got[ALMERE] == (0, 1)


def test_time_to_specialist_medians_from_counts_equal_medians_per_case(wh: SmallWarehouse) -> None:
    """The counted roll-up (municipality × quarter × breakdown × time, summed into areas and
    periods) gives every cell the median that a Kaplan–Meier fit on that cell's own cases
    gives, the cells' cases picked here one by one from the case rows."""
    rng = np.random.default_rng(7)
    for code in (GRONINGEN, STADSKANAAL, ALMERE):
        d = wh.delivery(code, E)
        for i in range(int(rng.integers(40, 90))):
            r = days(date(2023, 1, 1), int(rng.integers(0, 700)))
            case_id = f"{code}_{i:03d}"
            violence = ("partner", "child_abuse", "other")[int(rng.integers(0, 3))]
            wh.case(d, case_id, r, violence_type=violence, safety="acute")
            if rng.random() < 0.6:
                start = days(r, int(rng.integers(0, 60)))
                if start <= E:
                    wh.help(d, case_id, "victim", "specialist", r, start=start)
    delivered = counts.delivered_municipalities(wh.con)
    memberships = indicators.area_memberships(delivered)
    ind = BY_ID["time_to_specialist"]
    cells = indicators.survival_cells(counts.municipal_counts(wh.con, ind), ind, memberships)
    medians = indicators.median_figures(cells, ind.id)
    cases = (
        unit_rows(wh, ind)
        .join(memberships, on="municipality_code")
        .with_columns(
            year=pl.col("report_date").dt.year().cast(pl.String),
            quarter=pl.format(
                "{}-Q{}", pl.col("report_date").dt.year(), pl.col("report_date").dt.quarter()
            ),
            breakdown=pl.format("violence_type={}", "violence_type"),
        )
    )
    checked = 0
    for row in medians.iter_rows(named=True):
        period_col = "year" if row["period_type"] == "year" else "quarter"
        mine = cases.filter(
            (pl.col("area_code") == row["area_code"]) & (pl.col(period_col) == row["period"])
        )
        if row["breakdown"] != "all":
            mine = mine.filter(pl.col("breakdown") == row["breakdown"])
        one = mine.select(pl.lit(0).alias("g"), "time", "event")
        (median,) = km_medians(km_steps_by_group(one, ["g"]), ["g"]).iter_rows(named=True)
        assert (row["denominator"], row["numerator"]) == (mine.height, mine["event"].sum())
        assert (row["value"], row["ci_low"], row["ci_high"]) == (
            median["median"],
            median["ci_low"],
            median["ci_high"],
        ), row
        checked += 1
    # every published area × period × breakdown with cases has its row, and no other: years
    # of every area; quarters of municipalities, Veilig Thuis regions and the country;
    # categories of years of Veilig Thuis regions and the country (docs/methods.md)
    keys = cases.select("area_code", "year", "quarter", "breakdown")
    vt_or_nl = pl.col("area_code").str.starts_with("veilig_thuis_region:") | (
        pl.col("area_code") == "NL"
    )
    expected = (
        keys.select("area_code", "year").n_unique()
        + keys.filter(vt_or_nl | pl.col("area_code").str.starts_with("GM"))
        .select("area_code", "quarter")
        .n_unique()
        + keys.filter(vt_or_nl).select("area_code", "year", "breakdown").n_unique()
    )
    assert checked == medians.height == expected
