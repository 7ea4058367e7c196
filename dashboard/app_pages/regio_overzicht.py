"""Regio-overzicht: the region's municipalities × every indicator, and a map for one indicator."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import alternatives, charts, data, state, tables
from dashboard import format as fmt
from dashboard.i18n import t

ctx = state.context()
lang, mart = ctx.lang, ctx.mart
period = fmt.period(ctx.period, lang)

st.title(f"{t('page_overview', lang)}: {ctx.region_name}")
st.markdown(t("overview_intro", lang, country=ctx.country))
members = data.region_members(mart, ctx.region)
state.banners(ctx, members["area_code"].to_list())

cells = tables.overview_cells(
    data.region_values(mart, ctx.region, ctx.period),
    members,
    data.catalogue(mart),
    ctx.region,
    ctx.region_name,
    ctx.period,
    lang,
    ctx.country,
)
region = data.regions(mart).filter(pl.col("area_code") == ctx.region).row(0, named=True)
st.caption(t("coverage", lang, delivered=region["n_delivered"], total=region["n_municipalities"]))
grid_title = t(
    "overview_grid_title", lang, region=ctx.region_name, period=period, country=ctx.country
)
state.chart(
    charts.overview_grid(cells, lang, grid_title),
    "overview_grid",
    alternatives.grid(cells, lang, grid_title, ctx.country),
    lang,
    min_width=charts.grid_width(cells["indicator_id"].n_unique()),
)
state.csv_download(cells, "regio_overzicht", ctx, "csv_grid", t("csv_grid", lang))

st.header(t("map_heading", lang))
indicator = state.indicator(ctx)
one = cells.filter((pl.col("indicator_id") == indicator) & (pl.col("area_type") == "municipality"))
title = f"{one['title'][0]}, {period}" if one.height else t("map_heading", lang)
state.chart(
    charts.region_map(one, data.municipality_geojson(), lang, title),
    "region_map",
    alternatives.region_map(one, lang, title, ctx.country),
    lang,
)
state.csv_download(one, f"kaart_{indicator}", ctx, "csv_map", t("csv_map", lang))
state.footer(ctx, lang)
