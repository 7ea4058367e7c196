"""Aanleveringen: which municipality delivered when, accepted or rejected, freshness, warnings."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import account, data, state, tables
from dashboard import format as fmt
from dashboard.i18n import t

ctx = state.context()
lang, mart = ctx.lang, ctx.mart
viewer = account.current()

st.title(t("page_deliveries", lang))
staleness = data.publication(mart).get("staleness_days", 120)
st.markdown(t("deliveries_intro", lang, days=staleness))
scope = state.radio(
    "scope",
    ["region", "all"],
    {"region": t("deliveries_scope_region", lang), "all": t("deliveries_scope_all", lang)},
    t("deliveries_scope", lang),
)
status = data.delivery_status(mart, ctx.scope)
if scope == "region":
    status = status.filter(pl.col("veilig_thuis_region") == ctx.region)
state.banners(ctx, status["municipality_code"].to_list())

reasons = viewer.may("reasons")  # else every reason column is empty: leave them out
everyone = ctx.scope.reach("reasons").all


def count(column: str, key: str) -> pl.Expr:
    """A count of reasons; withheld (another municipality's) shows blank, not "None"."""
    shown = pl.col(column) if everyone else pl.col(column).cast(pl.String).fill_null("")
    return shown.alias(t(key, lang))


received = fmt.date_expr(pl.col("last_received_at").dt.date(), lang).alias(t("col_received", lang))
columns = [
    pl.col("municipality_name").alias(t("col_municipality", lang)),
    tables.status_word_expr(lang).alias(t("col_status", lang)),
    fmt.date_expr(pl.col("current_extract_date"), lang).alias(t("col_extract", lang)),
    *([received] if reasons else []),
    pl.col("days_since_extract").alias(t("col_age", lang)),
]
if reasons:
    columns += [
        count("n_warnings", "col_warnings"),
        count("n_rejected", "col_rejections"),
        pl.col("last_rejection_summary").fill_null("").alias(t("col_note", lang)),
    ]
table = status.select(columns)
st.dataframe(table, hide_index=True, key="status_table")
state.csv_download(
    status if reasons else status.drop(data.REASON_COLUMNS["delivery_status"]),
    "aanleveringen",
    ctx,
    "csv_status",
    t("csv_status", lang),
)

st.header(t("log_heading", lang, name=ctx.municipality_name))
if viewer.outside("reasons", ctx.municipality):
    account.refuse(lang, "aanleveringen", ctx.municipality)
    state.footer(ctx, lang)
    st.stop()
log = data.delivery_log(mart, ctx.municipality, ctx.scope)
if not ctx.scope.reach("reasons").covers(ctx.municipality):
    st.dataframe(
        log.select(
            fmt.date_expr(pl.col("extract_date"), lang).alias(t("col_extract", lang)),
            fmt.date_expr(pl.col("received_at").dt.date(), lang).alias(t("col_received", lang)),
            pl.when(pl.col("current"))
            .then(pl.lit(t("yes", lang)))
            .otherwise(pl.lit(t("no", lang)))
            .alias(t("col_current", lang)),
        ),
        hide_index=True,
        key="log_table",
    )
    st.caption(t("log_public_note", lang))
    state.footer(ctx, lang)
    st.stop()
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

# ---- the full report of one delivery: every finding with file, row, column and what to do
if ctx.scope.reach("reports").covers(ctx.municipality) and not log.is_empty():
    st.header(t("report_heading", lang))
    keyed = log.with_columns(key=pl.col("received_at").dt.strftime("%Y-%m-%dT%H:%M:%S"))
    status_words = {"accepted": t("accepted", lang), "rejected": t("rejected", lang)}
    labels = {
        row["key"]: f"{fmt.day(row['received_at'].date(), lang)} · "
        f"{status_words.get(row['status'], row['status'])} · "
        f"{t('col_extract', lang).lower()} {fmt.day(row['extract_date'], lang)}"
        for row in keyed.iter_rows(named=True)
    }
    chosen = state.select("delivery", list(labels), labels, t("report_choice", lang), container=st)
    delivery = keyed.filter(pl.col("key") == chosen).row(0, named=True)
    issues = data.delivery_issues(mart, ctx.municipality, ctx.scope)
    if not issues.is_empty():
        issues = issues.filter(pl.col("received_at") == delivery["received_at"])
    if issues.is_empty():
        st.info(t("report_none", lang), icon=":material/check_circle:")
    else:
        kinds = {"error": t("kind_error", lang), "warning": t("kind_warning", lang)}
        st.dataframe(
            issues.select(
                pl.col("kind").replace(kinds).alias(t("col_kind", lang)),
                pl.col("file").alias(t("col_file", lang)),
                pl.col("row_number").alias(t("col_line", lang)),
                pl.col("column_name").alias(t("col_column", lang)),
                pl.col("rule").alias(t("col_rule", lang)),
                pl.col("message").alias(t("col_fix", lang)),
                pl.col("count").alias(t("col_count", lang)),
            ),
            hide_index=True,
            key="report_table",
        )
        listed = issues.filter(pl.col("kind") == "error").height
        if (delivery["n_errors"] or 0) > listed:
            st.caption(t("report_capped", lang, total=delivery["n_errors"]))
        state.csv_download(
            issues,
            f"rapport_{ctx.municipality}_{chosen[:10]}",
            ctx,
            "csv_report",
            f"{t('csv_report', lang)}: {ctx.municipality_name}",
        )
state.footer(ctx, lang)
