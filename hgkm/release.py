"""Publications of the mart: each mart `hgkm compute` builds is staged, then published once it
is approved — at once (`publish = "auto"`, the default) or by an analyst after review
(`publish = "review"`). Every published mart is kept, numbered, with its approval, so that a
figure shown on a date can be reproduced; the public only ever sees a published one.

    data/mart.duckdb                   the published mart: a hard link to the newest release
    data/releases/0001.duckdb, .json   each published mart (read-only) and its record
    data/releases/staged/<id>.*        the mart waiting for review (one at a time)
    data/releases/rejected/<id>.*      staged marts that were rejected, with who and why

Every step is a rename, or a record written under a temporary name and renamed, taken under
a lock held for milliseconds. A decision's record is written first; `recover` (run before
every change) finishes what a killed process left: a release or rejection whose mart was not
moved yet, a published mart not yet linked, an audit line not yet written. So a kill leaves
the old publication or the new one, whole, and the audit log names every decision.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from hgkm import audit
from hgkm.faults import checkpoint
from hgkm.settings import Paths

STAGED, REJECTED = "staged", "rejected"
BUILD_FILE = "build.duckdb"  # where compute writes the new mart before it is staged
AUTO, REVIEW = "auto", "review"
ADOPTED = "adopted"  # a mart published before releases were kept, taken in as it was
READ_ONLY = 0o444


class ReleaseError(Exception):
    """An approval or rejection that cannot be done (nothing staged, or staged against a
    publication that has since been replaced)."""


@dataclass(frozen=True)
class Actor:
    """Who does something: a signed-in person (e-mail, role) or a command on the server."""

    user: str
    role: str

    @classmethod
    def shell(cls, role: str = "shell") -> Actor:
        """Someone with a shell on the server (`role` "shell"), or the scheduled job ("job")."""
        return cls(getpass.getuser(), role)


@dataclass(frozen=True)
class Build:
    """A mart as `hgkm compute` built it: when, by whom, from which publication it differs."""

    id: str
    built_at: str  # UTC, ISO 8601
    built_by: str
    role: str
    as_of: str | None  # `compute --as-of`
    base: int | None  # the release its `release_changes` compare with (None: first)
    sha256: str


@dataclass(frozen=True)
class Decision:
    """An approval or rejection: who, when, in which mode, and the note or the reason."""

    by: str
    role: str
    at: str
    mode: str  # auto | review | adopted
    text: str = ""


@dataclass(frozen=True)
class Release:
    """A published mart and how it came to be published."""

    number: int
    build: Build
    decision: Decision
    path: Path


@dataclass(frozen=True)
class Staged:
    """The mart waiting for review."""

    build: Build
    path: Path


@dataclass(frozen=True)
class Rejection:
    build: Build
    decision: Decision
    path: Path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def build_path(paths: Paths) -> Path:
    """Where `hgkm compute` writes a new mart (then `publish` stages it)."""
    return paths.releases / STAGED / BUILD_FILE


def _release_file(paths: Paths, number: int, suffix: str) -> Path:
    return paths.releases / f"{number:04d}{suffix}"


def _write_json(path: Path, record: dict[str, Any]) -> None:
    """The record under a temporary name, made durable, then renamed into place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    data = json.dumps(record, indent=2, ensure_ascii=False).encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _build(record: dict[str, Any]) -> Build:
    return Build(**record["build"])


def _decision(record: dict[str, Any]) -> Decision:
    return Decision(**record["decision"])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024**2):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _locked(paths: Paths) -> Iterator[None]:
    """One change of the publications at a time (held for milliseconds: renames, records)."""
    for folder in (paths.releases, paths.releases / STAGED, paths.releases / REJECTED):
        folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.releases / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# ---- reading (no lock, nothing changed: the dashboard and `hgkm status` read these)


def _release_records(paths: Paths) -> list[tuple[int, dict[str, Any]]]:
    found = []
    for path in sorted(paths.releases.glob("[0-9][0-9][0-9][0-9].json")):
        record = _read_json(path)
        if record is not None:
            found.append((int(path.stem), record))
    return found


