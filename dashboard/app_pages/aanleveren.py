"""Aanleveren: upload a delivery, see the check report at once (as `hgkm ingest` gives it), and
follow it until the job has loaded it (municipalities for their own, analysts for their
regions, administrators for all)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from dashboard import account, state
from dashboard import format as fmt
from dashboard.i18n import t
from hgkm import access, intake
from hgkm.config import load_config
from hgkm.settings import resolve_paths

RESULTS_KEY = "_hgkm_uploads"
SUBMISSIONS_SHOWN = 20
REPORTS_SHOWN = 5

ctx = state.context()
lang = ctx.lang
viewer = account.require("deliver", lang, "upload")
scope = viewer.scope
reach = scope.reach("deliver")
paths = resolve_paths()
config = load_config(only=frozenset({"inbox", "run_on_upload"}))
names = access.area_names()

st.title(t("page_upload", lang))
mine = ", ".join(names.get(code, code) for code in reach.codes)
where = t("deliveries_scope_all", lang) if reach.all else mine
size = f"{fmt.number(intake.upload_limit() / 1024**2, 0, lang)} MB"
st.markdown(t("upload_intro", lang, where=where, size=size))
if config.inbox is None or not config.inbox.is_dir():
    st.warning(t("upload_no_inbox", lang), icon=":material/block:")
    state.footer(ctx, lang)
    st.stop()
inbox = config.inbox.absolute()


def handle(name: str, data: bytes) -> dict[str, Any]:
    """Check one uploaded file; place it in the inbox when accepted and in the scope."""
    suffix = Path(name).suffix.lower()
    submission = intake.new_id()
    folder = intake.staging(inbox, submission)
    # The uploader's file name is never used: a name can hold personal data.
    staged = folder / f"upload{suffix}"
    staged.write_bytes(data)
    try:
        report = intake.check(paths, staged, intake.DELIVERY)
    except intake.CheckFailed as exc:
        intake.discard(inbox, submission)
        return {"outcome": "failed", "why": str(exc)}
    code = report.get("municipality_code")
    if code and not reach.covers(code):
        intake.discard(inbox, submission)
        account.record(viewer, "refused", {"page": "aanleveren", "municipality": code}, [code])
        return {"outcome": "refused", "municipality": code}
    what: dict[str, Any] = {
        "status": report["status"],
        "content_hash": report["content_hash"][:16],
        "errors": report["error_total"],
    }
    placed = None
    if report["status"] == "accepted":
        placed = intake.delivery_name(code, report["extract_date"], submission, suffix)
        intake.place(inbox, staged, placed)
        what["file"] = placed
        if config.run_on_upload:
            intake.start_job(paths, inbox)
    else:
        intake.discard(inbox, submission)
    account.record(viewer, "upload", what, [code] if code else [])
    return {"outcome": report["status"], "report": report, "placed": placed}


def findings(items: list[dict[str, Any]], warnings: bool) -> pl.DataFrame:
    """Errors (file, row, column, rule, what to do) or warnings (file, count, rule, meaning)."""
    # (heading, key in the report, type), per kind
    columns = (
        [
            ("col_file", "file", pl.String),
            ("col_count", "count", pl.Int64),
            ("col_rule", "rule", pl.String),
            ("col_note", "message", pl.String),
        ]
        if warnings
        else [
            ("col_file", "file", pl.String),
            ("col_line", "row", pl.Int64),
            ("col_column", "column", pl.String),
            ("col_rule", "rule", pl.String),
            ("col_message", "message", pl.String),
        ]
    )
    return pl.DataFrame(
        {t(heading, lang): [item[key] for item in items] for heading, key, _ in columns},
        schema={t(heading, lang): dtype for heading, _, dtype in columns},
    )


def comparison(report: dict[str, Any]) -> None:
    """What the delivery changes against the municipality's current one."""
    code = report["municipality_code"]
    name = names.get(code, code)
    st.subheader(t("upload_compare_heading", lang))
    current = report.get("current_delivery")
    if not report.get("compared"):
        st.markdown(t("upload_not_compared", lang))
        return
    if current is None:
        st.markdown(t("upload_compare_first", lang, name=name))
        return
    cases = report["counts"].get("cases", 0)
    change = cases - current["cases"]
    share = change / current["cases"] if current["cases"] else 0.0
    difference = ("+" if change >= 0 else "−") + fmt.number(abs(change), 0, lang)
    if current["cases"]:
        difference += f", {'+' if change >= 0 else '−'}{fmt.percent(abs(share), lang)}"
    st.markdown(
        t(
            "upload_compare_current",
            lang,
            extract=fmt.day(date.fromisoformat(current["extract_date"]), lang),
            cases=fmt.number(current["cases"], 0, lang),
            new_extract=fmt.day(date.fromisoformat(report["extract_date"]), lang),
            new_cases=fmt.number(cases, 0, lang),
            difference=difference,
        )
    )
    if report.get("current"):
        st.markdown(t("upload_becomes_current", lang, name=name))
    else:
        st.markdown(t("upload_not_current", lang))


