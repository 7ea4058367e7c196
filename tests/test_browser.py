"""The dashboard in a real browser: `hgkm dashboard` started as a user would, driven by Playwright.

Uses Debian's chromium (`make chromium`); never downloads a browser. Screenshots go to
tests/artifacts/screenshots/ (git-ignored) to be looked at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
HGKM = Path(sys.executable).parent / "hgkm"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = [
    ("", "Regio-overzicht"),
    ("gemeenteprofiel", "Gemeenteprofiel"),
    ("vergelijken", "Vergelijken"),
    ("trends", "Trends"),
    ("aanpak", "Aanpak"),
    ("indicatoren", "Indicatoren"),
    ("aanleveringen", "Aanleveringen"),
    ("rapport", "Rapport"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(sample_pipeline: dict) -> Iterator[str]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing on CI: `make test` should install it")
        pytest.skip("Debian's chromium is not installed: run `make chromium`")
    data_dir = sample_pipeline["data"]
    port = _free_port()
    process = subprocess.Popen(
        [str(HGKM), "dashboard", "--port", str(port)],
        env={**os.environ, "HGKM_DATA_DIR": str(data_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    pytest.fail(f"dashboard did not start:\n{output}")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 2000}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def _settle(page, heading: str) -> None:
    """Wait until the page's title is drawn and Streamlit has stopped running."""
    page.get_by_role("heading", level=1).filter(has_text=heading).first.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000
    )
    page.wait_for_timeout(800)  # plotly draws after the element appears


def _assert_no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert (
        page.locator('[data-testid="stAlertContentError"]').filter(has_text="Traceback").count()
        == 0
    )


def test_every_page_renders_without_error(app_url: str, page) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    local = (app_url, "data:", "blob:")
    page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
    for slug, heading in PAGES:
        page.goto(f"{app_url}/{slug}?region=veilig_thuis_region:VT11&municipality=GM0193")
        _settle(page, heading)
        _assert_no_error(page)
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
    _settle(page, "Municipality profile: Hardenberg")
    _assert_no_error(page)
    assert page.get_by_text("Each line is one indicator").count() == 1
    assert "municipality=GM0160" in page.url
    page.screenshot(path=SCREENSHOTS / "deep_link_en.png", full_page=True)


def test_download_csv_and_report(app_url: str, page, tmp_path: Path) -> None:
    page.goto(f"{app_url}/?region=veilig_thuis_region:VT11")
    _settle(page, "Regio-overzicht")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download de gegevens (CSV)").first.click()
    csv = tmp_path / "grid.csv"
    info.value.save_as(csv)
    header = csv.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("area_code,area_name") and "comparison_national" in header

    page.goto(f"{app_url}/rapport?region=veilig_thuis_region:VT11&period=2024")
    _settle(page, "Rapport")
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
