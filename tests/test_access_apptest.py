"""Sign-in and roles in AppTest: every page under each role (`at.user`), what each sees and does
not, refusals and the audit lines they leave, and that no cached answer crosses scopes.

The mart is tests/mart_builder.py's: its restricted rows name their municipality, so a page's
text tells whose reasons, findings and notes it shows. The real login redirect is driven in a
browser by tests/test_signin.py.
"""

from __future__ import annotations

import inspect
import json
import socket
from dataclasses import asdict
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from mart_builder import build_mart
from streamlit.testing.v1 import AppTest

from dashboard import data
from hgkm import access, audit
from hgkm.joblog import JobLog
from hgkm.lock import Holder, RunLock

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
VT11, VT03 = "veilig_thuis_region:VT11", "veilig_thuis_region:VT03"
ROLES_TOML = """
[roles]
[roles.users]
"M@Zwartewaterland.nl" = { role = "municipality", municipalities = ["GM1896"] }
"a@ijsselland.nl" = { role = "analyst", regions = ["VT11"] }
[roles.groups]
"hgkm-beheer" = { role = "admin" }
"""
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-cookie-secret-of-more-than-32-bytes",
    "client_id": "hgkm",
    "client_secret": "secret",
    "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
}
USERS = {
    "anonymous": {"is_logged_in": False},
    "public": {"is_logged_in": True, "sub": "s-x", "email": "x@example.org", "name": "X Y"},
    "municipality": {
        "is_logged_in": True,
        "sub": "s-m",
        "email": "m@zwartewaterland.nl",
        "name": "Mira Gemeente",
        "iat": 1764700000,
    },
    "analyst": {"is_logged_in": True, "sub": "s-a", "email": "a@ijsselland.nl", "name": "Ali"},
    "admin": {
        "is_logged_in": True,
        "sub": "s-b",
        "email": "b@regio.nl",
        "name": "Bea Beheer",
        "groups": ["hgkm-beheer"],
    },
}
# What mart_builder restricts, per municipality: the reason summary, a finding, a note.
SECRETS = {
    "GM1896": ("extra_column (cases): 1; personal_data: 1", "fix extra_column of GM1896",
               "regisseur per gezin in GM1896"),
    "GM0193": ("help_before_report: 3", "fix help_before_report of GM0193",
               "regisseur per gezin in GM0193"),
    "GM0034": ("case_count_drop: 1", "fix case_count_drop of GM0034",
               "regisseur per gezin in GM0034"),
}  # fmt: skip
# role -> the municipalities whose (reasons, findings, notes) it sees
SEES = {
    "anonymous": set(),
    "public": set(),
    "municipality": {"GM1896"},
    "analyst": {"GM1896", "GM0193"},
    "admin": {"GM1896", "GM0193", "GM0034"},
}
PAGES = [
    "regio_overzicht", "gemeenteprofiel", "vergelijken", "trends", "aanpak", "indicatoren",
    "aanleveringen", "rapport", "verwerking", "auditlog",
]  # fmt: skip
VISITS = [(VT11, "GM1896"), (VT11, "GM0193"), (VT03, "GM0034")]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    build_mart(folder / "mart.duckdb")
    config = tmp_path / "hgkm.toml"
    config.write_text(ROLES_TOML, encoding="utf-8")
    monkeypatch.setenv("HGKM_DATA_DIR", str(folder))
    monkeypatch.setenv("HGKM_CONFIG", str(config))
    # a run of the job that filed a delivery in each region
    log = JobLog(folder / "logs", run_id="run1", job="run")
    log.event("run.start", inbox="/srv/inbox")
    for code, status in (("GM1896", "rejected"), ("GM0034", "accepted")):
        log.event(
            "delivery.filed",
            path=f"/srv/inbox/export_{code}.zip",
            status=status,
            municipality_code=code,
            error_total=2 if status == "rejected" else 0,
            error_counts={"personal_data": 1, "extra_column": 1} if status == "rejected" else {},
        )
    log.event("run.end", outcome="attention", exit_code=1, mart_published=True, error=None,
              seen=2, accepted=1, rejected=1, already_loaded=0, unreadable=0,
              unrecognised=0)  # fmt: skip
    # earlier audit lines about each region
    for code in ("GM1896", "GM0034"):
        audit.record(
            folder / "logs" / "audit.jsonl",
            user=f"earlier@{code}.nl",
            role="municipality",
            action="signin",
            concerns=[code],
        )
    return folder


