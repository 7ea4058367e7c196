"""WCAG 2.1 AA in a real browser: axe-core on every page in both languages and on the meeting
report, a walk with the keyboard only, and the overview and report at 320 and 1400 CSS px.

axe-core comes bundled with axe-playwright-python (nothing is downloaded). Findings in parts
the app does not control are tolerated only as declared in dashboard/accessibility.py, and a
declared one that no longer occurs fails too, so that list only shrinks. Screenshots go to
tests/artifacts/screenshots/ (git-ignored) to be looked at.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_app import SCREENSHOTS, assert_no_error, launched_chromium, running_dashboard, settle
from conftest import run_hgkm
from playwright.sync_api import expect

from dashboard import accessibility, charts

pytestmark = pytest.mark.browser

VT11 = "veilig_thuis_region:VT11"
# slug, the page's name in Dutch and in English (its h1 starts with it; its tab title too)
PAGES = [
    ("", "Regio-overzicht", "Region overview"),
    ("gemeenteprofiel", "Gemeenteprofiel", "Municipality profile"),
    ("vergelijken", "Vergelijken", "Compare"),
    ("trends", "Trends", "Trends"),
    ("aanpak", "Aanpak", "Approach"),
    ("indicatoren", "Indicatoren", "Indicators"),
    ("aanleveringen", "Aanleveringen", "Deliveries"),
    ("rapport", "Rapport", "Report"),
    ("toegankelijkheid", "Toegankelijkheidsverklaring", "Accessibility statement"),
]
TAB_TITLES = {"toegankelijkheid": ("Toegankelijkheid", "Accessibility")}
APP_NAME = {"nl": "HGKM-monitor", "en": "HGKM monitor"}
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": list(accessibility.AXE_TAGS)},
    "resultTypes": ["violations"],
}


@pytest.fixture(scope="module")
def app_url(sample_pipeline: dict) -> Iterator[str]:
    with running_dashboard(sample_pipeline["data"]) as url:
        yield url


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    """One browser page for the whole module: each test goes where it needs to."""
    with launched_chromium() as chromium:
        context = chromium.new_context(
            viewport={"width": 1400, "height": 1200}, accept_downloads=True
        )
        yield context.new_page()
        context.close()


@pytest.fixture(scope="module")
def reports(sample_pipeline: dict, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The meeting report in both languages, written by the real CLI."""
    folder = tmp_path_factory.mktemp("reports")
    paths = {}
    for lang in ("nl", "en"):
        path = folder / f"report_{lang}.html"
        result = run_hgkm(
            "report",
            "--region",
            "VT11",
            "--period",
            "2024",
            "--lang",
            lang,
            "--out",
            path,
            data_dir=sample_pipeline["data"],
        )
        assert result.returncode == 0, result.stderr
        paths[lang] = path
    return paths


def open_all_tables(page) -> None:
    """Open every chart's table, so axe-core checks them too."""
    for toggle in page.locator('[data-testid="stExpander"] summary').all():
        toggle.click()
    # the report's are plain <details>
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.wait_for_timeout(300)


def axe_findings(page, where: str) -> list[tuple[str, str, str]]:
    """axe-core's violations of the WCAG 2.0/2.1 A and AA rules as (where, rule, part), with a
    declared Streamlit/Plotly part (matched by its selector) named by that selector."""
    results = Axe().run(page, options=AXE_OPTIONS).response
    findings = []
    for violation in results["violations"]:
        for node in violation["nodes"]:
            selector = node["target"][-1]
            part = next(
                (
                    s.target
                    for s in accessibility.SHORTFALLS
                    if s.axe_rule == violation["id"]
                    and page.evaluate(
                        "([node, part]) => !!document.querySelector(node)?.closest(part)",
                        [selector, s.target],
                    )
                ),
                f"{selector} {node['html'][:120]}",
            )
            findings.append((where, violation["id"], part))
    return findings


def charts_are_named(page) -> None:
    """Every Plotly chart's SVG is an image named by the chart's title and summary."""
    plots = page.locator(".js-plotly-plot")
    named = page.locator('.js-plotly-plot svg.main-svg[role="img"][aria-label]')
    assert plots.count() == named.count()
    for label in named.all():
        assert len(label.get_attribute("aria-label") or "") > 30


def test_axe_finds_nothing_the_app_controls(app_url: str, page, reports: dict) -> None:
    findings: list[tuple[str, str, str]] = []
    for lang, names in (("nl", 1), ("en", 2)):
        for row in PAGES:
            slug, heading = row[0], row[names]
            page.goto(f"{app_url}/{slug}?lang={lang}&region={VT11}&municipality=GM0193")
            settle(page, heading)
            assert_no_error(page)
            # the document's language follows the chosen one; each page has its own title
            assert page.evaluate("document.documentElement.lang") == lang
            tab = TAB_TITLES.get(slug, (row[1], row[2]))[names - 1]
            assert page.title() == f"{tab} · {APP_NAME[lang]}"
            levels = page.evaluate(
                "[...document.querySelectorAll('main h1, main h2, main h3, main h4')]"
                ".map(h => +h.tagName[1])"
            )
            assert levels[0] == 1 and levels.count(1) == 1, levels
            assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
            charts_are_named(page)
            open_all_tables(page)
            findings += axe_findings(page, f"{lang} /{slug}")
    for lang, path in reports.items():
        page.goto(path.as_uri())
        page.wait_for_selector(".js-plotly-plot", timeout=30_000)
        assert page.evaluate("document.documentElement.lang") == lang
        open_all_tables(page)
        assert (
            page.locator('[role="img"][aria-label]').count()
            == page.locator(".js-plotly-plot").count()
        )
        assert page.locator("table caption").count() == page.locator(".js-plotly-plot").count()
        findings += axe_findings(page, f"report {lang}")
    assert page.evaluate("axe.version").startswith(accessibility.AXE_VERSION + ".")

    declared = {s.target for s in accessibility.SHORTFALLS if s.axe_rule}
    unexpected = [f for f in findings if f[2] not in declared]
    assert unexpected == []
    # a declared finding that axe-core no longer reports is removed from the list
    assert declared <= {f[2] for f in findings}


