"""The browser intake's way into the job's inbox: a file is checked by the command line's own
checks in a child process, placed in the inbox in one rename, the job is started when it is
idle, and the submission is followed until the job has filed it.

A submission lives in the inbox only: first in `INBOX/.uploads/<id>/` (hidden, so the job
never takes it), where it is checked; then, when the check accepts it, renamed to the inbox's
top level under a name that says what it is and whose (`GM0193_2026-10-01_web<id>.zip`,
`approach_profiles_GM0193_web<id>.csv`); then the job files it under `processed/` or
`rejected/` with its reports. Names carry codes, dates and a random id only, never the
uploader's file name (a name can hold personal data).

The check runs `hgkm ingest --dry-run` (or `hgkm approach import --dry-run`) as a child
process: the same reading, limits, contract checks and anonymisation guard as the command
line, and a hostile file that exhausts or aborts its reader costs only that child.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hgkm import inbox as inbox_folders
from hgkm.faults import checkpoint
from hgkm.limits import load_limits
from hgkm.lock import is_held
from hgkm.settings import ENV_DATA_DIR, Paths

STAGING = ".uploads"  # hidden: the job's scan ignores it
DELIVERY, PROFILE = "delivery", "profile"
PROFILE_STEM = "approach_profiles"
DELIVERY_SUFFIXES = (".zip", ".xlsx")
# A random id of letters only: a run of digits in a name could look like a number the
# anonymisation guard refuses (a BSN, a phone number).
ID_LETTERS = "abcdefghjkmnpqrstuvwxyz"
ID_LENGTH = 10
NAME = re.compile(
    r"^(?:(?P<profile>approach_profiles)_(?P<pcode>GM\d{4})|(?P<code>GM\d{4})_(?P<extract>"
    r"\d{4}-\d{2}-\d{2}))_web(?P<id>[a-z]{10})(?:\.[0-9T-]+)?(?P<suffix>\.[a-z]+)$"
)
WAITING, ACCEPTED, REJECTED = "waiting", "accepted", "rejected"
STALE_STAGING_SECONDS = 24 * 3600
CHECK_TIMEOUT_SECONDS = 600
RUN_WAIT_SECONDS = 600


class CheckFailed(Exception):
    """The check itself could not run (not: the file was rejected)."""


def upload_limit() -> int:
    """The largest file the browser takes: the intake's limit for one file (hgkm.limits)."""
    return load_limits().file_bytes


def new_id() -> str:
    return "".join(secrets.choice(ID_LETTERS) for _ in range(ID_LENGTH))


def staging(inbox: Path, submission_id: str) -> Path:
    """A private folder for one submission while it is checked (removed once it is placed or
    refused; a stale one, left by a server that stopped, by the next submission)."""
    root = inbox / STAGING
    root.mkdir(mode=0o700, exist_ok=True)
    cutoff = time.time() - STALE_STAGING_SECONDS
    for old in root.iterdir():
        if old.lstat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    folder = root / submission_id
    folder.mkdir(mode=0o700)
    return folder


def discard(inbox: Path, submission_id: str) -> None:
    shutil.rmtree(inbox / STAGING / submission_id, ignore_errors=True)


def _command(paths: Paths, *args: str) -> subprocess.CompletedProcess[str]:
    """`hgkm ARGS` in a child process, on the same data folder and configuration."""
    env = {**os.environ, ENV_DATA_DIR: str(paths.data_dir.resolve())}
    try:
        return subprocess.run(
            [sys.executable, "-m", "commands.cli", *args],
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_SECONDS,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(f"the check took longer than {CHECK_TIMEOUT_SECONDS} s") from exc


def check(paths: Paths, file: Path, kind: str) -> dict[str, Any]:
    """The report the command line gives for `file` (a delivery or a profile file), checked
    and compared with what is loaded, without loading anything."""
    if kind == DELIVERY:
        done = _command(paths, "ingest", "--dry-run", "--json", str(file))
    else:
        done = _command(paths, "approach", "import", "--dry-run", "--json", str(file))
    try:
        body = json.loads(done.stdout)
    except ValueError:
        body = None
    if done.returncode not in (0, 1) or body is None:
        # Its stderr could name the file or quote a setting: only the exit code goes on.
        raise CheckFailed(f"the check stopped with exit code {done.returncode}")
    return body[0] if isinstance(body, list) else body


def delivery_name(municipality: str, extract_date: str, submission_id: str, suffix: str) -> str:
    return f"{municipality}_{extract_date}_web{submission_id}{suffix.lower()}"


def profile_name(municipality: str, submission_id: str) -> str:
    return f"{PROFILE_STEM}_{municipality}_web{submission_id}.csv"


def place(inbox: Path, staged: Path, name: str) -> Path:
    """Move a checked file from its staging folder to the inbox in one rename (same file
    system); the job sees it whole or not at all. Its bytes are made durable first."""
    fd = os.open(staged, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    target = inbox / name
    if os.path.lexists(target):
        raise FileExistsError(f"{name} is in the inbox already")
    checkpoint("intake.place")
    os.replace(staged, target)
    folder = os.open(inbox, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    shutil.rmtree(staged.parent, ignore_errors=True)
    return target


def start_job(paths: Paths, inbox: Path) -> None:
    """Start the job (`hgkm run`) in the background, as cron would: it takes the lock, waits
    for a run in progress to end, and files whatever the inbox holds. Its summary goes to
    data/logs/run.out, as in the cron example."""
    paths.logs.mkdir(parents=True, exist_ok=True)
    with (paths.logs / "run.out").open("ab") as out:
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "commands.cli",
                "run",
                "--inbox",
                str(inbox),
                "--wait",
                str(RUN_WAIT_SECONDS),
            ],  # fmt: skip
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, ENV_DATA_DIR: str(paths.data_dir.resolve())},
            start_new_session=True,
        )


