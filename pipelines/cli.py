"""The `hgkm ingest` and `hgkm deliveries` commands."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Any

import duckdb

from hgkm import files
from hgkm.errors import UsageError
from hgkm.escape import printable
from hgkm.limits import Limits, load_limits
from hgkm.settings import Paths
from pipelines import bookkeeping, names, warehouse
from pipelines.read import find_deliveries


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="check and load deliveries (folders, .zip, .xlsx, or folders of them)",
        description="Check deliveries against the export contract and load the accepted ones. "
        "Exit 0 when all were accepted (or already loaded), 1 when any was rejected, "
        "2 for bad usage.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--json", action="store_true", help="print a JSON array of reports")
    parser.add_argument(
        "--drop-invalid-rows",
        action="store_true",
        help="load the valid rows of a delivery whose only errors are row-level",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check and compare with the current deliveries only: load nothing (the browser "
        "upload's check)",
    )
    parser.set_defaults(handler=run_ingest)

    listing = subparsers.add_parser("deliveries", help="list what was delivered and its status")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=run_deliveries)

    upgrade = subparsers.add_parser(
        "upgrade",
        help="bring a warehouse made by an older HGKM monitor up to this version",
        description="Add the columns declared since the warehouse was made and the case hashes "
        "its rows lack, in one transaction. `hgkm ingest` and `hgkm run` do it on their own; "
        "`hgkm compute`, a reader, refuses an older warehouse until then.",
    )
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace, paths: Paths) -> int:
    if not paths.warehouse.is_file():
        raise UsageError(f"no warehouse at {paths.warehouse}: nothing to upgrade")
    try:
        con = warehouse.connect(paths.warehouse, read_only=True)
    except duckdb.IOException as exc:
        raise UsageError("a run or an ingest is writing to the warehouse: try again later") from exc
    try:
        outdated = warehouse.needs_upgrade(con)
    finally:
        con.close()
    if outdated:
        warehouse.connect(paths.warehouse).close()  # upgrades, all or nothing
    print(f"the warehouse is {'upgraded' if outdated else 'up to date'}: {paths.warehouse}")
    return 0


def run_ingest(args: argparse.Namespace, paths: Paths) -> int:
    missing = [_shown(p) for p in args.paths if files.kind(p) == files.MISSING]
    if missing:
        raise UsageError(f"path not found: {', '.join(missing)}")
    limits = load_limits()
    sources: list[Path] = []
    refused = 0
    for path in args.paths:
        kind = files.kind(path)
        if kind not in (files.FILE, files.FOLDER):
            refused += _refuse(path, kind)
            continue
        found = find_deliveries(path)
        if kind == files.FOLDER and found != [path]:
            for position, child in enumerate(sorted(path.iterdir()), start=1):
                if child in found:
                    continue
                child_kind = files.kind(child)
                if child_kind in (files.FILE, files.FOLDER, files.MISSING):
                    print(f"skipped {_shown(child, position)}: not a delivery", file=sys.stderr)
                else:
                    refused += _refuse(child, child_kind, position)
        elif not found:
            print(f"skipped {_shown(path)}: not a delivery", file=sys.stderr)
        sources.extend(found)
    if not sources and not refused:
        raise UsageError("no delivery found (a folder with manifest.csv, a .zip or an .xlsx)")
    if args.dry_run:
        return _dry_run(sources, paths, limits, as_json=args.json, refused=refused)
    # Imported here: pandera (via the checks) takes seconds to import, and every other
    # `hgkm` command would pay for it at start-up otherwise.
    from pipelines.load import ingest_many

    reports = []
    try:
        con = warehouse.connect(paths.warehouse)
    except duckdb.IOException as exc:
        print(f"hgkm ingest: cannot open the warehouse ({exc.__class__.__name__})", file=sys.stderr)
        return 1
    # What exists now (the modules just imported) outlives the ingest: frozen, the garbage
    # collector stops walking it on each of its passes (measured: benchmarks/findings.md).
    gc.freeze()
    try:
        for report in ingest_many(
            con, sources, drop_invalid_rows=args.drop_invalid_rows, limits=limits
        ):
            reports.append(report)
            if not args.json:
                print(report.render_text(), end="\n\n", flush=True)
    finally:
        con.close()
        # Thawed again: frozen objects are never freed, and DuckDB's bindings report what is
        # not freed at exit as leaked (on stderr).
        gc.unfreeze()
    statuses = [r.status for r in reports]
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        print(
            f"{statuses.count('accepted')} accepted, {statuses.count('rejected')} rejected, "
            f"{statuses.count('already_loaded')} already loaded"
            + (f", {refused} refused (not read)" if refused else "")
        )
    return 1 if "rejected" in statuses or refused else 0


def _refuse(path: Path, kind: str, position: int | None = None) -> int:
    """Say on stderr that a path is refused unread (a link, pipe, device or socket); 1."""
    print(f"refused {_shown(path, position)}: {files.refusal(kind)}", file=sys.stderr)
    return 1


def _shown(path: Path, position: int | None = None) -> str:
    """A path as printed: its last name guarded ("entry 3" of its folder, or "a path given",
    when the name fails), controls escaped."""
    tag = "a path given" if position is None else f"entry {position}"
    return printable(str(path.parent / names.shown(path.name, tag)))


def _dry_run(
    sources: list[Path], paths: Paths, limits: Limits, *, as_json: bool, refused: int
) -> int:
    """Each delivery's report as `ingest` would give it, nothing loaded; exit as `ingest`."""
    from pipelines.load import preview

    previews = [preview(paths, source, limits=limits) for source in sources]
    if as_json:
        print(json.dumps([p.to_dict() for p in previews], indent=2, default=str))
    else:
        for checked in previews:
            print(checked.render_text(), end="\n\n")
    return 1 if refused or any(p.report.status == "rejected" for p in previews) else 0


def run_deliveries(args: argparse.Namespace, paths: Paths) -> int:
    if not paths.warehouse.exists():
        rows: list[dict[str, Any]] = []
    else:
        con = warehouse.connect(paths.warehouse, read_only=True)
        try:
            rows = bookkeeping.delivery_log(con).to_dicts()
        finally:
            con.close()
    for row in rows:
        for key in ("rows_loaded", "rows_dropped", "warnings", "errors", "error_counts", "formats"):
            row[key] = json.loads(row[key]) if row[key] else None
    if args.json:
        print(json.dumps(rows, indent=2, default=_iso))
        return 0
    if not rows:
        print("no deliveries yet")
        return 0
    header = (
        "id",
        "municipality",
        "extract",
        "received",
        "status",
        "current",
        "cases",
        "warnings",
        "errors",
        "hash",
    )
    table = [
        (
            str(r["delivery_id"]),
            r["municipality_code"] or "?",
            str(r["extract_date"] or "?"),
            str(r["received_at"]),
            r["status"],
            "yes" if r["current"] else "",
            str((r["rows_loaded"] or {}).get("cases", "")),
            str(len(r["warnings"] or [])),
            str(r["error_count"]),
            r["content_hash"][:12],
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (header, *table)) for i in range(len(header))]
    for line in (header, *table):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    return 0


def _iso(value: Any) -> str:
    """Dates and timestamps as ISO 8601, like the ingest report's JSON."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
