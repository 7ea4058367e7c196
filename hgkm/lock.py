"""One job at a time: an flock-held lock file that records its holder (pid, host, start time).

The kernel releases an flock when its holder dies, even by SIGKILL, so the flock alone decides
who holds the lock; the recorded holder only serves messages. A record left in a file whose
flock is free was written by a run that ended without releasing it: a stale lock, taken over.
The file is never deleted, because a process could still be waiting on the old file's inode.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType


@dataclass(frozen=True)
class Holder:
    """Who took the lock, and when."""

    pid: int
    host: str
    started_at: str

    @classmethod
    def me(cls) -> Holder:
        return cls(
            os.getpid(), socket.gethostname(), datetime.now(UTC).isoformat(timespec="seconds")
        )

    def is_alive(self) -> bool | None:
        """Whether its process still exists; None when it ran on another host."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started_at}"


class LockBusy(Exception):
    """Another process holds the lock (and it did not come free within the wait)."""

    def __init__(self, path: Path, holder: Holder | None, waited: float) -> None:
        self.path = path
        self.holder = holder
        self.waited = waited
        who = holder.describe() if holder else "a process whose details could not be read"
        after = f" after waiting {waited:g} s" if waited else ""
        super().__init__(f"another run holds the lock {path}{after}: {who}")


def _parse(text: str) -> Holder | None:
    try:
        record = json.loads(text)
        return Holder(int(record["pid"]), str(record["host"]), str(record["started_at"]))
    except (ValueError, KeyError, TypeError):
        return None


class RunLock:
    """`with RunLock(path, wait_seconds=...) as lock:` — lock.stale names a holder taken over."""

    def __init__(self, path: Path, *, wait_seconds: float = 0.0, poll_seconds: float = 0.1) -> None:
        self.path = path
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.stale: Holder | None = None
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        start = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - start
                if waited >= self.wait_seconds:
                    holder = _parse(os.pread(fd, 4096, 0).decode(errors="replace"))
                    os.close(fd)
                    raise LockBusy(self.path, holder, round(waited, 1)) from None
                time.sleep(min(self.poll_seconds, self.wait_seconds - waited))
        previous = os.pread(fd, 4096, 0).decode(errors="replace").strip()
        self.stale = _parse(previous) if previous else None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(Holder.me())).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        # Empty the record before unlocking, so the next holder does not see a stale lock.
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def is_held(path: Path) -> tuple[bool, Holder | None]:
    """Whether a run holds the lock now, and who (None when its record is unreadable)."""
    if not path.exists():
        return False, None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            # A shared probe: it only conflicts with a run's exclusive lock, for an instant.
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True, _parse(os.pread(fd, 4096, 0).decode(errors="replace"))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False, None
    finally:
        os.close(fd)


def recorded_holder(path: Path) -> Holder | None:
    """Who the lock file names, read without taking its flock, so a reader (the dashboard)
    never delays a run that starts at that instant. A run empties the record before it
    releases the lock, so a record means a run holds it, or died holding it (`is_alive`)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        return None
    return _parse(text) if text else None
