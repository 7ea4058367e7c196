"""The one module that opens the published mart: a cached read-only connection and cached queries.

Every rerun reads the mart file's identity (inode, mtime, size). `hgkm compute` renames a
new file over the old one; the next rerun sees a new identity, the cached connection closes
the old file and opens the new one. Queries are cached per identity as well, so a new
publication is never mixed with answers from the old one.

For the review before publishing, it also reads the staged mart's changes (`release_changes`)
and the publications' records; no public page reads a staged mart.

Restricted data (why deliveries were rejected, their reports, approach notes) is filtered
here, in SQL, by the `Scope` every such query takes (hgkm.access): pages never see more than
the scope allows. Streamlit's caches are shared by all sessions, so the scope is an argument,
and with it part of every cache key: an answer computed for one scope is never served to
another.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from hgkm import release
from hgkm.access import Scope
from hgkm.mart import NATIONAL
from hgkm.reference import DEFAULT_REGION_TYPE, MUNICIPALITY_GEOJSON
from hgkm.settings import resolve_paths

QUERY_TTL_SECONDS = 600
# The columns that say why a delivery was rejected or warned: empty outside the scope's reach
# of `reasons`. What remains is public: whether and when a municipality delivered.
REASON_COLUMNS = {
    "delivery_status": (
        "last_received_at", "last_status", "n_accepted", "n_rejected", "n_warnings",
        "last_rejection_summary",
    ),
    "delivery_log": ("status", "content_hash", "rows_loaded", "n_warnings", "n_errors", "summary"),
}  # fmt: skip
# A row's municipality lies in the reach bound as $all / $codes (Reach.params()).
IN_REACH = "($all or list_contains($codes::varchar[], municipality_code))"


@dataclass(frozen=True)
class MartVersion:
    """One published edition of the mart: its path and the file identity at that moment."""

    path: str
    inode: int
    mtime_ns: int
    size: int


def current_version(path: Path | None = None) -> MartVersion | None:
    """The mart as it is on disk now, or None when nothing has been published."""
    path = path or resolve_paths().mart
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return MartVersion(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)


class _Handle:
    """The mart connection of one path, reopened when a new edition is published.

    DuckDB shares one database instance per path within a process, so the old connection
    must be closed before the new file is opened, or the new connection would still see
    the old edition.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mart: MartVersion | None = None
        self._connection: duckdb.DuckDBPyConnection | None = None

    def cursor(self, mart: MartVersion) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._mart != mart:
                if self._connection is not None:
                    self._connection.close()
                self._connection = duckdb.connect(mart.path, read_only=True)
                self._mart = mart
            # DuckDB connections are not shared between threads: a cursor per query.
            return self._connection.cursor()


@st.cache_resource(show_spinner=False)
def _handle(path: str) -> _Handle:
    return _Handle()


def _frame(mart: MartVersion, sql: str, params: dict | None = None) -> pl.DataFrame:
    cursor = _handle(mart.path).cursor(mart)
    try:
        return cursor.sql(sql, params=params).pl()
    finally:
        cursor.close()


def _cached(func):
    return st.cache_data(ttl=QUERY_TTL_SECONDS, show_spinner=False)(func)


@st.cache_resource(show_spinner=False)
def municipality_geojson() -> dict:
    """The shipped municipal outlines (CBS/PDOK 2025); nothing is fetched from the internet."""
    return json.loads(MUNICIPALITY_GEOJSON.read_text(encoding="utf-8"))


@_cached
def catalogue(mart: MartVersion) -> pl.DataFrame:
    return _frame(mart, "select * from catalogue order by sort_order")


@_cached
def publication(mart: MartVersion) -> dict:
    rows = _frame(mart, "select * from publication").to_dicts()
    return rows[0] if rows else {}


@_cached
def periods(mart: MartVersion) -> pl.DataFrame:
    """Every period, newest first; `is_default` marks the one to open with."""
    return _frame(mart, "select * from periods order by sort_key desc")


