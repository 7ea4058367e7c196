"""Every indicator is declared completely, its query has the agreed shape, the docs are current."""

from __future__ import annotations

import dataclasses
import re

import pytest

from metrics import catalogue, docs
from metrics.catalogue import INDICATORS, Indicator
from pipelines.contract import APPROACH_ELEMENTS

TEXT_FIELDS = [
    f.name
    for f in dataclasses.fields(Indicator)
    if f.type in ("str", str)
    and f.name not in {"id", "sql_name", "polarity", "unit", "value_format"}
]
SPEC_IDS = (
    "recurrence_12m",
    "violence_continued_18m",
    "children_without_help",
    "families_without_help_offer",
    "specialist_within_30d",
    "time_to_specialist",
    "coordinator_within_30d",
    "system_help_partner_violence",
    "light_help_for_severe",
    "recurrence_after_restraining_order",
)


def test_the_catalogue_is_the_spec_s_ten_in_order() -> None:
    assert tuple(ind.id for ind in INDICATORS) == SPEC_IDS


@pytest.mark.parametrize("indicator", INDICATORS, ids=lambda ind: ind.id)
def test_indicator_is_complete(indicator: Indicator) -> None:
    for name in TEXT_FIELDS:
        value = getattr(indicator, name)
        assert isinstance(value, str) and len(value.strip()) > 5, name
    assert indicator.polarity in catalogue.POLARITIES
    assert indicator.unit in catalogue.UNITS
    assert indicator.value_format in catalogue.VALUE_FORMATS
    assert (indicator.unit, indicator.value_format) in {
        ("proportion", "percent"),
        ("days", "days"),
    }
    assert set(indicator.breakdowns) <= set(catalogue.BREAKDOWN_FAMILIES)
    assert indicator.approach_elements
    assert set(indicator.approach_elements) <= set(APPROACH_ELEMENTS)
    assert len(set(indicator.approach_elements)) == len(indicator.approach_elements)


@pytest.mark.parametrize("indicator", INDICATORS, ids=lambda ind: ind.id)
def test_query_has_the_agreed_shape(indicator: Indicator) -> None:
    sql = indicator.sql
    assert sql.lstrip().startswith(f"-- {indicator.id}:"), "opens with a comment naming its job"
    assert re.search(r"select \* from final\s*$", sql), "ends in `select * from final`"
    assert re.search(r"\bfinal as \(", sql)
    # it reads only the current deliveries, never a raw warehouse table
    tables = re.findall(r"\b(?:from|join)\s+([a-z_]+)", sql)
    ctes = set(re.findall(r"\b([a-z_]+) as \(", sql))
    assert {t for t in tables if t not in ctes} <= {
        "current_cases",
        "current_reports",
        "current_children",
        "current_help",
        "current_followups",
    }


def test_breakdowns_follow_the_spec() -> None:
    by_id = catalogue.BY_ID
    assert by_id["children_without_help"].breakdowns == ("age_band",)
    case_based = [i for i in INDICATORS if i.id not in {"children_without_help"}]
    # every case-based indicator splits by violence type, except the one whose population
    # is a single violence type already
    assert {i.id for i in case_based if i.breakdowns != ("violence_type",)} == {
        "system_help_partner_violence"
    }


def test_time_to_specialist_declares_its_interval_transform() -> None:
    tts = catalogue.BY_ID["time_to_specialist"]
    assert tts.unit == "days" and not tts.is_proportion
    assert "log-log" in tts.caveats_en and "log-log" in tts.caveats_nl


def test_catalogue_frame_matches_the_mart_doc() -> None:
    frame = catalogue.catalogue_frame()
    expected = [
        "indicator_id",
        "sort_order",
        "title_nl",
        "title_en",
        "short_nl",
        "short_en",
        "population_nl",
        "population_en",
        "numerator_nl",
        "numerator_en",
        "polarity",
        "unit",
        "value_format",
        "rationale_nl",
        "rationale_en",
        "source",
        "caveats_nl",
        "caveats_en",
        "breakdowns",
    ]
    assert frame.columns[: len(expected)] == expected
    assert frame["sort_order"].to_list() == list(range(1, len(INDICATORS) + 1))
    assert frame.filter(frame["indicator_id"] == "children_without_help")["breakdowns"][0] == (
        "age_band"
    )


def test_docs_are_current() -> None:
    assert docs.DOCS_PATH.read_text(encoding="utf-8") == docs.render(), (
        "docs/indicators.md is out of date: run `python -m metrics.docs`"
    )
    for indicator in INDICATORS:
        assert f"`{indicator.id}`" in docs.render()
