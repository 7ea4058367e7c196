"""Aggregate packages and a hub: split deliveries of several regions over region warehouses,
export their packages, build a hub from them, and hold its mart equal to one warehouse's."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import run_hgkm
from polars.testing import assert_frame_equal

from hgkm import reference
from metrics import package
from metrics.catalogue import INDICATORS

# Three Veilig Thuis regions: VT12 and VT17 share a safety and a GGD region, so those regions'
# figures pool municipalities of two packages.
REGIONS = ("VT12", "VT17", "VT03")
EXTRACT = date(2026, 3, 1)
OLDER = date(2025, 9, 1)
# Haarlemmermeer (VT12) delivers to its own region, and an older extract also reached VT17's
# warehouse: two packages hold it; the newer extract must win.
MOVED = "GM0394"
# Tables that legitimately differ between the hub and one warehouse: when it was published
# (`publication`), the packages the hub used (`publication_packages`), and when each delivery
# reached a warehouse (the received_at columns of the delivery tables, and so their row order).
DIFFERING_TABLES = ("publication", "publication_packages")
RECEIVED = ("received_at", "current_received_at", "last_received_at")
DELIVERY_TABLES = ("delivery_log", "delivery_status", "delivery_issues", "publication_deliveries")


def members(region: str) -> list[str]:
    muni = reference.municipalities()
    return muni.filter(pl.col("veilig_thuis_region_code") == region)["municipality_code"].to_list()


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Generated deliveries of three regions; a warehouse per region, each exporting its
    package; a hub importing them; and one warehouse holding every delivery."""
    root = tmp_path_factory.mktemp("federation")
    codes = [code for region in REGIONS for code in members(region)]
    ok(
        run_hgkm(
            "sample",
            "--out",
            root / "generated",
            "--municipalities",
            ",".join(codes),
            "--years",
            "2021-2025",
            "--extract-date",
            EXTRACT.isoformat(),
            "--older",
            MOVED,
            "--older-extract",
            OLDER.isoformat(),
            "--scale",
            "0.3",
            "--seed",
            "5",
        )
    )
    deliveries = root / "generated" / "deliveries"
    profiles = root / "generated" / "approach_profiles.csv"
    packages = root / "packages"
    packages.mkdir()
    for region in REGIONS:
        inbox = []
        for delivery in sorted(deliveries.iterdir()):
            code, extract = delivery.name.split("_")
            mine = code in members(region) and extract == EXTRACT.isoformat()
            moved = code == MOVED and extract == OLDER.isoformat() and region == "VT17"
            if mine or moved:
                inbox.append(delivery)
        data = root / f"region-{region}"
        ok(run_hgkm("ingest", *inbox, data_dir=data))
        ok(run_hgkm("approach", "import", profiles, data_dir=data))
        ok(run_hgkm("share", "export", "--out", packages / f"{region}.parquet", data_dir=data))
    whole = root / "one-warehouse"
    ok(run_hgkm("ingest", deliveries, data_dir=whole))
    ok(run_hgkm("approach", "import", profiles, data_dir=whole))
    ok(run_hgkm("compute", data_dir=whole))
    hub = root / "hub"
    imported = ok(run_hgkm("share", "import", *sorted(packages.iterdir()), data_dir=hub))
    computed = ok(run_hgkm("compute", data_dir=hub))
    return {
        "root": root,
        "packages": packages,
        "whole": whole,
        "hub": hub,
        "imported": imported,
        "computed": computed,
    }


def tables(mart: Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(mart), read_only=True)
    try:
        names = [row[0] for row in con.sql("show tables").fetchall()]
        return {name: con.sql(f"select * from {name}").pl() for name in names}
    finally:
        con.close()


