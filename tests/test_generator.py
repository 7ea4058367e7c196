"""The sample generator: determinism, planted truth, shapes and quirks, profiles, scale, ingest."""

from __future__ import annotations

import argparse
import io
import json
import re
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from conftest import SAMPLE_DATA, run_hgkm

from generator import cli as sample_cli
from generator import committed, planted
from generator.build import SampleOptions, build_sample, profile_of
from generator.cases import pseudonyms
from generator.flawed import base_manifest, base_tables, files, flaws
from generator.profiles import elements_in_place
from hgkm.errors import UsageError
from hgkm.settings import Paths
from metrics import benchmark
from metrics.catalogue import INDICATORS
from pipelines.approach import import_profiles
from pipelines.contract import APPROACH_ELEMENTS, FILES, PSEUDONYM_PATTERN, TABLES
from pipelines.load import ingest

EXTRACT = date(2026, 10, 1)
YEARS = tuple(range(2019, 2026))


def _all_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# ---------------------------------------------------------------- determinism, committed data


def test_same_seed_gives_same_bytes_in_every_shape(tmp_path: Path) -> None:
    options = SampleOptions(
        municipalities=("GM0148", "GM0175", "GM0180"),  # mixed: folder, zip and xlsx
        years=YEARS,
        extract=EXTRACT,
        seed=7,
        shape="mixed",
        scale=0.2,
        older=("GM0175",),
        older_extract=date(2025, 10, 1),
    )
    build_sample(tmp_path / "a", options, progress=False)
    build_sample(tmp_path / "b", options, progress=False)
    first, second = _all_files(tmp_path / "a"), _all_files(tmp_path / "b")
    assert first == second
    names = set(first)
    assert {"deliveries/GM0180_2026-10-01.xlsx", "deliveries/GM0175_2026-10-01.zip"} <= names
    assert "deliveries/GM0175_2025-10-01.zip" in names  # the older delivery
    other_seed = SampleOptions(**{**options.__dict__, "seed": 8})
    build_sample(tmp_path / "c", other_seed, progress=False)
    assert _all_files(tmp_path / "c") != first


def test_committed_sample_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    committed.regenerate(tmp_path)
    fresh = _all_files(tmp_path)
    kept = {
        k: v for k, v in _all_files(SAMPLE_DATA).items() if k.split("/")[0] in committed.GENERATED
    }
    assert sorted(k for k in fresh.keys() | kept.keys() if fresh.get(k) != kept.get(k)) == []


def test_committed_national_benchmark_is_current() -> None:
    """The sample's national benchmark takes minutes to make (`make sample-data`), so its recipe
    is checked instead of regenerating it: the same generator settings, the same code computing
    the figures (a fingerprint of metrics/' figure code), the same IJsselland deliveries as the
    committed sample (checked byte for byte by the test above), and data matching its hash."""
    recorded = json.loads((SAMPLE_DATA / committed.NATIONAL_RECIPE).read_text(encoding="utf-8"))
    current = committed.national_recipe(SAMPLE_DATA)
    stale = sorted(k for k in current.keys() | recorded.keys() if current.get(k) != recorded.get(k))
    assert stale == [], f"{stale} changed: run `make sample-data` to make the benchmark again"
    found = benchmark.read_benchmark(SAMPLE_DATA / committed.NATIONAL_BENCHMARK)
    assert found.source == committed.NATIONAL_SOURCE
    assert (found.meta["n_delivered"], found.meta["n_municipalities"]) == ("342", "342")
    # IJsselland's two newest deliveries had not reached the hub
    used = dict(found.part("deliveries").select("municipality_code", "extract_date").iter_rows())
    late = {name[:6]: date.fromisoformat(name[7:17]) for name in committed.LATE}
    assert all(used[code] < extract for code, extract in late.items())


