"""Hostile files: each refused for its reason, without crashing, hanging, reading outside it or
echoing a name; the valid deliveries beside them load, in `hgkm ingest` and in `hgkm run`."""

from __future__ import annotations

import json
import os
import resource
import signal
import threading
import time
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from conftest import SAMPLE_DATA, run_hgkm
from hostile import BSN, HOSTILE, SECRET, VALID, build_all

from commands import deadline
from hgkm.escape import printable
from hgkm.inbox import FOLDERS
from hgkm.limits import Limits
from hgkm.settings import Paths
from pipelines.load import ingest
from pipelines.read import is_delivery, read_delivery

ARRIVED = time.time() - 3600
PLANTED = {"HGKM_PLANTED": SECRET}  # in the environment /proc/self/environ would show
REFUSED_AT_THE_DOOR = {"linked_delivery", "pipe_in_inbox"}  # links and pipes: never opened


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[str, Path]]:
    """Every hostile entry and valid delivery, built once (tests must not move them)."""
    return build_all(tmp_path_factory.mktemp("hostile"))


def leaks(*texts: str) -> list[str]:
    """The planted values found in the texts."""
    joined = "\n".join(texts)
    return [value for value in (SECRET, BSN) if value in joined]


def stored(data_dir: Path) -> str:
    """Every file under the data folder as bytes (decoded loosely), and every row of every
    table of its DuckDB files as text: a value compressed in a file still shows in a row."""
    parts = []
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
        if path.suffix == ".duckdb":
            con = duckdb.connect(str(path), read_only=True)
            try:
                tables = con.sql("select table_name from information_schema.tables").fetchall()
                for (table,) in tables:
                    parts.append(repr(con.sql(f'select * from "{table}"').fetchall()))
            finally:
                con.close()
    return "\n".join(parts)


def written_by_the_job(inbox: Path) -> str:
    """What the job wrote into the inbox: its reports, and the names it filed entries under
    (the deliveries' own content is theirs and is not searched)."""
    parts = []
    for folder in FOLDERS:
        for path in sorted((inbox / folder).iterdir()) if (inbox / folder).is_dir() else []:
            parts.append(path.name)
            if ".report." in path.name:
                parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_entry_is_rejected_for_its_reason(made, name, tmp_path) -> None:
    case = HOSTILE[name]
    report = ingest(Paths(tmp_path / "data"), made[0][name])
    assert report.status == "rejected"
    assert case.rules <= set(report.error_counts) or (
        not case.rules and set(report.error_counts) == {"not_a_regular_file"}
    ), report.error_counts
    text = report.render_text() + json.dumps(report.to_dict())
    if case.limit:
        assert f"(limit {case.limit})" in text, text
    assert leaks(text, stored(tmp_path / "data")) == []


def test_cli_ingest_loads_the_valid_beside_every_hostile_one(made, tmp_path) -> None:
    hostile, valid = made
    data = tmp_path / "data"
    paths = [*hostile.values(), *valid.values()]
    result = run_hgkm("ingest", *paths, "--json", data_dir=data, env=PLANTED, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    reports = json.loads(result.stdout)
    read = [name for name in hostile if name not in REFUSED_AT_THE_DOOR] + list(valid)
    assert len(reports) == len(read)
    outcome = {name: report for name, report in zip(read, reports, strict=True)}
    for name in valid:
        assert outcome[name]["status"] == "accepted", outcome[name]
    for name in hostile:
        if name in REFUSED_AT_THE_DOOR:
            assert f"refused {hostile[name]}" in result.stderr
            continue
        assert outcome[name]["status"] == "rejected"
        assert HOSTILE[name].rules <= set(outcome[name]["error_counts"]), name
    listing = run_hgkm("deliveries", "--json", data_dir=data, timeout=60)
    assert leaks(result.stdout, result.stderr, listing.stdout, stored(data)) == []
    # The names failing the guard are stored by their label, not their text.
    names = {d["source_name"] for d in json.loads(listing.stdout)}
    assert sum(name.startswith("delivery ") for name in names) == 2


def test_control_characters_in_a_name_are_escaped_everywhere(made, tmp_path) -> None:
    result = run_hgkm(
        "ingest", made[0]["control_characters"], data_dir=tmp_path / "data", timeout=120
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.startswith("summary:")]
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert r"GM1708\x0asummary: 99 accepted\x1b[2J\u202e: REJECTED" in result.stdout


def _limited_address_space() -> None:
    """In the child: at most 3 GiB of address space, as the issue's bar sets it."""
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))


def _arrived_long_ago(inbox: Path) -> None:
    for entry in inbox.iterdir():
        os.utime(entry, (ARRIVED, ARRIVED), follow_symlinks=False)


