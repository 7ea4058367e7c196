"""Publish the mart: build every table of docs/mart.md from the warehouse, swap it in atomically."""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from hgkm import mart as declaration
from hgkm import reference, release
from hgkm.config import load_config
from hgkm.faults import checkpoint
from hgkm.mart import NATIONAL
from hgkm.settings import Paths
from metrics import disclosure, package, stats, survival
from metrics.approach import approach_tables
from metrics.benchmark import SOURCE_SCHEMA, Benchmark, compare_deliveries, fold, read_benchmark
from metrics.catalogue import INDICATORS, catalogue_frame
from metrics.changes import with_changes
from metrics.counts import CountSource, WarehouseCounts, choose
from metrics.indicators import (
    INDICATOR_VALUE_COLUMNS,
    Figures,
    area_memberships,
    indicator_figures,
)
from pipelines import bookkeeping, warehouse

LOCK_WAIT_SECONDS = 30.0
TREND_YEARS = 5
# Funnel grid: denominators from 10 to half again the largest municipality, log-spaced.
FUNNEL_MIN_DENOMINATOR = 10
FUNNEL_GRID_POINTS = 80
# One-sided 95% normal quantile, for the over-dispersion test (see overdispersed()).
Z95_ONE_SIDED = 1.6448536269514722
ROOT = Path(__file__).resolve().parent.parent


UPGRADE_FIRST = (
    "the warehouse {path} was made by an older HGKM monitor and needs an upgrade, which "
    "compute (a reader) never writes: run `hgkm upgrade` (or let the next `hgkm ingest` or "
    "`hgkm run` do it), then compute again"
)


class WarehouseUnavailable(RuntimeError):
    """The warehouse is missing, or a writer kept it locked for too long."""


@dataclass(frozen=True)
class PublicationSummary:
    """What one `compute` published (or staged for review), for the command line and run log."""

    mart: Path
    release: int | None  # the release number it was published as; None while staged
    published_at: datetime
    as_of: date | None
    n_delivered: int
    n_rows: int
    n_suppressed: int
    seconds: float
    n_packages: int = 0
    notes: tuple[str, ...] = ()  # municipalities two sources deliver, and which one is used


