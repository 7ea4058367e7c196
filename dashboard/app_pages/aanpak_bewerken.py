"""Aanpak bewerken: a municipality's approach profile edited in a form, checked as `hgkm approach
import` checks it, saved as a new version through the job's inbox, with every version's who,
when and what changed (municipalities for their own, analysts for their regions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
import streamlit as st

from dashboard import account, data, logs, state
from dashboard.i18n import APPROACH_ELEMENTS, t
from hgkm import intake
from hgkm.config import load_config
from hgkm.settings import resolve_paths

COLUMNS = ("municipality_code", "element", "in_place_from", "in_place_until", "note")
EARLIEST = date(2000, 1, 1)
FLASH_KEY = "_hgkm_profile_flash"

ctx = state.context()
lang, mart = ctx.lang, ctx.mart
viewer = account.require("deliver", lang, "profile_edit")
scope = viewer.scope
reach = scope.reach("deliver")
paths = resolve_paths()
config = load_config(only=frozenset({"inbox", "run_on_upload"}))
today = date.today()
element_labels = {e: t(f"element_{e}", lang) for e in APPROACH_ELEMENTS}

municipalities = data.municipalities(mart).filter(
    pl.lit(reach.all) | pl.col("area_code").is_in(list(reach.codes))
)
if municipalities.is_empty():
    st.title(t("page_profile_edit", lang))
    st.info(t("profile_edit_none", lang), icon=":material/info:")
    state.footer(ctx, lang)
    st.stop()
labels = dict(municipalities.select("area_code", "area_name").iter_rows())
st.title(t("page_profile_edit", lang))
st.markdown(t("profile_edit_intro", lang))
# Its own choice, not the sidebar's: that one lists only municipalities that delivered.
code = state.select(
    "edit",
    list(labels),
    labels,
    t("profile_edit_choose", lang),
    ctx.municipality if ctx.municipality in labels else None,
    container=st,
)
flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    st.success(flash, icon=":material/check_circle:")
if config.inbox is None or not config.inbox.is_dir():
    st.warning(t("upload_no_inbox", lang), icon=":material/block:")
    state.footer(ctx, lang)
    st.stop()
inbox = config.inbox.absolute()


def published_rows() -> list[dict[str, Any]]:
    """The published profile of `code` with its notes, by element and start."""
    periods = data.approach_profiles(mart).filter(pl.col("municipality_code") == code)
    notes = data.approach_notes(mart, scope).filter(pl.col("municipality_code") == code)
    return (
        periods.join(
            notes.select("element", "in_place_from", "note"),
            on=["element", "in_place_from"],
            how="left",
        )
        .sort("element", "in_place_from")
        .select("element", "in_place_from", "in_place_until", "note")
        .to_dicts()
    )


def submitted_rows(submission: intake.Submission) -> list[dict[str, Any]]:
    """The periods of a version saved here (its file in the inbox's processed/ folder)."""
    frame = pl.read_csv(
        inbox / "processed" / submission.name, schema={c: pl.String for c in COLUMNS}
    )
    return [
        {
            "element": row["element"],
            "in_place_from": date.fromisoformat(row["in_place_from"]),
            "in_place_until": date.fromisoformat(row["in_place_until"])
            if row["in_place_until"]
            else None,
            "note": row["note"],
        }
        for row in frame.sort("element", "in_place_from").iter_rows(named=True)
    ]


submissions = [s for s in intake.submissions(inbox, (code,)) if s.kind == intake.PROFILE]
published_at = data.publication(mart).get("published_at") or datetime.min
newer = [s for s in submissions if s.state == intake.ACCEPTED and s.placed_at > published_at]


def history() -> None:
    """Every recorded version: when, who, what changed, and where the job has got with it."""
    st.header(t("profile_history_heading", lang))
    edits = logs.profile_edits(scope, code)
    if edits.is_empty():
        st.info(t("profile_history_none", lang), icon=":material/info:")
        return
    states = {s.name: t(f"submission_{s.state}", lang) for s in submissions}
    table = edits.select(
        pl.col("ts").str.slice(0, 16).str.replace("T", " ").alias(t("col_time", lang)),
        pl.col("user").alias(t("col_by", lang)),
        pl.col("changes").alias(t("col_changes", lang)),
        pl.col("file")
        .replace_strict(states, default=pl.lit(t("submission_accepted", lang)))
        .alias(t("col_status", lang)),
    )
    st.dataframe(table, hide_index=True, key="profile_history")
    state.csv_download(
        table, f"aanpak_versies_{code}", ctx, "csv_profile_history", t("csv_profile_history", lang)
    )


if any(s.state == intake.WAITING for s in submissions):
    st.info(t("profile_edit_waiting", lang), icon=":material/hourglass_top:")
    history()
    state.footer(ctx, lang)
    st.stop()
if newer:
    base = submitted_rows(newer[0])
    placed = newer[0].placed_at.strftime("%Y-%m-%d %H:%M")
    st.info(t("profile_edit_base_pending", lang, placed=placed), icon=":material/info:")
else:
    base = published_rows()


def date_input(label: str, value: date | None, key: str) -> date | None:
    return st.date_input(
        label, value=value, min_value=EARLIEST, max_value=today, format="DD-MM-YYYY", key=key
    )


version = f"{code}_{len(base)}_{newer[0].id if newer else 'published'}"
with st.form(f"profile_form_{version}"):
    edited: list[dict[str, Any]] = []
    for n, row in enumerate(base, start=1):
        st.markdown(
            "**"
            + t("profile_edit_period", lang, n=n, element=element_labels[row["element"]])
            + "**"
        )
        first, second, third, fourth = st.columns([2, 2, 3, 1.5])
        with first:
            start = date_input(
                t("profile_edit_from", lang), row["in_place_from"], f"{version}_f{n}"
            )
        with second:
            until = date_input(
                t("profile_edit_until", lang), row["in_place_until"], f"{version}_u{n}"
            )
        with third:
            note = st.text_input(
                t("profile_edit_note", lang), row["note"] or "", key=f"{version}_n{n}"
            )
        with fourth:
            remove = st.checkbox(t("profile_edit_remove", lang), key=f"{version}_r{n}")
        if not remove:
            edited.append(
                {"element": row["element"], "in_place_from": start, "in_place_until": until}
                | {"note": note}
            )
    st.markdown("**" + t("profile_edit_new", lang) + "**")
    first, second, third, fourth = st.columns([2, 2, 3, 1.5])
    with first:
        element = st.selectbox(
            t("profile_edit_element", lang),
            ["", *APPROACH_ELEMENTS],
            format_func=lambda e: element_labels.get(e, t("profile_edit_no_element", lang)),
            key=f"{version}_new_element",
        )
    with second:
        start = date_input(t("profile_edit_from", lang), None, f"{version}_new_from")
    with third:
        until = date_input(t("profile_edit_until", lang), None, f"{version}_new_until")
    note = st.text_input(t("profile_edit_note", lang), "", key=f"{version}_new_note")
    if element:
        edited.append(
            {"element": element, "in_place_from": start, "in_place_until": until, "note": note}
        )
    saved = st.form_submit_button(t("profile_edit_save", lang), type="primary")


def normalised(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return sorted(
        (r["element"], str(r["in_place_from"]), str(r["in_place_until"]), (r["note"] or "").strip())
        for r in rows
    )


def save(rows: list[dict[str, Any]]) -> None:
    """Check the new version as `hgkm approach import --dry-run`; when it passes, place it in
    the inbox as a new version for the job, record who changed what, start the job."""
    submission = intake.new_id()
    folder = intake.staging(inbox, submission)
    staged = folder / "approach_profiles.csv"
    pl.DataFrame(
        {
            "municipality_code": [code] * len(rows),
            "element": [r["element"] for r in rows],
            "in_place_from": [r["in_place_from"] for r in rows],
            "in_place_until": [r["in_place_until"] for r in rows],
            "note": [r["note"] or "" for r in rows],
        },
        schema={
            "municipality_code": pl.String,
            "element": pl.String,
            "in_place_from": pl.Date,
            "in_place_until": pl.Date,
            "note": pl.String,
        },
    ).write_csv(staged)
    try:
        report = intake.check(paths, staged, intake.PROFILE)
    except intake.CheckFailed as exc:
        intake.discard(inbox, submission)
        st.error(t("upload_check_failed", lang, why=str(exc)), icon=":material/error:")
        return
    if report["status"] == "rejected":
        intake.discard(inbox, submission)
        st.error(t("profile_edit_rejected", lang), icon=":material/report:")
        # The file's row 2 is the first period (row 1 is its header).
        st.dataframe(
            pl.DataFrame(
                {
                    t("col_line", lang): [
                        t("profile_edit_row", lang, n=e["row"] - 1) if e["row"] else ""
                        for e in report["errors"]
                    ],
                    t("col_column", lang): [e["column"] or "" for e in report["errors"]],
                    t("col_rule", lang): [e["rule"] for e in report["errors"]],
                    t("col_message", lang): [e["message"] for e in report["errors"]],
                }
            ),
            hide_index=True,
            key="profile_errors",
        )
        return
    changes = intake.profile_changes(base, rows)
    name = intake.profile_name(code, submission)
    intake.place(inbox, staged, name)
    account.record(viewer, "profile_edit", {"file": name, "changes": {code: changes}}, [code])
    if config.run_on_upload:
        intake.start_job(paths, inbox)
    st.session_state[FLASH_KEY] = t("profile_edit_saved", lang, changes="; ".join(changes))
    st.rerun()


if saved:
    if not edited:
        st.warning(t("profile_edit_empty", lang), icon=":material/edit:")
    elif normalised(edited) == normalised(base):
        st.info(t("profile_edit_nothing", lang), icon=":material/info:")
    else:
        save(edited)
history()
state.footer(ctx, lang)
