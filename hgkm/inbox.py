"""The inbox's lifecycle: which entries are settled, readable deliveries, and filing each away.

An inbox holds new deliveries at its top level and three folders the job files them into:
`processed/` (accepted or loaded before), `rejected/` and `unrecognised/`, each delivery with
`<name>.report.txt` and `<name>.report.json` beside it. Filing is one `os.replace` within the
inbox's file system (a folder delivery moves as one rename), after its reports are in place.
Nothing is followed: an entry that is a link, pipe, device or socket is refused unopened, the
filing folders must be real folders, and reports are never written through a link.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hgkm import files

PROCESSED = "processed"
REJECTED = "rejected"
UNRECOGNISED = "unrecognised"
FOLDERS = (PROCESSED, REJECTED, UNRECOGNISED)
REPORT_SUFFIXES = (".report.txt", ".report.json")
TMP_SUFFIX = ".writing"

# Hidden files, Office lock files and editors' backups are nobody's delivery.
IGNORED_PREFIXES = (".", "~$")
# Names that upload tools give a file until it is complete (then they rename it).
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".filepart")

# An approach profile file (`hgkm approach import`'s input), e.g. one the browser's profile
# editor placed: the job imports it instead of ingesting it as a delivery.
PROFILE_PREFIX = "approach_profiles"
PROFILE_SUFFIXES = (".csv", ".xlsx")

READY = "ready"
UNSETTLED = "unsettled"
UNREADABLE = "unreadable"
NOT_A_DELIVERY = "not_a_delivery"
REFUSED = "refused"  # a link, pipe, device or socket: filed into rejected/, never opened
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class Entry:
    """One top-level inbox entry and what this run can do with it."""

    path: Path
    state: str  # ready | unsettled | unreadable | not_a_delivery | refused
    reason: str = ""  # never a name: a file inside a folder delivery may be named with data


def is_profile_file(path: Path) -> bool:
    """A regular file named as an approach profile (approach_profiles….csv or .xlsx)."""
    name = path.name.lower()
    return (
        name.startswith(PROFILE_PREFIX)
        and name.endswith(PROFILE_SUFFIXES)
        and path.is_file()
        and not path.is_symlink()
    )


def _files(path: Path) -> list[Path]:
    """The path itself, or every file below a folder (raising on an unreadable folder)."""
    if not path.is_dir():
        return [path]

    def fail(exc: OSError) -> None:
        raise exc

    return [Path(root) / name for root, _, names in os.walk(path, onerror=fail) for name in names]


def _signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times: any change means someone is still writing."""
    stats = [(str(f), f.lstat().st_size, f.lstat().st_mtime_ns) for f in _files(path)]
    return (("", 0, path.lstat().st_mtime_ns), *sorted(stats))


def _latest_change(signature: tuple[tuple[str, int, int], ...]) -> float:
    return max(mtime for _, _, mtime in signature) / 1e9


def _refused_kind(mode: int) -> str | None:
    """None for a regular file or a folder, else what the entry is (it is not read)."""
    kind = files.kind_of(mode)
    return None if kind in (files.FILE, files.FOLDER) else kind


def _unreadable(path: Path) -> str | None:
    """Why the job cannot read the entry, or None; tries to open every regular file for real
    (without following a link or blocking on a pipe: those the reader refuses by name)."""
    for file in _files(path):
        try:
            files.can_open(file)
        except files.Refused:
            continue
        except OSError as exc:
            inside = "" if file == path else " (a file in it)"
            return f"{exc.strerror or type(exc).__name__}{inside}"
    return None


def folder_problem(inbox: Path) -> str | None:
    """Why the run must not start: a filing folder that is not a real folder inside the inbox
    (a link would make the job write wherever it points); None when all are fine."""
    for name in FOLDERS:
        try:
            mode = os.lstat(inbox / name).st_mode
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(mode):
            what = _refused_kind(mode) or "file"
            return (
                f"{name}/ in the inbox is a {what}, not a folder: the inbox's own folders "
                f"({', '.join(f + '/' for f in FOLDERS)}) must be real folders inside it; "
                "move it away and run again"
            )
    return None


