"""Names are data: a folder, file, zip member or sheet name is shown only when it passes the
anonymisation guard, with its control characters escaped; a name that fails is rejected like a
value and a neutral label ("file 3 of the zip") stands in for it in every message and record.
"""

from __future__ import annotations

from hgkm.escape import printable
from pipelines import guard
from pipelines.report import RULES, Issue


def rules(name: str) -> list[str]:
    """The guard's rules the name breaks. An underscore separates words in a file name
    (`GM0150_123456782`), where the guard's word boundaries would not see one."""
    return guard.text_rules(name.replace("_", " "))


def shown(name: str, label: str) -> str:
    """The name as it may be shown and stored: itself (controls escaped), or the label."""
    return label if rules(name) else printable(name)


def issues(name: str, label: str) -> list[Issue]:
    """The name's personal-data issues, on the label (empty for a name that passes)."""
    return [
        Issue(label, None, None, rule, f"{RULES[rule].fix} from the name") for rule in rules(name)
    ]
