"""Structured job log: one JSON object per line in data/logs/hgkm.jsonl, optionally on stderr.

Log collectors (journald, Filebeat, Vector) read these lines; callers pass names, counts,
rules and paths only — never a value from a delivery.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
        line = json.dumps(record, default=str, ensure_ascii=False) + "\n"
        # One write per line in append mode, so concurrent writers never interleave a line.
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
        if self.echo_stderr:
            sys.stderr.write(line)
            sys.stderr.flush()
        return record
