"""Logs of one JSON object per line: appended safely by many writers, read past a torn line.

Appending is one `write` of one whole line to a file opened with O_APPEND, so lines from
concurrent writers (threads, processes) never interleave. A crash during a write can leave a
torn last line: `read` skips it and reports its number, and the next `append` starts on a
fresh line so no later record is glued to it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def append(path: Path, record: dict[str, Any], *, durable: bool, mode: int = 0o644) -> str:
    """Append `record` as one line; with `durable`, fsync before returning. Returns the line."""
    line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
    data = line.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # end the torn line first
        written = os.write(fd, data)
        if written != len(data):  # a full disk: the reader skips the partial line
            raise OSError(f"{path}: wrote {written} of {len(data)} bytes")
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    if created and durable:
        # make the new file's directory entry durable too
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    return line


def read(path: Path, required: tuple[str, ...] = ()) -> tuple[list[dict[str, Any]], list[int]]:
    """Every readable record, oldest first, and the numbers of the lines that were not (torn,
    or missing one of the `required` keys). A missing file is an empty log."""
    records: list[dict[str, Any]] = []
    unreadable: list[int] = []
    if not path.exists():
        return records, unreadable
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                unreadable.append(number)
                continue
            if isinstance(record, dict) and all(key in record for key in required):
                records.append(record)
            else:
                unreadable.append(number)
    return records, unreadable