def test_committed_sample_is_small_and_complete() -> None:
    generated = {
        k: v for k, v in _all_files(SAMPLE_DATA).items() if k.split("/")[0] in committed.GENERATED
    }
    assert sum(len(v) for v in generated.values()) < 6_000_000
    deliveries = {Path(k).parts[1] for k in generated if k.startswith("deliveries/")}
    municipalities = {d[:6] for d in deliveries}
    assert len(municipalities) == 11  # Veilig Thuis region IJsselland
    assert {"GM0148_2025-10-01", "GM0193_2025-10-01.zip"} <= deliveries


# ---------------------------------------------------------------- the planted truth


def _indicators_from_files(delivery: Path, extract: date) -> pl.DataFrame:
    """Every proportion indicator per cohort year, computed straight from the CSV files with
    the definitions of INDICATORS.md: a second implementation, independent of the generator."""
    read = {
        n: pl.read_csv(delivery / f"{n}.csv", infer_schema=False).with_columns(
            pl.col(c.name).str.to_date() for c in columns if c.kind == "date"
        )
        for n, columns in TABLES.items()
    }
    cases = read["cases"].with_columns(
        year=pl.col("report_date").dt.year(), r=pl.col("report_date"), e=pl.lit(extract)
    )
    r = pl.col("r")

    def days(n: int) -> pl.Expr:
        return pl.duration(days=n)

    def flag(table: str, condition: pl.Expr, name: str, on: str = "case_id") -> pl.DataFrame:
        hits = (
            read[table]
            .join(cases.select("case_id", "r", "restraining_order_date"), on="case_id")
            .filter(condition)
            .select(on)
            .unique()
            .with_columns(pl.lit(True).alias(name))
        )
        return hits

    in_6m = pl.col("offered_date").is_between(r, r + days(182))
    c = (
        cases.join(
            flag("reports", pl.col("report_date").is_between(r + days(8), r + days(365)), "rec"),
            on="case_id",
            how="left",
        )
        .join(
            flag(
                "reports",
                pl.col("report_date").is_between(
                    pl.col("restraining_order_date") + days(8),
                    pl.col("restraining_order_date") + days(365),
                ),
                "rec_ro",
            ),
            on="case_id",
            how="left",
        )
        .join(flag("help", in_6m, "any_help"), on="case_id", how="left")
        .join(
            flag("help", in_6m & (pl.col("level") == "specialist"), "spec_6m"),
            on="case_id",
            how="left",
        )
        .join(
            flag("help", in_6m & pl.col("recipient").is_in(["perpetrator", "family"]), "system"),
            on="case_id",
            how="left",
        )
        .join(
            flag("help", in_6m & (pl.col("recipient") == "family"), "family"),
            on="case_id",
            how="left",
        )
        .join(
            flag(
                "help",
                (pl.col("level") == "specialist")
                & pl.col("start_date").is_between(r, r + days(30)),
                "spec30",
            ),
            on="case_id",
            how="left",
        )
        .with_columns(
            pl.col("rec", "rec_ro", "any_help", "spec_6m", "system", "family", "spec30").fill_null(
                False
            )
        )
    )
    latest18 = (
        read["followups"]
        .join(cases.select("case_id", "r"), on="case_id")
        .filter(
            pl.col("followup_date").is_between(r + days(456), r + days(639)),
            pl.col("violence_since_previous").is_in(["yes", "no"]),
        )
        .sort("followup_date")
        .group_by("case_id")
        .agg(cont=pl.col("violence_since_previous").last() == "yes")
    )
    child_help = flag("help", in_6m & (pl.col("recipient") == "child"), "own", on="child_id")
    children = (
        read["children"]
        .join(c.select("case_id", "year", "r", "e", "family"), on="case_id")
        .join(child_help, on="child_id", how="left")
        .with_columns(pl.col("own").fill_null(False))
    )
    severe = pl.col("safety_assessment").is_in(["acute", "structural"])
    window = {d: pl.col("r") + days(d) <= pl.col("e") for d in (30, 182, 365)}
    o = pl.col("restraining_order_date")
    parts = [
        ("recurrence_12m", c.filter(window[365]), pl.col("rec")),
        (
            "recurrence_after_restraining_order",
            c.filter(o.is_not_null(), o + days(365) <= pl.col("e")),
            pl.col("rec_ro"),
        ),
        ("violence_continued_18m", c.join(latest18, on="case_id"), pl.col("cont")),
        ("children_without_help", children.filter(window[182]), ~pl.col("own") & ~pl.col("family")),
        ("families_without_help_offer", c.filter(window[182]), ~pl.col("any_help")),
        ("specialist_within_30d", c.filter(severe, window[30]), pl.col("spec30")),
        (
            "coordinator_within_30d",
            c.filter(window[30]),
            (pl.col("coordinator_date") <= r + days(30)).fill_null(False),
        ),
        (
            "system_help_partner_violence",
            c.filter(pl.col("violence_type") == "partner", window[182]),
            pl.col("system"),
        ),
        (
            "light_help_for_severe",
            c.filter(severe, window[182], pl.col("any_help")),
            ~pl.col("spec_6m"),
        ),
    ]
    # Children of one family share its help: at most (intra-family correlation 1) the
    # variance grows by sum(m_f^2) / sum(m_f) over families of m_f children.
    deff = (
        children.filter(window[182])
        .group_by("year", "case_id")
        .agg(m=pl.len())
        .group_by("year")
        .agg(deff=(pl.col("m") ** 2).sum() / pl.col("m").sum())
    )
    return pl.concat(
        frame.group_by("year")
        .agg(numerator=expr.sum(), denominator=pl.len())
        .with_columns(indicator_id=pl.lit(name))
        .join(deff if name == "children_without_help" else deff.clear(), on="year", how="left")
        .with_columns(pl.col("deff").fill_null(1.0))
        for name, frame, expr in parts
    ).with_columns(pl.col("numerator", "denominator").cast(pl.Int64), pl.col("year").cast(pl.Int64))


