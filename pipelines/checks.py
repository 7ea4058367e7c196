"""Check a read delivery against the contract: columns, types, pandera models, cross-table rules.

All issues are collected in one polars frame (table, file, row, column, rule) so that a
delivery with a million broken rows costs no Python per row; only the capped list shown to
people becomes Issue objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl
from pandera.errors import SchemaErrors

from hgkm.reference import municipality_codes
from pipelines import guard
from pipelines.contract import (
    CONTRACT_VERSION,
    EARLIEST_DATE,
    FILES,
    MANIFEST_COLUMNS,
    MANIFEST_KEYS_REQUIRED,
    MUNICIPALITY_CODE_PATTERN,
    TABLES,
    Column,
)
from pipelines.read import ROW, Delivery, RawTable
from pipelines.report import (
    ERRORS_SHOWN_PER_RULE,
    WARNING_TEXTS,
    DeliveryWarning,
    Issue,
    is_structural,
)
from pipelines.schemas import CHECK_RULES, MODELS

ISSUE_SCHEMA = {
    "table": pl.String,
    "file": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "rule": pl.String,
}
RESTRAINING_ORDER_LEAD = timedelta(days=14)


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

    @property
    def structural(self) -> bool:
        rules = self.issues["rule"].unique().to_list()
        return any(is_structural(rule) for rule in rules)

    def error_counts(self) -> dict[str, int]:
        counts = self.issues.group_by("rule").len().sort("len", "rule", descending=[True, False])
        return dict(zip(counts["rule"], counts["len"], strict=True))

    def shown_issues(self) -> list[Issue]:
        """The issues to show, capped per rule: the delivery's own problems first, then each
        file in the contract's order (manifest, cases, ...), by row."""
        order = pl.col("table").replace_strict(
            {name: i for i, name in enumerate(FILES)}, default=-1, return_dtype=pl.Int64
        )
        first = (
            self.issues.sort(order, "file", "row", "column", "rule", nulls_last=False)
            .with_columns(pl.int_range(pl.len()).over("rule").alias("_n"))
            .filter(pl.col("_n") < ERRORS_SHOWN_PER_RULE)
        )
        return [
            Issue(file=f, row=r, column=c, rule=rule)
            for f, r, c, rule in first.select("file", "row", "column", "rule").iter_rows()
        ]


def issues_frame(rows: pl.DataFrame | list[Issue], table: str | None = None) -> pl.DataFrame:
    """Issues as a frame with ISSUE_SCHEMA."""
    if isinstance(rows, list):
        return pl.DataFrame(
            [(table, i.file, i.row, i.column, i.rule) for i in rows],
            schema=ISSUE_SCHEMA,
            orient="row",
        )
    return rows.select(list(ISSUE_SCHEMA)).cast(ISSUE_SCHEMA)  # type: ignore[arg-type]


def check_delivery(delivery: Delivery, received_on: date) -> CheckResult:
    """Every contract rule over a read delivery; the manifest's extract_date bounds all dates."""
    parts = [issues_frame(delivery.issues)]
    formats: dict[str, dict[str, str]] = {}
    manifest = ManifestInfo()
    if "manifest" in delivery.tables:
        manifest, manifest_issues = check_manifest(delivery.tables["manifest"], received_on)
        parts.append(manifest_issues)
        formats[delivery.tables["manifest"].file] = delivery.tables["manifest"].format
    tables: dict[str, pl.DataFrame] = {}
    for name, columns in TABLES.items():
        raw = delivery.tables.get(name)
        if raw is None:
            continue
        typed, table_issues, date_format = type_table(raw, columns)
        parts.append(table_issues)
        formats[raw.file] = raw.format | ({"dates": date_format} if date_format else {})
        if typed is not None:
            tables[name] = typed
            parts.append(validate_model(raw, typed))
    files = {name: raw.file for name, raw in delivery.tables.items()}
    cross, row_warnings = cross_table_issues(tables, files, manifest.extract_date, delivery.tables)
    parts.append(cross)
    issues = pl.concat(parts).unique(keep="first", maintain_order=True)
    warnings = table_warnings(tables, files, row_warnings)
    return CheckResult(tables, issues, warnings, manifest, formats)


