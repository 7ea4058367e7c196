"""What needs attention: the last runs, rejected or stale municipalities, a mart behind.

Reads the warehouse and the mart read-only; prints counts, rules and dates, never case data.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from commands import runlog
from hgkm import release
from hgkm.escape import printable
from hgkm.lock import is_held
from hgkm.reference import municipalities
from hgkm.settings import Paths
from pipelines import bookkeeping


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {t for (t,) in con.sql("select table_name from information_schema.tables").fetchall()}


# The approach periods with their notes, as the warehouse holds the current ones and as a mart
# published them (notes apart, non-empty ones only): a profile imported since a mart was built
# makes it behind, as a delivery does.
WAREHOUSE_PROFILES_SQL = """
select municipality_code, element, in_place_from, in_place_until,
       case when trim(coalesce(note, '')) <> '' then note end as note
from current_approach
"""
MART_PROFILES_SQL = """
select p.municipality_code, p.element, p.in_place_from, p.in_place_until, n.note
from approach_profiles p
left join approach_notes n using (municipality_code, element, in_place_from)
"""


def _basis(path: Path) -> dict[str, Any]:
    """What a mart was built from: its deliveries' content hashes and approach periods, and
    when it was published (None for what the mart does not record)."""
    basis: dict[str, Any] = {"deliveries": None, "profiles": None, "published_at": None}
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = _tables(con)
        if "publication_deliveries" in tables:
            rows = con.sql("select content_hash from publication_deliveries").fetchall()
            basis["deliveries"] = {h for (h,) in rows}
        if "publication" in tables:
            (stamp,) = con.sql("select max(published_at) from publication").fetchall()[0]
            basis["published_at"] = stamp
        if {"approach_profiles", "approach_notes"} <= tables:
            basis["profiles"] = set(con.sql(MART_PROFILES_SQL).fetchall())
    finally:
        con.close()
    return basis


def mart_state(paths: Paths) -> dict[str, Any]:
    """The warehouse's current deliveries (and approach profiles) against the ones the mart
    built last was built from — the published one, or a newer one staged or rejected in
    review (hgkm.release) — and what is published."""
    state: dict[str, Any] = {
        "mart_exists": paths.mart.exists(),
        "current": set(),
        "published": None,
        "published_at": None,
        "last_accepted_at": None,
        "staged": None,
    }
    profiles: set[tuple[Any, ...]] | None = None
    if paths.warehouse.exists():
        con = duckdb.connect(str(paths.warehouse), read_only=True)
        try:
            if bookkeeping.has_deliveries(con):
                state["current"] = bookkeeping.current_content(con)
                state["last_accepted_at"] = bookkeeping.last_accepted_at(con)
            if "current_approach" in _tables(con):
                profiles = set(con.sql(WAREHOUSE_PROFILES_SQL).fetchall())
        finally:
            con.close()
    if state["mart_exists"]:
        published = _basis(paths.mart)
        state["published"], state["published_at"] = (
            published["deliveries"],
            published["published_at"],
        )
    pending = release.staged(paths)
    if pending is not None:
        state["staged"] = {"build": pending.build.id, "built_at": pending.build.built_at}
    built = release.latest_build(paths)
    basis = _basis(built) if built is not None else {"deliveries": None, "profiles": None}
    # Behind: the mart built last was not built from exactly the current deliveries (a run was
    # killed between loading and publishing, or a delivery was ingested by hand since), or
    # not from the current approach profiles.
    state["behind"] = bool(state["current"]) and (
        basis["deliveries"] != state["current"]
        or (
            profiles is not None and basis["profiles"] is not None and basis["profiles"] != profiles
        )
    )
    return state


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts() if frame.height else []


def collect(paths: Paths, *, staleness_days: int, runs: int, today: date) -> dict[str, Any]:
    """Everything `hgkm status` shows, as plain data (also its --json output)."""
    held, holder = is_held(paths.lock)
    report: dict[str, Any] = {
        "data_dir": str(paths.data_dir),
        "running": held,
        "running_since": holder.started_at if holder else None,
        "running_pid": holder.pid if holder else None,
        "runs": [],
        "municipalities": [],
        "unknown_municipality_rejections": [],
        "mart": None,
        "warehouse_busy": False,
        "staleness_days": staleness_days,
    }
    report["runs"] = _records(runlog.last_runs(paths.logs, runs))
    if not paths.warehouse.exists():
        return report
    try:
        con = duckdb.connect(str(paths.warehouse), read_only=True)
    except duckdb.IOException:
        # A run or an ingest is writing to it right now; DuckDB allows one writer, no readers.
        report["warehouse_busy"] = True
        return report
    try:
        if bookkeeping.has_deliveries(con):
            attention = bookkeeping.needing_attention(con, today, staleness_days)
            names = municipalities().select("municipality_code", "municipality_name")
            report["municipalities"] = _records(
                attention.join(names, on="municipality_code", how="left")
            )
            since = datetime.combine(today, datetime.min.time()) - timedelta(days=staleness_days)
            report["unknown_municipality_rejections"] = _records(
                bookkeeping.unknown_municipality_rejections(con, since)
            )
    finally:
        con.close()
    mart = mart_state(paths)
    mart["older_than_last_accepted"] = bool(
        mart["last_accepted_at"]
        and (mart["published_at"] is None or mart["published_at"] < mart["last_accepted_at"])
    )
    mart["current_deliveries"] = len(mart.pop("current"))
    published = mart.pop("published")
    mart["published_deliveries"] = None if published is None else len(published)
    report["mart"] = mart
    return report


def needs_attention(report: dict[str, Any]) -> bool:
    last_run = report["runs"][0] if report["runs"] else None
    return bool(
        report["municipalities"]
        or report["unknown_municipality_rejections"]
        or (last_run and last_run["outcome"] in {"failed", "interrupted", "attention"})
        or (report["mart"] and (report["mart"]["behind"] or report["mart"]["staged"]))
    )


def render(report: dict[str, Any]) -> str:
    """The status as text for a terminal or an e-mail from cron."""
    lines = [f"HGKM status — data folder {report['data_dir']}"]
    if report["running"]:
        lines.append(
            f"A run is in progress (pid {report['running_pid']}, since {report['running_since']})."
        )
    if report["warehouse_busy"]:
        lines.append("The warehouse is being written to right now; try again in a moment.")
        return "\n".join(lines)
    lines.append("")
    lines.append("Last runs:")
    if not report["runs"]:
        lines.append("  none recorded yet")
    for run in report["runs"]:
        ended = f"{run['ended_at']:%Y-%m-%d %H:%M:%S}" if run["ended_at"] else "—"
        lines.append(
            f"  {run['started_at']:%Y-%m-%d %H:%M:%S} → {ended}  {run['outcome']:<11} "
            f"exit {'—' if run['exit_code'] is None else run['exit_code']}  "
            f"seen {run['seen']}: {run['accepted']} accepted, {run['rejected']} rejected, "
            f"{run['already_loaded']} already loaded"
            + (f", {run['skipped']} skipped" if run["skipped"] else "")
            + (f", {run['unreadable']} unreadable" if run["unreadable"] else "")
            + (f", {run['unrecognised']} unrecognised" if run["unrecognised"] else "")
            + ("; mart published" if run["mart_published"] else "")
            + (f"; {run['error']}" if run["error"] else "")
        )
    lines.append("")
    rejected = [m for m in report["municipalities"] if m["last_rejected"]]
    stale = [m for m in report["municipalities"] if m["stale"] and not m["last_rejected"]]
    lines.append(f"Last delivery rejected ({len(rejected)}):")
    for m in rejected:
        rules = ", ".join(m["last_error_rules"] or [])
        lines.append(
            f"  {m['municipality_code']} {m['municipality_name'] or ''}: "
            f"{printable(m['last_source_name'])} "
            f"received {m['last_received_at']:%Y-%m-%d}, {m['last_error_count']} error(s) [{rules}]"
            + (
                f"; current data from {m['current_extract_date']}"
                if m["current_extract_date"]
                else "; no accepted delivery"
            )
        )
    lines.append(f"Stale data (extract older than {report['staleness_days']} days) ({len(stale)}):")
    for m in stale:
        lines.append(
            f"  {m['municipality_code']} {m['municipality_name'] or ''}: extract "
            f"{m['current_extract_date']}, {m['days_since_extract']} days old"
        )
    if report["unknown_municipality_rejections"]:
        lines.append("Rejected deliveries whose municipality could not be read:")
        for d in report["unknown_municipality_rejections"]:
            lines.append(
                f"  {printable(d['source_name'])} received {d['received_at']:%Y-%m-%d %H:%M}, "
                f"{d['error_count']} error(s) [{', '.join(d['error_rules'] or [])}]"
            )
    mart = report["mart"]
    lines.append("")
    if not mart or not mart["mart_exists"]:
        lines.append("Mart: not published yet.")
    else:
        lines.append(
            f"Mart: published {mart['published_at'] or 'at an unknown time'}, built from "
            f"{mart['published_deliveries']} deliveries; the warehouse has "
            f"{mart['current_deliveries']} current."
        )
        if mart["behind"]:
            lines.append(
                "  BEHIND: the mart was not built from the current deliveries and approach "
                "profiles; "
                "the next `hgkm run` (or `hgkm compute`) publishes them."
            )
        if mart["staged"]:
            lines.append(
                f"  STAGED: a new mart built {mart['staged']['built_at']} awaits review "
                f"(build {mart['staged']['build']}): `hgkm publish` shows what it changes."
            )
        if mart["older_than_last_accepted"]:
            lines.append(
                f"  The mart is older than the last accepted delivery ({mart['last_accepted_at']})."
            )
    return "\n".join(lines)


def json_ready(value: Any) -> Any:
    """Dates and times as ISO text for `--json`."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_ready(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value