@_cached
def regions(mart: MartVersion, region_type: str = DEFAULT_REGION_TYPE) -> pl.DataFrame:
    return _frame(
        mart,
        """select area_code, area_name, n_municipalities, n_delivered from areas
           where area_type = 'region' and region_type = $region_type order by area_name""",
        {"region_type": region_type},
    )


@_cached
def municipalities(mart: MartVersion) -> pl.DataFrame:
    """Municipalities known to the mart, with population and Veilig Thuis region."""
    return _frame(
        mart,
        """select m.area_code, m.area_name, m.population,
                  coalesce(m.veilig_thuis_region, r.area_code) as veilig_thuis_region
           from areas m
           left join area_members am on am.municipality_code = m.area_code
                and am.area_code like 'veilig_thuis_region:%'
           left join areas r on r.area_code = am.area_code
           where m.area_type = 'municipality'
           order by m.area_name""",
    ).unique("area_code", keep="first", maintain_order=True)


@_cached
def delivered(mart: MartVersion) -> list[str]:
    """Codes of the municipalities with a current delivery."""
    return _frame(
        mart, "select area_code from areas where area_type = 'municipality' and n_delivered > 0"
    )["area_code"].to_list()


@_cached
def region_members(mart: MartVersion, region: str) -> pl.DataFrame:
    """The region's municipalities (delivered or not), by name."""
    return _frame(
        mart,
        """select am.municipality_code as area_code,
                  coalesce(a.area_name, ds.municipality_name, am.municipality_code) as area_name,
                  a.population
           from area_members am
           left join areas a on a.area_code = am.municipality_code
           left join delivery_status ds on ds.municipality_code = am.municipality_code
           where am.area_code = $region
           order by area_name""",
        {"region": region},
    )


@_cached
def region_values(mart: MartVersion, region: str, period: str) -> pl.DataFrame:
    """All indicators for the region's municipalities, the region itself and the country."""
    return _frame(
        mart,
        """select v.* from indicator_values v
           where v.period = $period and v.breakdown = 'all'
             and (v.area_code in (select municipality_code from area_members
                                  where area_code = $region)
                  or v.area_code = $region or v.area_code = $national)""",
        {"region": region, "period": period, "national": NATIONAL},
    )


@_cached
def national_spread(mart: MartVersion, period: str) -> pl.DataFrame:
    """Per indicator the spread of published municipal values in the country (the benchmark's
    when one is imported): min, quartiles, max."""
    return _frame(
        mart,
        f"""select indicator_id, min(value) as minimum, quantile_cont(value, 0.25) as q25,
                  quantile_cont(value, 0.75) as q75, max(value) as maximum
           from ({_national_municipalities(mart)})
           where period = $period and breakdown = 'all' and not suppressed and value is not null
           group by indicator_id""",
        {"period": period},
    )


@_cached
def area_values(mart: MartVersion, area_codes: tuple[str, ...], period: str) -> pl.DataFrame:
    """Every indicator for the given areas in one period (breakdown `all`)."""
    return _frame(
        mart,
        """select * from indicator_values
           where period = $period and breakdown = 'all' and list_contains($areas, area_code)""",
        {"period": period, "areas": list(area_codes)},
    )


@_cached
def series(
    mart: MartVersion, indicator: str, area_codes: tuple[str, ...], period_type: str
) -> pl.DataFrame:
    """One indicator over all cohort years (or quarters) for the given areas."""
    return _frame(
        mart,
        """select v.*, p.sort_key from indicator_values v join periods p using (period)
           where v.indicator_id = $indicator and v.breakdown = 'all'
             and v.period_type = $period_type and list_contains($areas, v.area_code)
           order by p.sort_key""",
        {"indicator": indicator, "areas": list(area_codes), "period_type": period_type},
    )


@_cached
def trends(mart: MartVersion, indicator: str | None, area_codes: tuple[str, ...]) -> pl.DataFrame:
    """Cochran–Armitage trend per area; all indicators when `indicator` is None."""
    return _frame(
        mart,
        """select * from trends
           where breakdown = 'all' and list_contains($areas, area_code)
             and ($indicator is null or indicator_id = $indicator)""",
        {"indicator": indicator, "areas": list(area_codes)},
    )


