"""The dashboard through Streamlit's AppTest: every page, every control, checked against the mart.

The mart is the deterministic one of tests/mart_builder.py; expected values are read from it
with plain DuckDB here and formatted by hand, independently of dashboard/format.py.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from mart_builder import build_mart
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
VT11 = "veilig_thuis_region:VT11"
VT03 = "veilig_thuis_region:VT03"
PAGES = [
    "regio_overzicht",
    "gemeenteprofiel",
    "vergelijken",
    "trends",
    "indicatoren",
    "aanleveringen",
    "rapport",
    "toegankelijkheid",
]


@pytest.fixture
def mart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("HGKM_DATA_DIR", str(data_dir))
    return build_mart(data_dir / "mart.duckdb")


def query(mart: Path, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(mart), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def value_of(mart: Path, indicator: str, area: str, period: str = "2024") -> tuple:
    rows = query(
        mart,
        """select value, suppressed, comparison_national, ci_low, ci_high from indicator_values
           where indicator_id = ? and area_code = ? and period = ? and breakdown = 'all'""",
        indicator,
        area,
        period,
    )
    return rows[0]


def dutch_percent(fraction: float) -> str:
    return f"{fraction * 100:.1f}".replace(".", ",") + "%"


def open_app(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def figure(at: AppTest, key: str) -> dict:
    for chart in at.get("plotly_chart"):
        if chart.proto.id.endswith(f"-{key}"):
            return json.loads(chart.proto.spec)
    raise AssertionError(f"no chart {key!r}")


def select(at: AppTest, label: str):
    return next(s for s in at.selectbox if s.label == label)


def grid_cell(at: AppTest, area: str, indicator: str) -> str:
    heatmap = figure(at, "overview_grid")["data"][0]
    return heatmap["text"][heatmap["y"].index(area)][heatmap["x"].index(indicator)]


def test_every_page_opens_in_both_languages(mart: Path) -> None:
    for lang in ("nl", "en"):
        at = open_app(region=VT11, lang=lang)
        for page in PAGES:
            at.switch_page(f"app_pages/{page}.py").run()
            assert not at.exception, (page, lang, [e.value for e in at.exception])
            assert at.title, page
            source = [c.value for c in at.caption if "CBS/PDOK" in c.value]
            assert source and ("Methode" in source[0] or "Method" in source[0]), page


def test_overview_grid_shows_mart_values_symbols_and_dashes(mart: Path) -> None:
    at = open_app(region=VT11, period="2024")
    assert at.title[0].value == "Regio-overzicht: IJsselland"
    value, suppressed, comparison, _, _ = value_of(mart, "recurrence_12m", "GM0193")
    assert not suppressed
    symbol = {"better": "▲", "similar": "●", "worse": "▼"}[comparison]
    assert grid_cell(at, "GM0193", "recurrence_12m") == f"{dutch_percent(value)} {symbol}"
    # suppressed: a dash, and the reason on hover
    assert value_of(mart, "recurrence_after_restraining_order", "GM0175")[1] is True
    assert grid_cell(at, "GM0175", "recurrence_after_restraining_order") == "–"
    heatmap = figure(at, "overview_grid")["data"][0]
    row = heatmap["y"].index("GM0175")
    col = heatmap["x"].index("recurrence_after_restraining_order")
    assert "te weinig gevallen om te tonen" in heatmap["customdata"][row][col]
    # never delivered, and a median that is not reached
    assert grid_cell(at, "GM1773", "recurrence_12m") == "n.b."
    assert grid_cell(at, "GM0160", "time_to_specialist").startswith("niet bereikt")
    hover = heatmap["customdata"][heatmap["y"].index("GM0160")][
        heatmap["x"].index("time_to_specialist")
    ]
    assert "mediaan niet bereikt" in hover
    # the country's row carries no comparison symbol
    nl_value = value_of(mart, "recurrence_12m", "NL")[0]
    assert grid_cell(at, "NL", "recurrence_12m") == dutch_percent(nl_value)


def test_hover_says_period_interval_and_comparison_in_words(mart: Path) -> None:
    at = open_app(region=VT11, period="2024")
    heatmap = figure(at, "overview_grid")["data"][0]
    hover = heatmap["customdata"][heatmap["y"].index("GM0193")][
        heatmap["x"].index("recurrence_12m")
    ]
    _, _, comparison, low, high = value_of(mart, "recurrence_12m", "GM0193")
    words = {"better": "beter dan", "similar": "vergelijkbaar met", "worse": "slechter dan"}
    assert "2024" in hover and f"{words[comparison]} Nederland" in hover
    assert f"{dutch_percent(low)[:-1]}–{dutch_percent(high)}" in hover


def test_banners_for_stale_rejected_and_missing(mart: Path) -> None:
    at = open_app(region=VT11)
    warnings = " ".join(w.value for w in at.warning)
    errors = " ".join(e.value for e in at.error)
    assert "Kampen" in warnings and "verouderd" in warnings
    assert "Olst-Wijhe" in warnings
    assert "Zwartewaterland" in errors and "afgekeurd" in errors
    assert "Zwolle" not in warnings + errors


def test_sidebar_controls_change_the_view_and_the_url(mart: Path) -> None:
    at = open_app(region=VT11)
    select(at, "Regio (Veilig Thuis)").select(VT03).run()
    assert at.title[0].value == "Regio-overzicht: Flevoland"
    assert at.query_params["region"] == [VT03] or at.query_params["region"] == VT03
    assert "GM0034" in figure(at, "overview_grid")["data"][0]["y"]
    select(at, "Periode (cohort)").select("2024-Q3").run()
    assert "2024 K3" in figure(at, "overview_grid")["layout"]["title"]["text"]
    value = value_of(mart, "recurrence_12m", "GM0034", "2024-Q3")
    cell = grid_cell(at, "GM0034", "recurrence_12m")
    assert cell == "–" if value[1] else cell.startswith(dutch_percent(value[0]))
    select(at, "Indicator").select("coordinator_within_30d").run()
    assert figure(at, "region_map")["layout"]["title"]["text"].startswith("Eén regisseur")
    at.sidebar.radio[0].set_value("en").run()
    assert at.title[0].value == "Region overview: Flevoland"
    assert select(at, "Region (Veilig Thuis)").value == VT03


def test_deep_link_opens_the_same_view(mart: Path) -> None:
    at = open_app(
        "gemeenteprofiel",
        region=VT11,
        municipality="GM0160",
        period="2023",
        indicator="specialist_within_30d",
        lang="en",
    )
    assert at.title[0].value == "Municipality profile: Hardenberg"
    assert select(at, "Municipality").value == "GM0160"
    assert select(at, "Period (cohort)").value == "2023"
    assert select(at, "Indicator").value == "specialist_within_30d"
    table = profile_table(at, "Hardenberg against the region and the Netherlands, 2023")
    value = value_of(mart, "specialist_within_30d", "GM0160", "2023")[0]
    assert table["Specialist help within 30 days"]["Value"] == f"{value * 100:.1f}%"


def test_profile_against_region_and_country(mart: Path) -> None:
    at = open_app("gemeenteprofiel", region=VT11, municipality="GM0160", period="2024")
    by_title = profile_table(at, "Hardenberg tegenover de regio en Nederland, 2024")
    assert by_title["Tijd tot specialistische hulp (mediaan, dagen)"]["Waarde"] == (
        "mediaan niet bereikt"
    )
    region_value = value_of(mart, "recurrence_12m", VT11)[0]
    assert by_title["Nieuwe melding binnen 12 maanden"]["Regio"] == dutch_percent(region_value)
    # what the spine chart says on hover for a suppressed figure: the reason
    ommen = open_app("gemeenteprofiel", region=VT11, municipality="GM0175", period="2024")
    row = profile_table(ommen, "Ommen tegenover de regio en Nederland, 2024")[
        "Nieuwe melding binnen 12 maanden na huisverbod"
    ]
    assert row["Waarde"] == "– te weinig gevallen"
    spine = figure(at, "spine")
    assert {trace.get("name") for trace in spine["data"]} >= {"Regio"}
    # the KM curve: Hardenberg, the region and the country
    km = figure(at, "km")
    assert [t["name"] for t in km["data"] if t.get("mode") == "lines"] == [
        "Hardenberg",
        "IJsselland",
        "Nederland",
    ]
    select(at, "Indicator").select("coordinator_within_30d").run()
    trend = figure(at, "profile_trend")
    years = query(
        mart,
        """select count(*) from indicator_values where indicator_id = 'coordinator_within_30d'
           and area_code = 'GM0160' and period_type = 'year' and breakdown = 'all'""",
    )[0][0]
    own = next(t for t in trend["data"] if t["name"] == "Hardenberg")
    assert len(own["x"]) == years


def test_compare_filters_and_funnel_limits(mart: Path) -> None:
    at = open_app("vergelijken", region=VT11, municipality="GM0193", period="2024")
    bar = figure(at, "ranked")["data"][0]
    # the national ranking: this mart's municipalities and, from the benchmark, the others
    municipalities = sum(
        query(
            mart,
            f"""select count(*) from {table} where indicator_id = 'recurrence_12m'
               and area_type = 'municipality' and period = '2024' and breakdown = 'all'""",
        )[0][0]
        for table in ("indicator_values", "benchmark_figures")
    )
    assert len(bar["y"]) == municipalities > 16
    funnel = figure(at, "funnel")
    names = {t.get("name") for t in funnel["data"]}
    assert {"95%-grens", "99,8%-grens"} <= names and "99,8%-grens met extra spreiding" not in names
    at.radio(key="qp_filter").set_value("region").run()
    bar = figure(at, "ranked")["data"][0]
    assert len(bar["y"]) == 10  # IJsselland's municipalities that delivered
    at.radio(key="qp_filter").set_value("size").run()
    bar = figure(at, "ranked")["data"][0]
    assert any("Zwolle" in label for label in bar["y"])
    assert not any("Ommen" in label for label in bar["y"])  # 18,000 inhabitants vs 133,000
    # over-dispersed indicator: random-effects limits and a note
    select(at, "Indicator").select("coordinator_within_30d").run()
    names = {t.get("name") for t in figure(at, "funnel")["data"]}
    assert "99,8%-grens met extra spreiding" in names
    assert any("overspreiding" in c.value for c in at.caption)
    # a median has no funnel, but still a ranking
    select(at, "Indicator").select("time_to_specialist").run()
    assert any("alleen voor percentages" in i.value for i in at.info)


def test_trends_for_chosen_municipalities(mart: Path) -> None:
    at = open_app("trends", region=VT11, municipality="GM0193", indicator="recurrence_12m")
    lines = {t["name"] for t in figure(at, "trend_chart")["data"]}
    assert {"Zwolle", "IJsselland", "Nederland"} <= lines
    at.multiselect(key="qp_compare").select("GM0150").run()
    assert "Deventer" in {t["name"] for t in figure(at, "trend_chart")["data"]}
    assert at.query_params["compare"] in ("GM0193,GM0150", ["GM0193,GM0150"])
    direction = query(
        mart,
        """select direction, assessment from trends where indicator_id = 'recurrence_12m'
           and area_code = 'GM0193' and breakdown = 'all'""",
    )[0]
    words = {
        ("increasing", "worse"): "↗ stijgt (slechter)",
        ("decreasing", "better"): "↘ daalt (beter)",
        ("no_change", "no_change"): "→ geen duidelijke verandering",
    }
    table = at.dataframe[0].value.set_index("Gemeente")
    assert table.loc["Zwolle", "Trend (5 jaar)"] == words[direction]
    at.radio(key="qp_granularity").set_value("quarter").run()
    zwolle = next(t for t in figure(at, "trend_chart")["data"] if t["name"] == "Zwolle")
    assert "2024 K3" in zwolle["x"]


def test_catalogue_page(mart: Path) -> None:
    at = open_app("indicatoren")
    select(at, "Indicator").select("time_to_specialist").run()
    assert at.header[0].value == "Tijd tot specialistische hulp (mediaan, dagen)"
    assert len(at.dataframe[0].value) == query(mart, "select count(*) from catalogue")[0][0]


def test_deliveries_page(mart: Path) -> None:
    at = open_app("aanleveringen", region=VT11, municipality="GM1896")
    table = at.dataframe[0].value.set_index("Gemeente")
    assert len(table) == 11
    assert table.loc["Zwartewaterland", "Status"] == "✕ laatste afgekeurd"
    assert table.loc["Kampen", "Status"] == "▼ verouderd"
    assert table.loc["Olst-Wijhe", "Status"] == "○ niet aangeleverd"
    assert table.loc["Zwolle", "Status"] == "● actueel"
    log = at.dataframe[1].value
    assert (
        len(log)
        == query(mart, "select count(*) from delivery_log where municipality_code = 'GM1896'")[0][0]
    )
    assert log["Status"].iloc[0] == "afgekeurd"
    at.radio(key="qp_scope").set_value("all").run()
    assert len(at.dataframe[0].value) == query(mart, "select count(*) from delivery_status")[0][0]


def test_report_page_offers_the_download(mart: Path) -> None:
    at = open_app("rapport", region=VT11, period="2024")
    assert [b.label for b in at.get("download_button")] == ["Download het rapport (HTML)"]
    lines = " ".join(m.value for m in at.markdown)
    assert "**Olst-Wijhe** — Geen cijfers" in lines


def test_every_chart_has_a_csv_download(mart: Path) -> None:
    for page in PAGES[:4]:
        at = open_app(page, region=VT11, municipality="GM0193")
        charts = len(at.get("plotly_chart"))
        downloads = len(at.get("download_button"))
        assert downloads >= charts, page


def test_a_newly_published_mart_is_picked_up_without_restart(mart: Path) -> None:
    at = open_app(region=VT11, period="2024")
    before = value_of(mart, "recurrence_12m", "GM0193")[0]
    assert grid_cell(at, "GM0193", "recurrence_12m").startswith(dutch_percent(before))
    build_mart(mart, revision=2)
    at.run()
    after = value_of(mart, "recurrence_12m", "GM0193")[0]
    assert after != before
    assert grid_cell(at, "GM0193", "recurrence_12m").startswith(dutch_percent(after))


def test_without_a_mart_the_app_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HGKM_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "hgkm compute" in at.info[0].value


@pytest.fixture(scope="session")
def sample_mart(sample_pipeline: dict) -> Path:
    return sample_pipeline["mart"]


@pytest.mark.slow
def test_smoke_on_the_real_mart_from_sample_data(
    sample_mart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HGKM_DATA_DIR", str(sample_mart.parent))
    region = query(
        sample_mart,
        """select area_code from areas where region_type = 'veilig_thuis_region'
           and n_delivered > 0 order by area_name limit 1""",
    )[0][0]
    for lang in ("nl", "en"):
        at = open_app(region=region, lang=lang)
        for page in PAGES:
            at.switch_page(f"app_pages/{page}.py").run()
            assert not at.exception, (page, [e.value for e in at.exception])
    at = open_app(region=region, period=query(sample_mart, "select period from periods "
                                               "where is_default")[0][0])  # fmt: skip
    heatmap = figure(at, "overview_grid")["data"][0]
    municipality, value, suppressed = query(
        sample_mart,
        """select v.area_code, v.value, v.suppressed from indicator_values v
           join area_members m on m.municipality_code = v.area_code and m.area_code = ?
           join periods p on p.period = v.period and p.is_default
           where v.indicator_id = 'recurrence_12m' and v.breakdown = 'all'
           order by v.area_code limit 1""",
        region,
    )[0]
    cell = heatmap["text"][heatmap["y"].index(municipality)][heatmap["x"].index("recurrence_12m")]
    assert cell == "–" if suppressed else cell.startswith(dutch_percent(value))


class _Tables(HTMLParser):
    """The captioned tables in some HTML: caption -> rows of cell texts (header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._text: list[str] | None = None
        self._rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self._rows = []
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("caption", "th", "td"):
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._caption = "".join(self._text or [])
        elif tag in ("th", "td"):
            self._rows[-1].append("".join(self._text or []))
        elif tag == "table":
            self.tables[self._caption or ""] = self._rows
        if tag in ("caption", "th", "td"):
            self._text = None


def html_tables(at: AppTest) -> dict[str, list[list[str]]]:
    parser = _Tables()
    for element in at.get("html"):
        parser.feed(element.proto.body)
    return parser.tables


def profile_table(at: AppTest, caption: str) -> dict[str, dict[str, str]]:
    """The profile's table by indicator title, then by column."""
    header, *rows = html_tables(at)[caption]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def test_every_chart_has_a_summary_a_table_and_a_named_download(mart: Path) -> None:
    for page in PAGES:
        at = open_app(page, region=VT11, municipality="GM0193")
        keys = {chart.proto.id.rsplit("-", 1)[-1] for chart in at.get("plotly_chart")}
        bodies = [element.proto.body for element in at.get("html")]
        summaries = {key for key in keys if f'data-chart="{key}"' in " ".join(bodies)}
        assert summaries == keys, page
        assert len(html_tables(at)) == len(keys), page
        labels = [b.label for b in at.get("download_button")]
        assert len(set(labels)) == len(labels), (page, labels)
        # each says what it downloads: the data of a named chart or table, or the report
        assert all(
            label.startswith("Download de gegevens van ") or label == "Download het rapport (HTML)"
            for label in labels
        ), labels
        # one heading hierarchy: h1 (title) then h2 (header), never h3
        assert len(at.title) == 1 and not at.subheader, page


def test_grid_table_says_what_the_hover_says(mart: Path) -> None:
    at = open_app(region=VT11, period="2024")
    table = html_tables(at)["IJsselland: gemeenten vergeleken met Nederland, 2024"]
    header, rows = table[0], {row[0]: row for row in table[1:]}
    column = header.index("Nieuwe melding binnen 12 maanden")
    value, _, comparison, low, high = value_of(mart, "recurrence_12m", "GM0193")
    words = {"better": "▲ beter", "similar": "● vergelijkbaar", "worse": "▼ slechter"}
    interval = f"{low * 100:.1f}–{high * 100:.1f}%".replace(".", ",")
    expected = f"{dutch_percent(value)} ({interval}) {words[comparison]}"
    assert rows["Zwolle"][column] == expected
    # Ommen's figure after a restraining order is suppressed: the reason, not a number
    column = header.index("Nieuwe melding binnen 12 maanden na huisverbod")
    assert rows["Ommen"][column] == "– te weinig gevallen"
    assert [row[0] for row in table[1:]][-2:] == ["IJsselland", "Nederland"]


def test_accessibility_statement_in_both_languages(mart: Path) -> None:
    from dashboard import accessibility

    for lang, heading, known in (
        ("nl", "Toegankelijkheidsverklaring", "Wat (nog) niet voldoet"),
        ("en", "Accessibility statement", "What does not comply (yet)"),
    ):
        at = open_app("toegankelijkheid", region=VT11, lang=lang)
        assert at.title[0].value == heading
        assert known in [h.value for h in at.header]
        text = " ".join(m.value for m in at.markdown)
        assert accessibility.AXE_VERSION in text
        for shortfall in accessibility.SHORTFALLS:
            assert f"WCAG {shortfall.criterion}" in text


def test_docs_statement_follows_the_declaration() -> None:
    from dashboard import accessibility

    doc = (Path(__file__).resolve().parent.parent / "docs" / "accessibility.md").read_text()
    assert f"Audit date: {accessibility.AUDIT_DATE.isoformat()}." in doc
    assert f"axe-core {accessibility.AXE_VERSION} " in doc
    rows = [line for line in doc.splitlines() if line.startswith("| ") and "`" in line]
    declared = [(s.criterion, s.target, s.owner) for s in accessibility.SHORTFALLS]
    assert [tuple(cell.strip(" `") for cell in row.split("|")[1:4]) for row in rows] == declared
    assert ("At this audit it is empty." in doc) == (not accessibility.TOLERATED)
