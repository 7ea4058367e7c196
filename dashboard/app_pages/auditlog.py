"""Auditlog: who signed in or out and which requests were refused (with the browser intake:
uploads, edits, approvals) — analysts for their regions' municipalities, administrators all."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl
import streamlit as st

from dashboard import account, logs, state
from dashboard.i18n import t
from hgkm import audit

ctx = state.context()
lang = ctx.lang
viewer = account.require("audit", lang, "audit")
scope = viewer.scope

st.title(t("page_audit", lang))
st.markdown(t("audit_intro", lang, where=account.regions_note(scope, "audit_where_regions", lang)))

left, middle, right = st.columns(3)
with left:
    since_day = st.date_input(
        t("audit_since", lang), value=date.today() - timedelta(days=30), key="audit_since"
    )
with middle:
    actions = ["", *audit.ACTIONS]
    action = st.selectbox(
        t("audit_action", lang),
        actions,
        format_func=lambda a: t(f"action_{a}", lang) if a else t("audit_all", lang),
        key="audit_action",
    )
with right:
    user = st.text_input(t("audit_user", lang), key="audit_user").strip()

since = datetime.combine(since_day, time.min).astimezone() if since_day else None
view = logs.audit_lines(scope, since=since, user=user or None, action=action or None)
if view.lines.is_empty():
    st.info(t("audit_none", lang), icon=":material/info:")
else:
    words = {a: t(f"action_{a}", lang) for a in audit.ACTIONS}
    roles = {
        r: t(f"role_{r}", lang)
        for r in ("public", "municipality", "analyst", "admin", "shell", "job")
    }
    st.dataframe(
        view.lines.select(
            pl.col("ts").str.slice(0, 19).str.replace("T", " ").alias(t("col_time", lang)),
            pl.col("user").alias(t("col_user", lang)),
            pl.col("role").replace(roles).alias(t("col_role", lang)),
            pl.col("action").replace(words).alias(t("col_action", lang)),
            pl.col("what").alias(t("col_what", lang)),
        ),
        hide_index=True,
        key="audit_table",
    )
    state.csv_download(view.lines, "auditlog", ctx, "csv_audit", t("csv_audit", lang))
if view.unreadable:
    st.caption(t("status_unreadable", lang, n=len(view.unreadable)))
state.footer(ctx, lang)
