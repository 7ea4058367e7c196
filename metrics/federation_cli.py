"""The `hgkm share` commands: a region's aggregate package out, a hub's packages in."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path

import polars as pl

from hgkm.cli import UsageError
from hgkm.settings import Paths
from metrics import package
from metrics.counts import WarehouseCounts
from metrics.publish import WarehouseUnavailable, code_version, open_warehouse


def register(subparsers: argparse._SubParsersAction) -> None:
    share = subparsers.add_parser(
        "share",
        help="aggregate packages: export a region's counts, import them at a hub",
        description="Aggregate packages carry a region's unsuppressed counts per municipality "
        "to a hub, which publishes the country from them (docs/federation.md). A package is "
        "sensitive: send it only to the hub under the data-sharing agreement.",
    )
    sub = share.add_subparsers(dest="share_command", metavar="SUBCOMMAND", required=True)
    exporting = sub.add_parser(
        "export",
        help="write this warehouse's current counts as an aggregate package (sensitive)",
        description="Write the current deliveries' counts per municipality, before "
        "suppression, into one Parquet file for the hub. No case row, identifier or date of "
        "a case leaves; the counts are unsuppressed, so the file is sensitive.",
    )
    exporting.add_argument("--out", required=True, type=Path, metavar="FILE.parquet")
    exporting.add_argument(
        "--producer",
        help="who made the package (default: the Veilig Thuis regions of its municipalities)",
    )
    exporting.set_defaults(handler=run_export)
    importing = sub.add_parser(
        "import",
        help="check aggregate packages and store them for `hgkm compute` (at a hub)",
        description="Check each package (format, contract and catalogue versions, content "
        "hash, its rows) and store it; `hgkm compute` then publishes from the packages (and "
        "any deliveries). A package that fails a check is rejected whole; one package's "
        "rejection never stops another's. Exit 0 when all were imported (or already were), "
        "1 when any was rejected.",
    )
    importing.add_argument("files", nargs="+", type=Path, metavar="FILE")
    importing.set_defaults(handler=run_import)


def run_export(args: argparse.Namespace, paths: Paths) -> int:
    out: Path = args.out
    if out.suffix.lower() != ".parquet":
        raise UsageError(f"--out must end in .parquet: {out}")
    try:
        with open_warehouse(paths.warehouse) as con:
            frame = package.package_frame(WarehouseCounts(con))
    except WarehouseUnavailable as exc:
        raise UsageError(str(exc)) from exc
    delivered = frame.filter((pl.col("part") == "deliveries") & pl.col("current"))
    if delivered.is_empty():
        print("hgkm share export: no current delivery in the warehouse: nothing to export")
        return 1
    producer = args.producer or package.default_producer(frame)
    created_at = datetime.now().replace(microsecond=0)
    meta = package.metadata(frame, producer, created_at, code_version())
    package.write_package(frame, out, meta)
    codes = delivered["municipality_code"].sort().to_list()
    print(
        f"wrote {out}: aggregate package of {producer}, {len(codes)} municipalities "
        f"({', '.join(codes)}), {frame.height} rows, {out.stat().st_size / 1024:.0f} KB, "
        f"content sha256 {meta['hgkm.content_sha256'][:16]}…\n{package.SENSITIVITY}"
    )
    return 0


def run_import(args: argparse.Namespace, paths: Paths) -> int:
    rejected = 0
    imported = 0
    for path in args.files:
        lines, ok, new = import_one(path, paths)
        print("\n".join(lines) + "\n")
        rejected += not ok
        imported += new
    if imported:
        print(f"{imported} package(s) imported: run `hgkm compute` to publish from them")
    return 1 if rejected else 0


def import_one(path: Path, paths: Paths) -> tuple[list[str], bool, bool]:
    """Check and store one package: its report's lines, whether it passed, whether it is new.
    Nothing is stored unless every check passed."""
    if not path.is_file():
        return (
            [f"{path}: REJECTED", "  - file not found — give the path of a package"],
            False,
            False,
        )
    try:
        found = package.read_package(path)
    except package.PackageRejected as exc:
        lines = [f"{path.name}: REJECTED", f"  errors ({len(exc.problems)}):"]
        lines += [f"    - {p.what} — {p.fix}" for p in exc.problems]
        lines.append("  nothing was imported from this file")
        return lines, False, False
    about = (
        f"{found.producer}, created {found.created_at.isoformat()}, "
        f"{len(found.extracts())} municipalities"
    )
    already = package.find_stored(paths.packages, found.content_sha256)
    if already is not None:
        return (
            [f"{path.name}: ALREADY IMPORTED (no change) — {about}, as {already.name}"],
            True,
            False,
        )
    warnings = overlap_warnings(found, package.stored_extracts(paths.packages))
    target = package.store(found, paths.packages, datetime.now().replace(microsecond=0))
    lines = [f"{path.name}: IMPORTED — {about}, stored as {target}"]
    if warnings:
        lines.append(f"  warnings ({len(warnings)}):")
        lines += [f"    - {w}" for w in warnings]
    return lines, True, True


def overlap_warnings(
    new: package.Package, stored: dict[Path, tuple[str, dict[str, date]]]
) -> list[str]:
    """A warning for every municipality the new package shares with a stored one (`stored`:
    file -> producer, extracts): the newer extract wins (on a tie, the package imported last)."""
    mine = new.extracts()
    warnings = []
    for path, (producer, extracts) in stored.items():
        for code, extract in sorted(extracts.items()):
            if code not in mine:
                continue
            ours = mine[code]
            winner = "this package's" if ours >= extract else "the stored package's"
            warnings.append(
                f"{code} is also in the stored package of {producer} ({path.name}): extract "
                f"{extract} there, {ours} here; {winner} {max(ours, extract)} is used"
            )
    return warnings
