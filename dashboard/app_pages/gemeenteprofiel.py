"""Gemeenteprofiel: one municipality against region and country, its trends, its KM curve."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import alternatives, charts, data, state, tables
from dashboard import format as fmt
from dashboard.i18n import t

ctx = state.context()
lang, mart = ctx.lang, ctx.mart
name, period = ctx.municipality_name, fmt.period(ctx.period, lang)
areas = (ctx.municipality, ctx.region, data.NATIONAL)

st.title(f"{t('page_profile', lang)}: {name}")
state.banners(ctx, [ctx.municipality])
st.markdown(t("profile_intro", lang, name=name, country=ctx.country))

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
    ctx.country,
)
spine_title = t("spine_title", lang, name=name, period=period, country=ctx.country)
spine = alternatives.profile(profile, lang, name, spine_title, ctx.country)
# the profile is read as a table as much as a chart: its table is shown, not behind a toggle
state.chart(
    charts.spine_chart(profile, lang, name, spine_title, ctx.country),
    "spine",
    spine,
    lang,
    table_open=True,
)
state.csv_download(
    profile, f"profiel_{ctx.municipality}", ctx, "csv_profile", t("csv_profile", lang)
)

st.header(t("trend_heading", lang))
indicator = state.indicator(ctx)
info = catalogue.filter(pl.col("indicator_id") == indicator).row(0, named=True)
series = tables.describe(
    tables.with_catalogue(data.series(mart, indicator, areas, "year"), catalogue, lang),
    lang,
    country=ctx.country,
)
trend_title = f"{info[f'title_{lang}']}: {name}"
state.chart(
    charts.trend_chart(
        series, info["value_format"], lang, trend_title, benchmarks=(ctx.region, data.NATIONAL)
    ),
    "profile_trend",
    alternatives.trend(series, lang, trend_title),
    lang,
)
state.csv_download(
    series, f"trend_{ctx.municipality}_{indicator}", ctx, "csv_trend", t("csv_trend", lang)
)

st.header(t("km_heading", lang))
st.markdown(t("km_intro", lang))
names = pl.DataFrame({"area_code": list(areas), "area_name": [name, ctx.region_name, ctx.country]})
curves = data.km_curves(mart, areas, ctx.period).join(names, on="area_code")
if curves.filter(pl.col("area_code") == ctx.municipality).is_empty():
    st.info(t("km_none", lang), icon=":material/info:")
else:
    ordered = pl.concat(
        [curves.filter(pl.col("area_code") == code) for code in areas], how="vertical"
    )
    km_title = f"{name}, {period}"
    km_text = alternatives.km(ordered, lang, km_title)
    state.chart(charts.km_chart(ordered, lang, km_title), "km", km_text, lang)
    state.csv_download(ordered, f"km_{ctx.municipality}", ctx, "csv_km", t("csv_km", lang))
state.footer(ctx, lang)