def check_manifest(raw: RawTable, received_on: date) -> tuple[ManifestInfo, pl.DataFrame]:
    """The manifest's keys and values; every manifest problem is structural."""
    problems = _column_issues(raw, MANIFEST_COLUMNS)
    info = ManifestInfo()
    if problems:
        return info, issues_frame(problems, "manifest")
    frame = raw.frame.with_columns(pl.col("key").str.to_lowercase())
    model_issues = validate_model(raw, frame).with_columns(pl.lit("manifest_key").alias("rule"))
    model_issues = model_issues.filter(pl.col("column") == raw.columns["key"])
    # Only the contract's keys reach Python, and a manifest has a handful of rows.
    values = {
        key: value
        for key, value in frame.select("key", "value").iter_rows()
        if key in (*MANIFEST_KEYS_REQUIRED, "source_system")
    }
    value_column = raw.columns["value"]
    rows = dict(zip(frame["key"], frame[ROW], strict=True))

    def bad(key: str, rule: str) -> Issue:
        return Issue(raw.file, rows.get(key), value_column, rule)

    for key in MANIFEST_KEYS_REQUIRED:
        if values.get(key) is None:
            problems.append(Issue(raw.file, None, key, "manifest_missing_key"))
    if (
        values.get("contract_version") is not None
        and values["contract_version"] != CONTRACT_VERSION
    ):
        problems.append(bad("contract_version", "manifest_contract_version"))
    code = values.get("municipality_code")
    if code is not None:
        code = code.upper()
        if re.fullmatch(MUNICIPALITY_CODE_PATTERN, code) and code in municipality_codes():
            info.municipality_code = code
        else:
            problems.append(bad("municipality_code", "manifest_municipality"))
    if values.get("extract_date") is not None:
        parsed = pl.select(_parse_date(pl.lit(values["extract_date"]))).item()
        if parsed is not None and EARLIEST_DATE <= parsed <= received_on:
            info.extract_date = parsed
        else:
            problems.append(bad("extract_date", "manifest_extract_date"))
    personal = guard.scan(raw.frame, ROW, ["key", "value"])
    if personal.is_empty():
        info.source_system = values.get("source_system")
    return info, pl.concat(
        [
            issues_frame(problems, "manifest"),
            model_issues,
            _located(personal, raw),
        ]
    )


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
    return pl.coalesce(
        text.str.to_date("%Y-%m-%d", strict=False), text.str.to_date("%d-%m-%Y", strict=False)
    )


def _parse_date_column(text: pl.Series) -> tuple[pl.Series, list[str]]:
    """The column as dates and the formats found in it; the second format is only tried on the
    values the first did not parse (a whole column is usually in one format)."""
    iso = text.str.to_date("%Y-%m-%d", strict=False)
    unparsed = iso.is_null() & text.is_not_null()
    found = ["YYYY-MM-DD"] if iso.null_count() < iso.len() else []
    if not unparsed.any():
        return iso, found
    dmy = text.str.to_date("%d-%m-%Y", strict=False)
    if (dmy.is_not_null() & unparsed).any():
        found.append("DD-MM-YYYY")
    return iso.fill_null(dmy), found