def job_running(paths: Paths) -> bool:
    return is_held(paths.lock)[0]


@dataclass(frozen=True)
class Submission:
    """A file handed in through the browser and where the job has got with it."""

    id: str
    kind: str  # delivery | profile
    municipality: str
    extract_date: str | None
    name: str
    state: str  # waiting | accepted | rejected
    placed_at: datetime
    report: dict[str, Any] | None  # the job's report (report.json), once filed

    @property
    def report_text(self) -> str | None:
        return None if self.report is None else self.report.get("text")


def _parse(name: str) -> dict[str, str] | None:
    match = NAME.match(name)
    if match is None:
        return None
    found = match.groupdict()
    if found["profile"]:
        if found["suffix"] != ".csv":
            return None
        return {"kind": PROFILE, "municipality": found["pcode"], "id": found["id"]}
    if found["suffix"] not in DELIVERY_SUFFIXES:
        return None
    return {
        "kind": DELIVERY,
        "municipality": found["code"],
        "id": found["id"],
        "extract": found["extract"],
    }


def submissions(inbox: Path, municipalities: tuple[str, ...] | None = None) -> list[Submission]:
    """The browser's submissions in the inbox (of these municipalities; None: all), newest
    first, with the job's report once it has filed them."""
    places = [(inbox, WAITING)] + [
        (inbox / folder, state)
        for folder, state in (
            (inbox_folders.PROCESSED, ACCEPTED),
            (inbox_folders.REJECTED, REJECTED),
            (inbox_folders.UNRECOGNISED, REJECTED),
        )
    ]
    found = []
    for folder, state in places:
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            parsed = _parse(path.name)
            if parsed is None or (
                municipalities is not None and parsed["municipality"] not in municipalities
            ):
                continue
            report = None
            if state != WAITING:
                report_path = path.with_name(path.name + ".report.json")
                try:
                    report = json.loads(report_path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    report = None
                text_path = path.with_name(path.name + ".report.txt")
                if report is not None and text_path.is_file():
                    report["text"] = text_path.read_text(encoding="utf-8", errors="replace")
            found.append(
                Submission(
                    id=parsed["id"],
                    kind=parsed["kind"],
                    municipality=parsed["municipality"],
                    extract_date=parsed.get("extract"),
                    name=path.name,
                    state=state,
                    placed_at=datetime.fromtimestamp(path.lstat().st_mtime),
                    report=report,
                )
            )
    return sorted(found, key=lambda s: s.placed_at, reverse=True)


def profile_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    """What a new version of one municipality's approach profile changes, in words: periods
    added, removed, or changed (a period is its element and start date; its end and note can
    change). Notes are named as changed, never quoted: the audit log is read more widely."""

    def key(row: dict[str, Any]) -> tuple[str, str]:
        return str(row["element"]), str(row["in_place_from"])

    def until(row: dict[str, Any]) -> str:
        return str(row["in_place_until"]) if row.get("in_place_until") else "open"

    def note(row: dict[str, Any]) -> str:
        return str(row.get("note") or "").strip()

    before = {key(r): r for r in old}
    after = {key(r): r for r in new}
    lines = [
        f"added {element} from {start} until {until(after[(element, start)])}"
        for element, start in sorted(after.keys() - before.keys())
    ]
    lines += [
        f"removed {element} from {start}" for element, start in sorted(before.keys() - after.keys())
    ]
    for k in sorted(before.keys() & after.keys()):
        changed = []
        if until(before[k]) != until(after[k]):
            changed.append(f"until {until(after[k])}")
        if note(before[k]) != note(after[k]):
            changed.append("note")
        if changed:
            lines.append(f"changed {k[0]} from {k[1]}: {', '.join(changed)}")
    return lines
