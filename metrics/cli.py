"""The `hgkm compute` and `hgkm export` commands."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import polars as pl

from hgkm import release
from hgkm.errors import UsageError
from hgkm.safe_csv import csv_text
from hgkm.settings import Paths
from metrics.benchmark import BenchmarkRejected
from metrics.indicators import SPEC_COLUMNS
from metrics.package import PackageRejected
from metrics.publish import WarehouseUnavailable, compute

EXPORT_FORMATS = (".csv", ".parquet")


def register(subparsers: argparse._SubParsersAction) -> None:
    compute_parser = subparsers.add_parser(
        "compute",
        help="compute every indicator from the current deliveries and publish the mart",
        description="Compute every indicator from the current deliveries and publish the mart "
        "(data/mart.duckdb), replacing the old one in one step.",
    )
    compute_parser.add_argument(
        "--as-of",
        type=_parse_date,
        metavar="DATE",
        help="use only deliveries received on or before DATE (YYYY-MM-DD), to reproduce a "
        "publication",
    )
    compute_parser.set_defaults(handler=run_compute)

    export_parser = subparsers.add_parser(
        "export",
        help="write the published table as CSV or Parquet",
        description="Write the published indicator table from the mart; the format follows "
        "the file's extension (.csv or .parquet).",
    )
    export_parser.add_argument("--out", required=True, type=Path, metavar="FILE")
    export_parser.add_argument("--indicator", metavar="ID", help="only this indicator")
    export_parser.add_argument("--area", metavar="CODE", help="only this area code (GM0363, NL…)")
    export_parser.add_argument("--period", metavar="P", help="only this period (2024, 2024-Q3)")
    kept = export_parser.add_mutually_exclusive_group()
    kept.add_argument(
        "--release",
        type=int,
        metavar="N",
        help="from publication N instead of the current one (`hgkm publish list`)",
    )
    kept.add_argument(
        "--on",
        type=_parse_date,
        metavar="DATE",
        help="as published at the end of DATE (YYYY-MM-DD, UTC): what the dashboard showed then",
    )
    export_parser.set_defaults(handler=run_export)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def run_compute(args: argparse.Namespace, paths: Paths) -> int:
    try:
        summary = compute(paths, as_of=args.as_of)
    except WarehouseUnavailable as exc:
        raise UsageError(str(exc)) from exc
    except PackageRejected as exc:
        problems = "; ".join(f"{p.what} ({p.fix})" for p in exc.problems)
        print(
            f"hgkm compute: the stored package {exc.path} fails its checks: {problems}. "
            "Nothing was published: remove the file, or import the region's fresh package.",
            file=sys.stderr,
        )
        return 1
    except BenchmarkRejected as exc:
        print(
            f"hgkm compute: the imported benchmark {paths.benchmark} no longer passes its "
            f"checks ({exc}). Nothing was published: import the hub's benchmark again.",
            file=sys.stderr,
        )
        return 1
    as_of = f" as of {summary.as_of}" if summary.as_of else ""
    done = (
        f"published {summary.mart} (release {summary.release})"
        if summary.release is not None
        else f"staged {summary.mart} for review"
    )
    print(
        f"{done}{as_of}: {summary.n_rows} figures "
        f"({summary.n_suppressed} suppressed) from {summary.n_delivered} municipalities"
        f"{f' (from {summary.n_packages} packages)' if summary.n_packages else ''} "
        f"in {summary.seconds:.1f} s"
    )
    for note in summary.notes:
        print(f"warning: {note}")
    if summary.release is None:
        print("review it in the dashboard (Publicatie) or with `hgkm publish`")
    return 0


def _published_mart(args: argparse.Namespace, paths: Paths) -> Path:
    """The mart to export: the published one, or a kept publication (by number or date)."""
    if args.release is None and args.on is None:
        if not paths.mart.is_file():
            raise UsageError(f"no mart at {paths.mart}: run `hgkm compute` first")
        return paths.mart
    if args.release is not None:
        chosen = [r for r in release.releases(paths) if r.number == args.release]
        if not chosen:
            raise UsageError(f"no publication {args.release} (see `hgkm publish list`)")
        return chosen[0].path
    shown = release.release_on(paths, datetime.combine(args.on, time.max))
    if shown is None:
        raise UsageError(f"nothing was published on or before {args.on}")
    return shown.path


def run_export(args: argparse.Namespace, paths: Paths) -> int:
    out: Path = args.out
    if out.suffix.lower() not in EXPORT_FORMATS:
        raise UsageError(f"--out must end in {' or '.join(EXPORT_FORMATS)}: {out}")
    mart = _published_mart(args, paths)
    filters = {"indicator_id": args.indicator, "area_code": args.area, "period": args.period}
    con = duckdb.connect(str(mart), read_only=True)
    try:
        table = con.sql("select * from indicator_values").pl()
    finally:
        con.close()
    for column, wanted in filters.items():
        if wanted is None:
            continue
        if wanted not in set(table[column].unique().to_list()):
            raise UsageError(f"no {column} {wanted!r} in the published table")
        table = table.filter(pl.col(column) == wanted)
    rest = [c for c in table.columns if c not in SPEC_COLUMNS]
    table = table.select(*SPEC_COLUMNS, *rest)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        out.write_text(csv_text(table), encoding="utf-8")
    else:
        table.write_parquet(out)
    print(f"wrote {table.height} rows to {out}")
    return 0