def audit_events(data_dir: Path) -> list[dict]:
    return audit.read(data_dir / "logs" / "audit.jsonl").events


def session(role: str | None, **params: str) -> AppTest:
    """The app as `role` sees it (None: sign-in not configured)."""
    at = AppTest.from_file(APP, default_timeout=60)
    if role is not None:
        at.secrets["auth"] = AUTH
        at.user = dict(USERS[role])
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def visit(at: AppTest, page: str) -> str:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, (page, [e.value for e in at.exception])
    return text(at)


def text(at: AppTest) -> str:
    """Everything a visitor can read on the page, tables included."""
    parts = [
        e.value
        for kind in ("title", "header", "subheader", "markdown", "caption")
        for e in at.get(kind)
    ]
    parts += [
        str(e.value) for kind in ("info", "warning", "error", "success") for e in at.get(kind)
    ]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


def shown(page_text: str) -> set[str]:
    """The municipalities whose restricted rows appear in the text."""
    return {code for code, secrets in SECRETS.items() for s in secrets if s in page_text}


@pytest.mark.parametrize("role", list(USERS))
def test_every_page_under_each_role(data_dir: Path, role: str) -> None:
    seen: set[str] = set()
    for region, municipality in VISITS:
        at = session(role, region=region, municipality=municipality)
        for page in PAGES if municipality == "GM1896" else ["aanleveringen", "aanpak"]:
            page_text = visit(at, page)
            seen |= shown(page_text)
            if page in ("verwerking", "auditlog"):
                refused = "alleen voor analisten en beheerders" in page_text
                assert refused == (role not in ("analyst", "admin")), (role, page)
    assert seen == SEES[role]


def test_without_sign_in_the_app_is_as_before(data_dir: Path) -> None:
    """No [auth]: no account block, no new pages, the reasons as they always showed, and no
    findings or notes (they came with sign-in)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["region"] = VT11
    at.query_params["municipality"] = "GM1896"
    at.run()
    assert not at.exception
    assert [b.label for b in at.sidebar.button] == []
    page_text = visit(at, "aanleveringen")
    assert SECRETS["GM1896"][0] in page_text
    assert SECRETS["GM1896"][1] not in page_text
    assert SECRETS["GM1896"][2] not in visit(at, "aanpak")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/verwerking.py")
    assert audit_events(data_dir)[2:] == []


def test_the_account_block_and_a_single_sign_in_line(data_dir: Path) -> None:
    at = session("municipality", region=VT11, municipality="GM1896")
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "Mira Gemeente" in sidebar and "Gemeente: Zwartewaterland" in sidebar
    assert [b.label for b in at.sidebar.button] == ["Uitloggen"]
    visit(at, "aanleveringen")
    fresh = session("municipality")  # a new tab with the same login cookie
    assert (fresh.query_params["region"], fresh.query_params["municipality"]) == (VT11, "GM1896")
    signins = [e for e in audit_events(data_dir) if e["action"] == "signin"][2:]
    assert [(e["user"], e["role"], e["concerns"]) for e in signins] == [
        ("m@zwartewaterland.nl", "municipality", ["GM1896"])
    ]
    at.query_params["lang"] = "en"
    at.run()
    assert "Municipality: Zwartewaterland" in "\n".join(m.value for m in at.sidebar.markdown)
    at.sidebar.button[0].click().run()
    assert at.user == {"is_logged_in": False}
    assert audit_events(data_dir)[-1]["action"] == "signout"
    at.run()  # the browser would now reload the app, signed out
    assert [b.label for b in at.sidebar.button] == ["Sign in"]


def test_a_municipality_asking_for_another_is_refused_and_recorded(data_dir: Path) -> None:
    at = session("municipality", region=VT11, municipality="GM0193")
    page_text = visit(at, "aanleveringen")
    assert "De aanleverrapporten van Zwolle kunt u niet inzien" in page_text
    assert shown(page_text) == {"GM1896"}  # its own rejection in the region's table only
    assert len(at.dataframe) == 1  # the region's status; no log, no report of Zwolle
    at.run()  # the same request again: recorded once per session
    refused = [e for e in audit_events(data_dir) if e["action"] == "refused"]
    assert [(e["user"], e["what"], e["concerns"]) for e in refused] == [
        (
            "m@zwartewaterland.nl",
            {"page": "aanleveringen", "municipality": "GM0193"},
            ["GM0193", "GM1896"],
        )
    ]


def test_the_public_sees_freshness_not_reasons(data_dir: Path) -> None:
    at = session("anonymous", region=VT11, municipality="GM1896")
    visit(at, "aanleveringen")
    status = at.dataframe[0].value.set_index("Gemeente")
    assert list(status.columns) == ["Status", "Peildatum", "Dagen oud"]
    assert status.loc["Zwartewaterland", "Status"] == "● actueel"  # never "last rejected"
    assert status.loc["Kampen", "Status"] == "▼ verouderd"
    log = at.dataframe[1].value
    assert len(log) == 2 and list(log.columns) == ["Peildatum", "Ontvangen", "In gebruik"]
    assert [b.label for b in at.sidebar.button] == ["Inloggen"]
    assert [e for e in audit_events(data_dir) if e["action"] == "refused"] == []


def table_with(at: AppTest, column: str):
    """The page's table that has `column`."""
    return next(f.value for f in at.dataframe if column in f.value.columns)


