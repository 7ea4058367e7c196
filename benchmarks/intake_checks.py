"""What the intake's checks against hostile files cost on a national ingest.

The same `hgkm ingest FOLDER`, in one process, with the checks and with each replaced by the
unchecked step it guards: files read by following links and without a size bound, names not
guarded, no line, cell or read-ahead byte bounds. The two run alternately, a pair within
seconds, so each pair sees one speed of a shared machine; the cost is the median over pairs.
Rows, errors and outcomes are the same both ways (the national sample is clean).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock


@contextlib.contextmanager
def unchecked() -> Iterator[None]:
    """The ingest as it was before the checks: each check swapped for what it guards."""
    from hgkm import files
    from pipelines import load, names, read

    def read_plainly(path: Path, limit: int) -> bytes:
        return Path(path).read_bytes()

    with contextlib.ExitStack() as stack:
        for target, name, replacement in (
            (files, "read_bytes", read_plainly),
            (names, "shown", lambda name, label: name),
            (names, "issues", lambda name, label: []),
            (read, "_long_line", lambda text, limit: False),
            (read, "_within_cells", lambda delivery, limits: None),
            (load, "READ_AHEAD_BYTES", float("inf")),
            (load, "BATCH_BYTES", float("inf")),
        ):
            stack.enter_context(mock.patch.object(target, name, replacement))
        yield


def _ingest(data_dir: Path, folder: str) -> tuple[float, float]:
    """One `hgkm ingest FOLDER` into a fresh data folder: its wall seconds and the CPU seconds
    of all the process's threads (less disturbed by other work on the machine)."""
    from commands.cli import main

    shutil.rmtree(data_dir, ignore_errors=True)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        started, cpu = time.perf_counter(), time.process_time()
        code = main(["--data-dir", str(data_dir), "ingest", folder])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if code != 0:
        raise RuntimeError(f"hgkm ingest exited {code}")
    return seconds, cpu


def _percent(pairs: list[dict[str, float]], key: str) -> float:
    return statistics.median(
        100 * (p[f"with_{key}"] - p[f"without_{key}"]) / p[f"without_{key}"] for p in pairs
    )


def cost(work: str, folder: str, pairs: int) -> dict[str, Any]:
    """`pairs` pairs of ingests, unchecked then checked: the checks' cost as the median over
    pairs, in percent of the unchecked ingest, of wall time and of CPU time."""
    data_dir = Path(work)
    _ingest(data_dir, folder)  # the first run warms the page cache and the imports' caches
    measured = []
    for _ in range(pairs):
        with unchecked():
            without, without_cpu = _ingest(data_dir, folder)
        with_checks, with_cpu = _ingest(data_dir, folder)
        measured.append(
            {
                "without_seconds": without,
                "with_seconds": with_checks,
                "without_cpu": without_cpu,
                "with_cpu": with_cpu,
            }
        )
    shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "pairs": measured,
        "cost_percent": _percent(measured, "seconds"),
        "cpu_cost_percent": _percent(measured, "cpu"),
    }
