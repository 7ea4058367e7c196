"""Contract checks: every rule with a passing and a failing example; pandera on collected frames."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from deliveries import Rows, valid_rows, write_folder
from pandera.errors import SchemaErrors

from pipelines import docs as contract_docs
from pipelines.checks import check_delivery, drop_invalid_rows
from pipelines.contract import MANIFEST_COLUMNS, TABLES, Column
from pipelines.read import read_delivery
from pipelines.report import RULES, WARNING_TEXTS
from pipelines.schemas import SCHEMAS

RECEIVED = date(2026, 11, 1)


def check(tmp_path, rows: Rows, received: date = RECEIVED):
    return check_delivery(read_delivery(write_folder(tmp_path / "d", rows)), received)


def found(result) -> set[tuple[str, int | None, str | None, str]]:
    return {tuple(r) for r in result.issues.select("file", "row", "column", "rule").iter_rows()}


def test_the_valid_delivery_passes_without_warnings(tmp_path):
    result = check(tmp_path, valid_rows())
    assert result.issues.is_empty()
    assert result.warnings == []
    assert (result.manifest.municipality_code, result.manifest.extract_date) == (
        "GM0193",
        date(2026, 10, 1),
    )
    assert result.manifest.source_system == "Testsysteem"


def test_schemas_declare_exactly_the_contract_columns():
    for name, schema in SCHEMAS.items():
        expected = MANIFEST_COLUMNS if name == "manifest" else tuple(c.name for c in TABLES[name])
        assert tuple(schema.columns) == expected
        assert schema.strict is True


def test_a_known_bad_frame_is_rejected_when_collected_and_the_lazy_pitfall_is_real():
    bad = pl.DataFrame(
        {
            "case_id": ["ok-0001", "x"],
            "child_id": ["kind-0001", "kind-0001"],
            "age_band": ["0-3", "99"],
        }
    )
    with pytest.raises(SchemaErrors) as caught:
        SCHEMAS["children"].validate(bad, lazy=True)
    checks = set(caught.value.failure_cases["check"].str.extract(r"^([a-z_]+)").to_list())
    assert checks == {"str_matches", "field_uniqueness", "isin"}
    # What the stack notes warn about: a LazyFrame only gets the schema-level checks.
    assert SCHEMAS["children"].validate(bad.lazy(), lazy=True).collect().height == 2


def _set(table: str, index: int, column: str, value: str | None) -> Callable[[Rows], None]:
    def mutate(rows: Rows) -> None:
        rows[table][index][column] = value

    return mutate


def _append(table: str, row: dict[str, str | None]) -> Callable[[Rows], None]:
    return lambda rows: rows[table].append(row)


# (mutation, the one issue it must cause as (file, row, column, rule)), row = CSV line.
FAILING = {
    "required": (_set("cases", 0, "violence_type", None), ("cases.csv", 2, "violence_type")),
    "date_format": (_set("cases", 1, "report_date", "2025/03/01"), ("cases.csv", 3, "report_date")),
    "date_format_impossible": (
        _set("help", 0, "offered_date", "31-02-2025"),
        ("help.csv", 2, "offered_date"),
    ),
    "enum_value": (_set("reports", 1, "reporter", "neighbour"), ("reports.csv", 3, "reporter")),
    "pseudonym_format": (_set("children", 1, "child_id", "k 1"), ("children.csv", 3, "child_id")),
    "date_before_2000": (
        _set("cases", 2, "report_date", "1999-12-31"),
        ("cases.csv", 4, "report_date"),
    ),
    "date_after_extract": (
        _set("followups", 1, "followup_date", "2026-10-02"),
        ("followups.csv", 3, "followup_date"),
    ),
    "unknown_case": (
        _append(
            "reports", {"case_id": "case-9999", "report_date": "2025-06-01", "reporter": "other"}
        ),
        ("reports.csv", 4, "case_id"),
    ),
    "child_id_required": (_set("help", 1, "child_id", None), ("help.csv", 3, "child_id")),
    "child_id_not_allowed": (_set("help", 0, "child_id", "kind-0001"), ("help.csv", 2, "child_id")),
    "child_of_other_case": (_set("help", 1, "child_id", "kind-0002"), ("help.csv", 3, "child_id")),
    "restraining_order_too_early": (
        _set("cases", 0, "restraining_order_date", "2024-12-26"),  # 15 days before
        ("cases.csv", 2, "restraining_order_date"),
    ),
    "coordinator_before_report": (
        _set("cases", 0, "coordinator_date", "2025-01-09"),
        ("cases.csv", 2, "coordinator_date"),
    ),
    "closed_before_report": (
        _set("cases", 0, "closed_date", "2025-01-09"),
        ("cases.csv", 2, "closed_date"),
    ),
    "report_before_index": (
        _set("reports", 0, "report_date", "2025-01-09"),
        ("reports.csv", 2, "report_date"),
    ),
    "followup_not_after_report": (
        _set("followups", 0, "followup_date", "2025-01-10"),  # the same day is not after
        ("followups.csv", 2, "followup_date"),
    ),
    "end_without_start": (_set("help", 1, "end_date", "2025-04-01"), ("help.csv", 3, "end_date")),
    "end_before_start": (_set("help", 0, "end_date", "2025-01-14"), ("help.csv", 2, "end_date")),
}

# The boundary on the allowed side of each date rule (and other near-misses) must pass.
PASSING = {
    "restraining_order_exactly_14_days_before": _set(
        "cases", 0, "restraining_order_date", "2024-12-27"
    ),
    "coordinator_on_report_date": _set("cases", 0, "coordinator_date", "2025-01-10"),
    "closed_on_report_date": _set("cases", 0, "closed_date", "2025-01-10"),
    "report_on_index_date": _set("reports", 0, "report_date", "2025-01-10"),
    "followup_day_after": _set("followups", 0, "followup_date", "2025-01-11"),
    "end_on_start": _set("help", 0, "end_date", "2025-01-15"),
    "date_on_extract_date": _set("followups", 1, "followup_date", "2026-10-01"),
    "date_on_2000_01_01": _set("cases", 0, "restraining_order_date", None),
    "enum_in_capitals": _set("reports", 1, "reporter", " Professional "),
    "dmy_date": _set("cases", 1, "report_date", "1-3-2025"),
    "optional_dates_empty": _set("help", 0, "end_date", None),
    "child_of_same_case": _set("help", 1, "child_id", "kind-0001"),
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_each_rule_fails_on_its_example(tmp_path, case):
    mutate, (file, row, column) = FAILING[case]
    rows = valid_rows()
    mutate(rows)
    rule = case.removesuffix("_impossible")
    assert found(check(tmp_path, rows)) == {(file, row, column, rule)}


@pytest.mark.parametrize("case", sorted(PASSING))
def test_each_rule_passes_on_the_allowed_side(tmp_path, case):
    rows = valid_rows()
    PASSING[case](rows)
    assert check(tmp_path, rows).issues.is_empty()


def test_uniqueness_reports_every_copy(tmp_path):
    rows = valid_rows()
    rows["cases"][2]["case_id"] = "case-0001"
    rows["children"][1]["child_id"] = "kind-0001"
    rows["children"][1]["case_id"] = "case-0001"
    assert found(check(tmp_path, rows)) == {
        ("cases.csv", 2, "case_id", "unique"),
        ("cases.csv", 4, "case_id", "unique"),
        ("children.csv", 2, "child_id", "unique"),
        ("children.csv", 3, "child_id", "unique"),
    }


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("contract_version", "2", "manifest_contract_version"),
        ("municipality_code", "GM9999", "manifest_municipality"),
        ("municipality_code", "Zwolle", "manifest_municipality"),
        ("extract_date", "2026-13-01", "manifest_extract_date"),
        ("extract_date", "1999-12-31", "manifest_extract_date"),
        ("extract_date", "2026-11-02", "manifest_extract_date"),  # after the day received
        ("extract_date", None, "manifest_missing_key"),
    ],
)
def test_manifest_rules(tmp_path, key, value, rule):
    rows = valid_rows()
    for row in rows["manifest"]:
        if row["key"] == key:
            row["value"] = value
    result = check(tmp_path, rows)
    assert rule in set(result.issues["rule"].to_list())
    assert result.structural
    assert getattr(result.manifest, key, None) is None


def test_manifest_accepts_dmy_and_lower_case_code_and_rejects_unknown_keys(tmp_path):
    rows = valid_rows()
    rows["manifest"][1]["value"] = "gm0193"
    rows["manifest"][2]["value"] = "01-10-2026"
    assert check(tmp_path, rows).manifest.extract_date == date(2026, 10, 1)
    rows["manifest"].append({"key": "contact_person", "value": "someone"})
    rows["manifest"].append({"key": "contract_version", "value": "1"})
    assert found(check(tmp_path, rows)) == {
        ("manifest.csv", 6, "key", "manifest_key"),
        ("manifest.csv", 7, "key", "manifest_key"),
        ("manifest.csv", 2, "key", "manifest_key"),
    }


def test_missing_and_extra_columns_are_structural(tmp_path):
    rows = valid_rows()
    for row in rows["cases"]:
        row["date_of_birth"] = "1980-01-01"
    for row in rows["reports"]:
        del row["reporter"]
    result = check(tmp_path, rows)
    assert found(result) == {
        ("cases.csv", None, "date_of_birth", "unexpected_column"),
        ("reports.csv", None, "reporter", "missing_column"),
    }
    assert result.structural


def test_dates_after_the_extract_date_are_checked_in_every_table(tmp_path):
    rows = valid_rows()
    rows["manifest"][2]["value"] = "2025-05-01"
    result = check(tmp_path, rows)
    late = result.issues.filter(pl.col("rule") == "date_after_extract")
    assert set(late["file"].to_list()) == {"cases.csv", "reports.csv", "help.csv", "followups.csv"}
    assert ("cases.csv", 4, "report_date", "date_after_extract") in found(result)


def test_warnings_help_before_report_and_children_without_help(tmp_path):
    rows = valid_rows()
    rows["help"][0]["offered_date"] = "2025-01-09"
    rows["help"][2]["case_id"] = "case-0001"  # case-0002 has a child but now no help
    result = check(tmp_path, rows)
    assert result.issues.is_empty()
    assert {(w.rule, w.file, w.count) for w in result.warnings} == {
        ("help_before_report", "help.csv", 1),
        ("children_without_help", "cases.csv", 1),
    }


def test_drop_invalid_rows_drops_children_of_dropped_cases(tmp_path):
    rows = valid_rows()
    rows["cases"][0]["violence_type"] = "unknown_type"  # case-0001: every child row goes
    rows["help"][2]["end_date"] = "2025-03-09"  # before its start
    result = check(tmp_path, rows)
    assert not result.structural
    kept, dropped = drop_invalid_rows(result)
    assert kept["cases"]["case_id"].to_list() == ["case-0002", "case-0003"]
    assert kept["reports"]["case_id"].to_list() == ["case-0002"]
    assert kept["children"]["child_id"].to_list() == ["kind-0002"]
    assert kept["help"].height == 0
    assert kept["followups"].height == 0
    assert dropped == {
        "cases": {"enum_value": 1},
        "children": {"case_dropped": 1},
        "followups": {"case_dropped": 2},
        "help": {"case_dropped": 2, "end_before_start": 1},
        "reports": {"case_dropped": 1},
    }


def test_drop_invalid_rows_drops_help_for_a_dropped_child(tmp_path):
    rows = valid_rows()
    rows["children"][0]["age_band"] = "18+"
    result = check(tmp_path, rows)
    kept, dropped = drop_invalid_rows(result)
    assert kept["help"]["recipient"].to_list() == ["victim", "family"]
    assert dropped == {"children": {"enum_value": 1}, "help": {"child_dropped": 1}}


def test_every_rule_has_a_fix_text_and_no_value_in_issues(tmp_path):
    rows = valid_rows()
    rows["reports"][1]["reporter"] = "DISTINCTIVE-VALUE"
    result = check(tmp_path, rows)
    assert set(result.issues["rule"].to_list()) <= set(RULES)
    assert "DISTINCTIVE" not in repr(result.shown_issues())
    assert "DISTINCTIVE" not in str(result.issues.to_dicts())


def test_every_rule_and_warning_is_documented():
    docs = (Path(__file__).resolve().parent.parent / "docs" / "contract.md").read_text()
    missing = [rule for rule in (*RULES, *WARNING_TEXTS) if f"`{rule}`" not in docs]
    assert missing == []
    # The errors table's S/R column says what the code does.
    documented = dict(re.findall(r"^\| `([a-z_0-9]+)` \| ([SR]) \|", docs, flags=re.M))
    assert documented == {rule: "S" if r.structural else "R" for rule, r in RULES.items()}


def test_the_test_deliveries_give_a_column_declared_after_their_rows(monkeypatch):
    monkeypatch.setitem(
        TABLES, "cases", (*TABLES["cases"], Column("referrer", "enum", values=("police", "gp")))
    )
    monkeypatch.setitem(TABLES, "help", (*TABLES["help"], Column("ended", "date", required=False)))
    rows = valid_rows()
    assert {row["referrer"] for row in rows["cases"]} == {"police"}
    assert {row["ended"] for row in rows["help"]} == {None}


def test_the_contract_s_tables_in_the_docs_are_current():
    page = contract_docs.DOCS_PATH.read_text(encoding="utf-8")
    assert page == contract_docs.render(page), "run `python -m pipelines.docs`"
    for name, columns in TABLES.items():
        assert all(f"| `{c.name}` |" in contract_docs.render_tables() for c in columns), name
