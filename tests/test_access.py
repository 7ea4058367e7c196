"""Roles and the audit log from the shared floor: [roles] of hgkm.toml, who gets what, the
append-only log under concurrent writers and after a crash, and the `hgkm users` / `hgkm
audit` / `hgkm dashboard` commands through the real entry point."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_hgkm

from hgkm import access, audit, jsonlines
from hgkm.config import ConfigError, load_config

ROLES = """
[roles]
claim = "roles"
[roles.users]
"A.Jansen@Zwolle.nl" = { role = "municipality", municipalities = ["GM0193", "gm0148"] }
"8f1c7e2a-sub" = { role = "analyst", regions = ["VT11", "veilig_thuis_region:VT03"] }
"blocked@zwolle.nl" = { role = "public" }
[roles.groups]
"hgkm-beheer" = { role = "admin" }
"hgkm-zwolle" = { role = "municipality", municipalities = ["GM0193"] }
"hgkm-almere" = { role = "municipality", municipalities = ["GM0034"] }
"hgkm-ijsselland" = { role = "analyst", regions = ["VT11"] }
"""


@pytest.fixture
def roles(tmp_path: Path) -> access.RolesConfig:
    config = tmp_path / "hgkm.toml"
    config.write_text(ROLES, encoding="utf-8")
    return access.load_roles(file=config)


def test_entries_and_groups_resolve_to_one_grant(roles: access.RolesConfig) -> None:
    jansen = roles.resolve({"sub": "x", "email": "a.jansen@zwolle.NL"})
    assert (jansen.role, jansen.municipalities) == ("municipality", ("GM0148", "GM0193"))
    assert jansen.source == '[roles.users] "A.Jansen@Zwolle.nl"'
    # a subject is matched exactly, before the e-mail address
    analyst = roles.resolve({"sub": "8f1c7e2a-sub", "email": "a.jansen@zwolle.nl"})
    assert (analyst.role, analyst.regions) == ("analyst", ("VT03", "VT11"))
    assert roles.resolve({"sub": "8F1C7E2A-SUB"}).role == "public"
    # an entry wins over groups, also to give less
    assert roles.resolve({"email": "blocked@zwolle.nl", "roles": ["hgkm-beheer"]}).role == "public"
    # the highest role of the matching groups, the scopes of that role's groups joined
    both = roles.resolve({"email": "p@q.nl", "roles": ["hgkm-zwolle", "hgkm-almere"]})
    assert (both.role, both.municipalities) == ("municipality", ("GM0034", "GM0193"))
    assert roles.resolve({"roles": ["hgkm-zwolle", "hgkm-ijsselland"]}).role == "analyst"
    assert roles.resolve({"roles": "hgkm-beheer"}).role == "admin"  # one group as a string
    assert roles.resolve({"groups": ["hgkm-beheer"]}).role == "public"  # the claim is "roles"
    assert roles.resolve({"email": "nobody@elsewhere.nl"}) == access.Grant("public")


def test_an_unverified_address_is_not_used(roles: access.RolesConfig) -> None:
    claims = {"sub": "s", "email": "a.jansen@zwolle.nl", "email_verified": False}
    assert roles.resolve(claims).role == "public"
    claims["email_verified"] = True
    assert roles.resolve(claims).role == "municipality"
    # Entra ID sends the user principal name
    assert roles.resolve({"preferred_username": "A.Jansen@zwolle.nl"}).role == "municipality"


def test_what_each_role_reaches(roles: access.RolesConfig) -> None:
    analyst = roles.resolve({"roles": ["hgkm-ijsselland"]}).scope
    ijsselland = analyst.covered()
    assert len(ijsselland) == 11 and "GM0193" in ijsselland and "GM0034" not in ijsselland
    assert analyst.reach("audit") == access.Reach(False, ijsselland)
    municipality = roles.resolve({"roles": ["hgkm-zwolle"]}).scope
    assert municipality.reach("reasons").codes == ("GM0193",)
    assert municipality.reach("audit") == access.Reach(False, ())
    assert access.Scope("admin").reach("notes") == access.Reach(True, ())
    assert access.PUBLIC.reach("reasons") == access.Reach(False, ())
    # without sign-in configured: the reasons the app always showed, nothing that came later
    assert access.OPEN_SCOPE.reach("reasons").all
    assert not access.OPEN_SCOPE.reach("reports").all and not access.OPEN_SCOPE.spec.run_status
    assert "open" not in access.ROLES


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[roles]\nadmins = ["x"]\n', "[roles] has unknown key(s) admins"),
        ("[roles]\npublic = 'no'\n", "public = 'no' must be true or false"),
        ('[roles.users]\n"x@y.nl" = { role = "mayor" }\n', "role = 'mayor' is not one of public"),
        ('[roles.users]\n"x@y.nl" = { role = "municipality" }\n', "needs municipalities = [...]"),
        (
            '[roles.users]\n"x@y.nl" = { role = "municipality", municipalities = ["GM9999"] }\n',
            '[roles.users] "x@y.nl": unknown municipalities GM9999',
        ),
        (
            '[roles.users]\n"x@y.nl" = { role = "analyst", regions = [] }\n',
            "regions must be a non-empty list of codes",
        ),
        (
            '[roles.groups]\n"g" = { role = "analyst", regions = ["VT99"] }\n',
            '[roles.groups] "g": unknown regions VT99',
        ),
        (
            '[roles.users]\n"x@y.nl" = { role = "admin", regions = ["VT11"] }\n',
            "role 'admin' takes no scope; remove regions",
        ),
        (
            '[roles.users]\n"X@y.nl" = { role = "admin" }\n"x@Y.nl" = { role = "admin" }\n',
            'names "x@Y.nl" twice',
        ),
        ("roles = 3\n", "roles must be a table"),
    ],
)
def test_bad_roles_are_named_errors(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "hgkm.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        access.load_roles(file=config)
    assert message in str(error.value) and str(config) in str(error.value)


def test_the_roles_section_leaves_the_job_s_settings_alone(tmp_path: Path) -> None:
    config = tmp_path / "hgkm.toml"
    config.write_text("staleness_days = 90\n" + ROLES, encoding="utf-8")
    assert load_config(environ={}, file=config).staleness_days == 90
    config.write_text("staleness = 90\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) staleness; known: .*\[roles\]"):
        load_config(environ={}, file=config)


def test_the_docs_table_says_what_the_declaration_says() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "dashboard.md").read_text()
    for role in access.ROLES.values():
        assert f"| {role.name} |" in docs and f"| {role.sees} |" in docs, role.name


# ---- the audit log


def _write_many(path: str, writer: int, n: int) -> None:
    for i in range(n):
        audit.record(
            Path(path),
            user=f"user{writer}@x.nl",
            role="municipality",
            action="refused",
            what={"i": i, "padding": "x" * (200 + 37 * writer)},
            concerns=["GM0193"],
        )


def test_concurrent_writers_never_interleave_a_line(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "audit.jsonl"
    writers, n = 4, 150
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_write_many, args=(str(path), w, n)) for w in range(writers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    log = audit.read(path)
    assert log.unreadable == []
    assert len(log.events) == writers * n
    for w in range(writers):
        mine = [e["what"]["i"] for e in log.events if e["user"] == f"user{w}@x.nl"]
        assert mine == list(range(n))  # each writer's lines whole and in its order
    assert oct(path.stat().st_mode & 0o777) == oct(audit.FILE_MODE & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_torn_last_line_is_skipped_reported_and_closed(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit.record(path, user="a@x.nl", role="admin", action="signin")
    whole = path.read_bytes()
    path.write_bytes(whole + whole[: len(whole) // 2])  # a crash in the middle of a write
    log = audit.read(path)
    assert (len(log.events), log.unreadable) == (1, [2])
    audit.record(path, user="b@x.nl", role="admin", action="signout")
    log = audit.read(path)
    assert [e["user"] for e in log.events] == ["a@x.nl", "b@x.nl"]
    assert log.unreadable == [2]  # the torn part stays a line of its own


def test_select_by_time_user_and_action() -> None:
    start = datetime(2026, 12, 1, 8, tzinfo=UTC)
    events = [
        {"ts": (start + timedelta(hours=h)).isoformat(), "user": u, "role": "r", "action": a}
        for h, u, a in (
            (0, "A@x.nl", "signin"),
            (5, "b@x.nl", "refused"),
            (30, "a@x.nl", "signout"),
        )
    ]
    assert [e["action"] for e in audit.select(events, user="a@X.nl")] == ["signin", "signout"]
    assert [e["action"] for e in audit.select(events, since=start + timedelta(hours=1))] == [
        "refused",
        "signout",
    ]
    naive = datetime(2026, 12, 2, 13)  # taken as UTC
    assert [e["action"] for e in audit.select(events, since=naive)] == ["signout"]
    assert audit.select(events, action="refused")[0]["user"] == "b@x.nl"
    assert audit.visible({"concerns": ["GM0193"]}, False, ("GM0193", "GM0148"))
    assert not audit.visible({"concerns": []}, False, ("GM0193",))
    assert audit.visible({"concerns": []}, True, ())


def test_the_job_log_gets_the_same_torn_line_repair(tmp_path: Path) -> None:
    path = tmp_path / "hgkm.jsonl"
    path.write_bytes(b'{"ts": "2026-12-01T00:00:00", "event": "run.st')
    jsonlines.append(path, {"ts": "2026-12-01T00:00:01", "event": "run.end"}, durable=False)
    records, unreadable = jsonlines.read(path, required=("event",))
    assert [r["event"] for r in records] == ["run.end"] and unreadable == [1]


# ---- the commands


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hgkm.toml"
    path.write_text(ROLES, encoding="utf-8")
    return path


def test_users_list_and_check(config: Path, data_dir: Path) -> None:
    env = {"HGKM_CONFIG": str(config)}
    listing = run_hgkm("users", "list", data_dir=data_dir, env=env)
    assert listing.returncode == 0, listing.stderr
    assert "a.jansen@zwolle.nl" in listing.stdout
    assert "municipality of GM0148 Dalfsen, GM0193 Zwolle" in listing.stdout
    assert "analyst of VT03 Flevoland, VT11 IJsselland" in listing.stdout
    assert 'matched against the "roles" claim' in listing.stdout
    for role in access.ROLES.values():
        assert role.sees in listing.stdout
    check = run_hgkm("users", "check", "A.JANSEN@zwolle.nl", data_dir=data_dir, env=env)
    assert check.returncode == 0
    assert check.stdout.splitlines()[:2] == [
        "A.JANSEN@zwolle.nl: municipality of GM0148 Dalfsen, GM0193 Zwolle",
        '  from: [roles.users] "A.Jansen@Zwolle.nl"',
    ]
    grouped = run_hgkm(
        "users", "check", "p@q.nl", "--group", "hgkm-ijsselland", data_dir=data_dir, env=env
    )
    assert grouped.stdout.startswith("p@q.nl: analyst of VT11 IJsselland")
    stranger = run_hgkm("users", "check", "p@q.nl", data_dir=data_dir, env=env)
    assert stranger.stdout.startswith("p@q.nl: public\n  from: no entry: public")


def test_users_check_names_a_bad_configuration(config: Path, data_dir: Path) -> None:
    config.write_text('[roles.users]\n"x@y.nl" = { role = "analyst", regions = ["VT77"] }\n')
    result = run_hgkm(
        "users", "check", "x@y.nl", data_dir=data_dir, env={"HGKM_CONFIG": str(config)}
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f'hgkm users: {config}: [roles.users] "x@y.nl": unknown regions VT77 '
        "(expected a Veilig Thuis region code of 2025, e.g. VT11)"
    )


def test_audit_command_filters_and_reports_a_torn_line(data_dir: Path) -> None:
    path = data_dir / "logs" / "audit.jsonl"
    now = datetime.now(UTC)
    audit.record(path, user="old@x.nl", role="admin", action="signin", now=now - timedelta(days=9))
    audit.record(
        path,
        user="m@x.nl",
        role="municipality",
        action="refused",
        what={"page": "aanleveringen", "municipality": "GM0193"},
    )
    audit.record(path, user="m@x.nl", role="municipality", action="signout")
    with path.open("ab") as fh:
        fh.write(b'{"ts": "2026-12-0')
    since = (now - timedelta(days=2)).date().isoformat()
    result = run_hgkm("audit", "--since", since, "--user", "M@x.nl", data_dir=data_dir)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and "refused" in lines[0] and "municipality=GM0193" in lines[0]
    assert "skipped 1 unreadable line(s): 4" in result.stderr
    as_json = run_hgkm("audit", "--action", "signin", "--json", data_dir=data_dir)
    assert [json.loads(line)["user"] for line in as_json.stdout.splitlines()] == ["old@x.nl"]
    bad = run_hgkm("audit", "--since", "last week", data_dir=data_dir)
    assert bad.returncode == 2 and "--since 'last week' is not a date" in bad.stderr


def test_dashboard_will_not_start_on_a_bad_sign_in_setup(
    config: Path, data_dir: Path, tmp_path: Path
) -> None:
    (data_dir / "mart.duckdb").write_bytes(b"")  # past the no-mart check; never opened here
    env = {"HGKM_CONFIG": str(config)}
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "http://localhost:8501/callback"\n')
    result = run_hgkm("dashboard", "--secrets", secrets, data_dir=data_dir, env=env, timeout=60)
    assert result.returncode == 2
    assert "lacks cookie_secret, client_id, client_secret, server_metadata_url" in result.stderr
    missing = run_hgkm("dashboard", "--secrets", tmp_path / "nope.toml", data_dir=data_dir, env=env)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    config.write_text('[roles.users]\n"x@y.nl" = { role = "mayor" }\n')
    broken = run_hgkm("dashboard", data_dir=data_dir, env=env, timeout=60)
    assert broken.returncode == 2 and "role = 'mayor'" in broken.stderr
