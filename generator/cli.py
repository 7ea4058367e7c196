"""`hgkm sample`: synthetic deliveries for demos, tests and benchmarks."""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from pathlib import Path

from generator.build import SampleOptions, build_sample
from generator.write import SHAPES
from hgkm import reference
from hgkm.errors import UsageError
from hgkm.settings import Paths

FIRST_YEAR = 2019  # the contract covers index reports from 2019-01-01 on
DEFAULT_REGION = "VT11"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="write synthetic deliveries (with the rates they plant) for demos and tests",
        description="Write synthetic deliveries, approach profiles and the planted truth "
        "(planted_rates.csv, planted_effects.csv: never inside a delivery) into --out.",
    )
    parser.add_argument("--out", required=True, type=Path, help="folder to write into")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--municipalities", help="comma-separated CBS codes, e.g. GM0193,GM0148")
    which.add_argument(
        "--region",
        help=f"a region code of any type (VT11, VR04, GG1009, JZ07; default {DEFAULT_REGION})",
    )
    which.add_argument("--all", action="store_true", help="every municipality in the country")
    parser.add_argument("--years", help="cohort years, e.g. 2019-2025 (default 2019 to last year)")
    parser.add_argument(
        "--extract-date", type=date.fromisoformat, help="YYYY-MM-DD (default: today)"
    )
    parser.add_argument("--seed", type=int, default=1, help="same seed, same bytes (default 1)")
    parser.add_argument(
        "--shape",
        choices=(*SHAPES, "mixed"),
        default="folder",
        help="delivery shape; mixed: a fixed mix of shapes with real exports' quirks",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="volume multiplier (default 1)")
    parser.add_argument(
        "--profiles",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="approach profiles with planted element effects (default on)",
    )
    parser.add_argument(
        "--older", help="municipalities that also get an older delivery (comma-separated)"
    )
    parser.add_argument(
        "--older-extract",
        type=date.fromisoformat,
        help="extract date of those older deliveries (default: a year before --extract-date)",
    )
    parser.set_defaults(handler=run)


def select_municipalities(args: argparse.Namespace) -> tuple[str, ...]:
    known = reference.municipalities()
    if args.all:
        return tuple(known["municipality_code"].to_list())
    if args.municipalities:
        codes = tuple(c.strip().upper() for c in args.municipalities.split(",") if c.strip())
        unknown = sorted(set(codes) - reference.municipality_codes())
        if unknown:
            raise UsageError(f"unknown municipality code(s): {', '.join(unknown)}")
        return codes
    return region_members(args.region or DEFAULT_REGION)


def region_members(region: str) -> tuple[str, ...]:
    """Municipalities of a region given as `VT11` (any type) or `veilig_thuis_region:VT11`."""
    region_type, _, code = region.strip().rpartition(":")
    members = reference.memberships().filter(region_code=code.upper())
    if region_type:
        members = members.filter(region_type=region_type)
    if members.is_empty():
        raise UsageError(f"unknown region {region!r}")
    return tuple(sorted(set(members["municipality_code"].to_list())))


def parse_years(text: str | None, extract: date) -> tuple[int, ...]:
    if not text:
        return tuple(range(FIRST_YEAR, extract.year))
    chosen: set[int] = set()
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            chosen.update(range(int(first), int(last or first) + 1))
    except ValueError as exc:
        raise UsageError(f"--years: expected e.g. 2019-2025, got {text!r}") from exc
    years = tuple(sorted(chosen))
    if not years or years[0] < FIRST_YEAR or years[-1] > extract.year:
        raise UsageError(
            f"--years must lie within {FIRST_YEAR}..{extract.year} (the extract's year)"
        )
    return years


def run(args: argparse.Namespace, paths: Paths) -> int:
    extract = args.extract_date or date.today()
    if args.scale <= 0:
        raise UsageError("--scale must be positive")
    options = SampleOptions(
        municipalities=select_municipalities(args),
        years=parse_years(args.years, extract),
        extract=extract,
        seed=args.seed,
        shape=args.shape,
        scale=args.scale,
        profiles=args.profiles,
        older=tuple(c.strip().upper() for c in (args.older or "").split(",") if c.strip()),
        older_extract=args.older_extract or extract - timedelta(days=365),
    )
    started = time.perf_counter()
    summary = build_sample(args.out, options)
    rows = ", ".join(f"{n:,} {name}" for name, n in summary.rows.items())
    print(
        f"wrote {len(summary.deliveries)} deliveries of {len(options.municipalities)} "
        f"municipalities ({rows}) to {args.out} in {time.perf_counter() - started:.1f} s"
    )
    return 0