@_cached
def km_curves(mart: MartVersion, area_codes: tuple[str, ...], period: str) -> pl.DataFrame:
    return _frame(
        mart,
        """select * from km_curves where period = $period and list_contains($areas, area_code)
           order by area_code, time""",
        {"period": period, "areas": list(area_codes)},
    )


@_cached
def municipal_values(mart: MartVersion, indicator: str, period: str) -> pl.DataFrame:
    """One indicator for every municipality in the country (with a benchmark imported, those
    this mart does not publish come from the benchmark), with population and Veilig Thuis
    region."""
    return _frame(
        mart,
        f"""select v.*, a.population, a.veilig_thuis_region
           from ({_national_municipalities(mart)}) v left join areas a using (area_code)
           where v.indicator_id = $indicator and v.period = $period and v.breakdown = 'all'""",
        {"indicator": indicator, "period": period},
    )


def _national_municipalities(mart: MartVersion) -> str:
    """SQL: the municipal rows of indicator_values, and the benchmark's for the others."""
    own = "select * from indicator_values where area_type = 'municipality'"
    if not _has_table(mart, "benchmark_figures"):
        return own
    return f"""{own} union all by name
        select * from benchmark_figures where area_type = 'municipality'"""


@_cached
def benchmark(mart: MartVersion) -> dict:
    """The imported national benchmark's source, publication date and coverage; empty when
    the country here is only the delivering municipalities."""
    if not _has_table(mart, "benchmark"):
        return {}
    rows = _frame(mart, "select * from benchmark").to_dicts()
    return rows[0] if rows else {}


@_cached
def national_coverage(mart: MartVersion) -> tuple[int, int]:
    """How many municipalities the country's figures hold, of how many."""
    rows = _frame(
        mart, "select n_delivered, n_municipalities from areas where area_type = 'national'"
    )
    return (
        (int(rows["n_delivered"][0]), int(rows["n_municipalities"][0])) if rows.height else (0, 0)
    )


@_cached
def benchmark_deliveries(mart: MartVersion) -> pl.DataFrame:
    """Municipalities whose delivery here is not the one the benchmark counted."""
    if not _has_table(mart, "benchmark_deliveries"):
        return pl.DataFrame()
    return _frame(
        mart,
        """select b.*, a.area_name as municipality_name from benchmark_deliveries b
           left join areas a on a.area_code = b.municipality_code
           where not same_delivery order by municipality_code""",
    )


@_cached
def benchmark_values(mart: MartVersion, indicator: str, period: str) -> pl.DataFrame:
    """One indicator for every region and the country (the benchmarks)."""
    return _frame(
        mart,
        """select * from indicator_values
           where indicator_id = $indicator and period = $period and breakdown = 'all'
             and area_type <> 'municipality'""",
        {"indicator": indicator, "period": period},
    )


@_cached
def funnel(mart: MartVersion, indicator: str, period: str) -> dict:
    rows = _frame(
        mart,
        """select * from funnel
           where indicator_id = $indicator and period = $period and breakdown = 'all'""",
        {"indicator": indicator, "period": period},
    ).to_dicts()
    return rows[0] if rows else {}


@_cached
def funnel_limits(mart: MartVersion, indicator: str, period: str) -> pl.DataFrame:
    return _frame(
        mart,
        """select * from funnel_limits
           where indicator_id = $indicator and period = $period and breakdown = 'all'
           order by denominator""",
        {"indicator": indicator, "period": period},
    )


def _redacted(table: str, where: str = "true") -> str:
    """The rows of `table` matching `where`, its reason columns empty outside the reach; the
    caller may filter further on `in_reach`. (The reach is decided once per row.)"""
    blanks = ", ".join(f"case when in_reach then {c} end as {c}" for c in REASON_COLUMNS[table])
    return f"""with matching as (select *, {IN_REACH} as in_reach from {table} where {where})
               select * exclude (in_reach) replace ({blanks}) from matching"""


@_cached
def delivery_status(mart: MartVersion, scope: Scope) -> pl.DataFrame:
    """Every municipality's delivery status; the reasons only where the scope reaches."""
    return _frame(
        mart,
        _redacted("delivery_status") + " order by municipality_name",
        scope.reach("reasons").params(),
    )


