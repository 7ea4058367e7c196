"""The benchmark harness runs end to end at a tiny scale; its baselines really check; no timings."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import dashboard_queries, pandas_baseline, report
from benchmarks.run import ALTERNATING

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--scales",
            "0.05",
            "--interactions",
            "7",
            "--out",
            str(out),
            "--work",
            str(out / "work"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads((out / "results.json").read_text())


@pytest.mark.slow
def test_quick_run_writes_both_result_files(quick: tuple[Path, dict]) -> None:
    out, results = quick
    markdown = (out / "results.md").read_text()
    assert results["quick"] is True
    assert results["machine"]["cores"] >= 1
    assert {"python", "duckdb", "polars", "pandas", "pandera"} <= set(results["versions"])
    assert [row["key"] for row in results["budgets"]] == [b.key for b in report.BUDGETS]
    assert "## Budgets (PRODUCT.md)" in markdown and "Quick run" in markdown
    assert "## Aggregate packages and a hub" in markdown and "| VT11 | 3 |" in markdown
    for key in ("floor", "floor_per_delivery", "pandas"):
        step = results["national"]["steps"][key]
        assert step is not None, results["notes"]
        assert step["runs"][0]["peak_rss_mb"] > 0
    # Every loader ended with exactly the rows the generator wrote.
    assert "≠" not in results["national"]["same_work"]
    assert results["national"]["same_work"].count("= generated") >= 3


@pytest.mark.slow
def test_quick_run_measures_ingest_compute_and_dashboard(quick: tuple[Path, dict]) -> None:
    _, results = quick
    national = results["national"]
    assert results["notes"] == []
    assert national["steps"]["ingest"]["runs"][0]["extra"]["statuses"] == {
        "accepted": national["data"]["municipalities"]
    }
    assert national["steps"]["ingest_one"] is not None
    intake = national["steps"]["intake_checks"]["runs"][0]["extra"]
    assert len(intake["pairs"]) == results["repeats"]
    assert all(p["with_seconds"] > 0 and p["without_cpu"] > 0 for p in intake["pairs"])
    budget = {row["key"]: row for row in results["budgets"]}["intake_checks_percent"]
    assert budget["measured"] is not None and budget["measured"] >= 0
    alternating = national["steps"]["alternating"]
    assert len(alternating["pairs"]) == results["repeats"]
    assert national["ratios"][ALTERNATING] == alternating["ratio_median"] > 0
    assert national["steps"]["compute"]["runs"][0]["extra"]["delivered"] > 0
    assert national["dashboard"]["warm"]["n"] == 7
    assert len(results["scaling"]) == 1
    # aggregate packages per region and a hub computing from them
    federation = national["federation"]
    (region,) = federation["regions"]  # the quick run's three municipalities are one region
    assert region["export"]["runs"][0]["extra"]["municipalities"] == 3
    assert federation["import"]["runs"][0]["extra"]["stored"] == 1
    assert federation["compute"]["runs"][0]["extra"]["delivered"] == 3
    assert len(federation["alternating"]["pairs"]) == results["repeats"]
    statuses = [b["status"] for b in results["budgets"]]
    assert "not measured" not in statuses


def _clean_delivery(quick: tuple[Path, dict], tmp_path: Path) -> Path:
    out, results = quick
    source = sorted(Path(results["national"]["data"]["folder"]).iterdir())[0]
    return Path(shutil.copytree(source, tmp_path / source.name))


@pytest.mark.slow
def test_pandas_baseline_passes_a_clean_delivery(quick: tuple[Path, dict], tmp_path: Path) -> None:
    _, _, errors, _ = pandas_baseline.check(_clean_delivery(quick, tmp_path))
    assert errors == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("cases", "violence_type", "burglary"),  # not an enum value
        ("cases", "case_id", "ab"),  # too short for a pseudonym
        ("reports", "case_id", "NO_SUCH_CASE"),  # not a case of the delivery
        ("cases", "report_date", "1999-12-31"),  # before 2000-01-01
        ("cases", "report_date", "31/12/2020"),  # not a contract date format
        ("help", "case_id", "111222333"),  # a BSN passing the eleven-test
        ("followups", "violence_since_previous", "jan@example.nl"),  # an e-mail address
    ],
)
def test_pandas_baseline_counts_a_broken_rule(
    quick: tuple[Path, dict], tmp_path: Path, table: str, column: str, value: str
) -> None:
    delivery = _clean_delivery(quick, tmp_path)
    path = delivery / f"{table}.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index(column)] = value
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    _, _, errors, _ = pandas_baseline.check(delivery)
    assert errors >= 1


def test_every_query_a_page_uses_is_timed() -> None:
    """A page that starts using a new query must get it in dashboard_queries.PAGE_QUERIES."""
    used: set[str] = set()
    sources = [*(ROOT / "dashboard" / "app_pages").glob("*.py"), ROOT / "dashboard" / "state.py"]
    for source in sources:
        used |= set(re.findall(r"\bdata\.([a-z_]+)\(", source.read_text()))
    timed = {name for queries in dashboard_queries.PAGE_QUERIES.values() for name, _ in queries}
    timed |= {name for name, _ in dashboard_queries.SIDEBAR}
    # not queries of the mart: the shipped outlines, the file's identity, the releases' records
    not_queries = {"municipality_geojson", "current_version", "staged", "publications"}
    assert used - not_queries <= timed


def test_percentile_matches_numpy() -> None:
    values = [0.31, 0.02, 0.5, 0.07, 0.11, 0.09, 1.4, 0.2, 0.05, 0.06, 0.3]
    for q in (0, 50, 95, 100):
        assert report.percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_scaling_fit_recovers_a_power_law() -> None:
    scales = [0.125, 0.25, 0.5, 1.0]
    fit = report.scaling_fit(scales, [3.0 * s**1.5 for s in scales])
    assert fit is not None and fit["exponent"] == pytest.approx(1.5)
    line = report.scaling_fit(scales, [2.0 + 10.0 * s for s in scales])
    assert line is not None
    assert line["fixed"] == pytest.approx(2.0) and line["per_scale_unit"] == pytest.approx(10.0)


def test_budget_status_is_met_missed_or_not_measured() -> None:
    rows = {
        r["key"]: r for r in report.budget_rows({"compute_seconds": 4.0, "ingest_one_seconds": 9})
    }
    assert rows["compute_seconds"]["status"] == "met"
    assert rows["ingest_one_seconds"]["status"] == "missed"
    assert rows["ingest_all_seconds"]["status"] == "not measured"


def test_pandas_baseline_finds_personal_data_by_pattern_and_eleven_test() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "case_id": ["111222333", "123456789", "ABCD_1234", "case-0001"],
            "other": ["jan@example.nl", "1234 AB", None, "06-12345678"],
        }
    )
    # 111222333 passes the eleven-test, 123456789 does not; e-mail, postcode, phone.
    assert pandas_baseline._personal_data(frame) == 4


def test_a_step_over_its_memory_limit_is_killed(tmp_path: Path) -> None:
    from benchmarks import measure

    with pytest.raises(measure.StepFailed, match="RSS passed"):
        measure.run_once(
            "floor",
            {"database": str(tmp_path / "f.duckdb"), "folder": str(tmp_path)},
            max_rss_mb=1,
        )
