"""The dashboard in a real browser: `hgkm dashboard` started as a user would, driven by Playwright.

Screenshots go to tests/artifacts/screenshots/ (git-ignored) to be looked at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_app import (
    SCREENSHOTS,
    assert_no_error,
    launched_chromium,
    running_dashboard,
    settle,
)
from conftest import run_hgkm

pytestmark = pytest.mark.browser

PAGES = [
    ("", "Regio-overzicht"),
    ("gemeenteprofiel", "Gemeenteprofiel"),
    ("vergelijken", "Vergelijken"),
    ("trends", "Trends"),
    ("aanpak", "Aanpak"),
    ("indicatoren", "Indicatoren"),
    ("aanleveringen", "Aanleveringen"),
    ("rapport", "Rapport"),
    ("toegankelijkheid", "Toegankelijkheidsverklaring"),
]


@pytest.fixture(scope="module")
def app_url(sample_pipeline: dict) -> Iterator[str]:
    with running_dashboard(sample_pipeline["data"]) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 2000}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def test_every_page_renders_without_error(app_url: str, page) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    local = (app_url, "data:", "blob:")
    page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
    for slug, heading in PAGES:
        page.goto(f"{app_url}/{slug}?region=veilig_thuis_region:VT11&municipality=GM0193")
        settle(page, heading)
        assert_no_error(page)
        if not slug:  # the map draws in a web worker: wait until it has loaded
            page.wait_for_selector(".maplibregl-canvas", timeout=30_000)
            page.wait_for_timeout(4000)
        page.screenshot(path=SCREENSHOTS / f"{slug or 'regio_overzicht'}.png", full_page=True)
    assert outside == []  # no fonts, icons or map tiles from the internet


def test_deep_link_reopens_the_same_view(app_url: str, page) -> None:
    # Hardenberg (GM0160) is one of the sample's IJsselland municipalities
    page.goto(
        f"{app_url}/gemeenteprofiel?lang=en&region=veilig_thuis_region:VT11"
        "&municipality=GM0160&period=2024&indicator=coordinator_within_30d"
    )
    settle(page, "Municipality profile: Hardenberg")
    assert_no_error(page)
    assert page.get_by_text("Each line is one indicator").count() == 1
    assert "municipality=GM0160" in page.url
    page.screenshot(path=SCREENSHOTS / "deep_link_en.png", full_page=True)


def test_download_csv_and_report(app_url: str, page, tmp_path: Path) -> None:
    page.goto(f"{app_url}/?region=veilig_thuis_region:VT11")
    settle(page, "Regio-overzicht")
    with page.expect_download() as info:
        label = "Download de gegevens van het regio-overzicht (CSV)"
        page.get_by_role("button", name=label).click()
    csv = tmp_path / "grid.csv"
    info.value.save_as(csv)
    header = csv.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("area_code,area_name") and "comparison_national" in header

    page.goto(f"{app_url}/rapport?region=veilig_thuis_region:VT11&period=2024")
    settle(page, "Rapport")
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download het rapport (HTML)").click()
    report = tmp_path / "report.html"
    info.value.save_as(report)
    text = report.read_text(encoding="utf-8")
    assert "IJsselland" in text and "Zwolle" in text

    # Opened from disk, the report asks nothing of the network.
    outside: list[str] = []
    local = {"file", "data", "blob"}
    page.on("request", lambda r: None if r.url.split(":")[0] in local else outside.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    page.wait_for_timeout(1000)
    assert outside == []
    page.screenshot(path=SCREENSHOTS / "report.png", full_page=True)
    shutil.copy(report, SCREENSHOTS / "report.html")


def test_every_comparison_names_the_imported_benchmark(app_url: str, page) -> None:
    # `make run` imports the sample's national benchmark: the country is the hub's
    page.goto(f"{app_url}/?region=veilig_thuis_region:VT11&period=2024")
    settle(page, "Regio-overzicht")
    source = page.get_by_text("Nederland is hier de landelijke benchmark van voorbeeldhub")
    source.first.wait_for(timeout=30_000)
    assert "(342 van de 342 gemeenten)" in source.first.inner_text()
    # Zwolle's and Dalfsen's newest deliveries reached this dashboard, not the hub
    note = page.get_by_text("De landelijke benchmark (")
    assert "Zwolle (daar 1 oktober 2025, hier 1 oktober 2026)" in note.first.inner_text()
    page.goto(f"{app_url}/vergelijken?region=veilig_thuis_region:VT11&municipality=GM0193")
    settle(page, "Vergelijken")
    assert page.get_by_text("landelijke benchmark van voorbeeldhub").count() == 1
    page.screenshot(path=SCREENSHOTS / "benchmark_compare.png", full_page=True)


def test_without_a_benchmark_the_comparison_row_says_so(
    sample_pipeline: dict, browser, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(sample_pipeline["data"], data)
    (data / "benchmark.parquet").unlink()
    assert run_hgkm("compute", data_dir=data).returncode == 0
    with running_dashboard(data) as url:
        context = browser.new_context(viewport={"width": 1440, "height": 2000})
        page = context.new_page()
        try:
            page.goto(f"{url}/gemeenteprofiel?region=veilig_thuis_region:VT11&municipality=GM0160")
            settle(page, "Gemeenteprofiel: Hardenberg")
            assert_no_error(page)
            assert page.get_by_text("Er is geen landelijke benchmark geïmporteerd").count() == 1
            spine = page.get_by_text("De streep in het midden is alle aanleverende gemeenten")
            assert spine.count() == 1
            page.screenshot(path=SCREENSHOTS / "no_benchmark_profile.png", full_page=True)
        finally:
            context.close()
