"""The charts' text alternatives on hand-made frames: summaries, tables and their HTML."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import polars as pl

from dashboard import alternatives


def points() -> pl.DataFrame:
    """Four municipalities as the compare page describes them: shown, interval, status."""
    return pl.DataFrame(
        {
            "area_code": ["GM1", "GM2", "GM3", "GM4"],
            "area_name": ["Aa", "Bee", "Cee", "Dee"],
            "value": [0.30, 0.55, None, 0.42],
            "denominator": [120, 80, 4, 200],
            "suppressed": [False, False, True, False],
            "shown": ["30,0%", "55,0%", "–", "42,0%"],
            "interval_text": ["22,5–38,7%", "44,1–65,4%", None, "35,4–48,9%"],
            "status": ["better", "worse", "suppressed", "similar"],
        }
    )


def test_ranked_orders_as_the_chart_and_counts_in_words() -> None:
    text = alternatives.ranked(points(), "nl", "Titel, 2024", 0.4, "percent")
    assert text.table["Gemeente"].to_list() == ["Bee", "Dee", "Aa", "Cee"]
    assert text.table.row(0) == ("Bee", "80", "55,0%", "44,1–65,4%", "▼ slechter")
    # the suppressed one: no number, no interval, the reason instead
    assert text.table.row(3) == ("Cee", "", "– te weinig gevallen", "", "")
    assert text.summary == (
        "Van 4 gemeenten: 1 beter dan Nederland, 1 vergelijkbaar, 1 slechter en 1 zonder "
        "getoond cijfer (te weinig gevallen of geen aanlevering). Hoogste: Bee (55,0%); "
        "laagste: Aa (30,0%). Nederland: 40,0%."
    )
    assert text.label == "Titel, 2024. " + text.summary


def test_km_reads_the_step_curve_at_fixed_days_and_names_the_median() -> None:
    curves = pl.DataFrame(
        {
            "area_code": ["GM1"] * 3 + ["NL"] * 2,
            "area_name": ["Aa"] * 3 + ["Nederland"] * 2,
            "time": [0.0, 10.0, 40.0, 0.0, 20.0],
            "survival": [1.0, 0.7, 0.45, 1.0, 0.6],
            "ci_low": [1.0, 0.6, 0.35, 1.0, 0.55],
            "ci_high": [1.0, 0.8, 0.55, 1.0, 0.65],
            "at_risk": [50, 35, 10, 900, 600],
        }
    )
    text = alternatives.km(curves, "en", "Aa, 2024")
    # a step function: the last step at or before each day; days past the data are left out
    assert text.table.columns == ["days after the report", "Aa", "Nederland"]
    assert text.table["days after the report"].to_list() == ["7", "14", "30"]
    assert text.table["Aa"].to_list() == [
        "100.0% (100.0–100.0%)",
        "70.0% (60.0–80.0%)",
        "70.0% (60.0–80.0%)",
    ]
    assert text.table["Nederland"].to_list()[2] == "60.0% (55.0–65.0%)"
    assert "Aa 40 days" in text.summary and "Nederland median not reached" in text.summary


def test_timeline_counts_elements_in_place_today() -> None:
    profile = pl.DataFrame(
        {
            "element": ["a", "b", "b"],
            "in_place_from": [date(2020, 1, 1), date(2019, 1, 1), date(2023, 3, 1)],
            "in_place_until": [None, date(2021, 6, 30), None],
        }
    )
    labels = {"a": "Element A", "b": "Element B", "c": "Element C"}
    text = alternatives.approach_timeline(profile, labels, date(2022, 1, 1), "nl", "Tijdlijn")
    assert text.summary == "1 van de 3 elementen zijn nu in gebruik."
    assert text.table.row(1) == (
        "Element B",
        "1 januari 2019 – 30 juni 2021; 1 maart 2023 – nog steeds",
    )
    assert text.table.row(2) == ("Element C", "nee")


class Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_table_html_has_caption_headers_and_escapes() -> None:
    text = alternatives.Alternative(
        "A <b>title</b>", "summary", pl.DataFrame({"Area": ["X & Y"], "Value": ["<1%"]})
    )
    parser = Cells()
    parser.feed(alternatives.table_html(text))
    tags = [tag for tag, _ in parser.tags]
    assert "b" not in tags  # escaped, not markup
    assert tags.count("caption") == 1
    scopes = [attrs.get("scope") for tag, attrs in parser.tags if tag == "th"]
    assert scopes == ["col", "col", "row"]
    assert parser.text == ["A <b>title</b>", "Area", "Value", "X & Y", "<1%"]
    box = parser.tags[0][1]
    assert box["role"] == "region" and box["tabindex"] == "0"
