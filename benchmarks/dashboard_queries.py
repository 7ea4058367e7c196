"""Time the data queries behind each dashboard page on a published mart, cold and warm.

An interaction is what one page render asks of `dashboard/data.py`: the sidebar's queries
(regions, members, delivered, periods, catalogue, delivery status, publication, the
benchmark) plus the
page's own, with parameters drawn at random (region, municipality, period, indicator) as a
user clicking around would. `PAGE_QUERIES` mirrors `dashboard/app_pages/` and
`dashboard/report.py`; a test fails when a page starts using a query missing here. The map's
outlines (`municipality_geojson`) are a file read once per process, not a query: left out.

Streamlit's `st.cache_data` is bypassed through each function's `__wrapped__`, so every query
really runs on DuckDB: a user's changed parameter misses that cache anyway, and a hit would
only flatter the figure. Warm: one connection for all interactions. Cold: every interaction
comes with a new mart identity, as after a publication, so `data` closes its connection and
opens a new one (DuckDB's buffers start empty; the operating system's file cache cannot be
dropped without root and stays warm).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from dashboard import data
from hgkm.access import OPEN_SCOPE

# The scope of the dashboard without sign-in (the configuration `make run` and the budgets use).
SCOPE = OPEN_SCOPE


@dataclass(frozen=True)
class Choice:
    """The page state a user has chosen for one interaction."""

    region: str
    municipality: str
    period: str
    indicator: str
    granularity: str


def _q(name: str) -> Callable[..., Any]:
    function = getattr(data, name)
    return getattr(function, "__wrapped__", function)


Query = tuple[str, Callable[[data.MartVersion, Choice], tuple]]

SIDEBAR: tuple[Query, ...] = (
    ("regions", lambda m, c: (m,)),
    ("region_members", lambda m, c: (m, c.region)),
    ("delivered", lambda m, c: (m,)),
    ("periods", lambda m, c: (m,)),
    ("catalogue", lambda m, c: (m,)),
    ("delivery_status", lambda m, c: (m, SCOPE)),
    ("publication", lambda m, c: (m,)),
    # which Netherlands the comparisons are with (every page's footer and banners)
    ("benchmark", lambda m, c: (m,)),
    ("national_coverage", lambda m, c: (m,)),
    ("benchmark_deliveries", lambda m, c: (m,)),
)


def _areas(c: Choice) -> tuple[str, ...]:
    return (c.municipality, c.region, data.NATIONAL)


PAGE_QUERIES: dict[str, tuple[Query, ...]] = {
    "regio_overzicht": (
        ("region_members", lambda m, c: (m, c.region)),
        ("region_values", lambda m, c: (m, c.region, c.period)),
        ("catalogue", lambda m, c: (m,)),
        ("regions", lambda m, c: (m,)),
    ),
    "gemeenteprofiel": (
        ("catalogue", lambda m, c: (m,)),
        ("area_values", lambda m, c: (m, _areas(c), c.period)),
        ("national_spread", lambda m, c: (m, c.period)),
        ("trends", lambda m, c: (m, None, (c.municipality,))),
        ("series", lambda m, c: (m, c.indicator, _areas(c), "year")),
        ("km_curves", lambda m, c: (m, _areas(c), c.period)),
    ),
    "vergelijken": (
        ("catalogue", lambda m, c: (m,)),
        ("municipal_values", lambda m, c: (m, c.indicator, c.period)),
        ("benchmark_values", lambda m, c: (m, c.indicator, c.period)),
        ("funnel", lambda m, c: (m, c.indicator, c.period)),
        ("funnel_limits", lambda m, c: (m, c.indicator, c.period)),
    ),
    "trends": (
        ("municipalities", lambda m, c: (m,)),
        ("delivered", lambda m, c: (m,)),
        ("catalogue", lambda m, c: (m,)),
        ("series", lambda m, c: (m, c.indicator, _areas(c), c.granularity)),
        ("trends", lambda m, c: (m, c.indicator, _areas(c))),
    ),
    "indicatoren": (("catalogue", lambda m, c: (m,)),),
    "aanleveringen": (
        ("publication", lambda m, c: (m,)),
        ("delivery_status", lambda m, c: (m, SCOPE)),
        ("delivery_log", lambda m, c: (m, c.municipality, SCOPE)),
        ("delivery_issues", lambda m, c: (m, c.municipality, SCOPE)),
    ),
    "aanpak": (
        ("approach_profiles", lambda m, c: (m,)),
        ("approach_notes", lambda m, c: (m, SCOPE)),
        ("region_members", lambda m, c: (m, c.region)),
        ("catalogue", lambda m, c: (m,)),
        ("approach_comparison", lambda m, c: (m, "with_without", (c.region, data.NATIONAL))),
        ("approach_comparison", lambda m, c: (m, "before_after", (c.municipality,))),
    ),
    "verwerking": (
        ("publication", lambda m, c: (m,)),
        ("delivery_status", lambda m, c: (m, SCOPE)),
    ),
    "rapport": (
        ("regions", lambda m, c: (m,)),
        ("region_values", lambda m, c: (m, c.region, c.period)),
        ("region_members", lambda m, c: (m, c.region)),
        ("catalogue", lambda m, c: (m,)),
    ),
    "aanpak_bewerken": (
        ("municipalities", lambda m, c: (m,)),
        ("approach_profiles", lambda m, c: (m,)),
        ("approach_notes", lambda m, c: (m, SCOPE)),
        ("publication", lambda m, c: (m,)),
    ),
    # the page reads a staged mart's changes; the published mart's own are the same table
    "publicatie": (
        ("catalogue", lambda m, c: (m,)),
        ("release_changes", lambda m, c: (m,)),
    ),
}


def _choices(mart: data.MartVersion, seed: int) -> Callable[[], Choice]:
    """A random page state drawn from what the mart holds."""
    regions = _q("regions")(mart)["area_code"].to_list()
    members = (
        _q("municipalities")(mart)
        .filter(pl.col("area_code").is_in(_q("delivered")(mart)))
        .group_by("veilig_thuis_region")
        .agg("area_code")
        .filter(pl.col("veilig_thuis_region").is_in(regions))
    )
    by_region = dict(members.iter_rows())
    periods = _q("periods")(mart)["period"].to_list()
    indicators = _q("catalogue")(mart)["indicator_id"].to_list()
    rng = random.Random(seed)

    def draw() -> Choice:
        region = rng.choice(sorted(by_region))
        return Choice(
            region=region,
            municipality=rng.choice(by_region[region]),
            period=rng.choice(periods),
            indicator=rng.choice(indicators),
            granularity=rng.choice(("year", "quarter")),
        )

    return draw


def _interaction(mart: data.MartVersion, page: str, choice: Choice) -> float:
    started = time.perf_counter()
    for name, arguments in (*SIDEBAR, *PAGE_QUERIES[page]):
        _q(name)(*arguments(mart, choice))
    return time.perf_counter() - started


def run(mart_path: Path, interactions: int, cold: bool, seed: int = 7) -> dict[str, Any]:
    """Latencies in seconds per page over `interactions` interactions, pages in turn."""
    mart = data.current_version(mart_path)
    if mart is None:
        raise FileNotFoundError(mart_path)
    draw = _choices(mart, seed)
    pages = list(PAGE_QUERIES)
    latencies: dict[str, list[float]] = {page: [] for page in pages}
    if not cold:
        _interaction(mart, pages[0], draw())  # the first one opens the connection: not warm
    for i in range(interactions):
        page = pages[i % len(pages)]
        # A new identity of the same file is what the app sees after a publication: it
        # closes its connection and opens a fresh one inside the first query.
        edition = replace(mart, mtime_ns=mart.mtime_ns + i + 1) if cold else mart
        latencies[page].append(_interaction(edition, page, draw()))
    return {"latencies": latencies, "duckdb": duckdb.__version__}
