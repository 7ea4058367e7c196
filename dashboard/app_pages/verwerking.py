"""Verwerking: the scheduled job's runs, the deliveries they filed and what needs attention
(analysts for their regions, administrators for all)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import account, data, logs, state, tables
from dashboard import format as fmt
from dashboard.i18n import t

ctx = state.context()
lang, mart = ctx.lang, ctx.mart
viewer = account.require("run_status", lang, "status")
scope = viewer.scope

st.title(t("page_status", lang))
st.markdown(
    t("status_intro", lang, where=account.regions_note(scope, "status_where_regions", lang))
)

view = logs.runs(scope)
if view.holder is None:
    st.info(t("status_idle", lang), icon=":material/check_circle:")
elif view.holder.is_alive() is False:
    st.warning(t("status_dead", lang, since=view.holder.started_at), icon=":material/warning:")
else:
    st.info(
        t("status_running", lang, since=view.holder.started_at, pid=view.holder.pid),
        icon=":material/autorenew:",
    )
stamp = data.publication(mart).get("published_at")
if stamp:
    st.markdown(t("status_published", lang, date=fmt.day(stamp.date(), lang)))


def stamp_expr(column: str) -> pl.Expr:
    """An ISO time of the log as `2026-12-03 14:02` (UTC, as written)."""
    return pl.col(column).str.slice(0, 16).str.replace("T", " ")


st.header(t("status_runs_heading", lang))
if view.runs.is_empty():
    st.info(t("status_no_runs", lang), icon=":material/info:")
else:
    outcome_words = {o: t(f"outcome_{o}", lang) for o in ("ok", "attention", "failed")}
    st.dataframe(
        view.runs.select(
            stamp_expr("started").alias(t("col_started", lang)),
            stamp_expr("ended").alias(t("col_ended", lang)),
            pl.col("outcome")
            .replace_strict(outcome_words, default=pl.lit(t("outcome_running", lang)))
            .alias(t("col_outcome", lang)),
            pl.col("seen").alias(t("col_seen", lang)),
            pl.col("accepted").alias(t("col_accepted", lang)),
            pl.col("rejected").alias(t("col_rejections", lang)),
            pl.when(pl.col("mart_published"))
            .then(pl.lit(t("yes", lang)))
            .otherwise(pl.lit(t("no", lang)))
            .alias(t("col_published", lang)),
            pl.col("error").fill_null("").alias(t("col_error", lang)),
        ),
        hide_index=True,
        key="runs_table",
    )

st.header(t("status_filed_heading", lang))
if view.filed.is_empty():
    st.info(t("status_filed_none", lang), icon=":material/info:")
else:
    names = dict(
        data.delivery_status(mart, scope)
        .select("municipality_code", "municipality_name")
        .iter_rows()
    )
    st.dataframe(
        view.filed.select(
            stamp_expr("ts").alias(t("col_received", lang)),
            pl.col("municipality_code")
            .replace_strict(names, default=pl.col("municipality_code"))
            .alias(t("col_municipality", lang)),
            pl.col("file").alias(t("col_file", lang)),
            pl.col("status").alias(t("col_status", lang)),
            pl.col("error_total").alias(t("col_errors", lang)),
            pl.col("rules").alias(t("col_rule", lang)),
        ),
        hide_index=True,
        key="filed_table",
    )
if view.unreadable:
    st.caption(t("status_unreadable", lang, n=view.unreadable))

st.header(t("status_attention_heading", lang))
reach = scope.reach("reasons")
status = data.delivery_status(mart, scope)
if not reach.all:
    status = status.filter(pl.col("municipality_code").is_in(list(reach.codes)))
attention = tables.attention(status, status["municipality_code"].to_list())
if attention.is_empty():
    st.info(t("status_attention_none", lang), icon=":material/check_circle:")
else:
    st.dataframe(
        attention.select(
            pl.col("municipality_name").alias(t("col_municipality", lang)),
            tables.status_word_expr(lang).alias(t("col_status", lang)),
            fmt.date_expr(pl.col("current_extract_date"), lang).alias(t("col_extract", lang)),
            pl.col("last_rejection_summary").fill_null("").alias(t("col_note", lang)),
        ),
        hide_index=True,
        key="attention_table",
    )
state.footer(ctx, lang)
