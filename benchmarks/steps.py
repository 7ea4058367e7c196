"""The measured steps, each run in its own subprocess by `benchmarks.measure`.

A step takes JSON-able arguments (paths as strings) and returns JSON-able facts about what it
did (rows loaded, deliveries accepted), so the report can show that every variant did the
same work. Imports of the project's layers happen inside the steps: a step pays only for
what it uses, and its import time stays out of its measured wall time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

TABLES = ("cases", "reports", "children", "help", "followups")
# What `hgkm` imports before it runs a command, plus the ingest it imports on demand.
CLI_MODULES = (
    "commands.cli",
    "pipelines.cli",
    "pipelines.approach_cli",
    "generator.cli",
    "metrics.cli",
    "dashboard.cli",
    "commands.run",
    "pipelines.load",
    "metrics.federation_cli",
)


def _deliveries(folder: str) -> list[Path]:
    from pipelines.read import find_deliveries

    return find_deliveries(Path(folder))


def _warehouse_rows(data_dir: str) -> dict[str, int]:
    import duckdb

    from hgkm.settings import resolve_paths

    con = duckdb.connect(str(resolve_paths(data_dir).warehouse), read_only=True)
    try:
        return {t: con.sql(f"select count(*) from {t}").fetchall()[0][0] for t in TABLES}
    finally:
        con.close()


def ingest_folder(data_dir: str, folder: str) -> dict[str, Any]:
    """`hgkm ingest FOLDER` as a user runs it (reports printed, here to /dev/null)."""
    import contextlib
    import os

    import duckdb

    from commands.cli import main
    from hgkm.settings import resolve_paths

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        code = main(["--data-dir", data_dir, "ingest", folder])
    # Counting after the command is part of the step's time, but a small part.
    con = duckdb.connect(str(resolve_paths(data_dir).warehouse), read_only=True)
    try:
        statuses = dict(con.sql("select status, count(*) from deliveries group by 1").fetchall())
    finally:
        con.close()
    return {"exit_code": code, "statuses": statuses, "rows": _warehouse_rows(data_dir)}


def intake_checks(work: str, folder: str, pairs: int) -> dict[str, Any]:
    from benchmarks import intake_checks as checks

    return checks.cost(work, folder, pairs)


def floor(database: str, folder: str) -> dict[str, Any]:
    from benchmarks import floor as bare

    return {"rows": bare.load_all(Path(database), _deliveries(folder))}


def floor_per_delivery(database: str, folder: str) -> dict[str, Any]:
    from benchmarks import floor as bare

    return {"rows": bare.load_per_delivery(Path(database), _deliveries(folder))}


def pandas_baseline(database: str, folder: str) -> dict[str, Any]:
    from benchmarks import pandas_baseline as baseline

    totals = baseline.check_and_load(Path(database), _deliveries(folder))
    return {
        "rows": {t: totals[t] for t in TABLES},
        "errors": totals["errors"],
        "warnings": totals["warnings"],
        "rejected": totals["rejected"],
    }


def compute(data_dir: str) -> dict[str, Any]:
    """`hgkm compute`, with the time spent in disclosure control (secondary suppression and
    the audit, `metrics.disclosure.protect_population`) clocked as it runs."""
    import time

    from hgkm.settings import resolve_paths
    from metrics import indicators
    from metrics.publish import compute as publish

    protect = indicators.disclosure.protect_population
    spent = [0.0]

    def clocked(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return protect(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    indicators.disclosure.protect_population = clocked  # type: ignore[assignment]
    try:
        summary = publish(resolve_paths(data_dir))
    finally:
        indicators.disclosure.protect_population = protect  # type: ignore[assignment]
    return {
        "figures": summary.n_rows,
        "suppressed": summary.n_suppressed,
        "delivered": summary.n_delivered,
        "mart_mb": summary.mart.stat().st_size / 1024**2,
        "disclosure_seconds": spent[0],
    }


def share_export(data_dir: str, out: str) -> dict[str, Any]:
    """`hgkm share export --out FILE` as a region runs it (its report to /dev/null)."""
    import contextlib
    import os

    import polars as pl

    from commands.cli import main

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        code = main(["--data-dir", data_dir, "share", "export", "--out", out])
    meta = pl.read_parquet_metadata(out)
    return {
        "exit_code": code,
        "bytes": Path(out).stat().st_size,
        "rows": int(meta["hgkm.rows"]),
        "municipalities": len(meta["hgkm.municipalities"].split(",")),
    }


def share_import(data_dir: str, files: list[str]) -> dict[str, Any]:
    """`hgkm share import FILE...` at a hub, every package checked and stored."""
    import contextlib
    import os

    from commands.cli import main
    from hgkm.settings import resolve_paths

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        code = main(["--data-dir", data_dir, "share", "import", *files])
    stored = list(resolve_paths(data_dir).packages.glob("*.parquet"))
    return {"exit_code": code, "stored": len(stored)}


def dashboard(mart: str, interactions: int, cold: bool) -> dict[str, Any]:
    import logging

    # Streamlit warns once per cached function when called outside `streamlit run`.
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from benchmarks import dashboard_queries

    return dashboard_queries.run(Path(mart), interactions, cold)


# Per step: the modules it needs, imported before its clock starts, and the step itself.
STEPS: dict[str, tuple[tuple[str, ...], Callable[..., dict[str, Any]]]] = {
    "ingest_folder": (CLI_MODULES, ingest_folder),
    "intake_checks": ((*CLI_MODULES, "benchmarks.intake_checks"), intake_checks),
    "floor": (("benchmarks.floor", "pipelines.read"), floor),
    "floor_per_delivery": (("benchmarks.floor", "pipelines.read"), floor_per_delivery),
    "pandas_baseline": (("benchmarks.pandas_baseline", "pipelines.read"), pandas_baseline),
    "compute": (("metrics.publish",), compute),
    "share_export": (CLI_MODULES, share_export),
    "share_import": (CLI_MODULES, share_import),
    "dashboard": (("benchmarks.dashboard_queries",), dashboard),
}
