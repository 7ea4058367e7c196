"""The national benchmark: a hub's published figures, exported for the regions and folded into a
region's mart, so that its dashboard compares with the country rather than with itself.

The file holds only what the hub published (suppressed figures, docs/federation.md): the
Netherlands in every period and breakdown with its Kaplan–Meier curves, every region and
municipality per cohort year (breakdown `all`: what rankings and funnels need), and which
delivery of each municipality the hub used. Self-describing (`hgkm.*` metadata: source, when
the hub published, its catalogue version, a SHA-256 of the data).

Folded in by `hgkm compute` at the region: the mart's `NL` rows and curves become the
benchmark's, every comparison with the country is made against it, the national funnel is
the hub's, and `benchmark`, `benchmark_figures` and `benchmark_deliveries` say where it came
from and what the region publishes differently.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from metrics.catalogue import BY_ID, catalogue_version
from metrics.indicators import AREA_KEYS, INDICATOR_VALUE_COLUMNS, compare_with_benchmarks

FORMAT = "hgkm-benchmark"
FORMAT_VERSION = "1"
PARTS = ("values", "curves", "deliveries")
CURVE_COLUMNS = (
    "indicator_id",
    "area_type",
    "area_code",
    "period",
    "time",
    "survival",
    "ci_low",
    "ci_high",
    "at_risk",
)
DELIVERY_COLUMNS = ("municipality_code", "extract_date", "content_hash")
COMPARISONS = ("comparison_region", "comparison_national")
# The mart's `benchmark` table: one row when a benchmark is folded in, none otherwise.
SOURCE_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "published_at": pl.Datetime("us"),
    "imported_at": pl.Datetime("us"),
    "code_version": pl.String(),
    "n_delivered": pl.Int32(),
    "n_municipalities": pl.Int32(),
    "content_sha256": pl.String(),
}
DELIVERIES_SCHEMA: dict[str, pl.DataType] = {
    "municipality_code": pl.String(),
    "extract_date": pl.Date(),
    "benchmark_extract_date": pl.Date(),
    "same_delivery": pl.Boolean(),
}


class BenchmarkRejected(Exception):
    """A file that is not a usable benchmark; the message says why and what to do."""


@dataclass(frozen=True)
class Benchmark:
    """A benchmark read and checked: metadata (`hgkm.*` keys without the prefix) and parts."""

    meta: dict[str, str]
    frame: pl.DataFrame = field(repr=False)

    def part(self, name: str) -> pl.DataFrame:
        columns = {
            "values": INDICATOR_VALUE_COLUMNS,
            "curves": CURVE_COLUMNS,
            "deliveries": DELIVERY_COLUMNS,
        }[name]
        return self.frame.filter(pl.col("part") == name).select(columns)

    @property
    def source(self) -> str:
        return self.meta["source"]

    @property
    def published_at(self) -> datetime:
        return datetime.fromisoformat(self.meta["published_at"])

    @property
    def content_sha256(self) -> str:
        return self.meta["content_sha256"]

    @property
    def imported_at(self) -> datetime | None:
        stamp = self.meta.get("imported_at")
        return datetime.fromisoformat(stamp) if stamp else None


# --- at the hub: from a published mart ----------------------------------------------------


def from_mart(mart: Path, source: str) -> tuple[pl.DataFrame, dict[str, str]]:
    """The benchmark's rows and metadata from a published mart (read-only)."""
    try:
        con = duckdb.connect(str(mart), read_only=True)
    except duckdb.Error as exc:
        raise BenchmarkRejected(
            f"{mart.name} is not a readable mart ({type(exc).__name__}): give the hub's "
            "mart.duckdb or a file `hgkm benchmarks export` wrote"
        ) from None
    try:
        tables = {row[0] for row in con.sql("show tables").fetchall()}
        missing = {"indicator_values", "km_curves", "publication", "publication_deliveries"}
        if missing - tables:
            raise BenchmarkRejected(
                f"{mart.name} lacks the mart tables {', '.join(sorted(missing - tables))}: give "
                "a mart that `hgkm compute` published"
            )
        values = con.sql(
            f"""select {", ".join(INDICATOR_VALUE_COLUMNS)} from indicator_values
            where area_type = 'national' or (period_type = 'year' and breakdown = 'all')"""
        ).pl()
        curves = con.sql(
            f"select {', '.join(CURVE_COLUMNS)} from km_curves where area_type = 'national'"
        ).pl()
        deliveries = con.sql(
            f"select {', '.join(DELIVERY_COLUMNS)} from publication_deliveries"
        ).pl()
        publication = con.sql("select published_at, code_version from publication").fetchall()
    finally:
        con.close()
    national = values.filter(pl.col("area_type") == "national")
    if national.is_empty() or not publication:
        raise BenchmarkRejected(f"{mart.name} publishes no figures for the Netherlands")
    published_at, code = publication[0]
    frame = pl.concat(
        [
            values.with_columns(part=pl.lit("values")),
            curves.with_columns(part=pl.lit("curves")),
            deliveries.with_columns(part=pl.lit("deliveries")),
        ],
        how="diagonal_relaxed",
    )
    frame = frame.select("part", *[c for c in frame.columns if c != "part"])
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "catalogue_version": catalogue_version(),
        "source": source,
        "published_at": published_at.isoformat(timespec="seconds"),
        "code_version": code,
        "n_delivered": str(int(national["coverage_delivered"].max() or 0)),
        "n_municipalities": str(int(national["coverage_total"].max() or 0)),
        "content_sha256": content_sha256(frame),
    }
    return frame, {f"hgkm.{k}": v for k, v in meta.items()}


