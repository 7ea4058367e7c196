"""Structured job log: one JSON object per line in data/logs/hgkm.jsonl, optionally on stderr.

Log collectors (journald, Filebeat, Vector) read these lines; callers pass names, counts,
rules and paths only — never a value from a delivery.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hgkm import jsonlines

LOG_FILE = "hgkm.jsonl"


class JobLog:
    """Writes events of one job (tagged with its run id) to the log file and maybe stderr."""

    def __init__(self, logs_dir: Path, *, run_id: str, job: str, echo_stderr: bool = False):
        logs_dir.mkdir(parents=True, exist_ok=True)
        self.path = logs_dir / LOG_FILE
        self.run_id = run_id
        self.job = job
        self.echo_stderr = echo_stderr

    def event(self, event: str, *, level: str = "info", **fields: Any) -> dict[str, Any]:
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "job": self.job,
            "run_id": self.run_id,
            "pid": os.getpid(),
            "event": event,
            **fields,
        }
        # One write per line in append mode, so concurrent writers never interleave a line.
        line = jsonlines.append(self.path, record, durable=False)
        if self.echo_stderr:
            sys.stderr.write(line)
            sys.stderr.flush()
        return record


def read_runs(logs_dir: Path, limit: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """From the job log: the latest `limit` runs of `hgkm run` (newest first: run_id, started,
    ended, outcome and the run.end counts), the deliveries those runs filed, and how many lines
    were unreadable. Read without touching the warehouse, which a run may be writing."""
    events, unreadable = jsonlines.read(logs_dir / LOG_FILE, required=("ts", "event", "run_id"))
    runs: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.get("job") != "run":
            continue
        run = runs.setdefault(event["run_id"], {"run_id": event["run_id"], "started": None})
        if event["event"] == "run.start":
            run["started"] = event["ts"]
        elif event["event"] == "run.end":
            fields = ("ts", "level", "job", "run_id", "pid", "event")
            run.update({k: v for k, v in event.items() if k not in fields}, ended=event["ts"])
    latest = sorted(
        (r for r in runs.values() if r["started"]), key=lambda r: r["started"], reverse=True
    )[:limit]
    chosen = {r["run_id"] for r in latest}
    filed = [e for e in events if e["event"] == "delivery.filed" and e["run_id"] in chosen]
    return latest, filed, len(unreadable)
