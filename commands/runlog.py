"""The run log: one line per step of a scheduled run in data/logs/runs.jsonl, for `hgkm status`.

Beside the job log and the audit log, not in the warehouse: it records the job, not the cases,
and is written without opening the database a run may be loading into. Each run appends a
`start` line and, when it ends, an `end` line with its outcome and counts (hgkm.jsonlines: one
whole line per write, fsynced, a torn last line skipped by readers). A run still `running`
when a later run starts was killed: the later run appends an `interrupted` line for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from hgkm import jsonlines

LOG_FILE = "runs.jsonl"
FILE_MODE = 0o640  # the service user writes, its group (operators) may read
COUNTS = (
    "seen",
    "accepted",
    "rejected",
    "already_loaded",
    "skipped",
    "unreadable",
    "unrecognised",
    "failed",
)
# One row per run, as `last_runs` returns it; outcome: running | ok | attention | failed |
# interrupted; started_at and ended_at in the host's local time; error never a delivery's value.
COLUMNS: dict[str, Any] = {
    "run_id": pl.String,
    "started_at": pl.Datetime("us"),
    "ended_at": pl.Datetime("us"),
    "outcome": pl.String,
    "exit_code": pl.Int32,
    "host": pl.String,
    "pid": pl.Int32,
    "inbox": pl.String,
    **dict.fromkeys(COUNTS, pl.Int32),
    "mart_published": pl.Boolean,
    "error": pl.String,
}


def _append(logs_dir: Path, record: dict[str, Any]) -> None:
    logs_dir.mkdir(parents=True, exist_ok=True)
    jsonlines.append(logs_dir / LOG_FILE, record, durable=True, mode=FILE_MODE)


def _runs(logs_dir: Path) -> dict[str, dict[str, Any]]:
    """Each run's row, folded from its lines in the order they were written."""
    lines, _torn = jsonlines.read(logs_dir / LOG_FILE, required=("run_id", "step"))
    runs: dict[str, dict[str, Any]] = {}
    for line in lines:
        step = line.pop("step")
        if step == "start":
            runs[line["run_id"]] = {
                **dict.fromkeys(COUNTS, 0),
                **line,
                "outcome": "running",
                "mart_published": False,
            }
        elif line["run_id"] in runs and step in ("end", "interrupted"):
            runs[line["run_id"]].update(line)
    return runs


def start(logs_dir: Path, *, run_id: str, host: str, pid: int, inbox: Path) -> int:
    """Record a new run; returns how many earlier runs were found interrupted (and marks them)."""
    interrupted = [r for r, run in _runs(logs_dir).items() if run["outcome"] == "running"]
    for earlier in interrupted:
        _append(logs_dir, {"run_id": earlier, "step": "interrupted", "outcome": "interrupted"})
    _append(
        logs_dir,
        {
            "run_id": run_id,
            "step": "start",
            "started_at": datetime.now().isoformat(),
            "host": host,
            "pid": pid,
            "inbox": str(inbox),
        },
    )
    return len(interrupted)


def finish(
    logs_dir: Path,
    *,
    run_id: str,
    outcome: str,
    exit_code: int,
    counts: Mapping[str, int],
    mart_published: bool,
    error: str | None,
) -> None:
    unknown = set(counts) - set(COUNTS)
    if unknown:
        raise ValueError(f"unknown run counts: {sorted(unknown)}")
    _append(
        logs_dir,
        {
            "run_id": run_id,
            "step": "end",
            "ended_at": datetime.now().isoformat(),
            "outcome": outcome,
            "exit_code": exit_code,
            **{name: counts.get(name, 0) for name in COUNTS},
            "mart_published": mart_published,
            "error": error,
        },
    )


def last_runs(logs_dir: Path, limit: int) -> pl.DataFrame:
    """The latest runs, newest first (empty when no run was ever recorded)."""
    runs = sorted(_runs(logs_dir).values(), key=lambda run: run["started_at"], reverse=True)
    rows = [
        {
            **{name: run.get(name) for name in COLUMNS},
            "started_at": datetime.fromisoformat(run["started_at"]),
            "ended_at": datetime.fromisoformat(run["ended_at"]) if run.get("ended_at") else None,
        }
        for run in runs[: max(int(limit), 0)]
    ]
    return pl.DataFrame(rows, schema=COLUMNS)
