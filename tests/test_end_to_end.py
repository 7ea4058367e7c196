"""A newcomer's path through the real CLI: ingest the sample, import profiles, compute, export.

The published table is compared with a golden CSV (year periods, breakdown `all`, the sample's
municipalities, its Veilig Thuis region and the country). After an intended change of the
figures, regenerate it with `HGKM_UPDATE_GOLDEN=1 pytest tests/test_end_to_end.py` and review
the diff like code.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLE_DATA, run_hgkm

GOLDEN = Path(__file__).parent / "golden" / "published_vt11_years.csv"
SPEC_COLUMNS = [
    "indicator_id", "area_type", "area_code", "period", "breakdown", "numerator",
    "denominator", "value", "ci_low", "ci_high", "comparison_region", "comparison_national",
    "suppressed",
]  # fmt: skip


@pytest.fixture(scope="module")
def published(sample_pipeline: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = sample_pipeline["data"]
    export = tmp_path_factory.mktemp("e2e") / "published.csv"
    steps = {
        **sample_pipeline["steps"],
        "export": run_hgkm("export", "--out", export, data_dir=data),
    }
    table = pl.read_csv(export, infer_schema_length=None) if export.exists() else None
    return {"data": data, "steps": steps, "table": table, "export": export}


def test_every_step_succeeds(published: dict) -> None:
    for name, result in published["steps"].items():
        assert result.returncode == 0, f"{name}: {result.stdout}\n{result.stderr}"
    assert "13 accepted, 0 rejected" in published["steps"]["ingest"].stdout


def test_export_starts_with_the_spec_columns(published: dict) -> None:
    assert published["table"].columns[: len(SPEC_COLUMNS)] == SPEC_COLUMNS


def test_small_numbers_never_leave_the_warehouse(published: dict) -> None:
    table = published["table"]
    shown = table.filter(~pl.col("suppressed"))
    proportions = shown.filter(pl.col("indicator_id") != "time_to_specialist")
    too_small = proportions.filter(
        (pl.col("denominator") < 10)
        | pl.col("numerator").is_between(1, 4)
        | (pl.col("denominator") - pl.col("numerator")).is_between(1, 4)
    )
    assert too_small.height == 0
    medians = shown.filter(pl.col("indicator_id") == "time_to_specialist")
    assert medians.filter((pl.col("denominator") < 10) | (pl.col("numerator") < 5)).height == 0
    hidden = table.filter(pl.col("suppressed"))
    assert hidden.height > 0
    for column in ("numerator", "denominator", "value", "ci_low", "ci_high"):
        assert hidden[column].null_count() == hidden.height, column


def test_rerunning_changes_nothing(published: dict, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(published["data"], data)
    again = run_hgkm("ingest", SAMPLE_DATA / "deliveries", data_dir=data)
    assert again.returncode == 0
    assert "0 accepted, 0 rejected, 13 already loaded" in again.stdout
    assert run_hgkm("compute", data_dir=data).returncode == 0
    second = tmp_path / "published_again.csv"
    assert run_hgkm("export", "--out", second, data_dir=data).returncode == 0
    assert pl.read_csv(second, infer_schema_length=None).equals(published["table"])


def _golden_slice(table: pl.DataFrame) -> pl.DataFrame:
    areas = {"NL", "veilig_thuis_region:VT11"}
    return (
        table.filter(
            (pl.col("breakdown") == "all")
            & ~pl.col("period").str.contains("Q")
            & ((pl.col("area_type") == "municipality") | pl.col("area_code").is_in(areas))
        )
        .select(SPEC_COLUMNS)
        .sort("indicator_id", "area_type", "area_code", "period")
    )


def test_published_table_matches_golden(published: dict) -> None:
    current = _golden_slice(published["table"])
    if os.environ.get("HGKM_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        current.write_csv(GOLDEN, float_precision=10)
    golden = pl.read_csv(GOLDEN, infer_schema_length=None)
    rounded = pl.read_csv(current.write_csv(float_precision=10).encode(), infer_schema_length=None)
    assert rounded.equals(golden), "published figures changed; see the module docstring"
