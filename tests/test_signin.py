"""Sign-in in a real browser: a real OpenID Connect provider on localhost (oidc-provider-mock),
`hgkm dashboard --secrets FILE` as an operator starts it, chromium driven through the real
login redirect once per role: what each sees and does not, and that asking for another
municipality's delivery report is refused and written to the audit log.

Screenshots go to tests/artifacts/screenshots/ (git-ignored) to be looked at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import browser_app
import pytest
from browser_app import (
    SCREENSHOTS,
    assert_no_error,
    free_port,
    launched_chromium,
    running_dashboard,
    running_provider,
    secrets_file,
    settle,
)
from mart_builder import build_mart
from test_accessibility import axe_findings, open_all_tables

from dashboard import accessibility
from hgkm import audit

pytestmark = pytest.mark.browser

VT11, VT03 = "veilig_thuis_region:VT11", "veilig_thuis_region:VT03"
# The provider's users: subject -> the claims of their ID token.
USERS = {
    "s-municipality": {"email": "m@zwartewaterland.nl", "name": "Mira Gemeente"},
    "s-analyst": {
        "email": "a@ijsselland.nl",
        "name": "Ali Analist",
        "groups": ["hgkm-analisten-ijsselland"],
    },
    "s-admin": {"email": "b@regio.nl", "name": "Bea Beheer"},
    "s-stranger": {"email": "x@example.org", "name": "Xander Onbekend"},
}
ROLES = """
[roles]
claim = "groups"
[roles.users]
"m@zwartewaterland.nl" = { role = "municipality", municipalities = ["GM1896"] }
"b@regio.nl" = { role = "admin" }
[roles.groups]
"hgkm-analisten-ijsselland" = { role = "analyst", regions = ["VT11"] }
"""
# mart_builder's restricted texts: each names its municipality
REJECTION = "extra_column (cases): 1; personal_data: 1"  # GM1896's summary
FINDING = "fix extra_column of GM1896"
ZWOLLE_WARNING = "help_before_report: 3"  # GM0193's
ALMERE_FINDING = "fix case_count_drop of GM0034"  # VT03


@dataclass(frozen=True)
class Site:
    url: str
    provider: str
    data: Path


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """oidc-provider-mock on a free port, with our users predefined."""
    with running_provider(USERS) as url:
        yield url


@pytest.fixture(scope="module")
def site(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The dashboard with sign-in: roles in hgkm.toml, [auth] in a secrets file of its own
    (never the developer's .streamlit/), handed over with `hgkm dashboard --secrets`."""
    root = tmp_path_factory.mktemp("signin")
    data = root / "data"
    data.mkdir()
    build_mart(data / "mart.duckdb")
    config = root / "hgkm.toml"
    config.write_text(ROLES, encoding="utf-8")
    port = free_port()
    secrets = secrets_file(root / "secrets.toml", port, provider)
    with running_dashboard(
        data, env={"HGKM_CONFIG": str(config)}, port=port, options=["--secrets", str(secrets)]
    ) as url:
        yield Site(url, provider, data)


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser):
    """A fresh browser profile per test: no login cookie from another role."""
    context = browser.new_context(viewport={"width": 1440, "height": 1800})
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, site: Site, subject: str) -> None:
    """The real redirect: the app's button, the provider's page, back with a login cookie."""
    browser_app.sign_in(
        page, site.url, site.provider, subject, USERS[subject]["name"], f"?region={VT11}"
    )


def open_page(page, site: Site, path: str, heading: str, *shown: str) -> str:
    """The page's text once it and each of the texts `shown` are drawn. Tables are drawn on a
    canvas and their cells kept in a hidden grid a moment later: `text_content` reads those
    too, and waiting for a known cell tells the tables are in (before testing for absence)."""
    page.goto(f"{site.url}/{path}")
    settle(page, heading)
    assert_no_error(page)
    for text in shown:
        page.wait_for_function(
            "t => document.querySelector('[data-testid=stMain]').textContent.includes(t)",
            arg=text,
            timeout=30_000,
        )
    return page.get_by_test_id("stMain").text_content() or ""


def accessible(page, where: str) -> None:
    """What tests/test_accessibility.py holds every public page to, on the pages that come with
    sign-in: one h1 and no skipped heading level, and no axe-core finding the app controls."""
    levels = page.evaluate(
        "[...document.querySelectorAll('main h1, main h2, main h3, main h4')]"
        ".map(h => +h.tagName[1])"
    )
    assert levels[0] == 1 and levels.count(1) == 1, (where, levels)
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), (where, levels)
    open_all_tables(page)
    declared = {s.target for s in accessibility.SHORTFALLS if s.axe_rule}
    assert [f for f in axe_findings(page, where) if f[2] not in declared] == []


def nav_links(page) -> list[str]:
    """The page titles in the sidebar's navigation (each link also holds its icon's name)."""
    links = page.get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts()
    return [link.strip().splitlines()[-1] for link in links]


def events(site: Site) -> list[dict]:
    return audit.read(site.data / "logs" / "audit.jsonl").events