def type_table(
    raw: RawTable, columns: tuple[Column, ...]
) -> tuple[pl.DataFrame | None, pl.DataFrame, str | None]:
    """Parse dates and normalise enums; issues: missing/extra columns, unparsable dates, and
    personal data (the guard sees every value that is not a valid date or enum)."""
    names = tuple(c.name for c in columns)
    problems = _column_issues(raw, names)
    if problems:
        # Without the right columns nothing else is checked, but the guard still looks at all.
        personal = guard.scan(raw.frame, ROW, list(raw.columns))
        return None, pl.concat([issues_frame(problems, raw.name), _located(personal, raw)]), None
    parsed = {c.name: _parse_date_column(raw.frame[c.name]) for c in columns if c.kind == "date"}
    enums = {c.name: c.values for c in columns if c.kind == "enum"}
    typed = raw.frame.with_columns(
        *(series.alias(name) for name, (series, _) in parsed.items()),
        *(pl.col(c).str.to_lowercase() for c in enums),
    )
    bad_dates = (
        _unparsed_dates(raw, typed, list(parsed))
        .with_columns(pl.lit("date_format").alias("rule"))
        .pipe(_with_file, raw)
    )
    # Valid dates and enum values cannot carry personal data: blank them before the guard.
    guarded = raw.frame.with_columns(
        *(pl.when(typed[c].is_null()).then(pl.col(c)).alias(c) for c in parsed),
        *(pl.when(~typed[c].is_in(values)).then(pl.col(c)).alias(c) for c, values in enums.items()),
    )
    personal = _located(guard.scan(guarded, ROW, list(names)), raw)
    formats = [f for f in ("YYYY-MM-DD", "DD-MM-YYYY") if any(f in p[1] for p in parsed.values())]
    return typed, pl.concat([issues_frame(bad_dates), personal]), " and ".join(formats) or None


def _with_file(frame: pl.DataFrame, raw: RawTable) -> pl.DataFrame:
    return frame.with_columns(pl.lit(raw.name).alias("table"), pl.lit(raw.file).alias("file"))


def _located(found: pl.DataFrame, raw: RawTable) -> pl.DataFrame:
    """Guard findings (row, normalised column, rule) as issues named as in the file."""
    return issues_frame(
        found.with_columns(pl.col("column").replace_strict(raw.columns, default=None)).pipe(
            _with_file, raw
        )
    )


def validate_model(raw: RawTable, typed: pl.DataFrame) -> pl.DataFrame:
    """The table's pandera model over the collected frame; failures as value-free issues."""
    model = MODELS[raw.name]
    try:
        model.validate(typed.drop(ROW), lazy=True)
    except SchemaErrors as exc:
        # failure_case holds the offending values: select everything but it, straight away.
        failures = exc.failure_cases.select("column", "check", "index")
    else:
        return issues_frame([])
    rows = typed.select(pl.col(ROW).alias("row")).with_row_index("index")
    return issues_frame(
        failures.with_columns(
            pl.col("check").str.extract(r"^([a-z_]+)").replace_strict(CHECK_RULES).alias("rule"),
            pl.col("index").cast(pl.UInt32),
            pl.col("column").replace_strict(raw.columns, default=None),
        )
        .join(rows, on="index", how="left")
        .pipe(_with_file, raw)
    ).pipe(_without_date_format_duplicates, typed, raw)


def _unparsed_dates(raw: RawTable, typed: pl.DataFrame, dates: list[str]) -> pl.DataFrame:
    """(row, column as in the file) of every date cell holding text that is not a date."""
    return pl.concat(
        [
            pl.DataFrame(schema={"row": pl.Int64, "column": pl.String}),
            *(
                typed.filter(pl.col(c).is_null() & raw.frame[c].is_not_null()).select(
                    pl.col(ROW).alias("row"), pl.lit(raw.columns[c]).alias("column")
                )
                for c in dates
            ),
        ]
    )


def _without_date_format_duplicates(
    issues: pl.DataFrame, typed: pl.DataFrame, raw: RawTable
) -> pl.DataFrame:
    """An unparsable required date is reported as date_format, not also as required."""
    dates = [c for c in typed.columns if c != ROW and typed[c].dtype == pl.Date]
    blank = _unparsed_dates(raw, typed, dates).with_columns(pl.lit("required").alias("rule"))
    return issues.join(blank, on=["row", "column", "rule"], how="anti")


