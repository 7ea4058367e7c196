"""Trends: one indicator over cohort years or quarters for chosen municipalities and benchmarks."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import alternatives, charts, data, state, tables
from dashboard.i18n import t

ctx = state.context()
lang, mart = ctx.lang, ctx.mart

st.title(t("page_trends", lang))
st.markdown(t("trends_intro", lang))
options = data.municipalities(mart).filter(pl.col("area_code").is_in(data.delivered(mart)))
options = options.select("area_code", "area_name")
labels = dict(options.iter_rows())
left, middle, right = st.columns([2, 3, 1])
with left:
    indicator = state.indicator(ctx)
with middle:
    chosen = state.multiselect(
        "compare",
        list(labels),
        labels,
        t("trend_municipalities", lang),
        [ctx.municipality],
    )
with right:
    granularity = state.radio(
        "granularity",
        ["year", "quarter"],
        {"year": t("granularity_year", lang), "quarter": t("granularity_quarter", lang)},
        t("granularity", lang),
    )
state.banners(ctx, chosen)

catalogue = data.catalogue(mart)
info = catalogue.filter(pl.col("indicator_id") == indicator).row(0, named=True)
areas = (*chosen, ctx.region, data.NATIONAL)
series = tables.describe(
    tables.with_catalogue(data.series(mart, indicator, areas, granularity), catalogue, lang),
    lang,
    country=ctx.country,
)
order = {code: i for i, code in enumerate(areas)}
series = series.sort(pl.col("area_code").replace_strict(order, return_dtype=pl.Int32), "sort_key")
trend = data.trends(mart, indicator, areas).select(
    "area_code",
    tables.trend_label(pl.col("direction"), pl.col("assessment"), lang).alias("trend"),
)
arrows = (
    pl.DataFrame({"area_code": list(areas)})
    .join(series.select("area_code", "area_name").unique(), on="area_code", how="left")
    .join(trend, on="area_code", how="left")
    .with_columns(pl.col("trend").fill_null(t("trend_insufficient", lang)))
)
if not chosen:
    st.info(t("trend_municipalities", lang) + " …", icon=":material/info:")
state.chart(
    charts.trend_chart(
        series,
        info["value_format"],
        lang,
        info[f"title_{lang}"],
        benchmarks=(ctx.region, data.NATIONAL),
    ),
    "trend_chart",
    alternatives.trend(series, lang, info[f"title_{lang}"]),
    lang,
)
st.dataframe(
    arrows.select(
        pl.col("area_name").fill_null(pl.col("area_code")).alias(t("municipality", lang)),
        pl.col("trend").alias(t("table_trend", lang)),
    ),
    hide_index=True,
    key="trend_table",
)
state.csv_download(series, f"trend_{indicator}", ctx, "csv_trend", t("csv_trend", lang))
state.footer(ctx, lang)