@pytest.fixture(scope="module")
def big_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("big")
    options = SampleOptions(
        municipalities=("GM0193", "GM0150"), years=YEARS, extract=EXTRACT, seed=11, scale=3.0
    )
    build_sample(out, options, progress=False)
    return out


def test_planted_rates_are_recovered_from_the_generated_files(big_sample: Path) -> None:
    rates = pl.read_csv(big_sample / "planted_rates.csv")
    computed = pl.concat(
        _indicators_from_files(
            big_sample / "deliveries" / f"{code}_2026-10-01", EXTRACT
        ).with_columns(municipality_code=pl.lit(code))
        for code in ("GM0193", "GM0150")
    )
    both = rates.join(
        computed, on=["municipality_code", "year", "indicator_id"], how="full", coalesce=True
    )
    # Every unit the generator counted in a population is one the definitions count too.
    assert both.filter(pl.col("population") != pl.col("denominator")).is_empty()
    assert both.filter(pl.col("population").is_null() | pl.col("denominator").is_null()).is_empty()
    assert set(both["indicator_id"]) == set(planted.PLANTED)
    z = both.filter(pl.col("denominator") >= 50).with_columns(
        z=(pl.col("numerator") / pl.col("denominator") - pl.col("planted_rate"))
        / (
            pl.col("deff")
            * pl.col("planted_rate")
            * (1 - pl.col("planted_rate"))
            / pl.col("denominator")
        ).sqrt()
    )
    assert z.height > 100
    assert z["z"].abs().max() < 4.5
    assert (z["z"].abs() > 1.96).mean() < 0.11
    pooled = z.group_by("indicator_id").agg(
        zp=(pl.col("numerator").sum() - (pl.col("planted_rate") * pl.col("denominator")).sum())
        / (pl.col("planted_rate") * (1 - pl.col("planted_rate")) * pl.col("denominator"))
        .sum()
        .sqrt()
    )
    assert pooled["zp"].abs().max() < 4


def test_the_generator_plants_proportion_indicators_of_the_catalogue() -> None:
    """Its models follow the catalogue's ids; an indicator it has no model of gets no rate."""
    assert set(planted.PLANTED) <= {ind.id for ind in INDICATORS if ind.is_proportion}
    assert set(pl.read_csv(SAMPLE_DATA / "planted_rates.csv")["indicator_id"]) == set(
        planted.PLANTED
    )


