"""The `hgkm approach import` and `hgkm approach list` commands."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

import duckdb

from hgkm import audit, files
from hgkm.errors import UsageError
from hgkm.escape import printable
from hgkm.limits import Limits, described, load_limits
from hgkm.reference import municipality_codes
from hgkm.settings import Paths
from pipelines import names, warehouse

SUFFIXES = (".csv", ".xlsx")
DRY_RUN_WAIT_SECONDS = 5.0  # how long a check waits for a run of the job to free the warehouse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "approach",
        help="import and list local approach profiles (which elements, since when)",
        description="Approach profiles: how each municipality organises its local approach.",
    )
    sub = parser.add_subparsers(dest="approach_command", metavar="SUBCOMMAND", required=True)
    importing = sub.add_parser(
        "import",
        help="check a profile file (CSV or .xlsx) and store it",
        description="Check a profile file against the contract and store it; it replaces the "
        "profile of every municipality it names (older imports are kept). Exit 0 when "
        "accepted (or already loaded), 1 when rejected, 2 for bad usage.",
    )
    importing.add_argument("file", type=Path, metavar="FILE")
    importing.add_argument("--json", action="store_true", help="print the report as JSON")
    importing.add_argument(
        "--dry-run",
        action="store_true",
        help="check and compare with the current profiles only: store nothing (the browser "
        "editor's check)",
    )
    importing.set_defaults(handler=run_import)
    listing = sub.add_parser("list", help="show the current profiles")
    listing.add_argument(
        "--municipality",
        action="append",
        metavar="GM…",
        help="only this municipality (repeatable, or comma-separated)",
    )
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=run_list)


def run_import(args: argparse.Namespace, paths: Paths) -> int:
    source: Path = args.file
    shown = printable(str(source.parent / names.shown(source.name, "the file given")))
    kind = files.kind(source)
    if kind == files.MISSING:
        raise UsageError(f"file not found: {shown}")
    if kind != files.FILE:
        print(f"hgkm approach import: refused {shown}: {files.refusal(kind)}", file=sys.stderr)
        return 1
    if source.suffix.lower() not in SUFFIXES:
        raise UsageError(f"expected a .csv or .xlsx file, got {shown}")
    limits = load_limits()
    # Imported here: pandera takes seconds to import; other commands should not pay for it.
    from pipelines.approach import import_profiles

    try:
        if args.dry_run:
            report = _checked(paths, source, limits)
        else:
            try:
                con = warehouse.connect(paths.warehouse)
            except duckdb.IOException as exc:
                print(
                    f"hgkm approach: cannot open the warehouse ({exc.__class__.__name__})",
                    file=sys.stderr,
                )
                return 1
            try:
                report = import_profiles(con, source, limits=limits)
            finally:
                con.close()
    except files.Refused as exc:
        why = (
            files.refusal(exc.kind)
            if exc.size is None
            else (
                f"{exc.size:,} bytes, more than {described(limits, 'file_bytes')}: check the file"
            )
        )
        print(f"hgkm approach import: refused {shown}: {why}", file=sys.stderr)
        return 1
    if report.status == "accepted" and not args.dry_run:
        # Who changed which profile, and how: the audit log's record of a profile edit.
        audit.record(
            paths.audit_log,
            user=getpass.getuser(),
            role="shell",
            action="profile_edit",
            what={"file": report.name, "changes": report.changes},
            concerns=report.municipalities,
        )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.render_text())
    return 1 if report.status == "rejected" else 0


def _checked(paths: Paths, source: Path, limits: Limits) -> Any:
    """The import's report, nothing stored: compared with the current profiles when the
    warehouse can be read for a moment (not while a run of the job holds it)."""
    from pipelines.approach import import_profiles

    try:
        with warehouse.read_briefly(paths, DRY_RUN_WAIT_SECONDS) as con:
            return import_profiles(con, source, limits=limits, dry_run=True)
    except warehouse.Busy:
        return import_profiles(None, source, limits=limits, dry_run=True)


def run_list(args: argparse.Namespace, paths: Paths) -> int:
    wanted = sorted(
        {c.strip().upper() for arg in args.municipality or [] for c in arg.split(",") if c.strip()}
    )
    unknown = sorted(set(wanted) - municipality_codes())
    if unknown:
        raise UsageError(f"unknown municipality code(s): {', '.join(unknown)}")
    from pipelines.approach import current_profiles

    if paths.warehouse.exists():
        con = warehouse.connect(paths.warehouse, read_only=True)
        try:
            profiles = current_profiles(con, wanted or None)
        finally:
            con.close()
    else:
        profiles = current_profiles(duckdb.connect(), wanted or None)
    rows = profiles.to_dicts()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print("no approach profiles yet" if not wanted else "no profile for these municipalities")
        return 0
    header = ("municipality", "element", "from", "until", "import", "note")
    table = [
        (
            r["municipality_code"],
            r["element"],
            str(r["in_place_from"]),
            str(r["in_place_until"] or ""),
            str(r["import_id"]),
            printable(r["note"] or ""),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (header, *table)) for i in range(len(header))]
    for line in (header, *table):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    return 0
