"""The analyst's alternative: the export contract checked with pandas and pandera's pandas backend.

What a capable analyst would write without this project: read each delivery's CSVs with
pandas, validate every table with a pandera schema derived from `pipelines.contract` (strict
columns, pseudonym pattern, enums, required fields, unique keys, date parsing and range),
check the rules between tables with pandas merges, scan the text for personal data with the
same patterns as `pipelines.guard`, then load the delivery into DuckDB in one transaction.
It checks the plain form the benchmark generates (UTF-8, `,`, ISO or DD-MM-YYYY dates).
It counts errors and never prints a value; a delivery with any error is not loaded.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as pa

from pipelines.contract import EARLIEST_DATE, PSEUDONYM_PATTERN, TABLES, Column
from pipelines.guard import BSN, EMAIL, IBAN, PHONE, POSTCODE

BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def _schema(table: str) -> pa.DataFrameSchema:
    """Column checks on the text as read (dates are parsed and checked separately)."""
    columns = {}
    for column in TABLES[table]:
        checks = []
        if column.kind == "pseudonym":
            checks.append(pa.Check.str_matches(PSEUDONYM_PATTERN))
        elif column.kind == "enum":
            checks.append(pa.Check.isin(column.values))
        columns[column.name] = pa.Column(
            str, checks=checks, nullable=not column.required, unique=column.unique
        )
    return pa.DataFrameSchema(columns, strict=True)


SCHEMAS = {table: _schema(table) for table in TABLES}


def _read(path: Path, columns: tuple[Column, ...]) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    frame.columns = [c.strip().lower() for c in frame.columns]
    for column in columns:
        if column.kind == "enum" and column.name in frame:
            frame[column.name] = frame[column.name].str.strip().str.lower()
    return frame


def _parse_date(text: pd.Series) -> pd.Series:
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    dutch = pd.to_datetime(text, format="%d-%m-%Y", errors="coerce")
    return iso.fillna(dutch)


def _date_errors(frame: pd.DataFrame, columns: tuple[Column, ...], extract: date) -> int:
    """Parse the date columns in place; count unparsable and out-of-range values."""
    errors = 0
    low, high = pd.Timestamp(EARLIEST_DATE), pd.Timestamp(extract)
    for column in (c for c in columns if c.kind == "date" and c.name in frame):
        raw = frame[column.name]
        parsed = _parse_date(raw)
        errors += int((raw.notna() & parsed.isna()).sum())
        errors += int(((parsed < low) | (parsed > high)).sum())
        frame[column.name] = parsed
    return errors


def _bsn_valid(candidates: pd.Series) -> pd.Series:
    digits = candidates.str.replace(r"[. ]", "", regex=True)
    nine = digits.str.fullmatch(r"[0-9]{9}").fillna(False)
    padded = digits.where(nine, "000000000")
    total = sum(padded.str[i].astype(int) * w for i, w in enumerate(BSN_WEIGHTS))
    return nine & (total % 11 == 0) & (total != 0)


def _personal_data(frame: pd.DataFrame) -> int:
    """Cells that look like an e-mail, phone, postcode or a BSN passing the eleven-test.

    IBAN candidates are counted by pattern alone: with pseudonym-shaped text none occur, and
    the mod-97 arithmetic would only add cost to the baseline.
    """
    found = 0
    for name in frame.columns:
        values = frame[name].dropna().astype(str)
        if values.empty:
            continue
        hit = pd.Series(False, index=values.index)
        for pattern in (EMAIL, PHONE, POSTCODE, IBAN):
            hit |= values.str.contains(pattern, regex=True)
        bsn = values.str.extract(f"({BSN})", expand=False).dropna()
        if not bsn.empty:
            hit.loc[bsn.index] |= _bsn_valid(bsn)
        found += int(hit.sum())
    return found


def _cross_errors(t: dict[str, pd.DataFrame]) -> int:
    """The rules between tables and within rows: keys, date order, child help."""
    cases = t["cases"].set_index("case_id")
    errors = 0
    for name in ("reports", "children", "help", "followups"):
        errors += int((~t[name]["case_id"].isin(cases.index)).sum())
    report = cases["report_date"]
    c = t["cases"]
    errors += int((c["restraining_order_date"] < c["report_date"] - pd.Timedelta(days=14)).sum())
    errors += int((c["coordinator_date"] < c["report_date"]).sum())
    errors += int((c["closed_date"] < c["report_date"]).sum())
    r = t["reports"]
    errors += int((r["report_date"] < r["case_id"].map(report)).sum())
    f = t["followups"]
    errors += int((f["followup_date"] <= f["case_id"].map(report)).sum())
    h = t["help"]
    is_child = h["recipient"] == "child"
    errors += int((is_child & h["child_id"].isna()).sum())
    errors += int((~is_child & h["child_id"].notna()).sum())
    child_case = t["children"].set_index("child_id")["case_id"]
    with_child = h[is_child & h["child_id"].notna()]
    errors += int((with_child["child_id"].map(child_case) != with_child["case_id"]).sum())
    errors += int((h["end_date"] < h["start_date"]).sum())
    errors += int((h["end_date"].notna() & h["start_date"].isna()).sum())
    return errors


def _warnings(t: dict[str, pd.DataFrame]) -> int:
    report = t["cases"].set_index("case_id")["report_date"]
    h = t["help"]
    early = int((h["offered_date"] < h["case_id"].map(report)).sum())
    without_help = ~t["children"]["case_id"].drop_duplicates().isin(h["case_id"])
    return early + int(without_help.sum())


def check(delivery: Path) -> tuple[dict[str, pd.DataFrame], str, int, int]:
    """The delivery's typed tables, municipality code, error count and warning count."""
    manifest = dict(pd.read_csv(delivery / "manifest.csv", dtype=str).itertuples(index=False))
    extract = _parse_date(pd.Series([manifest.get("extract_date")]))[0].date()
    tables: dict[str, pd.DataFrame] = {}
    errors = 0
    for table, columns in TABLES.items():
        frame = _read(delivery / f"{table}.csv", columns)
        errors += _personal_data(frame)
        try:
            SCHEMAS[table].validate(frame, lazy=True)
        except pa.errors.SchemaErrors as failed:
            errors += len(failed.failure_cases)  # counted, never shown: they hold values
        errors += _date_errors(frame, columns, extract)
        tables[table] = frame
    errors += _cross_errors(tables)
    return tables, manifest["municipality_code"], errors, _warnings(tables)


def check_and_load(database: Path, deliveries: list[Path]) -> dict[str, int]:
    """Check every delivery and load the clean ones; returns counts of rows, errors, warnings."""
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    totals = dict.fromkeys(TABLES, 0) | {"errors": 0, "warnings": 0, "rejected": 0}
    try:
        for delivery_id, delivery in enumerate(deliveries, 1):
            tables, _, errors, warnings = check(delivery)
            totals["errors"] += errors
            totals["warnings"] += warnings
            if errors:
                totals["rejected"] += 1
                continue
            con.execute("begin")
            for table, frame in tables.items():
                con.register("frame", frame)
                con.execute(
                    f"create table if not exists {table} as "
                    f"select {delivery_id} as delivery_id, * from frame limit 0"
                )
                con.execute(f"insert into {table} select {delivery_id}, * from frame")
                con.unregister("frame")
                totals[table] += len(frame)
            con.execute("commit")
        return totals
    finally:
        con.close()
