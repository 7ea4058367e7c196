"""Rapport: the meeting report for the chosen region and period, as one self-contained HTML file."""

from __future__ import annotations

import streamlit as st

from dashboard import format as fmt
from dashboard import report, state
from dashboard.i18n import t

ctx = state.context()
lang = ctx.lang
period = fmt.period(ctx.period, lang)

st.title(t("page_report", lang))
st.markdown(t("report_intro", lang))
st.header(t("report_title", lang, region=ctx.region_name, period=period))
st.download_button(
    t("report_download", lang),
    # generated only when clicked: the report embeds plotly.js (several MB)
    data=lambda: report.build(ctx.mart, ctx.region, ctx.period, lang),
    file_name=f"hgkm_rapport_{ctx.region.split(':')[-1]}_{ctx.period}.html",
    mime="text/html",
    key="report_download",
    icon=":material/download:",
    type="primary",
)
preview = report.summaries(ctx.mart, ctx.region, ctx.period, lang)
for row in preview.iter_rows(named=True):
    st.markdown(f"**{row['area_name']}** — {row['summary']}")
state.footer(ctx, lang)