def content_sha256(frame: pl.DataFrame) -> str:
    """SHA-256 of the rows as CSV text (as `metrics.package.content_sha256`)."""
    text = io.BytesIO()
    frame.write_csv(text, datetime_format="%Y-%m-%dT%H:%M:%S%.f", date_format="%Y-%m-%d")
    return hashlib.sha256(text.getvalue()).hexdigest()


def write(frame: pl.DataFrame, meta: dict[str, str], out: Path) -> None:
    """Write the benchmark next to `out` and rename it into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        frame.write_parquet(partial, metadata=meta, statistics=False)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


# --- at a region: read, check, fold into the mart -----------------------------------------


def read_benchmark(path: Path) -> Benchmark:
    """A benchmark file (`hgkm benchmarks export`, or one stored by an import), checked."""
    try:
        raw = pl.read_parquet_metadata(path)
        frame = pl.read_parquet(path)
    except Exception:  # any unreadable file is a rejection, never a crash
        raise BenchmarkRejected(
            f"{path.name} is not a readable Parquet file: give the hub's mart.duckdb or a file "
            "`hgkm benchmarks export` wrote"
        ) from None
    meta = {k.removeprefix("hgkm."): v for k, v in raw.items() if k.startswith("hgkm.")}
    if meta.get("format") != FORMAT:
        raise BenchmarkRejected(
            f"{path.name} is not an HGKM benchmark (no hgkm.format in its metadata): give the "
            "hub's mart.duckdb or a file `hgkm benchmarks export` wrote"
        )
    for key, mine, what in (
        ("format_version", FORMAT_VERSION, "benchmark format"),
        ("catalogue_version", catalogue_version(), "indicator catalogue"),
    ):
        if meta.get(key) != mine:
            raise BenchmarkRejected(
                f"{path.name} uses {what} version {meta.get(key)}; this installation uses "
                f"{mine}: the hub and the region must run the same HGKM monitor release"
            )
    needed = {"part", *INDICATOR_VALUE_COLUMNS, *CURVE_COLUMNS, *DELIVERY_COLUMNS}
    if needed - set(frame.columns) or content_sha256(frame) != meta.get("content_sha256"):
        raise BenchmarkRejected(
            f"{path.name}: its data does not match its content hash or lacks columns: it was "
            "changed or damaged after export; ask the hub for a fresh one"
        )
    found = Benchmark(meta, frame)
    values = found.part("values")
    unknown = set(values["indicator_id"].unique().to_list()) - set(BY_ID)
    if values.filter(pl.col("area_type") == "national").is_empty() or unknown:
        raise BenchmarkRejected(
            f"{path.name} holds no national figures, or indicators this installation does "
            "not know: ask the hub for a fresh export"
        )
    return found


@dataclass(frozen=True)
class Folded:
    """What `fold` gives the mart."""

    table: pl.DataFrame  # the indicator table, the country's rows the benchmark's
    source: pl.DataFrame  # `benchmark`
    values: pl.DataFrame  # `benchmark_figures`: areas this mart does not publish itself
    curves: pl.DataFrame  # the country's Kaplan–Meier steps
    national: pl.DataFrame  # the national funnel's input: the benchmark's own figures


def fold(table: pl.DataFrame, found: Benchmark) -> Folded:
    """The region's indicator table (`metrics.indicators.Figures.table`, with unit and
    coverage) with its own `NL` rows replaced by the benchmark's, and every comparison made
    again against them."""
    values = found.part("values")
    national = values.filter(pl.col("area_type") == "national").with_columns(
        unit=pl.col("indicator_id").replace_strict({i: ind.unit for i, ind in BY_ID.items()})
    )
    own = table.filter(pl.col("area_type") != "national").drop(COMPARISONS)
    replaced = compare_with_benchmarks(
        pl.concat([own, national.select(own.columns)], how="vertical_relaxed")
    )
    published = set(table.select(pl.concat_str(AREA_KEYS)).to_series().to_list())
    elsewhere = values.filter(
        (pl.col("area_type") != "national") & ~pl.concat_str(AREA_KEYS).is_in(list(published))
    )
    source = pl.DataFrame(
        [
            {
                "source": found.source,
                "published_at": found.published_at,
                "imported_at": found.imported_at,
                "code_version": found.meta.get("code_version"),
                "n_delivered": int(found.meta.get("n_delivered", 0)),
                "n_municipalities": int(found.meta.get("n_municipalities", 0)),
                "content_sha256": found.content_sha256,
            }
        ],
        schema=SOURCE_SCHEMA,
    )
    return Folded(
        table=replaced.select(table.columns),
        source=source,
        values=elsewhere,
        curves=found.part("curves"),
        national=values,
    )


def compare_deliveries(found: Benchmark | None, used: pl.DataFrame) -> pl.DataFrame:
    """`benchmark_deliveries`: for each municipality this mart publishes, its delivery here
    against the one the benchmark used (`same_delivery` false where they differ, e.g. a newer
    extract here). `used`: the mart's publication_deliveries."""
    if found is None:
        return pl.DataFrame(schema=DELIVERIES_SCHEMA)
    theirs = found.part("deliveries").select(
        "municipality_code",
        benchmark_extract_date="extract_date",
        benchmark_hash="content_hash",
    )
    return (
        used.join(theirs, on="municipality_code", how="left")
        .with_columns(
            same_delivery=(pl.col("content_hash") == pl.col("benchmark_hash")).fill_null(False)
        )
        .select(list(DELIVERIES_SCHEMA))
        .cast(DELIVERIES_SCHEMA)  # type: ignore[arg-type]
        .sort("municipality_code")
    )


def store(frame: pl.DataFrame, meta: dict[str, str], target: Path, imported_at: datetime) -> None:
    """Keep a checked benchmark under the data folder (replacing the one before), with when it
    was imported."""
    write(frame, {**meta, "hgkm.imported_at": imported_at.isoformat(timespec="seconds")}, target)