def _cross_table_rules(extract_date: date | None) -> dict[str, list[tuple[str, str, pl.Expr]]]:
    """Per table: (column, rule, expression true on a row breaking it), on the joined frames.

    `_known`/`_case_date` come from the case of the row, `_kid` from the child of a help row.
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
    if extract_date is not None:
        for name in rules:
            rules[name] += [
                (c.name, "date_after_extract", pl.col(c.name) > extract_date)
                for c in TABLES[name]
                if c.kind == "date"
            ]
    return rules


def cross_table_issues(
    tables: dict[str, pl.DataFrame],
    files: dict[str, str],
    extract_date: date | None,
    raws: dict[str, RawTable],
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Rules between rows and tables: one left join per table, then one pass of row flags.

    Returns the issues and the counts of the row-level warnings found on the way.
    """
    lazy = {name: frame.lazy() for name, frame in tables.items()}
    if "cases" in lazy:
        index = (
            lazy["cases"]
            .filter(pl.col("case_id").is_not_null())
            .unique("case_id", keep="first")
            .select(
                "case_id", pl.col("report_date").alias("_case_date"), pl.lit(True).alias("_known")
            )
        )
        for name in ("reports", "children", "help", "followups"):
            if name in lazy:
                lazy[name] = lazy[name].join(index, on="case_id", how="left")
    else:
        # Without cases nothing case-related can be judged (the missing file rejects anyway).
        for name in ("reports", "children", "help", "followups"):
            if name in lazy:
                lazy[name] = lazy[name].with_columns(
                    pl.lit(None, dtype=pl.Date).alias("_case_date"), pl.lit(True).alias("_known")
                )
    if "help" in lazy and "children" in lazy:
        kids = (
            lazy["children"]
            .select("case_id", "child_id", pl.lit(True).alias("_kid"))
            .drop_nulls(["case_id", "child_id"])
            .unique(["case_id", "child_id"])
        )
        lazy["help"] = lazy["help"].join(kids, on=["case_id", "child_id"], how="left")
    elif "help" in lazy:
        lazy["help"] = lazy["help"].with_columns(pl.lit(True).alias("_kid"))
    rules = _cross_table_rules(extract_date)
    plans = []
    for name, frame in lazy.items():
        flags = [
            expr.fill_null(False).alias(f"{rule}|{column}") for column, rule, expr in rules[name]
        ]
        plans.append(
            frame.select(pl.col(ROW).alias("row"), *flags)
            .unpivot(index="row", variable_name="flag", value_name="broken")
            .filter(pl.col("broken"))
            .select(
                pl.lit(name).alias("table"),
                pl.lit(files[name]).alias("file"),
                "row",
                pl.col("flag").str.split_exact("|", 1).struct.field("field_1").alias("column"),
                pl.col("flag").str.split_exact("|", 1).struct.field("field_0").alias("rule"),
            )
        )
    found = pl.concat([issues_frame([]), *pl.collect_all(plans)])
    warnings = found.filter(pl.col("rule").is_in(list(WARNING_TEXTS)))
    counts = dict(warnings.group_by("rule").len().iter_rows())
    found = found.filter(~pl.col("rule").is_in(list(WARNING_TEXTS)))
    shown = pl.DataFrame(
        [(name, c, raws[name].columns[c]) for name in tables for c in raws[name].columns],
        schema={"table": pl.String, "column": pl.String, "shown": pl.String},
        orient="row",
    )
    found = found.join(shown, on=["table", "column"], how="left").with_columns(
        pl.col("shown").alias("column")
    )
    return issues_frame(found), counts


def table_warnings(
    tables: dict[str, pl.DataFrame], files: dict[str, str], row_warnings: dict[str, int]
) -> list[DeliveryWarning]:
    """Findings worth a look that do not block the delivery."""
    warnings = []
    if row_warnings.get("help_before_report"):
        count = row_warnings["help_before_report"]
        warnings.append(DeliveryWarning("help_before_report", files["help"], count))
    cases, help_, children = tables.get("cases"), tables.get("help"), tables.get("children")
    if cases is not None and help_ is not None and children is not None:
        lonely = (
            children.lazy()
            .select("case_id")
            .unique()
            .join(help_.lazy().select("case_id").unique(), on="case_id", how="anti")
            .join(cases.lazy().select("case_id"), on="case_id", how="semi")
            .select(pl.len())
            .collect()
            .item()
        )
        if lonely:
            warnings.append(DeliveryWarning("children_without_help", files["cases"], lonely))
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
