"""The browser intake in AppTest, under each role: Aanleveren (a valid, a flawed and another
municipality's export), Aanpak bewerken (a change saved as a new version, a broken one
refused by the contract's rules) and Publicatie (a staged mart's changes, approve, reject).
The checks run the real `hgkm ingest --dry-run` / `hgkm approach import --dry-run` on a
warehouse and mart made from the shipped sample. The real login redirect and the job that
loads what was placed: tests/test_intake_browser.py."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import run_hgkm
from intake_files import FLAWED, planted, zipped
from streamlit.testing.v1 import AppTest
from test_access_apptest import AUTH

from hgkm import audit, intake, release
from hgkm.settings import Paths

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
VT11 = "veilig_thuis_region:VT11"
USERS = {
    "anonymous": {"is_logged_in": False},
    "zwolle": {"is_logged_in": True, "sub": "s-z", "email": "z@zwolle.nl", "name": "Zoë Zwolle"},
    "analyst": {"is_logged_in": True, "sub": "s-a", "email": "a@ijsselland.nl", "name": "Ali"},
}
ROLES = """
[roles]
[roles.users]
"z@zwolle.nl" = { role = "municipality", municipalities = ["GM0193"] }
"a@ijsselland.nl" = { role = "analyst", regions = ["VT11"] }
"""


@pytest.fixture
def site(sample_pipeline: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """The sample's warehouse and mart, an inbox, review mode, the roles; the job is left to
    the test (run_on_upload = false)."""
    data = tmp_path / "data"
    shutil.copytree(sample_pipeline["data"], data)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = tmp_path / "hgkm.toml"
    config.write_text(
        f'inbox = "{inbox}"\npublish = "review"\nrun_on_upload = false\n' + ROLES,
        encoding="utf-8",
    )
    monkeypatch.setenv("HGKM_DATA_DIR", str(data))
    monkeypatch.setenv("HGKM_CONFIG", str(config))
    return Paths(data)


def inbox_of(paths: Paths) -> Path:
    return paths.data_dir.parent / "inbox"


def session(role: str, page: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = AUTH
    at.user = dict(USERS[role])
    at.query_params["region"] = VT11
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [
        str(e.value)
        for kind in ("title", "header", "subheader", "markdown", "caption", "code")
        for e in at.get(kind)
    ]
    parts += [
        str(e.value) for kind in ("info", "warning", "error", "success") for e in at.get(kind)
    ]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(parts)


def upload(at: AppTest, name: str, data: bytes) -> str:
    at.file_uploader(key="upload_file").set_value((name, data, "application/zip")).run()
    assert not at.exception, [e.value for e in at.exception]
    return texts(at)


def table_with(at: AppTest, column: str):
    """The page's table that has `column` (AppTest's tables carry no key)."""
    return next(f.value for f in at.dataframe if column in f.value.columns)


def events(paths: Paths, action: str) -> list[dict]:
    log = audit.read(paths.audit_log)
    assert log.unreadable == []
    return [e for e in log.events if e["action"] == action]


def test_the_public_and_the_signed_out_get_no_intake(site: Paths) -> None:
    for page in ("aanleveren", "aanpak_bewerken", "publicatie"):
        at = session("anonymous", page)
        assert "alleen voor analisten en beheerders" in texts(at)
        assert not at.file_uploader


def test_a_valid_export_is_checked_placed_and_recorded(site: Paths) -> None:
    at = session("zwolle", "aanleveren", municipality="GM0193")
    page = upload(at, "mijn export 123456782.zip", planted("GM0193", date(2026, 11, 1), 2024))
    assert "Goedgekeurd: de aanlevering van Zwolle (peildatum 1 november 2026)" in page
    assert "Nu in gebruik: peildatum 1 oktober 2026, 4.461 zaken" in page
    assert "Na verwerking wordt dit de actuele aanlevering van Zwolle" in page
    assert "children_without_help" in page  # the warning, as hgkm ingest reports it
    assert "(check only: nothing was loaded)" in page
    (placed,) = [p for p in inbox_of(site).iterdir() if not p.name.startswith(".")]
    assert placed.name.startswith("GM0193_2026-11-01_web") and placed.suffix == ".zip"
    assert "123456782" not in page  # the uploader's file name is never shown or kept
    assert list((inbox_of(site) / ".uploads").iterdir()) == []
    (line,) = events(site, "upload")
    assert (line["user"], line["role"], line["what"]["status"]) == (
        "z@zwolle.nl",
        "municipality",
        "accepted",
    )
    assert line["what"]["file"] == placed.name and "GM0193" in line["concerns"]
    (waiting,) = intake.submissions(inbox_of(site))
    assert (waiting.state, waiting.municipality) == (intake.WAITING, "GM0193")
    assert "wacht op verwerking" in texts(at)
    # the same file again in this session is not checked or placed twice
    at.run()
    assert len(events(site, "upload")) == 1


def test_a_flawed_export_gets_its_report_and_is_not_placed(site: Paths) -> None:
    at = session("zwolle", "aanleveren")
    page = upload(at, "export.zip", zipped(FLAWED / "missing_column"))
    assert "Afgekeurd: de aanlevering is niet geplaatst" in page
    errors = table_with(at, "Wat te doen")
    assert errors[["Bestand", "Kolom", "Controle", "Wat te doen"]].values.tolist() == [
        ["cases.csv", "safety_assessment", "missing_column", "add this column (names as in the "
         "contract)"]
    ]  # fmt: skip
    assert [p for p in inbox_of(site).iterdir() if not p.name.startswith(".")] == []
    (line,) = events(site, "upload")
    assert line["what"]["status"] == "rejected" and line["what"]["errors"] == 1


def test_another_municipality_s_export_is_refused(site: Paths) -> None:
    at = session("zwolle", "aanleveren")
    kampen = (Path(__file__).resolve().parent.parent / "sample_data/deliveries").glob("GM0166*")
    page = upload(at, "export.zip", zipped(next(kampen)))
    assert "Dit bestand is een aanlevering van Kampen" in page
    assert "U mag alleen aanleveren voor Zwolle" in page
    assert "REJECTED" not in page and "ACCEPTED" not in page  # no report about Kampen
    assert [p for p in inbox_of(site).iterdir() if not p.name.startswith(".")] == []
    (refused,) = events(site, "refused")
    assert refused["what"] == {"page": "aanleveren", "municipality": "GM0166"}
    assert events(site, "upload") == []


def test_an_analyst_delivers_for_the_region(site: Paths) -> None:
    at = session("analyst", "aanleveren")
    kampen = (Path(__file__).resolve().parent.parent / "sample_data/deliveries").glob("GM0166*")
    page = upload(at, "export.zip", zipped(next(kampen)))
    assert "Deze aanlevering is al eerder geladen" in page  # the sample's own, loaded before
    assert [p for p in inbox_of(site).iterdir() if not p.name.startswith(".")] == []


def period_inputs(at: AppTest, n: int) -> dict:
    """The form's widgets of period n (1-based)."""
    return {
        "from": at.date_input(key=next(k for k in keys(at) if k.endswith(f"_f{n}"))),
        "until": at.date_input(key=next(k for k in keys(at) if k.endswith(f"_u{n}"))),
        "remove": at.checkbox(key=next(k for k in keys(at) if k.endswith(f"_r{n}"))),
    }


