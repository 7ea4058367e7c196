"""Aggregate packages: a region's municipal counts in one Parquet file, and a hub's store of them.

A package holds what `metrics.counts` calls municipal counts, exactly as the region's own
compute would use them, before any suppression: so it is **sensitive** (small counts that the
mart hides) and goes only to the hub, under the data-sharing agreement (docs/federation.md).
It holds no case row, identifier or date of a case: counts per municipality × cohort quarter,
and × cohort year × breakdown category (× days since the report), the approach comparison's
pieces, the approach profiles, the delivery log and what the checks found in each delivery
(rules and places).

One long table; `part` says which of the five a row belongs to, the other parts' columns are
empty. Self-describing: the file's key-value metadata (`hgkm.*`) names the format, the
contract and catalogue versions it was counted under, the producer, when it was made and a
SHA-256 of its data, which the hub checks on import.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from hgkm import reference
from metrics import counts
from metrics.approach import PIECE_SCHEMA
from metrics.catalogue import BY_ID, INDICATORS, Indicator, catalogue_version
from metrics.counts import DELIVERY_ISSUES_SCHEMA, DELIVERY_LOG_SCHEMA, CountSource
from metrics.indicators import ALL, CELL_SOURCES, count_grains
from pipelines.contract import AGE_BANDS, APPROACH_SCHEMA, CONTRACT_VERSION, VIOLENCE_TYPES

FORMAT = "hgkm-aggregate-package"
FORMAT_VERSION = "1"
PARTS = ("counts", "pieces", "profiles", "deliveries", "issues")
# The categories a breakdown family may hold (the contract's values).
CATEGORIES = {"violence_type": VIOLENCE_TYPES, "age_band": AGE_BANDS}
SENSITIVITY = (
    "SENSITIVE: unsuppressed counts per municipality, including counts the published figures "
    "hide. Send only to the hub named in the data-sharing agreement; never publish."
)

SCHEMA: dict[str, pl.DataType] = {
    "part": pl.String(),
    "indicator_id": pl.String(),
    "municipality_code": pl.String(),
    # counts and pieces: cohort year and quarter (0: the whole year, counts only)
    "year": pl.Int32(),
    "quarter": pl.Int8(),
    "breakdown": pl.String(),
    "time": pl.Int32(),  # days since the report (time-to-event counts)
    "numerator": pl.Int64(),
    "denominator": pl.Int64(),
    "events": pl.Int64(),
    "censored": pl.Int64(),
    # pieces (with status) and profiles
    "comparison": pl.String(),
    "element": pl.String(),
    "status": pl.String(),
    "in_place_from": pl.Date(),
    "in_place_until": pl.Date(),
    "note": pl.String(),
    # deliveries: the delivery log, no case data
    "extract_date": pl.Date(),
    "received_at": pl.Datetime("us"),
    "delivery_status": pl.String(),
    "current": pl.Boolean(),
    "content_hash": pl.String(),
    "rows_loaded": pl.Int64(),
    "n_warnings": pl.Int32(),
    "n_errors": pl.Int32(),
    "summary": pl.String(),
    # issues: what the checks found in each delivery (rules and places, never a value)
    "kind": pl.String(),
    "file": pl.String(),
    "row_number": pl.Int64(),
    "column_name": pl.String(),
    "rule": pl.String(),
    "message": pl.String(),
    "count": pl.Int64(),
}
# Each part's columns in the package (`delivery_status` is the log's `status`).
PART_COLUMNS: dict[str, tuple[str, ...]] = {
    "counts": (
        "indicator_id",
        *counts.COUNT_KEYS,
        "time",
        "numerator",
        "denominator",
        "events",
        "censored",
    ),
    "pieces": ("indicator_id", *PIECE_SCHEMA),
    "profiles": tuple(APPROACH_SCHEMA),
    "issues": tuple(DELIVERY_ISSUES_SCHEMA),
    "deliveries": tuple("delivery_status" if c == "status" else c for c in DELIVERY_LOG_SCHEMA),
}
# Rows in a canonical order: the content hash is taken over them as stored.
ORDER: dict[str, tuple[str, ...]] = {
    "counts": ("indicator_id", *counts.COUNT_KEYS, "time"),
    "pieces": (
        "indicator_id",
        "comparison",
        "element",
        "in_place_from",
        "municipality_code",
        "year",
        "quarter",
        "status",
    ),
    "profiles": ("municipality_code", "element", "in_place_from"),
    "deliveries": ("municipality_code", "received_at", "extract_date", "content_hash"),
    "issues": (
        "municipality_code",
        "received_at",
        "content_hash",
        "kind",
        "file",
        "row_number",
        "rule",
        "column_name",
        "message",
    ),
}


class PackageRejected(Exception):
    """A package failed a check: `problems` say what, and what to do."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path.name}: " + "; ".join(p.what for p in problems))