def test_analysts_see_their_regions_runs_and_audit_lines(data_dir: Path) -> None:
    at = session("analyst", region=VT11, municipality="GM1896")
    visit(at, "verwerking")
    assert len(table_with(at, "Gestart")) == 1
    assert table_with(at, "Bestand")["Gemeente"].tolist() == ["Zwartewaterland"]
    visit(at, "auditlog")
    users = set(table_with(at, "Gebruiker")["Gebruiker"])
    assert "earlier@GM1896.nl" in users and "earlier@GM0034.nl" not in users
    admin = session("admin", region=VT11, municipality="GM1896")
    visit(admin, "verwerking")
    assert set(table_with(admin, "Bestand")["Gemeente"]) == {"Zwartewaterland", "Almere"}
    visit(admin, "auditlog")
    users = set(table_with(admin, "Gebruiker")["Gebruiker"])
    assert {"earlier@GM1896.nl", "earlier@GM0034.nl"} <= users


def test_the_status_page_says_whether_a_run_holds_the_lock(data_dir: Path) -> None:
    at = session("admin", region=VT11)
    with RunLock(data_dir / "hgkm.lock") as lock:  # as `hgkm run` holds it
        assert lock.stale is None
        assert "Er loopt nu een verwerking (gestart" in visit(at, "verwerking")
    assert "Er loopt nu geen verwerking" in visit(at, "verwerking")
    # a run that died holding it: a pid above the kernel's maximum (2**22) is never alive
    dead = Holder(2**22 + 17, socket.gethostname(), "2026-12-02T02:15:00")
    (data_dir / "hgkm.lock").write_text(json.dumps(asdict(dead)))
    assert "(gestart 2026-12-02T02:15:00) is gestopt zonder af te ronden" in visit(at, "verwerking")


def test_a_torn_audit_line_is_skipped_and_said(data_dir: Path) -> None:
    with (data_dir / "logs" / "audit.jsonl").open("ab") as fh:
        fh.write(b'{"ts": "2026-12-03T1')
    at = session("admin", region=VT11)
    page_text = visit(at, "auditlog")
    assert "earlier@GM1896.nl" in page_text
    assert "1 regel(s) van het logboek waren onleesbaar" in page_text


def test_closed_to_the_public_shows_only_the_sign_in(data_dir: Path) -> None:
    config = Path(data_dir.parent / "hgkm.toml")
    config.write_text(ROLES_TOML.replace("[roles]\n", "[roles]\npublic = false\n"))
    at = session("anonymous", region=VT11)
    assert [t.value for t in at.title] == ["HGKM-monitor"]
    assert "alleen te zien na inloggen" in at.info[0].value
    assert at.get("plotly_chart") == [] and len(at.dataframe) == 0
    signed_in = session("public", region=VT11)
    assert signed_in.title[0].value != "HGKM-monitor" and signed_in.get("plotly_chart")