def test_the_hubs_mart_equals_the_mart_of_one_warehouse_holding_all_deliveries(
    federation: dict,
) -> None:
    hub = tables(federation["hub"] / "mart.duckdb")
    whole = tables(federation["whole"] / "mart.duckdb")
    assert set(hub) == set(whole)
    compared = 0
    for name in sorted(set(hub) - set(DIFFERING_TABLES)):
        mine, theirs = hub[name], whole[name]
        if name in DELIVERY_TABLES:
            kept = [c for c in mine.columns if c not in RECEIVED]
            mine = mine.select(kept).sort(kept, nulls_last=True)
            theirs = theirs.select(kept).sort(kept, nulls_last=True)
        try:
            assert_frame_equal(mine, theirs)
        except AssertionError as exc:
            raise AssertionError(f"table {name} differs: {exc}") from None
        compared += 1
    assert compared == len(hub) - len(DIFFERING_TABLES)
    values = hub["indicator_values"]
    # the comparison is not vacuous: published figures pool municipalities of two packages
    shared = values.filter((pl.col("area_code") == "safety_region:VR12") & ~pl.col("suppressed"))
    assert shared.height > 0
    assert hub["approach_comparison"].filter(~pl.col("suppressed")).height > 0
    assert hub["publication_packages"].height == len(REGIONS)
    assert whole["publication_packages"].is_empty()
    assert "(from 3 packages)" in federation["computed"]


def test_the_newer_extract_wins_with_a_warning(federation: dict) -> None:
    imported = federation["imported"]
    assert f"{MOVED} is also in the stored package" in imported
    assert f"{EXTRACT} is used" in imported
    assert f"warning: {MOVED} is delivered by package" in federation["computed"]
    status = tables(federation["hub"] / "mart.duckdb")["delivery_status"]
    moved = status.filter(pl.col("municipality_code") == MOVED).row(0, named=True)
    assert moved["current_extract_date"] == EXTRACT
    assert moved["n_accepted"] == 2  # both deliveries are in the log; the newer is current


def store_listing(hub: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((hub / "packages").iterdir())}


def test_importing_the_same_package_again_changes_nothing(federation: dict) -> None:
    hub = federation["root"] / "hub-again"
    shutil.copytree(federation["hub"], hub)
    before = store_listing(hub)
    again = run_hgkm("share", "import", federation["packages"] / "VT03.parquet", data_dir=hub)
    assert again.returncode == 0
    assert "ALREADY IMPORTED (no change)" in again.stdout
    assert store_listing(hub) == before


