"""Publicatie: what a staged mart would change against the published one, approved or rejected
by an analyst (publish = "review"), and every publication kept (analysts and administrators)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import account, data, state, tables
from dashboard.i18n import t
from hgkm import release
from hgkm.config import load_config
from hgkm.settings import resolve_paths

FLASH_KEY = "_hgkm_publication_flash"

ctx = state.context()
lang = ctx.lang
viewer = account.require("publish", lang, "publication")
scope = viewer.scope

st.title(t("page_publication", lang))
mode = load_config(only=frozenset({"publish"})).publish
st.markdown(t(f"publication_intro_{mode}", lang))
flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    st.success(flash, icon=":material/check_circle:")


def who(by: str, role: str) -> str:
    role_word = t(f"role_{role}", lang) if role else t("role_unknown", lang)
    return f"{by} ({role_word})" if by else t("role_unknown", lang)


def stamp(iso: str) -> str:
    return iso[:16].replace("T", " ")


def decide(action: str, build_id: str, text: str) -> None:
    """Approve or reject the staged mart that was shown; a changed one is refused."""
    actor = release.Actor(viewer.user, viewer.scope.role)
    try:
        if action == "approve":
            done = release.approve(resolve_paths(), build_id, actor, text)
            message = t("publication_approved", lang, number=done.number)
        else:
            release.reject(resolve_paths(), build_id, actor, text)
            message = t("publication_rejected", lang)
    except release.ReleaseError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.session_state[FLASH_KEY] = message
    st.rerun()


found = data.staged()
if found is None:
    st.info(t("publication_none_staged", lang), icon=":material/inventory_2:")
else:
    pending, version = found
    build = pending.build
    base = (
        t("publication_base", lang, number=build.base)
        if build.base
        else t("publication_first", lang)
    )
    st.info(
        t(
            "publication_staged",
            lang,
            built=stamp(build.built_at),
            who=who(build.built_by, build.role),
            base=base,
        ),
        icon=":material/pending_actions:",
    )
    st.header(t("publication_changes_heading", lang))
    changes = data.release_changes(version)
    if changes.is_empty():
        st.markdown(t("publication_no_changes", lang))
    else:
        counts = dict(changes.group_by("change").len().iter_rows())
        st.markdown(
            "\n".join(
                f"- {t('publication_count', lang, n=counts[k], kind=t(f'change_{k}', lang))}"
                for k in tables.CHANGE_KINDS
                if k in counts
            )
        )
        kinds = [k for k in tables.CHANGE_KINDS if k in counts]
        catalogue = data.catalogue(ctx.mart)
        titles = dict(catalogue.select("indicator_id", f"title_{lang}").iter_rows())
        changed = [i for i in titles if i in set(changes["indicator_id"].drop_nulls())]
        left, middle, right = st.columns(3)
        with left:
            kind = state.select(
                "change",
                ["all", *kinds],
                {"all": t("publication_all_kinds", lang)}
                | {k: t(f"change_{k}", lang) for k in kinds},
                t("publication_kind", lang),
                container=st,
            )
        with middle:
            # its own parameter: the other pages' indicator would filter the review unseen
            indicator = state.select(
                "changed",
                ["all", *changed],
                {"all": t("publication_all_kinds", lang)} | titles,
                t("indicator", lang),
                container=st,
            )
        reach = scope.reach("reasons")
        shown = changes if kind == "all" else changes.filter(pl.col("change") == kind)
        if indicator != "all":
            shown = shown.filter(pl.col("indicator_id") == indicator)
        if not reach.all:
            with right:
                where = state.radio(
                    "where",
                    ["mine", "all"],
                    {
                        "mine": t("publication_where_mine", lang),
                        "all": t("publication_where_all", lang),
                    },
                    t("publication_where", lang),
                )
            if where == "mine":
                regions = [f"{data.DEFAULT_REGION_TYPE}:{r}" for r in scope.regions]
                shown = shown.filter(pl.col("area_code").is_in([*reach.codes, *regions]))
        rows = tables.change_rows(shown, catalogue, lang)
        st.dataframe(
            rows.select(
                pl.col("change_text").alias(t("col_change", lang)),
                pl.col("indicator_text").alias(t("indicator", lang)),
                pl.col("area_text").alias(t("col_area", lang)),
                pl.col("period_text").alias(t("col_period", lang)),
                pl.col("breakdown_text").alias(t("col_breakdown", lang)),
                pl.col("old_text").alias(t("col_old", lang)),
                pl.col("new_text").alias(t("col_new", lang)),
                pl.col("comparison_text").alias(t("col_comparison_change", lang)),
            ),
            hide_index=True,
            key="changes_table",
        )
        st.caption(t("publication_shown", lang, shown=shown.height, total=changes.height))
        state.csv_download(
            changes, f"veranderingen_{build.id}", ctx, "csv_changes", t("csv_changes", lang)
        )

    st.header(t("publication_decide_heading", lang))
    approve_column, reject_column = st.columns(2)
    with approve_column:
        note = st.text_input(t("publication_note", lang), key="publication_note")
        if st.button(
            t("publication_approve", lang),
            key="publication_approve",
            type="primary",
            icon=":material/publish:",
        ):
            decide("approve", build.id, note)
    with reject_column:
        reason = st.text_input(t("publication_reason", lang), key="publication_reason")
        if st.button(
            t("publication_reject", lang), key="publication_reject", icon=":material/block:"
        ):
            if reason.strip():
                decide("reject", build.id, reason)
            else:
                st.warning(t("publication_reason_needed", lang), icon=":material/edit:")

st.header(t("publication_history_heading", lang))
published, rejected = data.publications()
if not published:
    st.info(t("publication_history_none", lang), icon=":material/info:")
else:
    history = pl.DataFrame(
        {
            t("col_number", lang): [r.number for r in reversed(published)],
            t("col_published_at", lang): [stamp(r.decision.at) for r in reversed(published)],
            t("col_mode", lang): [t(f"mode_{r.decision.mode}", lang) for r in reversed(published)],
            t("col_by", lang): [
                who(r.decision.by, r.decision.role) if r.decision.by else ""
                for r in reversed(published)
            ],
            t("col_note", lang): [r.decision.text for r in reversed(published)],
        }
    )
    st.dataframe(history, hide_index=True, key="history_table")
    state.csv_download(history, "publicaties", ctx, "csv_history", t("csv_history", lang))
if rejected:
    st.header(t("publication_rejections_heading", lang))
    st.dataframe(
        pl.DataFrame(
            {
                t("col_decided_at", lang): [stamp(r.decision.at) for r in reversed(rejected)],
                t("col_by", lang): [
                    who(r.decision.by, r.decision.role) for r in reversed(rejected)
                ],
                t("col_note", lang): [r.decision.text for r in reversed(rejected)],
            }
        ),
        hide_index=True,
        key="rejections_table",
    )
state.footer(ctx, lang)
