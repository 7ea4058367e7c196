"""Build a small, complete, deterministic mart (docs/mart.md) from code, for the dashboard tests.

Two Veilig Thuis regions (VT11 IJsselland, VT03 Flevoland) and their safety regions, cohort
years 2020-2024 and the quarters of 2023-2024. Edge cases on purpose:

- GM0175 Ommen: `recurrence_after_restraining_order` suppressed (too few cases) every period;
- GM0160 Hardenberg: `time_to_specialist` median not reached in 2024;
- GM0166 Kampen: stale delivery; GM1896 Zwartewaterland: last delivery rejected;
- GM1773 Olst-Wijhe: never delivered (no figures at all);
- `coordinator_within_30d` over-dispersed, so its funnel carries random-effects limits;
- restricted rows, each naming its municipality so a test can tell whose it sees: the
  rejection and warning summaries (GM1896, GM0193, and GM0034 Almere in VT03), every finding
  of their deliveries (`delivery_issues`) and approach notes (`approach_notes`).

`revision=2` publishes a new edition in which every numerator of GM0193 Zwolle changes,
so a test can see the dashboard pick up a newly published mart.

By default the mart holds an imported national benchmark (`BENCHMARK_SOURCE`): its `NL` rows
stand for the hub's Netherlands, three Groningen municipalities come from it, and it counted
Zwolle from an older delivery. `benchmark=False` publishes without one, as a region does
before importing it: `NL` is then only the delivering municipalities.
"""

from __future__ import annotations

import os
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from hgkm import mart as declaration
from hgkm.mart import NATIONAL
from hgkm.reference import DEFAULT_REGION_TYPE, municipalities
from metrics.catalogue import INDICATORS as CATALOGUE
from metrics.catalogue import catalogue_frame

Z95 = 1.959963984540054
Z998 = 3.090232306167813
REGIONS = {"VT11": "VR04", "VT03": "VR25"}
YEARS = [2020, 2021, 2022, 2023, 2024]
QUARTER_YEARS = [2023, 2024]
NOT_DELIVERED = "GM1773"
SUPPRESSED_MUNICIPALITY, SUPPRESSED_INDICATOR = "GM0175", "recurrence_after_restraining_order"
NOT_REACHED = ("GM0160", "2024")
STALE, REJECTED = "GM0166", "GM1896"
WARNED = {"GM0193": "help_before_report: 3", "GM0034": "case_count_drop: 1"}
OVERDISPERSED = "coordinator_within_30d"
PUBLISHED_AT = datetime(2025, 6, 2, 7, 30)
BENCHMARK_SOURCE = "Landelijke hub (test)"
BENCHMARK_PUBLISHED_AT = datetime(2025, 5, 20, 6, 0)
# Municipalities this mart does not publish, shown from the benchmark; and whose figures it took.
BENCHMARK_ONLY = ("GM0014", "GM0037", "GM0047")
BENCHMARK_LIKE = "GM0193"
# The benchmark counted Zwolle from its delivery before the current one.
BENCHMARK_OLDER = "GM0193"

# The indicators, titles and polarities come from the catalogue; each proportion's base rate
# is the fixture's own, drawn from its id by the expression below (so a new indicator's changes
# no other's).
BASE_RATE = {
    ind.id: 0.1 + 0.5 * (zlib.crc32(ind.id.encode()) % 1001) / 1000
    for ind in CATALOGUE
    if ind.is_proportion
}
POLARITY = {ind.id: ind.polarity for ind in CATALOGUE}
PROPORTIONS = [ind.id for ind in CATALOGUE if ind.is_proportion]


