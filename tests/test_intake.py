"""The browser intake's building blocks: the checks without loading (`hgkm ingest --dry-run`,
`hgkm approach import --dry-run`) through the real entry point, the names it places files
under, placement, following a submission, and what a profile edit changes."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import SAMPLE_DATA, run_hgkm
from hypothesis import given
from hypothesis import strategies as st
from intake_files import FLAWED, planted

from hgkm import intake
from hgkm.lock import RunLock
from hgkm.settings import Paths
from pipelines import names


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Zwartewaterland's sample delivery loaded, and its approach profile."""
    data = tmp_path_factory.mktemp("loaded") / "data"
    done = run_hgkm("ingest", SAMPLE_DATA / "deliveries" / "GM1896_2026-10-01.zip", data_dir=data)
    assert done.returncode == 0, done.stdout
    done = run_hgkm("approach", "import", SAMPLE_DATA / "approach_profiles.csv", data_dir=data)
    assert done.returncode == 0, done.stdout
    return data


def deliveries(data: Path) -> int:
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        return int(con.sql("select count(*) from deliveries").fetchall()[0][0])
    finally:
        con.close()


def test_a_dry_run_reports_as_ingest_and_loads_nothing(loaded: Path, tmp_path: Path) -> None:
    newer = tmp_path / "newer.zip"
    newer.write_bytes(planted("GM1896", date(2026, 11, 1), 2024))
    before = deliveries(loaded)
    checked = run_hgkm("ingest", "--dry-run", newer, data_dir=loaded)
    assert checked.returncode == 0, checked.stderr
    assert "newer.zip: ACCEPTED (zip, GM1896, extract 2026-11-01, current)" in checked.stdout
    assert (
        "current delivery of GM1896: extract 2026-10-01, 781 cases; this one: 781 cases, "
        "would become current" in checked.stdout
    )
    assert "(check only: nothing was loaded)" in checked.stdout
    assert deliveries(loaded) == before
    # the same report as the real ingest gives (its first lines: status, formats, rows)
    real_data = tmp_path / "copy"
    shutil.copytree(loaded, real_data)
    real = run_hgkm("ingest", newer, data_dir=real_data)
    assert real.stdout.split("\n\n")[0] == checked.stdout.split("\n  current delivery")[0]

    flawed = run_hgkm(
        "ingest", "--dry-run", "--json", FLAWED / "date_after_extract", data_dir=loaded
    )
    assert flawed.returncode == 1
    (report,) = json.loads(flawed.stdout)
    assert (report["status"], report["dry_run"], report["compared"]) == ("rejected", True, True)
    assert report["errors"][0]["rule"] == "date_after_extract" and report["delivery_id"] is None
    again = run_hgkm(
        "ingest", "--dry-run", SAMPLE_DATA / "deliveries" / "GM1896_2026-10-01.zip", data_dir=loaded
    )
    assert "ALREADY LOADED (no change)" in again.stdout and deliveries(loaded) == before


def test_a_dry_run_while_a_run_holds_the_warehouse_says_it_did_not_compare(loaded: Path) -> None:
    with RunLock(Paths(loaded).lock):
        checked = run_hgkm(
            "ingest", "--dry-run", "--json", SAMPLE_DATA / "deliveries" / "GM0175_2026-10-01.zip",
            data_dir=loaded,
        )  # fmt: skip
    (report,) = json.loads(checked.stdout)
    assert report["status"] == "accepted" and report["compared"] is False
    assert "not compared with the current delivery" in report["text"]


def test_a_profile_dry_run_checks_and_says_what_changes(loaded: Path, tmp_path: Path) -> None:
    profile = tmp_path / "approach_profiles.csv"
    rows = [
        line
        for line in (SAMPLE_DATA / "approach_profiles.csv").read_text().splitlines()
        if line.startswith(("municipality_code", "GM1896"))
    ]
    profile.write_text("\n".join([*rows, "GM1896,child_focused_offer,2026-01-01,,nieuw"]) + "\n")
    checked = run_hgkm("approach", "import", "--dry-run", "--json", profile, data_dir=loaded)
    report = json.loads(checked.stdout)
    assert report["status"] == "accepted"
    assert report["changes"] == {"GM1896": ["added child_focused_offer from 2026-01-01 until open"]}
    listed = run_hgkm("approach", "list", "--municipality", "GM1896", data_dir=loaded).stdout
    assert "single_coordinator" in listed and "child_focused_offer" not in listed  # not stored
    overlapping = profile.read_text() + "GM1896,child_focused_offer,2025-06-01,2026-02-01,\n"
    profile.write_text(overlapping)
    refused = run_hgkm("approach", "import", "--dry-run", profile, data_dir=loaded)
    assert refused.returncode == 1 and "overlapping_periods" in refused.stdout


