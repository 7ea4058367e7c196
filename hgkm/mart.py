"""The mart declared once: its tables, their columns and types, and the codes its rows share.

`hgkm compute` writes each table into its declared shape and refuses a table that is not
(`metrics.publish`), the test mart is built into it (`tests/mart_builder.py`) and the
dashboard takes the codes from here; a test holds the published sample mart equal to the
declaration (`tests/test_mart_declaration.py`). docs/mart.md says what each column means; the
region type of the areas is `hgkm.reference.DEFAULT_REGION_TYPE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NATIONAL = "NL"  # the country's area_code in every table of areas and figures

Columns = tuple[tuple[str, str], ...]  # (column, DuckDB type), in order

# The published table's columns: `indicator_values`, and the imported national benchmark's
# rows in `benchmark_figures`.
INDICATOR_VALUES: Columns = (
    ("indicator_id", "VARCHAR"),
    ("area_type", "VARCHAR"),
    ("area_code", "VARCHAR"),
    ("period", "VARCHAR"),
    ("breakdown", "VARCHAR"),
    ("numerator", "BIGINT"),
    ("denominator", "BIGINT"),
    ("value", "DOUBLE"),
    ("ci_low", "DOUBLE"),
    ("ci_high", "DOUBLE"),
    ("comparison_region", "VARCHAR"),
    ("comparison_national", "VARCHAR"),
    ("suppressed", "BOOLEAN"),
    ("area_name", "VARCHAR"),
    ("period_type", "VARCHAR"),
    ("year", "INTEGER"),
    ("median_reached", "BOOLEAN"),
    ("coverage_delivered", "INTEGER"),
    ("coverage_total", "INTEGER"),
)

TABLES: dict[str, Columns] = {
    "approach_comparison": (
        ("comparison", "VARCHAR"),
        ("element", "VARCHAR"),
        ("indicator_id", "VARCHAR"),
        ("area_type", "VARCHAR"),
        ("area_code", "VARCHAR"),
        ("period", "VARCHAR"),
        ("period_type", "VARCHAR"),
        ("year", "INTEGER"),
        ("introduced", "DATE"),
        ("numerator_with", "BIGINT"),
        ("denominator_with", "BIGINT"),
        ("value_with", "DOUBLE"),
        ("ci_low_with", "DOUBLE"),
        ("ci_high_with", "DOUBLE"),
        ("numerator_without", "BIGINT"),
        ("denominator_without", "BIGINT"),
        ("value_without", "DOUBLE"),
        ("ci_low_without", "DOUBLE"),
        ("ci_high_without", "DOUBLE"),
        ("difference", "DOUBLE"),
        ("difference_low", "DOUBLE"),
        ("difference_high", "DOUBLE"),
        ("suppressed", "BOOLEAN"),
    ),
    "approach_notes": (
        ("municipality_code", "VARCHAR"),
        ("element", "VARCHAR"),
        ("in_place_from", "DATE"),
        ("note", "VARCHAR"),
    ),
    "approach_profiles": (
        ("municipality_code", "VARCHAR"),
        ("element", "VARCHAR"),
        ("in_place_from", "DATE"),
        ("in_place_until", "DATE"),
    ),
    "areas": (
        ("area_type", "VARCHAR"),
        ("area_code", "VARCHAR"),
        ("area_name", "VARCHAR"),
        ("region_type", "VARCHAR"),
        ("population", "BIGINT"),
        ("n_municipalities", "INTEGER"),
        ("n_delivered", "INTEGER"),
        ("veilig_thuis_region", "VARCHAR"),
    ),
    "area_members": (
        ("area_code", "VARCHAR"),
        ("municipality_code", "VARCHAR"),
    ),
    "benchmark": (
        ("source", "VARCHAR"),
        ("published_at", "TIMESTAMP"),
        ("imported_at", "TIMESTAMP"),
        ("code_version", "VARCHAR"),
        ("n_delivered", "INTEGER"),
        ("n_municipalities", "INTEGER"),
        ("content_sha256", "VARCHAR"),
    ),
    "benchmark_deliveries": (
        ("municipality_code", "VARCHAR"),
        ("extract_date", "DATE"),
        ("benchmark_extract_date", "DATE"),
        ("same_delivery", "BOOLEAN"),
    ),
    "benchmark_figures": INDICATOR_VALUES,
    "catalogue": (
        ("indicator_id", "VARCHAR"),
        ("sort_order", "BIGINT"),
        ("title_nl", "VARCHAR"),
        ("title_en", "VARCHAR"),
        ("short_nl", "VARCHAR"),
        ("short_en", "VARCHAR"),
        ("population_nl", "VARCHAR"),
        ("population_en", "VARCHAR"),
        ("numerator_nl", "VARCHAR"),
        ("numerator_en", "VARCHAR"),
        ("polarity", "VARCHAR"),
        ("unit", "VARCHAR"),
        ("value_format", "VARCHAR"),
        ("rationale_nl", "VARCHAR"),
        ("rationale_en", "VARCHAR"),
        ("source", "VARCHAR"),
        ("caveats_nl", "VARCHAR"),
        ("caveats_en", "VARCHAR"),
        ("breakdowns", "VARCHAR"),
        ("approach_elements", "VARCHAR"),
        ("municipal_quarters", "BOOLEAN"),
        ("population", "VARCHAR"),
    ),
    "delivery_issues": (
        ("municipality_code", "VARCHAR"),
        ("received_at", "TIMESTAMP"),
        ("content_hash", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("file", "VARCHAR"),
        ("row_number", "BIGINT"),
        ("column_name", "VARCHAR"),
        ("rule", "VARCHAR"),
        ("message", "VARCHAR"),
        ("count", "BIGINT"),
    ),
    "delivery_log": (
        ("municipality_code", "VARCHAR"),
        ("extract_date", "DATE"),
        ("received_at", "TIMESTAMP"),
        ("status", "VARCHAR"),
        ("current", "BOOLEAN"),
        ("content_hash", "VARCHAR"),
        ("rows_loaded", "BIGINT"),
        ("n_warnings", "INTEGER"),
        ("n_errors", "INTEGER"),
        ("summary", "VARCHAR"),
    ),
    "delivery_status": (
        ("municipality_code", "VARCHAR"),
        ("municipality_name", "VARCHAR"),
        ("veilig_thuis_region", "VARCHAR"),
        ("delivered", "BOOLEAN"),
        ("current_extract_date", "DATE"),
        ("current_received_at", "TIMESTAMP"),
        ("last_received_at", "TIMESTAMP"),
        ("last_status", "VARCHAR"),
        ("n_accepted", "INTEGER"),
        ("n_rejected", "INTEGER"),
        ("n_warnings", "INTEGER"),
        ("days_since_extract", "INTEGER"),
        ("stale", "BOOLEAN"),
        ("last_rejection_summary", "VARCHAR"),
    ),
    "funnel": (
        ("indicator_id", "VARCHAR"),
        ("period", "VARCHAR"),
        ("breakdown", "VARCHAR"),
        ("benchmark", "DOUBLE"),
        ("n_areas", "INTEGER"),
        ("phi", "DOUBLE"),
        ("tau2", "DOUBLE"),
        ("overdispersed", "BOOLEAN"),
    ),
    "funnel_limits": (
        ("indicator_id", "VARCHAR"),
        ("period", "VARCHAR"),
        ("breakdown", "VARCHAR"),
        ("denominator", "BIGINT"),
        ("lower_95", "DOUBLE"),
        ("upper_95", "DOUBLE"),
        ("lower_998", "DOUBLE"),
        ("upper_998", "DOUBLE"),
        ("re_lower_95", "DOUBLE"),
        ("re_upper_95", "DOUBLE"),
        ("re_lower_998", "DOUBLE"),
        ("re_upper_998", "DOUBLE"),
    ),
    "indicator_values": INDICATOR_VALUES,
    "km_curves": (
        ("indicator_id", "VARCHAR"),
        ("area_type", "VARCHAR"),
        ("area_code", "VARCHAR"),
        ("period", "VARCHAR"),
        ("time", "BIGINT"),
        ("survival", "DOUBLE"),
        ("ci_low", "DOUBLE"),
        ("ci_high", "DOUBLE"),
        ("at_risk", "BIGINT"),
    ),
    "periods": (
        ("period", "VARCHAR"),
        ("period_type", "VARCHAR"),
        ("year", "INTEGER"),
        ("quarter", "TINYINT"),
        ("sort_key", "INTEGER"),
        ("is_default", "BOOLEAN"),
    ),
    "publication": (
        ("published_at", "TIMESTAMP"),
        ("as_of", "DATE"),
        ("code_version", "VARCHAR"),
        ("staleness_days", "INTEGER"),
    ),
    "publication_deliveries": (
        ("municipality_code", "VARCHAR"),
        ("extract_date", "DATE"),
        ("content_hash", "VARCHAR"),
    ),
    "publication_packages": (
        ("stored_file", "VARCHAR"),
        ("producer", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("imported_at", "TIMESTAMP"),
        ("content_sha256", "VARCHAR"),
        ("code_version", "VARCHAR"),
        ("n_municipalities", "INTEGER"),
    ),
    "release_changes": (
        ("change", "VARCHAR"),
        ("indicator_id", "VARCHAR"),
        ("area_type", "VARCHAR"),
        ("area_code", "VARCHAR"),
        ("area_name", "VARCHAR"),
        ("period", "VARCHAR"),
        ("breakdown", "VARCHAR"),
        ("old_value", "DOUBLE"),
        ("old_ci_low", "DOUBLE"),
        ("old_ci_high", "DOUBLE"),
        ("old_suppressed", "BOOLEAN"),
        ("new_value", "DOUBLE"),
        ("new_ci_low", "DOUBLE"),
        ("new_ci_high", "DOUBLE"),
        ("new_suppressed", "BOOLEAN"),
        ("old_comparison_national", "VARCHAR"),
        ("new_comparison_national", "VARCHAR"),
        ("old_comparison_region", "VARCHAR"),
        ("new_comparison_region", "VARCHAR"),
        ("old_coverage", "INTEGER"),
        ("new_coverage", "INTEGER"),
        ("coverage_total", "INTEGER"),
    ),
    "trends": (
        ("indicator_id", "VARCHAR"),
        ("area_type", "VARCHAR"),
        ("area_code", "VARCHAR"),
        ("breakdown", "VARCHAR"),
        ("first_year", "INTEGER"),
        ("last_year", "INTEGER"),
        ("chi2", "DOUBLE"),
        ("direction", "VARCHAR"),
        ("assessment", "VARCHAR"),
    ),
}


def create_table(name: str) -> str:
    """The `create table` statement of a declared table."""
    return "create table {} ({})".format(
        name, ", ".join(f'"{column}" {kind}' for column, kind in TABLES[name])
    )


def insert(con: Any, name: str, columns: Sequence[str]) -> None:
    """Create the declared table `name` on `con` and fill it from the registered `frame`,
    whose `columns` must be the declared ones (in any order): a column lacking or undeclared
    is a mistake of the code, never filled in or left out silently."""
    if name not in TABLES:
        raise ValueError(f"mart table {name} is not declared in hgkm/mart.py")
    declared = [column for column, _ in TABLES[name]]
    extra = [c for c in columns if c not in declared]
    lacking = [c for c in declared if c not in columns]
    if extra or lacking:
        raise ValueError(
            f"mart table {name} is not as hgkm/mart.py declares it: "
            f"undeclared {extra}, lacking {lacking}"
        )
    con.execute(create_table(name))
    con.execute(f"insert into {name} by name select * from frame")


def differences(found: dict[str, Columns]) -> list[str]:
    """How a mart's tables (name -> its columns and types) differ from the declaration."""
    problems = [f"{name}: not declared" for name in found if name not in TABLES]
    for name, columns in found.items():
        declared = TABLES.get(name)
        if declared is not None and tuple(columns) != declared:
            extra = [c for c in columns if c not in declared]
            lacking = [c for c in declared if c not in columns]
            problems.append(
                f"{name}: {extra or 'no'} undeclared, {lacking or 'none'} lacking"
                + ("" if extra or lacking else ", in another order")
            )
    return problems