def scan(
    inbox: Path,
    *,
    settle_seconds: float,
    is_delivery: Callable[[Path], bool],
    sleep: Callable[[float], None] = time.sleep,
) -> list[Entry]:
    """Every top-level entry of the inbox, oldest first, with what this run may do with it.

    Entries changed within the last `settle_seconds` are watched for that long once (one wait
    for all of them); any that still change are left for the next run.
    """
    arrived: dict[Path, int] = {}
    for path in inbox.iterdir():
        if path.name in FOLDERS or path.name.lower().startswith(IGNORED_PREFIXES):
            continue
        try:
            arrived[path] = path.lstat().st_mtime_ns
        except FileNotFoundError:
            continue  # renamed or removed by its uploader since the listing
    candidates = sorted(arrived, key=lambda p: (arrived[p], p.name))
    entries: dict[Path, Entry] = {}
    first: dict[Path, tuple[tuple[str, int, int], ...]] = {}
    for path in candidates:
        if path.name.lower().endswith(IN_PROGRESS_SUFFIXES):
            entries[path] = Entry(path, UNSETTLED, "named as an upload in progress")
            continue
        try:
            kind = _refused_kind(path.lstat().st_mode)
            if kind is not None:
                entries[path] = Entry(path, REFUSED, files.refusal(kind))
                continue
            first[path] = _signature(path)
        except OSError as exc:
            entries[path] = Entry(path, UNREADABLE, exc.strerror or type(exc).__name__)
    started = time.time()
    recent = [p for p, sig in first.items() if _latest_change(sig) > started - settle_seconds]
    if recent:
        sleep(settle_seconds)
        for path in recent:
            try:
                changed = _signature(path) != first[path]
            except OSError:
                changed = True  # it vanished or moved while we watched: still in flux
            if changed:
                entries[path] = Entry(
                    path, UNSETTLED, f"still being written (changed within {settle_seconds:g} s)"
                )
    for path in first:
        if path in entries:
            continue
        problem = _unreadable(path)
        if problem:
            entries[path] = Entry(path, UNREADABLE, problem)
        elif not is_delivery(path):
            entries[path] = Entry(
                path,
                NOT_A_DELIVERY,
                "not a delivery: expected a folder with the contract's files, a .zip or an .xlsx",
            )
        else:
            entries[path] = Entry(path, READY)
    return [entries[p] for p in candidates]


def _report_paths(target: Path) -> tuple[Path, Path]:
    text, data = (target.with_name(target.name + suffix) for suffix in REPORT_SUFFIXES)
    return text, data


def _orphan_reports_of(target: Path, content_hash: str | None) -> bool:
    """Whether reports for `target` exist without it, written for this same content.

    That is what a run killed between writing the reports and the move leaves behind.
    """
    _, json_path = _report_paths(target)
    try:
        written = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return written.get("content_hash") == content_hash


def target_for(folder: Path, name: str, content_hash: str | None, now: datetime) -> Path:
    """Where to file `name`: itself, or with a timestamp suffix when the name is taken."""
    path = Path(name)
    stem, suffix = (
        (path.stem, path.suffix)
        if path.suffix.lower() in {".zip", ".xlsx"}
        else (
            name,
            "",
        )
    )
    stamp = now.strftime("%Y%m%dT%H%M%S")
    candidates = [name, f"{stem}.{stamp}{suffix}"]
    candidates += (f"{stem}.{stamp}-{n}{suffix}" for n in range(2, 1000))
    for candidate in candidates:
        target = folder / candidate
        if os.path.lexists(target):
            continue
        reports = _report_paths(target)
        if not any(os.path.lexists(r) for r in reports) or _orphan_reports_of(target, content_hash):
            return target
    raise FileExistsError(f"no free name for {name} in {folder}")


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}{TMP_SUFFIX}")


def remove_leftovers(inbox: Path) -> list[Path]:
    """Delete half-written report files a killed run left in the filing folders."""
    leftovers = [
        p
        for folder in FOLDERS
        if (inbox / folder).is_dir()
        for p in (inbox / folder).iterdir()
        if p.name.startswith(".") and p.name.endswith(TMP_SUFFIX) and ".report." in p.name
    ]
    for path in leftovers:
        path.unlink()
    return leftovers


def _write_atomic(path: Path, text: str) -> None:
    """Write a temporary file (never through a link: O_NOFOLLOW), then rename it into place."""
    tmp = _tmp_name(path)
    fd = os.open(tmp, _WRITE_FLAGS, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def file_entry(
    path: Path,
    folder: Path,
    *,
    content_hash: str | None,
    report_text: str,
    report_json: dict[str, Any],
    now: datetime,
    name: str | None = None,
) -> Path:
    """Write the entry's reports into `folder`, then move the entry beside them; the new path.

    `name` is what to file it as (its name as it may be shown, see `pipelines.names`); by
    default its own. Reports a killed run already wrote for this same content are kept: they
    hold the first, fuller outcome, where a re-run only learns that the delivery was loaded
    before.
    """
    try:
        folder.mkdir()
    except FileExistsError:
        if not stat.S_ISDIR(folder.lstat().st_mode):
            raise NotADirectoryError(20, "not a real folder", str(folder)) from None
    target = target_for(folder, name or path.name, content_hash, now)
    text_path, json_path = _report_paths(target)
    if not _orphan_reports_of(target, content_hash):
        _write_atomic(text_path, report_text.rstrip("\n") + "\n")
        body = {**report_json, "content_hash": content_hash, "filed_as": str(target)}
        _write_atomic(json_path, json.dumps(body, indent=2, ensure_ascii=False, default=str))
    os.replace(path, target)
    return target
