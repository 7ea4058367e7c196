"""The logs behind the analysts' pages, filtered by scope here and never in a page: the audit
log and the scheduled job's runs, both JSON lines in data/logs/ (never the warehouse, which a
run may be writing: DuckDB lets no reader in then, and a reader would keep a run out).

Each query is cached by the file's identity and the scope (an argument, so part of the key):
an answer for one scope is never served to another.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
import streamlit as st

from hgkm import audit, joblog
from hgkm.access import Scope
from hgkm.lock import Holder, recorded_holder
from hgkm.settings import resolve_paths

TTL_SECONDS = 60
RUNS_SHOWN = 10


def _identity(path: Path) -> tuple[str, int, int]:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return (str(path), 0, 0)
    return (str(path), stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class AuditView:
    lines: pl.DataFrame  # ts, user, role, action, what (JSON text), concerns (comma-separated)
    unreadable: list[int]


def audit_lines(
    scope: Scope, since: datetime | None = None, user: str | None = None, action: str | None = None
) -> AuditView:
    """The audit lines the scope may read (those concerning its municipalities), newest first."""
    return _audit_lines(_identity(resolve_paths().audit_log), scope, since, user, action)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _audit_lines(
    identity: tuple[str, int, int],
    scope: Scope,
    since: datetime | None,
    user: str | None,
    action: str | None,
) -> AuditView:
    log = audit.read(Path(identity[0]))
    reach = scope.reach("audit")
    events = [
        e
        for e in audit.select(log.events, since=since, user=user, action=action)
        if audit.visible(e, reach.all, reach.codes)
    ]
    lines = pl.DataFrame(
        {
            "ts": [str(e["ts"]) for e in events],
            "user": [str(e["user"]) for e in events],
            "role": [str(e["role"]) for e in events],
            "action": [str(e["action"]) for e in events],
            "what": [
                ", ".join(f"{k}={v}" for k, v in (e.get("what") or {}).items()) for e in events
            ],
            "concerns": [", ".join(e.get("concerns") or ()) for e in events],
        },
        schema={c: pl.String for c in ("ts", "user", "role", "action", "what", "concerns")},
    ).reverse()
    return AuditView(lines, log.unreadable)


@dataclass(frozen=True)
class RunsView:
    holder: Holder | None  # who the lock names: a run now, or one that died holding it
    runs: pl.DataFrame  # the latest runs, newest first
    filed: pl.DataFrame  # the deliveries those runs filed, of the scope's municipalities
    unreadable: int


def runs(scope: Scope) -> RunsView:
    """The job's latest runs (counts only, for every scope that may open the page) and the
    deliveries they filed where the scope's reach of reasons extends."""
    paths = resolve_paths()
    view = _runs(_identity(paths.logs / joblog.LOG_FILE), scope)
    return RunsView(recorded_holder(paths.lock), view[0], view[1], view[2])


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _runs(identity: tuple[str, int, int], scope: Scope) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    latest, filed, unreadable = joblog.read_runs(Path(identity[0]).parent, RUNS_SHOWN)
    reach = scope.reach("reasons")
    counts = ("seen", "accepted", "rejected", "already_loaded", "unreadable", "unrecognised")
    run_frame = pl.DataFrame(
        {
            "started": [r["started"] for r in latest],
            "ended": [r.get("ended") for r in latest],
            "outcome": [r.get("outcome") for r in latest],
            **{name: [r.get(name) for r in latest] for name in counts},
            "mart_published": [r.get("mart_published") for r in latest],
            "error": [r.get("error") for r in latest],
        },
        schema={
            "started": pl.String,
            "ended": pl.String,
            "outcome": pl.String,
            **{name: pl.Int64 for name in counts},
            "mart_published": pl.Boolean,
            "error": pl.String,
        },
    )
    mine = [e for e in filed if reach.covers(e.get("municipality_code"))]
    filed_frame = pl.DataFrame(
        {
            "ts": [e["ts"] for e in mine],
            "municipality_code": [e.get("municipality_code") for e in mine],
            "file": [Path(str(e.get("path", ""))).name for e in mine],
            "status": [e.get("status") for e in mine],
            "error_total": [e.get("error_total") for e in mine],
            "rules": [", ".join(sorted(e.get("error_counts") or {})) for e in mine],
        },
        schema={
            "ts": pl.String,
            "municipality_code": pl.String,
            "file": pl.String,
            "status": pl.String,
            "error_total": pl.Int64,
            "rules": pl.String,
        },
    ).reverse()
    return run_frame, filed_frame, unreadable


def profile_edits(scope: Scope, municipality: str) -> pl.DataFrame:
    """The recorded edits of one municipality's approach profile (in the browser or with
    `hgkm approach import`), newest first: when, who, the file, what changed; nothing unless
    the scope may see the municipality's notes."""
    return _profile_edits(_identity(resolve_paths().audit_log), scope, municipality)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _profile_edits(identity: tuple[str, int, int], scope: Scope, municipality: str) -> pl.DataFrame:
    schema = {c: pl.String for c in ("ts", "user", "role", "file", "changes")}
    if not scope.reach("notes").covers(municipality):
        return pl.DataFrame(schema=schema)
    events = [
        e
        for e in audit.read(Path(identity[0])).events
        if e["action"] == "profile_edit" and municipality in (e.get("concerns") or ())
    ]
    whats = [e.get("what") or {} for e in events]
    return pl.DataFrame(
        {
            "ts": [str(e["ts"]) for e in events],
            "user": [str(e["user"]) for e in events],
            "role": [str(e["role"]) for e in events],
            "file": [str(w.get("file", "")) for w in whats],
            "changes": ["; ".join((w.get("changes") or {}).get(municipality) or []) for w in whats],
        },
        schema=schema,
    ).reverse()
