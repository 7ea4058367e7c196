"""Gemeenteprofiel: one municipality against region and country, its trends, its KM curve."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, data, state, tables
from dashboard import format as fmt
from dashboard.i18n import t

ctx = state.context()
lang, mart = ctx.lang, ctx.mart
name, period = ctx.municipality_name, fmt.period(ctx.period, lang)
areas = (ctx.municipality, ctx.region, data.NATIONAL)

st.title(f"{t('page_profile', lang)}: {name}")
state.banners(ctx, [ctx.municipality])
st.markdown(t("profile_intro", lang, name=name))

catalogue = data.catalogue(mart)
profile = tables.profile_rows(
    data.area_values(mart, areas, ctx.period),
    catalogue,
    data.national_spread(mart, ctx.period),
    data.trends(mart, None, (ctx.municipality,)),
    ctx.municipality,
    ctx.region,
    ctx.period,
    lang,
)
state.chart(
    charts.spine_chart(profile, lang, name, t("spine_title", lang, name=name, period=period)),
    key="spine",
)
table = profile.select(
    pl.col("title").alias(t("indicator", lang)),
    pl.col("shown").alias(t("table_value", lang)),
    pl.col("interval_text").fill_null(fmt.SUPPRESSED).alias(t("table_interval", lang)),
    pl.col("region_comparison_text").fill_null(fmt.SUPPRESSED).alias(t("table_vs_region", lang)),
    pl.col("comparison_text").fill_null(fmt.SUPPRESSED).alias(t("table_vs_country", lang)),
    pl.col("region_shown").fill_null(fmt.SUPPRESSED).alias(t("table_region", lang)),
    pl.col("national_shown").fill_null(fmt.SUPPRESSED).alias(t("table_country", lang)),
    pl.col("trend_text").alias(t("table_trend", lang)),
)
st.dataframe(table, hide_index=True, key="profile_table")
state.csv_download(profile, f"profiel_{ctx.municipality}", ctx, key="csv_profile")

st.subheader(t("trend_heading", lang))
indicator = state.indicator(ctx)
info = catalogue.filter(pl.col("indicator_id") == indicator).row(0, named=True)
series = tables.describe(
    tables.with_catalogue(data.series(mart, indicator, areas, "year"), catalogue, lang), lang
)
state.chart(
    charts.trend_chart(
        series,
        info["value_format"],
        lang,
        f"{info[f'title_{lang}']}: {name}",
        benchmarks=(ctx.region, data.NATIONAL),
    ),
    key="profile_trend",
)
state.csv_download(series, f"trend_{ctx.municipality}_{indicator}", ctx, key="csv_trend")

st.subheader(t("km_heading", lang))
st.markdown(t("km_intro", lang))
names = pl.DataFrame(
    {"area_code": list(areas), "area_name": [name, ctx.region_name, t("netherlands", lang)]}
)
curves = data.km_curves(mart, areas, ctx.period).join(names, on="area_code")
if curves.filter(pl.col("area_code") == ctx.municipality).is_empty():
    st.info(t("km_none", lang), icon=":material/info:")
else:
    ordered = pl.concat(
        [curves.filter(pl.col("area_code") == code) for code in areas], how="vertical"
    )
    state.chart(charts.km_chart(ordered, lang, f"{name}, {period}"), key="km")
    state.csv_download(ordered, f"km_{ctx.municipality}", ctx, key="csv_km")
state.footer(ctx, lang)