def test_an_inbox_of_every_hostile_file_runs_within_3_gib(tmp_path) -> None:
    inbox, data = tmp_path / "inbox", tmp_path / "data"
    hostile, valid = build_all(inbox)  # what links point at is built beside the inbox
    _arrived_long_ago(inbox)

    result = run_hgkm(
        "run",
        "--inbox",
        inbox,
        data_dir=data,
        env=PLANTED,
        preexec_fn=_limited_address_space,
        timeout=600,
    )
    out = result.stdout
    assert result.returncode == 1, out[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in inbox.iterdir()) == sorted(FOLDERS[:2])
    assert sorted(p.name for p in (inbox / "processed").iterdir() if ".report." not in p.name) == (
        sorted(VALID)
    )
    rejected = [p for p in (inbox / "rejected").iterdir() if ".report." not in p.name]
    assert len(rejected) == len(hostile)
    for entry in rejected:
        for suffix in (".report.txt", ".report.json"):
            assert (entry.parent / f"{entry.name}{suffix}").is_file(), entry.name
    filed = {p.name for p in rejected}
    for name, path in hostile.items():
        if name in ("bsn_folder_name", "bsn_workbook_name"):
            continue  # filed under their label
        assert printable(path.name) in filed, name
    assert len([n for n in filed if n.startswith("delivery ")]) == 2
    assert not [line for line in out.splitlines() if line.startswith("summary: 99")]
    log = (data / "logs" / "hgkm.jsonl").read_text()
    assert leaks(out, result.stderr, log, stored(data), written_by_the_job(inbox)) == []
    # What a link pointed at is untouched and was never loaded.
    assert (tmp_path / "inbox_outside" / "elsewhere" / "manifest.csv").exists()
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        codes = {code for (code,) in con.sql("select municipality_code from deliveries").fetchall()}
    finally:
        con.close()
    assert "GM0014" not in codes and {"GM0148", "GM0193", "GM1896"} <= codes

    again = run_hgkm("run", "--inbox", inbox, data_dir=data, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 delivery(ies) seen" in again.stdout


def test_a_run_past_its_time_limit_stops_naming_the_delivery(tmp_path) -> None:
    inbox, data = tmp_path / "inbox", tmp_path / "data"
    VALID["GM0148_2026-10-01"](inbox)
    _arrived_long_ago(inbox)
    started = time.monotonic()
    stopped = run_hgkm(
        "run",
        "--inbox",
        inbox,
        "--time-limit",
        "3",
        "--settle",
        "0",
        data_dir=data,
        env={"HGKM_FAULT": "ingest.read:pause=120"},
        timeout=100,
    )
    assert time.monotonic() - started < 90
    assert stopped.returncode == 4, stopped.stdout + stopped.stderr
    assert "time limit of 3 s reached while on GM0148_2026-10-01" in stopped.stdout
    assert (inbox / "GM0148_2026-10-01").is_dir()
    events = [json.loads(line) for line in (data / "logs" / "hgkm.jsonl").read_text().splitlines()]
    assert [e["on"] for e in events if e["event"] == "run.time_limit"] == ["GM0148_2026-10-01"]
    again = run_hgkm("run", "--inbox", inbox, data_dir=data, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (inbox / "processed" / "GM0148_2026-10-01").is_dir()


def test_a_main_thread_that_cannot_be_interrupted_is_ended_by_the_watchdog(monkeypatch) -> None:
    monkeypatch.setattr(deadline, "GRACE_SECONDS", 0.2)
    stuck = threading.Event()
    # SIGALRM blocked stands for a main thread stuck inside a library call.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        with pytest.raises(deadline.TimeLimitReached), deadline.deadline(0.2, stuck.set):
            assert stuck.wait(10)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
            time.sleep(5)  # the pending alarm arrives once unblocked
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})


def test_a_filing_folder_that_is_a_link_keeps_the_run_from_starting(tmp_path) -> None:
    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    inbox.mkdir()
    elsewhere.mkdir()
    (inbox / "rejected").symlink_to(elsewhere)
    delivery = VALID["GM0148_2026-10-01"](inbox)
    _arrived_long_ago(inbox)
    result = run_hgkm("run", "--inbox", inbox, data_dir=tmp_path / "data", timeout=60)
    assert result.returncode == 2
    assert "rejected/ in the inbox is a symbolic link, not a folder" in result.stderr
    assert list(elsewhere.iterdir()) == [] and delivery.is_dir()


def test_a_data_folder_whose_path_holds_a_quote(tmp_path) -> None:
    data = tmp_path / "it's data"
    delivery = SAMPLE_DATA / "deliveries" / "GM1773_2026-10-01"
    assert run_hgkm("ingest", delivery, data_dir=data, timeout=120).returncode == 0
    computed = run_hgkm("compute", data_dir=data, timeout=120)
    assert computed.returncode == 0, computed.stderr
    out = tmp_path / "export.csv"
    assert run_hgkm("export", "--out", out, data_dir=data, timeout=60).returncode == 0
    assert out.read_text().startswith("indicator_id,")
    status = run_hgkm("status", data_dir=data, timeout=60)
    assert status.returncode in (0, 1) and "Traceback" not in status.stderr


