"""On generated sample data the published indicators recover the generator's planted rates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import run_hgkm

from hgkm.settings import Paths
from metrics import publish
from pipelines.contract import TABLES
from pipelines.warehouse import connect

EXTRACT = date(2025, 10, 1)


def load_folders(deliveries: Path, warehouse: Path) -> None:
    """Load the generator's clean folder deliveries straight into the warehouse schema.

    Deliberately not `hgkm ingest`: this test checks the metrics against the planted truth,
    independent of the reader and checks (tested on their own).
    """
    con = connect(warehouse)
    try:
        for folder in sorted(deliveries.iterdir()):
            manifest = dict(pl.read_csv(folder / "manifest.csv").iter_rows())
            row = con.execute(
                "insert into deliveries (content_hash, municipality_code, extract_date, "
                "source_name, shape, received_at, status) values (?, ?, ?, ?, 'folder', ?, "
                "'accepted') returning delivery_id",
                [
                    folder.name,
                    manifest["municipality_code"],
                    date.fromisoformat(manifest["extract_date"]),
                    folder.name,
                    datetime(2025, 10, 2),
                ],
            ).fetchone()
            assert row is not None
            for table, columns in TABLES.items():
                types = {c.name: c.sql_type.upper() for c in columns}
                con.execute(
                    f"insert into {table} by name select {row[0]} as delivery_id, * "
                    f"from read_csv(?, header = true, columns = {types!r})",
                    [str(folder / f"{table}.csv")],
                )
    finally:
        con.close()
    connect(warehouse).close()  # hashes the case_ids loaded here, as the ingest does


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """Planted rates joined to the published municipality × cohort-year figures (breakdown all)."""
    root = tmp_path_factory.mktemp("recovery")
    sample = root / "sample"
    done = run_hgkm(
        "sample", "--out", sample, "--region", "VT08", "--extract-date", EXTRACT.isoformat(),
        "--seed", "7", "--no-profiles", data_dir=root / "data",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    paths = Paths(root / "data")
    load_folders(sample / "deliveries", paths.warehouse)
    publish.compute(paths)
    con = duckdb.connect(str(paths.mart), read_only=True)
    try:
        values = con.sql(
            "select indicator_id, area_code as municipality_code, year, numerator, denominator, "
            "value, ci_low, ci_high, suppressed from indicator_values "
            "where area_type = 'municipality' and period_type = 'year' and breakdown = 'all'"
        ).pl()
    finally:
        con.close()
    planted = pl.read_csv(sample / "planted_rates.csv").with_columns(pl.col("year").cast(pl.Int32))
    return planted.join(values, on=["municipality_code", "year", "indicator_id"], how="left")


def test_populations_match_the_generator_s_own_count(recovered: pl.DataFrame) -> None:
    """The generator counts each indicator's population on its own (generator/planted.py);
    every published denominator must equal it exactly — an independent check of the windows."""
    shown = recovered.filter(pl.col("suppressed") == False)  # noqa: E712
    assert shown.height > 300
    mismatched = shown.filter(pl.col("denominator") != pl.col("population"))
    assert mismatched.is_empty(), mismatched.head(10)
    # a planted cell with a population but no published row at all would be a lost figure
    lost = recovered.filter((pl.col("population") > 0) & pl.col("suppressed").is_null())
    assert lost.is_empty(), lost.head(10)


def test_intervals_cover_the_planted_rates_about_95_percent(recovered: pl.DataFrame) -> None:
    """Each planted rate is the expectation of its cell's proportion, so a 95% Wilson interval
    should cover it in about 95% of cells. Over several hundred cells chance moves that share by
    about one percentage point (binomial SD ≈ 1%), so 85–99.5% is a wide band that still fails
    on a systematic error (shifted windows, wrong denominators, intervals too narrow or
    degenerate) — and 100% would mean intervals too wide to say anything."""
    shown = recovered.filter(pl.col("suppressed") == False)  # noqa: E712
    covered = (pl.col("ci_low") <= pl.col("planted_rate")) & (
        pl.col("planted_rate") <= pl.col("ci_high")
    )
    share = shown.select(covered.mean()).item()
    assert shown.height > 300
    assert 0.85 <= share <= 0.995, f"{share:.3f} of {shown.height} cells cover the planted rate"
