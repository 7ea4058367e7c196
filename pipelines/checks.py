"""Check read deliveries against the contract: columns, types, pandera models, cross-table rules.

Many deliveries are checked as one batch: each table of every delivery is stacked with the
delivery's position in the batch (DELIVERY), so that each rule runs once per table over the
batch instead of once per delivery (the per-call cost of polars and pandera, not the data,
dominated a national ingest). Rules that compare rows (uniqueness, case joins) are scoped to
the delivery. All issues are collected in polars frames (table, file, row, column, rule), so a
delivery with a million broken rows costs no Python per row; only the capped list shown to
people becomes Issue objects.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import numpy as np
import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from hgkm.limits import DEFAULTS, Limits
from hgkm.reference import municipality_codes
from pipelines import guard
from pipelines.contract import (
    CONTRACT_VERSION,
    EARLIEST_DATE,
    FILES,
    MANIFEST_COLUMNS,
    MANIFEST_KEYS_OPTIONAL,
    MANIFEST_KEYS_REQUIRED,
    MUNICIPALITY_CODE_PATTERN,
    TABLES,
    Column,
)
from pipelines.read import ROW, Delivery, RawTable
from pipelines.report import (
    ERRORS_SHOWN_PER_RULE,
    RULES,
    WARNING_TEXTS,
    DeliveryWarning,
    Issue,
    is_structural,
)
from pipelines.schemas import CHECK_RULES, SCHEMAS

ISSUE_SCHEMA = {
    "table": pl.String,
    "file": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "rule": pl.String,
}
DELIVERY = "__delivery"  # a delivery's position in the batch being checked
BATCH_ISSUE_SCHEMA = {DELIVERY: pl.Int64, **ISSUE_SCHEMA}
RESTRAINING_ORDER_LEAD = timedelta(days=14)
# Rows of a batch table validated by the model at once (see `validate_batch`).
VALIDATE_ROWS = 500_000
# The guard takes one row key: delivery * _KEY_SHIFT + row (no file has 2**32 rows).
_KEY_SHIFT = 2**32
_GUARD_KEY = "__key"
_MANIFEST_KEYS_READ = (*MANIFEST_KEYS_REQUIRED, *MANIFEST_KEYS_OPTIONAL)


@dataclass
class ManifestInfo:
    """The manifest's values, each only when valid (an invalid value is never kept)."""

    municipality_code: str | None = None
    extract_date: date | None = None
    source_system: str | None = None


@dataclass
class CheckResult:
    """Typed contract tables (with ROW), every issue as a frame, warnings and the manifest."""

    tables: dict[str, pl.DataFrame]
    issues: pl.DataFrame
    warnings: list[DeliveryWarning]
    manifest: ManifestInfo
    formats: dict[str, dict[str, str]] = field(default_factory=dict)
    # Issues past `errors_per_rule` are only counted, by rule (the too_many_errors issue
    # says so), and the messages of issues whose message is their own (not the rule's fix).
    uncounted: dict[str, int] = field(default_factory=dict)
    messages: dict[tuple[str, int | None, str | None, str], str] = field(default_factory=dict)

    @property
    def structural(self) -> bool:
        rules = self.issues["rule"].unique().to_list()
        return any(is_structural(rule) for rule in rules)

    def error_counts(self) -> dict[str, int]:
        counts = dict(self.issues.group_by("rule").len().iter_rows())
        for rule, n in self.uncounted.items():
            counts[rule] = counts.get(rule, 0) + n
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    @property
    def error_total(self) -> int:
        return self.issues.height + sum(self.uncounted.values())

    def shown_issues(self) -> list[Issue]:
        """The issues to show, capped per rule: the delivery's own problems first, then each
        file in the contract's order (manifest, cases, ...), by row."""
        if self.issues.is_empty():
            return []
        order = pl.col("table").replace_strict(
            {name: i for i, name in enumerate(FILES)}, default=-1, return_dtype=pl.Int64
        )
        first = (
            self.issues.sort(order, "file", "row", "column", "rule", nulls_last=False)
            .with_columns(pl.int_range(pl.len()).over("rule").alias("_n"))
            .filter(pl.col("_n") < ERRORS_SHOWN_PER_RULE)
        )
        return [
            Issue(f, r, c, rule, self.messages.get((f, r, c, rule), ""))
            for f, r, c, rule in first.select("file", "row", "column", "rule").iter_rows()
        ]


def failed_result(file: str) -> CheckResult:
    """The result of a delivery whose checks failed in this program: rejected, nothing kept."""
    failed = pl.DataFrame(
        [(None, file, None, None, "internal_error")], schema=ISSUE_SCHEMA, orient="row"
    )
    return CheckResult({}, failed, [], ManifestInfo())


