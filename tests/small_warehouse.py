"""Hand-built case-level warehouses for the metrics tests: plain INSERTs, no ingest code.

Each row's case_hash is its case_id hashed as the ingest first hashes it (`CASE_HASH`, salt 0).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.contract import TABLES
from pipelines.warehouse import CASE_HASH, connect


def days(base: date, offset: int) -> date:
    return base + timedelta(days=offset)


class SmallWarehouse:
    """A warehouse file filled row by row, each method one INSERT into the real schema."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.con: duckdb.DuckDBPyConnection = connect(path)
        self._hashes = 0

    def delivery(
        self,
        municipality_code: str,
        extract_date: date,
        *,
        received_at: datetime | None = None,
        status: str = "accepted",
        errors: str | None = None,
        warnings: str | None = None,
    ) -> int:
        self._hashes += 1
        received_at = received_at or datetime.combine(extract_date, datetime.min.time())
        row = self.con.execute(
            """
            insert into deliveries (content_hash, municipality_code, extract_date, source_name,
                shape, received_at, status, rows_loaded, warnings, errors, error_count)
            values (?, ?, ?, ?, 'folder', ?, ?, '{"cases": 1}', ?, ?, ?)
            returning delivery_id
            """,
            [
                f"hash{self._hashes:04d}",
                municipality_code,
                extract_date,
                f"delivery{self._hashes}",
                received_at,
                status,
                warnings or "[]",
                errors or "[]",
                0 if errors is None else 1,
            ],
        ).fetchone()
        assert row is not None
        return int(row[0])

    def case(
        self,
        delivery_id: int,
        case_id: str,
        report_date: date,
        *,
        violence_type: str = "partner",
        safety: str = "acute",
        restraining_order: date | None = None,
        coordinator: date | None = None,
    ) -> None:
        self._insert(
            "cases",
            [
                delivery_id,
                case_id,
                report_date,
                violence_type,
                safety,
                restraining_order,
                coordinator,
                None,
            ],
        )

    def report(self, delivery_id: int, case_id: str, report_date: date) -> None:
        self._insert("reports", [delivery_id, case_id, report_date, "police"])

    def child(self, delivery_id: int, case_id: str, child_id: str, age_band: str = "4-11") -> None:
        self._insert("children", [delivery_id, case_id, child_id, age_band])

    def help(
        self,
        delivery_id: int,
        case_id: str,
        recipient: str,
        level: str,
        offered: date,
        *,
        start: date | None = None,
        child_id: str | None = None,
    ) -> None:
        self._insert(
            "help", [delivery_id, case_id, recipient, child_id, level, offered, start, None]
        )

    def followup(self, delivery_id: int, case_id: str, followup_date: date, answer: str) -> None:
        self._insert("followups", [delivery_id, case_id, followup_date, answer])

    def _insert(self, table: str, values: list[object]) -> None:
        """One row: `values` are delivery_id and the contract's columns, in the contract's order."""
        columns = ", ".join(["delivery_id", *(c.name for c in TABLES[table])])
        slots = ", ".join("?" for _ in values)
        self.con.execute(
            f"insert into {table} ({columns}, case_hash) "
            f"select *, {CASE_HASH.format(salt=0)} from (values ({slots})) as t({columns})",
            values,
        )

    def close(self) -> None:
        self.con.close()