def test_outcome_levels_are_near_the_research_figures(big_sample: Path) -> None:
    rates = pl.read_csv(big_sample / "planted_rates.csv")
    level = dict(
        rates.group_by("indicator_id")
        .agg((pl.col("planted_rate") * pl.col("population")).sum() / pl.col("population").sum())
        .iter_rows()
    )
    assert 0.20 <= level["recurrence_12m"] <= 0.40
    assert 0.05 <= level["families_without_help_offer"] <= 0.12
    assert 0.35 <= level["violence_continued_18m"] <= 0.65
    assert 0.30 <= level["children_without_help"] <= 0.65
    assert level["recurrence_after_restraining_order"] < level["recurrence_12m"]


def test_planted_effects_point_the_way_the_issue_asks() -> None:
    effects = pl.read_csv(SAMPLE_DATA / "planted_effects.csv")
    direction = {
        (e, i): d for e, i, d in effects.select("element", "indicator_id", "direction").iter_rows()
    }
    expected = {
        ("specialist_at_front_door", "light_help_for_severe"): "lower",
        ("specialist_at_front_door", "specialist_within_30d"): "higher",
        ("child_focused_offer", "children_without_help"): "lower",
        ("single_coordinator", "coordinator_within_30d"): "higher",
        ("system_oriented_offer", "system_help_partner_violence"): "higher",
        ("long_term_monitoring", "violence_continued_18m"): "lower",
        ("long_term_monitoring", "recurrence_12m"): "lower",
        ("multidisciplinary_team", "violence_continued_18m"): "lower",
        ("multidisciplinary_team", "recurrence_12m"): "lower",
    }
    assert {k: direction.get(k) for k in expected} == expected
    assert (effects["effect"] < 0).to_list() == (effects["direction"] == "lower").to_list()


def test_the_sample_region_has_municipalities_with_and_without_each_element() -> None:
    profiles = pl.read_csv(SAMPLE_DATA / "approach_profiles.csv", try_parse_dates=True)
    for element in ("specialist_at_front_door", "single_coordinator", "child_focused_offer"):
        having = profiles.filter(element=element)["municipality_code"].n_unique()
        assert 2 <= having <= 9, element
    introduced = profiles.filter(pl.col("in_place_from") >= date(2019, 1, 1))
    assert introduced.height >= 5  # before/after comparisons within a municipality


# ---------------------------------------------------------------- profiles


def test_profiles_follow_the_contract_and_change_on_year_boundaries() -> None:
    profiles = pl.concat(profile_of(1, code) for code in _all_codes())
    assert set(profiles["element"]) <= set(APPROACH_ELEMENTS)
    assert profiles.select(pl.struct("municipality_code", "element").is_unique().all()).item()
    since = profiles.filter(pl.col("in_place_from") >= date(2019, 1, 1))["in_place_from"]
    assert all(d.month == 1 and d.day == 1 and 2021 <= d.year <= 2023 for d in since)
    until = profiles["in_place_until"].drop_nulls()
    assert 0 < len(until) < profiles.height / 10
    assert all(d.month == 12 and d.day == 31 for d in until)
    assert (profiles["note"].str.len_chars() <= 200).all()


def test_a_case_falls_under_an_element_on_both_edges_of_its_period() -> None:
    profile = pl.DataFrame(
        {
            "municipality_code": ["GM0193"],
            "element": ["single_coordinator"],
            "in_place_from": [date(2021, 1, 1)],
            "in_place_until": [date(2022, 12, 31)],
            "note": [None],
        },
        schema_overrides={"note": pl.String},
    )
    days = np.array(
        [
            (d - date(1970, 1, 1)).days
            for d in (date(2020, 12, 31), date(2021, 1, 1), date(2022, 12, 31), date(2023, 1, 1))
        ]
    )
    active = elements_in_place(profile, days)[:, APPROACH_ELEMENTS.index("single_coordinator")]
    assert active.tolist() == [False, True, True, False]
    assert not elements_in_place(profile, days)[:, 0].any()


