"""Approach profiles: read a CSV/xlsx file, check it against the contract, store it versioned.

An import replaces the profile of every municipality it names; older imports stay in the
warehouse and `current_approach` picks, per municipality, the latest accepted import naming it.
Errors name file, row, column and rule — never a value (CONTRACT.md, "Approach profiles").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from hgkm import files
from hgkm.escape import printable
from hgkm.intake import profile_changes
from hgkm.limits import DEFAULTS, Limits
from pipelines import guard, isolated, names, warehouse
from pipelines.contract import (
    APPROACH_COLUMNS,
    APPROACH_ELEMENTS,
    APPROACH_NOTE_MAX_LENGTH,
    APPROACH_SCHEMA,
    EARLIEST_DATE,
)
from pipelines.read import (
    ROW,
    RawTable,
    over_limit,
    read_csv_bytes,
    reader_failed,
    sheet_table,
)
from pipelines.report import ERRORS_SHOWN_PER_RULE, STATUS_HEADINGS, Issue, error_lines

SUFFIXES = (".csv", ".xlsx")
STEM = "approach_profiles"
DATE_COLUMNS = tuple(c.name for c in APPROACH_COLUMNS if c.kind == "date")
COLUMN_NAMES = tuple(c.name for c in APPROACH_COLUMNS)

# Rules of the approach contract beyond those shared with deliveries (pipelines.report.RULES).
FIXES: dict[str, str] = {
    "unknown_municipality": "use a CBS code (GM + 4 digits) from the reference list",
    "unknown_element": "use one of the elements the contract lists: "
    + ", ".join(APPROACH_ELEMENTS),
    "note_too_long": f"shorten the note to at most {APPROACH_NOTE_MAX_LENGTH} characters",
    "date_in_future": "a date may not lie after today: leave in_place_until empty while the "
    "element is in place",
    "until_before_from": "in_place_until may not lie before in_place_from",
    "overlapping_periods": "periods of the same element in one municipality may not overlap: "
    "merge them or correct the dates",
    "empty_file": "the file holds no rows: add at least one element",
}

SCHEMA = """
create sequence if not exists approach_import_id_seq start 1;

create table if not exists approach_imports (
    import_id     integer primary key default nextval('approach_import_id_seq'),
    content_hash  varchar not null,             -- sha256 of the file's bytes
    source_name   varchar not null,
    received_at   timestamp not null,
    status        varchar not null,             -- accepted | rejected
    municipalities json,                        -- codes the import names (accepted only)
    rows_loaded   integer not null default 0,
    error_count   integer not null default 0,
    errors        json                 -- capped {file,row,column,rule,message}; no values
);
"""
# An accepted import's periods: the contract's columns, behind the import they came with.
STORED: warehouse.Stored = {
    "approach_periods": (("import_id", "integer not null"), *warehouse.typed(APPROACH_COLUMNS))
}
SCHEMA += warehouse.create_tables(STORED)


def current_approach_sql(database: str = "", as_of: date | None = None) -> str:
    """Per municipality, the periods of the latest accepted import that names it.

    `database` names an attached warehouse (metrics reads it that way); `as_of` keeps only
    imports received on or before that day, so a publication can be reproduced.
    """
    prefix = f"{database}." if database else ""
    received = "" if as_of is None else f"and i.received_at < date '{as_of.isoformat()}' + 1"
    return f"""
    with accepted as (
        select import_id from {prefix}approach_imports i where i.status = 'accepted' {received}
    ),
    latest as (
        select municipality_code, max(import_id) as import_id
        from {prefix}approach_periods join accepted using (import_id)
        group by municipality_code
    )
    select p.* from {prefix}approach_periods p join latest using (municipality_code, import_id)
    """


@cache
def approach_model() -> Any:
    """The pandera schema of a profile row, derived from the contract (column rules; the
    cross-row rules are in `cross_row_issues`). Built on first use: pandera takes seconds to
    import, and the metrics layer reads profiles through this module without checking one."""
    from pipelines.schemas import approach_schema

    return approach_schema()


# (column, pandera check name prefix) -> rule
CHECK_RULES: dict[tuple[str, str], str] = {
    ("municipality_code", "isin"): "unknown_municipality",
    ("element", "isin"): "unknown_element",
    ("in_place_from", "greater_than_or_equal_to"): "date_before_2000",
    ("in_place_until", "greater_than_or_equal_to"): "date_before_2000",
    ("note", "str_length"): "note_too_long",
}


@dataclass
class ImportReport:
    """What happened to one profile file; `errors` is capped per rule, `error_counts` complete."""

    source: Path
    status: str  # accepted | rejected | already_loaded
    content_hash: str
    name: str  # the file's name as it may be shown (`pipelines.names`)
    import_id: int | None = None
    municipalities: list[str] = field(default_factory=list)
    rows: int = 0
    errors: list[Issue] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)
    # per municipality, what this file changes in its current profile (hgkm.intake)
    changes: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": printable(str(self.source.parent / self.name)),
            "name": self.name,
            "status": self.status,
            "content_hash": self.content_hash,
            "import_id": self.import_id,
            "municipalities": self.municipalities,
            "rows": self.rows,
            "error_total": sum(self.error_counts.values()),
            "error_counts": self.error_counts,
            "errors": [asdict(i) for i in self.errors],
            "changes": self.changes,
        }

    def render_text(self) -> str:
        head = STATUS_HEADINGS[self.status]
        lines = [f"{self.name}: {head}"]
        if self.status != "rejected":
            lines.append(
                f"  {self.rows} period(s) for {len(self.municipalities)} municipalit"
                f"{'y' if len(self.municipalities) == 1 else 'ies'}: "
                + ", ".join(self.municipalities)
            )
        for code, changes in self.changes.items():
            lines.append(f"  {code}: " + ("; ".join(changes) if changes else "no change"))
        lines.extend(error_lines(self.errors, self.error_counts))
        return "\n".join(lines)


def issue(file: str, row: int | None, column: str | None, rule: str, message: str = "") -> Issue:
    """An Issue of this contract: its own rules carry their fix, shared ones get report's."""
    return Issue(file, row, column, rule, message or FIXES.get(rule, ""))