@given(st.integers(min_value=0, max_value=2**32))
def test_placed_names_pass_the_guard_and_are_recognised(seed: int) -> None:
    import random

    random.seed(seed)
    submission = "".join(random.choice(intake.ID_LETTERS) for _ in range(intake.ID_LENGTH))
    for name in (
        intake.delivery_name("GM0193", "2026-11-01", submission, ".ZIP"),
        intake.profile_name("GM0193", submission),
    ):
        assert names.rules(name) == [], name
        parsed = intake._parse(name)
        assert parsed is not None and parsed["id"] == submission
        # as the job renames one on a collision
        stem, suffix = name.rsplit(".", 1)
        assert intake._parse(f"{stem}.20261203T101500-2.{suffix}") == parsed
    assert intake._parse("GM0193_2026-11-01.zip") is None  # dropped in by hand: not ours


def test_placing_is_one_rename_and_never_over_another(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = intake.staging(inbox, "abcdefghjk") / "upload.zip"
    first.write_bytes(b"zip")
    placed = intake.place(inbox, first, "GM0193_2026-11-01_webabcdefghjk.zip")
    assert placed.read_bytes() == b"zip" and not first.parent.exists()
    second = intake.staging(inbox, "bcdefghjkm") / "upload.zip"
    second.write_bytes(b"other")
    with pytest.raises(FileExistsError):
        intake.place(inbox, second, placed.name)
    assert placed.read_bytes() == b"zip"
    old = intake.staging(inbox, "cdefghjkmn")
    os.utime(old, (time.time() - 2 * intake.STALE_STAGING_SECONDS,) * 2)
    intake.staging(inbox, "defghjkmnp")
    assert not old.exists()  # a staging left by a server that stopped, removed a day later


def test_submissions_follow_the_job_s_filing(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "processed").mkdir(parents=True)
    (inbox / "rejected").mkdir()
    waiting = intake.delivery_name("GM0193", "2026-11-01", "abcdefghjk", ".zip")
    (inbox / waiting).write_bytes(b"")
    done = intake.profile_name("GM1896", "bcdefghjkm")
    (inbox / "processed" / done).write_text("municipality_code\n")
    (inbox / "processed" / f"{done}.report.json").write_text('{"status": "accepted"}')
    (inbox / "processed" / f"{done}.report.txt").write_text("approach_profiles…: ACCEPTED")
    refused = intake.delivery_name("GM1896", "2026-11-01", "cdefghjkmn", ".xlsx")
    (inbox / "rejected" / refused).write_bytes(b"")
    (inbox / "GM0014_by_hand.zip").write_bytes(b"")
    found = {(s.name, s.state, s.kind) for s in intake.submissions(inbox)}
    assert found == {
        (waiting, intake.WAITING, intake.DELIVERY),
        (done, intake.ACCEPTED, intake.PROFILE),
        (refused, intake.REJECTED, intake.DELIVERY),
    }
    (mine,) = intake.submissions(inbox, ("GM0193",))
    assert mine.name == waiting and mine.report is None
    (profile,) = [s for s in intake.submissions(inbox) if s.kind == intake.PROFILE]
    assert profile.report_text == "approach_profiles…: ACCEPTED"


def test_what_a_profile_edit_changes() -> None:
    old = [
        {"element": "single_coordinator", "in_place_from": date(2020, 1, 1), "in_place_until": None,
         "note": "een regisseur"},
        {"element": "child_focused_offer", "in_place_from": date(2021, 1, 1),
         "in_place_until": None, "note": ""},
        {"element": "long_term_monitoring", "in_place_from": date(2019, 1, 1),
         "in_place_until": None, "note": None},
    ]  # fmt: skip
    new = [
        {**old[0], "in_place_until": date(2026, 6, 30), "note": "een regisseur per gezin"},
        {**old[1], "note": "  "},  # blank is no note: no change
        {"element": "system_oriented_offer", "in_place_from": date(2026, 1, 1),
         "in_place_until": None, "note": None},
    ]  # fmt: skip
    assert intake.profile_changes(old, new) == [
        "added system_oriented_offer from 2026-01-01 until open",
        "removed long_term_monitoring from 2019-01-01",
        "changed single_coordinator from 2020-01-01: until 2026-06-30, note",
    ]
    assert intake.profile_changes(old, old) == []
