"""Shape mart frames into what the pages, charts and report show: cells, profiles, summaries.

Pure polars, no streamlit and no plotly, so the app and the meeting report share every rule
(which status a cell has, which symbol goes with it, what the hover says).
"""

from __future__ import annotations

import polars as pl

from dashboard import format as fmt
from dashboard.i18n import t
from hgkm.mart import NATIONAL

# status -> symbol; the same symbols in the grid, the legend, the map, the report
SYMBOLS = {
    "better": "▲",
    "similar": "●",
    "worse": "▼",
    "not_compared": "",
    "suppressed": fmt.SUPPRESSED,
    "no_data": fmt.NO_DATA,
}
TREND_KEYS = {
    ("increasing", "better"): "trend_increasing_better",
    ("increasing", "worse"): "trend_increasing_worse",
    ("decreasing", "better"): "trend_decreasing_better",
    ("decreasing", "worse"): "trend_decreasing_worse",
    ("no_change", "no_change"): "trend_no_change",
    ("insufficient", "insufficient"): "trend_insufficient",
}


def with_catalogue(values: pl.DataFrame, catalogue: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Add the indicator's title, one-line description (`short`), format and polarity."""
    info = catalogue.select(
        "indicator_id",
        "sort_order",
        pl.col(f"title_{lang}").alias("title"),
        pl.col(f"short_{lang}").alias("short"),
        "value_format",
        "polarity",
    )
    return values.join(info, on="indicator_id", how="left")


def _by_format(build) -> pl.Expr:
    """Apply a per-format expression builder to rows of mixed formats (percent and days)."""
    return pl.when(pl.col("value_format") == "days").then(build("days")).otherwise(build("percent"))


def describe(
    frame: pl.DataFrame,
    lang: str,
    comparison: str = "comparison_national",
    benchmark: str | pl.Expr | None = None,
    country: str | None = None,
) -> pl.DataFrame:
    """Add `shown`, `interval_text`, `comparison_text` and a `hover` text to indicator rows.

    Needs: area_name, period, title, value_format, value, ci_low, ci_high, suppressed and
    (optionally) median_reached and the comparison column. `country` names the `NL` row (and
    is what a comparison is with unless `benchmark` says otherwise): `Nederland` by default.
    """
    country = t("netherlands", lang) if country is None else country
    benchmark = country if benchmark is None else benchmark
    if "area_code" in frame.columns:
        frame = frame.with_columns(
            pl.when(pl.col("area_code") == NATIONAL)
            .then(pl.lit(country))
            .otherwise(pl.col("area_name"))
            .alias("area_name")
        )
    reached = pl.col("median_reached") if "median_reached" in frame.columns else None
    shown = _by_format(
        lambda f: fmt.value_expr(pl.col("value"), f, pl.col("suppressed"), reached, lang)
    )
    interval = _by_format(lambda f: fmt.interval_expr(pl.col("ci_low"), pl.col("ci_high"), f, lang))
    words = fmt.comparison_expr(pl.col(comparison), benchmark, lang)
    suppressed = pl.col("suppressed").fill_null(False)
    period = fmt.period_expr(pl.col("period"), lang)
    head = "<b>" + pl.col("area_name") + "</b> · " + period + "<br>" + pl.col("title") + ": "
    hover = (
        pl.when(suppressed)
        .then(head + pl.lit(f"{fmt.SUPPRESSED} {t('suppressed_hover', lang)}"))
        .when(pl.col("suppressed").is_null())
        .then(head + pl.lit(t("no_delivery", lang)))
        .otherwise(
            head
            + pl.col("shown")
            + pl.lit(f"<br>{t('interval', lang)}: ")
            + pl.col("interval_text").fill_null(fmt.SUPPRESSED)
            + pl.when(pl.col(comparison) != "not_compared")
            .then("<br>" + pl.col("comparison_text"))
            .otherwise(pl.lit(""))
        )
    )
    return (
        frame.with_columns(
            shown.alias("shown"), interval.alias("interval_text"), words.alias("comparison_text")
        )
        .with_columns(
            pl.when(suppressed)
            .then(pl.lit(None, pl.Utf8))
            .otherwise(pl.col("comparison_text"))
            .alias("comparison_text")
        )
        .with_columns(hover.alias("hover"))
    )


def status_expr(comparison: str) -> pl.Expr:
    """better / similar / worse / not_compared, or suppressed, or no_data (nothing delivered)."""
    return (
        pl.when(pl.col("suppressed").fill_null(False))
        .then(pl.lit("suppressed"))
        .when(pl.col("suppressed").is_null())
        .then(pl.lit("no_data"))
        .otherwise(pl.col(comparison).fill_null("not_compared"))
    )


def overview_cells(
    values: pl.DataFrame,
    members: pl.DataFrame,
    catalogue: pl.DataFrame,
    region: str,
    region_name: str,
    period: str,
    lang: str,
    country: str | None = None,
) -> pl.DataFrame:
    """Region × indicators: one row per (area, indicator), members without figures included.

    Rows: the region's municipalities by name, then the region, then the country. `status`
    colours the cell, `text` is the value with its symbol.
    """
    areas = pl.concat(
        [
            members.select("area_code", "area_name", pl.lit(0).alias("row_order")),
            pl.DataFrame(
                {
                    "area_code": [region, NATIONAL],
                    "area_name": [region_name, t("netherlands", lang)],
                    "row_order": [1, 2],
                },
                schema_overrides={"row_order": pl.Int32},
            ),
        ]
    )
    grid = areas.join(catalogue.select("indicator_id"), how="cross")
    cells = grid.join(values.drop("area_name"), on=["area_code", "indicator_id"], how="left")
    cells = with_catalogue(cells, catalogue, lang).with_columns(
        pl.lit(period).alias("period"),
        pl.when(pl.col("area_code") == region)
        .then(pl.lit("region"))
        .when(pl.col("area_code") == NATIONAL)
        .then(pl.lit("national"))
        .otherwise(pl.lit("municipality"))
        .alias("area_type"),
    )
    cells = describe(cells, lang, country=country).with_columns(
        status_expr("comparison_national").alias("status")
    )
    symbol = pl.col("status").replace_strict(SYMBOLS, return_dtype=pl.Utf8)
    # the grid's cells are narrow: "niet bereikt" there, the full phrase on hover
    shown = (
        pl.when(pl.col("median_reached").not_().fill_null(False) & pl.col("suppressed").not_())
        .then(pl.lit(t("not_reached_short", lang)))
        .otherwise(pl.col("shown"))
    )
    text = (
        pl.when(pl.col("status").is_in(["suppressed", "no_data"]))
        .then(symbol)
        .when(symbol == "")
        .then(shown)
        .otherwise(shown + " " + symbol)
    )
    return cells.with_columns(text.alias("text")).sort("row_order", "area_name", "sort_order")


def trend_label(direction: pl.Expr, assessment: pl.Expr, lang: str) -> pl.Expr:
    """`↗ stijgt (beter)`, `→ geen duidelijke verandering`, …"""
    result = pl.when(pl.lit(False)).then(pl.lit(None, pl.Utf8))
    for (d, a), key in TREND_KEYS.items():
        result = result.when((direction == d) & (assessment == a)).then(pl.lit(t(key, lang)))
    return result.otherwise(pl.lit(t("trend_insufficient", lang)))


def profile_rows(
    values: pl.DataFrame,
    catalogue: pl.DataFrame,
    spread: pl.DataFrame,
    trends: pl.DataFrame,
    municipality: str,
    region: str,
    period: str,
    lang: str,
    country: str | None = None,
) -> pl.DataFrame:
    """One row per indicator: the municipality against its region and the country.

    Columns for the spine chart (value, interval, comparisons, region and national value,
    the national spread) and readable text for the table beside it.
    """
    base = with_catalogue(catalogue.select("indicator_id"), catalogue, lang)
    own = values.filter(pl.col("area_code") == municipality)
    rows = base.join(own, on="indicator_id", how="left").with_columns(
        pl.lit(period).alias("period"), pl.col("area_name").fill_null(municipality)
    )
    region_name = values.filter(pl.col("area_code") == region)["area_name"]
    region_label = region_name[0] if len(region_name) else region
    rows = describe(rows, lang, country=country)
    rows = rows.with_columns(
        status_expr("comparison_national").alias("status"),
        status_expr("comparison_region").alias("status_region"),
        pl.when(pl.col("suppressed").fill_null(True))
        .then(pl.lit(None, pl.Utf8))
        .otherwise(fmt.comparison_expr(pl.col("comparison_region"), region_label, lang))
        .alias("region_comparison_text"),
    )
    benchmarks = []
    for code, name in ((region, "region"), (NATIONAL, "national")):
        bench = with_catalogue(
            values.filter(pl.col("area_code") == code), catalogue, lang
        ).with_columns(
            _by_format(
                lambda f: fmt.value_expr(
                    pl.col("value"), f, pl.col("suppressed"), pl.col("median_reached"), lang
                )
            ).alias("shown")
        )
        benchmarks.append(
            bench.select(
                "indicator_id",
                pl.col("value").alias(f"{name}_value"),
                pl.col("shown").alias(f"{name}_shown"),
            )
        )
    trend = trends.filter(pl.col("area_code") == municipality).select(
        "indicator_id",
        trend_label(pl.col("direction"), pl.col("assessment"), lang).alias("trend_text"),
    )
    return (
        rows.join(benchmarks[0], on="indicator_id", how="left")
        .join(benchmarks[1], on="indicator_id", how="left")
        .join(spread, on="indicator_id", how="left")
        .join(trend, on="indicator_id", how="left")
        .with_columns(pl.col("trend_text").fill_null(t("trend_insufficient", lang)))
        .sort("sort_order")
    )


def summary(cells: pl.DataFrame, lang: str, country: str | None = None) -> pl.DataFrame:
    """Per municipality one plain-language paragraph: where it is better and worse.

    `cells` as made by `overview_cells`. Only statistically clear differences (the same
    comparison rule as the colours) are named; suppressed figures are counted, not shown.
    """
    munis = cells.filter(pl.col("area_type") == "municipality")
    per_area = munis.group_by("area_code", "area_name", maintain_order=True).agg(
        pl.col("title").filter(pl.col("status") == "better").str.to_lowercase().alias("better"),
        pl.col("title").filter(pl.col("status") == "worse").str.to_lowercase().alias("worse"),
        (pl.col("status") == "suppressed").sum().alias("n_suppressed"),
        (pl.col("status") == "no_data").all().alias("no_data"),
    )
    country = t("netherlands", lang) if country is None else country
    better = t("report_better", lang, items="\x00", country=country).split("\x00")
    worse = t("report_worse", lang, items="\x00", country=country).split("\x00")
    suppressed = t("report_suppressed", lang, n="\x00").split("\x00")
    sentence = (
        pl.when(pl.col("no_data"))
        .then(pl.lit(t("report_no_figures", lang)))
        .otherwise(
            pl.concat_str(
                [
                    pl.when(pl.col("better").list.len() > 0).then(
                        better[0] + pl.col("better").list.join(", ") + better[1]
                    ),
                    pl.when(pl.col("worse").list.len() > 0).then(
                        worse[0] + pl.col("worse").list.join(", ") + worse[1]
                    ),
                    pl.when(
                        (pl.col("better").list.len() == 0) & (pl.col("worse").list.len() == 0)
                    ).then(pl.lit(t("report_similar_only", lang, country=country))),
                    pl.when(pl.col("n_suppressed") > 0).then(
                        suppressed[0] + pl.col("n_suppressed").cast(pl.Utf8) + suppressed[1]
                    ),
                ],
                separator=" ",
                ignore_nulls=True,
            )
        )
    )
    return per_area.with_columns(sentence.alias("summary")).sort("area_name")


def attention(status: pl.DataFrame, codes: list[str]) -> pl.DataFrame:
    """Municipalities among `codes` whose data is stale, whose last delivery was rejected,
    or that never delivered: the banners' content."""
    return status.filter(
        pl.col("municipality_code").is_in(codes)
        & (
            pl.col("stale").fill_null(False)
            | (pl.col("last_status") == "rejected")
            | pl.col("delivered").not_()
        )
    )


def status_word_expr(lang: str) -> pl.Expr:
    """A municipality's delivery status in one word (not delivered, last rejected, out of
    date, current); a row whose reasons are withheld is never "rejected"."""
    return (
        pl.when(pl.col("delivered").not_())
        .then(pl.lit(t("status_missing", lang)))
        .when(pl.col("last_status") == "rejected")
        .then(pl.lit(t("status_rejected", lang)))
        .when(pl.col("stale"))
        .then(pl.lit(t("status_stale", lang)))
        .otherwise(pl.lit(t("status_ok", lang)))
    )


# Population size classes to compare like with like (after CBS's municipal size classes).
SIZE_BOUNDS = (0, 20_000, 50_000, 100_000)


def size_band_expr(population: pl.Expr) -> pl.Expr:
    """The index of the size class a population falls in (0 = under 20,000)."""
    band = pl.lit(0)
    for i, bound in enumerate(SIZE_BOUNDS[1:], start=1):
        band = pl.when(population >= bound).then(pl.lit(i)).otherwise(band)
    return band


def size_band(population: int | None) -> int:
    if population is None:
        return 0
    return max(i for i, bound in enumerate(SIZE_BOUNDS) if population >= bound)


def size_band_text(band: int, lang: str) -> str:
    low = fmt.number(SIZE_BOUNDS[band], 0, lang)
    if band + 1 < len(SIZE_BOUNDS):
        high = fmt.number(SIZE_BOUNDS[band + 1], 0, lang)
        return t("size_band", lang, low=low, high=high)
    return t("size_band_open", lang, low=low)


def country_name(benchmark: dict, coverage: tuple[int, int], lang: str) -> str:
    """The comparison row's honest name: `Nederland` when a national benchmark is imported
    (`benchmark`: the mart's `benchmark` row) or every municipality delivered here (a hub;
    `coverage`: delivered, total), else `alle aanleverende gemeenten`."""
    delivered, total = coverage
    whole = bool(benchmark) or (total > 0 and delivered == total)
    return t("netherlands" if whole else "national_delivering", lang)


def benchmark_line(benchmark: dict, lang: str) -> str:
    """The benchmark's source, publication date and coverage, or that there is none."""
    if not benchmark:
        return t("benchmark_none", lang)
    return t(
        "benchmark_source",
        lang,
        source=benchmark["source"],
        date=fmt.day(benchmark["published_at"].date(), lang),
        delivered=benchmark["n_delivered"],
        total=benchmark["n_municipalities"],
    )


CHANGE_KINDS = ("moved", "newly_suppressed", "removed", "newly_shown", "comparison", "coverage")


def change_rows(changes: pl.DataFrame, catalogue: pl.DataFrame, lang: str) -> pl.DataFrame:
    """A mart's `release_changes` as the review lists them: what changed, where, what it was
    and what it becomes (value and 95% interval, or why there is none), the comparison with
    the country before and after."""
    titles = catalogue.select(
        "indicator_id", "value_format", pl.col(f"title_{lang}").alias("title")
    )
    rows = changes.join(titles, on="indicator_id", how="left")

    def figure(side: str) -> pl.Expr:
        value = _by_format(
            lambda f: fmt.value_expr(
                pl.col(f"{side}_value"), f, pl.col(f"{side}_suppressed"), None, lang
            )
        )
        interval = _by_format(
            lambda f: fmt.interval_expr(
                pl.col(f"{side}_ci_low"), pl.col(f"{side}_ci_high"), f, lang
            )
        )
        coverage = pl.format(
            t("change_coverage_text", lang).replace("{n}", "{}").replace("{total}", "{}"),
            pl.col(f"{side}_coverage").fill_null(0),
            pl.col("coverage_total"),
        )
        return (
            pl.when(pl.col("change") == "coverage")
            .then(coverage)
            .when(pl.col(f"{side}_suppressed").is_null())
            .then(pl.lit(t("change_absent", lang)))
            .when(pl.col(f"{side}_suppressed"))
            .then(pl.lit(fmt.SUPPRESSED))
            .when(pl.col(f"{side}_value").is_null())
            .then(pl.lit(fmt.NOT_REACHED[lang]))
            .otherwise(value + pl.lit(" (") + interval.fill_null(fmt.SUPPRESSED) + pl.lit(")"))
        )

    words = {c: t(f"legend_{c}", lang) for c in ("better", "similar", "worse", "not_compared")}

    def compared(side: str) -> pl.Expr:
        return pl.col(f"{side}_comparison_national").replace_strict(
            words, default=pl.lit(fmt.SUPPRESSED)
        )

    return rows.with_columns(
        value_format=pl.col("value_format").fill_null("percent"),
    ).select(
        pl.col("change")
        .replace_strict({k: t(f"change_{k}", lang) for k in CHANGE_KINDS}, default=pl.col("change"))
        .alias("change_text"),
        pl.col("title").fill_null("").alias("indicator_text"),
        pl.col("area_name").fill_null(pl.col("area_code")).alias("area_text"),
        fmt.period_expr(pl.col("period"), lang).fill_null("").alias("period_text"),
        pl.col("breakdown").fill_null("").alias("breakdown_text"),
        figure("old").alias("old_text"),
        figure("new").alias("new_text"),
        pl.when(pl.col("change") == "coverage")
        .then(pl.lit(""))
        .otherwise(compared("old") + pl.lit(" → ") + compared("new"))
        .alias("comparison_text"),
    )