def focus_next(page, test: str, key: str = "Tab", limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the focused element passes `test` (JavaScript, given the
    element `e`)."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(f"(e => {test})(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached {test}")


def choose(page, key: str = "ArrowDown") -> None:
    """In a focused select box: open it and choose the option below (or above) the current."""
    page.keyboard.press(key)
    page.wait_for_selector('[role="option"]')
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000
    )


def combobox(label: str) -> str:
    return f"e.getAttribute('role') === 'combobox' && e.getAttribute('aria-label') === '{label}'"


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_keyboard_only_walk(app_url: str, page, tmp_path: Path) -> None:
    page.goto(f"{app_url}/?region={VT11}")
    settle(page, "Regio-overzicht: IJsselland")

    focus_next(page, combobox("Regio (Veilig Thuis)"))
    choose(page)
    settle(page, "Regio-overzicht: Kennemerland")
    assert query(page)["region"] == "veilig_thuis_region:VT12"
    choose(page, "ArrowUp")  # back to IJsselland, the option above
    settle(page, "Regio-overzicht: IJsselland")

    before = query(page)
    focus_next(page, combobox("Gemeente"))
    choose(page, "ArrowUp")
    after = query(page)
    assert after["region"] == VT11 and after["municipality"] != before["municipality"]

    focus_next(page, combobox("Indicator"))
    choose(page)
    assert query(page)["indicator"] != before["indicator"]
    # while Streamlit redraws, the old map and the new one can stand side by side for a moment
    map_title = page.locator(".st-key-region_map .gtitle")
    expect(map_title).to_have_count(1, timeout=30_000)
    expect(map_title).to_have_text(re.compile(r"^Geweld niet gestopt na 18 maanden"))

    focus_next(page, "e.textContent.includes('Download de gegevens van de kaart (CSV)')")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    saved = tmp_path / "kaart.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert {r["indicator_id"] for r in rows} == {"violence_continued_18m"}
    assert len(rows) == 11  # IJsselland's municipalities

    # the focus on a page link is drawn: a 3 px outline, not the browser's faint default
    focus_next(page, "e.matches('[data-testid=\"stSidebarNavLink\"]')", "Shift+Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert outline == "3px"


def overflow(page, box: str) -> dict[str, float]:
    return page.evaluate(
        """(box) => { const b = document.querySelector(box);
           return { page: document.documentElement.scrollWidth - window.innerWidth,
                    box: b.scrollWidth - b.clientWidth, tab: b.tabIndex,
                    chart: b.querySelector('.js-plotly-plot').getBoundingClientRect().width }; }""",
        box,
    )


@pytest.mark.parametrize("width", [320, 1400])
def test_overview_and_report_at_320_and_1400_px(
    app_url: str, page, reports: dict, sample_pipeline: dict, width: int
) -> None:
    """Narrow screens scroll the grid in its own focusable box, at the width its text needs;
    the page itself never scrolls sideways."""
    with duckdb.connect(str(sample_pipeline["mart"]), read_only=True) as con:
        needed = charts.grid_width(con.execute("select count(*) from catalogue").fetchone()[0])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # tall enough that the screenshot holds the whole overview (Streamlit scrolls inside)
    page.set_viewport_size({"width": width, "height": 2600})
    try:
        page.goto(f"{app_url}/?region={VT11}")
        settle(page, "Regio-overzicht")
        page.wait_for_selector(".maplibregl-canvas", timeout=30_000)
        page.wait_for_timeout(2000)
        page.screenshot(path=SCREENSHOTS / f"a11y_overview_{width}.png", full_page=True)
        app = overflow(page, ".st-key-overview_grid")

        page.goto(reports["nl"].as_uri())
        page.wait_for_selector(".js-plotly-plot", timeout=30_000)
        page.wait_for_timeout(1000)
        page.screenshot(
            path=SCREENSHOTS / f"a11y_report_{width}.png",
            full_page=True,
            clip={"x": 0, "y": 0, "width": width, "height": 3000},
        )
        report = overflow(page, ".scroll")
    finally:
        page.set_viewport_size({"width": 1400, "height": 1200})
    for shown in (app, report):
        assert shown["page"] <= 0
        assert shown["chart"] >= needed
        assert shown["tab"] == 0
    if width == 320:
        assert app["box"] > 0 and report["box"] > 0
