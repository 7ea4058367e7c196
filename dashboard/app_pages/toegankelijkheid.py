"""Toegankelijkheid: the accessibility statement, after the Dutch model statement."""

from __future__ import annotations

import streamlit as st

from dashboard import accessibility, state
from dashboard import format as fmt
from dashboard.i18n import t

ctx = state.context()
lang = ctx.lang

st.title(t("a11y_title", lang))
st.markdown(t("a11y_intro", lang))
st.header(t("a11y_status_heading", lang))
st.markdown(t("a11y_status", lang))
st.header(t("a11y_audit_heading", lang))
audit = fmt.day(accessibility.AUDIT_DATE, lang)
st.markdown(t("a11y_audit", lang, date=audit, version=accessibility.AXE_VERSION))
st.header(t("a11y_done_heading", lang))
st.markdown(t("a11y_done", lang))
st.header(t("a11y_known_heading", lang))
st.markdown(
    "\n".join(
        f"- {t(s.key, lang)} ({t('a11y_criterion', lang, criterion=s.criterion, owner=s.owner)})"
        for s in accessibility.SHORTFALLS
    )
)
st.header(t("a11y_contact_heading", lang))
st.markdown(t("a11y_contact", lang))
state.footer(ctx, lang)