def rewrite(source: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """A copy of a package with its table or metadata changed by `change(table, meta)`."""
    table = pq.read_table(source)
    meta = dict(pq.read_metadata(source).metadata)
    table, meta = change(table, meta)
    pq.write_table(table.replace_schema_metadata(meta), target)
    return target


def test_a_failing_package_is_rejected_whole_and_leaves_the_hub_as_it_was(
    federation: dict, tmp_path: Path
) -> None:
    good = federation["packages"] / "VT03.parquet"

    def one_more_case(table: pa.Table, meta: dict) -> tuple[pa.Table, dict]:
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        first = (pl.col("part") == "counts") & (pl.int_range(pl.len()) == 0)
        frame = frame.with_columns(
            denominator=pl.when(first).then(pl.col("denominator") + 1).otherwise("denominator")
        )
        return frame.to_arrow(), meta

    def forged(table: pa.Table, meta: dict) -> tuple[pa.Table, dict]:
        # a numerator above its denominator, with a content hash made to match
        changed, _ = one_more_case(table, meta)
        frame = pl.from_arrow(changed)
        assert isinstance(frame, pl.DataFrame)
        frame = frame.with_columns(
            numerator=pl.when(pl.col("part") == "counts")
            .then(pl.col("denominator") + 1)
            .otherwise("numerator")
        )
        rehashed = package.content_sha256(frame).encode()
        return frame.to_arrow(), {**meta, b"hgkm.content_sha256": rehashed}

    def other_catalogue(table: pa.Table, meta: dict) -> tuple[pa.Table, dict]:
        return table, {**meta, b"hgkm.catalogue_version": b"000000000000"}

    def no_metadata(table: pa.Table, meta: dict) -> tuple[pa.Table, dict]:
        return table, {k: v for k, v in meta.items() if not k.startswith(b"hgkm.")}

    bad = {
        "tampered.parquet": rewrite(good, tmp_path / "tampered.parquet", one_more_case),
        "forged.parquet": rewrite(good, tmp_path / "forged.parquet", forged),
        "catalogue.parquet": rewrite(good, tmp_path / "catalogue.parquet", other_catalogue),
        "anonymous.parquet": rewrite(good, tmp_path / "anonymous.parquet", no_metadata),
        "truncated.parquet": tmp_path / "truncated.parquet",
    }
    bad["truncated.parquet"].write_bytes(good.read_bytes()[:2000])
    hub = tmp_path / "hub"
    result = run_hgkm("share", "import", *bad.values(), good, data_dir=hub)
    assert result.returncode == 1
    reports = dict((block.split(":", 1)[0], block) for block in result.stdout.strip().split("\n\n"))
    assert "data does not match its content hash" in reports["tampered.parquet"]
    assert "a numerator above its denominator" in reports["forged.parquet"]
    assert "indicator catalogue version 000000000000" in reports["catalogue.parquet"]
    assert "not an HGKM aggregate package" in reports["anonymous.parquet"]
    assert "not a readable Parquet file" in reports["truncated.parquet"]
    for name in bad:
        assert "REJECTED" in reports[name] and "nothing was imported" in reports[name]
        assert " — " in reports[name]  # every problem says what to do
    assert "IMPORTED" in reports["VT03.parquet"]
    # only the good package was stored
    stored = list((hub / "packages").glob("*.parquet"))
    assert [package.read_package(p).content_sha256 for p in stored] == [
        package.read_package(good).content_sha256
    ]
    assert not list((hub / "packages").glob(".*"))


def test_compute_with_neither_deliveries_nor_packages_says_what_to_do(data_dir: Path) -> None:
    result = run_hgkm("compute", data_dir=data_dir)
    assert result.returncode == 2
    assert "hgkm share import" in result.stderr


def test_a_package_describes_itself_and_says_it_is_sensitive(federation: dict) -> None:
    path = federation["packages"] / "VT12.parquet"
    meta = pl.read_parquet_metadata(path)
    assert meta["hgkm.format"] == package.FORMAT
    assert meta["hgkm.producer"].startswith("VT12 ")
    assert meta["hgkm.municipalities"].split(",") == sorted(members("VT12"))
    assert "SENSITIVE" in meta["hgkm.sensitivity"]
    assert package.content_sha256(pl.read_parquet(path)) == meta["hgkm.content_sha256"]


def test_no_package_holds_a_case_identifier_or_a_date_of_a_case(
    sample_pipeline: dict, tmp_path: Path
) -> None:
    """Every identifier and every date of a case in the warehouse, looked for in every column
    and every metadata value of the package the warehouse exports."""
    out = tmp_path / "package.parquet"
    exported = run_hgkm("share", "export", "--out", out, data_dir=sample_pipeline["data"])
    assert exported.returncode == 0, exported.stderr
    assert "SENSITIVE" in exported.stdout
    con = duckdb.connect(str(sample_pipeline["data"] / "warehouse.duckdb"), read_only=True)
    try:
        ids = {
            row[0]
            for sql in (
                "select case_id from cases",
                "select child_id from children",
                "select child_id from help where child_id is not null",
            )
            for row in con.sql(sql).fetchall()
        }
        case_dates = {
            row[0]
            for table, column in (
                ("cases", "report_date"),
                ("cases", "restraining_order_date"),
                ("cases", "coordinator_date"),
                ("cases", "closed_date"),
                ("reports", "report_date"),
                ("help", "offered_date"),
                ("help", "start_date"),
                ("help", "end_date"),
                ("followups", "followup_date"),
            )
            for row in con.sql(f"select distinct {column} from {table}").fetchall()
            if row[0] is not None
        }
        extracts = {row[0] for row in con.sql("select extract_date from deliveries").fetchall()}
        received = {row[0] for row in con.sql("select received_at from deliveries").fetchall()}
        profile_dates = {
            d
            for row in con.sql(
                "select in_place_from, in_place_until from approach_periods"
            ).fetchall()
            for d in row
            if d is not None
        }
    finally:
        con.close()
    assert len(ids) > 1000 and len(case_dates) > 1000  # the search is not vacuous
    frame = pl.read_parquet(out)
    meta = pl.read_parquet_metadata(out)
    # text: no identifier, whole or inside, and no case date written out
    texts = {
        value
        for column, dtype in frame.schema.items()
        if dtype == pl.String
        for value in frame[column].drop_nulls().unique().to_list()
    } | set(meta.values())
    # a delivery's file names carry its extract date (`GM1896_2026-10-01/cases.csv`), which
    # may also be a date some case has: that text is the delivery's date, not the case's
    iso_dates = {d.isoformat() for d in case_dates - extracts}
    for text in texts:
        assert text not in ids
        assert not any(i in text for i in ids), "an identifier inside a text value"
        assert not any(d in text for d in iso_dates), "a date of a case inside a text value"
    # dates: only the package's own kinds, each from where it should come
    temporal = {c for c, t in frame.schema.items() if t.is_temporal()}
    assert temporal == {"in_place_from", "in_place_until", "extract_date", "received_at"}
    assert set(frame["extract_date"].drop_nulls().to_list()) <= extracts
    assert set(frame["received_at"].drop_nulls().to_list()) <= received
    for column in ("in_place_from", "in_place_until"):
        assert set(frame[column].drop_nulls().to_list()) <= profile_dates
    # numbers: no identifier hides in an integer column either (they are counts and periods)
    for column, dtype in frame.schema.items():
        if dtype.is_integer():
            assert not {str(v) for v in frame[column].drop_nulls().unique().to_list()} & ids


def test_a_region_compares_with_the_hubs_netherlands(federation: dict, tmp_path: Path) -> None:
    hub = federation["hub"]
    exported = tmp_path / "benchmark.parquet"
    ok(run_hgkm("benchmarks", "export", "--out", exported, "--source", "Hub (test)", data_dir=hub))
    region = tmp_path / "region"
    shutil.copytree(federation["root"] / "region-VT03", region)
    imported = ok(run_hgkm("benchmarks", "import", exported, data_dir=region))
    assert "IMPORTED — Hub (test)" in imported
    again = ok(run_hgkm("benchmarks", "import", exported, data_dir=region))
    assert "ALREADY IMPORTED (no change)" in again
    ok(run_hgkm("compute", data_dir=region))
    theirs, mine = tables(hub / "mart.duckdb"), tables(region / "mart.duckdb")

    def national(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("area_type") == "national").sort(pl.all())

    # the country is the hub's: its figures, its curves, its funnel
    for name in ("indicator_values", "km_curves"):
        assert_frame_equal(national(mine[name]), national(theirs[name]))
    assert_frame_equal(mine["funnel"], theirs["funnel"])
    assert mine["benchmark"]["source"].to_list() == ["Hub (test)"]
    # every municipality here is compared with it: better when its whole interval is on the
    # better side of the country's value, worse on the other, similar across it
    country = national(mine["indicator_values"]).select(
        "indicator_id", "period", "breakdown", nl="value"
    )
    lower_better = {i.id for i in INDICATORS if i.polarity == "lower_is_better"}
    rows = (
        mine["indicator_values"]
        .filter(
            (pl.col("area_type") == "municipality")
            & ~pl.col("suppressed")
            & pl.col("indicator_id").is_in([i.id for i in INDICATORS if i.is_proportion])
        )
        .join(country, on=["indicator_id", "period", "breakdown"])
    )
    assert rows.height > 100
    for row in rows.iter_rows(named=True):
        if row["nl"] is None:
            # the country's own cell is suppressed (e.g. protected with its population)
            assert row["comparison_national"] == "not_compared", row
            continue
        below, above = row["ci_high"] < row["nl"], row["ci_low"] > row["nl"]
        better = below if row["indicator_id"] in lower_better else above
        worse = above if row["indicator_id"] in lower_better else below
        expected = "better" if better else "worse" if worse else "similar"
        assert row["comparison_national"] == expected, row
    # the rest of the country comes from the benchmark, this region's own from its own mart
    others = set(mine["benchmark_figures"]["area_code"].to_list())
    assert set(members("VT12")) | set(members("VT17")) <= others
    assert not set(members("VT03")) & others
    assert mine["benchmark_deliveries"]["same_delivery"].all()
    # the hub's mart itself is an accepted form: the same figures as its export
    from_mart = run_hgkm("benchmarks", "import", hub / "mart.duckdb", data_dir=region)
    assert "ALREADY IMPORTED (no change)" in ok(from_mart)
    # a damaged benchmark is refused and the one in use stays
    before = (region / "benchmark.parquet").read_bytes()
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(exported.read_bytes()[:-100])
    refused = run_hgkm("benchmarks", "import", damaged, data_dir=region)
    assert refused.returncode == 1 and "REJECTED" in refused.stdout
    assert (region / "benchmark.parquet").read_bytes() == before
