"""The meeting report: one region and period as a self-contained HTML file (no outside requests)."""

from __future__ import annotations

import html
from datetime import date

import polars as pl

from dashboard import alternatives, charts, data, tables
from dashboard import format as fmt
from dashboard.i18n import APPROACH_ELEMENTS, t
from hgkm.reference import SOURCE_NOTE

STYLE = (
    """
body { font-family: "Source Sans Pro", "Segoe UI", Helvetica, Arial, sans-serif; color: #1F2933;
       max-width: 1180px; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; font-size: 1.3rem; }
.meta, footer { color: #52606D; font-size: .9rem; }
.summary dt { font-weight: 600; margin-top: .6rem; } .summary dd { margin-left: 0; }
.lead { font-size: 1.05rem; background: #F5F7FA; padding: .8rem 1rem; border-radius: 6px; }
.chart { break-inside: avoid; margin: 1rem 0; }
.scroll { overflow-x: auto; }
.scroll:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
details summary { cursor: pointer; color: #005A8C; }
details summary:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
footer { margin-top: 2.5rem; border-top: 1px solid #E4E7EB; padding-top: .8rem; }
@media print { body { margin: 0; max-width: none; } }
"""
    + alternatives.TABLE_STYLE
)


def _country(mart: data.MartVersion, lang: str) -> str:
    return tables.country_name(data.benchmark(mart), data.national_coverage(mart), lang)


def _cells(mart: data.MartVersion, region: str, period: str, lang: str) -> pl.DataFrame:
    names = dict(data.regions(mart).select("area_code", "area_name").iter_rows())
    return tables.overview_cells(
        data.region_values(mart, region, period),
        data.region_members(mart, region),
        data.catalogue(mart),
        region,
        names.get(region, region),
        period,
        lang,
        _country(mart, lang),
    )


def summaries(mart: data.MartVersion, region: str, period: str, lang: str) -> pl.DataFrame:
    """Per municipality of the region: a plain-language line on where it is better or worse."""
    return tables.summary(_cells(mart, region, period, lang), lang, _country(mart, lang))


def _region_line(cells: pl.DataFrame, lang: str, country: str) -> str:
    own = cells.filter(pl.col("area_type") == "region")
    return t(
        "report_region_line",
        lang,
        country=country,
        better=own.filter(pl.col("status") == "better").height,
        worse=own.filter(pl.col("status") == "worse").height,
        total=own.height,
    )


def _approach_section(mart: data.MartVersion, region: str, lang: str, today: date) -> str:
    """How many of the region's municipalities with a profile have each element in place on
    `today`, with the caveat; empty when none of them has a profile."""
    members = data.region_members(mart, region)["area_code"].to_list()
    profiles = data.approach_profiles(mart).filter(pl.col("municipality_code").is_in(members))
    total = profiles["municipality_code"].n_unique()
    if total == 0:
        return ""
    in_place = profiles.filter(
        (pl.col("in_place_from") <= today)
        & (pl.col("in_place_until").is_null() | (pl.col("in_place_until") >= today))
    )
    counts = dict(
        in_place.group_by("element").agg(pl.col("municipality_code").n_unique()).iter_rows()
    )
    lines = "".join(
        "<li>"
        + html.escape(
            t(
                "report_approach_line",
                lang,
                element=t(f"element_{e}", lang),
                count=counts.get(e, 0),
                total=total,
            )
        )
        + "</li>"
        for e in APPROACH_ELEMENTS
    )
    return (
        f"<h2>{html.escape(t('report_approach_title', lang))}</h2>\n"
        f"<p>{html.escape(t('approach_caveat', lang))}</p>\n<ul>{lines}</ul>"
    )


