"""The audit log: who did what and when, as append-only JSON lines in data/logs/audit.jsonl.

One line per event (sign-in, sign-out, a refused request, an upload, a profile edit, an
approval, rejection or publication of the mart): time, user, role, action, what, and the
municipalities the event concerns, which decides who may read it (`visible`). Never in the
mart or the warehouse: the log outlives both and is readable with any text tool.

Safe with many writers (the dashboard's sessions, several processes): each event is one
`write` of one whole line to a file opened with O_APPEND, then fsync (hgkm.jsonlines), so
lines never interleave and a written line survives a crash. A torn last line left by a crash
is skipped by readers, who say which line, and the next writer starts on a fresh line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hgkm import jsonlines

# The actions: the dashboard's sign-ins, sign-outs and refusals; the browser intake's uploads
# and profile edits (`hgkm approach import` writes profile_edit too); hgkm.release's decisions:
# an approval after review, a rejection, a publication without review (publish = "auto").
ACTIONS = (
    "signin", "signout", "refused", "upload", "profile_edit", "approve", "reject", "publish",
)  # fmt: skip
FIELDS = ("ts", "user", "role", "action", "what", "concerns")
FILE_MODE = 0o640  # the service user writes, its group (operators) may read


@dataclass
class AuditLog:
    """The readable events of the log, oldest first, and the line numbers that were not."""

    events: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)


def record(
    path: Path,
    *,
    user: str,
    role: str,
    action: str,
    what: Mapping[str, Any] | None = None,
    concerns: Iterable[str] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """Append one event and make it durable (fsync) before returning it."""
    event = {
        "ts": (now or datetime.now(UTC)).isoformat(timespec="milliseconds"),
        "user": user,
        "role": role,
        "action": action,
        "what": dict(what or {}),
        "concerns": sorted(set(concerns)),
    }
    jsonlines.append(path, event, durable=True, mode=FILE_MODE)
    return event


def read(path: Path) -> AuditLog:
    """Every readable event; a torn or foreign line is skipped and its number kept."""
    events, unreadable = jsonlines.read(path, required=FIELDS[:4])
    return AuditLog(events, unreadable)


def visible(event: Mapping[str, Any], everything: bool, codes: Sequence[str]) -> bool:
    """Whether a reader who may see the lines of `codes` (or of everything) sees this event:
    only events that concern one of those municipalities."""
    return everything or bool(set(event.get("concerns") or ()) & set(codes))


def select(
    events: Iterable[dict[str, Any]],
    *,
    since: datetime | None = None,
    user: str | None = None,
    action: str | None = None,
) -> list[dict[str, Any]]:
    """The events from `since` on (a naive time is taken as UTC), by `user` (any case), of
    `action`."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    wanted = user.strip().lower() if user else None
    chosen = []
    for event in events:
        if action and event.get("action") != action:
            continue
        if wanted and str(event.get("user", "")).lower() != wanted:
            continue
        if since is not None and _time(event) < since:
            continue
        chosen.append(event)
    return chosen


def _time(event: Mapping[str, Any]) -> datetime:
    try:
        stamp = datetime.fromisoformat(str(event["ts"]))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
