"""The contract's per-table rules as pandera (polars) schemas, derived from pipelines.contract.

Each contract column becomes a pandera column: its type, nullable unless required, its kind's
check (pseudonym pattern, enum values, dates from EARLIEST_DATE, a municipality of the
reference list, a maximum length) and its uniqueness. They are validated on collected frames.
Dates arrive already parsed (pandera's coerce does not parse date strings); the upper bound
(the extract_date) differs per delivery and is checked with the cross-table rules.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from hgkm.reference import municipality_codes
from pipelines.contract import (
    APPROACH_COLUMNS,
    EARLIEST_DATE,
    MANIFEST,
    PSEUDONYM_PATTERN,
    TABLES,
    Column,
)


def _checks(column: Column) -> list[pa.Check]:
    if column.kind == "pseudonym":
        checks = [pa.Check.str_matches(PSEUDONYM_PATTERN)]
    elif column.kind == "enum":
        checks = [pa.Check.isin(list(column.values))]
    elif column.kind == "date":
        checks = [pa.Check.ge(EARLIEST_DATE)]
    elif column.kind == "municipality":
        checks = [pa.Check.isin(sorted(municipality_codes()))]
    else:
        checks = []
    if column.max_length is not None:
        checks.append(pa.Check.str_length(max_value=column.max_length))
    return checks


def schema(name: str, columns: tuple[Column, ...]) -> pa.DataFrameSchema:
    """The strict pandera schema of a contract table: exactly these columns, in this order."""
    return pa.DataFrameSchema(
        {
            c.name: pa.Column(
                pl.Date if c.kind == "date" else pl.String,
                _checks(c),
                nullable=not c.required,
                unique=c.unique,
            )
            for c in columns
        },
        strict=True,
        name=name,
    )


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    name: schema(name, columns) for name, columns in {"manifest": MANIFEST, **TABLES}.items()
}


def approach_schema() -> pa.DataFrameSchema:
    """The schema of an approach profile's rows (reads the reference list: built on use)."""
    return schema("approach_profiles", APPROACH_COLUMNS)


# pandera check name (before any "(") -> contract rule in pipelines.report.RULES.
CHECK_RULES = {
    "str_matches": "pseudonym_format",
    "isin": "enum_value",
    "not_nullable": "required",
    "field_uniqueness": "unique",
    "greater_than_or_equal_to": "date_before_2000",
}
