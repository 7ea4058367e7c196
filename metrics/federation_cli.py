"""The `hgkm share` and `hgkm benchmarks` commands: a region's aggregate package out to a hub,
the hub's packages in; the hub's published figures out, a region's national benchmark in."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path

import polars as pl

from hgkm.errors import UsageError
from hgkm.settings import Paths
from metrics import benchmark, package
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

    benchmarks = subparsers.add_parser(
        "benchmarks",
        help="the national benchmark: a hub's published figures, for a region to compare with",
        description="A hub exports its published (suppressed) figures; a region imports them, "
        "and its next `hgkm compute` compares with that Netherlands (docs/federation.md).",
    )
    sub = benchmarks.add_subparsers(dest="benchmarks_command", metavar="SUBCOMMAND", required=True)
    exporting = sub.add_parser(
        "export",
        help="write this mart's national figures as a benchmark file (at a hub)",
        description="Write the published figures a region needs as its benchmark: the "
        "Netherlands in every period and breakdown, every region and municipality per cohort "
        "year. Published figures only: the file may be shared like the mart.",
    )
    exporting.add_argument("--out", required=True, type=Path, metavar="FILE.parquet")
    exporting.add_argument(
        "--source",
        default=DEFAULT_SOURCE,
        help=f"the hub's name, shown with every comparison (default {DEFAULT_SOURCE!r})",
    )
    exporting.set_defaults(handler=run_benchmark_export)
    importing = sub.add_parser(
        "import",
        help="use a hub's published figures as the national benchmark (at a region)",
        description="Check a benchmark file (`hgkm benchmarks export`) or a hub's published "
        "mart.duckdb and keep it as the national benchmark, replacing the one before; the "
        "next `hgkm compute` publishes with it. Exit 0 when imported (or already), 1 when "
        "rejected.",
    )
    importing.add_argument("file", type=Path, metavar="FILE")
    importing.add_argument(
        "--source",
        default=DEFAULT_SOURCE,
        help=f"the hub's name, when FILE is a mart (default {DEFAULT_SOURCE!r})",
    )
    importing.set_defaults(handler=run_benchmark_import)


DEFAULT_SOURCE = "HGKM hub"


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


def run_benchmark_export(args: argparse.Namespace, paths: Paths) -> int:
    out: Path = args.out
    if out.suffix.lower() != ".parquet":
        raise UsageError(f"--out must end in .parquet: {out}")
    if not paths.mart.is_file():
        raise UsageError(f"no mart at {paths.mart}: run `hgkm compute` first")
    frame, meta = benchmark.from_mart(paths.mart, args.source)
    benchmark.write(frame, meta, out)
    print(
        f"wrote {out}: the published national figures of {args.source} "
        f"({meta['hgkm.n_delivered']} of {meta['hgkm.n_municipalities']} municipalities, "
        f"published {meta['hgkm.published_at']}), {frame.height} rows, "
        f"{out.stat().st_size / 1024:.0f} KB"
    )
    return 0


def run_benchmark_import(args: argparse.Namespace, paths: Paths) -> int:
    source: Path = args.file
    if not source.is_file():
        raise UsageError(f"file not found: {source}")
    try:
        if source.suffix.lower() == ".duckdb":
            frame, meta = benchmark.from_mart(source, args.source)
        else:
            found = benchmark.read_benchmark(source)
            frame, meta = found.frame, {f"hgkm.{k}": v for k, v in found.meta.items()}
    except benchmark.BenchmarkRejected as exc:
        print(f"{source.name}: REJECTED — {exc}\nthe benchmark in use (if any) is unchanged")
        return 1
    about = (
        f"{meta['hgkm.source']}, published {meta['hgkm.published_at']}, "
        f"{meta['hgkm.n_delivered']} of {meta['hgkm.n_municipalities']} municipalities"
    )
    if paths.benchmark.is_file():
        current = pl.read_parquet_metadata(paths.benchmark).get("hgkm.content_sha256")
        if current == meta["hgkm.content_sha256"]:
            print(f"{source.name}: ALREADY IMPORTED (no change) — {about}")
            return 0
    meta = {k: v for k, v in meta.items() if k != "hgkm.imported_at"}
    benchmark.store(frame, meta, paths.benchmark, datetime.now().replace(microsecond=0))
    print(
        f"{source.name}: IMPORTED — {about}; kept as {paths.benchmark}. "
        "Run `hgkm compute` to publish with it."
    )
    return 0
