"""Export contract v1 declared once: files, columns, types, enums and keys (docs/contract.md).

The pandera models (`schemas`), the warehouse's tables and their upgrades (`warehouse`), the
readers, the sample generator, the test deliveries and the contract's tables in
docs/contract.md (`python -m pipelines.docs`) all derive from this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

CONTRACT_VERSION = "1"
EARLIEST_DATE = date(2000, 1, 1)
PSEUDONYM_PATTERN = r"^[A-Za-z0-9_-]{4,64}$"
MUNICIPALITY_CODE_PATTERN = r"^GM[0-9]{4}$"

VIOLENCE_TYPES = ("partner", "child_abuse", "against_parents", "elder_abuse", "other")
SAFETY_ASSESSMENTS = ("acute", "structural", "not_unsafe", "unknown")
REPORTERS = ("police", "professional", "self_or_family", "other")
AGE_BANDS = ("0-3", "4-11", "12-17")
RECIPIENTS = ("victim", "perpetrator", "child", "family")
HELP_LEVELS = ("basic", "specialist")
FOLLOWUP_ANSWERS = ("yes", "no", "unknown")


KINDS = ("pseudonym", "date", "enum", "text", "municipality")


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    kind: 'pseudonym' (PSEUDONYM_PATTERN), 'date' (from EARLIEST_DATE), 'enum' (one of
    `values`), 'text', or 'municipality' (a CBS code of the reference list). `unique`: no
    value twice in one delivery (or file). `max_length`: at most that many characters.
    """

    name: str
    kind: str
    required: bool = True
    values: tuple[str, ...] = ()
    unique: bool = False
    max_length: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS or (self.kind == "enum") != bool(self.values):
            raise ValueError(f"column {self.name}: kind {self.kind!r} with values {self.values}")

    @property
    def sql_type(self) -> str:
        """The column's type in the warehouse (values arrive as text; dates are parsed)."""
        return "date" if self.kind == "date" else "varchar"


TABLES: dict[str, tuple[Column, ...]] = {
    "cases": (
        Column("case_id", "pseudonym", unique=True),
        Column("report_date", "date"),
        Column("violence_type", "enum", values=VIOLENCE_TYPES),
        Column("safety_assessment", "enum", values=SAFETY_ASSESSMENTS),
        Column("restraining_order_date", "date", required=False),
        Column("coordinator_date", "date", required=False),
        Column("closed_date", "date", required=False),
    ),
    "reports": (
        Column("case_id", "pseudonym"),
        Column("report_date", "date"),
        Column("reporter", "enum", values=REPORTERS),
    ),
    "children": (
        Column("case_id", "pseudonym"),
        Column("child_id", "pseudonym", unique=True),
        Column("age_band", "enum", values=AGE_BANDS),
    ),
    "help": (
        Column("case_id", "pseudonym"),
        Column("recipient", "enum", values=RECIPIENTS),
        Column("child_id", "pseudonym", required=False),
        Column("level", "enum", values=HELP_LEVELS),
        Column("offered_date", "date"),
        Column("start_date", "date", required=False),
        Column("end_date", "date", required=False),
    ),
    "followups": (
        Column("case_id", "pseudonym"),
        Column("followup_date", "date"),
        Column("violence_since_previous", "enum", values=FOLLOWUP_ANSWERS),
    ),
}

MANIFEST_KEYS_REQUIRED = ("contract_version", "municipality_code", "extract_date")
MANIFEST_KEYS_OPTIONAL = ("source_system",)
# The manifest as a table: one row per key (its values are checked per key, in `checks`).
MANIFEST: tuple[Column, ...] = (
    Column("key", "enum", values=(*MANIFEST_KEYS_REQUIRED, *MANIFEST_KEYS_OPTIONAL), unique=True),
    Column("value", "text", required=False),
)
MANIFEST_COLUMNS = tuple(c.name for c in MANIFEST)

# Sheet / file stems in a delivery, in the order they are read and reported.
FILES = ("manifest", *TABLES)

# Approach profiles (CONTRACT.md, "Approach profiles").
APPROACH_ELEMENTS = (
    "specialist_at_front_door",
    "single_coordinator",
    "multidisciplinary_team",
    "system_oriented_offer",
    "child_focused_offer",
    "intensive_case_management",
    "long_term_monitoring",
)
APPROACH_NOTE_MAX_LENGTH = 200
APPROACH_COLUMNS: tuple[Column, ...] = (
    Column("municipality_code", "municipality"),
    Column("element", "enum", values=APPROACH_ELEMENTS),
    Column("in_place_from", "date"),
    Column("in_place_until", "date", required=False),
    Column("note", "text", required=False, max_length=APPROACH_NOTE_MAX_LENGTH),
)
# A profile's periods as polars columns (dates parsed), in the file's order.
APPROACH_SCHEMA: dict[str, pl.DataType] = {
    c.name: pl.Date() if c.kind == "date" else pl.String() for c in APPROACH_COLUMNS
}