def _chart_block(
    figure,
    alternative: alternatives.Alternative,
    lang: str,
    include_plotlyjs: bool,
    min_width: int | None,
) -> str:
    """A chart named by its title and summary (role="img"), the summary in words, and its
    data as a table to open; with `min_width`, narrow screens scroll it sideways."""
    config = {"displaylogo": False, "displayModeBar": False}
    plot = figure.to_html(full_html=False, include_plotlyjs=include_plotlyjs, config=config)
    label, title = html.escape(alternative.label), html.escape(alternative.title)
    image = f'<div role="img" aria-label="{label}">{plot}</div>'
    if min_width:
        image = (
            f'<div class="scroll" role="region" tabindex="0" aria-label="{title}">'
            f'<div style="min-width: {min_width}px">{image}</div></div>'
        )
    toggle = html.escape(t("alt_show_table", lang, title=alternative.title))
    return (
        f'<div class="chart">{image}<p>{html.escape(alternative.summary)}</p>'
        f"<details><summary>{toggle}</summary>{alternatives.table_html(alternative)}</details>"
        "</div>"
    )


def build(
    mart: data.MartVersion, region: str, period: str, lang: str = "nl", today: date | None = None
) -> str:
    """The whole report as one HTML string, plotly.js inlined once, every chart embedded."""
    region_name = dict(data.regions(mart).select("area_code", "area_name").iter_rows()).get(
        region, region
    )
    shown_period = fmt.period(period, lang)
    cells = _cells(mart, region, period, lang)
    catalogue = data.catalogue(mart)
    country = _country(mart, lang)
    title = t("report_title", lang, region=region_name, period=shown_period)
    grid_title = t(
        "overview_grid_title", lang, region=region_name, period=shown_period, country=country
    )
    charted = [
        (
            charts.overview_grid(cells, lang, grid_title),
            alternatives.grid(cells, lang, grid_title, country),
            charts.grid_width(cells["indicator_id"].n_unique()),
        )
    ]
    for row in catalogue.iter_rows(named=True):
        points = tables.describe(
            tables.with_catalogue(
                data.municipal_values(mart, row["indicator_id"], period), catalogue, lang
            ),
            lang,
            country=country,
        ).with_columns(tables.status_expr("comparison_national").alias("status"))
        points = points.filter(pl.col("veilig_thuis_region") == region)
        national = cells.filter(
            (pl.col("area_code") == data.NATIONAL) & (pl.col("indicator_id") == row["indicator_id"])
        )["value"]
        benchmark = national[0] if len(national) else None
        chart_title = f"{row[f'title_{lang}']}, {shown_period}"
        charted.append(
            (
                charts.ranked_bar(
                    points, row["value_format"], lang, benchmark, title=chart_title, country=country
                ),
                alternatives.ranked(
                    points, lang, chart_title, benchmark, row["value_format"], country
                ),
                None,
            )
        )
    # plotly.js goes inline once, with the first chart; the others reuse it
    blocks = [
        _chart_block(figure, alternative, lang, include_plotlyjs=i == 0, min_width=min_width)
        for i, (figure, alternative, min_width) in enumerate(charted)
    ]
    summary = tables.summary(cells, lang, country)
    items = "\n".join(
        f"<dt>{html.escape(r['area_name'])}</dt><dd>{html.escape(r['summary'])}</dd>"
        for r in summary.iter_rows(named=True)
    )
    published = data.publication(mart).get("published_at")
    generated = fmt.day(today or date.today(), lang)
    method = t("method_line", lang, published=fmt.day(published.date(), lang) if published else "")
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">{html.escape(t("report_generated", lang, date=generated))}</p>
<p class="lead">{html.escape(t("report_intro", lang))}<br>
{html.escape(_region_line(cells, lang, country))}</p>
<p>{html.escape(t("overview_intro", lang, country=country))}</p>
{blocks[0]}
<h2>{html.escape(t("report_summary_heading", lang))}</h2>
<dl class="summary">
{items}
</dl>
{_approach_section(mart, region, lang, today or date.today())}
<h2>{html.escape(t("report_key_charts", lang))}</h2>
{"".join(blocks[1:])}
<footer>{html.escape(SOURCE_NOTE)}. {html.escape(method)}<br>
{html.escape(tables.benchmark_line(data.benchmark(mart), lang))}</footer>
</body>
</html>
"""