def test_the_public_sees_figures_and_freshness_only(page, site: Site) -> None:
    own = f"aanleveringen?region={VT11}&municipality=GM1896"
    text = open_page(page, site, own, "Aanleveringen", "Zwartewaterland", "In gebruik")
    assert "actueel" in text
    assert REJECTION not in text and "afgekeurd" not in text and FINDING not in text
    assert "Verwerking" not in nav_links(page) and "Aanleveringen" in nav_links(page)
    assert page.get_by_role("button", name="Inloggen").count() == 1


def test_municipality_sees_its_own_reports_and_is_refused_another(page, site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, site, "s-municipality")
    sidebar = page.get_by_test_id("stSidebar").inner_text()
    assert "Gemeente: Zwartewaterland" in sidebar and "Uitloggen" in sidebar
    assert "Aanleveringen" in nav_links(page)
    assert "Verwerking" not in nav_links(page) and "Auditlog" not in nav_links(page)

    own = f"aanleveringen?region={VT11}&municipality=GM1896"
    open_page(page, site, own, "Aanleveringen", REJECTION, FINDING)
    page.screenshot(path=SCREENSHOTS / "signin_municipality.png", full_page=True)
    accessible(page, "municipality /aanleveringen")

    # URL tampering: Zwolle's delivery report
    zwolle = f"aanleveringen?region={VT11}&municipality=GM0193"
    refusal = "De aanleverrapporten van Zwolle kunt u niet inzien"
    text = open_page(page, site, zwolle, "Aanleveringen", refusal, "Zwartewaterland")
    assert ZWOLLE_WARNING not in text and "Alle aanleveringen van Zwolle" in text
    assert page.get_by_test_id("stDataFrame").count() == 1  # the region's status table only
    page.screenshot(path=SCREENSHOTS / "signin_refused.png", full_page=True)
    accessible(page, "municipality refused")
    refused = [e for e in events(site) if e["action"] == "refused"]
    assert {
        (e["user"], e["role"], e["what"].get("municipality"))
        for e in refused
        if e["what"]["page"] == "aanleveringen"
    } == {("m@zwartewaterland.nl", "municipality", "GM0193")}

    text = open_page(page, site, "verwerking", "Verwerking", "alleen voor analisten en beheerders")
    assert "Laatste verwerkingen" not in text

    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(f"{site.provider}/oauth2/end_session*", timeout=30_000)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{site.url}/**", timeout=30_000)
    settle(page, "Regio-overzicht")
    page.get_by_role("button", name="Inloggen").wait_for(timeout=30_000)
    mine = [e["action"] for e in events(site) if e["user"] == "m@zwartewaterland.nl"]
    assert mine[0] == "signin" and mine[-1] == "signout"


def test_analyst_sees_its_region_the_run_status_and_its_audit_lines(page, site: Site) -> None:
    sign_in(page, site, "s-analyst")  # the role comes from the groups claim
    assert "Analist: IJsselland" in page.get_by_test_id("stSidebar").inner_text()
    assert {"Verwerking", "Auditlog"} <= set(nav_links(page))
    zwolle = f"aanleveringen?region={VT11}&municipality=GM0193"
    open_page(page, site, zwolle, "Aanleveringen", ZWOLLE_WARNING, REJECTION)
    almere = f"aanleveringen?region={VT03}&municipality=GM0034"
    refusal = "De aanleverrapporten van Almere kunt u niet inzien"
    assert ALMERE_FINDING not in open_page(page, site, almere, "Aanleveringen", refusal, "Lelystad")
    open_page(page, site, "verwerking", "Verwerking", "Laatste verwerkingen")
    page.screenshot(path=SCREENSHOTS / "signin_verwerking.png", full_page=True)
    accessible(page, "analyst /verwerking")
    open_page(page, site, "auditlog", "Auditlog", "a@ijsselland.nl")  # its sign-in: its region
    page.screenshot(path=SCREENSHOTS / "signin_auditlog.png", full_page=True)
    accessible(page, "analyst /auditlog")


def test_admin_sees_everything(page, site: Site) -> None:
    sign_in(page, site, "s-admin")
    assert "Beheerder" in page.get_by_test_id("stSidebar").inner_text()
    almere = f"aanleveringen?region={VT03}&municipality=GM0034"
    open_page(page, site, almere, "Aanleveringen", ALMERE_FINDING)
    open_page(page, site, "auditlog", "Auditlog", "b@regio.nl", "m@zwartewaterland.nl")


def test_a_stranger_signed_in_gets_the_public_view(page, site: Site) -> None:
    sign_in(page, site, "s-stranger")
    assert "Publiek" in page.get_by_test_id("stSidebar").inner_text()
    own = f"aanleveringen?region={VT11}&municipality=GM1896"
    text = open_page(page, site, own, "Aanleveringen", "Zwartewaterland", "In gebruik")
    assert REJECTION not in text and FINDING not in text and "afgekeurd" not in text
    open_page(page, site, "auditlog", "Auditlog", "alleen voor analisten en beheerders")
    assert any(
        e["action"] == "refused" and e["user"] == "x@example.org" and e["what"]["page"] == "audit"
        for e in events(site)
    )