@dataclass(frozen=True)
class Problem:
    """One failed check of a package: what is wrong and what to do. Never a count or a value
    from the package beyond its metadata."""

    what: str
    fix: str


@dataclass(frozen=True)
class Package:
    """A package read and checked: its metadata (`hgkm.*` keys, without the prefix) and rows
    (`frame`; None when only its metadata was read, and each part is read from the file)."""

    path: Path
    meta: dict[str, str]
    frame: pl.DataFrame | None = field(repr=False)

    @property
    def producer(self) -> str:
        return self.meta["producer"]

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.meta["created_at"])

    @property
    def content_sha256(self) -> str:
        return self.meta["content_sha256"]

    def part(self, name: str) -> pl.DataFrame:
        """One part's rows with its own columns (the log's status named `status` again).
        From the file, only those columns are read: the other parts' empty ones cost nothing."""
        source = self.frame.lazy() if self.frame is not None else pl.scan_parquet(self.path)
        rows = source.filter(pl.col("part") == name).select(PART_COLUMNS[name]).collect()
        return rows.rename({"delivery_status": "status"}) if name == "deliveries" else rows

    def extracts(self) -> dict[str, date]:
        """Each municipality's current extract date."""
        current = self.part("deliveries").filter(pl.col("current"))
        return dict(current.select("municipality_code", "extract_date").iter_rows())


# --- writing (at a region) ----------------------------------------------------------------


def package_frame(source: CountSource) -> pl.DataFrame:
    """Every row of a package from `source` (the region's warehouse), sorted (`ORDER`).

    Only municipalities of the reference list: the counts of any other reach no area.
    """
    known = list(reference.municipality_codes())
    delivered = source.delivered()
    parts = []
    with source.counting() as municipal:
        for ind, frame in zip(INDICATORS, municipal, strict=True):
            parts.append(_rows("counts", frame.with_columns(indicator_id=pl.lit(ind.id))))
    for ind in INDICATORS:
        if ind.is_proportion and ind.approach_elements:
            pieces = source.approach_pieces(ind).with_columns(indicator_id=pl.lit(ind.id))
            parts.append(_rows("pieces", pieces))
    parts.append(_rows("profiles", source.profiles()))
    log = source.delivery_log().rename({"status": "delivery_status"})
    parts.append(_rows("deliveries", log))
    parts.append(_rows("issues", source.delivery_issues()))
    frame = pl.concat(parts).filter(pl.col("municipality_code").is_in(known))
    if not set(delivered) <= set(frame["municipality_code"].unique().to_list()):
        raise RuntimeError("a delivered municipality is missing from its own package")
    return _sorted(frame)