def releases(paths: Paths) -> list[Release]:
    """Every published mart, oldest first (a record whose mart is not in place yet, left by a
    killed approval, is not published until `recover` places it)."""
    return [
        Release(number, _build(record), _decision(record), _release_file(paths, number, ".duckdb"))
        for number, record in _release_records(paths)
        if _release_file(paths, number, ".duckdb").is_file()
    ]


def _decided_ids(paths: Paths) -> set[str]:
    ids = {record["build"]["id"] for _, record in _release_records(paths)}
    for path in (paths.releases / REJECTED).glob("*.json"):
        record = _read_json(path)
        if record is not None:
            ids.add(record["build"]["id"])
    return ids


def staged(paths: Paths) -> Staged | None:
    """The mart waiting for review: the newest complete staging not yet decided on."""
    folder = paths.releases / STAGED
    decided = _decided_ids(paths)
    found = []
    for path in folder.glob("*.json"):
        record = _read_json(path)
        mart = folder / f"{path.stem}.duckdb"
        if record is None or path.stem in decided or not mart.is_file():
            continue
        found.append(Staged(_build(record), mart))
    return max(found, key=lambda s: s.build.built_at, default=None)


def rejections(paths: Paths) -> list[Rejection]:
    """Staged marts that were rejected, oldest first."""
    folder = paths.releases / REJECTED
    found = []
    for path in folder.glob("*.json"):
        record = _read_json(path)
        mart = folder / f"{path.stem}.duckdb"
        if record is not None and mart.is_file():
            found.append(Rejection(_build(record), _decision(record), mart))
    return sorted(found, key=lambda r: r.decision.at)


def latest_build(paths: Paths) -> Path | None:
    """The mart built last (staged, rejected or published), or the published mart when no
    build was ever recorded: what the job compares the warehouse with to know whether to
    build again (a rejected build is not rebuilt from the same deliveries)."""
    builds = [(r.build.built_at, r.path) for r in releases(paths)]
    builds += [(r.build.built_at, r.path) for r in rejections(paths)]
    pending = staged(paths)
    if pending is not None:
        builds.append((pending.build.built_at, pending.path))
    if builds:
        return max(builds)[1]
    return paths.mart if paths.mart.is_file() else None


