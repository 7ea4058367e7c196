"""The "Aanpak" page through Streamlit's AppTest, on the real mart built from the sample data."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.i18n import APPROACH_ELEMENTS as PAGE_ELEMENTS
from pipelines.contract import APPROACH_ELEMENTS

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGE = "app_pages/aanpak.py"


@pytest.fixture(scope="module")
def mart(sample_pipeline: dict) -> Path:
    return sample_pipeline["mart"]


def query(mart: Path, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(mart), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def open_page(mart: Path, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    monkeypatch.setenv("HGKM_DATA_DIR", str(mart.parent))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def figure(at: AppTest, key: str) -> dict:
    for chart in at.get("plotly_chart"):
        if chart.proto.id.endswith(f"-{key}"):
            return json.loads(chart.proto.spec)
    raise AssertionError(f"no chart {key!r}")


def text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(i.value for i in at.info)


def test_the_page_lists_the_contract_s_elements() -> None:
    assert PAGE_ELEMENTS == APPROACH_ELEMENTS


def test_the_page_shows_profile_region_and_comparisons(
    mart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    municipality, element, indicator, introduced = query(
        mart,
        """select area_code, element, indicator_id, introduced from approach_comparison
           where comparison = 'before_after' and not suppressed
           order by area_code, element, indicator_id limit 1""",
    )[0]
    region = query(
        mart,
        "select veilig_thuis_region from areas where area_code = ?",
        municipality,
    )[0][0]
    at = open_page(
        mart,
        monkeypatch,
        region=region,
        municipality=municipality,
        element=element,
        indicator=indicator,
    )
    assert at.title[0].value.startswith("Aanpak: ")
    # the caveat: associations, not proof, and no ranking
    assert any("geen bewijs van effect" in i.value and "ranglijst" in i.value for i in at.info)
    # the timeline has one bar per period of the municipality's profile
    periods = query(
        mart, "select count(*) from approach_profiles where municipality_code = ?", municipality
    )[0][0]
    assert len(figure(at, "approach_timeline")["data"]) == periods
    # with/without: the pooled national difference is drawn as in the mart, in points
    diff = query(
        mart,
        """select difference from approach_comparison where comparison = 'with_without'
           and area_code = 'NL' and period = 'all' and element = ? and indicator_id = ?""",
        element,
        indicator,
    )[0][0]
    traces = figure(at, "approach_with_without")["data"]
    xs = [x for trace in traces for x in trace["x"]]
    assert any(abs(x - diff * 100) < 1e-9 for x in xs)
    # before/after: a plain reading names the introduction date in Dutch
    page = text(at)
    assert "voor de invoering (" in page and str(introduced.year) in page
    assert "procentpunt" in page and "interval" in page
    assert figure(at, "approach_before_after")["data"]
    # the state lives in the URL
    assert at.query_params["element"] == element
    # every chart has its CSV
    assert len(at.get("download_button")) >= 4


def test_english_and_an_element_without_comparisons(
    mart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(mart, monkeypatch, lang="en")
    assert at.title[0].value.startswith("Approach: ")
    assert any("not proof of effect" in i.value for i in at.info)
    element_box = next(s for s in at.selectbox if s.label == "Element")
    for element in APPROACH_ELEMENTS:
        element_box.set_value(element).run()
        assert not at.exception, (element, [e.value for e in at.exception])
        element_box = next(s for s in at.selectbox if s.label == "Element")


def test_a_mart_without_approach_tables_still_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mart_builder import build_mart

    data = tmp_path / "data"
    data.mkdir()
    mart = build_mart(data / "mart.duckdb", approach=False)
    at = open_page(mart, monkeypatch)
    assert any("aanpakprofiel" in i.value for i in at.info)


def test_the_meeting_report_has_a_section_on_the_region_s_approaches(
    mart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from dashboard import data, report

    monkeypatch.setenv("HGKM_DATA_DIR", str(mart.parent))
    version = data.current_version(mart)
    assert version is not None
    region = query(mart, "select veilig_thuis_region from areas where area_code = 'GM0193'")[0][0]
    page = report.build(version, region, "2024", "nl", today=date(2026, 11, 1))
    assert "Aanpak in de regio" in page and "geen bewijs van effect" in page
    # the count for one element, by hand from the published profiles
    members = [
        m
        for (m,) in query(
            mart, "select municipality_code from area_members where area_code = ?", region
        )
    ]
    rows = query(
        mart,
        "select municipality_code, element, in_place_from, in_place_until from approach_profiles",
    )
    day = date(2026, 11, 1)
    profiled = {m for m, *_ in rows if m in members}
    have = {
        m
        for m, e, f, u in rows
        if m in members and e == "single_coordinator" and f <= day and (u is None or u >= day)
    }
    assert (
        f"Eén gezin, één plan, één regisseur: nu in {len(have)} van de {len(profiled)} gemeenten"
        in page
    )
