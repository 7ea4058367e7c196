"""Aanleveringen: which municipality delivered when, accepted or rejected, freshness, warnings."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, state
from dashboard import format as fmt
from dashboard.i18n import t

ctx = state.context()
lang, mart = ctx.lang, ctx.mart

st.title(t("page_deliveries", lang))
staleness = data.publication(mart).get("staleness_days", 120)
st.markdown(t("deliveries_intro", lang, days=staleness))
scope = state.radio(
    "scope",
    ["region", "all"],
    {"region": t("deliveries_scope_region", lang), "all": t("deliveries_scope_all", lang)},
    t("deliveries_scope", lang),
)
status = data.delivery_status(mart)
if scope == "region":
    status = status.filter(pl.col("veilig_thuis_region") == ctx.region)
state.banners(ctx, status["municipality_code"].to_list())

state_word = (
    pl.when(pl.col("delivered").not_())
    .then(pl.lit(t("status_missing", lang)))
    .when(pl.col("last_status") == "rejected")
    .then(pl.lit(t("status_rejected", lang)))
    .when(pl.col("stale"))
    .then(pl.lit(t("status_stale", lang)))
    .otherwise(pl.lit(t("status_ok", lang)))
)
table = status.select(
    pl.col("municipality_name").alias(t("col_municipality", lang)),
    state_word.alias(t("col_status", lang)),
    fmt.date_expr(pl.col("current_extract_date"), lang).alias(t("col_extract", lang)),
    fmt.date_expr(pl.col("last_received_at").dt.date(), lang).alias(t("col_received", lang)),
    pl.col("days_since_extract").alias(t("col_age", lang)),
    pl.col("n_warnings").alias(t("col_warnings", lang)),
    pl.col("n_rejected").alias(t("col_rejections", lang)),
    pl.col("last_rejection_summary").fill_null("").alias(t("col_note", lang)),
)
st.dataframe(table, hide_index=True, key="status_table")
state.csv_download(status, "aanleveringen", ctx, "csv_status", t("csv_status", lang))

st.header(t("log_heading", lang, name=ctx.municipality_name))
log = data.delivery_log(mart, ctx.municipality)
st.dataframe(
    log.select(
        fmt.date_expr(pl.col("extract_date"), lang).alias(t("col_extract", lang)),
        fmt.date_expr(pl.col("received_at").dt.date(), lang).alias(t("col_received", lang)),
        pl.col("status")
        .replace_strict(
            {"accepted": t("accepted", lang), "rejected": t("rejected", lang)},
            default=pl.col("status"),
        )
        .alias(t("col_status", lang)),
        pl.when(pl.col("current"))
        .then(pl.lit(t("yes", lang)))
        .otherwise(pl.lit(t("no", lang)))
        .alias(t("col_current", lang)),
        pl.col("rows_loaded").alias(t("col_rows", lang)),
        pl.col("n_warnings").alias(t("col_warnings", lang)),
        pl.col("n_errors").alias(t("col_errors", lang)),
        pl.col("summary").fill_null("").alias(t("col_note", lang)),
    ),
    hide_index=True,
    key="log_table",
)
state.csv_download(
    log,
    f"aanleveringen_{ctx.municipality}",
    ctx,
    "csv_log",
    f"{t('csv_log', lang)}: {ctx.municipality_name}",
)
state.footer(ctx, lang)