def test_limits_come_from_hgkm_toml(tmp_path) -> None:
    config = tmp_path / "hgkm.toml"
    config.write_text("[limits]\nrows = 2\n")
    delivery = VALID["GM0148_2026-10-01"](tmp_path)
    result = run_hgkm(
        "ingest", delivery, data_dir=tmp_path / "data", env={"HGKM_CONFIG": str(config)}
    )
    assert result.returncode == 1
    assert "too_many_rows" in result.stdout and "(limit rows)" in result.stdout
    config.write_text("[limits]\nrowz = 2\n")
    result = run_hgkm(
        "ingest", delivery, data_dir=tmp_path / "data", env={"HGKM_CONFIG": str(config)}
    )
    assert result.returncode == 2 and "unknown limit(s) rowz" in result.stderr


def test_a_path_given_that_is_a_link_is_refused_and_the_rest_loaded(tmp_path) -> None:
    good = VALID["GM0148_2026-10-01"](tmp_path)
    link = tmp_path / f"via_{BSN}"
    link.symlink_to(good)
    result = run_hgkm("ingest", link, good, data_dir=tmp_path / "data", timeout=120)
    assert result.returncode == 1
    assert "refused" in result.stderr and "symbolic link" in result.stderr
    assert "1 accepted" in result.stdout and "1 refused" in result.stdout
    assert leaks(result.stdout, result.stderr) == []


def test_a_folder_with_only_a_link_named_as_a_contract_file_is_a_delivery(tmp_path) -> None:
    """So it is rejected with a report naming the link, not skipped as "not a delivery"."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "cases.csv").symlink_to("/etc/hostname")
    assert is_delivery(folder)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("GM0193_2026-10-01", "GM0193_2026-10-01"),
        ("a\nsummary: 0", r"a\x0asummary: 0"),
        ("\x1b[2Jx\x7f", r"\x1b[2Jx\x7f"),
        ("abc\u202eexe.zip", r"abc\u202eexe.zip"),
        ("caf\udce9", r"caf\xe9"),  # an undecodable byte of a file name
        ("Café – ëxport", "Café – ëxport"),
    ],
)
def test_printable_escapes_controls_and_keeps_the_rest(text, shown) -> None:
    assert printable(text) == shown
    assert printable(shown) == shown


def test_a_reader_that_aborts_costs_only_its_workbook(made) -> None:
    """With the sheet limits lifted, calamine meets the far cell for real: it tries to allocate
    the whole range and dies — in the child process, so the delivery is only rejected."""
    unlimited = Limits(rows=10**9, columns=10**9, cells=10**15)
    delivery = read_delivery(made[0]["far_cell_xlsx"], unlimited)
    (issue,) = [i for i in delivery.issues if i.rule == "unreadable_delivery"]
    assert "its reader stopped" in issue.message
    assert read_delivery(made[1]["GM1896_2026-10-01.xlsx"], unlimited).issues == []


def test_a_reader_out_of_memory_costs_only_its_workbook(made) -> None:
    starved = Limits(reader_memory_bytes=48 * 1024**2)
    delivery = read_delivery(made[1]["GM1896_2026-10-01.xlsx"], starved)
    rules = {i.rule for i in delivery.issues}
    assert rules and rules <= {"unreadable_delivery", "unreadable_file"}


def test_approach_import_refuses_hostile_files(tmp_path) -> None:
    data = tmp_path / "data"
    book = xlsxwriter.Workbook(str(tmp_path / "profielen.xlsx"))
    sheet = book.add_worksheet("approach_profiles")
    sheet.write_row(0, 0, ["municipality_code", "element", "in_place_from"])
    sheet.write_string(1_048_575, 16_383, "x")
    book.close()
    far = run_hgkm("approach", "import", tmp_path / "profielen.xlsx", data_dir=data, timeout=120)
    assert far.returncode == 1 and "too_many_rows" in far.stdout, far.stdout + far.stderr
    link = tmp_path / "profiles.csv"
    link.symlink_to(SAMPLE_DATA / "approach_profiles.csv")
    linked = run_hgkm("approach", "import", link, data_dir=data, timeout=120)
    assert linked.returncode == 1 and "symbolic link is never followed" in linked.stderr
    named = tmp_path / f"profielen_{BSN}.csv"
    named.write_bytes((SAMPLE_DATA / "approach_profiles.csv").read_bytes())
    result = run_hgkm("approach", "import", named, "--json", data_dir=data, timeout=120)
    assert result.returncode == 1
    assert "personal_data_bsn" in result.stdout
    assert leaks(far.stdout, linked.stderr, result.stdout, result.stderr, stored(data)) == []