def read_profiles(
    path: Path, data: bytes, shown: str, limits: Limits = DEFAULTS
) -> tuple[RawTable | None, list[Issue]]:
    """The file's bytes as text columns (normalised names, trimmed values, ROW numbers); a
    workbook is read in a child process (`isolated`), its sheet measured first."""
    if path.suffix.lower() == ".csv":
        return read_csv_bytes(STEM, shown, data, limits)
    try:
        outcome, frames = isolated.read_workbook(data, [STEM], limits, first_if_none=True)
    except isolated.ReaderFailed as exc:
        return None, [issue(shown, None, None, "unreadable_file", reader_failed("workbook", exc))]
    if not outcome.loaded:
        return None, [issue(shown, None, None, "unreadable_file")]
    # One sheet, or the one named after the table when the workbook holds more.
    ((sheet, loaded),) = outcome.loaded.items()
    position = outcome.sheets.index(sheet) + 1
    where = f"{shown} sheet {names.shown(sheet, f'#{position}')}"
    found = names.issues(sheet, f"{shown} sheet #{position}")
    if sheet not in frames:
        return None, [*found, over_limit(where, loaded, limits, "unreadable sheet")]
    table, issues = sheet_table(STEM, where, frames[sheet], loaded.header, limits)
    return table, [*found, *issues]


def parse_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """Parse the date columns (YYYY-MM-DD or DD-MM-YYYY); unparsable ones become null."""
    return frame.with_columns(
        pl.coalesce(
            pl.col(c).str.to_date("%Y-%m-%d", strict=False),
            pl.col(c).str.to_date("%d-%m-%Y", strict=False),
        ).alias(c)
        for c in DATE_COLUMNS
    )


def column_issues(table: RawTable) -> list[Issue]:
    """Missing, unexpected (a leak risk) columns: structural, nothing further is checked."""
    present = set(table.frame.columns) - {ROW}
    found = [
        issue(table.file, None, name, "missing_column")
        for name in COLUMN_NAMES
        if name not in present
    ]
    found += [
        issue(table.file, None, table.columns[name], "unexpected_column")
        for name in table.columns
        if name not in COLUMN_NAMES
    ]
    return found


