"""A kill -9 at each step of the browser intake — upload → inbox → load → stage → approve —
leaves a consistent state: nothing half-placed in the inbox, the published mart whole (one of
the kept releases, byte for byte), the audit log readable; and running again finishes the work
exactly once. Real processes are killed at the fault points of hgkm.faults."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import SAMPLE_DATA, run_hgkm
from intake_files import planted

from hgkm import audit, intake, release
from hgkm.settings import Paths

pytestmark = pytest.mark.slow

SMALL = ("GM1896_2026-10-01.zip", "GM0175_2026-10-01.zip")  # the sample's two smallest


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small sample deliveries loaded and published (publish = "auto")."""
    data = tmp_path_factory.mktemp("base") / "data"
    for name in SMALL:
        done = run_hgkm("ingest", SAMPLE_DATA / "deliveries" / name, data_dir=data)
        assert done.returncode == 0, done.stdout
    assert run_hgkm("compute", data_dir=data).returncode == 0
    return data


class Site:
    """A copy of the base, an inbox, publish = "review"; `hgkm` run on it, maybe killed."""

    def __init__(self, base: Path, root: Path) -> None:
        shutil.copytree(base, root / "data")
        self.paths = Paths(root / "data")
        self.inbox = root / "inbox"
        self.inbox.mkdir()
        self.config = root / "hgkm.toml"
        self.config.write_text(
            f'inbox = "{self.inbox}"\npublish = "review"\nsettle_seconds = 0\n', encoding="utf-8"
        )

    def hgkm(self, *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {"HGKM_CONFIG": str(self.config)}
        if fault:
            env["HGKM_FAULT"] = fault
        return run_hgkm(*args, data_dir=self.paths.data_dir, env=env)

    def killed(self, *args: str, at: str) -> None:
        done = self.hgkm(*args, fault=f"{at}:kill")
        assert done.returncode == -9 and f"reached {at}" in done.stderr, (done.stdout, done.stderr)

    def deliveries(self) -> int:
        con = duckdb.connect(str(self.paths.warehouse), read_only=True)
        try:
            return int(con.sql("select count(*) from deliveries").fetchall()[0][0])
        finally:
            con.close()

    def upload(self, year: int = 2024) -> Path:
        """A checked upload placed as the dashboard places it: staged, then one rename."""
        submission = intake.new_id()
        staged = intake.staging(self.inbox, submission) / "upload.zip"
        staged.write_bytes(planted("GM1896", date(2026, 11, 1), year))
        name = intake.delivery_name("GM1896", "2026-11-01", submission, ".zip")
        return intake.place(self.inbox, staged, name)


@pytest.fixture
def site(base: Path, tmp_path: Path) -> Site:
    return Site(base, tmp_path)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_consistent(site: Site) -> None:
    """Nothing half-placed in the inbox, the published mart one whole release, the audit log
    readable."""
    for entry in site.inbox.iterdir():
        if entry.name.startswith(".") or entry.is_dir():
            continue  # the job's own folders, and hidden files it never takes
        assert entry.suffix == ".zip" and zipfile.ZipFile(entry).testzip() is None, entry
    con = duckdb.connect(str(site.paths.mart), read_only=True)
    try:
        assert con.sql("select count(*) from indicator_values").fetchall()[0][0] > 0
    finally:
        con.close()
    digest = sha256(site.paths.mart)
    records = [r.build.sha256 for r in release.releases(site.paths)]
    assert digest in records or not records
    assert audit.read(site.paths.audit_log).unreadable == []


def test_a_kill_while_placing_an_upload_places_nothing(site: Site) -> None:
    submission = intake.new_id()
    staged = intake.staging(site.inbox, submission) / "upload.zip"
    staged.write_bytes(planted("GM1896", date(2026, 11, 1), 2024))
    name = intake.delivery_name("GM1896", "2026-11-01", submission, ".zip")
    placing = (
        "import sys; from pathlib import Path; from hgkm import intake; "
        "intake.place(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])"
    )
    done = subprocess.run(
        [sys.executable, "-c", placing, str(site.inbox), str(staged), name],
        env={**os.environ, "HGKM_FAULT": "intake.place:kill"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -9 and "reached intake.place" in done.stderr
    assert [p.name for p in site.inbox.iterdir()] == [".uploads"]  # nothing for the job
    assert_consistent(site)
    before = site.deliveries()
    ran = site.hgkm("run")
    assert ran.returncode == 0 and "0 delivery(ies) seen" in ran.stdout
    assert site.deliveries() == before
    # placed again, it is taken whole
    assert intake.place(site.inbox, staged, name).is_file()
    assert site.hgkm("run").returncode == 0
    (filed,) = intake.submissions(site.inbox)
    assert filed.state == intake.ACCEPTED and site.deliveries() == before + 1


@pytest.mark.parametrize("point", ["ingest.load", "run.move"])
def test_a_kill_while_loading_an_upload_loses_or_doubles_nothing(site: Site, point: str) -> None:
    placed = site.upload()
    before = site.deliveries()
    published = sha256(site.paths.mart)
    site.killed("run", at=point)
    assert_consistent(site)
    assert sha256(site.paths.mart) == published
    assert placed.is_file()  # in the inbox until filed, never half-moved
    assert site.deliveries() == (before if point == "ingest.load" else before + 1)
    assert site.hgkm("run").returncode == 0
    assert_consistent(site)
    (filed,) = intake.submissions(site.inbox)
    assert filed.state == intake.ACCEPTED and not placed.exists()
    assert site.deliveries() == before + 1  # loaded once
    assert release.staged(site.paths) is not None  # and staged for review


@pytest.mark.parametrize("point", ["compute.build", "compute.publish", "release.stage"])
def test_a_kill_while_staging_leaves_the_published_mart(site: Site, point: str) -> None:
    site.upload()
    published = sha256(site.paths.mart)
    site.killed("run", at=point)
    assert_consistent(site)
    assert sha256(site.paths.mart) == published
    assert release.staged(site.paths) is None  # nothing half-staged counts as staged
    ran = site.hgkm("run")  # the warehouse is ahead of the mart built last: staged now
    assert ran.returncode == 0 and "mart staged for review" in ran.stdout, ran.stdout
    assert_consistent(site)
    pending = release.staged(site.paths)
    assert pending is not None and sha256(pending.path) == pending.build.sha256
    assert sha256(site.paths.mart) == published
    leftovers = [p.name for p in (site.paths.releases / "staged").iterdir()]
    assert sorted(leftovers) == sorted([f"{pending.build.id}.duckdb", f"{pending.build.id}.json"])


@pytest.mark.parametrize("point", ["release.approve", "release.link", "release.audit"])
def test_a_kill_while_approving_leaves_one_whole_publication(site: Site, point: str) -> None:
    site.upload()
    assert site.hgkm("run").returncode == 0
    pending = release.staged(site.paths)
    assert pending is not None
    old = sha256(site.paths.mart)
    site.killed("publish", "approve", "--build", pending.build.id, at=point)
    assert_consistent(site)
    assert sha256(site.paths.mart) in (old, pending.build.sha256)  # the old one or the new one
    # the next change of the publications (here: listing them) finishes the approval
    assert site.hgkm("publish", "list").returncode == 0
    assert_consistent(site)
    assert sha256(site.paths.mart) == pending.build.sha256
    assert release.staged(site.paths) is None
    newest = release.releases(site.paths)[-1]
    assert newest.build.id == pending.build.id and newest.decision.mode == "review"
    approvals = [e for e in audit.read(site.paths.audit_log).events if e["action"] == "approve"]
    assert [e["what"]["build"] for e in approvals] == [pending.build.id]  # written once
