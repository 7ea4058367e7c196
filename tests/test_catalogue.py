"""Every indicator is declared completely, its query has the agreed shape, the docs are current."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from metrics import catalogue, docs
from metrics.catalogue import INDICATORS, CatalogueError, Indicator
from pipelines.contract import APPROACH_ELEMENTS

TEXT_FIELDS = [
    f.name
    for f in dataclasses.fields(Indicator)
    if f.type in ("str", str) and f.name not in {"id", "polarity", "unit", "value_format"}
]


def test_each_declaration_has_its_query_and_each_query_its_declaration() -> None:
    declared = {p.stem for p in catalogue.SQL_DIR.glob("*.toml")} - {Path(catalogue.SHARED).stem}
    queries = {p.stem for p in catalogue.SQL_DIR.glob("*.sql")}
    assert declared == queries == {ind.id for ind in INDICATORS}
    assert len(INDICATORS) == len(declared)


def _declarations(tmp_path: Path) -> Path:
    """A copy of the catalogue's files to break."""
    copy = tmp_path / "sql"
    shutil.copytree(catalogue.SQL_DIR, copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('polarity = "lower_is_better"', 'polarity = "lower"', "polarity"),
        ('unit = "proportion"', 'unit = "rate"', "unit"),
        ('value_format = "percent"', 'value_format = "days"', "value_format"),
        ("order = 10", 'order = "first"', "order"),
        ("order = 10", "order = 20", "order"),
        ('"violence_type"]', '"violence_type", "region"]', "breakdowns"),
        (
            '  "single_coordinator",\n',
            '  "single_coordinator",\n  "single_coordinator",\n',
            "approach_elements",
        ),
        ('sources = ["cohort", "cbs"]', 'sources = ["cohort", "cbs_2030"]', "sources"),
        ('sources = ["cohort", "cbs"]', "", "sources"),
        ('caveat_notes = ["window"]', 'caveat_notes = ["weather"]', "caveat_notes"),
        ('title_en = "New report within 12 months"', 'title_en = "New"', "title_en"),
        ('title_en = "New report within 12 months"', "", "title_en"),
        ("order = 10", "order = 10\ncolour = 'red'", "colour"),
        ('title_nl = "Nieuwe', "title_nl = Nieuwe", "not valid TOML"),
    ],
)
def test_a_bad_declaration_is_refused_naming_its_file_and_field(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    directory = _declarations(tmp_path)
    _edit(directory / "recurrence_12m.toml", old, new)
    with pytest.raises(CatalogueError) as refused:
        catalogue.load(directory)
    message = str(refused.value)
    # The file (a clash of orders: the later file, naming the other) and the field.
    assert message.startswith(f"{directory}/") and "recurrence_12m.toml" in message
    assert field in message


def test_a_declaration_and_its_query_come_together(tmp_path: Path) -> None:
    directory = _declarations(tmp_path)
    (directory / "recurrence_12m.sql").unlink()
    with pytest.raises(CatalogueError, match=r"recurrence_12m\.toml: query: no recurrence_12m"):
        catalogue.load(directory)
    directory = _declarations(tmp_path / "again")
    (directory / "recurrence_12m.toml").unlink()
    with pytest.raises(CatalogueError, match=r"recurrence_12m\.sql: a query without"):
        catalogue.load(directory)


def test_the_declared_order_is_the_catalogue_s(tmp_path: Path) -> None:
    directory = _declarations(tmp_path)
    _edit(directory / "recurrence_12m.toml", "order = 10", "order = 1000")
    assert [ind.id for ind in catalogue.load(directory)] == [
        *(ind.id for ind in INDICATORS[1:]),
        "recurrence_12m",
    ]


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
