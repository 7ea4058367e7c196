"""Text alternatives of the charts: a short summary and the same data as a table, in HTML.

One builder per chart, on the frame the chart is drawn from, so the app and the meeting
report say the same. What a chart shows on hover (the interval, why a figure is missing) is
a column of its table. Pure polars and strings: no streamlit, no plotly.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from dashboard import format as fmt
from dashboard.i18n import t

STATUSES = ("better", "similar", "worse", "not_compared", "suppressed", "no_data")
HIDDEN = ("suppressed", "no_data")
# the days at which the Kaplan–Meier table reads the curve (its every step is in the CSV)
KM_DAYS = (7, 14, 30, 60, 90, 180, 365, 730)
# shared by the app and the report, so a table looks the same in both
TABLE_STYLE = """
.hgkm-table { overflow-x: auto; margin: .4rem 0 1rem; }
.hgkm-table:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
.hgkm-table table { border-collapse: collapse; font-size: .9rem; }
.hgkm-table caption { caption-side: top; text-align: left; font-weight: 600; padding: .3rem 0; }
.hgkm-table th, .hgkm-table td { text-align: left; vertical-align: top; padding: .3rem .6rem;
  border-bottom: 1px solid #D1D5DB; }
.hgkm-table thead th { border-bottom: 2px solid #4B5563; }
"""


@dataclass(frozen=True)
class Alternative:
    """What one chart shows, in words: its title, a summary, and its data as a table whose
    first column names each row."""

    title: str
    summary: str
    table: pl.DataFrame

    @property
    def label(self) -> str:
        """The chart's accessible name: its title and the summary."""
        return f"{self.title}. {self.summary}"


def _status_word(lang: str) -> pl.Expr:
    """`▲ beter`, `– te weinig gevallen`, …: the legend's words for each status."""
    words = {s: t(f"legend_{s}", lang) for s in STATUSES}
    return pl.col("status").replace_strict(words, default="", return_dtype=pl.Utf8)


def _interval() -> pl.Expr:
    """The interval, blank where the figure is not shown."""
    return (
        pl.when(pl.col("status").is_in(HIDDEN))
        .then(pl.lit(""))
        .otherwise(pl.col("interval_text").fill_null(""))
    )


def _value(lang: str) -> pl.Expr:
    """The figure as shown, or why there is none."""
    return (
        pl.when(pl.col("status").is_in(HIDDEN)).then(_status_word(lang)).otherwise(pl.col("shown"))
    )


def _country(lang: str, country: str | None) -> str:
    """The comparison row's name: `Nederland`, unless the page says otherwise."""
    return t("netherlands", lang) if country is None else country


def _counts(frame: pl.DataFrame, what: str, lang: str, country: str | None = None) -> str:
    """`Van 11 gemeenten: 2 beter dan Nederland, …`."""
    status = frame["status"].to_list()
    return t(
        "alt_counts",
        lang,
        country=_country(lang, country),
        total=len(status),
        what=t(what, lang),
        better=status.count("better"),
        similar=status.count("similar"),
        worse=status.count("worse"),
        hidden=sum(status.count(s) for s in HIDDEN),
    )


def grid(cells: pl.DataFrame, lang: str, title: str, country: str | None = None) -> Alternative:
    """The region overview: one row per area, one column per indicator, each cell the value,
    its interval and the comparison with the country (as the grid's colour and symbol)."""
    reading = (
        pl.when(pl.col("status").is_in(HIDDEN))
        .then(_status_word(lang))
        .otherwise(
            pl.concat_str(
                [
                    pl.col("shown"),
                    pl.when(pl.col("interval_text").is_not_null()).then(
                        "(" + pl.col("interval_text") + ")"
                    ),
                    pl.when(pl.col("status") != "not_compared").then(_status_word(lang)),
                ],
                separator=" ",
                ignore_nulls=True,
            )
        )
    )
    columns = cells.select("indicator_id", "title").unique(maintain_order=True)
    area = t("alt_area", lang)
    table = (
        cells.with_columns(reading.alias("reading"))
        .pivot(on="indicator_id", index="area_name", values="reading", maintain_order=True)
        .rename(dict(zip(columns["indicator_id"], columns["title"], strict=True)))
        .rename({"area_name": area})
    )
    municipalities = cells.filter(pl.col("area_type") == "municipality")
    return Alternative(title, _counts(municipalities, "alt_figures", lang, country), table)


def _area_table(
    points: pl.DataFrame, lang: str, cases: bool, country: str | None = None
) -> pl.DataFrame:
    columns = [
        pl.col("area_name").alias(t("col_municipality", lang)),
        _value(lang).alias(t("table_value", lang)),
        _interval().alias(t("table_interval", lang)),
        pl.when(pl.col("status").is_in(HIDDEN))
        .then(pl.lit(""))
        .otherwise(_status_word(lang))
        .alias(t("table_vs_country", lang, country=_country(lang, country))),
    ]
    if cases:
        number = fmt.number_expr(pl.col("denominator").cast(pl.Float64), 0, lang)
        hidden = pl.col("status").is_in(HIDDEN) | pl.col("denominator").is_null()
        cases_column = pl.when(hidden).then(pl.lit("")).otherwise(number)
        columns.insert(1, cases_column.alias(t("cases", lang)))
    return points.select(columns)


def region_map(one: pl.DataFrame, lang: str, title: str, country: str | None = None) -> Alternative:
    """The map: each municipality's value, interval and comparison, by name."""
    ordered = one.sort("area_name")
    return Alternative(
        title,
        _counts(ordered, "alt_municipalities", lang, country),
        _area_table(ordered, lang, False, country),
    )


def ranked(
    points: pl.DataFrame,
    lang: str,
    title: str,
    benchmark: float | None,
    value_format: str,
    country: str | None = None,
) -> Alternative:
    """The ranked bar: municipalities from the highest value down, the hidden ones last."""
    shown = points.filter(~pl.col("status").is_in(HIDDEN) & pl.col("value").is_not_null())
    ordered = pl.concat(
        [
            shown.sort("value", descending=True),
            points.filter(pl.col("status").is_in(HIDDEN) | pl.col("value").is_null()).sort(
                "area_name"
            ),
        ],
        how="diagonal_relaxed",
    )
    summary = _counts(points, "alt_municipalities", lang, country)
    if shown.height:
        top, bottom = (
            shown.sort("value", descending=True).row(0, named=True),
            shown.sort("value").row(0, named=True),
        )
        summary += " " + t(
            "alt_range",
            lang,
            top=top["area_name"],
            top_value=top["shown"],
            bottom=bottom["area_name"],
            bottom_value=bottom["shown"],
        )
    if benchmark is not None:
        national = fmt.indicator_value(benchmark, value_format, lang=lang)
        summary += " " + t("alt_national", lang, value=national, country=_country(lang, country))
    return Alternative(title, summary, _area_table(ordered, lang, True, country))


def funnel(
    points: pl.DataFrame,
    lang: str,
    title: str,
    benchmark: float | None,
    country: str | None = None,
) -> Alternative:
    """The funnel plot: each municipality's number of cases, value, interval, comparison."""
    summary = _counts(points, "alt_municipalities", lang, country)
    if benchmark is not None:
        value = fmt.percent(benchmark, lang)
        summary += " " + t("alt_national", lang, value=value, country=_country(lang, country))
    ordered = points.sort("denominator", "area_name", descending=[True, False], nulls_last=True)
    return Alternative(title, summary, _area_table(ordered, lang, True, country))


def profile(
    rows: pl.DataFrame, lang: str, name: str, title: str, country: str | None = None
) -> Alternative:
    """The spine chart: per indicator the municipality's value and interval against its
    region and the country, and its five-year trend."""
    table = rows.select(
        pl.col("title").alias(t("indicator", lang)),
        _value(lang).alias(t("table_value", lang)),
        pl.col("interval_text").fill_null(fmt.SUPPRESSED).alias(t("table_interval", lang)),
        pl.col("region_comparison_text")
        .fill_null(fmt.SUPPRESSED)
        .alias(t("table_vs_region", lang)),
        pl.col("comparison_text")
        .fill_null(fmt.SUPPRESSED)
        .alias(t("table_vs_country", lang, country=_country(lang, country))),
        pl.col("region_shown").fill_null(fmt.SUPPRESSED).alias(t("table_region", lang)),
        pl.col("national_shown").fill_null(fmt.SUPPRESSED).alias(_country(lang, country)),
        pl.col("trend_text").alias(t("table_trend", lang)),
    )
    summary = f"{name}: " + _counts(rows, "alt_indicators", lang, country)
    return Alternative(title, summary, table)


def _reading(lang: str) -> pl.Expr:
    """`59,3% (52,1–66,0%)`, or why there is no figure."""
    return (
        pl.when(pl.col("suppressed").fill_null(False))
        .then(pl.lit(t("legend_suppressed", lang)))
        .when(pl.col("value").is_null())
        .then(pl.lit(t("legend_no_data", lang)))
        .otherwise(
            pl.concat_str(
                [
                    pl.col("shown"),
                    pl.when(pl.col("interval_text").is_not_null()).then(
                        "(" + pl.col("interval_text") + ")"
                    ),
                ],
                separator=" ",
                ignore_nulls=True,
            )
        )
    )


def trend(series: pl.DataFrame, lang: str, title: str) -> Alternative:
    """The trend chart: one row per period, one column per area; the summary gives each
    area's first and last figure."""
    period = t("alt_period", lang)
    areas = series.select("area_code", "area_name").unique(maintain_order=True)
    frame = series.with_columns(
        fmt.period_expr(pl.col("period"), lang).alias(period), _reading(lang).alias("reading")
    )
    periods = frame.select(period, "sort_key").unique().sort("sort_key")
    table = periods.select(period).join(
        frame.pivot(on="area_code", index=period, values="reading"), on=period, how="left"
    )
    table = table.select(period, *areas["area_code"]).rename(
        dict(zip(areas["area_code"], areas["area_name"], strict=True))
    )
    parts = []
    for code, name in areas.iter_rows():
        part = frame.filter(pl.col("area_code") == code).sort("sort_key")
        if part.is_empty():
            continue
        first, last = part.row(0, named=True), part.row(-1, named=True)
        parts.append(
            t(
                "alt_trend_area",
                lang,
                area=name,
                first=first[period],
                first_value=first["reading"],
                last=last[period],
                last_value=last["reading"],
            )
        )
    return Alternative(title, "; ".join(parts) + ".", table.fill_null(fmt.NO_DATA))


def km(curves: pl.DataFrame, lang: str, title: str) -> Alternative:
    """The Kaplan–Meier curves read at fixed days (a row per day, a column per area); the
    summary names each area's median, the day the curve reaches 50%."""
    areas = curves.select("area_code", "area_name").unique(maintain_order=True)
    horizon = curves["time"].max() or 0
    days = [d for d in KM_DAYS if d <= horizon] or [int(horizon)]
    day = t("km_xaxis", lang)
    columns: dict[str, list[str]] = {day: [fmt.number(d, 0, lang) for d in days]}
    medians = []
    for code, name in areas.iter_rows():
        part = curves.filter(pl.col("area_code") == code).sort("time")
        cells = []
        for d in days:
            step = part.filter(pl.col("time") <= d).tail(1)
            if step.is_empty():
                cells.append(fmt.percent(1.0, lang))
                continue
            row = step.row(0, named=True)
            interval = fmt.interval(row["ci_low"], row["ci_high"], "percent", lang)
            cells.append(f"{fmt.percent(row['survival'], lang)} ({interval})")
        columns[name] = cells
        reached = part.filter(pl.col("survival") <= 0.5)
        median = (
            fmt.indicator_value(reached["time"][0], "days", lang=lang)
            if reached.height
            else fmt.NOT_REACHED[lang]
        )
        medians.append(f"{name} {median}")
    summary = t("alt_km", lang, medians="; ".join(medians))
    return Alternative(title, summary, pl.DataFrame(columns))


def approach_timeline(
    profile: pl.DataFrame, labels: dict[str, str], today: date, lang: str, title: str
) -> Alternative:
    """The approach profile: per element the periods it was in place."""
    periods = []
    in_place = 0
    for element in labels:
        part = profile.filter(pl.col("element") == element)
        spans = [
            f"{fmt.day(start, lang)} – "
            + (t("approach_in_place", lang) if until is None else fmt.day(until, lang))
            for start, until in part.select("in_place_from", "in_place_until").iter_rows()
        ]
        in_place += any(
            start <= today and (until is None or until >= today)
            for start, until in part.select("in_place_from", "in_place_until").iter_rows()
        )
        periods.append("; ".join(spans) or t("approach_no", lang))
    table = pl.DataFrame(
        {
            t("approach_element", lang): list(labels.values()),
            t("alt_in_place", lang): periods,
        }
    )
    summary = t("alt_timeline", lang, count=in_place, total=len(labels))
    return Alternative(title, summary, table)


def _points(value: str, low: str, high: str, lang: str) -> pl.Expr:
    """A difference in percentage points with its interval: `+4,2 pp (−1,0 tot 9,5)`."""

    def signed(column: str) -> pl.Expr:
        number = fmt.number_expr((pl.col(column) * 100).abs(), 1, lang)
        return pl.when(pl.col(column) < 0).then("−" + number).otherwise(number)

    unit = t("approach_points", lang)
    return (
        signed(value) + f" {unit} (" + signed(low) + f" {t('alt_to', lang)} " + signed(high) + ")"
    )


def approach_differences(rows: pl.DataFrame, lang: str, title: str) -> Alternative:
    """With against without the element: the difference and its interval per area and period."""
    table = rows.select(
        pl.col("area_name").alias(t("alt_area", lang)),
        pl.col("period_label").alias(t("alt_period", lang)),
        _points("difference", "difference_low", "difference_high", lang).alias(
            t("alt_difference", lang)
        ),
    )
    return Alternative(title, t("alt_differences", lang), table)


def approach_groups(rows: pl.DataFrame, lang: str, title: str) -> Alternative:
    """Before against after: per row label each group's value with its interval."""
    reading = (
        fmt.percent_expr(pl.col("value"), lang)
        + " ("
        + fmt.interval_expr(pl.col("ci_low"), pl.col("ci_high"), "percent", lang)
        + ")"
    )
    groups = rows.select("group").unique(maintain_order=True)["group"].to_list()
    label = t("indicator", lang)
    table = (
        rows.with_columns(reading.alias("reading"))
        .pivot(on="group", index="label", values="reading", maintain_order=True)
        .select("label", *groups)
        .rename({"label": label})
    )
    return Alternative(title, t("alt_groups", lang, groups=" / ".join(groups)), table)


def _cells(values: Iterable[object]) -> list[str]:
    return [html.escape("" if v is None else str(v)) for v in values]


def table_html(alternative: Alternative) -> str:
    """The data as a real table: a caption, column headers, and the first cell of each row as
    its row header; in a box that scrolls sideways (and takes keyboard focus) when narrow."""
    frame = alternative.table
    caption = html.escape(alternative.title)
    head = "".join(f'<th scope="col">{c}</th>' for c in _cells(frame.columns))
    body = "".join(
        f'<tr><th scope="row">{first}</th>' + "".join(f"<td>{c}</td>" for c in rest) + "</tr>"
        for first, *rest in (_cells(row) for row in frame.iter_rows())
    )
    return (
        f'<div class="hgkm-table" role="region" tabindex="0" aria-label="{caption}">'
        f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )
