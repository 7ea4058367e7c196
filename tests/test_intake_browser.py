"""The browser intake end to end: a real OpenID Connect provider on localhost, `hgkm dashboard`
as an operator starts it on the sample's data with an inbox (publish = "review"), and chromium
signed in through the real redirect. A municipality uploads a valid, a flawed and another
municipality's export; the dashboard starts the job, which loads the valid one and stages the
mart. An analyst rejects that staging: the public figures stay. The municipality edits its
approach profile; the job loads it as a new version and stages again. The analyst sees the
planted change listed, approves, and the public pages show the new figure and profile.

One provider, one dashboard and one browser for the module; the tests run in file order, each
starting from what the one before left. Screenshots: tests/artifacts/screenshots/intake_*.png.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

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
    sign_in,
)
from intake_files import DELIVERIES, FLAWED, planted, zipped

from hgkm import audit, intake, release
from hgkm.settings import Paths

pytestmark = pytest.mark.browser

VT11 = "veilig_thuis_region:VT11"
USERS = {
    "s-zwolle": {"email": "z@zwolle.nl", "name": "Zoë Zwolle"},
    "s-analyst": {"email": "a@ijsselland.nl", "name": "Ali Analist"},
}
ROLES = """
[roles]
[roles.users]
"z@zwolle.nl" = { role = "municipality", municipalities = ["GM0193"] }
"a@ijsselland.nl" = { role = "analyst", regions = ["VT11"] }
"""
COORDINATOR = "Eén regisseur binnen 30 dagen"
JOB_SECONDS = 180


@dataclass(frozen=True)
class Site:
    url: str
    provider: str
    paths: Paths
    inbox: Path


@pytest.fixture(scope="module")
def site(sample_pipeline: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("intake")
    data = root / "data"
    shutil.copytree(sample_pipeline["data"], data)
    inbox = root / "inbox"
    inbox.mkdir()
    with running_provider(USERS) as provider:
        port = free_port()
        secrets = secrets_file(root / "secrets.toml", port, provider)
        config = root / "hgkm.toml"
        config.write_text(
            f'inbox = "{inbox}"\npublish = "review"\nsettle_seconds = 0\n' + ROLES,
            encoding="utf-8",
        )
        with running_dashboard(
            data,
            env={"HGKM_CONFIG": str(config)},
            port=port,
            options=["--secrets", str(secrets)],
        ) as url:
            yield Site(url, provider, Paths(data), inbox)


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


def signed_in(browser, site: Site, subject: str | None) -> Iterator[object]:
    """A page in a browser profile of its own, signed in as `subject` (None: the public), kept
    for the module: each person signs in once."""
    context = browser.new_context(viewport={"width": 1440, "height": 1800})
    page = context.new_page()
    if subject is not None:
        name = str(USERS[subject]["name"])
        sign_in(page, site.url, site.provider, subject, name, f"?region={VT11}")
    yield page
    context.close()


@pytest.fixture(scope="module")
def public(browser, site: Site) -> Iterator[object]:
    yield from signed_in(browser, site, None)


@pytest.fixture(scope="module")
def zwolle(browser, site: Site) -> Iterator[object]:
    yield from signed_in(browser, site, "s-zwolle")


@pytest.fixture(scope="module")
def analyst(browser, site: Site) -> Iterator[object]:
    yield from signed_in(browser, site, "s-analyst")


def main_text(page) -> str:
    return page.get_by_test_id("stMain").text_content() or ""


def wait_for_text(page, *texts: str, timeout: float = 30_000) -> str:
    for text in texts:
        page.wait_for_function(
            "t => document.querySelector('[data-testid=stMain]').textContent.includes(t)",
            arg=text,
            timeout=timeout,
        )
    return main_text(page)


def open_page(page, site: Site, path: str, heading: str, *texts: str) -> str:
    page.goto(f"{site.url}/{path}")
    settle(page, heading)
    assert_no_error(page)
    return wait_for_text(page, *texts)


def upload(page, name: str, data: bytes) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": name, "mimeType": "application/zip", "buffer": data}]
    )


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"intake_{name}.png", full_page=True)


def coordinator_2024(page, site: Site) -> str:
    """Zwolle's 2024 coordinator figure as the public profile page's table shows it."""
    open_page(
        page, site, f"gemeenteprofiel?region={VT11}&municipality=GM0193&period=2024",
        "Zwolle", COORDINATOR,
    )  # fmt: skip
    return page.locator("table tr", has_text=COORDINATOR).first.inner_text()


def wait_until_filed(site: Site, kind: str) -> intake.Submission:
    """The browser's newest submission of `kind` once the job (started by the dashboard) has
    filed it; the run's summary is in data/logs/run.out."""
    deadline = time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        found = [s for s in intake.submissions(site.inbox) if s.kind == kind]
        if found and found[0].state != intake.WAITING:
            return found[0]
        time.sleep(1)
    log = site.paths.logs / "run.out"
    pytest.fail(f"the job did not file the {kind}: {log.read_text() if log.exists() else ''}")


def wait_until_idle(site: Site) -> None:
    deadline = time.monotonic() + JOB_SECONDS
    while intake.job_running(site.paths) and time.monotonic() < deadline:
        time.sleep(0.5)


def test_a_municipality_uploads_a_valid_a_flawed_and_another_s_export(
    public, zwolle, site: Site
) -> None:
    before = coordinator_2024(public, site)
    assert "45,4%" in before, before
    page = zwolle
    open_page(page, site, "aanleveren", "Aanleveren", "Uw aanleveringen via de browser")
    upload(page, "export.zip", planted("GM0193", date(2026, 11, 1), 2024))
    text = wait_for_text(page, "Goedgekeurd: de aanlevering van Zwolle", "wacht op verwerking")
    assert "Nu in gebruik: peildatum 1 oktober 2026, 4.461 zaken" in text
    shot(page, "upload_accepted")
    # the dashboard started the job: the list follows it until the delivery is loaded
    filed = wait_until_filed(site, intake.DELIVERY)
    assert filed.state == intake.ACCEPTED and filed.municipality == "GM0193"
    wait_for_text(page, "verwerkt en geladen", timeout=JOB_SECONDS * 1000)

    upload(page, "export.zip", zipped(FLAWED / "date_after_extract"))
    text = wait_for_text(page, "Afgekeurd: de aanlevering is niet geplaatst", "followup_date")
    assert "date_after_extract" in text and "followups.csv" in text
    shot(page, "upload_rejected")

    upload(page, "export.zip", zipped(DELIVERIES / "GM0166_2026-10-01"))
    wait_for_text(page, "Dit bestand is een aanlevering van Kampen")
    settle(page, "Aanleveren")
    text = main_text(page)
    assert "upload.zip:" not in text  # no check report about another municipality's export
    shot(page, "upload_refused")
    events = audit.read(site.paths.audit_log).events
    assert [e["what"]["status"] for e in events if e["action"] == "upload"] == [
        "accepted",
        "rejected",
    ]
    assert any(
        e["action"] == "refused" and e["what"].get("municipality") == "GM0166" for e in events
    )
    wait_until_idle(site)
    # publish = "review": the public still sees the old figure
    assert release.staged(site.paths) is not None
    assert coordinator_2024(public, site) == before


def test_a_rejected_staging_leaves_the_public_figures_as_they_were(
    public, analyst, site: Site
) -> None:
    published = site.paths.mart.read_bytes()
    page = analyst
    open_page(page, site, "publicatie", "Publicatie", "Een nieuwe versie staat klaar")
    page.get_by_label("Reden van afkeuren").fill("Zwolle controleert 2024 nog")
    page.get_by_role("button", name="Afkeuren").click()
    wait_for_text(page, "de gepubliceerde cijfers blijven zoals ze waren")
    shot(page, "publication_rejected")
    assert release.staged(site.paths) is None
    assert site.paths.mart.read_bytes() == published
    assert "45,4%" in coordinator_2024(public, site)


def test_a_profile_edit_is_loaded_by_the_job_as_a_new_version(zwolle, site: Site) -> None:
    page = zwolle
    open_page(page, site, "aanpak_bewerken?edit=GM0193", "Aanpak bewerken", "Periode 1")
    new = page.get_by_test_id("stForm")
    new.get_by_label("Element").last.click()
    page.get_by_role("option", name="Eén gezin, één plan, één regisseur").click()
    # a date field of three parts (day, month, year) that moves on as each is typed
    start = new.get_by_role("spinbutton", name="day, Vanaf").last
    start.click()
    start.press_sequentially("01012026")
    page.keyboard.press("Escape")  # close the calendar that opened
    page.get_by_role("button", name="Controleren en opslaan").click()
    wait_for_text(page, "Opgeslagen als nieuwe versie", "added single_coordinator")
    filed = wait_until_filed(site, intake.PROFILE)
    assert filed.state == intake.ACCEPTED
    wait_until_idle(site)
    # loaded by the job; in review it waits for publication, and the editor goes on from it
    text = open_page(
        page, site, "aanpak_bewerken?edit=GM0193", "Aanpak bewerken", "nog niet gepubliceerd"
    )
    assert "Periode 3: Eén gezin, één plan, één regisseur" in text
    assert "added single_coordinator from 2026-01-01 until open" in text and "z@zwolle.nl" in text
    shot(page, "profile_saved")
    assert release.staged(site.paths) is not None  # the job staged the profile and the delivery


def test_an_analyst_approves_the_staged_change_and_the_public_sees_it(
    public, analyst, site: Site
) -> None:
    page = analyst
    changed = "publicatie?change=moved&changed=coordinator_within_30d"
    text = open_page(page, site, changed, "Publicatie", "Een nieuwe versie staat klaar", "Zwolle")
    assert "waarde buiten het oude 95%-interval" in text
    assert "45,4% (" in text and "0,0% (" in text  # the planted change: Zwolle 2024, was -> is
    shot(page, "publication_staged")
    page.get_by_label("Opmerking (optioneel)").fill("gecontroleerd met Zwolle")
    page.get_by_role("button", name="Goedkeuren en publiceren").click()
    wait_for_text(page, "gepubliceerd als publicatie")
    assert release.staged(site.paths) is None
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(f"{site.provider}/oauth2/end_session*", timeout=30_000)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{site.url}/**", timeout=30_000)
    after = coordinator_2024(page, site)  # as the public sees it
    assert "0,0%" in after and "45,4%" not in after, after
    text = open_page(page, site, f"aanpak?region={VT11}&municipality=GM0193", "Aanpak", "Eén gezin")
    assert "Eén gezin, één plan, één regisseur" in text  # the edited profile, published