@contextlib.contextmanager
def open_warehouse(path: Path, as_of: date | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection onto the warehouse, attached read-only, with `current_*` views.

    The views are the warehouse's own (`pipelines.warehouse.CURRENT_VIEWS`) over the deliveries
    received on or before `as_of`, so a publication can be reproduced. A writer (an ingest)
    holds DuckDB's file lock: wait for it rather than fail at once. Never written to: a
    warehouse made by an older HGKM monitor (`pipelines.warehouse.needs_upgrade`) is refused,
    saying how to upgrade it (`hgkm upgrade`, or the next `hgkm ingest` or `hgkm run`).
    """
    if not path.is_file():
        raise WarehouseUnavailable(f"no warehouse at {path}: ingest a delivery first")
    con = duckdb.connect()
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            # Bound, never formatted in: a data folder's path may hold a quote.
            con.execute("attach ? as wh (read_only)", [str(path)])
            break
        except duckdb.IOException as exc:
            if time.monotonic() > deadline:
                con.close()
                raise WarehouseUnavailable(
                    f"the warehouse stays locked by a writer: {exc}"
                ) from exc
            time.sleep(0.5)
    if warehouse.needs_upgrade(con, "wh"):
        con.close()
        raise WarehouseUnavailable(UPGRADE_FIRST.format(path=path))
    bookkeeping.received_by(con, "wh", as_of)
    for table in warehouse.CASE_TABLES:
        con.execute(f"create view {table} as select * from wh.{table}")
    con.execute(warehouse.CURRENT_VIEWS)
    try:
        yield con
    finally:
        con.close()


def code_version() -> str:
    version = metadata.version("hgkm-monitor")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        if commit:
            return f"{version}+{commit}"
    return version


def areas_table(
    delivered: list[str], hub: Benchmark | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`areas` and `area_members` (every region of every type; the country lists who delivered,
    and its count of delivering municipalities is the benchmark's when there is one)."""
    muni = reference.municipalities()
    delivered_set = set(delivered)
    members = area_memberships(delivered)
    regions = members.filter(pl.col("area_type") == "region").join(
        muni.select("municipality_code", "population"), on="municipality_code"
    )
    region_rows = (
        regions.group_by("area_code")
        .agg(
            population=pl.col("population").sum().cast(pl.Int64),
            n_municipalities=pl.len().cast(pl.Int32),
            n_delivered=pl.col("municipality_code").is_in(delivered).sum().cast(pl.Int32),
        )
        .join(
            reference.regions().select(
                area_code=pl.format("{}:{}", "region_type", "region_code"),
                area_name="region_name",
                region_type="region_type",
            ),
            on="area_code",
            how="left",
        )
        .select(
            area_type=pl.lit("region"),
            area_code="area_code",
            area_name="area_name",
            region_type="region_type",
            population="population",
            n_municipalities="n_municipalities",
            n_delivered="n_delivered",
            veilig_thuis_region=pl.lit(None, dtype=pl.String),
        )
    )
    muni_rows = muni.select(
        area_type=pl.lit("municipality"),
        area_code="municipality_code",
        area_name="municipality_name",
        region_type=pl.lit(None, dtype=pl.String),
        population=pl.col("population").cast(pl.Int64),
        n_municipalities=pl.lit(1, dtype=pl.Int32),
        n_delivered=pl.col("municipality_code").is_in(delivered).cast(pl.Int32),
        veilig_thuis_region=pl.format(
            "{}:{}", pl.lit(reference.DEFAULT_REGION_TYPE), "veilig_thuis_region_code"
        ),
    )
    national = pl.DataFrame(
        {
            "area_type": ["national"],
            "area_code": [NATIONAL],
            "area_name": ["Nederland"],
            "region_type": [None],
            "population": [int(muni["population"].sum())],
            "n_municipalities": [muni.height],
            "n_delivered": [
                len(delivered_set & reference.municipality_codes())
                if hub is None
                else int(hub.meta.get("n_delivered", 0))
            ],
            "veilig_thuis_region": [None],
        },
        schema=muni_rows.schema,
    )
    areas = pl.concat([national, region_rows.select(muni_rows.columns), muni_rows]).sort(
        pl.col("area_type").replace_strict({"national": 0, "region": 1, "municipality": 2}),
        "area_code",
    )
    area_members = members.filter(pl.col("area_type") != "municipality").select(
        "area_code", "municipality_code"
    )
    return areas, area_members


def periods_table(values: pl.DataFrame, extract_dates: pl.Series) -> pl.DataFrame:
    """`periods`: every period in the table; the default is the latest cohort year whose 12-month
    windows are complete for every delivering municipality (else the latest year)."""
    periods = (
        values.select("period", "period_type", "year")
        .unique()
        .with_columns(
            quarter=pl.when(pl.col("period_type") == "quarter").then(
                pl.col("period").str.slice(-1).cast(pl.Int8)
            )
        )
        .with_columns(sort_key=pl.col("year") * 10 + pl.col("quarter").fill_null(0).cast(pl.Int32))
        .sort("sort_key")
    )
    years = periods.filter(pl.col("period_type") == "year")["year"].to_list()
    default: int | None = max(years) if years else None
    if years and extract_dates.len():
        oldest_extract: date = extract_dates.min()  # type: ignore[assignment]
        complete = [y for y in years if date(y, 12, 31) + timedelta(days=365) <= oldest_extract]
        default = max(complete) if complete else default
    return periods.with_columns(
        is_default=(pl.col("period_type") == "year") & (pl.col("year") == (default or 0))
    )


TREND_LISTS = ("years", "numerators", "denominators")


def trends_table(values: pl.DataFrame) -> pl.DataFrame:
    """Cochran–Armitage over the five most recent published cohort years, per indicator × area ×
    breakdown of every proportion indicator; `insufficient` with fewer than five."""
    keys = ["indicator_id", "area_type", "area_code", "breakdown"]
    yearly = values.filter(
        (pl.col("period_type") == "year")
        & pl.col("indicator_id").is_in([i.id for i in INDICATORS if i.is_proportion])
    )
    published = (
        yearly.filter(~pl.col("suppressed"))
        .sort("year")
        .group_by(keys, maintain_order=True)
        .tail(TREND_YEARS)
    )
    groups = (
        yearly.select(keys)
        .unique()
        .join(
            published.group_by(keys).agg(
                first_year=pl.col("year").min(),
                last_year=pl.col("year").max(),
                years=pl.col("year"),
                numerators=pl.col("numerator"),
                denominators=pl.col("denominator"),
            ),
            on=keys,
            how="left",
        )
    )
    # No case data here, only five published counts per group: one vectorised test for all.
    full = groups.filter(pl.col("years").list.len() == TREND_YEARS)
    chi2, direction = stats.trends(
        *(full[column].list.to_array(TREND_YEARS).to_numpy() for column in TREND_LISTS)
    )
    tested = full.select(keys).with_columns(
        chi2=pl.Series(chi2, dtype=pl.Float64), direction=pl.Series(direction, dtype=pl.String)
    )
    polarity = {ind.id: ind.polarity for ind in INDICATORS}
    worse_when = {
        ind_id: "increasing" if pol == "lower_is_better" else "decreasing"
        for ind_id, pol in polarity.items()
    }
    return (
        groups.drop(TREND_LISTS)
        .join(tested, on=keys, how="left")
        .with_columns(pl.col("direction").fill_null("insufficient"))
        .with_columns(
            assessment=pl.when(pl.col("direction").is_in(["insufficient", "no_change"]))
            .then(pl.col("direction"))
            .when(pl.col("direction") == pl.col("indicator_id").replace_strict(worse_when))
            .then(pl.lit("worse"))
            .otherwise(pl.lit("better"))
        )
        .select(*keys, "first_year", "last_year", "chi2", "direction", "assessment")
        .sort(keys)
    )


def chi2_quantile_95(df: int) -> float:
    """Upper 5% point of chi-squared with `df` degrees of freedom (Wilson–Hilferty, 1931).

    Accurate to well under 1% from df = 3; no scipy at run time for one number.
    """
    h = 2.0 / (9.0 * df)
    return df * (1.0 - h + Z95_ONE_SIDED * math.sqrt(h)) ** 3


def overdispersed(phi: float, n_areas: int) -> bool:
    """Spiegelhalter (2005): under no over-dispersion n·φ is about chi-squared on n − 1 degrees
    of freedom, so call it over-dispersed when n·φ exceeds the 95% point — not merely φ > 1,
    which chance alone gives half the time."""
    if n_areas < 2 or math.isnan(phi):
        return False
    return n_areas * phi > chi2_quantile_95(n_areas - 1)


def funnel_tables(values: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`funnel` and `funnel_limits`: the national funnel over published municipalities, per
    proportion indicator × cohort year, breakdown `all`, around the published national value."""
    cells = values.filter(
        (pl.col("period_type") == "year")
        & (pl.col("breakdown") == "all")
        & pl.col("indicator_id").is_in([i.id for i in INDICATORS if i.is_proportion])
        & ~pl.col("suppressed")
    )
    benchmarks = cells.filter(pl.col("area_code") == NATIONAL).select(
        "indicator_id", "period", "breakdown", benchmark="value"
    )
    municipalities = cells.filter(pl.col("area_type") == "municipality").partition_by(
        "indicator_id", "period", as_dict=True
    )
    funnel_rows: list[dict] = []
    limit_frames: list[pl.DataFrame] = []
    # One pass per indicator × year (tens of them): the arrays inside are vectorised.
    for indicator_id, period, breakdown, benchmark in benchmarks.iter_rows():
        areas = municipalities.get((indicator_id, period))
        if areas is None:
            continue
        numerator = areas["numerator"].to_numpy()
        denominator = areas["denominator"].to_numpy()
        # one area has no spread to measure (and tau2's denominator would be zero)
        phi, tau2 = (
            stats.overdispersion(numerator, denominator, benchmark)
            if areas.height >= 2
            else (math.nan, 0.0)
        )
        dispersed = overdispersed(phi, areas.height)
        funnel_rows.append(
            {
                "indicator_id": indicator_id,
                "period": period,
                "breakdown": breakdown,
                "benchmark": benchmark,
                "n_areas": areas.height,
                "phi": None if math.isnan(phi) else phi,
                "tau2": tau2,
                "overdispersed": dispersed,
            }
        )
        grid = np.unique(
            np.round(
                np.geomspace(
                    FUNNEL_MIN_DENOMINATOR,
                    max(FUNNEL_MIN_DENOMINATOR * 2, denominator.max() * 1.5),
                    FUNNEL_GRID_POINTS,
                )
            )
        ).astype(np.int64)
        columns: dict[str, object] = {
            "indicator_id": indicator_id,
            "period": period,
            "breakdown": breakdown,
            "denominator": grid,
        }
        for suffix, z in (("95", stats.Z95), ("998", stats.Z998)):
            low, high = stats.funnel_limits(benchmark, grid, z)
            columns[f"lower_{suffix}"], columns[f"upper_{suffix}"] = low, high
        for suffix, z in (("95", stats.Z95), ("998", stats.Z998)):
            if dispersed:
                low, high = stats.random_effects_limits(benchmark, grid, tau2, z)
            else:
                low = high = np.full(grid.size, np.nan)
            columns[f"re_lower_{suffix}"], columns[f"re_upper_{suffix}"] = low, high
        limit_frames.append(pl.DataFrame(columns).fill_nan(None))
    funnel = pl.DataFrame(funnel_rows, schema=FUNNEL_SCHEMA)
    limits = pl.concat(limit_frames) if limit_frames else pl.DataFrame(schema=FUNNEL_LIMITS_SCHEMA)
    return funnel, limits.cast(FUNNEL_LIMITS_SCHEMA)  # type: ignore[arg-type]


FUNNEL_SCHEMA = {
    "indicator_id": pl.String,
    "period": pl.String,
    "breakdown": pl.String,
    "benchmark": pl.Float64,
    "n_areas": pl.Int32,
    "phi": pl.Float64,
    "tau2": pl.Float64,
    "overdispersed": pl.Boolean,
}
FUNNEL_LIMITS_SCHEMA = {
    "indicator_id": pl.String,
    "period": pl.String,
    "breakdown": pl.String,
    "denominator": pl.Int64,
    **{f"{kind}_{suffix}": pl.Float64 for suffix in ("95", "998") for kind in ("lower", "upper")},
    **{
        f"re_{kind}_{suffix}": pl.Float64 for suffix in ("95", "998") for kind in ("lower", "upper")
    },
}


def km_curves_table(values: pl.DataFrame, figures: Figures) -> pl.DataFrame:
    """Kaplan–Meier steps per area × cohort year (breakdown `all`) for every time-to-event
    indicator, only where the median is published, cut where fewer than 10 remain at risk;
    for municipalities, Veilig Thuis regions and the country.

    Sorted by indicator, area_type, area_code, period and time: the few thousand curves are
    put in order first, so the hundreds of thousands of steps sort on two integers.
    """
    frames = []
    for indicator_id, cells in sorted(figures.survival.items()):
        shown = values.filter(
            (pl.col("indicator_id") == indicator_id)
            & (pl.col("period_type") == "year")
            & (pl.col("breakdown") == "all")
            & ~pl.col("suppressed")
            # curves of regions that overlap would give curves of their differences
            & disclosure.has_quarters(pl.col("area_type"), pl.col("area_code"))
        ).select("area_type", "area_code", "period")
        chosen = (
            cells.keys.filter((pl.col("period_type") == "year") & (pl.col("breakdown") == "all"))
            .join(shown, on=["area_type", "area_code", "period"], how="semi")
            .sort("area_type", "area_code", "period")
            .with_row_index("curve")
        )
        frames.append(
            chosen.join(survival.km_cut(cells.curves, ["cell"]), on="cell")
            .sort("curve", "time")
            .select(
                pl.lit(indicator_id).alias("indicator_id"),
                "area_type",
                "area_code",
                "period",
                pl.col("time").cast(pl.Int64),
                "survival",
                "ci_low",
                "ci_high",
                "at_risk",
            )
        )
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames)


def delivery_tables(
    log: pl.DataFrame, reference_date: date, staleness_days: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`delivery_status` and `publication_deliveries` from the delivery log
    (`metrics.counts.DELIVERY_LOG_SCHEMA`): no case data, only dates, counts, hashes and rule
    names."""
    per_municipality = log.filter(pl.col("municipality_code").is_not_null()).sort("received_at")
    summary = per_municipality.group_by("municipality_code").agg(
        last_received_at=pl.col("received_at").last(),
        last_status=pl.col("status").last(),
        n_accepted=(pl.col("status") == "accepted").sum().cast(pl.Int32),
        n_rejected=(pl.col("status") == "rejected").sum().cast(pl.Int32),
        last_rejection_summary=pl.col("summary").filter(pl.col("status") == "rejected").last(),
    )
    current = per_municipality.filter(pl.col("current")).select(
        "municipality_code",
        current_extract_date="extract_date",
        current_received_at="received_at",
        n_warnings="n_warnings",
    )
    status = (
        reference.municipalities()
        .select(
            "municipality_code",
            "municipality_name",
            veilig_thuis_region=pl.format(
                "{}:{}", pl.lit(reference.DEFAULT_REGION_TYPE), "veilig_thuis_region_code"
            ),
        )
        .join(current, on="municipality_code", how="left")
        .join(summary, on="municipality_code", how="left")
        .with_columns(
            delivered=pl.col("current_extract_date").is_not_null(),
            n_accepted=pl.col("n_accepted").fill_null(0),
            n_rejected=pl.col("n_rejected").fill_null(0),
            days_since_extract=(pl.lit(reference_date) - pl.col("current_extract_date"))
            .dt.total_days()
            .cast(pl.Int32),
        )
        .with_columns(stale=pl.col("days_since_extract") > staleness_days)
        .select(
            "municipality_code",
            "municipality_name",
            "veilig_thuis_region",
            "delivered",
            "current_extract_date",
            "current_received_at",
            "last_received_at",
            "last_status",
            "n_accepted",
            "n_rejected",
            "n_warnings",
            "days_since_extract",
            "stale",
            "last_rejection_summary",
        )
    )
    used = log.filter(pl.col("current")).select("municipality_code", "extract_date", "content_hash")
    return status, used


def _in_key_order(values: pl.DataFrame) -> pl.DataFrame:
    """`values` sorted by indicator (catalogue order), area_type, area_code, year, period,
    breakdown: each key ranked in its small table of distinct values (hundreds of areas,
    dozens of periods), then one integer sorted, instead of comparing text row by row."""
    ranked = values
    key = pl.col("indicator_id").replace_strict(
        {ind.id: n for n, ind in enumerate(INDICATORS)}, return_dtype=pl.Int64
    )
    for columns in (["area_type", "area_code"], ["year", "period"], ["breakdown"]):
        distinct = values.select(columns).unique().sort(columns).with_row_index("__rank")
        ranked = ranked.join(distinct, on=columns, how="left", nulls_equal=True).rename(
            {"__rank": f"__rank_{columns[-1]}"}
        )
        key = key * distinct.height + pl.col(f"__rank_{columns[-1]}")
    return ranked.sort(key).select(values.columns)


def build_tables(
    source: CountSource,
    *,
    as_of: date | None,
    published_at: datetime,
    packages: pl.DataFrame | None = None,
    hub: Benchmark | None = None,
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Every mart table, computed from the municipal counts of `source`: (name, table), each as
    soon as it is built, the largest first, so that `write_mart` writes it while the next are
    built."""
    delivered = source.delivered()
    with source.counting() as municipal:
        figures = indicator_figures(municipal, delivered)
    folded = None if hub is None else fold(figures.table, hub)
    table = figures.table if folded is None else folded.table
    areas, area_members = areas_table(figures.delivered, hub)
    values = _in_key_order(
        table.join(areas.select("area_code", "area_name"), on="area_code", how="left").select(
            INDICATOR_VALUE_COLUMNS
        )
    )
    yield "indicator_values", values
    curves = km_curves_table(values, figures)
    if folded is not None:
        curves = pl.concat(
            [curves.filter(pl.col("area_type") != "national"), folded.curves],
            how="vertical_relaxed",
        ).sort("indicator_id", "area_type", "area_code", "period", "time")
    yield "km_curves", curves
    yield "trends", trends_table(values)
    # the national funnel: over the benchmark's municipalities when there is one
    funnel, funnel_limits = funnel_tables(values if folded is None else folded.national)
    yield "funnel", funnel
    yield "funnel_limits", funnel_limits
    yield "catalogue", catalogue_frame()
    yield "areas", areas
    yield "area_members", area_members
    yield from approach_tables(
        values, figures.delivered, source.profiles(), source.approach_pieces
    ).items()
    reference_date = as_of or published_at.date()
    staleness_days = load_config(only=frozenset({"staleness_days"})).staleness_days
    log = source.delivery_log()
    status, used = delivery_tables(log, reference_date, staleness_days)
    yield "periods", periods_table(values, status["current_extract_date"].drop_nulls())
    yield "delivery_status", status
    yield "delivery_log", log
    yield "delivery_issues", source.delivery_issues()
    yield (
        "publication",
        pl.DataFrame(
            {
                "published_at": [published_at],
                "as_of": [as_of],
                "code_version": [code_version()],
                "staleness_days": [staleness_days],
            },
            schema={
                "published_at": pl.Datetime("us"),
                "as_of": pl.Date,
                "code_version": pl.String,
                "staleness_days": pl.Int32,
            },
        ),
    )
    yield "publication_deliveries", used
    yield (
        "publication_packages",
        pl.DataFrame(schema=PACKAGES_SCHEMA) if packages is None else packages,
    )
    yield (
        "benchmark",
        pl.DataFrame(schema=SOURCE_SCHEMA) if folded is None else folded.source,
    )
    yield "benchmark_figures", values.clear() if folded is None else folded.values
    yield "benchmark_deliveries", compare_deliveries(hub, used)


def _remove_stale_builds(mart: Path) -> None:
    """Delete half-built marts left by compute runs that died (their process is gone)."""
    for leftover in mart.parent.glob(f"{mart.name}.tmp-*"):
        pid_text = leftover.name.rsplit("tmp-", 1)[-1].split(".", 1)[0]
        if not pid_text.isdigit():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except PermissionError:
            continue


def write_mart(tables: Iterable[tuple[str, pl.DataFrame]], mart: Path) -> dict[str, pl.DataFrame]:
    """Write every table into a new file next to `mart`, then rename it over `mart`; returns
    the tables by name.

    The tables are written on a thread of their own while `tables` builds the next ones (its
    work and DuckDB's compression then share the cores). A reader holding the old file open
    keeps reading the old, complete mart; a crash before the rename leaves the old mart
    untouched (and a temporary file the next run removes).
    """
    mart.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(mart)
    building = mart.parent / f"{mart.name}.tmp-{os.getpid()}"
    building.unlink(missing_ok=True)
    written: dict[str, pl.DataFrame] = {}
    try:
        con = duckdb.connect(str(building))
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hgkm-mart") as writer:
                jobs = []
                for name, table in tables:
                    written[name] = table
                    jobs.append(writer.submit(_write_table, con, name, table))
                for job in jobs:
                    job.result()
            con.execute("checkpoint")
        finally:
            con.close()
        checkpoint("compute.publish")
        os.replace(building, mart)
    except BaseException:
        building.unlink(missing_ok=True)
        Path(f"{building}.wal").unlink(missing_ok=True)
        raise
    return written


def _write_table(con: duckdb.DuckDBPyConnection, name: str, table: pl.DataFrame) -> None:
    con.register("frame", table)
    declaration.insert(con, name, table.columns)
    con.unregister("frame")
    if name == "indicator_values":
        checkpoint("compute.build")


@dataclass(frozen=True)
class Sources:
    """What a compute publishes from: the combined counts, the stored packages used (the
    mart's `publication_packages`) and a note for every municipality two sources deliver."""

    counts: CountSource
    packages: pl.DataFrame
    notes: list[str]


PACKAGES_SCHEMA: dict[str, pl.DataType] = {
    "stored_file": pl.String(),
    "producer": pl.String(),
    "created_at": pl.Datetime("us"),
    "imported_at": pl.Datetime("us"),
    "content_sha256": pl.String(),
    "code_version": pl.String(),
    "n_municipalities": pl.Int32(),
}


@contextlib.contextmanager
def open_sources(paths: Paths, as_of: date | None = None) -> Iterator[Sources]:
    """The warehouse's current deliveries and the hub's stored packages (each received or
    imported on or before `as_of`, when given), each municipality from the one with its newest
    extract (`metrics.counts.choose`); on a tie the warehouse's own delivery, then the package
    imported last."""
    stored = package.load_store(paths.packages, as_of)
    if not stored and not paths.warehouse.is_file():
        raise WarehouseUnavailable(
            f"no warehouse at {paths.warehouse} and no imported package: ingest a delivery "
            "(or, at a hub, `hgkm share import` a package) first"
        )
    with contextlib.ExitStack() as stack:
        sources: list[CountSource] = [package.PackageCounts(s.package) for s in stored]
        names = [f"package {s.package.producer} ({s.package.path.name})" for s in stored]
        if paths.warehouse.is_file():
            con = stack.enter_context(open_warehouse(paths.warehouse, as_of))
            sources.append(WarehouseCounts(con, as_of))
            names.append("this installation's own deliveries")
        combined, overlaps = choose(sources)
        used = {
            i: len(part.source.delivered())
            if part.municipalities is None
            else sum(code in part.municipalities for code in part.source.delivered())
            for i, part in enumerate(combined.parts)
        }
        packages = pl.DataFrame(
            [
                {
                    "stored_file": s.package.path.name,
                    "producer": s.package.producer,
                    "created_at": s.package.created_at,
                    "imported_at": s.imported_at,
                    "content_sha256": s.package.content_sha256,
                    "code_version": s.package.meta.get("code_version"),
                    "n_municipalities": used[i],
                }
                for i, s in enumerate(stored)
            ],
            schema=PACKAGES_SCHEMA,
        )
        notes = [
            f"{o.municipality_code} is delivered by {names[o.used]} (extract {o.used_extract}) "
            f"and by {names[o.other]} (extract {o.other_extract}): the first is used"
            for o in overlaps
        ]
        yield Sources(combined, packages, notes)


def compute(
    paths: Paths, *, as_of: date | None = None, actor: release.Actor | None = None
) -> PublicationSummary:
    """Compute every indicator from the current deliveries and imported packages (received or
    imported on or before `as_of`, when given) and publish the mart atomically — or, with
    `publish = "review"`, stage it for an analyst to approve (hgkm.release); `actor` is who
    asked (default: the shell's user)."""
    started = time.perf_counter()
    published_at = datetime.now().replace(microsecond=0)
    mode = load_config(only=frozenset({"publish"})).publish
    hub = read_benchmark(paths.benchmark) if paths.benchmark.is_file() else None
    base, base_mart = release.prepare(paths)
    built = release.build_path(paths)
    with open_sources(paths, as_of) as sources:
        tables = write_mart(
            with_changes(
                build_tables(
                    sources.counts,
                    as_of=as_of,
                    published_at=published_at,
                    packages=sources.packages,
                    hub=hub,
                ),
                base_mart,
            ),
            built,
        )
    outcome = release.publish_built(
        paths,
        built,
        actor or release.Actor.shell(),
        mode=mode,
        as_of=as_of.isoformat() if as_of else None,
        base=base,
    )
    values = tables["indicator_values"]
    published = isinstance(outcome, release.Release)
    return PublicationSummary(
        mart=paths.mart if published else outcome.path,
        release=outcome.number if isinstance(outcome, release.Release) else None,
        published_at=published_at,
        as_of=as_of,
        n_delivered=int(tables["delivery_status"]["delivered"].sum()),
        n_rows=values.height,
        n_suppressed=int(values["suppressed"].sum()),
        seconds=time.perf_counter() - started,
        n_packages=sources.packages.height,
        notes=tuple(sources.notes),
    )