def test_broken_roles_close_the_app_with_a_notice(data_dir: Path) -> None:
    config = Path(data_dir.parent / "hgkm.toml")
    config.write_text('[roles.users]\n"x@y.nl" = { role = "mayor" }\n')
    at = session("admin", region=VT11)
    assert not at.exception
    assert "niet goed ingesteld" in at.error[0].value
    assert at.get("plotly_chart") == [] and len(at.dataframe) == 0


# ---- the caches: Streamlit's are shared by every session


def _restricted_queries(mart: data.MartVersion) -> dict:
    return {
        "delivery_status": lambda f, scope: f(mart, scope),
        "delivery_log": lambda f, scope: f(mart, "GM1896", scope),
        "delivery_issues": lambda f, scope: f(mart, "GM1896", scope),
        "approach_notes": lambda f, scope: f(mart, scope),
    }


def crosses_scopes(cached, uncached, call, wide: access.Scope, narrow: access.Scope) -> bool:
    """Whether, after `wide` filled the cache, `narrow` gets anything but its own answer."""
    st.cache_data.clear()
    call(cached, wide)
    served = call(cached, narrow)
    return not served.equals(call(uncached, narrow))


def test_no_cached_answer_is_served_to_another_scope(data_dir: Path) -> None:
    mart = data.current_version(data_dir / "mart.duckdb")
    scopes = [
        access.Scope("admin"),
        access.Scope("analyst", regions=("VT11",)),
        access.Scope("municipality", municipalities=("GM1896",)),
        access.PUBLIC,
        access.OPEN_SCOPE,
    ]
    for name, call in _restricted_queries(mart).items():
        cached = getattr(data, name)
        for wide in scopes:
            for narrow in scopes:
                assert not crosses_scopes(cached, cached.__wrapped__, call, wide, narrow), (
                    name,
                    wide,
                    narrow,
                )


def test_the_check_sees_a_query_that_keeps_the_scope_out_of_its_key(data_dir: Path) -> None:
    """A cached query that took the scope from the session instead of its arguments would
    serve the first scope's answer to everyone: the check above must catch that."""
    mart = data.current_version(data_dir / "mart.duckdb")
    session_scope = {"scope": access.PUBLIC}

    @st.cache_data
    def leaky(mart: data.MartVersion, scope: access.Scope) -> pl.DataFrame:
        return data.delivery_status.__wrapped__(mart, session_scope["scope"])

    def call(function, scope: access.Scope) -> pl.DataFrame:
        session_scope["scope"] = scope
        return function(mart, access.PUBLIC)  # the scope never reaches the key

    def uncached(mart: data.MartVersion, scope: access.Scope) -> pl.DataFrame:
        return data.delivery_status.__wrapped__(mart, session_scope["scope"])

    assert crosses_scopes(leaky, uncached, call, access.Scope("admin"), access.PUBLIC)


def test_two_sessions_share_the_cache_but_not_the_reasons(data_dir: Path) -> None:
    st.cache_data.clear()
    admin = session("admin", region=VT11, municipality="GM1896")
    assert "GM1896" in shown(visit(admin, "aanleveringen"))
    public = session("public", region=VT11, municipality="GM1896")
    page_text = visit(public, "aanleveringen")
    assert shown(page_text) == set()
    assert "afgekeurd" not in page_text  # no banner, status or row of the rejected delivery
    assert len(public.dataframe[1].value) == 2  # the accepted deliveries only


def test_every_restricted_query_takes_the_scope() -> None:
    """Each data-layer query that reads a restricted table has a `scope` argument."""
    restricted = ("delivery_status", "delivery_log", "delivery_issues", "approach_notes")
    readers = {}
    for name, function in vars(data).items():
        query = getattr(function, "__wrapped__", function)
        if inspect.isfunction(query) and query.__module__ == data.__name__:
            source = inspect.getsource(query)
            if any(f"from {table}" in source or f'"{table}"' in source for table in restricted):
                readers[name] = inspect.signature(query).parameters
    assert set(readers) == set(restricted)
    assert {name for name, parameters in readers.items() if "scope" not in parameters} == set()
