"""Indicatoren: the catalogue — what each indicator measures, for whom, and why it matters."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, state
from dashboard.i18n import t

ctx = state.context()
lang, mart = ctx.lang, ctx.mart

st.title(t("page_catalogue", lang))
st.markdown(t("catalogue_intro", lang))
catalogue = data.catalogue(mart)
indicator = state.indicator(ctx)
row = catalogue.filter(pl.col("indicator_id") == indicator).row(0, named=True)

st.header(row[f"title_{lang}"])
st.caption(f"`{row['indicator_id']}` · {t(row['polarity'], lang)}")
left, right = st.columns(2)
with left:
    st.markdown(f"**{t('cat_population', lang)}**  \n{row[f'population_{lang}']}")
    st.markdown(f"**{t('cat_numerator', lang)}**  \n{row[f'numerator_{lang}']}")
    st.markdown(f"**{t('cat_polarity', lang)}**  \n{t(row['polarity'], lang)}")
with right:
    st.markdown(f"**{t('cat_rationale', lang)}**  \n{row[f'rationale_{lang}']}")
    if row.get(f"caveats_{lang}"):
        st.markdown(f"**{t('cat_caveats', lang)}**  \n{row[f'caveats_{lang}']}")
    st.markdown(f"**{t('cat_source', lang)}**  \n{row['source']}")

overview = catalogue.select(
    pl.col(f"title_{lang}").alias(t("indicator", lang)),
    pl.col(f"population_{lang}").alias(t("cat_population", lang)),
    pl.col(f"numerator_{lang}").alias(t("cat_numerator", lang)),
    pl.col("polarity")
    .replace_strict(
        {p: t(p, lang) for p in ("lower_is_better", "higher_is_better")}, return_dtype=pl.Utf8
    )
    .alias(t("cat_polarity", lang)),
    pl.col(f"caveats_{lang}").alias(t("cat_caveats", lang)),
)
st.dataframe(overview, hide_index=True, key="catalogue_table")
state.csv_download(catalogue, "indicatoren", ctx, "csv_catalogue", t("csv_catalogue", lang))
state.footer(ctx, lang)
