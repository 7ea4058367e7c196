"""Chart builders and formatting: frames in, figures out, checked against hand-made inputs."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from dashboard import charts, tables
from dashboard import format as fmt
from dashboard.i18n import LANGUAGES, MESSAGES, t


@pytest.mark.parametrize(
    ("fraction", "lang", "expected"),
    [
        (0.593, "nl", "59,3%"),
        (0.593, "en", "59.3%"),
        (0.0, "nl", "0,0%"),
        (1.0, "nl", "100,0%"),
        (0.08, "nl", "8,0%"),
        (None, "nl", "–"),
    ],
)
def test_percent(fraction: float | None, lang: str, expected: str) -> None:
    assert fmt.percent(fraction, lang) == expected


def test_numbers_dates_periods_and_words() -> None:
    assert fmt.number(1234567, 0, "nl") == "1.234.567"
    assert fmt.number(1234567, 0, "en") == "1,234,567"
    assert fmt.number(12345.678, 1, "nl") == "12.345,7"
    assert fmt.day(date(2025, 3, 3), "nl") == "3 maart 2025"
    assert fmt.day(date(2025, 12, 31), "en") == "31 December 2025"
    assert fmt.period("2024-Q3", "nl") == "2024 K3"
    assert fmt.period("2024-Q3", "en") == "2024 Q3"
    assert fmt.comparison("worse", "IJsselland") == "slechter dan IJsselland"
    assert fmt.indicator_value(23.0, "days") == "23 dagen"
    assert fmt.indicator_value(1.0, "days", lang="en") == "1 day"
    assert fmt.indicator_value(None, "days", False, False) == "mediaan niet bereikt"
    assert fmt.indicator_value(0.4, "percent", True) == "–"
    assert fmt.interval(0.521, 0.66, "percent") == "52,1–66,0%"
    assert fmt.interval(71.0, None, "days") == "≥ 71 dagen"


def test_every_message_exists_in_every_language() -> None:
    missing = {key for key, text in MESSAGES.items() if set(text) != set(LANGUAGES)}
    assert missing == set()
    assert t("coverage", "en", delivered=3, total=11) == (
        "3 of the 11 municipalities in the region have delivered."
    )


def _rows() -> pl.DataFrame:
    """Three municipalities, the region and the country for one indicator, by hand."""
    return pl.DataFrame(
        {
            "area_code": ["GM0001", "GM0002", "GM0003", "GM0004", "veilig_thuis_region:VT99", "NL"],
            "area_name": ["Aa", "Bee", "Cee", "Dee", "Regio", "Nederland"],
            "indicator_id": ["x"] * 6,
            "period": ["2024"] * 6,
            "value": [0.30, 0.50, None, 0.20, 0.40, 0.41],
            "ci_low": [0.25, 0.45, None, 0.15, 0.38, 0.40],
            "ci_high": [0.35, 0.55, None, 0.26, 0.42, 0.42],
            "numerator": [30, 50, None, 20, 100, 1000],
            "denominator": [100, 100, None, 100, 250, 2439],
            "suppressed": [False, False, True, False, False, False],
            "median_reached": [None] * 6,
            "comparison_national": ["better", "worse", "not_compared", "better", "similar", "x"],
            "comparison_region": ["better", "worse", "not_compared", "better", "x", "x"],
        },
        schema_overrides={"median_reached": pl.Boolean},
    )


CATALOGUE = pl.DataFrame(
    {
        "indicator_id": ["x"],
        "sort_order": [1],
        "title_nl": ["Iets zonder hulp"],
        "title_en": ["Something without help"],
        "short_nl": ["Zonder hulp"],
        "short_en": ["Without help"],
        "polarity": ["lower_is_better"],
        "unit": ["proportion"],
        "value_format": ["percent"],
    }
)


def _cells() -> pl.DataFrame:
    rows = _rows().with_columns(
        pl.when(pl.col("area_code") == "NL")
        .then(pl.lit("not_compared"))
        .otherwise(pl.col("comparison_national"))
        .alias("comparison_national")
    )
    members = pl.DataFrame(
        {"area_code": ["GM0001", "GM0002", "GM0003", "GM0004", "GM0005"],
         "area_name": ["Aa", "Bee", "Cee", "Dee", "Ee"]}
    )  # fmt: skip
    return tables.overview_cells(
        rows.filter(pl.col("area_code") != "GM0004")
        .drop("area_name")
        .join(
            pl.DataFrame({"area_code": rows["area_code"], "area_name": rows["area_name"]}),
            on="area_code",
        ),
        members,
        CATALOGUE,
        "veilig_thuis_region:VT99",
        "Regio",
        "2024",
        "nl",
    )


def test_grid_cells_carry_value_symbol_dash_and_missing() -> None:
    cells = _cells()
    text = dict(cells.select("area_code", "text").iter_rows())
    assert text == {
        "GM0001": "30,0% ▲",
        "GM0002": "50,0% ▼",
        "GM0003": "–",
        "GM0004": "n.b.",  # a member without a row in the mart
        "GM0005": "n.b.",
        "veilig_thuis_region:VT99": "40,0% ●",
        "NL": "41,0%",
    }
    hover = dict(cells.select("area_code", "hover").iter_rows())
    assert "te weinig gevallen om te tonen" in hover["GM0003"]
    assert "25,0–35,0%" in hover["GM0001"] and "beter dan Nederland" in hover["GM0001"]
    assert "2024" in hover["GM0001"]


def test_grid_figure_colours_follow_the_status() -> None:
    cells = _cells()
    fig = charts.overview_grid(cells, "nl", "titel")
    heatmap = fig.data[0]
    ys = list(heatmap.y)
    status_of_code = {i + 0.5: s for i, s in enumerate(charts.COLOURS)}
    assert status_of_code[heatmap.z[ys.index("GM0001")][0]] == "better"
    assert status_of_code[heatmap.z[ys.index("GM0002")][0]] == "worse"
    assert status_of_code[heatmap.z[ys.index("GM0003")][0]] == "suppressed"
    assert status_of_code[heatmap.z[ys.index("NL")][0]] == "not_compared"
    # the stepped scale maps each status's band onto its own colour only
    scale = dict((round(p, 6), c) for p, c in heatmap.colorscale[1::2])
    n = len(charts.COLOURS)
    for i, status in enumerate(charts.COLOURS):
        assert scale[round((i + 1) / n, 6)] == charts.COLOURS[status]
    # the legend says it in words and symbols too
    legend = {trace.name for trace in fig.data[1:]}
    assert {"▲ beter", "● vergelijkbaar", "▼ slechter", "– te weinig gevallen"} <= legend


def test_map_uses_the_shipped_outlines_and_a_blank_style() -> None:
    cells = _cells().filter(pl.col("area_type") == "municipality")
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"statcode": code},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[5 + i, 52], [5.5 + i, 52], [5.5 + i, 52.5], [5 + i, 52]]],
                },
            }
            for i, code in enumerate(["GM0001", "GM0002", "GM0003", "GM9999"])
        ],
    }
    fig = charts.region_map(cells, geojson, "nl")
    assert fig.layout.map.style == "white-bg"
    shown = {loc for trace in fig.data for loc in trace.locations}
    assert shown == {"GM0001", "GM0002", "GM0003", "GM0004", "GM0005"}
    drawn = {f["properties"]["statcode"] for f in fig.data[0].geojson["features"]}
    assert "GM9999" not in drawn  # only the region's own outlines
    assert 5.0 < fig.layout.map.center.lon < 7.5


def test_funnel_draws_limits_and_random_effects_only_when_overdispersed() -> None:
    points = tables.describe(
        tables.with_catalogue(_rows().filter(pl.col("area_code").str.starts_with("GM")),
                              CATALOGUE, "nl"), "nl"
    ).with_columns(tables.status_expr("comparison_national").alias("status"))  # fmt: skip
    limits = pl.DataFrame(
        {
            "denominator": [10, 100, 1000],
            "lower_95": [0.1, 0.3, 0.38],
            "upper_95": [0.7, 0.5, 0.44],
            "lower_998": [0.0, 0.25, 0.36],
            "upper_998": [0.85, 0.56, 0.46],
            "re_lower_95": [None] * 3,
            "re_upper_95": [None] * 3,
            "re_lower_998": [0.0, 0.2, 0.3],
            "re_upper_998": [0.9, 0.6, 0.52],
        },
        schema_overrides={"re_lower_95": pl.Float64, "re_upper_95": pl.Float64},
    )
    plain = charts.funnel_chart(points, {"benchmark": 0.41, "overdispersed": False}, limits, "nl")
    names = [trace.name for trace in plain.data]
    assert names.count("95%-grens") == 2 and names.count("99,8%-grens") == 2
    assert "99,8%-grens met extra spreiding" not in names
    assert list(next(tr for tr in plain.data if tr.name == "95%-grens").y) == [10.0, 30.0, 38.0]
    # the suppressed municipality is not a point
    plotted = {x for trace in plain.data if trace.mode == "markers" for x in trace.customdata}
    assert not any("Cee" in h for h in plotted)
    wide = charts.funnel_chart(
        points, {"benchmark": 0.41, "overdispersed": True, "phi": 3.2}, limits, "nl"
    )
    assert "99,8%-grens met extra spreiding" in [trace.name for trace in wide.data]
    assert any("overspreiding" in a.text and "3,2" in a.text for a in wide.layout.annotations)


def test_ranked_bar_orders_values_and_lists_suppressed_last() -> None:
    points = tables.describe(
        tables.with_catalogue(_rows().filter(pl.col("area_code").str.starts_with("GM")),
                              CATALOGUE, "nl"), "nl"
    ).with_columns(tables.status_expr("comparison_national").alias("status"))  # fmt: skip
    fig = charts.ranked_bar(points, "percent", "nl", benchmark=0.41, highlight="GM0001")
    bar = fig.data[0]
    assert list(bar.y) == ["Bee  50,0% ▼", "<b>Aa</b>  30,0% ▲", "Dee  20,0% ▲", "Cee  –"]
    assert list(bar.x) == [50.0, 30.0, 20.0, 0.0]
    assert bar.error_x.array[0] == pytest.approx(5.0)
    assert bar.error_x.arrayminus[2] == pytest.approx(5.0)
    assert "te weinig gevallen om te tonen" in bar.customdata[3]


def test_spine_puts_the_country_in_the_middle_and_better_to_the_right() -> None:
    profile = pl.DataFrame(
        {
            "title": ["lager is beter", "hoger is beter"],
            "polarity": ["lower_is_better", "higher_is_better"],
            "value": [0.2, 0.8],
            "region_value": [0.5, 0.5],
            "national_value": [0.4, 0.6],
            "minimum": [0.0, 0.2],
            "maximum": [0.6, 0.9],
            "q25": [0.3, 0.5],
            "q75": [0.5, 0.7],
            "status": ["better", "better"],
            "hover": ["a", "b"],
            "region_shown": ["50,0%", "50,0%"],
            "national_shown": ["40,0%", "60,0%"],
        }
    )
    fig = charts.spine_chart(profile, "nl", "Aa")
    own = next(trace for trace in fig.data if trace.name == "Aa: ▲ beter")
    # lower is better: 0.2 against 0.4 with reach 0.4 -> +0.5; higher: (0.8-0.6)/0.4 -> +0.5
    assert list(own.x) == pytest.approx([0.5, 0.5])
    region = next(trace for trace in fig.data if trace.name == "Regio")
    assert list(region.x) == pytest.approx([-0.25, -0.25])


def test_km_chart_has_a_band_and_the_median_line() -> None:
    curves = pl.DataFrame(
        {
            "area_code": ["GM0001"] * 3 + ["NL"] * 3,
            "area_name": ["Aa"] * 3 + ["Nederland"] * 3,
            "time": [0.0, 10.0, 20.0] * 2,
            "survival": [1.0, 0.6, 0.4, 1.0, 0.7, 0.5],
            "ci_low": [1.0, 0.5, 0.3, 1.0, 0.65, 0.45],
            "ci_high": [1.0, 0.7, 0.5, 1.0, 0.75, 0.55],
            "at_risk": [40, 24, 16, 400, 280, 200],
        }
    )
    fig = charts.km_chart(curves, "nl")
    lines = [trace for trace in fig.data if trace.mode == "lines"]
    assert [trace.name for trace in lines] == ["Aa", "Nederland"]
    assert list(lines[0].y) == [100.0, 60.0, 40.0]
    assert lines[0].line.shape == "hv"
    assert any(shape.y0 == 50 for shape in fig.layout.shapes)
    assert "16" in lines[0].customdata[2] and "40,0%" in lines[0].customdata[2]


def test_report_summary_names_only_clear_differences() -> None:
    summary = tables.summary(_cells(), "nl")
    lines = dict(summary.select("area_name", "summary").iter_rows())
    assert lines["Aa"] == "Beter dan Nederland: iets zonder hulp."
    assert lines["Bee"] == "Slechter dan Nederland: iets zonder hulp."
    assert lines["Cee"] == (
        "Op geen enkele indicator duidelijk anders dan Nederland. "
        "1 cijfer(s) niet getoond wegens te weinig gevallen."
    )
    assert lines["Ee"] == "Geen cijfers: geen (actuele) aanlevering."
