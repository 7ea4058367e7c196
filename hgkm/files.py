"""Only regular files and real folders are read: kinds by `lstat`, bytes read without
following a link or blocking on a pipe, and never more than a limit.

A link would read whatever it points at (`/proc/self/environ`, another team's export), a
named pipe would block the job forever, a device or socket is no export at all. Each path's
kind is decided without following it, and a file is opened with O_NOFOLLOW | O_NONBLOCK and
checked again on the open descriptor, so a file swapped for a link or a pipe between the two
is refused too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE = "file"
FOLDER = "folder"
LINK = "symbolic link"
PIPE = "named pipe"
DEVICE = "device"
SOCKET = "socket"
MISSING = "missing"
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 8 * 1024**2


class Refused(Exception):
    """A path that is not a regular file (or real folder), or a file over its byte limit."""

    def __init__(self, kind: str, size: int | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.size = size  # set when the file is too large: the bytes it has (at least)


def kind_of(mode: int) -> str:
    if stat.S_ISREG(mode):
        return FILE
    if stat.S_ISDIR(mode):
        return FOLDER
    if stat.S_ISLNK(mode):
        return LINK
    if stat.S_ISFIFO(mode):
        return PIPE
    if stat.S_ISSOCK(mode):
        return SOCKET
    return DEVICE


def kind(path: Path) -> str:
    """What the path itself is, never following a link."""
    try:
        return kind_of(os.lstat(path).st_mode)
    except FileNotFoundError:
        return MISSING


def refusal(kind: str) -> str:
    """What to tell the team about a path of this kind that is not read."""
    if kind == LINK:
        return "a symbolic link is never followed: put the file itself in its place"
    return f"a {kind} is not a file: only regular files are read"


def _open(path: Path) -> int:
    """A descriptor on the path, refusing (before opening it: opening a device can act on it)
    anything `lstat` does not see as a regular file."""
    found = kind(path)
    if found == MISSING:
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if found != FILE:
        raise Refused(found)
    try:
        return os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        swapped = kind(path)
        if swapped not in (FILE, MISSING):  # replaced by a link since: ELOOP
            raise Refused(swapped) from exc
        raise


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; raises Refused otherwise.

    The size is checked on the open file before anything is read, and the read stops past the
    limit, so a file growing while it is read costs no more.
    """
    fd = _open(path)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(kind_of(info.st_mode))
        if info.st_size > limit:
            raise Refused(FILE, info.st_size)
        os.set_blocking(fd, True)
        # One read takes a regular file whole as a rule; a file grown since fstat is read on
        # until the limit.
        parts = [os.read(fd, info.st_size + 1)]
        read = len(parts[0])
        while parts[-1] and read <= limit:
            parts.append(os.read(fd, min(_CHUNK, limit + 1 - read)))
            read += len(parts[-1])
        if read > limit:
            raise Refused(FILE, read)
        return parts[0] if len(parts) <= 2 else b"".join(parts)
    finally:
        os.close(fd)


def can_open(path: Path) -> None:
    """Open a regular file for reading and read a byte, as the job will (raises OSError or
    Refused): it sees what permissions, ACLs or a dropped capability hide."""
    fd = _open(path)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(kind_of(info.st_mode))
        os.read(fd, 1)
    finally:
        os.close(fd)
