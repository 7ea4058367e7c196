"""Aanpak: a municipality's approach profile, how it differs from its region, and comparisons
of the indicators by approach element (with/without, before/after) — associations only."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboard import alternatives, charts, data, state
from dashboard import format as fmt
from dashboard.i18n import APPROACH_ELEMENTS, t

ctx = state.context()
lang, mart = ctx.lang, ctx.mart
today = date.today()
element_labels = {e: t(f"element_{e}", lang) for e in APPROACH_ELEMENTS}

st.title(t("approach_title", lang, name=ctx.municipality_name))
st.markdown(t("approach_intro", lang))
st.info(t("approach_caveat", lang), icon=":material/balance:")

profiles = data.approach_profiles(mart)
now_in_place = profiles.filter(
    (pl.col("in_place_from") <= today)
    & (pl.col("in_place_until").is_null() | (pl.col("in_place_until") >= today))
)
own = profiles.filter(pl.col("municipality_code") == ctx.municipality)

# ---- the profile as a timeline
st.header(t("approach_timeline_title", lang))
if own.is_empty():
    st.info(t("approach_no_profile", lang), icon=":material/info:")
else:
    timeline_title = t("approach_timeline_title", lang) + f": {ctx.municipality_name}"
    state.chart(
        charts.approach_timeline(own, element_labels, today, lang),
        "approach_timeline",
        alternatives.approach_timeline(own, element_labels, today, lang, timeline_title),
        lang,
    )
    state.csv_download(
        own,
        f"approach_profile_{ctx.municipality}",
        ctx,
        "csv_profile",
        t("csv_approach_profile", lang),
    )
    notes = data.approach_notes(mart, ctx.scope).filter(
        pl.col("municipality_code") == ctx.municipality
    )
    if not notes.is_empty():
        st.subheader(t("approach_notes_heading", lang))
        st.dataframe(
            notes.select(
                pl.col("element")
                .replace_strict(element_labels, default=pl.col("element"))
                .alias(t("approach_element", lang)),
                fmt.date_expr(pl.col("in_place_from"), lang).alias(t("approach_from", lang)),
                pl.col("note").alias(t("col_note", lang)),
            ),
            hide_index=True,
            key="approach_notes_table",
        )
        st.caption(t("approach_notes_caption", lang))

# ---- where it differs from its region (municipalities of the region that have a profile)
st.header(t("approach_region_title", lang))
members = data.region_members(mart, ctx.region)["area_code"].to_list()
with_profile = sorted(set(profiles["municipality_code"]) & set(members))
if not with_profile or own.is_empty():
    st.info(t("approach_no_profile", lang), icon=":material/info:")
else:
    here = set(now_in_place.filter(pl.col("municipality_code") == ctx.municipality)["element"])
    counts = dict(
        now_in_place.filter(pl.col("municipality_code").is_in(with_profile))
        .group_by("element")
        .agg(pl.col("municipality_code").n_unique())
        .iter_rows()
    )
    total = len(with_profile)
    majority = {e for e in APPROACH_ELEMENTS if counts.get(e, 0) * 2 > total}
    missing = [element_labels[e] for e in APPROACH_ELEMENTS if e in majority - here]
    only_here = [element_labels[e] for e in APPROACH_ELEMENTS if e in here - majority]
    name = ctx.municipality_name
    if missing:
        st.markdown("- " + t("approach_region_has", lang, name=name, elements=", ".join(missing)))
    if only_here:
        st.markdown("- " + t("approach_only_here", lang, name=name, elements=", ".join(only_here)))
    if not missing and not only_here:
        st.markdown(t("approach_like_region", lang, name=name))
    region_table = pl.DataFrame(
        {
            t("approach_element", lang): [element_labels[e] for e in APPROACH_ELEMENTS],
            t("approach_share_column", lang): [
                f"{counts.get(e, 0)} / {total}" for e in APPROACH_ELEMENTS
            ],
            t("approach_here_column", lang, name=name): [
                t("approach_yes", lang) if e in here else t("approach_no", lang)
                for e in APPROACH_ELEMENTS
            ],
        }
    )
    st.dataframe(region_table, hide_index=True, key="approach_region_table")
    state.csv_download(
        region_table,
        f"approach_region_{ctx.municipality}",
        ctx,
        "csv_region",
        t("csv_approach_region", lang),
    )

# ---- the comparisons: choose an element, then an indicator it plausibly touches
catalogue = data.catalogue(mart)
left, right = st.columns(2)
with left:
    element = state.select(
        "element",
        list(APPROACH_ELEMENTS),
        element_labels,
        t("approach_element", lang),
        container=st,
    )
# Older marts have no `approach_elements` in their catalogue: offer every proportion then.
declared = (
    pl.col("approach_elements").fill_null("").str.split(",").list.contains(element)
    if "approach_elements" in catalogue.columns
    else pl.lit(True)
)
touched = catalogue.filter((pl.col("unit") == "proportion") & declared)
titles = dict(touched.select("indicator_id", f"title_{lang}").iter_rows())
polarity = dict(touched.select("indicator_id", "polarity").iter_rows())
with right:
    indicator = state.select("indicator", list(titles), titles, t("indicator", lang), container=st)


def reading(row: dict, template: str, **names: object) -> str:
    """One comparison row in plain words: values, direction, size, interval, and whether the
    interval excludes zero — never a judgement of which approach is best."""
    diff = row["difference"]
    clear = row["difference_low"] > 0 or row["difference_high"] < 0
    return (
        t(
            template,
            lang,
            with_value=fmt.percent(row["value_with"], lang),
            without_value=fmt.percent(row["value_without"], lang),
            direction=t("approach_higher" if diff >= 0 else "approach_lower", lang),
            size=fmt.number(abs(diff) * 100, 1, lang),
            low=fmt.number(row["difference_low"] * 100, 1, lang),
            high=fmt.number(row["difference_high"] * 100, 1, lang),
            certainty=t("approach_clear" if clear else "approach_unclear", lang),
            **names,
        )
        + " "
        + t(
            "approach_polarity_lower"
            if polarity.get(row["indicator_id"]) == "lower_is_better"
            else "approach_polarity_higher",
            lang,
        )
    )


st.header(t("approach_ww_title", lang))
st.markdown(t("approach_ww_intro", lang))
# the comparison by approach is always over the municipalities delivering here, also where
# a national benchmark gives the other pages their Netherlands
area_names = {ctx.region: ctx.region_name, data.NATIONAL: t("national_delivering", lang)}
with_without = data.approach_comparison(mart, "with_without", (ctx.region, data.NATIONAL))
shown = (
    with_without.filter(
        (pl.col("element") == element)
        & (pl.col("indicator_id") == indicator)
        & ~pl.col("suppressed")
    )
    if not with_without.is_empty()
    else with_without
)
if shown.is_empty():
    st.info(t("approach_no_comparison", lang), icon=":material/info:")
else:
    shown = shown.with_columns(
        area_name=pl.col("area_code").replace_strict(area_names, default=pl.col("area_code")),
        period_label=pl.when(pl.col("period") == "all")
        .then(pl.lit(t("approach_all_years", lang)))
        .otherwise(pl.col("period")),
    ).sort(pl.col("period") == "all", "period", descending=[True, False])
    shown = shown.with_columns(
        hover=pl.Series(
            [
                reading(r, "approach_reading_ww", area=r["area_name"], period=r["period_label"])
                for r in shown.iter_rows(named=True)
            ]
        )
    )
    ww_title = f"{t('approach_ww_title', lang)}: {element_labels[element]}, {titles[indicator]}"
    state.chart(
        charts.approach_differences(shown, lang, titles.get(indicator)),
        "approach_with_without",
        alternatives.approach_differences(shown, lang, ww_title),
        lang,
    )
    for row in shown.filter(pl.col("period") == "all").iter_rows(named=True):
        st.markdown("- " + row["hover"])
    state.csv_download(
        shown.drop("hover", "area_name", "period_label"),
        f"approach_with_without_{element}_{indicator}",
        ctx,
        "csv_with_without",
        t("csv_with_without", lang),
    )

st.header(t("approach_ba_title", lang, name=ctx.municipality_name))
before_after = data.approach_comparison(mart, "before_after", (ctx.municipality,))
mine = (
    before_after.filter((pl.col("element") == element) & ~pl.col("suppressed"))
    if not before_after.is_empty()
    else before_after
)
if mine.is_empty():
    st.info(t("approach_ba_none", lang, name=ctx.municipality_name), icon=":material/info:")
else:
    all_titles = dict(catalogue.select("indicator_id", f"title_{lang}").iter_rows())
    polarity |= dict(catalogue.select("indicator_id", "polarity").iter_rows())
    mine = mine.with_columns(
        label=pl.col("indicator_id").replace_strict(all_titles, default=pl.col("indicator_id")),
    )
    texts = [
        reading(
            r,
            "approach_reading_ba",
            indicator=r["label"],
            introduced=fmt.day(r["introduced"], lang),
        )
        for r in mine.iter_rows(named=True)
    ]
    mine = mine.with_columns(hover=pl.Series(texts))
    groups = pl.concat(
        mine.select(
            "label",
            "hover",
            group=pl.lit(t(name, lang)),
            value=f"value_{suffix}",
            ci_low=f"ci_low_{suffix}",
            ci_high=f"ci_high_{suffix}",
        )
        for name, suffix in (("approach_before", "without"), ("approach_after", "with"))
    )
    ba_title = t("approach_ba_title", lang, name=ctx.municipality_name)
    state.chart(
        charts.approach_groups(groups, lang),
        "approach_before_after",
        alternatives.approach_groups(groups, lang, f"{ba_title}: {element_labels[element]}"),
        lang,
    )
    for text in texts:
        st.markdown("- " + text)
    state.csv_download(
        mine.drop("hover", "label"),
        f"approach_before_after_{ctx.municipality}_{element}",
        ctx,
        "csv_before_after",
        t("csv_before_after", lang),
    )
state.footer(ctx, lang)