def value_issues(table: RawTable, today: date) -> tuple[pl.DataFrame, list[Issue]]:
    """Row rules: personal data in text, required fields, dates, pandera's column checks and
    the cross-row rules. Returns the parsed frame (only meaningful when no issues)."""
    raw = table.frame.select(ROW, *COLUMN_NAMES)
    file = table.file
    found: list[Issue] = [
        issue(file, r, c, rule)
        for r, c, rule in guard.scan(raw, ROW, list(COLUMN_NAMES)).iter_rows()
    ]
    parsed = parse_dates(raw)
    required = [c.name for c in APPROACH_COLUMNS if c.required]
    for name in required:
        found += [issue(file, r, name, "required") for r in raw.filter(pl.col(name).is_null())[ROW]]
    for name in DATE_COLUMNS:
        bad = parsed.filter(pl.col(name).is_null() & raw[name].is_not_null())
        found += [issue(file, r, name, "date_format") for r in bad[ROW]]
        late = parsed.filter(pl.col(name) > today)
        found += [issue(file, r, name, "date_in_future") for r in late[ROW]]
    # Null required cells and unparsable dates are already reported; pandera checks the rest
    # (an unparsable date stands in as the earliest date so its row's other cells are checked).
    dated = pl.all_horizontal(parsed[c].is_not_null() | raw[c].is_null() for c in DATE_COLUMNS)
    complete = parsed.with_columns(dated.alias("dated")).filter(
        pl.all_horizontal(raw[c].is_not_null() for c in required)
    )
    checkable = complete.drop("dated").with_columns(
        pl.col(c).fill_null(EARLIEST_DATE) for c in required if c in DATE_COLUMNS
    )
    from pandera.errors import SchemaErrors

    try:
        approach_model().validate(checkable.drop(ROW), lazy=True)
    except SchemaErrors as exc:
        failures = exc.failure_cases.select("column", "check", "index").drop_nulls("index")
        rows = checkable[ROW].to_list()
        for column, check, index in failures.iter_rows():
            rule = next(
                (
                    r
                    for (col, prefix), r in CHECK_RULES.items()
                    if col == column and check.startswith(prefix)
                ),
                None,
            )
            if rule is None:
                raise  # a check without a rule is a bug in this module, not in the file
            found.append(issue(file, rows[index], column, rule))
    found += cross_row_issues(complete.filter(pl.col("dated")), file)
    return parsed, sorted(found, key=lambda i: (i.row or 0, i.column or "", i.rule))


def cross_row_issues(parsed: pl.DataFrame, file: str) -> list[Issue]:
    """until before from; overlapping periods of one element in one municipality.

    Periods are inclusive at both ends; an open end reaches into the future. Two periods
    overlap when each starts on or before the other's end; both rows are reported.
    """
    backwards = parsed.filter(pl.col("in_place_until") < pl.col("in_place_from"))
    found = [issue(file, r, "in_place_until", "until_before_from") for r in backwards[ROW]]
    periods = parsed.select(
        ROW,
        "municipality_code",
        "element",
        "in_place_from",
        pl.col("in_place_until").fill_null(date.max).alias("until"),
    )
    pairs = periods.join(periods, on=["municipality_code", "element"], suffix="_other").filter(
        (pl.col(ROW) != pl.col(f"{ROW}_other"))
        & (pl.col("in_place_from") <= pl.col("until_other"))
        & (pl.col("in_place_from_other") <= pl.col("until"))
    )
    found += [
        issue(file, r, "in_place_from", "overlapping_periods") for r in pairs[ROW].unique().sort()
    ]
    return found


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA)
    warehouse.add_missing_columns(con, STORED)
    con.execute(f"create or replace view current_approach as {current_approach_sql()}")