def release_on(paths: Paths, moment: datetime) -> Release | None:
    """The release that was published at `moment` (UTC when naive)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    shown = [r for r in releases(paths) if datetime.fromisoformat(r.decision.at) <= moment]
    return shown[-1] if shown else None


# ---- changing (under the lock, after `recover`)


def prepare(paths: Paths) -> tuple[int | None, Path | None]:
    """Before a build: finish what a killed process left, and say which release the new mart
    is compared with (its number and file; None for the first)."""
    with _locked(paths):
        _recover(paths)
        newest = releases(paths)
    if newest:
        return newest[-1].number, newest[-1].path
    return None, None


def stage(paths: Paths, built: Path, actor: Actor, *, as_of: str | None, base: int | None):
    """Stage the mart `compute` built at `built`; an older staged mart is superseded."""
    build = Build(uuid.uuid4().hex[:12], _now(), actor.user, actor.role, as_of, base, "")
    build = Build(**{**asdict(build), "sha256": sha256_of(built)})
    folder = paths.releases / STAGED
    with _locked(paths):
        _recover(paths)
        os.replace(built, folder / f"{build.id}.duckdb")
        checkpoint("release.stage")
        _write_json(folder / f"{build.id}.json", {"build": asdict(build)})
        for old in folder.glob("*.json"):
            if old.stem != build.id:
                _remove_staged(paths, old.stem)
    return Staged(build, folder / f"{build.id}.duckdb")


def approve(
    paths: Paths, build_id: str, actor: Actor, note: str = "", *, mode: str = REVIEW
) -> Release:
    """Publish the staged mart `build_id`: recorded, kept as the next release, linked as the
    published mart (one rename), written to the audit log. In review mode the staged mart must
    have been compared with the publication it replaces."""
    with _locked(paths):
        pending = _waiting(paths, build_id)
        published = releases(paths)
        newest = published[-1].number if published else None
        if mode == REVIEW and pending.build.base != newest:
            raise ReleaseError(
                f"the published mart changed since this one was staged (it was compared with "
                f"release {pending.build.base}, now {newest} is published): run "
                "`hgkm compute` again to stage it against the current publication"
            )
        number = (newest or 0) + 1
        decision = Decision(actor.user, actor.role, _now(), mode, note)
        record = {"number": number, "build": asdict(pending.build), "audited": False}
        record["decision"] = asdict(decision)
        _write_json(_release_file(paths, number, ".json"), record)
        checkpoint("release.approve")
        _finish(paths)
    return Release(number, pending.build, decision, _release_file(paths, number, ".duckdb"))


def _waiting(paths: Paths, build_id: str) -> Staged:
    """After `recover`, the staged mart `build_id`, or the error that it no longer waits."""
    _recover(paths)
    pending = staged(paths)
    if pending is None or pending.build.id != build_id:
        raise ReleaseError(
            "that staged mart is no longer waiting for review (approved, rejected or "
            "replaced by a newer one): look again"
        )
    return pending


def reject(paths: Paths, build_id: str, actor: Actor, reason: str) -> Rejection:
    """Reject the staged mart `build_id`: the published mart stays; the rejected one is kept
    apart with who, when and why, and the job does not stage the same deliveries again."""
    if not reason.strip():
        raise ReleaseError("a rejection needs a reason")
    with _locked(paths):
        pending = _waiting(paths, build_id)
        decision = Decision(actor.user, actor.role, _now(), REVIEW, reason.strip())
        record = {"build": asdict(pending.build), "decision": asdict(decision), "audited": False}
        _write_json(paths.releases / REJECTED / f"{build_id}.json", record)
        checkpoint("release.reject")
        _finish(paths)
    return Rejection(pending.build, decision, paths.releases / REJECTED / f"{build_id}.duckdb")


def publish_built(
    paths: Paths, built: Path, actor: Actor, *, mode: str, as_of: str | None, base: int | None
) -> Staged | Release:
    """Stage what compute built; in auto mode approve it at once (by the same actor)."""
    pending = stage(paths, built, actor, as_of=as_of, base=base)
    if mode != AUTO:
        return pending
    return approve(paths, pending.build.id, actor, mode=AUTO)


def recover(paths: Paths) -> None:
    """Finish whatever a killed process left half done (also run before every change)."""
    with _locked(paths):
        _recover(paths)


def _recover(paths: Paths) -> None:
    # Every temporary file below is written under the lock: one found now is a killed writer's.
    for leftover in [
        *paths.releases.rglob(".*.tmp-*"),
        *paths.data_dir.glob(f".{paths.mart.name}.link-*"),
    ]:
        leftover.unlink(missing_ok=True)
    _adopt(paths)
    _finish(paths)
    # a staged mart without its record is a staging that was killed: never reviewed
    folder = paths.releases / STAGED
    for mart in folder.glob("*.duckdb"):
        if mart.name != BUILD_FILE and not (folder / f"{mart.stem}.json").exists():
            mart.unlink()
    pending = staged(paths)
    for record in folder.glob("*.json"):
        if pending is None or record.stem != pending.build.id:
            _remove_staged(paths, record.stem)


def _finish(paths: Paths) -> None:
    """Complete every recorded decision: marts moved, the newest release linked as the
    published mart, the staged records removed, the audit lines written."""
    staged_folder = paths.releases / STAGED
    for number, record in _release_records(paths):
        target = _release_file(paths, number, ".duckdb")
        source = staged_folder / f"{record['build']['id']}.duckdb"
        if not target.exists() and source.exists():
            source.chmod(READ_ONLY)
            os.replace(source, target)
            _sync_folder(paths.releases)
            checkpoint("release.link")
    for path in (paths.releases / REJECTED).glob("*.json"):
        source = staged_folder / f"{path.stem}.duckdb"
        if source.exists():
            os.replace(source, path.with_suffix(".duckdb"))
    for build_id in _decided_ids(paths):
        (staged_folder / f"{build_id}.json").unlink(missing_ok=True)
    published = releases(paths)
    if published:
        _link(paths, published[-1].path)
    for number, record in _release_records(paths):
        if not record.get("audited", True):
            checkpoint("release.audit")
            _audit(paths, record, _release_file(paths, number, ".duckdb"), number)
            _write_json(_release_file(paths, number, ".json"), {**record, "audited": True})
    for path in (paths.releases / REJECTED).glob("*.json"):
        rejected = _read_json(path)
        if rejected is not None and not rejected.get("audited", True):
            _audit(paths, rejected, path.with_suffix(".duckdb"), None)
            _write_json(path, {**rejected, "audited": True})


def _link(paths: Paths, release: Path) -> None:
    """Make `release` the published mart by one rename (readers keep the file they opened)."""
    if paths.mart.exists() and os.path.samefile(paths.mart, release):
        return
    tmp = paths.data_dir / f".{paths.mart.name}.link-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.link(release, tmp)
    os.replace(tmp, paths.mart)
    _sync_folder(paths.data_dir)


def _adopt(paths: Paths) -> None:
    """A published mart that is no release (published before releases were kept, or by hand)
    becomes the next release as it is, so the next one is compared with it and it is kept."""
    if not paths.mart.is_file():
        return
    known = releases(paths)
    if any(os.path.samefile(paths.mart, r.path) for r in known):
        return
    # A copy of a release (a data folder copied or restored from a backup breaks the links)
    # is that release again, not a new one.
    digest = sha256_of(paths.mart)
    same = [r for r in known if r.build.sha256 == digest]
    if same:
        _link(paths, same[-1].path)
        return
    number = max((n for n, _ in _release_records(paths)), default=0) + 1
    target = _release_file(paths, number, ".duckdb")
    os.link(paths.mart, target)
    target.chmod(READ_ONLY)
    stamp = datetime.fromtimestamp(paths.mart.stat().st_mtime, UTC).isoformat(timespec="seconds")
    build = Build(uuid.uuid4().hex[:12], stamp, "", "", None, None, digest)
    decision = Decision("", "", stamp, ADOPTED, "published before releases were kept")
    record = {"number": number, "build": asdict(build), "decision": asdict(decision)}
    _write_json(_release_file(paths, number, ".json"), {**record, "audited": True})


def _remove_staged(paths: Paths, build_id: str) -> None:
    folder = paths.releases / STAGED
    (folder / f"{build_id}.duckdb").unlink(missing_ok=True)
    (folder / f"{build_id}.json").unlink(missing_ok=True)


def changes_of(mart: Path) -> pl.DataFrame:
    """A mart's `release_changes` (metrics.changes; empty in a mart built before it existed)."""
    con = duckdb.connect(str(mart), read_only=True)
    try:
        tables = {name for (name,) in con.sql("show tables").fetchall()}
        if "release_changes" not in tables:
            return pl.DataFrame()
        return con.sql("select * from release_changes").pl()
    finally:
        con.close()


def changed_municipalities(mart: Path) -> list[str]:
    """The municipalities whose figures the mart's `release_changes` list."""
    changes = changes_of(mart)
    if changes.is_empty():
        return []
    return sorted(
        changes.filter(pl.col("area_type") == "municipality")["area_code"].unique().to_list()
    )


def _audit(paths: Paths, record: dict[str, Any], mart: Path, number: int | None) -> None:
    decision = _decision(record)
    build = _build(record)
    action = "reject" if number is None else "publish" if decision.mode == AUTO else "approve"
    what: dict[str, Any] = {"build": build.id, "built_at": build.built_at}
    if number is not None:
        what["release"] = number
    if decision.text:
        what["reason" if number is None else "note"] = decision.text
    audit.record(
        paths.audit_log,
        user=decision.by or "unknown",
        role=decision.role or "unknown",
        action=action,
        what=what,
        concerns=changed_municipalities(mart),
    )