def _batch_issues(rows: list[tuple[int, str | None, Issue]]) -> pl.DataFrame:
    """(delivery, table, issue) triples as a frame with BATCH_ISSUE_SCHEMA."""
    return pl.DataFrame(
        [(d, table, i.file, i.row, i.column, i.rule) for d, table, i in rows],
        schema=BATCH_ISSUE_SCHEMA,
        orient="row",
    )


def _batch_frame(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(list(BATCH_ISSUE_SCHEMA)).cast(BATCH_ISSUE_SCHEMA)  # type: ignore[arg-type]


@dataclass
class _Names:
    """Where each delivery's table came from and how its columns are written there; and the
    issue frames, located by it, kept within `errors_per_rule`.

    Past that many issues of one rule in one column of a delivery's table, the lowest rows are
    kept (the report shows the first ones), the rest only counted (`uncounted`), and a
    too_many_errors issue rejects the delivery: a million broken rows cost a bounded amount of
    memory, not a frame row each. The cap applies before the issues are named, where they
    are cheapest.
    """

    files: pl.DataFrame  # DELIVERY, table, file
    shown: pl.DataFrame  # DELIVERY, table, column (normalised), shown (as in the file)
    limit: int = DEFAULTS.errors_per_rule
    uncounted: dict[int, Counter[str]] = field(default_factory=dict)
    # (DELIVERY, table, normalised column) -> [(rule, rows breaking it)] past the limit
    over: dict[tuple[int, str, str | None], list[tuple[str, int]]] = field(default_factory=dict)

    @classmethod
    def of(cls, deliveries: Sequence[Delivery], limit: int = DEFAULTS.errors_per_rule) -> _Names:
        files = [
            (i, name, raw.file) for i, d in enumerate(deliveries) for name, raw in d.tables.items()
        ]
        shown = [
            (i, name, column, written)
            for i, d in enumerate(deliveries)
            for name, raw in d.tables.items()
            for column, written in raw.columns.items()
        ]
        return cls(
            pl.DataFrame(
                files,
                schema={DELIVERY: pl.Int64, "table": pl.String, "file": pl.String},
                orient="row",
            ),
            pl.DataFrame(
                shown,
                schema={
                    DELIVERY: pl.Int64,
                    "table": pl.String,
                    "column": pl.String,
                    "shown": pl.String,
                },
                orient="row",
            ),
            limit,
        )

    def locate(self, found: pl.DataFrame) -> pl.DataFrame:
        """Findings (DELIVERY, table, row, normalised column, rule) named as in each file."""
        if found.height > self.limit:
            found = self._capped(found.drop("file", strict=False))
        return _batch_frame(
            found.drop("file", strict=False)
            .join(self.files, on=[DELIVERY, "table"], how="left")
            .join(self.shown, on=[DELIVERY, "table", "column"], how="left")
            .with_columns(pl.col("shown").alias("column"))
        )

    def _capped(self, found: pl.DataFrame) -> pl.DataFrame:
        keys = [DELIVERY, "table", "column", "rule"]
        over = found.group_by(keys).len().filter(pl.col("len") > self.limit)
        if over.is_empty():
            return found
        for delivery, table, column, rule, n in over.iter_rows():
            self.uncounted.setdefault(delivery, Counter())[rule] += n - self.limit
            self.over.setdefault((delivery, table, column), []).append((rule, n))
        flagged = over.select(
            DELIVERY,
            "table",
            pl.lit(None, dtype=pl.Int64).alias("row"),
            "column",
            pl.lit("too_many_errors").alias("rule"),
        )
        kept = found.filter(pl.col("row").rank("ordinal").over(keys) <= self.limit)
        return pl.concat([kept.select(flagged.columns), flagged.cast(kept.schema)])

    def messages(self, delivery: int) -> dict[tuple[str, int | None, str | None, str], str]:
        """The too_many_errors issues' own messages, keyed as `CheckResult.messages`."""
        if not any(i == delivery for i, _, _ in self.over):
            return {}
        files = dict(((i, table), file) for i, table, file in self.files.iter_rows())
        written = {(i, t, c): s for i, t, c, s in self.shown.iter_rows()}
        found: dict[tuple[str, int | None, str | None, str], str] = {}
        for (i, table, column), rules in self.over.items():
            if i != delivery:
                continue
            broken = "; ".join(f"{n:,} rows break {rule}" for rule, n in rules)
            key = (
                files[(i, table)],
                None,
                written.get((i, table, column), column),
                "too_many_errors",
            )
            found[key] = (
                f"{broken}: more than the {self.limit:,} recorded (limit errors_per_rule); the "
                "export itself must be fixed at the source"
            )
        return found


def check_delivery(delivery: Delivery, received_on: date, limits: Limits = DEFAULTS) -> CheckResult:
    """Every contract rule over a read delivery; the manifest's extract_date bounds all dates."""
    (result,) = check_deliveries([delivery], [received_on], limits)
    return result


def check_deliveries(
    deliveries: Sequence[Delivery], received_on: Sequence[date], limits: Limits = DEFAULTS
) -> list[CheckResult]:
    """check_delivery for each delivery (received on the day given beside it), as one batch.

    Each result is what checking its delivery alone gives: only the cost is shared.
    """
    names = _Names.of(deliveries, limits.errors_per_rule)
    parts = [
        _batch_issues([(i, None, issue) for i, d in enumerate(deliveries) for issue in d.issues])
    ]
    # The read issues that carry their own message (a limit's value, a link refused).
    messages: list[dict[tuple[str, int | None, str | None, str], str]] = [
        {
            (issue.file, issue.row, issue.column, issue.rule): issue.message
            for issue in d.issues
            if issue.message != RULES[issue.rule].fix
        }
        for d in deliveries
    ]
    formats: list[dict[str, dict[str, str]]] = [{} for _ in deliveries]
    manifests, manifest_issues = check_manifests(deliveries, received_on, names)
    parts.append(manifest_issues)
    for i, delivery in enumerate(deliveries):
        if "manifest" in delivery.tables:
            formats[i][delivery.tables["manifest"].file] = delivery.tables["manifest"].format
    typed: dict[str, pl.DataFrame] = {}
    typed_in: dict[str, list[int]] = {}
    for name, columns in TABLES.items():
        raws = {i: d.tables[name] for i, d in enumerate(deliveries) if name in d.tables}
        if not raws:
            continue
        batch, table_issues, date_formats, unparsed = type_tables(name, raws, columns, names)
        parts.append(table_issues)
        for i, raw in raws.items():
            found = date_formats.get(i)
            formats[i][raw.file] = raw.format | ({"dates": found} if found else {})
        if batch is not None:
            typed[name] = batch
            typed_in[name] = [i for i in raws if i in date_formats]
            parts.append(validate_batch(name, batch, names, unparsed))
    extracts = pl.DataFrame(
        {DELIVERY: range(len(deliveries)), "_extract": [m.extract_date for m in manifests]},
        schema={DELIVERY: pl.Int64, "_extract": pl.Date},
    )
    cross, row_warnings = cross_table_issues(typed, typed_in, extracts, names)
    parts.append(cross)
    issues = pl.concat(parts).unique(keep="first", maintain_order=True)
    warnings = table_warnings(typed, typed_in, row_warnings, names)
    by_delivery = _split(issues, len(deliveries))
    tables_by = {name: _slices(frame) for name, frame in typed.items()}
    # Made once: a polars call per delivery and table costs more than the slicing itself.
    no_rows = {name: frame.clear().drop(DELIVERY) for name, frame in typed.items()}
    no_issues = pl.DataFrame(schema=ISSUE_SCHEMA)
    return [
        CheckResult(
            {name: tables_by[name].get(i, no_rows[name]) for name in typed if i in typed_in[name]},
            by_delivery.get((i,), no_issues),
            warnings.get(i, []),
            manifests[i],
            formats[i],
            dict(names.uncounted.get(i, {})),
            messages[i] | names.messages(i),
        )
        for i in range(len(deliveries))
    ]


def _split(frame: pl.DataFrame, deliveries: int) -> dict[tuple[object, ...], pl.DataFrame]:
    """The batch's frame per delivery, keyed (DELIVERY,); a batch of one is not copied."""
    if deliveries == 1:
        return {(0,): frame.drop(DELIVERY)} if frame.height else {}
    return frame.partition_by(DELIVERY, as_dict=True, include_key=False)


def _slices(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """A frame ordered by DELIVERY per delivery, as slices of it (nothing is copied)."""
    keys = frame[DELIVERY].to_numpy()
    present = np.unique(keys)
    starts = np.searchsorted(keys, present, side="left")
    ends = np.searchsorted(keys, present, side="right")
    rest = frame.drop(DELIVERY)
    return {
        int(key): rest.slice(int(start), int(end - start))
        for key, start, end in zip(present, starts, ends, strict=True)
    }


def stacked(
    frames: Mapping[int, pl.DataFrame],
    columns: Sequence[str],
    key: str = DELIVERY,
    dtype: type[pl.DataType] = pl.Int64,
) -> pl.DataFrame:
    """The frames one under another, as `columns`, with each one's key (a delivery's position
    in the batch, or its id) in a first column `key`.

    Frames with the same columns (the usual case) are stacked first and selected from once:
    at a national ingest's thousands of files, each polars call counts.
    """
    parts = list(frames.values())
    if any(part.columns != parts[0].columns for part in parts):
        parts = [part.select(columns) for part in parts]
    keys = np.repeat(np.fromiter(frames, dtype=np.int64), [part.height for part in parts])
    return pl.concat(parts).select(columns).insert_column(0, pl.Series(key, keys, dtype=dtype))


def _keyed(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with the guard's one row key (delivery and row together)."""
    return frame.with_columns((pl.col(DELIVERY) * _KEY_SHIFT + pl.col(ROW)).alias(_GUARD_KEY))


def _unkeyed(found: pl.DataFrame, table: str) -> pl.DataFrame:
    """Guard findings on the row key back as (DELIVERY, table, row, column, rule)."""
    return found.select(
        (pl.col("row") // _KEY_SHIFT).alias(DELIVERY),
        pl.lit(table).alias("table"),
        (pl.col("row") % _KEY_SHIFT).alias("row"),
        "column",
        "rule",
    )


def check_manifests(
    deliveries: Sequence[Delivery], received_on: Sequence[date], names: _Names
) -> tuple[list[ManifestInfo], pl.DataFrame]:
    """Each delivery's manifest keys and values; every manifest problem is structural."""
    infos = [ManifestInfo() for _ in deliveries]
    problems: list[tuple[int, str | None, Issue]] = []
    raws: dict[int, RawTable] = {}
    for i, delivery in enumerate(deliveries):
        raw = delivery.tables.get("manifest")
        if raw is None:
            continue
        column_problems = _column_issues(raw, MANIFEST_COLUMNS)
        if column_problems:
            problems += [(i, "manifest", issue) for issue in column_problems]
        else:
            raws[i] = raw
    if not raws:
        return infos, _batch_issues(problems)
    frame = stacked({i: raw.frame for i, raw in raws.items()}, [ROW, "key", "value"])
    lowered = frame.with_columns(pl.col("key").str.to_lowercase())
    model_issues = (
        validate_batch("manifest", lowered, names, locate=False)
        .filter(pl.col("column") == "key")
        .with_columns(pl.lit("manifest_key").alias("rule"))
    )
    # Only the contract's keys reach Python (the last of each, as a dict keeps it), and a
    # manifest has a handful of rows.
    read = (
        lowered.filter(pl.col("key").is_in(_MANIFEST_KEYS_READ))
        .unique([DELIVERY, "key"], keep="last", maintain_order=True)
        .with_columns(_parse_date(pl.col("value")).alias("_date"))
    )
    values: dict[int, dict[str, tuple[str | None, int, date | None]]] = {i: {} for i in raws}
    for i, key, value, row, parsed in read.select(
        DELIVERY, "key", "value", ROW, "_date"
    ).iter_rows():
        values[i][key] = (value, row, parsed)
    personal = guard.scan(_keyed(frame), _GUARD_KEY, ["key", "value"]).pipe(_unkeyed, "manifest")
    leaky = set(personal[DELIVERY].to_list())
    for i, raw in raws.items():
        infos[i] = _manifest_info(i, raw, values[i], received_on[i], problems)
        if i not in leaky and values[i].get("source_system"):
            infos[i].source_system = values[i]["source_system"][0]
    return infos, pl.concat(
        [
            _batch_issues(problems),
            names.locate(model_issues.with_columns(pl.lit("manifest").alias("table"))),
            names.locate(personal),
        ]
    )


def _manifest_info(
    i: int,
    raw: RawTable,
    values: dict[str, tuple[str | None, int, date | None]],
    received_on: date,
    problems: list[tuple[int, str | None, Issue]],
) -> ManifestInfo:
    """One manifest's valid values; its problems are appended to `problems`."""
    info = ManifestInfo()
    value_column = raw.columns["value"]

    def bad(key: str, rule: str) -> None:
        problems.append((i, "manifest", Issue(raw.file, values[key][1], value_column, rule)))

    def value(key: str) -> str | None:
        return values[key][0] if key in values else None

    for key in MANIFEST_KEYS_REQUIRED:
        if value(key) is None:
            problems.append((i, "manifest", Issue(raw.file, None, key, "manifest_missing_key")))
    version = value("contract_version")
    if version is not None and version != CONTRACT_VERSION:
        bad("contract_version", "manifest_contract_version")
    code = value("municipality_code")
    if code is not None:
        code = code.upper()
        if re.fullmatch(MUNICIPALITY_CODE_PATTERN, code) and code in municipality_codes():
            info.municipality_code = code
        else:
            bad("municipality_code", "manifest_municipality")
    if value("extract_date") is not None:
        parsed = values["extract_date"][2]
        if parsed is not None and EARLIEST_DATE <= parsed <= received_on:
            info.extract_date = parsed
        else:
            bad("extract_date", "manifest_extract_date")
    return info


def _column_issues(raw: RawTable, expected: tuple[str, ...]) -> list[Issue]:
    missing = [Issue(raw.file, None, c, "missing_column") for c in expected if c not in raw.columns]
    extra = [
        Issue(raw.file, None, raw.columns[c], "unexpected_column")
        for c in raw.columns
        if c not in expected
    ]
    return missing + extra


def _parse_date(text: pl.Expr) -> pl.Expr:
    """YYYY-MM-DD, else DD-MM-YYYY (leading zeros optional); not a real date -> null."""
    return pl.coalesce(_to_date(text, "%Y-%m-%d"), _to_date(text, "%d-%m-%Y"))


def _to_date(text: pl.Expr | pl.Series, fmt: str) -> pl.Expr | pl.Series:
    """The text as a date in `fmt`; null where it is not one. polars' cache of parsed values
    costs more than it saves here (measured: benchmarks/findings.md)."""
    return text.str.to_date(fmt, strict=False, cache=False)


def type_tables(
    name: str, raws: dict[int, RawTable], columns: tuple[Column, ...], names: _Names
) -> tuple[pl.DataFrame | None, pl.DataFrame, dict[int, str | None], pl.DataFrame | None]:
    """Parse dates and normalise enums of one table over the batch.

    Returns the typed batch (DELIVERY, ROW and the contract's columns) of the deliveries whose
    columns are right, the issues (missing/extra columns, unparsable dates, personal data: the
    guard sees every value that is not a valid date or enum) and, per typed delivery, the date
    formats found (None when no date was filled in), and the date cells (DELIVERY, row,
    column) whose text is not a date.
    """
    contract = tuple(c.name for c in columns)
    parts = []
    good = []
    for i, raw in raws.items():
        problems = _column_issues(raw, contract)
        if not problems:
            good.append(i)
            continue
        # Without the right columns nothing else is checked, but the guard still looks at all.
        parts.append(_batch_issues([(i, name, issue) for issue in problems]))
        parts += [
            names.locate(
                guard.scan(part, ROW, list(raw.columns)).with_columns(
                    pl.lit(i, dtype=pl.Int64).alias(DELIVERY), pl.lit(name).alias("table")
                )
            )
            for part in _slices_of(raw.frame)
        ]
    if not good:
        return None, pl.concat([_batch_issues([]), *parts]), {}, None
    text = stacked({i: raws[i].frame for i in good}, [ROW, *contract])
    dates = [c.name for c in columns if c.kind == "date"]
    enums = {c.name: c.values for c in columns if c.kind == "enum"}
    iso = text.select(_to_date(pl.col(c), "%Y-%m-%d") for c in dates)
    # The second format is only tried on columns the first left unparsed (a whole column is
    # usually in one format).
    unparsed = (
        iso.select((pl.col(c).is_null() & text[c].is_not_null()).any() for c in dates).row(0)
        if dates
        else ()
    )
    parsed = iso.with_columns(
        pl.col(c).fill_null(_to_date(text[c], "%d-%m-%Y"))
        for c, needed in zip(dates, unparsed, strict=True)
        if needed
    )
    date_formats: dict[int, str | None] = {i: None for i in good}
    if dates:
        found = (
            pl.concat(
                [text.select(DELIVERY), iso.rename(lambda c: f"iso_{c}"), parsed], how="horizontal"
            )
            .select(
                DELIVERY,
                pl.any_horizontal(pl.col(f"iso_{c}").is_not_null() for c in dates).alias("iso"),
                pl.any_horizontal(
                    pl.col(c).is_not_null() & pl.col(f"iso_{c}").is_null() for c in dates
                ).alias("dmy"),
            )
            .group_by(DELIVERY)
            .agg(pl.col("iso").any(), pl.col("dmy").any())
        )
        for i, has_iso, has_dmy in found.iter_rows():
            shown = [f for f, has in (("YYYY-MM-DD", has_iso), ("DD-MM-YYYY", has_dmy)) if has]
            date_formats[i] = " and ".join(shown) or None
    # Enum values arrive in lower case as a rule: only a column holding another value is
    # lowered (and guarded below), the others are valid as they are.
    valid = (
        text.select(pl.col(c).is_in(values).all() for c, values in enums.items()).row(0)
        if enums
        else ()
    )
    lowered = [c for c, all_valid in zip(enums, valid, strict=True) if not all_valid]
    typed = text.with_columns(
        *(parsed[c] for c in dates), *(pl.col(c).str.to_lowercase() for c in lowered)
    )
    unparsed_cells = _unparsed_dates(text, typed, dates)
    bad_dates = unparsed_cells.with_columns(
        pl.lit(name).alias("table"), pl.lit("date_format").alias("rule")
    )
    # Valid dates and enum values cannot carry personal data: blank them before the guard.
    guarded = text.with_columns(
        *(pl.when(typed[c].is_null()).then(pl.col(c)).alias(c) for c in dates),
        *(pl.when(~typed[c].is_in(enums[c])).then(pl.col(c)).alias(c) for c in lowered),
        *(pl.lit(None, dtype=pl.String).alias(c) for c in enums if c not in lowered),
    )
    # In slices, as the model validates: a table of candidates holds one slice's at a time.
    candidates = [
        names.locate(guard.scan(_keyed(part), _GUARD_KEY, list(contract)).pipe(_unkeyed, name))
        for part in _slices_of(guarded)
    ]
    issues = pl.concat([*parts, names.locate(bad_dates), *candidates])
    return typed, issues, date_formats, unparsed_cells


def _slices_of(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """The frame in slices of VALIDATE_ROWS (one, as a rule; none are copied)."""
    return [
        frame.slice(start, VALIDATE_ROWS) for start in range(0, max(frame.height, 1), VALIDATE_ROWS)
    ]


@cache
def _batch_schema(name: str) -> pa.DataFrameSchema:
    """The table's pandera schema without its uniqueness checks, which hold per delivery."""
    schema = SCHEMAS[name]
    unique = [column for column, spec in schema.columns.items() if spec.unique]
    return schema.update_columns({column: {"unique": False} for column in unique})


def _unique_columns(name: str) -> list[str]:
    return [c for c, spec in SCHEMAS[name].columns.items() if spec.unique]


def validate_batch(
    name: str,
    typed: pl.DataFrame,
    names: _Names,
    unparsed: pl.DataFrame | None = None,
    *,
    locate: bool = True,
) -> pl.DataFrame:
    """The table's pandera model over the collected batch; failures as value-free issues.

    Uniqueness is judged within each delivery (pandera's own check would compare deliveries):
    like pandera's, every copy of a repeated value (a missing one included) is reported.
    `unparsed` (DELIVERY, row, column) are date cells whose text was not a date. A batch table
    longer than VALIDATE_ROWS is validated in slices of it (the model's rules are per row), so
    a table whose every cell fails holds one slice's failures at a time; a national batch's
    tables are shorter.
    """
    schema = _batch_schema(name)
    contract = list(schema.columns)
    duplicates = [
        typed.filter(pl.col(c).is_duplicated().over(DELIVERY)).select(
            DELIVERY,
            pl.col(ROW).alias("row"),
            pl.lit(c).alias("column"),
            pl.lit("unique").alias("rule"),
        )
        for c in _unique_columns(name)
    ]
    slices = _slices_of(typed)
    # Each slice's failures named (and capped) before the next slice is validated; one slice
    # (a national batch) is named once, with the duplicates.
    found = [
        _model_issues(
            name, schema, contract, part, [*duplicates] if len(slices) == 1 else [], unparsed
        )
        for part in slices
    ]
    if len(slices) > 1:
        found.append(
            pl.concat([found[0].clear().drop("table"), *duplicates]).with_columns(
                pl.lit(name).alias("table")
            )
        )
    return pl.concat([names.locate(part) if locate else part for part in found])


def _model_issues(
    name: str,
    schema: pa.DataFrameSchema,
    contract: list[str],
    part: pl.DataFrame,
    duplicates: list[pl.DataFrame],
    unparsed: pl.DataFrame | None,
) -> pl.DataFrame:
    """The model's failures on one slice of the batch table (with `duplicates`), unnamed."""
    rows = part.select(pl.col(DELIVERY), pl.col(ROW).alias("row")).with_row_index("index")
    found = (
        _model_failures(schema, part.select(contract))
        .with_columns(
            pl.col("check").str.extract(r"^([a-z_]+)").replace_strict(CHECK_RULES).alias("rule"),
            pl.col("index").cast(pl.UInt32),
        )
        # A failure without a row (the frame's schema) is the same for every delivery.
        .join(rows, on="index", how="left")
        .select(DELIVERY, "row", "column", "rule")
    )
    if found[DELIVERY].has_nulls():
        every = rows.select(DELIVERY).unique()
        schema_level = (
            found.filter(pl.col(DELIVERY).is_null()).drop(DELIVERY).join(every, how="cross")
        )
        found = pl.concat(
            [found.filter(pl.col(DELIVERY).is_not_null()), schema_level.select(found.columns)]
        )
    found = pl.concat([found.cast({DELIVERY: pl.Int64, "row": pl.Int64}), *duplicates])
    if unparsed is not None:
        # An unparsable required date is reported as date_format, not also as required.
        blank = unparsed.with_columns(pl.lit("required").alias("rule"))
        found = found.join(blank, on=[DELIVERY, "row", "column", "rule"], how="anti")
    return found.with_columns(pl.lit(name).alias("table"))


def _model_failures(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """(column, check, index) of every cell the model rejects; never the value."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        # failure_case holds the offending values: select everything but it, straight away.
        return exc.failure_cases.select("column", "check", "index")
    return pl.DataFrame(schema={"column": pl.String, "check": pl.String, "index": pl.Int64})


def _unparsed_dates(text: pl.DataFrame, typed: pl.DataFrame, dates: list[str]) -> pl.DataFrame:
    """(DELIVERY, row, column) of every date cell holding text that is not a date."""
    return pl.concat(
        [
            pl.DataFrame(schema={DELIVERY: pl.Int64, "row": pl.Int64, "column": pl.String}),
            *(
                typed.filter(pl.col(c).is_null() & text[c].is_not_null()).select(
                    DELIVERY, pl.col(ROW).alias("row"), pl.lit(c).alias("column")
                )
                for c in dates
            ),
        ]
    )


def cross_table_rules() -> dict[str, list[tuple[str, str, pl.Expr]]]:
    """Per table: (column, rule, expression true on a row breaking it), on the joined frames.

    `_known`/`_case_date` come from the case of the row, `_kid` from the child of a help row,
    `_extract` is the delivery's extract_date (null when the manifest gave none).
    """
    unknown = pl.col("case_id").is_not_null() & pl.col("_known").is_null()
    rd, case_date = pl.col("report_date"), pl.col("_case_date")
    is_child = pl.col("recipient") == "child"
    rules: dict[str, list[tuple[str, str, pl.Expr]]] = {
        "cases": [
            (
                "restraining_order_date",
                "restraining_order_too_early",
                pl.col("restraining_order_date") < rd - RESTRAINING_ORDER_LEAD,
            ),
            ("coordinator_date", "coordinator_before_report", pl.col("coordinator_date") < rd),
            ("closed_date", "closed_before_report", pl.col("closed_date") < rd),
        ],
        "reports": [
            ("case_id", "unknown_case", unknown),
            ("report_date", "report_before_index", rd < case_date),
        ],
        "children": [("case_id", "unknown_case", unknown)],
        "help": [
            ("case_id", "unknown_case", unknown),
            ("child_id", "child_id_required", is_child & pl.col("child_id").is_null()),
            ("child_id", "child_id_not_allowed", ~is_child & pl.col("child_id").is_not_null()),
            (
                "child_id",
                "child_of_other_case",
                is_child & pl.col("child_id").is_not_null() & pl.col("_kid").is_null(),
            ),
            (
                "end_date",
                "end_without_start",
                pl.col("end_date").is_not_null() & pl.col("start_date").is_null(),
            ),
            ("end_date", "end_before_start", pl.col("end_date") < pl.col("start_date")),
            # Not an error: counted as the help_before_report warning.
            ("offered_date", "help_before_report", pl.col("offered_date") < case_date),
        ],
        "followups": [
            ("case_id", "unknown_case", unknown),
            ("followup_date", "followup_not_after_report", pl.col("followup_date") <= case_date),
        ],
    }
    for name in rules:
        rules[name] += [
            (c.name, "date_after_extract", pl.col(c.name) > pl.col("_extract"))
            for c in TABLES[name]
            if c.kind == "date"
        ]
    return rules


def cross_table_issues(
    tables: dict[str, pl.DataFrame],
    typed_in: dict[str, list[int]],
    extracts: pl.DataFrame,
    names: _Names,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rules between rows and tables, within each delivery: one left join per table, then one
    pass of row flags.

    Returns the issues and the counts (DELIVERY, rule, len) of the row-level warnings found.
    """
    lazy = {
        name: frame.lazy().join(extracts.lazy(), on=DELIVERY, how="left")
        for name, frame in tables.items()
    }
    # A delivery without typed cases (or children) has nothing to judge its rows against
    # (the missing file or column rejects it anyway): its rows count as known.
    without_cases = ~pl.col(DELIVERY).is_in(typed_in.get("cases", []))
    index = (
        tables["cases"]
        .lazy()
        .filter(pl.col("case_id").is_not_null())
        .unique([DELIVERY, "case_id"], keep="first")
        .select(
            DELIVERY,
            "case_id",
            pl.col("report_date").alias("_case_date"),
            pl.lit(True).alias("_known"),
        )
        # Collected once: four tables join it (a lazy one is computed again for each).
        .collect()
        .lazy()
        if "cases" in tables
        else pl.LazyFrame(
            schema={
                DELIVERY: pl.Int64,
                "case_id": pl.String,
                "_case_date": pl.Date,
                "_known": pl.Boolean,
            }
        )
    )
    for name in ("reports", "children", "help", "followups"):
        if name in lazy:
            lazy[name] = (
                lazy[name]
                .join(index, on=[DELIVERY, "case_id"], how="left")
                .with_columns(
                    pl.when(without_cases).then(True).otherwise(pl.col("_known")).alias("_known")
                )
            )
    if "help" in lazy:
        kids = (
            tables["children"]
            .lazy()
            .select(DELIVERY, "case_id", "child_id", pl.lit(True).alias("_kid"))
            .drop_nulls(["case_id", "child_id"])
            .unique([DELIVERY, "case_id", "child_id"])
            if "children" in tables
            else pl.LazyFrame(
                schema={
                    DELIVERY: pl.Int64,
                    "case_id": pl.String,
                    "child_id": pl.String,
                    "_kid": pl.Boolean,
                }
            )
        )
        without_children = ~pl.col(DELIVERY).is_in(typed_in.get("children", []))
        lazy["help"] = (
            lazy["help"]
            .join(kids, on=[DELIVERY, "case_id", "child_id"], how="left")
            .with_columns(
                pl.when(without_children).then(True).otherwise(pl.col("_kid")).alias("_kid")
            )
        )
    rules = cross_table_rules()
    plans = []
    for name, frame in lazy.items():
        flags = [
            expr.fill_null(False).alias(f"{rule}|{column}") for column, rule, expr in rules[name]
        ]
        plans.append(
            frame.select(DELIVERY, pl.col(ROW).alias("row"), *flags)
            # Broken rows are few: only they are turned into one row per flag.
            .filter(pl.any_horizontal(flag.meta.output_name() for flag in flags))
            .unpivot(index=[DELIVERY, "row"], variable_name="flag", value_name="broken")
            .filter(pl.col("broken"))
            .select(
                DELIVERY,
                pl.lit(name).alias("table"),
                "row",
                pl.col("flag").str.split_exact("|", 1).struct.field("field_1").alias("column"),
                pl.col("flag").str.split_exact("|", 1).struct.field("field_0").alias("rule"),
            )
        )
    found = pl.concat(
        [
            pl.DataFrame(schema={k: v for k, v in BATCH_ISSUE_SCHEMA.items() if k != "file"}),
            *pl.collect_all(plans),
        ]
    )
    warned = pl.col("rule").is_in(list(WARNING_TEXTS))
    counts = found.filter(warned).group_by(DELIVERY, "rule").len()
    return names.locate(found.filter(~warned)), counts


def table_warnings(
    tables: dict[str, pl.DataFrame],
    typed_in: dict[str, list[int]],
    row_warnings: pl.DataFrame,
    names: _Names,
) -> dict[int, list[DeliveryWarning]]:
    """Per delivery, the findings worth a look that do not block it."""
    files = dict(((i, table), file) for i, table, file in names.files.iter_rows())
    warnings: dict[int, list[DeliveryWarning]] = {}
    for i, count in (
        row_warnings.filter(pl.col("rule") == "help_before_report")
        .select(DELIVERY, "len")
        .iter_rows()
    ):
        warnings.setdefault(i, []).append(
            DeliveryWarning("help_before_report", files[(i, "help")], count)
        )
    if all(name in tables for name in ("cases", "help", "children")):
        complete = set(typed_in["cases"]) & set(typed_in["help"]) & set(typed_in["children"])
        keys = [DELIVERY, "case_id"]
        lonely = (
            tables["children"]
            .lazy()
            .filter(pl.col(DELIVERY).is_in(list(complete)))
            .select(keys)
            .unique()
            .join(tables["help"].lazy().select(keys).unique(), on=keys, how="anti")
            .join(tables["cases"].lazy().select(keys), on=keys, how="semi")
            .group_by(DELIVERY)
            .len()
            .sort(DELIVERY)
            .collect()
        )
        for i, count in lonely.iter_rows():
            warnings.setdefault(i, []).append(
                DeliveryWarning("children_without_help", files[(i, "cases")], count)
            )
    return warnings


def drop_invalid_rows(
    result: CheckResult,
) -> tuple[dict[str, pl.DataFrame], dict[str, dict[str, int]]]:
    """The tables without rows that broke a rule, nor rows of dropped cases or children.

    Each dropped row counts once, under the first rule it broke (by the rule's name);
    rows dropped only because their case or child was dropped count as case_dropped /
    child_dropped. Only valid for a result without structural issues.
    """
    first_rule = (
        result.issues.filter(pl.col("table").is_not_null())
        .sort("rule")
        .unique(["table", "row"], keep="first")
    )
    kept: dict[str, pl.DataFrame] = {}
    dropped: list[pl.DataFrame] = [first_rule.select("table", "rule")]
    for name, frame in result.tables.items():
        bad = first_rule.filter(pl.col("table") == name).select(pl.col("row").alias(ROW))
        kept[name] = frame.join(bad, on=ROW, how="anti")
    if "cases" in kept:
        case_ids = kept["cases"].select("case_id")
        for name in ("reports", "children", "help", "followups"):
            if name in kept:
                orphans = kept[name].join(case_ids, on="case_id", how="anti")
                dropped.append(_dropped_as(orphans, name, "case_dropped"))
                kept[name] = kept[name].join(case_ids, on="case_id", how="semi")
    if "help" in kept and "children" in kept:
        kids = kept["children"].select("case_id", "child_id")
        for_child = pl.col("recipient") == "child"
        orphans = kept["help"].filter(for_child).join(kids, on=["case_id", "child_id"], how="anti")
        dropped.append(_dropped_as(orphans, "help", "child_dropped"))
        kept["help"] = kept["help"].join(orphans.select(ROW), on=ROW, how="anti")
    counts = pl.concat(dropped).group_by("table", "rule").len().sort("table", "rule")
    summary: dict[str, dict[str, int]] = {}
    for table, rule, n in counts.iter_rows():
        summary.setdefault(table, {})[rule] = n
    return kept, summary


def _dropped_as(rows: pl.DataFrame, table: str, rule: str) -> pl.DataFrame:
    # Select a real column first: a select of literals alone would yield one row.
    return rows.select(pl.lit(table).alias("table"), pl.lit(rule).alias("rule"), ROW).drop(ROW)