@_cached
def delivery_log(mart: MartVersion, municipality: str, scope: Scope) -> pl.DataFrame:
    """One municipality's deliveries, newest first; outside the scope's reach only the
    accepted ones, without their reasons."""
    return _frame(
        mart,
        _redacted("delivery_log", "municipality_code = $code")
        + " where in_reach or status = 'accepted' order by received_at desc",
        {"code": municipality, **scope.reach("reasons").params()},
    )


@_cached
def delivery_issues(mart: MartVersion, municipality: str, scope: Scope) -> pl.DataFrame:
    """Every finding of one municipality's deliveries (its full reports); none outside the
    scope's reach (nor in a mart published before the table existed)."""
    if not _has_table(mart, "delivery_issues"):
        return pl.DataFrame()
    return _frame(
        mart,
        f"""select * from delivery_issues where municipality_code = $code and {IN_REACH}
            order by received_at desc, kind, file, row_number nulls first, rule""",
        {"code": municipality, **scope.reach("reports").params()},
    )


def _has_table(mart: MartVersion, name: str) -> bool:
    """Marts published before approach profiles existed lack their tables."""
    found = _frame(
        mart,
        "select count(*) as n from information_schema.tables where table_name = $name",
        {"name": name},
    )
    return bool(found["n"][0])


@_cached
def approach_profiles(mart: MartVersion) -> pl.DataFrame:
    """Every municipality's current approach periods (empty when none were imported)."""
    if not _has_table(mart, "approach_profiles"):
        return pl.DataFrame(
            schema={
                "municipality_code": pl.String,
                "element": pl.String,
                "in_place_from": pl.Date,
                "in_place_until": pl.Date,
            }
        )
    return _frame(
        mart, "select * from approach_profiles order by municipality_code, element, in_place_from"
    )


@_cached
def approach_notes(mart: MartVersion, scope: Scope) -> pl.DataFrame:
    """The approach profiles' notes where the scope reaches (none in an older mart)."""
    if not _has_table(mart, "approach_notes"):
        return pl.DataFrame(
            schema={
                "municipality_code": pl.String,
                "element": pl.String,
                "in_place_from": pl.Date,
                "note": pl.String,
            }
        )
    return _frame(
        mart,
        f"""select * from approach_notes where {IN_REACH}
            order by municipality_code, element, in_place_from""",
        scope.reach("notes").params(),
    )


@_cached
def approach_comparison(
    mart: MartVersion, comparison: str, area_codes: tuple[str, ...]
) -> pl.DataFrame:
    """`approach_comparison` rows of one kind for the given areas (empty without the table)."""
    if not _has_table(mart, "approach_comparison"):
        return pl.DataFrame()
    return _frame(
        mart,
        """select * from approach_comparison
           where comparison = $comparison and list_contains($areas, area_code)
           order by element, indicator_id, area_type, area_code, introduced, period""",
        {"comparison": comparison, "areas": list(area_codes)},
    )


# ---- review before publishing: the staged mart's changes and the publications (hgkm.release)


def staged() -> tuple[release.Staged, MartVersion] | None:
    """The mart waiting for review and its identity, or None. Only the Publicatie page (for
    those who may approve) reads it: the public pages read the published mart alone."""
    pending = release.staged(resolve_paths())
    if pending is None:
        return None
    version = current_version(pending.path)
    return None if version is None else (pending, version)


@st.cache_data(ttl=QUERY_TTL_SECONDS, show_spinner=False, max_entries=4)
def release_changes(mart: MartVersion) -> pl.DataFrame:
    """A mart's `release_changes`. A staged mart is opened for this one read and closed, so
    no connection outlives its review."""
    return release.changes_of(Path(mart.path))


def publications() -> tuple[list[release.Release], list[release.Rejection]]:
    """Every published mart and every rejected one, oldest first (their records, not cached:
    a decision shows at once)."""
    paths = resolve_paths()
    return release.releases(paths), release.rejections(paths)