def wilson(num: np.ndarray, den: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval, written from the formula in INDICATORS.md."""
    with np.errstate(divide="ignore", invalid="ignore"):  # empty quarters: n = 0
        p = num / den
    centre = 2 * num + z**2
    spread = z * np.sqrt(z**2 + 4 * num * (1 - p))
    return (centre - spread) / (2 * (den + z**2)), (centre + spread) / (2 * (den + z**2))


def _areas(national: bool) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    muni = municipalities()
    if not national:
        muni = muni.filter(pl.col("veilig_thuis_region_code").is_in(list(REGIONS)))
    munis = muni.select(
        pl.lit("municipality").alias("area_type"),
        pl.col("municipality_code").alias("area_code"),
        pl.col("municipality_name").alias("area_name"),
        pl.lit(None, pl.Utf8).alias("region_type"),
        pl.col("population").cast(pl.Int64),
        pl.lit(1, pl.Int64).alias("n_municipalities"),
        (pl.col("municipality_code") != NOT_DELIVERED).cast(pl.Int64).alias("n_delivered"),
        (f"{DEFAULT_REGION_TYPE}:" + pl.col("veilig_thuis_region_code")).alias(
            "veilig_thuis_region"
        ),
    )
    members = pl.concat(
        [
            muni.select(
                (f"{DEFAULT_REGION_TYPE}:" + pl.col("veilig_thuis_region_code")).alias("area_code"),
                "municipality_code",
            ),
            muni.select(
                ("safety_region:" + pl.col("safety_region_code")).alias("area_code"),
                "municipality_code",
            ),
        ]
    )
    names = pl.concat(
        [
            muni.select(
                (f"{DEFAULT_REGION_TYPE}:" + pl.col("veilig_thuis_region_code")).alias("area_code"),
                pl.col("veilig_thuis_region_name").alias("area_name"),
                pl.lit(DEFAULT_REGION_TYPE).alias("region_type"),
            ),
            muni.select(
                ("safety_region:" + pl.col("safety_region_code")).alias("area_code"),
                pl.col("safety_region_name").alias("area_name"),
                pl.lit("safety_region").alias("region_type"),
            ),
        ]
    ).unique()
    regions = (
        members.join(munis.rename({"area_code": "municipality_code"}), on="municipality_code")
        .group_by("area_code")
        .agg(
            pl.col("population").sum(),
            pl.len().cast(pl.Int64).alias("n_municipalities"),
            pl.col("n_delivered").sum(),
        )
        .join(names, on="area_code")
        .select(
            pl.lit("region").alias("area_type"),
            "area_code",
            "area_name",
            "region_type",
            "population",
            "n_municipalities",
            "n_delivered",
            pl.lit(None, pl.Utf8).alias("veilig_thuis_region"),
        )
    )
    national = pl.DataFrame(
        {
            "area_type": ["national"],
            "area_code": [NATIONAL],
            "area_name": ["Nederland"],
            "region_type": [None],
            "population": [munis["population"].sum()],
            "n_municipalities": [len(municipalities())],
            "n_delivered": [munis["n_delivered"].sum()],
            "veilig_thuis_region": [None],
        },
        schema=munis.schema,
    )
    areas = pl.concat([munis, regions, national]).sort("area_type", "area_code")
    return areas, members, muni


def _periods() -> pl.DataFrame:
    rows = [(str(y), "year", y, None, y * 10) for y in YEARS] + [
        (f"{y}-Q{q}", "quarter", y, q, y * 10 + q) for y in QUARTER_YEARS for q in range(1, 5)
    ]
    return pl.DataFrame(
        rows,
        schema={
            "period": pl.Utf8,
            "period_type": pl.Utf8,
            "year": pl.Int32,
            "quarter": pl.Int32,
            "sort_key": pl.Int32,
        },
        orient="row",
    ).with_columns((pl.col("period") == "2024").alias("is_default"))


def _municipal_counts(areas: pl.DataFrame, revision: int) -> pl.DataFrame:
    """Numerators and denominators per municipality × indicator × period × breakdown."""
    rng = np.random.default_rng(20250602)
    munis = areas.filter(
        (pl.col("area_type") == "municipality") & (pl.col("area_code") != NOT_DELIVERED)
    )
    grid = (
        munis.select("area_code", "population")
        .join(pl.DataFrame({"indicator_id": PROPORTIONS}), how="cross")
        .join(_periods().select("period", "period_type", "year"), how="cross")
    )
    grid = pl.concat(
        [
            grid.with_columns(pl.lit("all").alias("breakdown"), pl.lit(1.0).alias("share")),
            grid.filter(pl.col("indicator_id") == "recurrence_12m").with_columns(
                pl.lit("violence_type=partner").alias("breakdown"), pl.lit(0.55).alias("share")
            ),
        ]
    ).sort("area_code", "indicator_id", "period", "breakdown")
    n = grid.height
    size = grid["population"].to_numpy() / 1000 * 1.4 * grid["share"].to_numpy()
    size = np.where(grid["period_type"].to_numpy() == "quarter", size / 4, size)
    den = np.maximum(np.round(size * rng.uniform(0.8, 1.2, n)), 0).astype(np.int64)
    effect = rng.normal(0, 0.06, n)
    trend = (grid["year"].to_numpy() - 2022) * np.where(
        grid["indicator_id"].to_numpy() == "coordinator_within_30d", 0.03, 0.0
    )
    rate = np.clip(
        grid["indicator_id"].replace_strict(BASE_RATE).to_numpy() + effect + trend, 0.02, 0.98
    )
    num = rng.binomial(den, rate)
    small = (grid["area_code"] == SUPPRESSED_MUNICIPALITY) & (
        grid["indicator_id"] == SUPPRESSED_INDICATOR
    )
    den = np.where(small.to_numpy(), 6, den)
    num = np.where(small.to_numpy(), 2, num)
    if revision == 2:
        zwolle = (grid["area_code"] == "GM0193").to_numpy()
        num = np.where(zwolle, np.minimum(num + 7, den), num)
    return grid.with_columns(
        pl.Series("numerator", num, pl.Int64), pl.Series("denominator", den, pl.Int64)
    ).drop("population", "share", "period_type", "year")


def _primary_suppressed(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    rest = den - num
    return (den < 10) | num.is_between(1, 4) | rest.is_between(1, 4)


def _proportion_rows(counts: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    munis = counts.with_columns(pl.lit("municipality").alias("area_type"))
    regions = (
        counts.join(members.rename({"area_code": "region"}), left_on="area_code",
                    right_on="municipality_code")
        .group_by("region", "indicator_id", "period", "breakdown")
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
        .rename({"region": "area_code"})
        .with_columns(pl.lit("region").alias("area_type"))
    )  # fmt: skip
    national = (
        counts.group_by("indicator_id", "period", "breakdown")
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
        .with_columns(pl.lit(NATIONAL).alias("area_code"), pl.lit("national").alias("area_type"))
    )
    rows = pl.concat([munis, regions, national], how="diagonal")
    low, high = wilson(rows["numerator"].to_numpy(), rows["denominator"].to_numpy())
    return rows.with_columns(
        (pl.col("numerator") / pl.col("denominator")).alias("value"),
        pl.Series("ci_low", low),
        pl.Series("ci_high", high),
        _primary_suppressed(pl.col("numerator"), pl.col("denominator")).alias("suppressed"),
        pl.lit(None, pl.Boolean).alias("median_reached"),
    )


def _median_rows(areas: pl.DataFrame) -> pl.DataFrame:
    rng = np.random.default_rng(7)
    grid = (
        areas.filter(pl.col("n_delivered") > 0)
        .select("area_type", "area_code", "population")
        .join(_periods().select("period", "period_type"), how="cross")
        .sort("area_type", "area_code", "period")
    )
    n = grid.height
    size = grid["population"].to_numpy() / 1000 * 0.6
    den = np.round(np.where(grid["period_type"].to_numpy() == "quarter", size / 4, size)).astype(
        np.int64
    )
    events = np.round(den * rng.uniform(0.55, 0.8, n)).astype(np.int64)
    median = np.round(rng.uniform(20, 55, n))
    low, high = median - rng.uniform(4, 9, n).round(), median + rng.uniform(5, 14, n).round()
    not_reached = (
        (grid["area_code"] == NOT_REACHED[0]) & (grid["period"] == NOT_REACHED[1])
    ).to_numpy()
    return grid.select(
        "area_type",
        "area_code",
        "period",
        pl.lit("time_to_specialist").alias("indicator_id"),
        pl.lit("all").alias("breakdown"),
        pl.Series("numerator", events, pl.Int64),
        pl.Series("denominator", den, pl.Int64),
        pl.Series("value", np.where(not_reached, np.nan, median)).fill_nan(None),
        pl.Series("ci_low", np.where(not_reached, 71.0, low)),
        pl.Series("ci_high", np.where(not_reached, np.nan, high)).fill_nan(None),
        pl.Series("suppressed", (den < 10) | (events < 5)),
        pl.Series("median_reached", ~not_reached),
    )


def _compare(value: pl.Expr, low: pl.Expr, high: pl.Expr, bench: pl.Expr, lower_better: pl.Expr):
    """Fingertips: better/worse when the benchmark lies outside the area's 95% interval."""
    above = low > bench  # the area is significantly higher than the benchmark
    below = high.fill_null(float("inf")) < bench
    return (
        pl.when(bench.is_null() | low.is_null())
        .then(pl.lit("not_compared"))
        .when(above)
        .then(pl.when(lower_better).then(pl.lit("worse")).otherwise(pl.lit("better")))
        .when(below)
        .then(pl.when(lower_better).then(pl.lit("better")).otherwise(pl.lit("worse")))
        .otherwise(pl.lit("similar"))
    )


def _indicator_values(areas: pl.DataFrame, members: pl.DataFrame, revision: int) -> pl.DataFrame:
    counts = _municipal_counts(areas, revision)
    rows = pl.concat([_proportion_rows(counts, members), _median_rows(areas)], how="diagonal")
    polarity = pl.DataFrame({"indicator_id": list(POLARITY), "polarity": list(POLARITY.values())})
    keys = ["indicator_id", "period", "breakdown"]
    published = pl.col("suppressed").not_()
    bench = rows.filter(published).select(*keys, "area_code", "value")
    vt = areas.select("area_code", "veilig_thuis_region")
    rows = (
        rows.join(polarity, on="indicator_id")
        .join(vt, on="area_code", how="left")
        .join(
            bench.filter(pl.col("area_code") == NATIONAL).drop("area_code"),
            on=keys,
            how="left",
            suffix="_nl",
        )
        .join(
            bench.rename({"area_code": "veilig_thuis_region", "value": "value_region"}),
            on=[*keys, "veilig_thuis_region"],
            how="left",
        )
    )
    lower_better = pl.col("polarity") == "lower_is_better"
    low = pl.when(published).then(pl.col("ci_low"))
    high = pl.when(published).then(pl.col("ci_high"))
    comparison_nl = _compare(pl.col("value"), low, high, pl.col("value_nl"), lower_better)
    comparison_region = _compare(pl.col("value"), low, high, pl.col("value_region"), lower_better)
    period_info = _periods().select("period", "period_type", "year")
    area_info = areas.select(
        "area_code",
        "area_name",
        pl.col("n_delivered").cast(pl.Int32).alias("coverage_delivered"),
        pl.col("n_municipalities").cast(pl.Int32).alias("coverage_total"),
    )
    blank = pl.when(published)
    return (
        rows.with_columns(
            pl.when(pl.col("area_type") == "municipality")
            .then(comparison_region)
            .otherwise(pl.lit("not_compared"))
            .alias("comparison_region"),
            pl.when(pl.col("area_type") == "national")
            .then(pl.lit("not_compared"))
            .otherwise(comparison_nl)
            .alias("comparison_national"),
        )
        .join(period_info, on="period")
        .join(area_info, on="area_code")
        .select(
            "indicator_id",
            "area_type",
            "area_code",
            "period",
            "breakdown",
            blank.then(pl.col("numerator")).alias("numerator"),
            blank.then(pl.col("denominator")).alias("denominator"),
            blank.then(pl.col("value")).alias("value"),
            blank.then(pl.col("ci_low")).alias("ci_low"),
            blank.then(pl.col("ci_high")).alias("ci_high"),
            "comparison_region",
            "comparison_national",
            "suppressed",
            "area_name",
            "period_type",
            pl.col("year").cast(pl.Int32),
            pl.when(pl.col("indicator_id") == "time_to_specialist")
            .then(pl.col("median_reached"))
            .alias("median_reached"),
            "coverage_delivered",
            "coverage_total",
        )
        .sort("indicator_id", "area_type", "area_code", "period", "breakdown")
    )


def _trends(values: pl.DataFrame) -> pl.DataFrame:
    years = values.filter(
        (pl.col("period_type") == "year")
        & (pl.col("indicator_id") != "time_to_specialist")
        & (pl.col("breakdown") == "all")
    )
    polarity = POLARITY
    slope = (
        years.sort("year")
        .group_by("indicator_id", "area_type", "area_code", "breakdown")
        .agg(
            pl.col("value").drop_nulls().len().alias("n_years"),
            (pl.col("value").last() - pl.col("value").first()).alias("change"),
            pl.col("year").min().alias("first_year"),
            pl.col("year").max().alias("last_year"),
        )
    )
    direction = (
        pl.when(pl.col("n_years") < 5)
        .then(pl.lit("insufficient"))
        .when(pl.col("change") > 0.05)
        .then(pl.lit("increasing"))
        .when(pl.col("change") < -0.05)
        .then(pl.lit("decreasing"))
        .otherwise(pl.lit("no_change"))
    )
    lower_better = pl.col("indicator_id").replace_strict(polarity) == "lower_is_better"
    return (
        slope.with_columns(
            direction.alias("direction"),
            pl.when(pl.col("n_years") < 5)
            .then(None)
            .otherwise((pl.col("change").abs() * 300).round(3))
            .alias("chi2"),
        )
        .with_columns(
            pl.when(pl.col("direction").is_in(["insufficient", "no_change"]))
            .then(pl.col("direction"))
            .when((pl.col("direction") == "increasing") == lower_better)
            .then(pl.lit("worse"))
            .otherwise(pl.lit("better"))
            .alias("assessment")
        )
        .select(
            "indicator_id",
            "area_type",
            "area_code",
            "breakdown",
            "first_year",
            "last_year",
            "chi2",
            "direction",
            "assessment",
        )
        .sort("indicator_id", "area_type", "area_code")
    )


def _funnel(values: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    municipal = values.filter(
        (pl.col("area_type") == "municipality")
        & (pl.col("indicator_id") != "time_to_specialist")
        & (pl.col("breakdown") == "all")
        & pl.col("suppressed").not_()
    )
    funnel = (
        municipal.group_by("indicator_id", "period", "breakdown")
        .agg(
            (pl.col("numerator").sum() / pl.col("denominator").sum()).alias("benchmark"),
            pl.len().cast(pl.Int32).alias("n_areas"),
            pl.col("denominator").max().alias("largest"),
        )
        .with_columns(
            (pl.col("indicator_id") == OVERDISPERSED).alias("overdispersed"),
        )
        .with_columns(
            pl.when(pl.col("overdispersed")).then(2.4).otherwise(1.1).alias("phi"),
            pl.when(pl.col("overdispersed")).then(0.004).otherwise(0.0).alias("tau2"),
        )
        .sort("indicator_id", "period")
    )
    grid = pl.DataFrame({"step": np.arange(40)})
    limits = funnel.join(grid, how="cross").with_columns(
        (10 * (pl.col("largest") * 1.3 / 10) ** (pl.col("step") / 39))
        .round()
        .cast(pl.Int64)
        .alias("denominator")
    )
    p, n = pl.col("benchmark"), pl.col("denominator")
    s2 = p * (1 - p) / n
    re = pl.col("overdispersed")

    def band(z: float, sign: int, variance: pl.Expr) -> pl.Expr:
        return (p + sign * z * variance.sqrt()).clip(0, 1)

    limits = limits.select(
        "indicator_id",
        "period",
        "breakdown",
        "denominator",
        band(Z95, -1, s2).alias("lower_95"),
        band(Z95, 1, s2).alias("upper_95"),
        band(Z998, -1, s2).alias("lower_998"),
        band(Z998, 1, s2).alias("upper_998"),
        pl.when(re).then(band(Z95, -1, s2 + pl.col("tau2"))).alias("re_lower_95"),
        pl.when(re).then(band(Z95, 1, s2 + pl.col("tau2"))).alias("re_upper_95"),
        pl.when(re).then(band(Z998, -1, s2 + pl.col("tau2"))).alias("re_lower_998"),
        pl.when(re).then(band(Z998, 1, s2 + pl.col("tau2"))).alias("re_upper_998"),
    ).unique(["indicator_id", "period", "breakdown", "denominator"], maintain_order=True)
    return funnel.drop("largest"), limits


def _km_curves(values: pl.DataFrame) -> pl.DataFrame:
    medians = values.filter(
        (pl.col("indicator_id") == "time_to_specialist")
        & pl.col("suppressed").not_()
        & (pl.col("period_type") == "year")
    )
    times = pl.DataFrame({"time": np.arange(0, 181, 3, dtype=np.float64)})
    not_reached = pl.col("value").is_null()
    # exponential decay through the published median; a flat tail above 0.5 when not reached
    rate = pl.when(not_reached).then(0.0035).otherwise(pl.lit(float(np.log(2))) / pl.col("value"))
    survival = (-rate * pl.col("time")).exp()
    survival = pl.when(not_reached).then(survival.clip(0.62, 1)).otherwise(survival)
    at_risk = (pl.col("denominator") * survival).round().cast(pl.Int64)
    return (
        medians.join(times, how="cross")
        .with_columns(survival.alias("survival"), at_risk.alias("at_risk"))
        .filter(pl.col("at_risk") >= 10)
        .select(
            "indicator_id",
            "area_type",
            "area_code",
            "period",
            "time",
            "survival",
            (pl.col("survival") - 0.06).clip(0, 1).alias("ci_low"),
            (pl.col("survival") + 0.06).clip(0, 1).alias("ci_high"),
            "at_risk",
        )
        .sort("area_type", "area_code", "period", "time")
    )


def _deliveries(muni: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    today = PUBLISHED_AT.date()
    everyone = municipalities().select(
        "municipality_code",
        "municipality_name",
        (f"{DEFAULT_REGION_TYPE}:" + pl.col("veilig_thuis_region_code")).alias(
            "veilig_thuis_region"
        ),
    )
    ours = muni["municipality_code"].to_list()
    delivered = [c for c in ours if c != NOT_DELIVERED]
    log_rows = []
    for i, code in enumerate(sorted(delivered)):
        extract = date(2025, 5, 1) - timedelta(days=i)
        if code == STALE:
            extract = date(2024, 11, 30)
        received = datetime.combine(extract, datetime.min.time()) + timedelta(days=2, hours=9)
        previous = extract - timedelta(days=91)
        log_rows.append((code, previous, received - timedelta(days=91), "accepted", False,
                         f"sha-{code}-1", 2400 + i, 0, 0, ""))  # fmt: skip
        log_rows.append((code, extract, received, "accepted", True, f"sha-{code}-2", 2600 + i,
                         1 if code in WARNED else 0, 0, WARNED.get(code, "")))  # fmt: skip
        if code == REJECTED:
            log_rows.append((code, extract + timedelta(days=20),
                             received + timedelta(days=20), "rejected", False, f"sha-{code}-3",
                             0, 0, 2, "extra_column (cases): 1; personal_data: 1"))  # fmt: skip
    log = pl.DataFrame(
        log_rows,
        schema={
            "municipality_code": pl.Utf8,
            "extract_date": pl.Date,
            "received_at": pl.Datetime("us"),
            "status": pl.Utf8,
            "current": pl.Boolean,
            "content_hash": pl.Utf8,
            "rows_loaded": pl.Int64,
            "n_warnings": pl.Int32,
            "n_errors": pl.Int32,
            "summary": pl.Utf8,
        },
        orient="row",
    ).sort("municipality_code", "received_at")
    per_muni = log.group_by("municipality_code").agg(
        pl.col("extract_date").filter(pl.col("current")).first().alias("current_extract_date"),
        pl.col("received_at").filter(pl.col("current")).first().alias("current_received_at"),
        pl.col("received_at").max().alias("last_received_at"),
        pl.col("status").sort_by("received_at").last().alias("last_status"),
        (pl.col("status") == "accepted").sum().cast(pl.Int32).alias("n_accepted"),
        (pl.col("status") == "rejected").sum().cast(pl.Int32).alias("n_rejected"),
        pl.col("n_warnings").filter(pl.col("current")).sum().cast(pl.Int32).alias("n_warnings"),
        pl.col("summary")
        .filter(pl.col("status") == "rejected")
        .last()
        .alias("last_rejection_summary"),
    )
    status = (
        everyone.join(per_muni, on="municipality_code", how="left")
        .with_columns(
            pl.col("current_extract_date").is_not_null().alias("delivered"),
            (pl.lit(today) - pl.col("current_extract_date"))
            .dt.total_days()
            .cast(pl.Int32)
            .alias("days_since_extract"),
        )  # fmt: skip
        .with_columns((pl.col("days_since_extract") > 120).fill_null(False).alias("stale"))
        .select(
            "municipality_code",
            "municipality_name",
            "veilig_thuis_region",
            "delivered",
            "current_extract_date",
            "current_received_at",
            "last_received_at",
            "last_status",
            pl.col("n_accepted").fill_null(0),
            pl.col("n_rejected").fill_null(0),
            pl.col("n_warnings").fill_null(0),
            "days_since_extract",
            "stale",
            "last_rejection_summary",
        )
        .sort("municipality_code")
    )
    return status, log


def _restricted(log: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Findings of the warned and rejected deliveries, and a profile with notes for each of
    the municipalities with findings: every text names its municipality."""
    findings = []
    for row in log.filter(pl.col("summary") != "").iter_rows(named=True):
        code = row["municipality_code"]
        kind = "error" if row["status"] == "rejected" else "warning"
        for rule in row["summary"].split("; "):
            name = rule.split(":")[0].split(" ")[0]
            findings.append((code, row["received_at"], row["content_hash"], kind, "cases.csv",
                             7 if kind == "error" else None, "case_id" if kind == "error" else None,
                             name, f"fix {name} of {code}", 1))  # fmt: skip
    issues = pl.DataFrame(
        findings,
        schema={
            "municipality_code": pl.Utf8,
            "received_at": pl.Datetime("us"),
            "content_hash": pl.Utf8,
            "kind": pl.Utf8,
            "file": pl.Utf8,
            "row_number": pl.Int64,
            "column_name": pl.Utf8,
            "rule": pl.Utf8,
            "message": pl.Utf8,
            "count": pl.Int64,
        },  # fmt: skip
        orient="row",
    )
    codes = sorted({f[0] for f in findings})
    profiles = pl.DataFrame(
        {
            "municipality_code": codes,
            "element": ["single_coordinator"] * len(codes),
            "in_place_from": [date(2021, 1, 1)] * len(codes),
            "in_place_until": [None] * len(codes),
        },
        schema_overrides={"in_place_until": pl.Date},
    )
    notes = profiles.select(
        "municipality_code",
        "element",
        "in_place_from",
        note="regisseur per gezin in " + pl.col("municipality_code"),
    )
    return {"delivery_issues": issues, "approach_profiles": profiles, "approach_notes": notes}


def _benchmark(values: pl.DataFrame, log: pl.DataFrame, imported: bool) -> dict:
    """The benchmark tables: its source, the figures of municipalities this mart does not
    publish (copies of Zwolle's years, relabelled), and which deliveries it counted."""
    names = dict(municipalities().select("municipality_code", "municipality_name").iter_rows())
    source = pl.DataFrame(
        {
            "source": [BENCHMARK_SOURCE],
            "published_at": [BENCHMARK_PUBLISHED_AT],
            "imported_at": [PUBLISHED_AT - timedelta(days=1)],
            "code_version": ["hub-1"],
            "n_delivered": [340],
            "n_municipalities": [342],
            "content_sha256": ["0" * 64],
        },
        schema_overrides={"n_delivered": pl.Int32, "n_municipalities": pl.Int32},
    )
    like = values.filter(
        (pl.col("area_code") == BENCHMARK_LIKE)
        & (pl.col("period_type") == "year")
        & (pl.col("breakdown") == "all")
    )
    figures = pl.concat(
        [
            like.with_columns(area_code=pl.lit(code), area_name=pl.lit(names[code]))
            for code in BENCHMARK_ONLY
        ]
    )
    used = log.filter(pl.col("current"))
    earlier = log.filter(~pl.col("current") & (pl.col("status") == "accepted"))
    deliveries = used.select(
        "municipality_code",
        "extract_date",
        benchmark_extract_date=pl.when(pl.col("municipality_code") == BENCHMARK_OLDER)
        .then(pl.lit(None, pl.Date))
        .otherwise(pl.col("extract_date")),
        same_delivery=pl.col("municipality_code") != BENCHMARK_OLDER,
    ).with_columns(
        pl.col("benchmark_extract_date").fill_null(
            earlier.filter(pl.col("municipality_code") == BENCHMARK_OLDER)["extract_date"].max()
        )
    )
    if not imported:
        return {
            "benchmark": source.clear(),
            "benchmark_figures": values.clear(),
            "benchmark_deliveries": deliveries.clear(),
        }
    return {
        "benchmark": source,
        "benchmark_figures": figures,
        "benchmark_deliveries": deliveries,
    }


def build_mart(
    path: Path,
    revision: int = 1,
    national: bool = False,
    approach: bool = True,
    benchmark: bool = True,
) -> Path:
    """Write the mart to `path` the way `hgkm compute` does: into a new file, renamed over.

    `national=True` covers all 342 municipalities (for timing the dashboard at scale);
    `approach=False` leaves out the approach tables, as in a mart published before them;
    `benchmark=False` publishes without an imported national benchmark.
    """
    areas, members, muni = _areas(national)
    values = _indicator_values(areas, members, revision)
    funnel, funnel_limits = _funnel(values)
    status, log = _deliveries(muni)
    publication = pl.DataFrame(
        {
            "published_at": [PUBLISHED_AT + timedelta(hours=revision - 1)],
            "as_of": [None],
            "code_version": [f"test-{revision}"],
            "staleness_days": [120],
        },
        schema_overrides={"as_of": pl.Date},
    )
    restricted = _restricted(log)
    if not approach:
        restricted = {k: v for k, v in restricted.items() if not k.startswith("approach")}
    tables = {
        "indicator_values": values,
        "trends": _trends(values),
        "catalogue": catalogue_frame(),
        "areas": areas,
        "area_members": members,
        "periods": _periods(),
        "funnel": funnel,
        "funnel_limits": funnel_limits,
        "km_curves": _km_curves(values),
        "delivery_status": status,
        "delivery_log": log,
        **restricted,
        "publication": publication,
        "publication_deliveries": log.filter(pl.col("current")).select(
            "municipality_code", "extract_date", "content_hash"
        ),
        **_benchmark(values, log, benchmark and not national),
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".building")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for name, frame in tables.items():
            con.register("frame", frame)
            declaration.insert(con, name, frame.columns)  # as `hgkm compute` writes it
            con.unregister("frame")
    finally:
        con.close()
    os.replace(tmp, path)
    return path
