"""The national benchmark in the dashboard (AppTest): its source and date on every page, the
national rankings from it, a note where it counted another delivery, and an honest label for
the comparison row when no benchmark is imported."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from mart_builder import (
    BENCHMARK_OLDER,
    BENCHMARK_ONLY,
    BENCHMARK_PUBLISHED_AT,
    BENCHMARK_SOURCE,
    build_mart,
)
from test_dashboard_apptest import PAGES, VT11, figure, open_app, profile_table

from dashboard import data, report
from hgkm.reference import municipalities

MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
             "september", "oktober", "november", "december")  # fmt: skip
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip


def dutch_day(day: date) -> str:
    return f"{day.day} {MONTHS_NL[day.month - 1]} {day.year}"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("HGKM_DATA_DIR", str(folder))
    return folder


def captions(at) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(c.value for c in at.caption)


def grid_rows(at) -> list[str]:  # type: ignore[no-untyped-def]
    """The overview grid's row labels, top to bottom (bold marks removed)."""
    labels = figure(at, "overview_grid")["layout"]["yaxis"]["ticktext"]
    return [label.replace("<b>", "").replace("</b>", "") for label in labels]


def test_every_page_names_the_benchmark_its_source_and_date(data_dir: Path) -> None:
    build_mart(data_dir / "mart.duckdb")
    published = BENCHMARK_PUBLISHED_AT.date()
    dutch = (
        f"Nederland is hier de landelijke benchmark van {BENCHMARK_SOURCE}, gepubliceerd op "
        f"{dutch_day(published)} (340 van de 342 gemeenten)."
    )
    english = (
        f"The Netherlands here is the national benchmark of {BENCHMARK_SOURCE}, published on "
        f"{published.day} {MONTHS_EN[published.month - 1]} {published.year} (340 of the 342 "
        "municipalities)."
    )
    for page in PAGES:
        at = open_app(page, region=VT11, municipality="GM0148")
        assert dutch in captions(at), page
    at = open_app("regio_overzicht", lang="en", region=VT11)
    assert english in captions(at)


def test_the_comparison_row_is_the_netherlands_with_a_benchmark(data_dir: Path) -> None:
    build_mart(data_dir / "mart.duckdb")
    at = open_app("regio_overzicht", region=VT11, period="2024")
    assert grid_rows(at)[-1] == "Nederland"
    assert any("vergelijking met Nederland." in m.value for m in at.markdown)


def test_without_a_benchmark_the_comparison_row_is_all_delivering_municipalities(
    data_dir: Path,
) -> None:
    build_mart(data_dir / "mart.duckdb", benchmark=False)
    at = open_app("regio_overzicht", region=VT11, period="2024")
    rows = grid_rows(at)
    assert rows[-1] == "alle aanleverende gemeenten" and "Nederland" not in rows
    assert "Er is geen landelijke benchmark geïmporteerd" in captions(at)
    assert any("vergelijking met alle aanleverende gemeenten." in m.value for m in at.markdown)
    profile = open_app("gemeenteprofiel", region=VT11, municipality="GM0160", period="2024")
    table = profile_table(
        profile, "Hardenberg tegenover de regio en alle aanleverende gemeenten, 2024"
    )
    assert "t.o.v. alle aanleverende gemeenten" in next(iter(table.values()))
    english = open_app("regio_overzicht", lang="en", region=VT11, period="2024")
    assert grid_rows(english)[-1] == "all delivering municipalities"
    # the rankings hold this mart's own municipalities only
    compare = open_app("vergelijken", region=VT11, municipality="GM0193", period="2024")
    labels = figure(compare, "ranked")["data"][0]["y"]
    assert not any("Groningen" in label for label in labels)


def test_the_national_rankings_come_from_the_benchmark(data_dir: Path) -> None:
    build_mart(data_dir / "mart.duckdb")
    names = dict(municipalities().select("municipality_code", "municipality_name").iter_rows())
    at = open_app("vergelijken", region=VT11, municipality="GM0193", period="2024")
    labels = figure(at, "ranked")["data"][0]["y"]
    for code in BENCHMARK_ONLY:
        assert any(label.startswith(names[code] + "  ") for label in labels), code
    hovers = [h for trace in figure(at, "funnel")["data"] for h in trace.get("customdata") or []]
    assert any(f"<b>{names[BENCHMARK_ONLY[0]]}</b>" in str(h) for h in hovers)


def test_a_delivery_newer_than_the_benchmarks_is_named(data_dir: Path) -> None:
    mart = build_mart(data_dir / "mart.duckdb")
    name = dict(municipalities().select("municipality_code", "municipality_name").iter_rows())[
        BENCHMARK_OLDER
    ]
    version = data.current_version(mart)
    assert version is not None
    differs = data.benchmark_deliveries(version).row(0, named=True)
    expected = (
        f"{name} (daar {dutch_day(differs['benchmark_extract_date'])}, "
        f"hier {dutch_day(differs['extract_date'])})"
    )
    at = open_app("regio_overzicht", region=VT11)
    notes = [i.value for i in at.info]
    assert any(expected in note and "landelijke benchmark" in note for note in notes), notes
    # a municipality whose delivery the benchmark shares gets no note
    other = open_app("gemeenteprofiel", region=VT11, municipality="GM0148")
    assert not any("landelijke benchmark" in i.value for i in other.info)


def test_the_report_names_the_benchmark(data_dir: Path) -> None:
    mart = build_mart(data_dir / "mart.duckdb")
    version = data.current_version(mart)
    assert version is not None
    html = report.build(version, VT11, "2024", "nl", today=date(2025, 6, 3))
    assert f"landelijke benchmark van {BENCHMARK_SOURCE}" in html
    assert "beter dan Nederland" in html or "Beter dan Nederland" in html
    without = build_mart(data_dir / "mart.duckdb", benchmark=False)
    version = data.current_version(without)
    assert version is not None
    html = report.build(version, VT11, "2024", "nl", today=date(2025, 6, 3))
    assert "Er is geen landelijke benchmark" in html
    assert "alle aanleverende gemeenten" in html