def show(result: dict[str, Any]) -> None:
    outcome = result["outcome"]
    if outcome == "failed":
        st.error(t("upload_check_failed", lang, why=result["why"]), icon=":material/error:")
        return
    if outcome == "refused":
        code = result["municipality"]
        st.warning(
            t("upload_refused", lang, name=names.get(code, code), scope=mine),
            icon=":material/lock:",
        )
        return
    report = result["report"]
    code = report.get("municipality_code")
    if outcome == "accepted":
        st.success(
            t(
                "upload_result_accepted",
                lang,
                name=names.get(code, code),
                extract=fmt.day(date.fromisoformat(report["extract_date"]), lang),
            ),
            icon=":material/check_circle:",
        )
    elif outcome == "already_loaded":
        st.info(t("upload_result_already_loaded", lang), icon=":material/info:")
    else:
        st.error(t("upload_result_rejected", lang), icon=":material/report:")
    if report.get("counts"):
        rows = ", ".join(
            f"{table} {fmt.number(n, 0, lang)}" for table, n in report["counts"].items()
        )
        st.markdown(t("upload_rows", lang, rows=rows))
    if outcome == "accepted":
        comparison(report)
    if report["errors"]:
        st.subheader(t("upload_errors_heading", lang))
        st.dataframe(findings(report["errors"], False), hide_index=True, key="upload_errors")
        if report["error_total"] > len(report["errors"]):
            st.caption(t("report_capped", lang, total=report["error_total"]))
    if report["warnings"]:
        st.subheader(t("upload_warnings_heading", lang))
        st.dataframe(findings(report["warnings"], True), hide_index=True, key="upload_warnings")
    with st.expander(t("upload_report_text", lang)):
        st.code(report["text"], language=None)


uploaded = st.file_uploader(t("upload_file", lang), type=["zip", "xlsx"], key="upload_file")
if uploaded is not None:
    results = st.session_state.setdefault(RESULTS_KEY, {})
    if uploaded.file_id not in results:
        with st.spinner(t("upload_checking", lang)):
            results[uploaded.file_id] = handle(uploaded.name, uploaded.getvalue())
    show(results[uploaded.file_id])


def submissions_table() -> None:
    """The browser's deliveries in the scope, newest first, and where the job has got."""
    found = [
        s
        for s in intake.submissions(inbox, None if reach.all else reach.codes)
        if s.kind == intake.DELIVERY
    ][:SUBMISSIONS_SHOWN]
    if not found:
        st.info(t("submissions_none", lang), icon=":material/info:")
        return
    if any(s.state == intake.WAITING for s in found):
        running = intake.job_running(paths)
        key = "submission_running" if running else "submission_scheduled"
        if config.run_on_upload and not running:
            key = "submission_queued"
        st.caption(t(key, lang))
    st.dataframe(
        pl.DataFrame(
            {
                t("col_placed", lang): [s.placed_at.strftime("%Y-%m-%d %H:%M") for s in found],
                t("col_municipality", lang): [
                    names.get(s.municipality, s.municipality) for s in found
                ],
                t("col_file_placed", lang): [s.name for s in found],
                t("col_status", lang): [t(f"submission_{s.state}", lang) for s in found],
            }
        ),
        hide_index=True,
        key="submissions_table",
    )
    for s in [s for s in found if s.report_text][:REPORTS_SHOWN]:
        with st.expander(t("submission_report", lang, name=s.name)):
            st.code(s.report_text, language=None)


st.header(t("submissions_heading", lang))
waiting = any(
    s.state == intake.WAITING for s in intake.submissions(inbox, None if reach.all else reach.codes)
)
st.fragment(run_every=5 if waiting else None)(submissions_table)()
state.footer(ctx, lang)
