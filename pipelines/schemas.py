"""The contract's per-table rules as pandera (polars) models, validated on collected frames.

Column names, enums and patterns come from pipelines.contract; a test holds the two together.
Dates arrive already parsed (pandera's coerce does not parse date strings); the upper bound
(the extract_date) differs per delivery and is checked with the cross-table rules.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandera.polars as pa

from pipelines.contract import (
    AGE_BANDS,
    EARLIEST_DATE,
    FOLLOWUP_ANSWERS,
    HELP_LEVELS,
    MANIFEST_KEYS_OPTIONAL,
    MANIFEST_KEYS_REQUIRED,
    PSEUDONYM_PATTERN,
    RECIPIENTS,
    REPORTERS,
    SAFETY_ASSESSMENTS,
    VIOLENCE_TYPES,
)


def _pseudonym(*, unique: bool = False, nullable: bool = False) -> Any:
    return pa.Field(str_matches=PSEUDONYM_PATTERN, unique=unique, nullable=nullable)


def _enum(values: tuple[str, ...]) -> Any:
    return pa.Field(isin=list(values))


def _date(*, nullable: bool = False) -> Any:
    return pa.Field(ge=EARLIEST_DATE, nullable=nullable)


class _Strict(pa.DataFrameModel):
    class Config:
        strict = True


class Cases(_Strict):
    case_id: str = _pseudonym(unique=True)
    report_date: date = _date()
    violence_type: str = _enum(VIOLENCE_TYPES)
    safety_assessment: str = _enum(SAFETY_ASSESSMENTS)
    restraining_order_date: date = _date(nullable=True)
    coordinator_date: date = _date(nullable=True)
    closed_date: date = _date(nullable=True)


class Reports(_Strict):
    case_id: str = _pseudonym()
    report_date: date = _date()
    reporter: str = _enum(REPORTERS)


class Children(_Strict):
    case_id: str = _pseudonym()
    child_id: str = _pseudonym(unique=True)
    age_band: str = _enum(AGE_BANDS)


class Help(_Strict):
    case_id: str = _pseudonym()
    recipient: str = _enum(RECIPIENTS)
    child_id: str = _pseudonym(nullable=True)
    level: str = _enum(HELP_LEVELS)
    offered_date: date = _date()
    start_date: date = _date(nullable=True)
    end_date: date = _date(nullable=True)


class Followups(_Strict):
    case_id: str = _pseudonym()
    followup_date: date = _date()
    violence_since_previous: str = _enum(FOLLOWUP_ANSWERS)


class Manifest(_Strict):
    key: str = pa.Field(isin=[*MANIFEST_KEYS_REQUIRED, *MANIFEST_KEYS_OPTIONAL], unique=True)
    value: str = pa.Field(nullable=True)


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "manifest": Manifest,
    "cases": Cases,
    "reports": Reports,
    "children": Children,
    "help": Help,
    "followups": Followups,
}

# pandera check name (before any "(") -> contract rule in pipelines.report.RULES.
CHECK_RULES = {
    "str_matches": "pseudonym_format",
    "isin": "enum_value",
    "not_nullable": "required",
    "field_uniqueness": "unique",
    "greater_than_or_equal_to": "date_before_2000",
}