def _rows(part: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` as package rows of `part`: its columns in place, every other column empty."""
    return frame.select(
        pl.lit(part).alias("part"),
        *(
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in SCHEMA.items()
            if name != "part"
        ),
    )


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    part_order = pl.col("part").replace_strict(
        {p: i for i, p in enumerate(PARTS)}, return_dtype=pl.Int8
    )
    indicator_order = pl.col("indicator_id").replace_strict(
        {ind.id: i for i, ind in enumerate(INDICATORS)}, default=None, return_dtype=pl.Int16
    )
    ordered = []
    for part in PARTS:
        rows = frame.filter(pl.col("part") == part)
        keys = [indicator_order if k == "indicator_id" else pl.col(k) for k in ORDER[part]]
        ordered.append(rows.sort(keys, nulls_last=False))
    return pl.concat(ordered).sort(part_order, maintain_order=True)


def content_sha256(frame: pl.DataFrame) -> str:
    """SHA-256 of the rows as CSV text: the same rows give the same hash, whatever the
    Parquet encoding or library version that stored them."""
    text = io.BytesIO()
    frame.write_csv(text, datetime_format="%Y-%m-%dT%H:%M:%S%.f", date_format="%Y-%m-%d")
    return hashlib.sha256(text.getvalue()).hexdigest()


def metadata(frame: pl.DataFrame, producer: str, created_at: datetime, code: str) -> dict:
    """The package's key-value metadata, every key prefixed `hgkm.`."""
    deliveries = frame.filter((pl.col("part") == "deliveries") & pl.col("current"))
    fields = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "contract_version": CONTRACT_VERSION,
        "catalogue_version": catalogue_version(),
        "cell_sources": cell_sources_version(),
        "producer": producer,
        "created_at": created_at.isoformat(timespec="seconds"),
        "code_version": code,
        "municipalities": ",".join(sorted(deliveries["municipality_code"].to_list())),
        "rows": str(frame.height),
        "content_sha256": content_sha256(frame),
        "sensitivity": SENSITIVITY,
    }
    return {f"hgkm.{key}": value for key, value in fields.items()}


def write_package(frame: pl.DataFrame, out: Path, meta: dict[str, str]) -> None:
    """Write the package next to `out` and rename it into place: a reader never sees half."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        frame.write_parquet(partial, metadata=meta, statistics=False)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def cell_sources_version() -> str:
    """Which published cells a package's counts are (`metrics.indicators.CELL_SOURCES`), as
    text: `year+all<-quarter+category, …`. A hub publishing other cells cannot use them."""
    name = {(False, False): "year+all", (True, False): "quarter+all"}
    name |= {(False, True): "year+category", (True, True): "quarter+category"}
    return ", ".join(f"{name[cell]}<-{name[source]}" for cell, source in CELL_SOURCES.items())


def default_producer(frame: pl.DataFrame) -> str:
    """The Veilig Thuis region(s) the delivered municipalities belong to, e.g. `VT11
    IJsselland`: who made the package, unless the analyst names it."""
    delivered = frame.filter((pl.col("part") == "deliveries") & pl.col("current"))
    muni = reference.municipalities().filter(
        pl.col("municipality_code").is_in(delivered["municipality_code"].to_list())
    )
    names = reference.regions().filter(pl.col("region_type") == "veilig_thuis_region")
    codes = sorted(set(muni["veilig_thuis_region_code"].to_list()))
    by_code = dict(names.select("region_code", "region_name").iter_rows())
    return ", ".join(f"{code} {by_code.get(code, '')}".strip() for code in codes) or "unknown"


# --- reading and checking (at a hub) ------------------------------------------------------


def read_package(path: Path, *, whole: bool = True) -> Package:
    """Read a package and check it whole; raises `PackageRejected` with every problem found.

    Without `whole`, only its metadata (format, versions) and columns: for the hub's own store,
    whose packages were checked whole on import."""
    problems: list[Problem] = []
    try:
        raw_meta = pl.read_parquet_metadata(path)
        schema = dict(pl.read_parquet_schema(path))
        frame = pl.read_parquet(path) if whole else None
    except Exception as exc:  # any unreadable file is a rejection, never a crash
        raise PackageRejected(
            path,
            [
                Problem(
                    f"not a readable Parquet file ({type(exc).__name__})",
                    "send the file `hgkm share export` wrote, unchanged",
                )
            ],
        ) from None
    meta = {k.removeprefix("hgkm."): v for k, v in raw_meta.items() if k.startswith("hgkm.")}
    problems += _check_meta(meta)
    if not problems:
        problems += _check_schema(schema)
    if not problems and frame is not None:
        frame = frame.select(list(SCHEMA))
        if content_sha256(frame) != meta["content_sha256"]:
            problems.append(
                Problem(
                    "its data does not match its content hash: it was changed or damaged "
                    "after export",
                    "ask the region for a fresh `hgkm share export`",
                )
            )
    if not problems and frame is not None:
        problems += check_rows(frame)
    if problems:
        raise PackageRejected(path, problems)
    return Package(path, meta, frame)


REQUIRED_META = (
    "format",
    "format_version",
    "contract_version",
    "catalogue_version",
    "cell_sources",
    "producer",
    "created_at",
    "content_sha256",
)


def _check_meta(meta: dict[str, str]) -> list[Problem]:
    if meta.get("format") != FORMAT:
        return [
            Problem(
                "not an HGKM aggregate package (no hgkm.format in its metadata)",
                "export one with `hgkm share export --out FILE` at the region",
            )
        ]
    problems = [
        Problem(f"its metadata lacks hgkm.{key}", "export the package again, unchanged")
        for key in REQUIRED_META
        if not meta.get(key)
    ]
    expected = {
        "format_version": (FORMAT_VERSION, "written in package format"),
        "contract_version": (CONTRACT_VERSION, "counted under export contract"),
        "catalogue_version": (catalogue_version(), "counted under indicator catalogue"),
        "cell_sources": (cell_sources_version(), "counted in the cells of"),
    }
    for key, (mine, what) in expected.items():
        theirs = meta.get(key)
        if theirs and theirs != mine:
            problems.append(
                Problem(
                    f"{what} version {theirs}; this hub uses {mine}",
                    "the region and the hub must run the same HGKM monitor release: "
                    "upgrade the older one and export again",
                )
            )
    if meta.get("created_at"):
        try:
            datetime.fromisoformat(meta["created_at"])
        except ValueError:
            problems.append(
                Problem("hgkm.created_at is not a timestamp", "export the package again")
            )
    return problems


def _check_schema(schema: dict[str, pl.DataType]) -> list[Problem]:
    missing = [c for c in SCHEMA if c not in schema]
    extra = [c for c in schema if c not in SCHEMA]
    wrong = [c for c, dtype in SCHEMA.items() if c in schema and schema[c] != dtype]
    problems = []
    if missing or extra:
        problems.append(
            Problem(
                f"columns differ from the package format (missing: {', '.join(missing) or '-'};"
                f" unexpected: {', '.join(extra) or '-'})",
                "send the file `hgkm share export` wrote, unchanged",
            )
        )
    if wrong:
        problems.append(
            Problem(
                f"columns of the wrong type: {', '.join(wrong)}",
                "send the file `hgkm share export` wrote, unchanged",
            )
        )
    return problems


def check_rows(frame: pl.DataFrame) -> list[Problem]:
    """The rows' own checks: parts, codes, grains, counts; one problem per kind, with how
    many rows break it (never their values)."""
    fix = "the package does not hold what `hgkm share export` writes: ask for a fresh export"
    problems: list[Problem] = []

    def rule(what: str, broken: pl.Expr, part: str | None = None) -> None:
        rows = frame if part is None else frame.filter(pl.col("part") == part)
        n = rows.select(broken.fill_null(True).sum()).item()
        if n:
            problems.append(Problem(f"{what} ({n} rows)", fix))

    rule("an unknown part", ~pl.col("part").is_in(PARTS))
    rule(
        "a municipality code outside the reference list",
        ~pl.col("municipality_code").is_in(list(reference.municipality_codes())),
    )
    known_ids = list(BY_ID)
    for part in ("counts", "pieces"):
        rule(f"{part}: an unknown indicator", ~pl.col("indicator_id").is_in(known_ids), part)
        rule(f"{part}: a year outside 2000-2100", ~pl.col("year").is_between(2000, 2100), part)
        rule(f"{part}: a quarter outside 0-4", ~pl.col("quarter").is_between(0, 4), part)
    for ind in INDICATORS:
        rows = frame.filter((pl.col("part") == "counts") & (pl.col("indicator_id") == ind.id))
        problems += _check_counts(ind, rows, fix)
    pieces = frame.filter(pl.col("part") == "pieces")
    rule(
        "pieces: numerator or denominator missing, negative or numerator above denominator",
        ~((pl.col("numerator") >= 0) & (pl.col("numerator") <= pl.col("denominator"))),
        "pieces",
    )
    rule("pieces: a quarter of 0", pl.col("quarter") == 0, "pieces")
    rule(
        "pieces: an unknown comparison or status",
        ~(
            pl.col("comparison").is_in(["with_without", "before_after"])
            & pl.col("status").is_in(["with", "without", "before", "after", "other"])
        ),
        "pieces",
    )
    rule("pieces or profiles: no element", pl.col("element").is_null(), "pieces")
    rule("pieces or profiles: no element", pl.col("element").is_null(), "profiles")
    rule("profiles: no start date", pl.col("in_place_from").is_null(), "profiles")
    rule(
        "issues: a kind other than error or warning",
        ~pl.col("kind").is_in(["error", "warning"]),
        "issues",
    )
    deliveries = frame.filter(pl.col("part") == "deliveries")
    rule(
        "deliveries: no extract date, status or currency",
        pl.col("extract_date").is_null()
        | ~pl.col("delivery_status").is_in(["accepted", "rejected"])
        | pl.col("current").is_null(),
        "deliveries",
    )
    current = deliveries.filter(pl.col("current"))
    if current["municipality_code"].n_unique() != current.height:
        problems.append(Problem("deliveries: a municipality with two current deliveries", fix))
    counted = set(
        frame.filter(pl.col("part").is_in(["counts", "pieces"]))["municipality_code"]
        .unique()
        .to_list()
    )
    without = counted - set(current["municipality_code"].to_list())
    if without:
        problems.append(
            Problem(f"counts for {len(without)} municipalities without a current delivery", fix)
        )
    if not pieces.is_empty() and (
        pieces.select(
            "indicator_id", "comparison", "element", "in_place_from", "municipality_code",
            "year", "quarter", "status",
        ).is_duplicated().any()
    ):  # fmt: skip
        problems.append(Problem("pieces: the same piece twice", fix))
    return problems


def _check_counts(ind: Indicator, rows: pl.DataFrame, fix: str) -> list[Problem]:
    """One indicator's counts: valid grains and breakdown labels, consistent measures, no key
    twice, and every grain summing to the same cohort-year totals."""
    if rows.is_empty():
        return []
    problems = []
    measures = ["numerator", "denominator"] if ind.is_proportion else ["events", "censored"]
    others = ["events", "censored", "time"] if ind.is_proportion else ["numerator", "denominator"]
    labels = [ALL] + [f"{f}={c}" for f in ind.breakdowns for c in CATEGORIES.get(f, ())]
    allowed = pl.lit(False)
    for quarterly, by_category in count_grains(ind):
        allowed |= ((pl.col("quarter") != 0) == quarterly) & (
            (pl.col("breakdown") != ALL) == by_category
        )
    checks = {
        "a breakdown that is not one of its categories": ~pl.col("breakdown").is_in(labels),
        "a cohort grain this release does not count in": ~allowed,
        "a count missing or negative": pl.any_horizontal(
            *(pl.col(m).is_null() | (pl.col(m) < 0) for m in measures)
        ),
        "a column of the other kind of indicator filled": pl.any_horizontal(
            *(pl.col(c).is_not_null() for c in others)
        ),
    }
    if ind.is_proportion:
        checks["a numerator above its denominator"] = pl.col("numerator") > pl.col("denominator")
    else:
        checks["a time missing or negative"] = pl.col("time").is_null() | (pl.col("time") < 0)
    for what, broken in checks.items():
        n = rows.select(broken.fill_null(True).sum()).item()
        if n:
            problems.append(Problem(f"counts of {ind.id}: {what} ({n} rows)", fix))
    keys = [*counts.COUNT_KEYS, *([] if ind.is_proportion else ["time"])]
    if rows.select(keys).is_duplicated().any():
        problems.append(Problem(f"counts of {ind.id}: the same cell twice", fix))
    if problems:
        return problems
    # every grain must give the same municipality × cohort year totals (× time)
    totals = [
        rows.filter(((pl.col("quarter") != 0) == quarterly) & ((pl.col("breakdown") != ALL) == cat))
        .group_by("municipality_code", "year", *keys[4:])
        .agg(pl.col(m).sum() for m in measures)
        .sort(pl.all())
        for quarterly, cat in count_grains(ind)
    ]
    if any(not t.equals(totals[0]) for t in totals[1:]):
        problems.append(Problem(f"counts of {ind.id}: its grains do not add up alike", fix))
    return problems


# --- the hub's store ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A package in the hub's store, with when it was imported."""

    package: Package
    imported_at: datetime


def stored_name(package: Package, imported_at: datetime) -> str:
    """`<imported>-<hash>.parquet`: sorts by import time; the hash finds a re-import."""
    return f"{imported_at:%Y%m%dT%H%M%S}-{package.content_sha256[:16]}.parquet"


def _imported_at(path: Path) -> datetime:
    return datetime.strptime(path.name.split("-", 1)[0], "%Y%m%dT%H%M%S")


def stored_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.parquet")) if directory.is_dir() else []


def find_stored(directory: Path, content_sha256: str) -> Path | None:
    """The stored file of a package with these contents, if one was imported before."""
    for path in stored_files(directory):
        if path.stem.split("-", 1)[-1] == content_sha256[:16]:
            stored = pl.read_parquet_metadata(path).get("hgkm.content_sha256")
            if stored == content_sha256:
                return path
    return None


def stored_extracts(directory: Path) -> dict[Path, tuple[str, dict[str, date]]]:
    """Each stored package's producer and current extract dates, read without the rest."""
    found = {}
    for path in stored_files(directory):
        producer = pl.read_parquet_metadata(path).get("hgkm.producer", "?")
        current = (
            pl.scan_parquet(path)
            .filter((pl.col("part") == "deliveries") & pl.col("current"))
            .select("municipality_code", "extract_date")
            .collect()
        )
        found[path] = (producer, dict(current.iter_rows()))
    return found


def store(package: Package, directory: Path, imported_at: datetime) -> Path:
    """Copy the checked package into the store: a new file, renamed into place."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / stored_name(package, imported_at)
    partial = directory / f".{target.name}.partial-{os.getpid()}"
    try:
        partial.write_bytes(package.path.read_bytes())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def load_store(directory: Path, as_of: date | None = None) -> list[Stored]:
    """Every stored package (imported on or before `as_of`, when given), oldest import first.
    Its metadata and columns are checked again (a package of an older release, or one that no
    longer reads, is an error, not a silent gap); its rows and hash were checked on import."""
    found = []
    for path in stored_files(directory):
        imported_at = _imported_at(path)
        if as_of is not None and imported_at.date() > as_of:
            continue
        found.append(Stored(read_package(path, whole=False), imported_at))
    return found


# --- a package as a source of counts ------------------------------------------------------


class PackageCounts:
    """The municipal counts of one package (`metrics.counts.CountSource`)."""

    def __init__(self, package: Package) -> None:
        self.package = package
        self._counts = package.part("counts").partition_by("indicator_id", as_dict=True)
        self._pieces = package.part("pieces").partition_by("indicator_id", as_dict=True)

    def delivered(self) -> list[str]:
        return sorted(self.package.extracts())

    @contextmanager
    def counting(self) -> Iterator[Iterator[pl.DataFrame]]:
        yield (self._of(self._counts, ind, counts.count_columns(ind)) for ind in INDICATORS)

    def approach_pieces(self, indicator: Indicator) -> pl.DataFrame:
        return self._of(self._pieces, indicator, list(PIECE_SCHEMA))

    def profiles(self) -> pl.DataFrame:
        return self.package.part("profiles")

    def delivery_log(self) -> pl.DataFrame:
        return self.package.part("deliveries").select(list(DELIVERY_LOG_SCHEMA))

    def delivery_issues(self) -> pl.DataFrame:
        return self.package.part("issues")

    @staticmethod
    def _of(
        frames: dict[tuple[object, ...], pl.DataFrame], ind: Indicator, columns: list[str]
    ) -> pl.DataFrame:
        frame = frames.get((ind.id,))
        if frame is None:
            return pl.DataFrame(schema={c: SCHEMA[c] for c in columns})
        return frame.select(columns)
