"""Vergelijken: one indicator across municipalities — funnel plot and ranked bar with intervals."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import alternatives, charts, data, state, tables
from dashboard import format as fmt
from dashboard.i18n import t

ctx = state.context()
lang, mart = ctx.lang, ctx.mart
period = fmt.period(ctx.period, lang)

st.title(t("page_compare", lang))
st.markdown(t("compare_intro", lang))
left, right = st.columns(2)
with left:
    indicator = state.indicator(ctx)
catalogue = data.catalogue(mart)
info = catalogue.filter(pl.col("indicator_id") == indicator).row(0, named=True)
points = tables.describe(
    tables.with_catalogue(data.municipal_values(mart, indicator, ctx.period), catalogue, lang),
    lang,
    country=ctx.country,
).with_columns(tables.status_expr("comparison_national").alias("status"))

own = points.filter(pl.col("area_code") == ctx.municipality)
population = own["population"][0] if own.height else None
band = tables.size_band(population)
band_text = tables.size_band_text(band, lang)
with right:
    choice = state.radio(
        "filter",
        ["all", "region", "size"],
        {
            "all": t("filter_all", lang),
            "region": t("filter_region", lang),
            "size": t("filter_size", lang, band=band_text),
        },
        t("filter", lang),
    )
if choice == "region":
    points = points.filter(pl.col("veilig_thuis_region") == ctx.region)
elif choice == "size":
    points = points.filter(tables.size_band_expr(pl.col("population")) == band)
state.banners(ctx, [ctx.municipality])

benchmark = data.benchmark_values(mart, indicator, ctx.period).filter(
    pl.col("area_code") == data.NATIONAL
)
national = benchmark["value"][0] if benchmark.height else None
title = f"{info[f'title_{lang}']}, {period}"
funnel_col, bar_col = st.columns(2)
with funnel_col:
    if info["unit"] != "proportion":
        st.info(t("funnel_only_proportions", lang), icon=":material/info:")
    else:
        funnel = data.funnel(mart, indicator, ctx.period)
        limits = data.funnel_limits(mart, indicator, ctx.period)
        funnel_title = f"{t('funnel_title', lang)}: {title}"
        state.chart(
            charts.funnel_chart(
                points,
                funnel,
                limits,
                lang,
                ctx.municipality,
                t("funnel_title", lang),
                ctx.country,
            ),
            "funnel",
            alternatives.funnel(points, lang, funnel_title, funnel.get("benchmark"), ctx.country),
            lang,
        )
        if funnel.get("overdispersed"):
            st.caption(t("funnel_overdispersed", lang, phi=fmt.number(funnel["phi"], 1, lang)))
        state.csv_download(
            limits, f"trechter_grenzen_{indicator}", ctx, "csv_limits", t("csv_limits", lang)
        )
with bar_col:
    state.chart(
        charts.ranked_bar(
            points,
            info["value_format"],
            lang,
            national,
            ctx.municipality,
            t("ranked_title", lang),
            ctx.country,
        ),
        "ranked",
        alternatives.ranked(
            points,
            lang,
            f"{t('ranked_title', lang)}: {title}",
            national,
            info["value_format"],
            ctx.country,
        ),
        lang,
    )
state.csv_download(points, f"vergelijken_{indicator}", ctx, "csv_points", t("csv_points", lang))
st.caption(title)
state.footer(ctx, lang)