def keys(at: AppTest) -> list[str]:
    return [w.key for kind in ("date_input", "checkbox", "text_input") for w in at.get(kind)]


def new_period(at: AppTest, element: str, start: date) -> None:
    element_box = next(s for s in at.selectbox if s.key.endswith("_new_element"))
    element_box.set_value(element)
    next(d for d in at.date_input if d.key.endswith("_new_from")).set_value(start)


def save(at: AppTest) -> str:
    at.button[[b.label for b in at.button].index("Controleren en opslaan")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return texts(at)


def test_a_profile_edit_is_checked_and_saved_as_a_new_version(site: Paths) -> None:
    at = session("zwolle", "aanpak_bewerken", edit="GM0193")
    page = texts(at)
    assert "Aanpak bewerken" in page and "Intensief casemanagement" in page
    widgets = period_inputs(at, 1)
    assert widgets["from"].value is not None
    new_period(at, "single_coordinator", date(2026, 1, 1))
    page = save(at)
    assert "Opgeslagen als nieuwe versie" in page
    assert "added single_coordinator from 2026-01-01 until open" in page
    (placed,) = [p for p in inbox_of(site).iterdir() if not p.name.startswith(".")]
    assert placed.name.startswith("approach_profiles_GM0193_web") and placed.suffix == ".csv"
    rows = pl.read_csv(placed)
    assert set(rows["municipality_code"]) == {"GM0193"} and rows.height == 5
    (line,) = [e for e in events(site, "profile_edit") if e["role"] != "shell"]
    assert line["user"] == "z@zwolle.nl" and line["what"]["file"] == placed.name
    assert line["what"]["changes"] == {
        "GM0193": ["added single_coordinator from 2026-01-01 until open"]
    }
    # while that version waits for the job, no second edit starts from an older one
    assert "Er wacht al een nieuwe versie op verwerking" in texts(at.run())


def test_an_overlapping_period_is_refused_with_its_row(site: Paths) -> None:
    at = session("zwolle", "aanpak_bewerken", edit="GM0193")
    first = period_inputs(at, 1)
    element = next(e for e in at.markdown if e.value.startswith("**Periode 1:"))
    assert element.value == "**Periode 1: Intensief casemanagement**"
    new_period(at, "intensive_case_management", date(2022, 1, 1))  # period 1 runs since 2021
    page = save(at)
    assert first["from"].value is not None
    assert "Niet opgeslagen" in page and "overlapping_periods" in page
    errors = table_with(at, "Wat te doen")
    assert set(errors["Regel"]) == {"Periode 1", "Periode 5"}
    assert [p for p in inbox_of(site).iterdir() if not p.name.startswith(".")] == []
    assert [e for e in events(site, "profile_edit") if e["role"] != "shell"] == []


def test_a_municipality_may_not_edit_another(site: Paths) -> None:
    at = session("zwolle", "aanpak_bewerken", edit="GM0166")
    choice = next(s for s in at.selectbox if s.key == "qp_edit")
    assert choice.options == ["Zwolle"] and choice.value == "GM0193"


def test_publicatie_shows_the_staged_changes_and_approves(site: Paths) -> None:
    inbox = inbox_of(site)
    (inbox / "GM0193_2026-11-01.zip").write_bytes(planted("GM0193", date(2026, 11, 1), 2024))
    assert (
        run_hgkm("ingest", inbox / "GM0193_2026-11-01.zip", data_dir=site.data_dir).returncode == 0
    )
    assert run_hgkm("compute", data_dir=site.data_dir).returncode == 0
    pending = release.staged(site)
    assert pending is not None
    refused = session("zwolle", "publicatie")
    assert "alleen voor analisten en beheerders" in texts(refused)
    at = session("analyst", "publicatie")
    page = texts(at)
    assert "Een nieuwe versie staat klaar" in page and "waarde buiten het oude 95%-interval" in page
    table = table_with(at, "Wordt")
    zwolle = table[(table["Gebied"] == "Zwolle") & (table["Periode"] == "2024")]
    assert "0,0%" in set(zwolle["Wordt"].str.slice(0, 4))
    at.text_input(key="publication_note").set_value("gecontroleerd met Zwolle")
    at.button(key="publication_approve").click().run()
    assert not at.exception
    assert "gepubliceerd als publicatie" in texts(at)
    assert release.staged(site) is None
    newest = release.releases(site)[-1]
    assert (
        newest.decision.by == "a@ijsselland.nl"
        and newest.decision.text == "gecontroleerd met Zwolle"
    )
    (line,) = events(site, "approve")
    assert line["user"] == "a@ijsselland.nl" and "GM0193" in line["concerns"]


def test_publicatie_rejects_only_with_a_reason(site: Paths) -> None:
    inbox = inbox_of(site)
    (inbox / "GM0193_2026-11-01.zip").write_bytes(planted("GM0193", date(2026, 11, 1), 2024))
    run_hgkm("ingest", inbox / "GM0193_2026-11-01.zip", data_dir=site.data_dir)
    run_hgkm("compute", data_dir=site.data_dir)
    before = site.mart.read_bytes()
    at = session("analyst", "publicatie")
    at.button(key="publication_reject").click().run()
    assert "Geef een reden om af te keuren" in texts(at)
    assert release.staged(site) is not None
    at.text_input(key="publication_reason").set_value("Zwolle levert opnieuw aan")
    at.button(key="publication_reject").click().run()
    assert "de gepubliceerde cijfers blijven zoals ze waren" in texts(at)
    assert site.mart.read_bytes() == before
    assert "Zwolle levert opnieuw aan" in texts(at)  # the rejected versions' table
    (line,) = events(site, "reject")
    assert line["what"]["reason"] == "Zwolle levert opnieuw aan"