# ---------------------------------------------------------------- shapes, quirks, pseudonyms


def test_mixed_shapes_carry_the_quirks_of_real_exports() -> None:
    deliveries = SAMPLE_DATA / "deliveries"
    cp1252 = [
        p for p in deliveries.glob("*/manifest.csv") if "Één".encode("cp1252") in p.read_bytes()
    ]
    assert cp1252, "a Windows-1252 delivery with a non-ASCII source_system"
    cases = (cp1252[0].parent / "cases.csv").read_bytes().decode("cp1252")
    header, first = cases.splitlines()[:2]
    assert ";" in header and re.search(r";\d{2}-\d{2}-\d{4};", first)
    assert re.search(r";(PARTNER|CHILD_ABUSE|AGAINST_PARENTS|ELDER_ABUSE|OTHER);", cases)
    assert "\r\n" in cases
    headers = [p.read_bytes().splitlines()[0] for p in deliveries.glob("*/cases.csv")]
    assert any(h.startswith(b"\xef\xbb\xbf") for h in headers)  # a BOM
    assert any(b" case_id" in h for h in headers)  # stray spaces
    zips = sorted(deliveries.glob("*.zip"))
    nested = [z for z in zips if all("/" in n for n in zipfile.ZipFile(z).namelist())]
    assert nested and len(nested) < len(zips)
    for z in zips:
        assert {i.date_time for i in zipfile.ZipFile(z).infolist()} == {(1980, 1, 1, 0, 0, 0)}
    workbook = next(deliveries.glob("*.xlsx"))
    sheets = pl.read_excel(workbook, sheet_id=0)
    assert tuple(sheets) == FILES
    assert sheets["cases"]["report_date"].dtype in (pl.Date, pl.Datetime)


def test_pseudonyms_are_unique_valid_and_never_look_like_numbers() -> None:
    index = np.arange(100_000)
    cases = pseudonyms("C", 193, index, seed=1)
    children = pseudonyms("K", 193, index, seed=1)
    assert len(set(cases)) == len(cases) and not set(cases) & set(children)
    everything = np.concatenate([cases, children, pseudonyms("C", 1896, index[:1000], seed=1)])
    assert len(set(everything)) == len(everything)
    pattern = re.compile(PSEUDONYM_PATTERN)
    assert all(pattern.match(p) for p in everything[::997])
    assert not any(re.search(r"\d\d", p) for p in everything)
    assert (
        pseudonyms("C", 193, index[:5], seed=1).tolist()
        != pseudonyms("C", 193, index[:5], seed=2).tolist()
    )


# ---------------------------------------------------------------- the command line, scale


def _all_codes() -> list[str]:
    from hgkm import reference

    return reference.municipalities()["municipality_code"].to_list()


def test_national_scale_through_the_cli(tmp_path: Path) -> None:
    result = run_hgkm(
        "sample",
        "--out",
        tmp_path,
        "--all",
        "--scale",
        "0.02",
        "--extract-date",
        "2026-10-01",
        "--no-profiles",
        "--seed",
        "3",
    )
    assert result.returncode == 0, result.stderr
    deliveries = sorted((tmp_path / "deliveries").iterdir())
    assert len(deliveries) == 342 and all(d.name.endswith("_2026-10-01") for d in deliveries)
    assert "342/342" in result.stderr  # the progress bar
    rates = pl.read_csv(tmp_path / "planted_rates.csv")
    assert rates["municipality_code"].n_unique() >= 300  # the smallest may have no cases
    total = sum(pl.read_csv(d / "cases.csv").height for d in deliveries)
    # ~90,000 cases a year x 7 cohorts x 0.02, rising 2% a year.
    assert 0.7 * 13_500 < total < 1.3 * 13_500
    assert not (tmp_path / "approach_profiles.csv").exists()


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    result = run_hgkm("sample", "--out", tmp_path, "--region", "VT99")
    assert result.returncode == 2
    assert "unknown region" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        {"municipalities": "GM0193,GM9999"},
        {"years": "2015-2020"},
        {"years": "twenty"},
        {"years": "2019-2027"},
        {"scale": 0.0},
    ],
)
def test_bad_options_are_usage_errors(tmp_path: Path, args: dict) -> None:
    options = {
        "out": tmp_path,
        "municipalities": None,
        "region": None,
        "all": False,
        "years": None,
        "extract_date": date(2026, 10, 1),
        "seed": 1,
        "shape": "folder",
        "scale": 1.0,
        "profiles": True,
        "older": None,
        "older_extract": None,
    }
    with pytest.raises(UsageError):
        sample_cli.run(argparse.Namespace(**{**options, **args}), None)


