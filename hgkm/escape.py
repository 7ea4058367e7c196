"""Text from outside (a file or folder name) made safe to print, log or mail: controls escaped.

A newline in a name could forge a line of the cron mail (`summary: ...`), an escape sequence
could rewrite the terminal, a bidirectional override could show a name backwards. Each such
character is written as `\\xNN` / `\\uNNNN`, so the text stays on one line and readable.
This module sits at the bottom of the import graph and imports nothing of the project.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

# C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional controls.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A lone surrogate (a file name's undecodable byte, as os.fsdecode gives it).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """The text with every control character escaped (a backslash is doubled only before one
    of those escapes would be ambiguous: a name never needs that in practice)."""
    text = _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)
    return _UNSAFE.sub(_escaped, text)


def command_path(path: Path | str) -> str:
    """A path as a shell command may quote it safely (`hgkm ingest <this>`), controls escaped."""
    return printable(shlex.quote(str(path)))