def import_profiles(
    con: duckdb.DuckDBPyConnection | None,
    path: Path,
    *,
    today: date | None = None,
    limits: Limits = DEFAULTS,
    dry_run: bool = False,
) -> ImportReport:
    """Check one profile file and, when it passes, store it in one transaction.

    A rejected file is recorded (hash, name, rule counts and capped errors) with no rows.
    Re-importing content already current for every municipality it names changes nothing.
    Raises files.Refused for a path that is not a regular file, or is larger than the limit.
    `dry_run`: check and compare only, recording nothing (`con` may then be read-only, or None
    when the warehouse cannot be read: nothing is compared).
    """
    if not dry_run:
        assert con is not None
        ensure_schema(con)
    data = files.read_bytes(path, limits.file_bytes)
    content_hash = hashlib.sha256(data).hexdigest()
    shown = names.shown(path.name, f"profile file {content_hash[:12]}")
    report = ImportReport(path, "rejected", content_hash, shown)
    today = today or date.today()
    table, issues = read_profiles(path, data, shown, limits)
    issues = names.issues(path.name, shown) + issues
    parsed = pl.DataFrame()
    if table is not None and not issues:
        issues = column_issues(table)
        if not issues:
            parsed, issues = value_issues(table, today)
            if not issues and parsed.is_empty():
                issues = [issue(table.file, None, None, "empty_file")]
    if issues:
        counts: dict[str, int] = {}
        for found in issues:
            counts[found.rule] = counts.get(found.rule, 0) + 1
        shown_per_rule: dict[str, int] = {}
        for found in issues:
            shown_per_rule[found.rule] = shown_per_rule.get(found.rule, 0) + 1
            if shown_per_rule[found.rule] <= ERRORS_SHOWN_PER_RULE:
                report.errors.append(found)
        report.error_counts = counts
        if not dry_run:
            assert con is not None
            report.import_id = record(con, report, pl.DataFrame())
        return report
    report.status = "accepted"
    report.rows = parsed.height
    report.municipalities = sorted(parsed["municipality_code"].unique().to_list())
    if con is None or not has_profiles(con):
        current = pl.DataFrame(schema={**APPROACH_SCHEMA, "import_id": pl.Int32()})
    else:
        current = current_profiles(con, report.municipalities)
    report.changes = {
        code: profile_changes(
            current.filter(pl.col("municipality_code") == code).to_dicts(),
            parsed.filter(pl.col("municipality_code") == code).to_dicts(),
        )
        for code in report.municipalities
    }
    if con is not None and has_profiles(con) and already_current(con, report):
        report.status = "already_loaded"
        return report
    if not dry_run:
        assert con is not None
        report.import_id = record(con, report, parsed.drop(ROW))
    return report


def already_current(con: duckdb.DuckDBPyConnection, report: ImportReport) -> bool:
    """Every municipality the file names takes its profile from an import of this content."""
    current = con.execute(
        """
        select distinct c.municipality_code from current_approach c
        join approach_imports i using (import_id) where i.content_hash = ?
        """,
        [report.content_hash],
    ).fetchall()
    return {code for (code,) in current} == set(report.municipalities)


def record(con: duckdb.DuckDBPyConnection, report: ImportReport, periods: pl.DataFrame) -> int:
    """Insert the import row and its periods in one transaction; returns the import id."""
    con.execute("begin transaction")
    try:
        row = con.execute(
            """
            insert into approach_imports (content_hash, source_name, received_at, status,
                municipalities, rows_loaded, error_count, errors)
            values (?, ?, ?, ?, ?, ?, ?, ?) returning import_id
            """,
            [
                report.content_hash,
                report.name,
                datetime.now(),
                report.status,
                json.dumps(report.municipalities),
                periods.height,
                sum(report.error_counts.values()),
                json.dumps([asdict(i) for i in report.errors]),
            ],
        ).fetchall()
        import_id = int(row[0][0])
        if not periods.is_empty():
            rows = periods.select(pl.lit(import_id).alias("import_id"), *COLUMN_NAMES)
            con.register("new_periods", rows)
            con.execute("insert into approach_periods by name select * from new_periods")
            con.unregister("new_periods")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return import_id


def current_profiles(
    con: duckdb.DuckDBPyConnection, municipalities: list[str] | None = None
) -> pl.DataFrame:
    """The current periods (with the import they came from), by municipality, element, from."""
    if not has_profiles(con):
        return pl.DataFrame(schema={**APPROACH_SCHEMA, "import_id": pl.Int32()})
    frame = con.sql(
        "select municipality_code, element, in_place_from, in_place_until, note, import_id "
        "from current_approach order by municipality_code, element, in_place_from"
    ).pl()
    if municipalities:
        frame = frame.filter(pl.col("municipality_code").is_in(municipalities))
    return frame


def has_profiles(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the approach tables exist (a warehouse that never imported a profile has none)."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_name = 'current_approach'"
    ).fetchall()
    return bool(found[0][0])