def test_years_and_regions_are_read_as_documented() -> None:
    assert sample_cli.parse_years(None, date(2026, 10, 1)) == tuple(range(2019, 2026))
    assert sample_cli.parse_years("2019,2021-2022", date(2026, 10, 1)) == (2019, 2021, 2022)
    assert len(sample_cli.region_members("VT11")) == 11
    assert sample_cli.region_members("VR04") == sample_cli.region_members("vt11")


def test_cli_region_years_and_shape(tmp_path: Path) -> None:
    result = run_hgkm(
        "sample",
        "--out",
        tmp_path,
        "--region",
        "veilig_thuis_region:VT11",
        "--years",
        "2023-2024",
        "--extract-date",
        "2025-06-30",
        "--shape",
        "zip",
        "--scale",
        "0.1",
    )
    assert result.returncode == 0, result.stderr
    zips = sorted((tmp_path / "deliveries").glob("*.zip"))
    assert len(zips) == 11
    with zipfile.ZipFile(zips[0]) as z:
        cases = pl.read_csv(io.BytesIO(z.read("cases.csv")), try_parse_dates=True)
    assert cases["report_date"].dt.year().is_between(2023, 2024).all()
    rates = pl.read_csv(tmp_path / "planted_rates.csv")
    # No 12-month window of 2024 is complete on 2025-06-30 before 2024-06-30.
    assert rates.filter(indicator_id="recurrence_12m", year=2024)["population"].sum() > 0
    assert set(rates["year"]) <= {2023, 2024}


# ---------------------------------------------------------------- contract: through the ingest


def _ingest(path: Path):
    with tempfile.TemporaryDirectory() as d:
        return ingest(Paths(Path(d)), path)


def test_every_generated_delivery_passes_the_ingest(tmp_path: Path) -> None:
    for delivery in sorted((SAMPLE_DATA / "deliveries").iterdir()):
        report = _ingest(delivery)
        assert report.status == "accepted", (delivery.name, report.error_counts)


def test_the_base_of_the_flawed_deliveries_is_itself_valid(tmp_path: Path) -> None:
    for name, data in files(base_tables(committed.SEED), base_manifest()).items():
        (tmp_path / name).write_bytes(data)
    assert _ingest(tmp_path).status == "accepted"


@pytest.mark.parametrize("flaw", flaws(base_tables(committed.SEED)), ids=lambda f: f.name)
def test_each_flawed_delivery_is_rejected_for_its_documented_reason(flaw) -> None:
    path = SAMPLE_DATA / "flawed" / (f"{flaw.name}.zip" if flaw.shape == "zip" else flaw.name)
    report = _ingest(path)
    assert report.status == "rejected"
    found = {(e.rule, e.file, e.row, e.column) for e in report.errors}
    assert (flaw.rule, flaw.file, flaw.row, flaw.column) in found
    assert set(report.error_counts) == {flaw.rule}
    assert flaw.name in (SAMPLE_DATA / "flawed" / "README.md").read_text()


def test_sample_profiles_pass_the_profile_import(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    report = import_profiles(con, SAMPLE_DATA / "approach_profiles.csv")
    assert report.status == "accepted", report.error_counts
