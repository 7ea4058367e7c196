"""The scheduled job: lock, inbox lifecycle, run log, status, and convergence after kills.

The unit tests drive `Job` with a small fake ingest and compute that write the real warehouse
and mart tables the job reads; the end-to-end tests at the bottom run the real `hgkm run`.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import HGKM, run_hgkm

from commands import runlog, status
from commands.run import EXIT_ATTENTION, EXIT_FAILED, EXIT_OK, Job
from hgkm import inbox as inbox_mod
from hgkm.config import Config
from hgkm.lock import LockBusy, RunLock, is_held
from hgkm.settings import Paths
from pipelines import warehouse

# --- fakes: a delivery is a .zip whose text says its municipality and fate ----------------


@dataclass
class FakeReport:
    source: Path
    status: str
    content_hash: str
    municipality_code: str | None = None
    error_total: int = 0
    error_counts: dict[str, int] = field(default_factory=dict)

    def render_text(self) -> str:
        return f"{self.source.name}: {self.status.upper()}"

    def to_dict(self) -> dict[str, object]:
        return {"source": str(self.source), "status": self.status}


MISSING_FOLLOWUPS = [
    {"file": "followups.csv", "row": None, "column": None, "rule": "missing_file", "message": "add"}
]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fake_ingest(paths: Paths, source: Path) -> FakeReport:
    """Load 'GM0014 2025-06-30 accept' style files into the real deliveries table."""
    data = source.read_bytes()
    digest = sha256_of(source)
    code, extract, fate = data.decode().split()
    con = warehouse.connect(paths.warehouse)
    try:
        # As the real ingest: only content accepted before counts as already loaded.
        known = "select 1 from deliveries where content_hash = ? and status = 'accepted'"
        if con.execute(known, [digest]).fetchall():
            return FakeReport(source, "already_loaded", digest, code)
        state = "rejected" if fate == "reject" else "accepted"
        con.execute(
            "insert into deliveries (content_hash, municipality_code, extract_date, source_name,"
            " shape, received_at, status, errors, error_count) values (?, ?, ?, ?, 'zip', ?, ?,"
            " ?, ?)",
            [
                digest,
                code,
                extract,
                source.name,
                datetime.now(),
                state,
                json.dumps(MISSING_FOLLOWUPS if state == "rejected" else []),
                1 if state == "rejected" else 0,
            ],
        )
    finally:
        con.close()
    counts = {"missing_file": 1} if state == "rejected" else {}
    return FakeReport(source, state, digest, code, len(counts), counts)


def fake_compute(paths: Paths) -> dict[str, int]:
    """Publish a mart recording the current deliveries, by rename as the real one does."""
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    hashes = con.sql("select content_hash from current_deliveries").fetchall()
    con.close()
    tmp = paths.mart.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    mart = duckdb.connect(str(tmp))
    mart.execute("create table publication as select now()::timestamp as published_at")
    mart.execute("create table publication_deliveries (content_hash varchar)")
    if hashes:
        mart.executemany("insert into publication_deliveries values (?)", hashes)
    mart.close()
    os.replace(tmp, paths.mart)
    return {"deliveries": len(hashes)}


def failing_compute(paths: Paths) -> None:
    raise RuntimeError("publish went wrong")


def drop(inbox: Path, name: str, text: str, age_seconds: float = 60) -> Path:
    """Put a delivery in the inbox as if it arrived `age_seconds` ago (so it is settled)."""
    path = inbox / name
    path.write_text(text)
    past = time.time() - age_seconds
    os.utime(path, (past, past))
    return path


def make_job(tmp_path: Path, **kwargs) -> Job:
    paths = Paths(tmp_path / "data")
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    defaults = {"ingest": fake_ingest, "compute": fake_compute, "content_hash": sha256_of}
    return Job(paths, Config(settle_seconds=0.2), inbox, **(defaults | kwargs))


def listing(inbox: Path) -> list[str]:
    return sorted(str(p.relative_to(inbox)) for p in inbox.rglob("*"))


def runs(paths: Paths) -> list[dict]:
    return runlog.last_runs(paths.logs, 10).to_dicts()


# --- the lock ------------------------------------------------------------------------------


def test_second_holder_is_refused_and_told_who_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "hgkm.lock"
    with RunLock(path):
        assert is_held(path)[0]
        with pytest.raises(LockBusy, match=f"pid {os.getpid()}") as caught:
            RunLock(path).acquire()
        assert caught.value.holder is not None and caught.value.holder.pid == os.getpid()
    assert is_held(path) == (False, None)
    assert path.read_text() == ""  # released cleanly: no stale record left


def test_wait_takes_the_lock_once_it_comes_free(tmp_path: Path) -> None:
    path = tmp_path / "hgkm.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), "0.6"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(LockBusy):
        RunLock(path, wait_seconds=0.1).acquire()
    start = time.monotonic()
    with RunLock(path, wait_seconds=10) as lock:
        assert lock.stale is None
    assert 0.2 < time.monotonic() - start < 5
    holder.wait(timeout=10)


HOLD_LOCK = """
import sys, time
from pathlib import Path
from hgkm.lock import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
lock.release()
"""


def test_a_killed_holder_leaves_a_stale_lock_that_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "hgkm.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), "60"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    assert is_held(path)[1].pid == holder.pid  # type: ignore[union-attr]
    holder.kill()
    holder.wait(timeout=10)
    with RunLock(path) as lock:
        assert lock.stale is not None and lock.stale.pid == holder.pid
        assert lock.stale.is_alive() is False
        assert json.loads(path.read_text())["pid"] == os.getpid()


# --- scanning and filing -------------------------------------------------------------------


def test_settled_files_cost_no_wait_and_a_growing_file_is_skipped(tmp_path: Path) -> None:
    old = drop(tmp_path, "old.zip", "x")
    waits: list[float] = []
    entries = inbox_mod.scan(
        tmp_path, settle_seconds=5, is_delivery=lambda p: True, sleep=waits.append
    )
    assert [(e.path, e.state) for e in entries] == [(old, inbox_mod.READY)]
    assert waits == []

    growing = tmp_path / "growing.zip"
    growing.write_text("a")

    def grow(seconds: float) -> None:
        waits.append(seconds)
        with growing.open("a") as fh:
            fh.write("more")

    entries = inbox_mod.scan(tmp_path, settle_seconds=5, is_delivery=lambda p: True, sleep=grow)
    states = {e.path.name: (e.state, e.reason) for e in entries}
    assert waits == [5]
    assert states["old.zip"][0] == inbox_mod.READY
    assert states["growing.zip"][0] == inbox_mod.UNSETTLED
    assert "still being written" in states["growing.zip"][1]


def test_recent_but_finished_file_is_ready_after_one_wait(tmp_path: Path) -> None:
    (tmp_path / "new.zip").write_text("done")
    waits: list[float] = []
    entries = inbox_mod.scan(
        tmp_path, settle_seconds=3, is_delivery=lambda p: True, sleep=waits.append
    )
    assert waits == [3] and entries[0].state == inbox_mod.READY


def test_scan_ignores_filing_folders_hidden_files_and_names_uploads(tmp_path: Path) -> None:
    for folder in inbox_mod.FOLDERS:
        (tmp_path / folder).mkdir()
    drop(tmp_path, ".hidden.zip", "x")
    drop(tmp_path, "~$book.xlsx", "x")
    drop(tmp_path, "big.zip.part", "x")
    drop(tmp_path, "notes.txt", "x")
    (tmp_path / "broken.zip").symlink_to(tmp_path / "nowhere")
    (tmp_path / "linked.zip").symlink_to(tmp_path / "notes.txt")
    os.mkfifo(tmp_path / "pipe.zip")
    entries = inbox_mod.scan(
        tmp_path, settle_seconds=0, is_delivery=lambda p: p.suffix == ".zip", sleep=lambda s: None
    )
    states = {e.path.name: e.state for e in entries}
    # Links and pipes are refused unopened (a pipe would block the run).
    assert states == {
        "big.zip.part": inbox_mod.UNSETTLED,
        "notes.txt": inbox_mod.NOT_A_DELIVERY,
        "broken.zip": inbox_mod.REFUSED,
        "linked.zip": inbox_mod.REFUSED,
        "pipe.zip": inbox_mod.REFUSED,
    }


def test_name_collisions_get_a_timestamp_never_overwrite(tmp_path: Path) -> None:
    now = datetime(2026, 11, 23, 16, 5, 9)
    folder = tmp_path / "processed"
    folder.mkdir()
    (folder / "gm.zip").write_text("first")
    assert inbox_mod.target_for(folder, "gm.zip", "h", now) == folder / "gm.20261123T160509.zip"
    (folder / "gm.20261123T160509.zip").write_text("second")
    assert inbox_mod.target_for(folder, "gm.zip", "h", now).name == "gm.20261123T160509-2.zip"
    (folder / "export").mkdir()
    assert inbox_mod.target_for(folder, "export", "h", now).name == "export.20261123T160509"


def test_reports_left_by_a_killed_run_are_reused_only_for_the_same_content(tmp_path: Path) -> None:
    now = datetime(2026, 11, 23, 16, 5, 9)
    folder = tmp_path / "rejected"
    folder.mkdir()
    (folder / "gm.zip.report.json").write_text(json.dumps({"content_hash": "aaa"}))
    (folder / "gm.zip.report.txt").write_text("the first, full report")
    assert inbox_mod.target_for(folder, "gm.zip", "aaa", now) == folder / "gm.zip"
    assert inbox_mod.target_for(folder, "gm.zip", "bbb", now).name == "gm.20261123T160509.zip"

    delivery = drop(tmp_path, "gm.zip", "content")
    target = inbox_mod.file_entry(
        delivery, folder, content_hash="aaa", report_text="ALREADY LOADED", report_json={}, now=now
    )
    assert target == folder / "gm.zip" and target.read_text() == "content"
    assert (folder / "gm.zip.report.txt").read_text() == "the first, full report"


# --- the job with fakes --------------------------------------------------------------------


def test_a_run_files_everything_publishes_and_logs(tmp_path: Path, capsys) -> None:
    job = make_job(tmp_path)
    drop(job.inbox, "a.zip", "GM0014 2026-06-30 accept")
    drop(job.inbox, "b.zip", "GM0034 2026-06-30 reject")
    drop(job.inbox, "readme.txt", "not a delivery")

    assert job.run_locked() == EXIT_ATTENTION
    assert listing(job.inbox) == [
        "processed",
        "processed/a.zip",
        "processed/a.zip.report.json",
        "processed/a.zip.report.txt",
        "rejected",
        "rejected/b.zip",
        "rejected/b.zip.report.json",
        "rejected/b.zip.report.txt",
        "unrecognised",
        "unrecognised/readme.txt",
        "unrecognised/readme.txt.report.json",
        "unrecognised/readme.txt.report.txt",
    ]
    assert (job.inbox / "rejected/b.zip.report.txt").read_text() == "b.zip: REJECTED\n"
    filed = json.loads((job.inbox / "rejected/b.zip.report.json").read_text())
    assert filed["status"] == "rejected" and filed["filed_as"].endswith("rejected/b.zip")
    out = capsys.readouterr().out
    assert "1 accepted, 1 rejected" in out and "mart published" in out

    (run,) = runs(job.paths)
    assert (run["outcome"], run["exit_code"], run["seen"], run["accepted"], run["rejected"]) == (
        "attention",
        1,
        2,
        1,
        1,
    )
    assert run["unrecognised"] == 1 and run["mart_published"] and run["ended_at"]
    events = [json.loads(line) for line in (job.paths.logs / "hgkm.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events][0] == "run.start"
    assert events[-1]["event"] == "run.end" and events[-1]["exit_code"] == 1
    assert {e["run_id"] for e in events} == {job.run_id}
    assert status.mart_state(job.paths)["behind"] is False

    again = make_job(tmp_path)
    assert again.run_locked() == EXIT_OK
    assert "mart unchanged" in capsys.readouterr().out
    assert [r["mart_published"] for r in runs(job.paths)] == [False, True]


def test_already_loaded_goes_where_its_first_load_went(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    drop(job.inbox, "b.zip", "GM0034 2026-06-30 reject")
    drop(job.inbox, "a.zip", "GM0014 2026-06-30 accept")
    fake_ingest(job.paths, job.inbox / "b.zip")  # loaded by a run killed before it moved them
    fake_ingest(job.paths, job.inbox / "a.zip")
    # b.zip's rejection was never announced (its run was killed): this run announces it.
    assert job.run_locked() == EXIT_ATTENTION
    assert (job.inbox / "rejected/b.zip").exists() and (job.inbox / "processed/a.zip").exists()
    assert job.counts["already_loaded"] == 2
    con = duckdb.connect(str(job.paths.warehouse), read_only=True)
    recorded = con.sql("select source_name, status from deliveries order by all").fetchall()
    con.close()
    assert recorded == [("a.zip", "accepted"), ("b.zip", "rejected")]  # none recorded twice
    report = (job.inbox / "rejected/b.zip.report.txt").read_text()
    assert "followups.csv: missing_file" in report  # rebuilt from the recorded rejection
    # Nothing was newly accepted, but the mart did not exist / was behind: published.
    assert status.mart_state(job.paths)["behind"] is False


def test_a_redelivered_name_is_kept_beside_the_first(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    drop(job.inbox, "gm.zip", "GM0014 2026-06-30 accept")
    job.run_locked()
    drop(job.inbox, "gm.zip", "GM0014 2026-09-30 accept")
    make_job(tmp_path).run_locked()
    names = [n for n in os.listdir(job.inbox / "processed") if not n.endswith((".txt", ".json"))]
    assert len(names) == 2 and "gm.zip" in names
    texts = sorted((job.inbox / "processed" / n).read_text() for n in names)
    assert texts == ["GM0014 2026-06-30 accept", "GM0014 2026-09-30 accept"]


def test_a_failed_publication_exits_4_and_the_next_run_catches_up(tmp_path: Path, capsys) -> None:
    job = make_job(tmp_path, compute=failing_compute)
    drop(job.inbox, "a.zip", "GM0014 2026-06-30 accept")
    assert job.run_locked() == EXIT_FAILED
    assert not job.paths.mart.exists() and (job.inbox / "processed/a.zip").exists()
    assert "compute/publish failed: RuntimeError" in capsys.readouterr().out
    assert runs(job.paths)[0]["outcome"] == "failed"

    retry = make_job(tmp_path)
    assert retry.run_locked() == EXIT_OK
    assert "publishing the mart (no mart yet)" in capsys.readouterr().out
    assert status.mart_state(job.paths)["behind"] is False


def test_an_ingest_crash_files_the_delivery_and_never_shows_its_message(
    tmp_path: Path, capsys
) -> None:
    def crashing(paths: Paths, source: Path) -> None:
        raise ValueError("could not parse '123456782' in column case_id")

    job = make_job(tmp_path, ingest=crashing)
    drop(job.inbox, "a b.zip", "GM0014 2026-06-30 accept")
    assert job.run_locked() == EXIT_FAILED
    # Filed, so that no later run stops on it again; the command to look at it is quoted.
    assert (job.inbox / "rejected/a b.zip").exists()
    report = (job.inbox / "rejected/a b.zip.report.txt").read_text()
    assert "INGEST FAILED (ValueError)" in report
    printed = capsys.readouterr().out + (job.paths.logs / "hgkm.jsonl").read_text() + report
    assert f"hgkm ingest '{job.inbox}/rejected/a b.zip'" in printed
    assert "123456782" not in printed
    assert "123456782" not in json.dumps(runs(job.paths), default=str)
    assert make_job(tmp_path).run_locked() == EXIT_OK


def test_a_warehouse_failure_leaves_the_delivery_for_the_next_run(tmp_path: Path, capsys) -> None:
    def locked(paths: Paths, source: Path) -> None:
        raise duckdb.IOException("could not set lock on file")

    job = make_job(tmp_path, ingest=locked)
    drop(job.inbox, "a.zip", "GM0014 2026-06-30 accept")
    assert job.run_locked() == EXIT_FAILED
    assert (job.inbox / "a.zip").exists()
    assert "a.zip: INGEST FAILED (IOException: the warehouse); left" in capsys.readouterr().out
    assert make_job(tmp_path).run_locked() == EXIT_OK
    assert (job.inbox / "processed/a.zip").exists()


def test_a_delivery_that_cannot_be_filed_stays_and_exits_4(tmp_path: Path, capsys) -> None:
    job = make_job(tmp_path)
    drop(job.inbox, "a.zip", "GM0014 2026-06-30 accept")
    (job.inbox / "processed").write_text("a file where the folder should be")
    assert job.run_locked() == EXIT_FAILED
    assert (job.inbox / "a.zip").read_text() == "GM0014 2026-06-30 accept"
    assert "a.zip: CANNOT FILE" in capsys.readouterr().out
    assert runs(job.paths)[0]["failed"] == 1


def test_a_killed_run_is_marked_interrupted_by_the_next(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "data")
    runlog.start(paths.logs, run_id="dead", host="h", pid=1, inbox=tmp_path)
    assert runlog.start(paths.logs, run_id="next", host="h", pid=2, inbox=tmp_path) == 1
    assert {r["run_id"]: r["outcome"] for r in runs(paths)} == {
        "dead": "interrupted",
        "next": "running",
    }


# --- status --------------------------------------------------------------------------------


def test_status_names_rejected_and_stale_municipalities_and_a_mart_behind(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    today = date(2026, 11, 23)
    stale_extract = (today - timedelta(days=121)).isoformat()
    fresh_extract = (today - timedelta(days=10)).isoformat()
    drop(job.inbox, "a.zip", f"GM0014 {stale_extract} accept")
    drop(job.inbox, "b.zip", f"GM0034 {fresh_extract} accept")
    job.run_locked()
    drop(job.inbox, "c.zip", f"GM0034 {fresh_extract} reject")
    fake_ingest(job.paths, job.inbox / "c.zip")  # by hand, outside a run
    drop(job.inbox, "d.zip", f"GM0363 {fresh_extract} accept")
    fake_ingest(job.paths, job.inbox / "d.zip")  # accepted, but the mart does not know yet

    report = status.collect(job.paths, staleness_days=120, runs=5, today=today)
    by_code = {m["municipality_code"]: m for m in report["municipalities"]}
    assert set(by_code) == {"GM0014", "GM0034"}
    assert by_code["GM0014"]["stale"] and not by_code["GM0014"]["last_rejected"]
    assert by_code["GM0014"]["days_since_extract"] == 121
    assert by_code["GM0034"]["last_rejected"] and not by_code["GM0034"]["stale"]
    assert by_code["GM0034"]["last_error_rules"] == ["missing_file"]
    assert by_code["GM0034"]["municipality_name"] == "Almere"
    assert report["mart"]["behind"] and report["mart"]["older_than_last_accepted"]
    assert report["mart"]["current_deliveries"] == 3
    assert report["mart"]["published_deliveries"] == 2
    assert status.needs_attention(report)
    text = status.render(report)
    assert "GM0034 Almere: c.zip" in text and "121 days old" in text and "BEHIND" in text
    json.dumps(status.json_ready(report))

    make_job(tmp_path).run_locked()  # catches up: publishes d.zip's municipality
    report = status.collect(job.paths, staleness_days=200, runs=5, today=today)
    assert [m["municipality_code"] for m in report["municipalities"]] == ["GM0034"]
    assert not report["mart"]["behind"]


# --- end to end: the real `hgkm run` as a subprocess ----------------------------------------

FAULT_POINTS = ("ingest.read", "ingest.load", "run.move", "compute.build", "compute.publish")
ARRIVED = time.time() - 3600  # deliveries arrived an hour ago: settled, no waiting


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Two tiny real deliveries: GM0014 accepted, GM0034 rejected (its followups missing)."""
    pytest.importorskip("pipelines.load", reason="the ingest has not landed yet")
    pytest.importorskip("metrics.publish", reason="the computation has not landed yet")
    out = tmp_path_factory.mktemp("sample")
    result = run_hgkm(
        "sample",
        "--out",
        out,
        "--municipalities",
        "GM0014,GM0034",
        "--years",
        "2023-2024",
        "--extract-date",
        "2025-06-30",
        "--scale",
        "0.05",
        "--shape",
        "zip",
        "--no-profiles",
        data_dir=out / "unused",
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    files = {p.name: p.read_bytes() for p in sorted((out / "deliveries").glob("*.zip"))}
    accepted, broken = sorted(files)
    with zipfile.ZipFile(io.BytesIO(files[broken])) as source:
        kept = {n: source.read(n) for n in source.namelist() if n != "followups.csv"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, data in kept.items():
            target.writestr(name, data)
    return {accepted: files[accepted], broken: buffer.getvalue()}


def fill_inbox(inbox: Path, deliveries: dict[str, bytes]) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    for position, (name, data) in enumerate(deliveries.items()):
        path = inbox / name
        path.write_bytes(data)
        os.utime(path, (ARRIVED + position, ARRIVED + position))


def state(data_dir: Path, inbox: Path) -> dict[str, object]:
    """What must converge: deliveries (no ids, no times), row counts, inbox, published values."""
    wh = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        deliveries = wh.sql(
            "select content_hash, municipality_code, extract_date, source_name, shape, status,"
            " rows_loaded::varchar, rows_dropped::varchar, warnings::varchar, errors::varchar,"
            " error_count from deliveries order by all"
        ).fetchall()
        rows = {
            t: wh.sql(f"select count(*) from {t}").fetchall()[0][0]
            for t in ("cases", "reports", "children", "help", "followups")
        }
    finally:
        wh.close()
    mart = duckdb.connect(str(data_dir / "mart.duckdb"), read_only=True)
    try:
        values = mart.sql("select * from indicator_values order by all").fetchall()
        used = mart.sql("select * from publication_deliveries order by all").fetchall()
    finally:
        mart.close()
    return {
        "deliveries": deliveries,
        "rows": rows,
        "inbox": listing(inbox),
        "indicator_values": values,
        "publication_deliveries": used,
        "leftovers": sorted(p.name for p in data_dir.iterdir() if ".tmp" in p.name),
    }


@pytest.fixture(scope="module")
def clean(deliveries: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The state one uninterrupted run produces."""
    base = tmp_path_factory.mktemp("clean")
    fill_inbox(base / "inbox", deliveries)
    result = run_hgkm("run", "--inbox", base / "inbox", data_dir=base / "data", timeout=300)
    assert result.returncode == EXIT_ATTENTION, result.stdout + result.stderr
    return {"state": state(base / "data", base / "inbox"), "stdout": result.stdout, "base": base}


def test_a_clean_run_files_publishes_and_reports(clean: dict, deliveries: dict) -> None:
    accepted, rejected = deliveries
    inbox = clean["state"]["inbox"]
    assert f"processed/{accepted}" in inbox and f"rejected/{rejected}" in inbox
    assert f"rejected/{rejected}.report.txt" in inbox
    assert not [n for n in inbox if "/" not in n and n not in inbox_mod.FOLDERS]
    assert clean["state"]["indicator_values"], "nothing published"
    assert sorted(d[5] for d in clean["state"]["deliveries"]) == ["accepted", "rejected"]
    report = (clean["base"] / "inbox" / "rejected" / f"{rejected}.report.txt").read_text()
    assert "REJECTED" in report and "followups" in report
    assert "1 accepted, 1 rejected" in clean["stdout"]


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_killed_at_each_stage_the_next_run_converges(
    point: str, clean: dict, deliveries: dict, tmp_path: Path
) -> None:
    inbox, data = tmp_path / "inbox", tmp_path / "data"
    fill_inbox(inbox, deliveries)
    killed = run_hgkm("run", "--inbox", inbox, data_dir=data, env={"HGKM_FAULT": f"{point}:kill"})
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert f"hgkm-fault: reached {point}" in killed.stderr

    again = run_hgkm("run", "--inbox", inbox, data_dir=data)
    assert again.returncode in (EXIT_OK, EXIT_ATTENTION), again.stdout + again.stderr
    assert "took over a stale lock" in again.stdout
    assert "interrupted" in again.stdout
    assert state(data, inbox) == clean["state"]

    (last, killed_run) = runs(Paths(data))[:2]
    assert killed_run["outcome"] == "interrupted" and last["mart_published"]


def test_a_second_concurrent_run_exits_3_and_a_waiting_one_takes_over(
    deliveries: dict, clean: dict, tmp_path: Path
) -> None:
    inbox, data = tmp_path / "inbox", tmp_path / "data"
    fill_inbox(inbox, deliveries)
    env = {**os.environ, "HGKM_DATA_DIR": str(data)}
    first = subprocess.Popen(
        [str(HGKM), "run", "--inbox", str(inbox)],
        env={**env, "HGKM_FAULT": "ingest.read:pause=300"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stderr is not None
        assert "hgkm-fault: reached ingest.read" in first.stderr.readline()
        second = run_hgkm("run", "--inbox", inbox, data_dir=data, timeout=120)
        assert first.poll() is None  # the second ended while the first still held the lock
        assert second.returncode == 3, second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stderr and "--wait" in second.stderr
        third = subprocess.Popen(
            [str(HGKM), "run", "--inbox", str(inbox), "--wait", "240"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1)
        assert third.poll() is None  # waiting for the lock
    finally:
        first.kill()  # mid-run, as a crash would: the waiting run must take over
        first.wait(timeout=60)
    out, err = third.communicate(timeout=240)
    assert third.returncode == EXIT_ATTENTION, out + err
    assert f"took over a stale lock from pid {first.pid}" in out
    assert state(data, inbox) == clean["state"]
    locked = [
        json.loads(line)
        for line in (data / "logs" / "hgkm.jsonl").read_text().splitlines()
        if '"run.locked"' in line
    ]
    assert len(locked) == 1 and locked[0]["holder_pid"] == first.pid


def _without_root_read_override() -> None:
    """In the child: drop root's power to read any file, so chmod 000 means unreadable."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def test_unreadable_growing_and_foreign_files_are_reported_and_kept(
    deliveries: dict, tmp_path: Path
) -> None:
    inbox, data = tmp_path / "inbox", tmp_path / "data"
    inbox.mkdir()
    accepted, _ = deliveries
    unreadable = inbox / "GM0014_locked.zip"
    unreadable.write_bytes(deliveries[accepted])
    os.utime(unreadable, (ARRIVED, ARRIVED))
    unreadable.chmod(0)
    foreign = inbox / "notes.docx"
    foreign.write_text("meeting notes")
    os.utime(foreign, (ARRIVED, ARRIVED))
    growing = inbox / accepted
    payload = deliveries[accepted]

    done_watching = threading.Event()

    def write_slowly() -> None:
        """Keep the delivery growing until the run is over, then finish it at once."""
        step = max(1, len(payload) // 400)
        with growing.open("wb") as fh:
            for start in range(0, len(payload), step):
                fh.write(payload[start : start + step])
                fh.flush()
                if not done_watching.is_set():
                    time.sleep(0.05)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    time.sleep(0.3)
    extra = {"preexec_fn": _without_root_read_override} if os.geteuid() == 0 else {}
    first = run_hgkm("run", "--inbox", inbox, "--settle", "1", data_dir=data, **extra)
    done_watching.set()
    writer.join()
    out = first.stdout
    assert first.returncode == EXIT_ATTENTION, out + first.stderr
    assert "GM0014_locked.zip: CANNOT READ (Permission denied" in out
    assert f"{accepted}: skipped, still being written" in out
    assert "notes.docx: not a delivery; moved to unrecognised/notes.docx" in out
    assert unreadable.exists() and growing.exists()
    assert (inbox / "unrecognised" / "notes.docx").read_text() == "meeting notes"
    assert "not a delivery" in (inbox / "unrecognised" / "notes.docx.report.txt").read_text()
    assert not (data / "mart.duckdb").exists()

    unreadable.chmod(0o644)
    os.utime(growing, (ARRIVED, ARRIVED))
    second = run_hgkm("run", "--inbox", inbox, data_dir=data, **extra)
    assert second.returncode == EXIT_OK, second.stdout + second.stderr
    assert (inbox / "processed" / accepted).read_bytes() == payload
    assert (inbox / "processed" / "GM0014_locked.zip").read_bytes() == payload
    assert "1 accepted" in second.stdout and "1 already loaded" in second.stdout
    assert (data / "mart.duckdb").exists()


def test_status_cli_names_the_rejected_municipality(clean: dict) -> None:
    data = clean["base"] / "data"
    result = run_hgkm("status", "--json", data_dir=data, timeout=60)
    assert result.returncode == EXIT_ATTENTION, result.stderr
    report = json.loads(result.stdout)
    rejected = [m for m in report["municipalities"] if m["last_rejected"]]
    assert [m["municipality_code"] for m in rejected] == ["GM0034"]
    assert "missing_file" in rejected[0]["last_error_rules"]
    assert report["runs"][0]["outcome"] == "attention" and not report["mart"]["behind"]
    text = run_hgkm("status", data_dir=data, timeout=60).stdout
    assert "GM0034 Almere" in text
